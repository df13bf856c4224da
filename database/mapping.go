package database

import (
	"context"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// MappingStore keeps the assignments of doctors to patients. A viewer sees
// and changes a mapping exactly when they see its patient; any doctor may be
// assigned to the viewer's own patients, at most once per pair. Every
// mapping returned is an audited read (and so is its patient, when it comes
// with it); every change is audited in the change's transaction.
type MappingStore struct {
	db    *bun.DB
	audit *AuditStore
}

// mappingName is what mapping search matches: the patient's or the doctor's
// full name (each has a trigram index on that expression).
const mappingSearch = `(lower(patient.first_name || ' ' || patient.last_name) LIKE ? ESCAPE '\' OR lower(doctor.first_name || ' ' || doctor.last_name) LIKE ? ESCAPE '\')`

// withParties selects mappings with their patient and doctor joined, scoped
// to the viewer's patients.
func withParties(q *bun.SelectQuery, v models.Viewer) *bun.SelectQuery {
	q = q.Relation("Patient").Relation("Doctor")
	if !v.Superuser {
		q = q.Where("patient.created_by = ?", v.UserID)
	}
	return q
}

// Get returns the mapping id, with its patient and doctor, if the viewer
// sees its patient; else NotFound.
func (s *MappingStore) Get(ctx context.Context, v models.Viewer, id int64) (*models.Mapping, error) {
	m, err := getMapping(ctx, s.db, v, id)
	if err != nil {
		return m, err
	}
	if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, mappingRefs([]*models.Mapping{m}, true)...); err != nil {
		return nil, err
	}
	return m, nil
}

// getMapping is Get without the audit event.
func getMapping(ctx context.Context, db bun.IDB, v models.Viewer, id int64) (*models.Mapping, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	m := new(models.Mapping)
	err := withParties(db.NewSelect().Model(m), v).Where("m.id = ?", id).Scan(ctx)
	return m, notFound(err, "Mapping")
}

// ByIDs returns those of the mappings ids that the viewer may see, by id.
func (s *MappingStore) ByIDs(ctx context.Context, v models.Viewer, ids []int64) (map[int64]*models.Mapping, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	var ms []*models.Mapping
	if err := withParties(s.db.NewSelect().Model(&ms), v).Where("m.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, translate(err)
	}
	if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, mappingRefs(ms, true)...); err != nil {
		return nil, err
	}
	out := make(map[int64]*models.Mapping, len(ms))
	for _, m := range ms {
		out[m.ID] = m
	}
	return out, nil
}

// mappingSorts are the columns MappingStore.List can order by
// (models.PageRequest.OrderBy); the names are the joined patient's and
// doctor's (last, then first).
var mappingSorts = sortColumns{
	"status":       sortBy("m.status"),
	"created_at":   sortBy("m.created_at"),
	"patient_name": sortBy("lower(patient.last_name)", "lower(patient.first_name)"),
	"doctor_name":  sortBy("lower(doctor.last_name)", "lower(doctor.first_name)"),
}

// List returns one page of the mappings of the viewer's patients matching
// f, newest first or ordered by pr.OrderBy (status, created_at,
// patient_name or doctor_name; anything else is Invalid), each with its
// patient and doctor.
func (s *MappingStore) List(ctx context.Context, v models.Viewer, f models.MappingFilter, pr models.PageRequest) (*models.Page[*models.Mapping], error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := models.CheckSearch(f.Search); err != nil {
		return nil, err
	}
	page, err := listOrdered[*models.Mapping](ctx, s.db, pr, "m.id", mappingSorts, func(q *bun.SelectQuery) *bun.SelectQuery {
		q = withParties(q, v)
		if f.PatientID != nil {
			q = q.Where("m.patient_id = ?", *f.PatientID)
		}
		if f.DoctorID != nil {
			q = q.Where("m.doctor_id = ?", *f.DoctorID)
		}
		if f.Status != nil {
			q = q.Where("m.status = ?", *f.Status)
		}
		if f.Search != "" {
			pat := likePattern(f.Search)
			q = q.Where(mappingSearch, pat, pat)
		}
		return q
	})
	if err != nil {
		return nil, translate(err)
	}
	if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, mappingRefs(page.Items, true)...); err != nil {
		return nil, err
	}
	return page, nil
}

// ForPatient returns the mappings of the patient id (with the given status,
// if any), newest first, each with its doctor: NotFound if the viewer may
// not see the patient.
func (s *MappingStore) ForPatient(ctx context.Context, v models.Viewer, patientID int64, status *models.MappingStatus) (*models.Patient, []*models.Mapping, error) {
	p, err := getPatient(ctx, s.db, v, patientID)
	if err != nil {
		return nil, nil, err
	}
	ms := []*models.Mapping{}
	q := s.db.NewSelect().Model(&ms).Relation("Doctor").Where("m.patient_id = ?", patientID).OrderExpr("m.id DESC")
	if status != nil {
		q = q.Where("m.status = ?", *status)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, nil, translate(err)
	}
	for _, m := range ms {
		m.Patient = p
	}
	refs := append([]auditRef{{models.AuditPatient, p.ID}}, mappingRefs(ms, false)...)
	if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, refs...); err != nil {
		return nil, nil, err
	}
	return p, ms, nil
}

// ByPatientIDs returns, for each of the viewer's patients, its mappings
// (with the given status, if any), newest first, each with its patient and
// doctor: the loader for Patient.mappings, whose nested ends then cost nothing.
// The mappings are audited as read; their patients are not again, since
// the caller reached them by reading those patients.
func (s *MappingStore) ByPatientIDs(ctx context.Context, v models.Viewer, patientIDs []int64, status *models.MappingStatus) (map[int64][]*models.Mapping, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	var ms []*models.Mapping
	q := withParties(s.db.NewSelect().Model(&ms), v).Where("m.patient_id IN (?)", bun.In(patientIDs)).OrderExpr("m.id DESC")
	if status != nil {
		q = q.Where("m.status = ?", *status)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, translate(err)
	}
	if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, mappingRefs(ms, false)...); err != nil {
		return nil, err
	}
	out := make(map[int64][]*models.Mapping)
	for _, m := range ms {
		out[m.PatientID] = append(out[m.PatientID], m)
	}
	return out, nil
}

// Create validates in and assigns its doctor to its patient: NotFound if the
// viewer may not see the patient or the doctor does not exist, Invalid on
// "doctor" if the pair is already mapped. It returns the mapping with its
// patient and doctor.
func (s *MappingStore) Create(ctx context.Context, v models.Viewer, in models.MappingInput) (*models.Mapping, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	p, err := getPatient(ctx, s.db, v, *in.PatientID)
	if err != nil {
		return nil, err
	}
	d, err := (&DoctorStore{db: s.db}).Get(ctx, v, *in.DoctorID)
	if err != nil {
		return nil, err
	}
	m := &models.Mapping{PatientID: p.ID, DoctorID: d.ID, Status: models.StatusActive, CreatedBy: v.UserID}
	fields := append([]string{"patient_id", "doctor_id"}, (&models.MappingPatch{Reason: in.Reason, Notes: in.Notes, Status: in.Status}).Apply(m)...)
	if m.Status == "" {
		m.Status = models.StatusActive
	}
	t := now()
	m.CreatedAt, m.UpdatedAt = t, t
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(m).Returning("id").Exec(ctx); err != nil {
			return translate(err)
		}
		return s.audit.record(ctx, tx, v.UserID, models.AuditCreate, fields, auditRef{models.AuditMapping, m.ID})
	})
	if err != nil {
		return nil, translate(err)
	}
	m.Patient, m.Doctor = p, d
	return m, nil
}

// Update validates in and applies it to the mapping id: NotFound if the
// viewer may not see it. It returns the mapping and the changed columns.
// An update that changes nothing is audited as a read.
func (s *MappingStore) Update(ctx context.Context, v models.Viewer, id int64, in models.MappingPatch) (*models.Mapping, []string, error) {
	m, err := getMapping(ctx, s.db, v, id)
	if err != nil {
		return nil, nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, nil, err
	}
	changed := in.Apply(m)
	if len(changed) == 0 {
		if err := s.audit.record(ctx, s.db, v.UserID, models.AuditRead, nil, mappingRefs([]*models.Mapping{m}, true)...); err != nil {
			return nil, nil, err
		}
		return m, nil, nil
	}
	m.UpdatedAt = now()
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model(m).Column(append(changed, "updated_at")...).Where("m.id = ?", id).Exec(ctx)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.NotFound("Mapping")
		}
		return s.audit.record(ctx, tx, v.UserID, models.AuditUpdate, changed, auditRef{models.AuditMapping, m.ID})
	})
	if err != nil {
		return nil, nil, translate(err)
	}
	return m, changed, nil
}

// Delete removes the mapping id if the viewer sees its patient, else
// returns NotFound.
func (s *MappingStore) Delete(ctx context.Context, v models.Viewer, id int64) error {
	if err := requireViewer(v); err != nil {
		return err
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewDelete().Model((*models.Mapping)(nil)).Where("id = ?", id)
		if !v.Superuser {
			q = q.Where("patient_id IN (SELECT id FROM patients WHERE created_by = ?)", v.UserID)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.NotFound("Mapping")
		}
		return s.audit.record(ctx, tx, v.UserID, models.AuditDelete, nil, auditRef{models.AuditMapping, id})
	})
	return translate(err)
}
