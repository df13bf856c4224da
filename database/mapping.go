package database

import (
	"context"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// MappingStore keeps the assignments of doctors to patients. A viewer sees
// and changes a mapping exactly when they see its patient; any doctor may
// be assigned to the viewer's own patients, at most once per pair. Every
// mapping returned is an audited read (and so is its patient, when it
// comes with it); every change is audited in the change's transaction.
type MappingStore struct{ s *Store }

// A mapping's owner is its patient's (Create sets created_by so, whoever
// makes the mapping, and a patient's owner never changes): owned on
// m.created_by is "the viewer sees its patient" without a join, and the
// owner index (created_by, id) serves it.

// mappingSearch is what mapping search matches: the patient's or the
// doctor's full name (each has a trigram index on that expression).
const mappingSearch = `(lower(patient.first_name || ' ' || patient.last_name) LIKE ? ESCAPE '\' OR lower(doctor.first_name || ' ' || doctor.last_name) LIKE ? ESCAPE '\')`

// withParties selects the viewer's mappings with their patient and doctor
// joined; a plain read (project), only the columns its reader shows
// (Projection).
func withParties(ctx context.Context, q *bun.SelectQuery, v models.Viewer, a *Args, form ownerForm, project bool) *bun.SelectQuery {
	if !project {
		return q.Relation("Patient").Relation("Doctor").ApplyQueryBuilder(owned(v, "m.created_by", a, form))
	}
	return q.Apply(columns(mappingColumns(ctx))).Relation("Patient", columns(patientColumns(ctx))).
		Relation("Doctor", columns(doctorColumns(ctx))).ApplyQueryBuilder(owned(v, "m.created_by", a, form))
}

// mappingRefs names the mappings and, when withPatients, the patients
// joined to them: reading a mapping with its patient reads the patient.
func mappingRefs(ms []*models.Mapping, withPatients bool) []models.AuditRef {
	refs := make([]models.AuditRef, 0, 2*len(ms))
	for _, m := range ms {
		refs = append(refs, models.AuditRef{Type: models.AuditMapping, ID: m.ID})
		if withPatients && m.Patient != nil {
			refs = append(refs, models.AuditRef{Type: models.AuditPatient, ID: m.Patient.ID})
		}
	}
	return refs
}

// open opens the sealed fields of the patients joined to ms.
func (ms *MappingStore) open(list []*models.Mapping) error {
	for _, m := range list {
		if err := ms.s.opts.Cipher.open(m.Patient); err != nil {
			return err
		}
	}
	return nil
}

// Get returns the mapping id, with its patient and doctor, if the viewer
// sees its patient; else NotFound.
func (ms *MappingStore) Get(ctx context.Context, v models.Viewer, id int64) (*models.Mapping, error) {
	m, err := ms.loadFrom(ctx, v, id, true)
	if err != nil {
		return nil, err
	}
	if err := ms.s.read(ctx, v, mappingRefs([]*models.Mapping{m}, true)...); err != nil {
		return nil, err
	}
	return m, nil
}

// load is Get without the audit event, from the primary.
func (ms *MappingStore) load(ctx context.Context, v models.Viewer, id int64) (*models.Mapping, error) {
	return ms.loadFrom(ctx, v, id, false)
}

// loadFrom is load; stale lets the read go to the replica (readVia).
func (ms *MappingStore) loadFrom(ctx context.Context, v models.Viewer, id int64, stale bool) (*models.Mapping, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	m := new(models.Mapping)
	read := func(db bun.IDB) error {
		a := newArgs(db)
		return withParties(ctx, db.NewSelect().Model(m), v, a, ownerIs, stale).Where("m.id = ?", a.Of(id)).Scan(a.Ctx(ctx))
	}
	err := ms.s.readAt(ctx, v, stale, read)
	if err != nil {
		return nil, notFound(err, "Mapping")
	}
	return m, ms.open([]*models.Mapping{m})
}

// ByIDs returns those of the mappings ids that the viewer may see, by id.
func (ms *MappingStore) ByIDs(ctx context.Context, v models.Viewer, ids []int64) (map[int64]*models.Mapping, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	var list []*models.Mapping
	if err := ms.s.readVia(ctx, v, func(db bun.IDB) error {
		a := newArgs(db)
		return withParties(ctx, db.NewSelect().Model(&list), v, a, ownerIs, true).
			ApplyQueryBuilder(func(qb bun.QueryBuilder) bun.QueryBuilder { return a.In(qb, "m.id", ids) }).Scan(a.Ctx(ctx))
	}); err != nil {
		return nil, translate(err)
	}
	if err := ms.open(list); err != nil {
		return nil, err
	}
	if err := ms.s.read(ctx, v, mappingRefs(list, true)...); err != nil {
		return nil, err
	}
	out := make(map[int64]*models.Mapping, len(list))
	for _, m := range list {
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

// mappingList pages the viewer's mappings: through mappings_owner_idx
// (created_by, id) for an account, by the primary key for a superuser.
func mappingList(v models.Viewer) listSpec { return ownedList(v, "m.id", "m.created_by", mappingSorts) }

// List returns one page of the mappings of the viewer's patients matching
// f, newest first or ordered by pr.OrderBy (status, created_at,
// patient_name or doctor_name; anything else is Invalid), each with its
// patient and doctor.
func (ms *MappingStore) List(ctx context.Context, v models.Viewer, f models.MappingFilter, pr models.PageRequest) (*models.Page[*models.Mapping], error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := models.CheckSearch("search", f.Search); err != nil {
		return nil, err
	}
	var page *models.Page[*models.Mapping]
	err := ms.s.readVia(ctx, v, func(db bun.IDB) (err error) {
		spec := mappingList(v)
		spec.literal = f.Search != ""
		page, err = list[*models.Mapping](ctx, db, pr, spec, mappingFilter(ctx, v, f))
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := ms.open(page.Items); err != nil {
		return nil, err
	}
	if err := ms.s.read(ctx, v, mappingRefs(page.Items, true)...); err != nil {
		return nil, err
	}
	return page, nil
}

// mappingFilter scopes a list of mappings to the viewer's patients and to f,
// with their parties' columns as ctx's Projection says.
func mappingFilter(ctx context.Context, v models.Viewer, f models.MappingFilter) func(*bun.SelectQuery, *Args) *bun.SelectQuery {
	return func(q *bun.SelectQuery, a *Args) *bun.SelectQuery {
		q = withParties(ctx, q, v, a, ownerRange, true)
		if f.PatientID != nil {
			q = q.Where("m.patient_id = ?", a.Of(*f.PatientID))
		}
		if f.DoctorID != nil {
			q = q.Where("m.doctor_id = ?", a.Of(*f.DoctorID))
		}
		if f.Status != nil {
			q = q.Where("m.status = ?", a.Of(string(*f.Status)))
		}
		if f.Search != "" {
			pat := likePattern(f.Search)
			q = q.Where(mappingSearch, a.Of(pat), a.Of(pat))
		}
		return q
	}
}

// ForPatient returns the mappings of the patient id (with the given status,
// if any), newest first, each with its doctor: NotFound if the viewer may
// not see the patient.
func (ms *MappingStore) ForPatient(ctx context.Context, v models.Viewer, patientID int64, status *models.MappingStatus) (*models.Patient, []*models.Mapping, error) {
	p, err := ms.s.Patients.loadFrom(ctx, v, patientID, true)
	if err != nil {
		return nil, nil, err
	}
	list := []*models.Mapping{}
	if err := ms.s.readVia(ctx, v, func(db bun.IDB) error {
		a := newArgs(db)
		q := db.NewSelect().Model(&list).Relation("Doctor").Where("m.patient_id = ?", a.Of(patientID)).OrderExpr("m.id DESC")
		if status != nil {
			q = q.Where("m.status = ?", a.Of(string(*status)))
		}
		return q.Scan(a.Ctx(ctx))
	}); err != nil {
		return nil, nil, translate(err)
	}
	for _, m := range list {
		m.Patient = p
	}
	refs := append(patientRefs(p), mappingRefs(list, false)...)
	if err := ms.s.read(ctx, v, refs...); err != nil {
		return nil, nil, err
	}
	return p, list, nil
}

// ByPatientIDs returns, for each of the viewer's patients, its mappings
// (with the given status, if any), newest first, each with its doctor (not
// its patient: the caller has it): the loader for Patient.mappings and
// Patient.doctors, one query for both. The mappings are audited as read;
// their patients are not again, since the caller reached them by reading
// those patients.
func (ms *MappingStore) ByPatientIDs(ctx context.Context, v models.Viewer, patientIDs []int64, status *models.MappingStatus) (map[int64][]*models.Mapping, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	var list []*models.Mapping
	a := ms.s.args()
	q := ms.s.db.NewSelect().Model(&list).Apply(columns(mappingColumns(ctx))).Relation("Doctor", columns(doctorColumns(ctx))).
		ApplyQueryBuilder(owned(v, "m.created_by", a, ownerIs)).
		ApplyQueryBuilder(func(qb bun.QueryBuilder) bun.QueryBuilder { return a.In(qb, "m.patient_id", patientIDs) }).
		OrderExpr("m.id DESC")
	if status != nil {
		q = q.Where("m.status = ?", a.Of(string(*status)))
	}
	if err := q.Scan(a.Ctx(ctx)); err != nil {
		return nil, translate(err)
	}
	if err := ms.s.read(ctx, v, mappingRefs(list, false)...); err != nil {
		return nil, err
	}
	out := make(map[int64][]*models.Mapping)
	for _, m := range list {
		out[m.PatientID] = append(out[m.PatientID], m)
	}
	return out, nil
}

// Create validates in and assigns its doctor to its patient: NotFound if the
// viewer may not see the patient or the doctor does not exist, Invalid on
// "doctor" if the pair is already mapped. It returns the mapping with its
// patient and doctor.
func (ms *MappingStore) Create(ctx context.Context, v models.Viewer, in models.MappingInput) (*models.Mapping, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	p, err := ms.s.Patients.load(ctx, v, *in.PatientID)
	if err != nil {
		return nil, err
	}
	d, err := ms.s.Doctors.get(ctx, v, *in.DoctorID, false)
	if err != nil {
		return nil, err
	}
	// The mapping belongs to its patient's owner, whoever (a superuser)
	// makes it: the owner index then serves the owner's mapping list.
	m := &models.Mapping{PatientID: p.ID, DoctorID: d.ID, Status: models.StatusActive, CreatedBy: p.CreatedBy}
	fields := append([]string{"patient_id", "doctor_id"}, in.Patch().Apply(m)...)
	if m.Status == "" {
		m.Status = models.StatusActive
	}
	t := now()
	m.CreatedAt, m.UpdatedAt = t, t
	err = ms.s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.db.NewInsert().Model(m).Returning("id").Exec(ctx); err != nil {
			return translate(err)
		}
		tx.publish(Change{Kind: ChangeMapping, Op: OpCreate, ID: m.ID, Owner: p.CreatedBy, PatientID: p.ID})
		return tx.changed(ctx, v, models.AuditCreate, fields, models.AuditRef{Type: models.AuditMapping, ID: m.ID})
	})
	if err != nil {
		return nil, err
	}
	m.Patient, m.Doctor = p, d
	return m, nil
}

// Update validates in and applies it to the mapping id: NotFound if the
// viewer may not see it. It returns the mapping and the changed columns.
// An update that changes nothing is audited as a read.
func (ms *MappingStore) Update(ctx context.Context, v models.Viewer, id int64, in models.MappingPatch) (*models.Mapping, []string, error) {
	m, err := ms.load(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, nil, err
	}
	changed := in.Apply(m)
	if len(changed) == 0 {
		return m, nil, ms.s.read(ctx, v, mappingRefs([]*models.Mapping{m}, true)...)
	}
	m.UpdatedAt = now()
	err = ms.s.InTx(ctx, func(tx *Store) error {
		res, err := tx.db.NewUpdate().Model(m).Column(append(changed, "updated_at")...).Where("m.id = ?", id).Exec(ctx)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.NotFound("Mapping")
		}
		tx.publish(Change{Kind: ChangeMapping, Op: OpUpdate, ID: m.ID, Owner: m.CreatedBy, PatientID: m.PatientID})
		return tx.changed(ctx, v, models.AuditUpdate, changed, models.AuditRef{Type: models.AuditMapping, ID: m.ID})
	})
	if err != nil {
		return nil, nil, err
	}
	return m, changed, nil
}

// Delete removes the mapping id if the viewer sees its patient, else
// returns NotFound.
func (ms *MappingStore) Delete(ctx context.Context, v models.Viewer, id int64) error {
	m, err := ms.load(ctx, v, id)
	if err != nil {
		return err
	}
	return ms.s.InTx(ctx, func(tx *Store) error {
		res, err := tx.db.NewDelete().Model((*models.Mapping)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.NotFound("Mapping")
		}
		tx.publish(Change{Kind: ChangeMapping, Op: OpDelete, ID: m.ID, Owner: m.CreatedBy, PatientID: m.PatientID})
		return tx.changed(ctx, v, models.AuditDelete, nil, models.AuditRef{Type: models.AuditMapping, ID: id})
	})
}
