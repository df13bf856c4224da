package database

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// DoctorStore keeps the doctor directory. Every signed-in user can read
// every doctor; only the user who created an entry (and superusers) may
// change or delete it: anyone else gets Forbidden, since they can see it.
// Doctors are not patient data and are not audited; the mappings a method
// reaches (or deletes) are.
type DoctorStore struct{ s *Store }

// doctorSearch is the expression the trigram index doctors_search_trgm is
// built on.
const doctorSearch = `lower(d.first_name || ' ' || d.last_name || ' ' || d.specialization || ' ' || coalesce(d.city, '')) LIKE ? ESCAPE '\'`

// Get returns the doctor id, or NotFound.
func (ds *DoctorStore) Get(ctx context.Context, v models.Viewer, id int64) (*models.Doctor, error) {
	return ds.get(ctx, v, id, true)
}

// get is Get; stale lets the read go to the replica (readVia), which a
// read before a write must not.
func (ds *DoctorStore) get(ctx context.Context, v models.Viewer, id int64, stale bool) (*models.Doctor, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	d := new(models.Doctor)
	read := func(db bun.IDB) error {
		a := newArgs(db)
		q := db.NewSelect().Model(d).Where("d.id = ?", a.Of(id))
		if stale { // a plain read: only what the reader shows (Projection)
			q = q.Apply(columns(doctorColumns(ctx)))
		}
		return q.Scan(a.Ctx(ctx))
	}
	err := ds.s.readAt(ctx, v, stale, read)
	return d, notFound(err, "Doctor")
}

// ByIDs returns the doctors ids that exist, by id.
func (ds *DoctorStore) ByIDs(ctx context.Context, v models.Viewer, ids []int64) (map[int64]*models.Doctor, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	var list []*models.Doctor
	if err := ds.s.readVia(ctx, v, func(db bun.IDB) error {
		a := newArgs(db)
		return db.NewSelect().Model(&list).Apply(columns(doctorColumns(ctx))).
			ApplyQueryBuilder(func(qb bun.QueryBuilder) bun.QueryBuilder { return a.In(qb, "d.id", ids) }).Scan(a.Ctx(ctx))
	}); err != nil {
		return nil, translate(err)
	}
	out := make(map[int64]*models.Doctor, len(list))
	for _, d := range list {
		out[d.ID] = d
	}
	return out, nil
}

// doctorSorts are the columns DoctorStore.List can order by
// (models.PageRequest.OrderBy).
var doctorSorts = sortColumns{
	"name":             sortBy("lower(d.last_name)", "lower(d.first_name)"),
	"specialization":   sortBy("d.specialization"),
	"experience_years": sortBy("d.experience_years"),
	"consultation_fee": sortBy("d.consultation_fee"),
	"city":             sortByNullable("lower(d.city)"),
	"created_at":       sortBy("d.created_at"),
}

// List returns one page of doctors matching f, newest first, or ordered by
// pr.OrderBy: one of name (last, then first), specialization,
// experience_years, consultation_fee, city, created_at. An unknown order is
// Invalid.
func (ds *DoctorStore) List(ctx context.Context, v models.Viewer, f models.DoctorFilter, pr models.PageRequest) (*models.Page[*models.Doctor], error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := models.CheckSearch("search", f.Search); err != nil {
		return nil, err
	}
	var page *models.Page[*models.Doctor]
	err := ds.s.readVia(ctx, v, func(db bun.IDB) (err error) {
		spec := listSpec{idCol: "d.id", sorts: doctorSorts, columns: columns(doctorColumns(ctx)), literal: f.Search != ""}
		page, err = list[*models.Doctor](ctx, db, pr, spec, doctorFilter(f))
		return err
	})
	return page, err
}

// doctorFilter selects the doctors matching f.
func doctorFilter(f models.DoctorFilter) func(*bun.SelectQuery, *Args) *bun.SelectQuery {
	return func(q *bun.SelectQuery, a *Args) *bun.SelectQuery {
		if f.Search != "" {
			q = q.Where(doctorSearch, a.Of(likePattern(f.Search)))
		}
		if f.Specialization != nil {
			q = q.Where("d.specialization = ?", a.Of(string(*f.Specialization)))
		}
		if f.City != "" {
			q = q.Where("lower(d.city) = lower(?)", a.Of(f.City))
		}
		if f.IsAvailable != nil {
			q = q.Where("d.is_available = ?", a.Of(*f.IsAvailable))
		}
		if f.MinExperience != nil {
			q = q.Where("d.experience_years >= ?", a.Of(*f.MinExperience))
		}
		if f.MaxFee != nil {
			q = q.Where("d.consultation_fee <= ?", a.Of(*f.MaxFee))
		}
		return q
	}
}

// Create validates in and stores a doctor created by the viewer. A taken
// email or license number is an Invalid error on that field.
func (ds *DoctorStore) Create(ctx context.Context, v models.Viewer, in models.DoctorInput) (*models.Doctor, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := in.Validate(models.Today()); err != nil {
		return nil, err
	}
	owner := v.UserID
	d := &models.Doctor{IsAvailable: true, CreatedBy: &owner}
	in.Patch().Apply(d)
	t := now()
	d.CreatedAt, d.UpdatedAt = t, t
	err := ds.s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.db.NewInsert().Model(d).Returning("id").Exec(ctx); err != nil {
			return translate(err)
		}
		tx.publish(Change{Kind: ChangeDoctor, Op: OpCreate, ID: d.ID, Owner: v.UserID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// editable returns the doctor id if the viewer may change it: NotFound if
// it does not exist, Forbidden if it is another user's entry.
func (ds *DoctorStore) editable(ctx context.Context, v models.Viewer, id int64) (*models.Doctor, error) {
	d, err := ds.get(ctx, v, id, false)
	if err != nil {
		return nil, err
	}
	if !v.Superuser && (d.CreatedBy == nil || *d.CreatedBy != v.UserID) {
		return nil, models.Forbidden("You do not have permission to change this doctor.")
	}
	return d, nil
}

// Replace validates in as the whole doctor id and stores it (PUT). It
// returns the doctor and the names of the changed columns.
func (ds *DoctorStore) Replace(ctx context.Context, v models.Viewer, id int64, in models.DoctorInput) (*models.Doctor, []string, error) {
	return ds.update(ctx, v, id, in.Patch(), func() error { return in.Validate(models.Today()) })
}

// Update validates the fields in carries and applies them to the doctor id.
func (ds *DoctorStore) Update(ctx context.Context, v models.Viewer, id int64, in models.DoctorPatch) (*models.Doctor, []string, error) {
	return ds.update(ctx, v, id, &in, func() error { return in.Validate(models.Today()) })
}

// update is Replace and Update: NotFound or Forbidden come before the
// input is judged.
func (ds *DoctorStore) update(ctx context.Context, v models.Viewer, id int64, in *models.DoctorPatch, validate func() error) (*models.Doctor, []string, error) {
	d, err := ds.editable(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	if err := validate(); err != nil {
		return nil, nil, err
	}
	changed := in.Apply(d)
	if len(changed) == 0 {
		return d, nil, nil
	}
	d.UpdatedAt = now()
	err = ds.s.InTx(ctx, func(tx *Store) error {
		res, err := tx.db.NewUpdate().Model(d).Column(append(changed, "updated_at")...).Where("d.id = ?", id).Exec(ctx)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.NotFound("Doctor")
		}
		tx.publish(Change{Kind: ChangeDoctor, Op: OpUpdate, ID: d.ID, Owner: v.UserID})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return d, changed, nil
}

// Delete removes the doctor id with its mappings: NotFound if it does not
// exist, Forbidden if it is another user's entry. An entry other accounts'
// patients are assigned to is theirs too: only a superuser may delete it
// (Conflict for anyone else, saying how many such assignments there are,
// never whose). The mappings are deleted explicitly, in the same
// transaction, so that each deletion is audited.
func (ds *DoctorStore) Delete(ctx context.Context, v models.Viewer, id int64) error {
	if _, err := ds.editable(ctx, v, id); err != nil {
		return err
	}
	return ds.s.InTx(ctx, func(tx *Store) error {
		if !v.Superuser {
			// A mapping belongs to its patient's owner (see owned).
			n, err := tx.db.NewSelect().Model((*models.Mapping)(nil)).
				Where("m.doctor_id = ?", id).Where("m.created_by <> ?", v.UserID).Count(ctx)
			if err != nil {
				return translate(err)
			}
			if n > 0 {
				return models.Conflict(fmt.Sprintf(
					"This doctor is assigned to %d patient(s) of other accounts, so it cannot be deleted; mark it unavailable instead, or ask an administrator.", n))
			}
		}
		type gone struct {
			ID        int64 `bun:"id"`
			PatientID int64 `bun:"patient_id"`
			CreatedBy int64 `bun:"created_by"`
		}
		var mappings []gone
		if err := tx.db.NewDelete().Model((*models.Mapping)(nil)).Where("doctor_id = ?", id).
			Returning("id, patient_id, created_by").
			Scan(ctx, &mappings); err != nil {
			return translate(err)
		}
		res, err := tx.db.NewDelete().Model((*models.Doctor)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.NotFound("Doctor")
		}
		tx.publish(Change{Kind: ChangeDoctor, Op: OpDelete, ID: id, Owner: v.UserID})
		refs := make([]models.AuditRef, len(mappings))
		for i, m := range mappings {
			refs[i] = models.AuditRef{Type: models.AuditMapping, ID: m.ID}
			tx.publish(Change{Kind: ChangeMapping, Op: OpDelete, ID: m.ID, Owner: m.CreatedBy, PatientID: m.PatientID})
		}
		// One event per mapping: each may belong to a different account.
		for _, r := range refs {
			if err := tx.changed(ctx, v, models.AuditDelete, nil, r); err != nil {
				return err
			}
		}
		return nil
	})
}
