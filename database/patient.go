package database

import (
	"context"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// PatientStore keeps patients. A viewer sees and changes only the patients
// they created; a superuser sees and changes all. A patient the viewer may
// not see is NotFound, exactly like one that does not exist. Every patient
// returned is an audited read; every change is audited with the names of
// the changed fields, in the change's transaction. The medical fields are
// sealed as they are written and opened as they are read.
type PatientStore struct{ s *Store }

// patientList pages the viewer's patients: through patients_owner_idx
// (created_by, id) for an account, by the primary key for a superuser.
func patientList(v models.Viewer) listSpec { return ownedList(v, "p.id", "p.created_by", patientSorts) }

// patientSearch is the expression the trigram index patients_search_trgm is
// built on; the query must use it verbatim to use the index.
const patientSearch = `lower(p.first_name || ' ' || p.last_name || ' ' || coalesce(p.email, '') || ' ' || p.phone) LIKE ? ESCAPE '\'`

func patientRefs(ps ...*models.Patient) []models.AuditRef {
	refs := make([]models.AuditRef, len(ps))
	for i, p := range ps {
		refs[i] = models.AuditRef{Type: models.AuditPatient, ID: p.ID}
	}
	return refs
}

// Get returns the patient id if the viewer may see it, else NotFound.
func (ps *PatientStore) Get(ctx context.Context, v models.Viewer, id int64) (*models.Patient, error) {
	p, err := ps.loadFrom(ctx, v, id, true)
	if err != nil {
		return nil, err
	}
	if err := ps.s.read(ctx, v, patientRefs(p)...); err != nil {
		return nil, err
	}
	return p, nil
}

// load is Get without the audit event, for a caller that audits what it
// returns itself (or returns nothing of the patient), from the primary.
func (ps *PatientStore) load(ctx context.Context, v models.Viewer, id int64) (*models.Patient, error) {
	return ps.loadFrom(ctx, v, id, false)
}

// loadFrom is load; stale lets the read go to the replica (readVia).
func (ps *PatientStore) loadFrom(ctx context.Context, v models.Viewer, id int64, stale bool) (*models.Patient, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	p := new(models.Patient)
	read := func(db bun.IDB) error {
		a := newArgs(db)
		q := db.NewSelect().Model(p).Where("p.id = ?", a.Of(id)).ApplyQueryBuilder(owned(v, "p.created_by", a, ownerIs))
		if stale { // a plain read: only what the reader shows (Projection)
			q = q.Apply(columns(patientColumns(ctx)))
		}
		return q.Scan(a.Ctx(ctx))
	}
	err := ps.s.readAt(ctx, v, stale, read)
	if err != nil {
		return nil, notFound(err, "Patient")
	}
	return p, ps.s.opts.Cipher.open(p)
}

// ByIDs returns those of the patients ids that the viewer may see, by id.
func (ps *PatientStore) ByIDs(ctx context.Context, v models.Viewer, ids []int64) (map[int64]*models.Patient, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	var list []*models.Patient
	err := ps.s.readVia(ctx, v, func(db bun.IDB) error {
		a := newArgs(db)
		q := db.NewSelect().Model(&list).Apply(columns(patientColumns(ctx))).
			ApplyQueryBuilder(func(qb bun.QueryBuilder) bun.QueryBuilder { return a.In(qb, "p.id", ids) })
		return q.ApplyQueryBuilder(owned(v, "p.created_by", a, ownerIs)).Scan(a.Ctx(ctx))
	})
	if err != nil {
		return nil, translate(err)
	}
	if err := ps.s.opts.Cipher.open(list...); err != nil {
		return nil, err
	}
	if err := ps.s.read(ctx, v, patientRefs(list...)...); err != nil {
		return nil, err
	}
	out := make(map[int64]*models.Patient, len(list))
	for _, p := range list {
		out[p.ID] = p
	}
	return out, nil
}

// patientSorts are the columns PatientStore.List can order by
// (models.PageRequest.OrderBy).
var patientSorts = sortColumns{
	"name":          sortBy("lower(p.last_name)", "lower(p.first_name)"),
	"date_of_birth": sortBy("p.date_of_birth"),
	"city":          sortByNullable("lower(p.city)"),
	"gender":        sortBy("p.gender"),
	"created_at":    sortBy("p.created_at"),
	"updated_at":    sortBy("p.updated_at"),
}

// List returns one page of the viewer's patients matching f, newest first,
// or ordered by pr.OrderBy: one of name (last, then first), date_of_birth,
// city, gender, created_at, updated_at. An unknown order is Invalid.
func (ps *PatientStore) List(ctx context.Context, v models.Viewer, f models.PatientFilter, pr models.PageRequest) (*models.Page[*models.Patient], error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := models.CheckSearch("search", f.Search); err != nil {
		return nil, err
	}
	var page *models.Page[*models.Patient]
	err := ps.s.readVia(ctx, v, func(db bun.IDB) (err error) {
		spec := patientList(v)
		spec.columns = columns(patientColumns(ctx))
		if f.Search != "" {
			spec.literal, spec.search, spec.lead = true, true, ""
		}
		if patientCounted(f) {
			spec.count = func(ctx context.Context, db bun.IDB) (int, error) { return patientCount(ctx, db, v, f) }
		}
		page, err = list[*models.Patient](ctx, db, pr, spec, patientFilter(v, f))
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := ps.s.opts.Cipher.open(page.Items...); err != nil {
		return nil, err
	}
	if err := ps.s.read(ctx, v, patientRefs(page.Items...)...); err != nil {
		return nil, err
	}
	return page, nil
}

// patientFilter scopes a list of patients to the viewer's and to f.
func patientFilter(v models.Viewer, f models.PatientFilter) func(*bun.SelectQuery, *Args) *bun.SelectQuery {
	return func(q *bun.SelectQuery, a *Args) *bun.SelectQuery {
		form := ownerRange
		if f.Search != "" {
			form = ownerFilter
		}
		q = q.ApplyQueryBuilder(owned(v, "p.created_by", a, form))
		if f.Search != "" {
			q = q.Where(patientSearch, a.Of(likePattern(f.Search)))
		}
		if f.Gender != nil {
			q = q.Where("p.gender = ?", a.Of(string(*f.Gender)))
		}
		if f.City != "" {
			q = q.Where("lower(p.city) = lower(?)", a.Of(f.City))
		}
		if f.IsActive != nil {
			q = q.Where("p.is_active = ?", a.Of(*f.IsActive))
		}
		if f.BloodGroup != nil {
			q = q.Where("p.blood_group = ?", a.Of(string(*f.BloodGroup)))
		}
		return q
	}
}

// Create validates in and stores a patient owned by the viewer.
func (ps *PatientStore) Create(ctx context.Context, v models.Viewer, in models.PatientInput) (*models.Patient, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := in.Validate(models.Today()); err != nil {
		return nil, err
	}
	p := &models.Patient{IsActive: true, CreatedBy: v.UserID}
	fields := in.Patch().Apply(p)
	t := now()
	p.CreatedAt, p.UpdatedAt = t, t
	row, err := ps.s.opts.Cipher.sealed(p)
	if err != nil {
		return nil, err
	}
	err = ps.s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.db.NewInsert().Model(row).Returning("id").Exec(ctx); err != nil {
			return translate(err)
		}
		p.ID = row.ID
		tx.publish(Change{Kind: ChangePatient, Op: OpCreate, ID: p.ID, Owner: p.CreatedBy})
		return tx.changed(ctx, v, models.AuditCreate, fields, patientRefs(p)...)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Replace validates in as the whole patient id and stores it (PUT):
// required fields must be present; optional ones it omits are left as
// they are. It returns the patient and the names of the changed columns.
func (ps *PatientStore) Replace(ctx context.Context, v models.Viewer, id int64, in models.PatientInput) (*models.Patient, []string, error) {
	return ps.update(ctx, v, id, in.Patch(), func() error { return in.Validate(models.Today()) })
}

// Update validates the fields in carries and applies them to the patient
// id. It returns the patient and the names of the changed columns.
func (ps *PatientStore) Update(ctx context.Context, v models.Viewer, id int64, in models.PatientPatch) (*models.Patient, []string, error) {
	return ps.update(ctx, v, id, &in, func() error { return in.Validate(models.Today()) })
}

// update is Replace and Update: a patient the viewer may not see is
// NotFound before its input is judged; an update that changes nothing
// returns the patient, audited as a read.
func (ps *PatientStore) update(ctx context.Context, v models.Viewer, id int64, in *models.PatientPatch, validate func() error) (*models.Patient, []string, error) {
	p, err := ps.load(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	if err := validate(); err != nil {
		return nil, nil, err
	}
	changed := in.Apply(p)
	if len(changed) == 0 {
		return p, nil, ps.s.read(ctx, v, patientRefs(p)...)
	}
	p.UpdatedAt = now()
	row, err := ps.s.opts.Cipher.sealed(p)
	if err != nil {
		return nil, nil, err
	}
	err = ps.s.InTx(ctx, func(tx *Store) error {
		res, err := tx.db.NewUpdate().Model(row).Column(append(changed, "updated_at")...).
			Where("p.id = ?", id).ApplyQueryBuilder(owned(v, "p.created_by", nil, ownerIs)).Exec(ctx)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.NotFound("Patient")
		}
		tx.publish(Change{Kind: ChangePatient, Op: OpUpdate, ID: p.ID, Owner: p.CreatedBy})
		return tx.changed(ctx, v, models.AuditUpdate, changed, patientRefs(p)...)
	})
	if err != nil {
		return nil, nil, err
	}
	return p, changed, nil
}

// Delete removes the patient id and its mappings, or returns NotFound. The
// mappings are deleted explicitly (not left to the cascade) so that each
// deletion is audited.
func (ps *PatientStore) Delete(ctx context.Context, v models.Viewer, id int64) error {
	p, err := ps.load(ctx, v, id)
	if err != nil {
		return err
	}
	return ps.s.InTx(ctx, func(tx *Store) error {
		var mappingIDs []int64
		if err := tx.db.NewDelete().Model((*models.Mapping)(nil)).Where("patient_id = ?", id).
			Returning("id").Scan(ctx, &mappingIDs); err != nil {
			return translate(err)
		}
		res, err := tx.db.NewDelete().Model((*models.Patient)(nil)).Where("p.id = ?", id).
			ApplyQueryBuilder(owned(v, "p.created_by", nil, ownerIs)).Exec(ctx)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.NotFound("Patient")
		}
		refs := patientRefs(p)
		for _, mid := range mappingIDs {
			refs = append(refs, models.AuditRef{Type: models.AuditMapping, ID: mid})
			tx.publish(Change{Kind: ChangeMapping, Op: OpDelete, ID: mid, Owner: p.CreatedBy, PatientID: p.ID})
		}
		tx.publish(Change{Kind: ChangePatient, Op: OpDelete, ID: p.ID, Owner: p.CreatedBy})
		return tx.changed(ctx, v, models.AuditDelete, nil, refs...)
	})
}

// patientOfDoctor is a patient with the doctor it was reached through.
type patientOfDoctor struct {
	models.Patient `bun:",extend"`
	DoctorID       int64 `bun:"doctor_id"`
}

// ByDoctorIDs returns, for each doctor, the viewer's patients assigned to
// it (with the given mapping status, if any), newest first. One query for
// all doctors: the loader for Doctor.patients.
func (ps *PatientStore) ByDoctorIDs(ctx context.Context, v models.Viewer, doctorIDs []int64, status *models.MappingStatus) (map[int64][]*models.Patient, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	var rows []patientOfDoctor
	a := ps.s.args()
	q := ps.s.db.NewSelect().Model(&rows)
	if cols := patientColumns(ctx); cols != nil {
		for _, c := range cols {
			q = q.ColumnExpr("p.?", bun.Ident(c))
		}
	} else {
		q = q.ColumnExpr("p.*")
	}
	q = q.ColumnExpr("m.doctor_id").
		Join("JOIN mappings AS m ON m.patient_id = p.id").
		ApplyQueryBuilder(func(qb bun.QueryBuilder) bun.QueryBuilder { return a.In(qb, "m.doctor_id", doctorIDs) }).
		ApplyQueryBuilder(owned(v, "p.created_by", a, ownerIs)).OrderExpr("p.id DESC")
	if status != nil {
		q = q.Where("m.status = ?", a.Of(string(*status)))
	}
	if err := q.Scan(a.Ctx(ctx)); err != nil {
		return nil, translate(err)
	}
	out := make(map[int64][]*models.Patient)
	list := make([]*models.Patient, len(rows))
	for i := range rows {
		list[i] = &rows[i].Patient
		out[rows[i].DoctorID] = append(out[rows[i].DoctorID], list[i])
	}
	if err := ps.s.opts.Cipher.open(list...); err != nil {
		return nil, err
	}
	if err := ps.s.read(ctx, v, patientRefs(list...)...); err != nil {
		return nil, err
	}
	return out, nil
}
