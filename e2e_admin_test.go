package main

// Browser end-to-end tests of the admin console and the GraphQL playground,
// in headless Chromium driven by chromedp, against the full router. They
// skip when no Chromium is installed, unless CI=true: then they fail.
// .ci/e2e installs Chromium and runs them.
//
// With ADMIN_SCREENSHOTS=dir set, they also save the screenshots that
// docs/admin/README.md shows (ADMIN_SCREENSHOTS=$PWD/docs/admin go test
// -run TestE2E .).

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"healthcare/models"
)

const (
	e2eEmail    = "admin@clinic.example"
	e2ePassword = "Quiet-Harbor-4821"
)

// chromiumPath finds Debian's Chromium, or skips (fails under CI=true).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but Chromium is not installed (apt-get install -y chromium; .ci/e2e does it)")
	}
	t.Skip("Chromium is not installed; skipping the browser tests (apt-get install -y chromium)")
	return ""
}

// mustE2EServer serves the whole application over a fresh SQLite database,
// with a superuser.
func mustE2EServer(t *testing.T) (*httptest.Server, *app) {
	t.Helper()
	ctx := context.Background()
	cfg := &config{
		Host: "127.0.0.1", Port: 0,
		SecretKey:      "e2e-secret-key-0123456789-abcdefghijklmnopqrstuv",
		SQLitePath:     filepath.Join(t.TempDir(), "e2e.db"),
		AccessTTL:      time.Hour,
		RefreshTTL:     24 * time.Hour,
		MaxBodyBytes:   1 << 20,
		RequestTimeout: 30 * time.Second,
		LogFormat:      "text",
		LogLevel:       slog.LevelWarn,
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := open(ctx, cfg, log, true)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { a.db.Close() })
	if _, err := a.auth.CreateSuperuser(ctx, models.RegisterInput{
		Name: "Front Desk", Email: e2eEmail, Password: e2ePassword, PasswordConfirm: e2ePassword,
	}); err != nil {
		t.Fatalf("create superuser: %v", err)
	}
	srv := httptest.NewServer(a.routes())
	t.Cleanup(srv.Close)
	return srv, a
}

// mustBrowser starts headless Chromium with a fresh profile and no way to
// reach any host but the test server's (127.0.0.1).
func mustBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// screenshot saves a full-page PNG as dir/name when ADMIN_SCREENSHOTS=dir.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("ADMIN_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// b wraps a browser tab with steps that fail the test.
type b struct {
	t   *testing.T
	ctx context.Context
	url string
}

func (b *b) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *b) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.url + path))
}

// submit clicks a button and waits for the page it leads to.
func (b *b) submit(sel string) {
	b.t.Helper()
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("submit %s: %v", sel, err)
	}
}

func (b *b) fill(fields map[string]string) {
	b.t.Helper()
	for id, v := range fields {
		b.do(chromedp.SetValue(chromedp.ID(id), v))
	}
}

func (b *b) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *b) wantText(sel string, wants ...string) {
	b.t.Helper()
	got := b.text(sel)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			b.t.Fatalf("%s: %q lacks %q", sel, got, w)
		}
	}
}

func (b *b) location() *url.URL {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	u, err := url.Parse(s)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

func TestE2EAdmin(t *testing.T) {
	srv, a := mustE2EServer(t)
	ctx := mustBrowser(t, 1280, 900)
	br := &b{t: t, ctx: ctx, url: srv.URL}

	// Signing in: the console sends an anonymous visitor to the sign-in form.
	br.open("/admin/")
	br.do(chromedp.WaitVisible(chromedp.ID("f-email")))
	if p := br.location().Path; p != "/admin/login" {
		t.Fatalf("anonymous visit landed on %s", p)
	}
	screenshot(t, ctx, "login.png")
	br.do(chromedp.SendKeys(chromedp.ID("f-email"), e2eEmail), chromedp.SendKeys(chromedp.ID("f-password"), e2ePassword))
	br.submit("form button[type=submit]")
	br.wantText("main h1", "Dashboard")
	br.wantText(".who-name", e2eEmail)

	// A doctor.
	br.open("/admin/doctors/new")
	br.fill(map[string]string{
		"f-first_name": "Priya", "f-last_name": "Nair", "f-email": "priya.nair@clinic.example",
		"f-phone": "+919812345678", "f-specialization": "CARDIOLOGY", "f-qualification": "MBBS, MD (Cardiology)",
		"f-license_number": "MH-2011-4471", "f-experience_years": "14", "f-consultation_fee": "800",
		"f-city": "Mumbai", "f-clinic_name": "Harbour Heart Clinic", "f-available_days": "Mon–Fri",
	})
	br.submit("form.edit button[type=submit]")
	br.wantText(".notice", "Created.")
	br.wantText("main h1", "Dr. Priya Nair")
	doctorPath := br.location().Path

	// A patient.
	br.open("/admin/patients/new")
	br.fill(map[string]string{
		"f-first_name": "Rahul", "f-last_name": "Mehta", "f-date_of_birth": "1978-03-09", "f-gender": "M",
		"f-blood_group": "B+", "f-phone": "+919876500011", "f-email": "rahul.mehta@example.com", "f-city": "Pune",
		"f-allergies": "Penicillin",
	})
	br.submit("form.edit button[type=submit]")
	br.wantText(".notice", "Created.")
	br.wantText("main h1", "Rahul Mehta")
	patientPath := br.location().Path

	// Assigning the doctor from the patient's page.
	doctorID := doctorPath[strings.LastIndex(doctorPath, "/")+1:]
	br.do(chromedp.SetValue(chromedp.ID("f-doctor"), doctorID), chromedp.SetValue(chromedp.ID("f-reason"), "Hypertension follow-up"))
	br.submit(`form[action$="/assign"] button[type=submit]`)
	br.wantText(".notice", "Doctor assigned.")
	br.wantText("#doctors", "Doctors (1)", "Dr. Priya Nair", "Hypertension follow-up")

	// The doctor's page lists the patient.
	br.open(doctorPath)
	br.wantText("#patients", "Patients assigned (1)", "Rahul Mehta")
	screenshot(t, ctx, "doctor-detail.png")

	// Editing the patient with one invalid field: the error shows beside the
	// field, keyboard focus moves to the error summary, nothing is saved.
	br.open(patientPath)
	br.do(chromedp.SetValue(chromedp.ID("f-phone"), "98765"))
	br.submit("form.edit button[type=submit]")
	br.wantText("#f-phone-err", "Enter a valid phone number in international format")
	br.wantText(".error-summary", "There is a problem", "Phone")
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.classList.contains('error-summary')`))
	if err != nil || !focused {
		t.Fatalf("error summary not focused (%v)", err)
	}
	invalid, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('f-phone').getAttribute('aria-invalid')`))
	if err != nil || invalid != "true" {
		t.Fatalf("phone not marked invalid: %q %v", invalid, err)
	}
	screenshot(t, ctx, "patient-edit-error.png")
	br.open(patientPath)
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("f-phone"))); v != "+919876500011" {
		t.Fatalf("invalid phone was saved: %q", v)
	}

	// Unassigning: the link leads to a confirmation page, then back.
	br.submit(`#doctors a[href*="/delete"]`)
	br.wantText("main h1", "Remove Dr. Priya Nair from Rahul Mehta?")
	br.submit("form button.danger")
	br.wantText(".notice", "Assignment removed.")
	br.wantText("#doctors", "Doctors (0)", "No doctor is assigned yet.")
	if p := br.location().Path; p != patientPath {
		t.Fatalf("after unassigning: %s, want %s", p, patientPath)
	}

	// The audit trail: what was just done, newest first, each record linked
	// while it exists; the chain box seals and verifies the trail.
	patientID := patientPath[strings.LastIndex(patientPath, "/")+1:]
	br.open("/admin/audit")
	br.wantText("main h1", "Audit trail")
	br.wantText("table.list tbody", "Delete", "Assignment #", "(deleted)", "Create", "Patient #"+patientID, "Read", "Login", e2eEmail)
	br.submit(".chain button[type=submit]")
	br.wantText(".chain-result", "Intact")
	br.wantText(".chain-facts", "Head position", "Head hash")
	screenshot(t, ctx, "audit.png")
	// Filtering with the form: the removal of the assignment.
	br.do(chromedp.SetValue(chromedp.ID("f-action"), "delete"))
	br.submit("form.filters button[type=submit]")
	br.wantText(".summary", "1 event matching")
	br.wantText("table.list tbody", "Delete", "Assignment #")
	br.submit(`table.list tbody a[href*="/users/"]`)
	br.wantText("main h1", "Front Desk")

	// The list: a few more patients, then a filter.
	seedPatients(t, a)
	br.open("/admin/patients")
	br.wantText(".summary", "9 patients")
	// Sorting by a column from the keyboard: the header is a link.
	br.do(chromedp.Focus(chromedp.CSS(`th a.sort[href$="sort=name"]`)))
	if _, err := chromedp.RunResponse(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatalf("sort by name: %v", err)
	}
	br.wantText(`th[aria-sort="ascending"]`, "NAME") // upper case in CSS
	br.wantText("table.list tbody tr:first-child", "Sara D'Souza")
	br.wantText("table.list tbody tr:last-child", "Vikram Singh")
	screenshot(t, ctx, "patients-list.png")
	if os.Getenv("ADMIN_SCREENSHOTS") != "" {
		// The same page on a tablet held upright.
		br.do(chromedp.EmulateViewport(820, 1180))
		br.open(patientPath)
		screenshot(t, ctx, "patient-tablet.png")
		br.do(chromedp.EmulateViewport(1280, 900))
	}
	br.open("/admin/patients?search=rahul")
	br.wantText(".summary", "1 patient")
	br.wantText("table.list tbody", "Rahul Mehta", "Pune")

	// Signing out.
	br.submit(".who button[type=submit]")
	br.wantText(".notice", "You have signed out.")
	br.open("/admin/patients")
	br.do(chromedp.WaitVisible(chromedp.ID("f-password")))
}

// seedPatients adds patients through the store, as the superuser.
func seedPatients(t *testing.T, a *app) {
	t.Helper()
	u, err := a.store.Users.ByEmail(context.Background(), e2eEmail)
	if err != nil {
		t.Fatal(err)
	}
	v := models.Viewer{UserID: u.ID, Superuser: true}
	for i, p := range []struct{ first, last, dob, gender, city, phone string }{
		{"Ananya", "Iyer", "1991-07-14", "F", "Chennai", "+919840011122"},
		{"Farhan", "Qureshi", "1985-11-02", "M", "Hyderabad", "+919849022233"},
		{"Lakshmi", "Pillai", "1956-02-21", "F", "Kochi", "+919847033344"},
		{"Arjun", "Reddy", "2001-09-30", "M", "Bengaluru", "+919845044455"},
		{"Sara", "D'Souza", "1979-05-05", "F", "Goa", "+919822055566"},
		{"Vikram", "Singh", "1968-12-12", "M", "Jaipur", "+919829066677"},
		{"Meera", "Joshi", "1995-03-18", "F", "Pune", "+919823077788"},
		{"Kabir", "Khan", "2012-08-25", "O", "Delhi", "+919811088899"},
	} {
		dob, _ := models.ParseDate(p.dob)
		g := models.Gender(p.gender)
		active := i != 5
		city := p.city
		if _, err := a.store.Patients.Create(context.Background(), v, models.PatientInput{
			FirstName: &p.first, LastName: &p.last, DateOfBirth: &dob, Gender: &g, City: &city, Phone: &p.phone, IsActive: &active,
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestE2EPlayground(t *testing.T) {
	srv, _ := mustE2EServer(t)
	ctx := mustBrowser(t, 1440, 900)

	// Cut the network: only the test server may be reached. The resolver
	// rule in mustBrowser already fails every other host name; this also
	// blocks every URL not on the server, and records every request.
	var mu sync.Mutex
	var offsite []string
	var exceptions []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			u := e.Request.URL
			if !strings.HasPrefix(u, srv.URL+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") && !strings.HasPrefix(u, "about:") {
				offsite = append(offsite, u)
			}
		case *network.EventWebSocketCreated:
			if !strings.HasPrefix(e.URL, "ws://"+strings.TrimPrefix(srv.URL, "http://")+"/") {
				offsite = append(offsite, e.URL)
			}
		case *runtime.EventExceptionThrown:
			exceptions = append(exceptions, (&chromedp.ExceptionError{ExceptionDetails: e.ExceptionDetails}).Error())
		}
	}); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{
		{URLPattern: "http://" + host + "/*", Block: false},
		{URLPattern: "ws://" + host + "/*", Block: false},
		{URLPattern: "*://*:*/*", Block: true},
	}}); err != nil {
		t.Fatal(err)
	}

	// The SDL it reads is public, by GET and by POST (graphql-inspector
	// fetches a .graphql URL by POST).
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, srv.URL+"/graphql/schema.graphql", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "type Query {") {
			t.Fatalf("%s /graphql/schema.graphql: %d %.200s", method, resp.StatusCode, body)
		}
	}

	// With the defaults (introspection needs a token) the page reads the
	// schema from /graphql/schema.graphql: the docs list Query's fields
	// before anyone signs in.
	br := &b{t: t, ctx: ctx, url: srv.URL}
	br.open("/graphql")
	br.do(chromedp.WaitVisible(chromedp.CSS(".graphiql-container")), chromedp.WaitVisible(chromedp.CSS(".graphiql-execute-button")))
	br.do(chromedp.Click(chromedp.CSS(`[aria-label="Show Documentation Explorer"]`)))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector('.graphiql-doc-explorer-content a.graphiql-doc-explorer-type-name')`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the docs explorer shows no root type (no schema): %v", err)
	}
	br.do(chromedp.Click(chromedp.CSS(`.graphiql-doc-explorer-content a.graphiql-doc-explorer-type-name`)))
	docs, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(() => { const d = document.querySelector('.graphiql-doc-explorer'); const s = d ? d.innerText : ''; return s.includes('patients') ? s : false })()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("the docs explorer does not list patients: %v", err)
	}
	for _, want := range []string{"Query", "doctors", "mappings", "The viewer's patients"} {
		if !strings.Contains(docs, want) {
			t.Fatalf("docs explorer: %q lacks %q", docs, want)
		}
	}

	// Autocompletion knows the schema too: typing in the query editor
	// offers patients.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
		window.pgSaved = cm.getValue(); cm.setValue('{ pa'); cm.focus(); cm.setCursor({line: 0, ch: 4}); return true })()`)); err != nil {
		t.Fatal(err)
	}
	br.do(chromedp.SendKeys(chromedp.CSS(".graphiql-query-editor textarea"), "t"))
	if _, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(() => { const h = document.querySelector('.CodeMirror-hints'); const s = h ? h.innerText : ''; return s.includes('patients') ? s : false })()`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("no completion offers patients: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
		cm.setValue(window.pgSaved); return true })()`)); err != nil {
		t.Fatal(err)
	}

	// Signing in through the playground fills the Headers editor with the
	// bearer token, and the default query (patients) then runs.
	br.do(chromedp.Click(chromedp.CSS(`[aria-label="Show Sign in"]`)))
	br.do(chromedp.WaitVisible(chromedp.CSS(`.pg-panel input[type=email]`)))
	br.do(chromedp.SendKeys(chromedp.CSS(`.pg-panel input[type=email]`), e2eEmail),
		chromedp.SendKeys(chromedp.CSS(`.pg-panel input[type=password]`), e2ePassword),
		chromedp.Click(chromedp.CSS(`.pg-panel button[type=submit]`)))
	headers, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(() => { const s = Array.from(document.querySelectorAll('.graphiql-editor-tool .CodeMirror')).map(e => e.CodeMirror.getValue()).join('\n'); return s.includes('Bearer ') ? s : false })()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("the Headers editor got no token after signing in: %v", err)
	}
	if !strings.Contains(headers, `"Authorization": "Bearer ey`) {
		t.Fatalf("headers %q", headers)
	}
	br.wantText(".pg-panel", "Signed in", "Front Desk")
	// Two patients of this account, so the query has something to show.
	for _, first := range []string{"Asha", "Vikram"} {
		mustGraphQL(t, srv.URL, token(t, srv.URL), `mutation($in: PatientInput!) { createPatient(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"firstName": first, "lastName": "Rao", "phone": "+919876543210", "dateOfBirth": "1990-05-15", "gender": "F", "bloodGroup": "A_POS", "city": "Mumbai",
		}})
	}
	br.do(chromedp.Click(chromedp.CSS(".graphiql-execute-button")))
	got, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(() => { const r = document.querySelector('.result-window'); const s = r ? r.innerText : ''; return s.includes('totalCount') ? s : false })()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("no result: %v", err)
	}
	if strings.Contains(got, `"errors"`) {
		t.Fatalf("result %q", got)
	}
	br.do(chromedp.Click(chromedp.CSS(`[aria-label="Show Documentation Explorer"]`)))
	br.do(chromedp.WaitVisible(chromedp.CSS(".graphiql-doc-explorer")))
	screenshot(t, ctx, "playground.png")

	// A subscription runs live over the websocket, authenticated by the
	// token in the Headers tab: a change made elsewhere shows up.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
		cm.setValue('subscription Assignments {\n  mappingChanged {\n    op\n    mappingId\n    mapping {\n      status\n      reason\n      patient { fullName }\n      doctor { fullName specialization }\n    }\n  }\n}\n'); return true })()`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // GraphiQL re-reads the operation's name
	br.do(chromedp.Click(chromedp.CSS(".graphiql-execute-button")))
	time.Sleep(time.Second) // the socket opens and the subscription starts
	tok := token(t, srv.URL)
	pid := mustGraphQL(t, srv.URL, tok, `{ patients(first: 1) { nodes { id } } }`, nil)["patients"].(map[string]any)["nodes"].([]any)[0].(map[string]any)["id"]
	did := mustGraphQL(t, srv.URL, tok, `mutation { createDoctor(input: {firstName: "Rajesh", lastName: "Kumar", email: "dr.rajesh@hospital.com", phone: "+919876543220",
		specialization: CARDIOLOGY, qualification: "MBBS, MD Cardiology", licenseNumber: "MH12345", experienceYears: 15, consultationFee: 1500}) { id } }`, nil)["createDoctor"].(map[string]any)["id"]
	mustGraphQL(t, srv.URL, tok, `mutation($p: ID!, $d: ID!) { createMapping(input: {patientId: $p, doctorId: $d, reason: "Hypertension follow-up"}) { id } }`,
		map[string]any{"p": pid, "d": did})
	live, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(() => { const r = document.querySelector('.result-window'); const s = r ? r.innerText : ''; return s.includes('Hypertension follow-up') ? s : false })()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		shown, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const r = document.querySelector('.result-window'); return r ? r.innerText : 'no result window' })()`))
		t.Fatalf("the subscription showed no event: %v; the result pane shows %q", err, shown)
	}
	if !strings.Contains(live, `"op": "CREATE"`) || strings.Contains(live, `"errors"`) {
		t.Fatalf("subscription result %q", live)
	}
	screenshot(t, ctx, "playground-subscription.png")

	mu.Lock()
	defer mu.Unlock()
	if len(offsite) > 0 {
		t.Fatalf("the playground tried to reach other hosts: %v", offsite)
	}
	if len(exceptions) > 0 {
		t.Fatalf("uncaught exceptions in the playground: %v", exceptions)
	}
}

// mustGraphQL posts one operation with token and fails the test on any
// error; it returns the data.
func mustGraphQL(t *testing.T, base, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any    `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("%s: %v %s", query, err, out.Errors)
	}
	return out.Data
}

// token signs the e2e superuser in through GraphQL.
func token(t *testing.T, base string) string {
	t.Helper()
	d := mustGraphQL(t, base, "", `mutation($in: LoginInput!) { login(input: $in) { tokens { access } } }`,
		map[string]any{"in": map[string]any{"email": e2eEmail, "password": e2ePassword}})
	tok, _ := d["login"].(map[string]any)["tokens"].(map[string]any)["access"].(string)
	return tok
}
