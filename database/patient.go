package database

import (
	"context"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// PatientStore keeps patients. A viewer sees and changes only the patients
// they created; a superuser sees and changes all. A patient the viewer may
// not see is reported as NotFound, exactly like one that does not exist.
// Every patient returned is an audited read; every change is audited with
// the names of the changed fields, in the change's transaction.
type PatientStore struct {
	db    *bun.DB
	audit *AuditStore
}

// patientSearch is the expression the trigram index patients_search_trgm is
// built on; the query must use it verbatim to use the index.
const patientSearch = `lower(p.first_name || ' ' || p.last_name || ' ' || coalesce(p.email, '') || ' ' || p.phone) LIKE ? ESCAPE '\'`

func scopePatients(q *bun.SelectQuery, v models.Viewer) *bun.SelectQuery {
	if !v.Superuser {
		q = q.Where("p.created_by = ?", v.UserID)
	}
	return q
}

// Get returns the patient id if the viewer may see it, else NotFound.
func (s *PatientStore) Get(ctx context.Context, v models.Viewer, id int64) (*models.Patient, error) {
	p, err := getPatient(ctx, s.db, v, id)
	if err != nil {
		return p, err
	}
	if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, auditRef{models.AuditPatient, p.ID}); err != nil {
		return nil, err
	}
	return p, nil
}

// getPatient is Get without the audit event, for lookups whose result the
// caller audits itself or does not return.
func getPatient(ctx context.Context, db bun.IDB, v models.Viewer, id int64) (*models.Patient, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	p := new(models.Patient)
	err := scopePatients(db.NewSelect().Model(p).Where("p.id = ?", id), v).Scan(ctx)
	return p, notFound(err, "Patient")
}

// ByIDs returns those of the patients ids that the viewer may see, by id.
func (s *PatientStore) ByIDs(ctx context.Context, v models.Viewer, ids []int64) (map[int64]*models.Patient, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	var ps []*models.Patient
	err := scopePatients(s.db.NewSelect().Model(&ps).Where("p.id IN (?)", bun.In(ids)), v).Scan(ctx)
	if err != nil {
		return nil, translate(err)
	}
	if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, patientRefs(ps)...); err != nil {
		return nil, err
	}
	out := make(map[int64]*models.Patient, len(ps))
	for _, p := range ps {
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
func (s *PatientStore) List(ctx context.Context, v models.Viewer, f models.PatientFilter, pr models.PageRequest) (*models.Page[*models.Patient], error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := models.CheckSearch(f.Search); err != nil {
		return nil, err
	}
	page, err := listOrdered[*models.Patient](ctx, s.db, pr, "p.id", patientSorts, func(q *bun.SelectQuery) *bun.SelectQuery {
		q = scopePatients(q, v)
		if f.Search != "" {
			q = q.Where(patientSearch, likePattern(f.Search))
		}
		if f.Gender != nil {
			q = q.Where("p.gender = ?", *f.Gender)
		}
		if f.City != "" {
			q = q.Where("lower(p.city) = lower(?)", f.City)
		}
		if f.IsActive != nil {
			q = q.Where("p.is_active = ?", *f.IsActive)
		}
		if f.BloodGroup != nil {
			q = q.Where("p.blood_group = ?", *f.BloodGroup)
		}
		return q
	})
	if err != nil {
		return nil, translate(err)
	}
	if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, patientRefs(page.Items)...); err != nil {
		return nil, err
	}
	return page, nil
}

// Create validates in and stores a patient owned by the viewer.
func (s *PatientStore) Create(ctx context.Context, v models.Viewer, in models.PatientPatch) (*models.Patient, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := in.Validate(today(), true); err != nil {
		return nil, err
	}
	p := &models.Patient{IsActive: true, CreatedBy: v.UserID}
	fields := in.Apply(p)
	t := now()
	p.CreatedAt, p.UpdatedAt = t, t
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(p).Returning("id").Exec(ctx); err != nil {
			return translate(err)
		}
		return s.audit.record(ctx, tx, v.UserID, models.AuditCreate, fields, auditRef{models.AuditPatient, p.ID})
	})
	if err != nil {
		return nil, translate(err)
	}
	return p, nil
}

// Update validates in and applies its present fields to the patient id
// (with full set, as a full replacement: required fields must be present).
// It returns the patient and the names of the columns that changed. An
// absent or unseen patient is NotFound before its input is validated.
//
// An update that changes nothing returns the patient: it is audited as a read.
func (s *PatientStore) Update(ctx context.Context, v models.Viewer, id int64, in models.PatientPatch, full bool) (*models.Patient, []string, error) {
	p, err := getPatient(ctx, s.db, v, id)
	if err != nil {
		return nil, nil, err
	}
	if err := in.Validate(today(), full); err != nil {
		return nil, nil, err
	}
	changed := in.Apply(p)
	if len(changed) == 0 {
		if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, auditRef{models.AuditPatient, p.ID}); err != nil {
			return nil, nil, err
		}
		return p, nil, nil
	}
	p.UpdatedAt = now()
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Model(p).Column(append(changed, "updated_at")...).Where("p.id = ?", id)
		if !v.Superuser {
			q = q.Where("p.created_by = ?", v.UserID)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.NotFound("Patient")
		}
		return s.audit.record(ctx, tx, v.UserID, models.AuditUpdate, changed, auditRef{models.AuditPatient, p.ID})
	})
	if err != nil {
		return nil, nil, translate(err)
	}
	return p, changed, nil
}

// Delete removes the patient id and its mappings, or returns NotFound. The
// mappings are deleted explicitly (not left to the cascade) so that each
// deletion is audited.
func (s *PatientStore) Delete(ctx context.Context, v models.Viewer, id int64) error {
	if err := requireViewer(v); err != nil {
		return err
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		owned := tx.NewSelect().Model((*models.Patient)(nil)).Column("p.id").Where("p.id = ?", id)
		owned = scopePatients(owned, v)
		var mappingIDs []int64
		if err := tx.NewDelete().Model((*models.Mapping)(nil)).Where("patient_id IN (?)", owned).
			Returning("id").Scan(ctx, &mappingIDs); err != nil {
			return translate(err)
		}
		q := tx.NewDelete().Model((*models.Patient)(nil)).Where("id = ?", id)
		if !v.Superuser {
			q = q.Where("created_by = ?", v.UserID)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.NotFound("Patient")
		}
		refs := []auditRef{{models.AuditPatient, id}}
		for _, mid := range mappingIDs {
			refs = append(refs, auditRef{models.AuditMapping, mid})
		}
		return s.audit.record(ctx, tx, v.UserID, models.AuditDelete, nil, refs...)
	})
	return translate(err)
}

// patientOfDoctor is a patient with the doctor it was reached through.
type patientOfDoctor struct {
	models.Patient `bun:",extend"`
	DoctorID       int64 `bun:"doctor_id"`
}

// ByDoctorIDs returns, for each doctor, the viewer's patients assigned to
// it (with the given mapping status, if any), newest first. One query for
// all doctors: the loader for Doctor.patients.
func (s *PatientStore) ByDoctorIDs(ctx context.Context, v models.Viewer, doctorIDs []int64, status *models.MappingStatus) (map[int64][]*models.Patient, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	var rows []patientOfDoctor
	q := s.db.NewSelect().Model(&rows).ColumnExpr("p.*").ColumnExpr("m.doctor_id").
		Join("JOIN mappings AS m ON m.patient_id = p.id").
		Where("m.doctor_id IN (?)", bun.In(doctorIDs)).OrderExpr("p.id DESC")
	q = scopePatients(q, v)
	if status != nil {
		q = q.Where("m.status = ?", *status)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, translate(err)
	}
	out := make(map[int64][]*models.Patient)
	refs := make([]auditRef, len(rows))
	for i := range rows {
		out[rows[i].DoctorID] = append(out[rows[i].DoctorID], &rows[i].Patient)
		refs[i] = auditRef{models.AuditPatient, rows[i].ID}
	}
	if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, refs...); err != nil {
		return nil, err
	}
	return out, nil
}
