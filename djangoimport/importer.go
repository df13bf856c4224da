// Package djangoimport moves a running deployment of the Django reference
// service over: it reads the reference's tables (users, patients, doctors
// and their mappings) from its database, SQLite or PostgreSQL, and writes
// them into ours with their ids, owners, times and flags, mapping Django's
// values to ours, validating every row as our API would, sealing the
// medical fields and auditing each imported row.
//
// The import goes table by table (users, doctors, patients, mappings), in
// batches in id order; each batch is one transaction holding its rows and
// their audit events. It can be run again: rows already imported (the same
// id with the same identity) are skipped, so a run that stopped is resumed
// by running it again. Ids stay Django's, and each table's id sequence is
// moved past them.
package djangoimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// Options tune a run.
type Options struct {
	// DryRun reads and checks everything and writes nothing: the report
	// says what would be imported and every row that would be refused.
	DryRun bool
	// SkipInvalid imports the valid rows of a batch and skips the refused
	// ones; without it the first batch with a refused row stops the import
	// before anything of that batch is written.
	SkipInvalid bool
	// BatchSize is the rows of one transaction (default 5000).
	BatchSize int
	// Progress receives progress lines (nil: none): rows read of each
	// table, the rate and the time left. With Live set (a terminal) one line
	// is redrawn as rows go by; otherwise a line every 30 seconds of a long
	// table, and one when each table is done.
	Progress io.Writer
	Live     bool
	// OnProblem is called with every refused row and every note, as they
	// are found.
	OnProblem func(Problem)
	// Today is the date dates of birth are checked against (default: today, UTC).
	Today models.Date
}

// Importer copies a Django database into ours.
type Importer struct {
	Source *Source
	Target *bun.DB
	// Sealer seals the medical fields; required.
	Sealer Sealer
	// Audit records the import events; required.
	Audit Auditor
	Options
}

// TableResult counts what happened to one table.
type TableResult struct {
	Table   string // the Django table
	Target  string // ours
	Total   int64  // rows in the source table when the run started
	Read    int64
	Written int64 // imported (or, in a dry run, that would be)
	Present int64 // already imported by an earlier run: skipped
	Refused int64
	Notes   int64
	Elapsed time.Duration
}

// Report is the outcome of a run.
type Report struct {
	DryRun bool
	Tables []TableResult
}

// Refused is the number of refused rows over all tables.
func (r *Report) Refused() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Refused
	}
	return n
}

// ErrRefused stops an import (without SkipInvalid) at a batch that has a
// refused row; the rows of earlier batches stay imported, and running the
// import again resumes after them.
var ErrRefused = errors.New("rows were refused")

// run is the state of one Run.
type run struct {
	*Importer
	t     *target
	today models.Date
	now   time.Time
	res   *TableResult
	// refused holds the ids of refused rows of each Django table, which
	// their dependants must not point at.
	refused map[string]map[int64]bool
	// claimed maps each unique value (users' and doctors' emails, license
	// numbers) met in this run to the id that has it.
	claimed  map[string]int64
	start    time.Time // of the current table
	before   int64     // the table's refused rows before the current batch
	lastDraw time.Time
}

// Run imports everything, or with DryRun only checks it.
func (im *Importer) Run(ctx context.Context) (*Report, error) {
	if im.Sealer == nil || im.Audit == nil {
		return nil, errors.New("djangoimport: Sealer and Audit are required")
	}
	if im.BatchSize <= 0 {
		im.BatchSize = 5000
	}
	r := &run{Importer: im, t: newTarget(im.Target), now: time.Now().UTC(), today: im.Today,
		refused: map[string]map[int64]bool{}, claimed: map[string]int64{}}
	if r.today.IsZero() {
		r.today = models.DateOf(r.now)
	}
	if err := im.Source.check(ctx); err != nil {
		return nil, err
	}
	steps := []struct {
		src    table
		target string
		run    func(ctx context.Context) (top int64, err error)
	}{
		{usersTable, "users", func(ctx context.Context) (int64, error) {
			return pipeline(ctx, r, usersTable, r.prepareUsers, r.users)
		}},
		{doctorsTable, "doctors", func(ctx context.Context) (int64, error) {
			return pipeline(ctx, r, doctorsTable, r.prepareDoctors, r.doctors)
		}},
		{patientsTable, "patients", func(ctx context.Context) (int64, error) {
			return pipeline(ctx, r, patientsTable, r.preparePatients, r.patients)
		}},
		{mappingsTable, "mappings", func(ctx context.Context) (int64, error) {
			return pipeline(ctx, r, mappingsTable, r.prepareMappings, r.mappings)
		}},
	}
	rep := &Report{DryRun: im.DryRun}
	for _, s := range steps {
		total, err := im.Source.count(ctx, s.src)
		if err != nil {
			return rep, fmt.Errorf("count %s: %w", s.src.name, err)
		}
		rep.Tables = append(rep.Tables, TableResult{Table: s.src.name, Target: s.target, Total: total})
	}
	if !im.DryRun {
		// Ids created meanwhile by a running server must not take one of
		// the ids being imported: move every sequence past them first.
		for _, s := range steps {
			top, err := im.Source.maxID(ctx, s.src)
			if err != nil {
				return rep, fmt.Errorf("read %s: %w", s.src.name, err)
			}
			if err := r.t.advanceSequence(ctx, s.target, top); err != nil {
				return rep, err
			}
		}
	}
	for i, s := range steps {
		r.res = &rep.Tables[i]
		r.refused[s.src.name] = map[int64]bool{}
		r.start = time.Now()
		r.lastDraw = r.start
		top, err := s.run(ctx)
		r.res.Elapsed = time.Since(r.start)
		r.progress(true)
		if err != nil {
			return rep, err
		}
		if !im.DryRun {
			if err := r.t.advanceSequence(ctx, s.target, top); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// item is one converted row with the notes about it (reported only if the
// row is written).
type item[R any] struct {
	row   R
	notes []Problem
}

// prepared is one batch after conversion: what the database has not been
// asked about yet.
type prepared[R any] struct {
	read    int
	lo, hi  int64
	items   []item[R]
	refused []Problem // rows that failed validation
	err     error
}

// pipeline walks table t in batches: one goroutine reads a batch and
// converts it (prep: validation and sealing, no database of ours) while
// the caller's goroutine checks the previous one against our database and
// writes it (apply). Reading the source and writing ours overlap, and so do
// the CPU work and the database's. It returns the highest id read.
func pipeline[R any](ctx context.Context, r *run, t table, prep func([][]any) (*prepared[R], error), apply func(context.Context, *prepared[R]) error) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan *prepared[R], 1)
	go func() {
		defer close(ch)
		var after int64
		for {
			rows, err := r.Source.batch(ctx, t, after, r.BatchSize)
			var p *prepared[R]
			switch {
			case err != nil:
				p = &prepared[R]{err: err}
			case len(rows) == 0:
				return
			default:
				if p, err = prep(rows); err != nil {
					p = &prepared[R]{err: err}
				} else {
					p.read = len(rows)
					p.lo, p.hi = span(rows)
					after = p.hi
				}
			}
			select {
			case ch <- p:
			case <-ctx.Done():
				return
			}
			if p.err != nil || len(rows) < r.BatchSize {
				return
			}
		}
	}()
	var top int64
	for p := range ch {
		if p.err != nil {
			return top, p.err
		}
		r.res.Read += int64(p.read)
		top = max(top, p.hi)
		r.before = r.res.Refused
		for _, pr := range p.refused {
			r.problem(pr)
		}
		if err := apply(ctx, p); err != nil {
			return top, err
		}
		r.res.Elapsed = time.Since(r.start)
		r.progress(false)
	}
	return top, ctx.Err()
}

// problem reports p (a refusal or a note) and counts it.
func (r *run) problem(p Problem) {
	if p.Refused {
		r.res.Refused++
		r.refused[p.Table][p.ID] = true
	} else {
		r.res.Notes++
	}
	if r.OnProblem != nil {
		r.OnProblem(p)
	}
}

// refuse reports a refused row for one reason.
func (r *run) refuse(table string, id int64, field, msg string) {
	p := Problem{Table: table, ID: id, Refused: true}
	if field == "" {
		p.Reason = msg
	} else {
		p.Fields = map[string][]string{field: {msg}}
	}
	r.problem(p)
}

// stop is the end of a batch with refused rows when they may not be skipped.
func (r *run) stop(refusedBefore int64) error {
	if r.DryRun || r.SkipInvalid || r.res.Refused == refusedBefore {
		return nil
	}
	return fmt.Errorf("%s: %w (run with --dry-run to list them all, fix them in Django or pass --skip-invalid; rows already imported stay, and the next run resumes after them)", r.res.Table, ErrRefused)
}

// claim records that id holds the unique value key (namespaced by the
// caller), and returns the id that held it first.
func (r *run) claim(key string, id int64) int64 {
	if prev, ok := r.claimed[key]; ok {
		return prev
	}
	r.claimed[key] = id
	return id
}

// span returns the lowest and highest id of a batch (rows come in id order).
func span(rows [][]any) (lo, hi int64) {
	lo, _, _ = integer(rows[0][0])
	hi, _, _ = integer(rows[len(rows)-1][0])
	return lo, hi
}

// audit returns the after-write step that records the batch's events.
func (r *run) audit(ctx context.Context, recordType string, ids []int64) func(tx bun.Tx) error {
	return func(tx bun.Tx) error { return r.Audit.RecordImport(ctx, tx, recordType, ids) }
}

func (r *run) prepareUsers(rows [][]any) (*prepared[*userRow], error) {
	p := &prepared[*userRow]{}
	for _, v := range rows {
		u, bad, notes := convertUser(v, r.now)
		if bad != nil {
			p.refused = append(p.refused, *bad)
			continue
		}
		p.items = append(p.items, item[*userRow]{u, notes})
	}
	return p, nil
}

func (r *run) users(ctx context.Context, p *prepared[*userRow]) error {
	present, err := r.t.present(ctx, "users", "email", p.lo, p.hi)
	if err != nil {
		return err
	}
	var out []item[*userRow]
	var emails []string
	for _, it := range p.items {
		u := it.row
		if email, ok := present[u.ID]; ok {
			if email == u.Email {
				r.res.Present++
			} else {
				r.refuse(TableUsers, u.ID, "", fmt.Sprintf("id %d is taken by another account here", u.ID))
			}
			continue
		}
		if first := r.claim("user email "+u.Email, u.ID); first != u.ID {
			r.refuse(TableUsers, u.ID, "email", fmt.Sprintf("A user with this email already exists (id %d; emails are compared lower-cased).", first))
			continue
		}
		out = append(out, it)
		emails = append(emails, u.Email)
	}
	taken, err := r.t.taken(ctx, "users", "email", emails)
	if err != nil {
		return err
	}
	var kept []*userRow
	for _, it := range out {
		u := it.row
		if id, ok := taken[u.Email]; ok && id != u.ID {
			r.refuse(TableUsers, u.ID, "email", fmt.Sprintf("A user with this email already exists (id %d here).", id))
			continue
		}
		r.notes(it.notes)
		kept = append(kept, u)
	}
	return finish(r, ctx, "users", userColumns, kept, models.AuditUser, func(u *userRow) int64 { return u.ID })
}

// notes reports the notes of a row that is kept.
func (r *run) notes(ns []Problem) {
	for _, n := range ns {
		r.problem(n)
	}
}

func (r *run) prepareDoctors(rows [][]any) (*prepared[*doctorRow], error) {
	p := &prepared[*doctorRow]{}
	for _, v := range rows {
		d, bad, notes := convertDoctor(v, r.today)
		if bad != nil {
			p.refused = append(p.refused, *bad)
			continue
		}
		p.items = append(p.items, item[*doctorRow]{d, notes})
	}
	return p, nil
}

func (r *run) doctors(ctx context.Context, p *prepared[*doctorRow]) error {
	present, err := r.t.present(ctx, "doctors", "license_number", p.lo, p.hi)
	if err != nil {
		return err
	}
	var out []item[*doctorRow]
	var emails, licenses []string
	owners := map[int64]bool{}
	for _, it := range p.items {
		d := it.row
		if lic, ok := present[d.ID]; ok {
			if lic == d.LicenseNumber {
				r.res.Present++
			} else {
				r.refuse(TableDoctors, d.ID, "", fmt.Sprintf("id %d is taken by another doctor here", d.ID))
			}
			continue
		}
		var fields models.FieldErrors
		if first := r.claim("doctor email "+d.Email, d.ID); first != d.ID {
			fields.Add("email", fmt.Sprintf("A doctor with this email already exists (id %d; emails are compared lower-cased).", first))
		}
		if first := r.claim("doctor license "+d.LicenseNumber, d.ID); first != d.ID {
			fields.Add("license_number", fmt.Sprintf("A doctor with this license number already exists (id %d; license numbers are compared in capitals).", first))
		}
		if fields != nil {
			r.problem(Problem{Table: TableDoctors, ID: d.ID, Refused: true, Fields: fields})
			continue
		}
		out = append(out, it)
		emails = append(emails, d.Email)
		licenses = append(licenses, d.LicenseNumber)
		if d.CreatedBy != nil {
			owners[*d.CreatedBy] = true
		}
	}
	takenEmail, err := r.t.taken(ctx, "doctors", "email", emails)
	if err != nil {
		return err
	}
	takenLicense, err := r.t.taken(ctx, "doctors", "license_number", licenses)
	if err != nil {
		return err
	}
	exists, err := r.owners(ctx, owners)
	if err != nil {
		return err
	}
	var kept []*doctorRow
	for _, it := range out {
		d := it.row
		var fields models.FieldErrors
		if id, ok := takenEmail[d.Email]; ok && id != d.ID {
			fields.Add("email", fmt.Sprintf("A doctor with this email already exists (id %d here).", id))
		}
		if id, ok := takenLicense[d.LicenseNumber]; ok && id != d.ID {
			fields.Add("license_number", fmt.Sprintf("A doctor with this license number already exists (id %d here).", id))
		}
		if fields != nil {
			r.problem(Problem{Table: TableDoctors, ID: d.ID, Refused: true, Fields: fields})
			continue
		}
		r.notes(it.notes)
		if d.CreatedBy != nil && !exists[*d.CreatedBy] {
			r.problem(Problem{Table: TableDoctors, ID: d.ID,
				Reason: fmt.Sprintf("created_by: user %d was not imported; imported without an owner (only superusers can change it)", *d.CreatedBy)})
			d.CreatedBy = nil
		}
		kept = append(kept, d)
	}
	return finish(r, ctx, "doctors", doctorColumns, kept, recordDoctor, func(d *doctorRow) int64 { return d.ID })
}

// owners returns which of the user ids are (or, in a dry run, would be)
// accounts here: not refused, and in a real run present.
func (r *run) owners(ctx context.Context, ids map[int64]bool) (map[int64]bool, error) {
	var check []int64
	ok := map[int64]bool{}
	for id := range ids {
		if r.refused[TableUsers][id] {
			continue
		}
		if r.DryRun {
			ok[id] = true // the source's foreign keys say the account exists
			continue
		}
		check = append(check, id)
	}
	if r.DryRun {
		return ok, nil
	}
	return r.t.existing(ctx, "users", check)
}

// preparePatients converts and validates a batch of patients and seals
// their medical fields (not in a dry run, which writes nothing).
func (r *run) preparePatients(rows [][]any) (*prepared[*patientRow], error) {
	seal := func(s string) (*string, error) {
		if r.DryRun {
			return &s, nil
		}
		sealed, err := r.Sealer.Seal(s)
		if err != nil {
			return nil, fmt.Errorf("seal a medical field: %w", err)
		}
		return &sealed, nil
	}
	p := &prepared[*patientRow]{}
	for _, v := range rows {
		pt, bad, err := convertPatient(v, r.today, seal)
		if err != nil {
			return nil, err
		}
		if bad != nil {
			p.refused = append(p.refused, *bad)
			continue
		}
		p.items = append(p.items, item[*patientRow]{row: pt})
	}
	return p, nil
}

func (r *run) patients(ctx context.Context, p *prepared[*patientRow]) error {
	present, err := r.t.present(ctx, "patients", "created_by", p.lo, p.hi)
	if err != nil {
		return err
	}
	var out []*patientRow
	owners := map[int64]bool{}
	for _, it := range p.items {
		pt := it.row
		if owner, ok := present[pt.ID]; ok {
			if owner == strconv.FormatInt(pt.CreatedBy, 10) {
				r.res.Present++
			} else {
				r.refuse(TablePatients, pt.ID, "", fmt.Sprintf("id %d is taken by another patient here", pt.ID))
			}
			continue
		}
		out = append(out, pt)
		owners[pt.CreatedBy] = true
	}
	exists, err := r.owners(ctx, owners)
	if err != nil {
		return err
	}
	kept := out[:0]
	for _, pt := range out {
		if !exists[pt.CreatedBy] {
			r.refuse(TablePatients, pt.ID, "created_by", fmt.Sprintf("Its owner, user %d, was not imported.", pt.CreatedBy))
			continue
		}
		kept = append(kept, pt)
	}
	return finish(r, ctx, "patients", patientColumns, kept, models.AuditPatient, func(p *patientRow) int64 { return p.ID })
}

func (r *run) prepareMappings(rows [][]any) (*prepared[*mappingRow], error) {
	p := &prepared[*mappingRow]{}
	for _, v := range rows {
		m, bad := convertMapping(v)
		if bad != nil {
			p.refused = append(p.refused, *bad)
			continue
		}
		p.items = append(p.items, item[*mappingRow]{row: m})
	}
	return p, nil
}

func (r *run) mappings(ctx context.Context, p *prepared[*mappingRow]) error {
	present, err := r.t.present(ctx, "mappings", r.pairExpr(), p.lo, p.hi)
	if err != nil {
		return err
	}
	var out []*mappingRow
	for _, it := range p.items {
		m := it.row
		if pair, ok := present[m.ID]; ok {
			if pair == fmt.Sprintf("%d:%d", m.PatientID, m.DoctorID) {
				r.res.Present++
			} else {
				r.refuse(TableMappings, m.ID, "", fmt.Sprintf("id %d is taken by another mapping here", m.ID))
			}
			continue
		}
		var fields models.FieldErrors
		if r.refused[TablePatients][m.PatientID] {
			fields.Add("patient", fmt.Sprintf("Patient %d was not imported.", m.PatientID))
		}
		if r.refused[TableDoctors][m.DoctorID] {
			fields.Add("doctor", fmt.Sprintf("Doctor %d was not imported.", m.DoctorID))
		}
		if fields != nil {
			r.problem(Problem{Table: TableMappings, ID: m.ID, Refused: true, Fields: fields})
			continue
		}
		out = append(out, m)
	}
	return finish(r, ctx, "mappings", mappingColumns, out, models.AuditMapping, func(m *mappingRow) int64 { return m.ID })
}

// pairExpr reads a mapping's (patient, doctor) pair as "patient:doctor".
func (r *run) pairExpr() string {
	if r.t.pg {
		return "patient_id::text || ':' || doctor_id::text"
	}
	return "CAST(patient_id AS TEXT) || ':' || CAST(doctor_id AS TEXT)"
}

// finish ends a batch: stop on refused rows (unless they may be skipped),
// else write the kept rows with their audit events, and count them.
func finish[T any, PT interface {
	*T
	valuer
}](r *run, ctx context.Context, table string, cols []string, rows []PT, recordType string, id func(PT) int64) error {
	if err := r.stop(r.before); err != nil {
		return err
	}
	if !r.DryRun {
		ids := make([]int64, len(rows))
		for i, row := range rows {
			ids[i] = id(row)
		}
		if err := write(ctx, r.t, table, cols, rows, r.audit(ctx, recordType, ids)); err != nil {
			return err
		}
	}
	r.res.Written += int64(len(rows))
	return nil
}

// progress shows where the current table is: redrawn on a terminal, one
// line per table otherwise.
func (r *run) progress(done bool) {
	w := r.Progress
	if w == nil {
		return
	}
	every := 30 * time.Second
	if r.Live {
		every = 250 * time.Millisecond
	}
	if !done && time.Since(r.lastDraw) < every {
		return
	}
	r.lastDraw = time.Now()
	t := r.res
	rate := 0.0
	if s := t.Elapsed.Seconds(); s > 0 {
		rate = float64(t.Read) / s
	}
	var b strings.Builder
	if r.Live {
		b.WriteString("\r\x1b[K")
	}
	fmt.Fprintf(&b, "%-30s %d/%d rows", t.Table, t.Read, t.Total)
	if t.Total > 0 {
		fmt.Fprintf(&b, " (%d%%)", 100*t.Read/max(t.Total, 1))
	}
	fmt.Fprintf(&b, ", %.0f rows/s", rate)
	if !done && rate > 0 && t.Total > t.Read {
		eta := time.Duration(float64(t.Total-t.Read) / rate * float64(time.Second))
		fmt.Fprintf(&b, ", %s left", eta.Round(time.Second))
	}
	switch {
	case done:
		fmt.Fprintf(&b, " in %s\n", t.Elapsed.Round(time.Millisecond))
	case !r.Live:
		b.WriteString("\n")
	}
	_, _ = io.WriteString(w, b.String())
}
