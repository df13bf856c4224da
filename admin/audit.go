package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"healthcare/audit"
	"healthcare/models"
)

// auditColumns are the audit list's columns: it pages by id only.
var auditColumns = []sortable{
	{"ID", "id", true}, {"Time", "", false}, {"User", "", false}, {"Action", "", false}, {"Records", "", false},
	{"Fields", "", false}, {"IP", "", false}, {"User agent", "", false}, {"Request ID", "", false}, {"Hash", "", false},
}

// auditData is the audit page: the list and the chain box.
type auditData struct {
	List  *listData
	Chain chainBox
}

// chainBox is the "Chain" panel: the verify button and, after it was
// pressed, what audit.Trail.Verify found.
type chainBox struct {
	Action string
	Report *audit.Report
}

// datetimeLayouts are what a datetime-local control sends.
var datetimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"}

func parseDatetime(s string) (time.Time, bool) {
	for _, l := range datetimeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (h *handler) listAudit(w http.ResponseWriter, r *http.Request) {
	h.auditPage(w, r, nil)
}

// verifyAudit seals and checks the whole chain, then shows the list again
// (with the filters of the page the button was on) and the result.
func (h *handler) verifyAudit(w http.ResponseWriter, r *http.Request) {
	rep, err := h.trail.Verify(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The page's links (sorting, paging) lead to the list, not here.
	u := *r.URL
	u.Path = h.prefix + "/audit"
	r = r.WithContext(r.Context())
	r.URL = &u
	h.auditPage(w, r, rep)
}

// auditFilter reads the filters of the audit list. A user may be given by
// id or by email.
func (h *handler) auditFilter(ctx context.Context, q url.Values) (models.AuditFilter, models.FieldErrors, error) {
	var f models.AuditFilter
	var fe models.FieldErrors
	if s := strings.TrimSpace(q.Get("user")); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			f.UserID = &n
		} else if strings.Contains(s, "@") {
			u, err := h.store.Users.ByEmail(ctx, s)
			switch {
			case err == nil:
				f.UserID = &u.ID
			case models.ErrorCode(err) == models.CodeNotFound:
				fe.Add("user", "No account has this email.")
			default:
				return f, nil, err
			}
		} else {
			fe.Add("user", "Enter a user id or an email.")
		}
	}
	f.RecordType = q.Get("record_type")
	if s := strings.TrimSpace(q.Get("record_id")); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			f.RecordID = &n
		} else {
			fe.Add("record_id", "Enter an id number.")
		}
	}
	if s := q.Get("action"); s != "" {
		a := models.AuditAction(s)
		f.Action = &a
	}
	for name, dst := range map[string]**time.Time{"since": &f.Since, "until": &f.Until} {
		if s := strings.TrimSpace(q.Get(name)); s != "" {
			if t, ok := parseDatetime(s); ok {
				*dst = &t
			} else {
				fe.Add(name, "Enter a date and time.")
			}
		}
	}
	if me := fieldErrors(f.Validate()); me != nil {
		for k, msgs := range me {
			for _, m := range msgs {
				fe.Add(k, m)
			}
		}
	}
	return f, fe, nil
}

func (h *handler) auditPage(w http.ResponseWriter, r *http.Request, rep *audit.Report) {
	ctx := r.Context()
	q := r.URL.Query()
	k := parseListQuery(q, auditColumns)
	f, ferr, err := h.auditFilter(ctx, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fv, filtered := filterValues(q, "user", "record_type", "record_id", "action", "since", "until")
	actions := []option{{"", "Any"}}
	for _, a := range models.AuditActions {
		actions = append(actions, option{string(a), actionLabel(a)})
	}
	types := []option{{"", "Any"}}
	for _, t := range models.AuditRecordTypes {
		types = append(types, option{t, recordTypeLabel(t)})
	}
	filters := []section{{Fields: []field{
		{Name: "user", Label: "User", Type: "text", Placeholder: "ID or email", Autocomplete: "off"},
		{Name: "action", Label: "Action", Type: "select", Options: actions},
		{Name: "record_type", Label: "Record type", Type: "select", Options: types},
		{Name: "record_id", Label: "Record ID", Type: "number", Min: "1", Step: "1"},
		{Name: "since", Label: "From (UTC)", Type: "datetime-local"},
		{Name: "until", Label: "Before (UTC)", Type: "datetime-local"},
	}}}
	fill(filters, fv, ferr)
	d := &listData{
		Heading: "Audit trail", Intro: "Who read or changed which patient and assignment, every sign-in and every change to an account, newest first. Events hold ids and field names, never values.",
		Action: h.prefix + "/audit", Filters: filters[0].Fields, Filtered: filtered, Clear: h.prefix + "/audit",
		Empty: "No events match.", Columns: k.columns(r.URL, auditColumns), Class: "audit",
	}
	chain := chainBox{Action: h.prefix + "/audit/verify", Report: rep}
	if r.URL.RawQuery != "" {
		chain.Action += "?" + r.URL.RawQuery
	}
	if len(ferr) > 0 {
		// Nothing to list until the filters make sense.
		d.Empty = "Correct the filters above to see events."
		d.Sizes, d.Keep = sizeLinks(r.URL, k.size), keep(q)
		h.render(w, r, http.StatusBadRequest, "audit", "Audit trail", "audit", auditData{d, chain})
		return
	}
	page, err := h.trail.List(ctx, viewerFrom(ctx), f, k.request())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	items := listNav(d, r.URL, k, page, func(e *models.AuditEvent) int64 { return e.ID }, "event")
	links, err := h.auditLinks(ctx, items)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, e := range items {
		d.Rows = append(d.Rows, []cell{
			{Text: itoa(e.ID), Num: true},
			{Text: e.OccurredAt.UTC().Format("2006-01-02 15:04:05")},
			links.user(e.UserID),
			actionCell(e.Action),
			links.records(e.RecordRefs()),
			{Text: strings.Join(e.FieldList(), ", "), Wrap: true},
			{Text: e.IP},
			shortCell(e.UserAgent, 16, false),
			shortCell(e.RequestID, 24, true),
			hashCell(e.Hash),
		})
	}
	h.render(w, r, http.StatusOK, "audit", "Audit trail", "audit", auditData{d, chain})
}

// auditLinks knows, for one page of events, the accounts by id and which
// patients and assignments still exist.
type auditLinks struct {
	prefix   string
	users    map[int64]*models.User
	patients map[int64]bool
	mappings map[int64]bool
}

// auditLinks looks up the accounts and records the events name, in one
// query per kind. Whether a patient or assignment still exists is asked of
// the trail (ids only), not of PatientStore.ByIDs or MappingStore.ByIDs:
// those record a read of every record they return, and listing the trail
// reads no patient.
func (h *handler) auditLinks(ctx context.Context, evs []*models.AuditEvent) (*auditLinks, error) {
	l := &auditLinks{prefix: h.prefix}
	ids := map[string][]int64{}
	for _, e := range evs {
		if e.UserID != nil {
			ids[models.AuditUser] = append(ids[models.AuditUser], *e.UserID)
		}
		for _, ref := range shownRefs(e.RecordRefs()) {
			ids[ref.Type] = append(ids[ref.Type], ref.ID)
		}
	}
	v := viewerFrom(ctx)
	var err error
	if l.users, err = h.store.Users.ByIDs(ctx, v, ids[models.AuditUser]); err != nil {
		return nil, err
	}
	if l.patients, err = h.trail.Existing(ctx, v, models.AuditPatient, ids[models.AuditPatient]); err != nil {
		return nil, err
	}
	if l.mappings, err = h.trail.Existing(ctx, v, models.AuditMapping, ids[models.AuditMapping]); err != nil {
		return nil, err
	}
	return l, nil
}

// maxRecordLinks is how many of an event's records its row lists; a list
// read can name a hundred.
const maxRecordLinks = 5

// shownRefs are the records of an event its row lists.
func shownRefs(refs []models.AuditRef) []models.AuditRef {
	return refs[:min(len(refs), maxRecordLinks)]
}

// user is the cell of the account that acted: its email, linked.
func (l *auditLinks) user(id *int64) cell {
	if id == nil {
		return cell{Text: "—", Title: "No account (a failed sign-in with an unknown email, or the command line)"}
	}
	if u := l.users[*id]; u != nil {
		return cell{Text: u.Email, Href: l.prefix + "/users/" + itoa(*id)}
	}
	return cell{Text: "User #" + itoa(*id)}
}

// records is the cell of the records an event names, each linked to its
// page while it exists; past maxRecordLinks, how many more there are.
func (l *auditLinks) records(refs []models.AuditRef) cell {
	if len(refs) == 0 {
		return cell{Text: "—"}
	}
	var c cell
	for _, ref := range shownRefs(refs) {
		c.Links = append(c.Links, l.record(ref))
	}
	if n := len(refs) - maxRecordLinks; n > 0 {
		c.More = "and " + countNoun(n, "more record")
	}
	return c
}

// record is the link (or text) of one record an event names.
func (l *auditLinks) record(ref models.AuditRef) cell {
	c := cell{Text: recordTypeLabel(ref.Type) + " #" + itoa(ref.ID)}
	switch {
	case ref.Type == models.AuditPatient && l.patients[ref.ID]:
		c.Href = l.prefix + "/patients/" + itoa(ref.ID)
	case ref.Type == models.AuditMapping && l.mappings[ref.ID]:
		c.Href = l.prefix + "/mappings/" + itoa(ref.ID)
	case ref.Type == models.AuditUser && l.users[ref.ID] != nil:
		c.Href = l.prefix + "/users/" + itoa(ref.ID)
	case ref.Type == models.AuditPatient || ref.Type == models.AuditMapping:
		c.Text += " (deleted)"
	}
	return c
}

func recordTypeLabel(t string) string {
	switch t {
	case models.AuditPatient:
		return "Patient"
	case models.AuditMapping:
		return "Assignment"
	case models.AuditUser:
		return "User"
	}
	return t
}

func actionLabel(a models.AuditAction) string {
	if a == models.AuditSignOutAll {
		return "Sign out everywhere"
	}
	s := strings.ReplaceAll(string(a), "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func actionCell(a models.AuditAction) cell {
	c := cell{Text: actionLabel(a)}
	switch a {
	case models.AuditCreate, models.AuditUpdate, models.AuditLogin, models.AuditAccountCreated, models.AuditAccountActivated:
		c.Badge = "ok"
	case models.AuditDelete, models.AuditLoginFailed, models.AuditTokenReuse, models.AuditPasswordChangeFailed,
		models.AuditAccountDeactivated, models.AuditSuperuserGranted, models.AuditSuperuserRevoked,
		models.AuditPasswordReset, models.AuditSignOutAll:
		c.Badge = "warn"
	}
	return c
}

// shortCell shows s cut to n characters, the whole of it in the title.
func shortCell(s string, n int, code bool) cell {
	c := cell{Text: truncate(s, n), Code: code && s != ""}
	if c.Text != s {
		c.Title = s
	}
	return c
}

// hashCell shows the start of an event's chain hash, or that it is not
// sealed yet.
func hashCell(h *string) cell {
	if h == nil {
		return cell{Text: "Unsealed", Badge: "off"}
	}
	return cell{Text: (*h)[:min(8, len(*h))] + "…", Code: true, Title: *h}
}
