package database

import (
	"context"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// DoctorStore keeps the doctor directory. Every signed-in user can read
// every doctor; only the user who created an entry (and superusers) may
// change or delete it: anyone else gets Forbidden, since they can see it.
// Doctors are not patient data and are not audited; the mappings a method
// reaches (or deletes) are.
type DoctorStore struct {
	db    *bun.DB
	audit *AuditStore
}

// doctorSearch is the expression the trigram index doctors_search_trgm is
// built on.
const doctorSearch = `lower(d.first_name || ' ' || d.last_name || ' ' || d.specialization || ' ' || coalesce(d.city, '')) LIKE ? ESCAPE '\'`

// Get returns the doctor id, or NotFound.
func (s *DoctorStore) Get(ctx context.Context, v models.Viewer, id int64) (*models.Doctor, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	d := new(models.Doctor)
	err := s.db.NewSelect().Model(d).Where("d.id = ?", id).Scan(ctx)
	return d, notFound(err, "Doctor")
}

// ByIDs returns the doctors ids that exist, by id.
func (s *DoctorStore) ByIDs(ctx context.Context, v models.Viewer, ids []int64) (map[int64]*models.Doctor, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	var ds []*models.Doctor
	if err := s.db.NewSelect().Model(&ds).Where("d.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, translate(err)
	}
	out := make(map[int64]*models.Doctor, len(ds))
	for _, d := range ds {
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
func (s *DoctorStore) List(ctx context.Context, v models.Viewer, f models.DoctorFilter, pr models.PageRequest) (*models.Page[*models.Doctor], error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := models.CheckSearch(f.Search); err != nil {
		return nil, err
	}
	return listOrdered[*models.Doctor](ctx, s.db, pr, "d.id", doctorSorts, func(q *bun.SelectQuery) *bun.SelectQuery {
		if f.Search != "" {
			q = q.Where(doctorSearch, likePattern(f.Search))
		}
		if f.Specialization != nil {
			q = q.Where("d.specialization = ?", *f.Specialization)
		}
		if f.City != "" {
			q = q.Where("lower(d.city) = lower(?)", f.City)
		}
		if f.IsAvailable != nil {
			q = q.Where("d.is_available = ?", *f.IsAvailable)
		}
		if f.MinExperience != nil {
			q = q.Where("d.experience_years >= ?", *f.MinExperience)
		}
		if f.MaxFee != nil {
			q = q.Where("d.consultation_fee <= ?", *f.MaxFee)
		}
		return q
	})
}

// Create validates in and stores a doctor created by the viewer. A taken
// email or license number is an Invalid error on that field.
func (s *DoctorStore) Create(ctx context.Context, v models.Viewer, in models.DoctorPatch) (*models.Doctor, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := in.Validate(today(), true); err != nil {
		return nil, err
	}
	owner := v.UserID
	d := &models.Doctor{IsAvailable: true, CreatedBy: &owner}
	in.Apply(d)
	t := now()
	d.CreatedAt, d.UpdatedAt = t, t
	if _, err := s.db.NewInsert().Model(d).Returning("id").Exec(ctx); err != nil {
		return nil, translate(err)
	}
	return d, nil
}

// editable returns the doctor id if the viewer may change it: NotFound if
// it does not exist, Forbidden if it is another user's entry.
func (s *DoctorStore) editable(ctx context.Context, v models.Viewer, id int64) (*models.Doctor, error) {
	d, err := s.Get(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !v.Superuser && (d.CreatedBy == nil || *d.CreatedBy != v.UserID) {
		return nil, models.Forbidden("You do not have permission to change this doctor.")
	}
	return d, nil
}

// Update validates in and applies its present fields to the doctor id (with
// full set, as a full replacement). It returns the doctor and the changed
// column names.
func (s *DoctorStore) Update(ctx context.Context, v models.Viewer, id int64, in models.DoctorPatch, full bool) (*models.Doctor, []string, error) {
	d, err := s.editable(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	if err := in.Validate(today(), full); err != nil {
		return nil, nil, err
	}
	changed := in.Apply(d)
	if len(changed) == 0 {
		return d, nil, nil
	}
	d.UpdatedAt = now()
	res, err := s.db.NewUpdate().Model(d).Column(append(changed, "updated_at")...).Where("d.id = ?", id).Exec(ctx)
	if err != nil {
		return nil, nil, translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, nil, models.NotFound("Doctor")
	}
	return d, changed, nil
}

// Delete removes the doctor id and its mappings: NotFound if it does not
// exist, Forbidden if it is another user's entry. The mappings are deleted
// explicitly in the same transaction (not left to the cascade) so that each
// deletion is audited, whoever's patient it assigned the doctor to.
func (s *DoctorStore) Delete(ctx context.Context, v models.Viewer, id int64) error {
	if _, err := s.editable(ctx, v, id); err != nil {
		return err
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var mappingIDs []int64
		if err := tx.NewDelete().Model((*models.Mapping)(nil)).Where("doctor_id = ?", id).
			Returning("id").Scan(ctx, &mappingIDs); err != nil {
			return translate(err)
		}
		res, err := tx.NewDelete().Model((*models.Doctor)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.NotFound("Doctor")
		}
		refs := make([]auditRef, len(mappingIDs))
		for i, mid := range mappingIDs {
			refs[i] = auditRef{models.AuditMapping, mid}
		}
		return s.audit.record(ctx, tx, v.UserID, models.AuditDelete, nil, refs...)
	})
	return translate(err)
}

// doctorOfPatient is a doctor with the patient it was reached through.
type doctorOfPatient struct {
	models.Doctor `bun:",extend"`
	PatientID     int64 `bun:"patient_id"`
	MappingID     int64 `bun:"mapping_id"`
}

// ByPatientIDs returns, for each of the viewer's patients, the doctors
// assigned to it (with the given mapping status, if any), newest mapping
// first. One query for all patients: the loader for Patient.doctors.
// Who treats a patient is what a mapping records, so the mappings the
// doctors were reached through are audited as read, as MappingStore's
// readers do (not the patients: the caller reached them by reading those).
func (s *DoctorStore) ByPatientIDs(ctx context.Context, v models.Viewer, patientIDs []int64, status *models.MappingStatus) (map[int64][]*models.Doctor, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	var rows []doctorOfPatient
	q := s.db.NewSelect().Model(&rows).ColumnExpr("d.*").ColumnExpr("m.patient_id, m.id AS mapping_id").
		Join("JOIN mappings AS m ON m.doctor_id = d.id").
		Where("m.patient_id IN (?)", bun.In(patientIDs)).OrderExpr("m.id DESC")
	if !v.Superuser {
		q = q.Join("JOIN patients AS p ON p.id = m.patient_id").Where("p.created_by = ?", v.UserID)
	}
	if status != nil {
		q = q.Where("m.status = ?", *status)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, translate(err)
	}
	out := make(map[int64][]*models.Doctor)
	refs := make([]auditRef, len(rows))
	for i := range rows {
		out[rows[i].PatientID] = append(out[rows[i].PatientID], &rows[i].Doctor)
		refs[i] = auditRef{models.AuditMapping, rows[i].MappingID}
	}
	if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, refs...); err != nil {
		return nil, err
	}
	return out, nil
}
