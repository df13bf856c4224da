package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"healthcare/database/dbtest"
)

// TestImportDjangoPeer moves a real deployment of the Django reference over:
// it starts the reference on SQLite (its run.sh, Debian's Python packages),
// creates users, patients, doctors and mappings through its REST API,
// stops it, imports its database with the import-django command into a
// fresh database of ours (SQLite, and PostgreSQL when configured), serves
// ours, signs in with the Django passwords and compares every record each
// user saw in Django with what they see here, field by field, over REST and
// GraphQL.
//
// It skips when the reference or its packages are missing (.ci/django
// installs them), except with CI=true, where it fails.
func TestImportDjangoPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Django reference; not in -short")
	}
	peer := startDjangoPeer(t)
	seed := seedDjango(t, peer)
	peer.stop(t)

	for _, k := range dbtest.Kinds(t) {
		t.Run(string(k), func(t *testing.T) {
			srv, out, a := importedServer(t, k, peer.dbPath)
			if !strings.Contains(out, `doctors_doctor id=2: specialization: "ENT" is not one of ours; imported as OTHER`) ||
				!strings.Contains(out, `doctors_doctor id=4: specialization: "DENTISTRY" is not one of ours; imported as OTHER`) ||
				strings.Contains(out, " refused:") || strings.Contains(out, "refused (listed above)") {
				t.Fatalf("import output:\n%s", out)
			}
			for _, u := range seed.users {
				t.Run(strings.Split(u.email, "@")[0], func(t *testing.T) { compareUser(t, srv.URL, u) })
			}
			t.Run("hashes_upgraded_at_sign_in", func(t *testing.T) {
				for _, u := range seed.users {
					var hash string
					if err := a.db.QueryRowContext(context.Background(), "SELECT password_hash FROM users WHERE email = ?", u.email).Scan(&hash); err != nil {
						t.Fatal(err)
					}
					if !strings.HasPrefix(hash, "$argon2id$") {
						t.Errorf("%s signed in and still has the hash %.20s...", u.email, hash)
					}
				}
				// The upgraded hash still takes the Django password.
				djangoLogin(t, srv.URL, seed.users[0].email, seed.users[0].password)
			})
			t.Run("superuser_is_superuser", func(t *testing.T) {
				tok := djangoLogin(t, srv.URL, seed.root.email, seed.root.password)
				// Import events name every imported row.
				st, body := call(t, "GET", srv.URL+"/api/audit/?action=import&page_size=100", tok, nil)
				if st != 200 {
					t.Fatalf("audit as the imported superuser: %d %v", st, body)
				}
				named := 0
				for _, e := range body["data"].(map[string]any)["results"].([]any) {
					named += len(e.(map[string]any)["records"].([]any))
				}
				if named != seed.rows {
					t.Errorf("import events name %d records, want %d (every imported row)", named, seed.rows)
				}
				data := must(t, 200, "POST", srv.URL+"/graphql", tok, map[string]any{
					"query": `{ auditEvents(first: 100, filter: {action: IMPORT, recordType: "patient"}) { nodes { records { type id } } } }`})
				patients := 0
				for _, n := range lookup(data, "auditEvents.nodes").([]any) {
					for _, r := range n.(map[string]any)["records"].([]any) {
						if r.(map[string]any)["type"] == "patient" {
							patients++
						}
					}
				}
				if patients != 5 {
					t.Errorf("GraphQL: %d patients named by import events, want 5: %v", patients, data)
				}
			})
			t.Run("wrong_password_refused", func(t *testing.T) {
				st, _ := call(t, "POST", srv.URL+"/api/auth/login/", "", map[string]any{"email": seed.users[0].email, "password": seed.users[0].password + "x"})
				if st != 401 {
					t.Fatalf("wrong password: %d, want 401", st)
				}
			})
			t.Run("postman_collection_as_an_imported_user", func(t *testing.T) {
				// Carol has no records in Django: the collection runs as it
				// does for a new user, signing in with her Django password.
				u := seed.users[2]
				newman := findNewman(t)
				cmd := exec.Command(newman, "run", "postman/healthcare.postman_collection.json",
					"--environment", "postman/healthcare.postman_environment.json",
					"--env-var", "base_url="+srv.URL+"/api", "--env-var", "import_email="+u.email,
					"--env-var", "import_password="+u.password, "--color", "off")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("newman as the imported %s: %v\n%s", u.email, err, out)
				}
				if !strings.Contains(string(out), "status is 400 (imported account exists)") {
					t.Fatalf("the collection did not run as the imported account:\n%s", out)
				}
			})
			t.Run("new_records_get_new_ids", func(t *testing.T) {
				u := seed.users[0]
				tok := djangoLogin(t, srv.URL, u.email, u.password)
				st, body := call(t, "POST", srv.URL+"/api/patients/", tok, map[string]any{
					"first_name": "New", "last_name": "After Import", "phone": "+919800000001", "date_of_birth": "2001-02-03", "gender": "M",
				})
				if st != 201 {
					t.Fatalf("create after import: %d %v", st, body)
				}
				if id, _ := body["data"].(map[string]any)["id"].(float64); int(id) <= seed.maxPatientID {
					t.Errorf("new patient id %v, want past the imported ids (%d)", id, seed.maxPatientID)
				}
			})
		})
	}
}

// djangoPeer is a running Django reference.
type djangoPeer struct {
	url    string
	dir    string
	dbPath string
	cmd    *exec.Cmd
	done   chan struct{}
	log    *bytes.Buffer
}

// djangoPackages is what run.sh needs from Debian (its README's list).
const djangoPackages = "python3-django python3-djangorestframework python3-djangorestframework-simplejwt python3-django-filters python3-django-cors-headers python3-django-graphene python3-graphene python3-graphql-core python3-graphql-relay python3-psycopg2 python3-dotenv gunicorn"

// skipOrFail skips the test, or fails it under CI=true.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: .ci/django must have installed it)", msg)
	}
	t.Skip(msg)
}

// findNewman returns the newman command: on PATH, or where .ci/newman
// installs it (NEWMAN_DIR, else ~/.cache/healthcare-newman).
func findNewman(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("newman"); err == nil {
		return p
	}
	dir := os.Getenv("NEWMAN_DIR")
	if dir == "" {
		if cache, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(cache, "healthcare-newman")
		}
	}
	p := filepath.Join(dir, "node_modules", ".bin", "newman")
	if _, err := os.Stat(p); err != nil {
		skipOrFail(t, "newman is not installed (.ci/newman install); skipping the Postman run as an imported user")
	}
	return p
}

// findDjangoPeer returns the reference's directory: DJANGO_PEER_DIR, or
// shared/peers/django beside the repository.
func findDjangoPeer(t *testing.T) string {
	t.Helper()
	cands := []string{os.Getenv("DJANGO_PEER_DIR"), "../shared/peers/django", "../../shared/peers/django"}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "run.sh")); err == nil {
			abs, _ := filepath.Abs(c)
			return abs
		}
	}
	// The reference's source is not part of this repository and nothing
	// can install it: without it the test skips, in CI too (saying so).
	// With it, missing Python packages fail in CI (.ci/django installs them).
	t.Skip("the Django reference's source is not beside the repository (set DJANGO_PEER_DIR to its directory); skipping the import test against it")
	return ""
}

func startDjangoPeer(t *testing.T) *djangoPeer {
	t.Helper()
	src := findDjangoPeer(t)
	check := exec.Command("/usr/bin/python3", "-c", `import importlib.util as u, sys
missing = [m for m in ("django", "rest_framework", "rest_framework_simplejwt", "django_filters", "corsheaders", "graphene_django", "gunicorn", "dotenv") if u.find_spec(m) is None]
sys.exit("missing Python modules: " + ", ".join(missing) if missing else 0)`)
	if out, err := check.CombinedOutput(); err != nil {
		skipOrFail(t, "the Django reference's Debian packages are missing (%v: %s); install them with .ci/django (apt-get install %s)",
			err, strings.TrimSpace(string(out)), djangoPackages)
	}
	// The shared directory is read-only: run a copy.
	dir := filepath.Join(t.TempDir(), "django")
	if err := copyTree(src, dir); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := &djangoPeer{url: fmt.Sprintf("http://127.0.0.1:%d", port), dir: dir, dbPath: filepath.Join(dir, "db.sqlite3"),
		done: make(chan struct{}), log: &bytes.Buffer{}}
	p.cmd = exec.Command("bash", "run.sh", "sqlite", strconv.Itoa(port), "2")
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), "SQLITE_PATH="+p.dbPath, "SECRET_KEY=django-peer-test-secret-key-0123456789abcdefghij")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	// Its own process group, so that stopping it stops gunicorn's workers.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start the Django reference: %v", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill(syscall.SIGKILL) })
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(p.url + "/api/auth/profile/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("the Django reference exited:\n%s", p.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Django reference did not start in 90 s:\n%s", p.log)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// kill signals the reference's process group (the one this test started).
func (p *djangoPeer) kill(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// stop stops the reference and waits until it has, so its database file is
// complete before the import reads it.
func (p *djangoPeer) stop(t *testing.T) {
	t.Helper()
	p.kill(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill(syscall.SIGKILL)
		<-p.done
	}
}

// manage runs the reference's manage.py against its database.
func (p *djangoPeer) manage(t *testing.T, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", append([]string{"manage.py"}, args...)...)
	cmd.Dir = p.dir
	cmd.Env = append(append(os.Environ(), "DB_ENGINE=sqlite", "SQLITE_PATH="+p.dbPath, "PYTHONDONTWRITEBYTECODE=1"), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("manage.py %v: %v\n%s", args, err, out)
	}
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() && d.Name() == "__pycache__" || strings.HasPrefix(d.Name(), "db.sqlite3") || d.Name() == ".env" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm()|0o200)
	})
}

// call sends a JSON request and decodes the JSON answer.
func call(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %s", method, url, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

// must sends a request that must answer want; it returns the envelope's data.
func must(t *testing.T, want int, method, url, token string, body any) map[string]any {
	t.Helper()
	st, out := call(t, method, url, token, body)
	if st != want {
		t.Fatalf("%s %s: %d, want %d: %v", method, url, st, want, out)
	}
	data, _ := out["data"].(map[string]any)
	return data
}

func djangoLogin(t *testing.T, base, email, password string) string {
	t.Helper()
	data := must(t, 200, "POST", base+"/api/auth/login/", "", map[string]any{"email": email, "password": password})
	tok, _ := data["tokens"].(map[string]any)["access"].(string)
	if tok == "" {
		t.Fatalf("login %s: no token in %v", email, data)
	}
	return tok
}

// djangoUser is an account made in the reference, with what it saw there.
type djangoUser struct {
	email, password string
	patients        []map[string]any
	doctors         []map[string]any
	mappings        []map[string]any
}

type djangoSeed struct {
	users        []*djangoUser
	root         *djangoUser
	rows         int // users, doctors, patients and mappings in all
	maxPatientID int
}

// seedDjango fills the reference through its REST API and records what
// each user then sees there.
func seedDjango(t *testing.T, p *djangoPeer) *djangoSeed {
	t.Helper()
	api := p.url + "/api"
	s := &djangoSeed{}
	register := func(name, email, password string) (*djangoUser, string) {
		data := must(t, 201, "POST", api+"/auth/register/", "", map[string]any{"name": name, "email": email, "password": password, "password_confirm": password})
		u := &djangoUser{email: strings.ToLower(email), password: password}
		s.users = append(s.users, u)
		return u, data["tokens"].(map[string]any)["access"].(string)
	}
	_, alice := register("Alice Verma", "alice@clinic.example", "Sunlit-Harbor-2024!")
	_, bob := register("Bob Iyer", "Bob.Iyer@Clinic.Example", "Quiet+Meadow_77")
	register("Carol Das", "carol@clinic.example", "Velvet#Orchid!93")
	// A superuser, made as Django makes them (its REST API cannot).
	root := &djangoUser{email: "root@clinic.example", password: "Granite-Falcon-551"}
	p.manage(t, []string{"DJANGO_SUPERUSER_PASSWORD=" + root.password, "DJANGO_SUPERUSER_NAME=Clinic Root"},
		"createsuperuser", "--noinput", "--email", root.email)
	s.root = root

	patient := func(tok string, body map[string]any) int {
		data := must(t, 201, "POST", api+"/patients/", tok, body)
		id := int(data["id"].(float64))
		s.maxPatientID = max(s.maxPatientID, id)
		return id
	}
	p1 := patient(alice, map[string]any{
		"first_name": "Asha", "last_name": "Rao", "email": "asha.rao@example.com", "phone": "+919876543210",
		"date_of_birth": "1990-05-15", "gender": "F", "blood_group": "A+", "address": "12 MG Road\nFlat 4", "city": "Mumbai",
		"state": "Maharashtra", "postal_code": "400001", "country": "India",
		"medical_history": "Hypertension since 2019; family history of diabetes.\nNo surgeries.",
		"allergies":       "Penicillin, peanuts", "current_medications": "Amlodipine 5 mg once daily",
		"emergency_contact_name": "Ravi Rao", "emergency_contact_phone": "+919812345678", "emergency_contact_relation": "Brother",
	})
	p2 := patient(alice, map[string]any{
		"first_name": "Kiran", "last_name": "Mehta", "email": "kiran@example.com", "phone": "+14155550123",
		"date_of_birth": "1984-11-30", "gender": "M", "is_active": false,
	})
	p3 := patient(alice, map[string]any{
		"first_name": "Noor", "last_name": "Khan", "email": "noor@example.com", "phone": "+447700900123",
		"date_of_birth": "2015-02-28", "gender": "O", "blood_group": "AB-", "allergies": "Latex ✓ (ünïcode)",
	})
	must(t, 200, "PATCH", fmt.Sprintf("%s/patients/%d/", api, p3), alice, map[string]any{"city": "Pune"})
	p4 := patient(bob, map[string]any{
		"first_name": "Meera", "last_name": "Iyer", "email": "meera@example.com", "phone": "+919900112233",
		"date_of_birth": "1972-07-04", "gender": "F", "blood_group": "O+", "medical_history": "Asthma",
	})
	patient(bob, map[string]any{
		"first_name": "Dev", "last_name": "Patel", "email": "dev@example.com", "phone": "+919900112234",
		"date_of_birth": "1999-01-01", "gender": "M", "blood_group": "B-",
	})

	doctor := func(tok string, body map[string]any) int {
		data := must(t, 201, "POST", api+"/doctors/", tok, body)
		return int(data["id"].(float64))
	}
	d1 := doctor(alice, map[string]any{
		"first_name": "Rajesh", "last_name": "Kumar", "email": "dr.rajesh@hospital.com", "phone": "+919876543220",
		"date_of_birth": "1975-03-10", "gender": "M", "specialization": "CARDIOLOGY", "qualification": "MBBS, MD Cardiology",
		"license_number": "MH12345", "experience_years": 15, "clinic_name": "Heart Care", "clinic_address": "5 Marine Drive",
		"city": "Mumbai", "state": "Maharashtra", "postal_code": "400002", "country": "India", "consultation_fee": "1500.00",
		"available_days": "Mon-Fri", "available_time": "10:00-17:00", "bio": "Interventional cardiologist.", "languages_spoken": "English, Hindi, Marathi",
	})
	// ENT and DENTISTRY are the reference's, not ours: imported as OTHER.
	d2 := doctor(alice, map[string]any{
		"first_name": "Kavya", "last_name": "Nair", "email": "kavya@hospital.com", "phone": "+919876543221",
		"specialization": "ENT", "qualification": "MBBS, MS ENT", "license_number": "KA778", "experience_years": 8, "consultation_fee": "750.50",
	})
	d3 := doctor(bob, map[string]any{
		"first_name": "Arjun", "last_name": "Sen", "email": "arjun@hospital.com", "phone": "+919876543222", "gender": "M",
		"specialization": "NEUROLOGY", "qualification": "DM Neurology", "license_number": "WB9001", "experience_years": 0,
		"consultation_fee": "0", "is_available": false,
	})
	d4 := doctor(bob, map[string]any{
		"first_name": "Lata", "last_name": "Rao", "email": "lata@hospital.com", "phone": "+919876543223", "gender": "F",
		"date_of_birth": "1988-08-08", "specialization": "DENTISTRY", "qualification": "BDS", "license_number": "KA1234",
		"experience_years": 10, "consultation_fee": "300.25",
	})

	mapping := func(tok string, body map[string]any) int {
		data := must(t, 201, "POST", api+"/mappings/", tok, body)
		return int(data["id"].(float64))
	}
	mapping(alice, map[string]any{"patient": p1, "doctor": d1, "reason": "Hypertension follow-up"})
	mapping(alice, map[string]any{"patient": p1, "doctor": d2, "status": "INACTIVE", "notes": "Referred elsewhere"})
	mapping(alice, map[string]any{"patient": p2, "doctor": d3, "status": "COMPLETED", "reason": "Migraine", "notes": "Resolved"})
	mapping(bob, map[string]any{"patient": p4, "doctor": d1, "reason": "Chest pain"})
	m5 := mapping(bob, map[string]any{"patient": p4, "doctor": d4, "status": "COMPLETED"})
	must(t, 200, "PATCH", fmt.Sprintf("%s/mappings/detail/%d/", api, m5), bob, map[string]any{"status": "INACTIVE", "reason": "Moved away"})

	// What each user sees in Django.
	for _, u := range s.users {
		tok := djangoLogin(t, p.url, u.email, u.password)
		u.patients = results(t, api+"/patients/?page_size=100", tok)
		u.doctors = results(t, api+"/doctors/?page_size=100", tok)
		u.mappings = results(t, api+"/mappings/?page_size=100", tok)
	}
	s.rows = 4 + 5 + 4 + 5 // users (with root), patients, doctors, mappings
	return s
}

// results reads one page of a list endpoint (large enough for everything).
func results(t *testing.T, url, tok string) []map[string]any {
	t.Helper()
	data := must(t, 200, "GET", url, tok, nil)
	var out []map[string]any
	for _, r := range data["results"].([]any) {
		out = append(out, r.(map[string]any))
	}
	if n := int(data["count"].(float64)); n != len(out) {
		t.Fatalf("%s: %d of %d on the page", url, len(out), n)
	}
	return out
}

// importedServer imports the reference's database into a fresh database of
// kind k with the import-django command, and serves ours over it.
func importedServer(t *testing.T, k dbtest.Kind, djangoDB string) (*httptest.Server, string, *app) {
	t.Helper()
	ctx := context.Background()
	env := map[string]string{
		"SECRET_KEY":           "import-test-secret-key-0123456789-abcdefghijkl",
		"FIELD_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"LOG_LEVEL":            "warn",
	}
	switch k {
	case dbtest.SQLite:
		env["SQLITE_PATH"] = filepath.Join(t.TempDir(), "hc.db")
	case dbtest.Postgres:
		env["DATABASE_URL"] = dbtest.URL(t)
	}
	cfg, err := loadConfig(envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	a, err := open(ctx, cfg, quietLog(), true)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { a.db.Close() })
	var out, progress bytes.Buffer
	if err := importDjango(ctx, a, []string{"sqlite://" + djangoDB}, &out, &progress); err != nil {
		t.Fatalf("import-django: %v\n%s\n%s", err, out.String(), progress.String())
	}
	srv := httptest.NewServer(a.routes())
	t.Cleanup(srv.Close)
	return srv, out.String(), a
}

// Our spellings of the reference's values, where they differ.
var (
	gqlBlood = map[string]string{"A+": "A_POS", "A-": "A_NEG", "B+": "B_POS", "B-": "B_NEG", "AB+": "AB_POS", "AB-": "AB_NEG", "O+": "O_POS", "O-": "O_NEG"}
	// The reference's specializations that are not ours.
	otherSpecs = []string{"ENT", "NEPHROLOGY", "DENTISTRY", "GENERAL_SURGERY"}
)

// field is one field compared: its REST name in Django and here (they are
// the same but for the mapping's assigned_date), its GraphQL name, and
// how values compare.
type field struct {
	django, rest, gql string
	kind              string // text, time, number, bool, blood, spec, age
}

var (
	patientFields = fields("text:first_name text:last_name text:full_name text:email text:phone text:date_of_birth age:age "+
		"text:gender blood:blood_group text:address text:city text:state text:postal_code text:country "+
		"text:medical_history text:allergies text:current_medications text:emergency_contact_name "+
		"text:emergency_contact_phone text:emergency_contact_relation bool:is_active time:created_at time:updated_at",
		nil)
	doctorFields = fields("text:first_name text:last_name text:full_name text:email text:phone text:date_of_birth text:gender "+
		"spec:specialization text:qualification text:license_number number:experience_years text:clinic_name "+
		"text:clinic_address text:city text:state text:postal_code text:country number:consultation_fee "+
		"text:available_days text:available_time text:bio text:languages_spoken bool:is_available time:created_at time:updated_at",
		nil)
	mappingFields = fields("number:patient number:doctor text:reason text:notes text:status text:patient_name text:doctor_name "+
		"spec:doctor_specialization time:assigned_date time:updated_at",
		map[string][2]string{"assigned_date": {"created_at", "createdAt"}, "patient": {"patient", "patient.id"}, "doctor": {"doctor", "doctor.id"},
			"patient_name": {"patient_name", "patient.fullName"}, "doctor_name": {"doctor_name", "doctor.fullName"},
			"doctor_specialization": {"doctor_specialization", "doctor.specialization"}})
)

// fields reads "kind:name ..." into fields; rename gives the REST and
// GraphQL names of a field whose names are not the Django one (and its
// camelCase).
func fields(spec string, rename map[string][2]string) []field {
	var out []field
	for _, f := range strings.Fields(spec) {
		kind, name, _ := strings.Cut(f, ":")
		fl := field{django: name, rest: name, gql: camel(name), kind: kind}
		if r, ok := rename[name]; ok {
			fl.rest, fl.gql = r[0], r[1]
		}
		out = append(out, fl)
	}
	return out
}

func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

// lookup reads a dotted path ("doctor.id") from a GraphQL object.
func lookup(obj map[string]any, path string) any {
	var v any = obj
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// same compares Django's value with ours: Django's blank text is our null,
// times are compared as instants, numbers as numbers (Django's decimals are
// strings), and in GraphQL enums are spelled our way.
func same(f field, dj, ours any, gql bool) bool {
	str := func(v any) string {
		switch x := v.(type) {
		case nil:
			return ""
		case string:
			return x
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			return strconv.FormatBool(x)
		}
		return fmt.Sprint(v)
	}
	d, o := str(dj), str(ours)
	switch f.kind {
	case "time":
		td, err1 := time.Parse(time.RFC3339Nano, d)
		to, err2 := time.Parse(time.RFC3339Nano, o)
		return err1 == nil && err2 == nil && td.Equal(to)
	case "number", "age":
		nd, err1 := strconv.ParseFloat(d, 64)
		no, err2 := strconv.ParseFloat(o, 64)
		return err1 == nil && err2 == nil && math.Abs(nd-no) < 0.001
	case "blood":
		if gql && d != "" {
			d = gqlBlood[d]
		}
	case "spec":
		if slices.Contains(otherSpecs, d) {
			d = "OTHER"
		}
	}
	return d == o
}

// compareRecords checks that ours holds exactly Django's records (same
// ids, same order: newest first in both) with the same values.
func compareRecords(t *testing.T, what string, fs []field, django []map[string]any, ours []map[string]any, gql bool) {
	t.Helper()
	ids := func(rs []map[string]any) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = fmt.Sprint(r["id"])
		}
		return out
	}
	if dj, us := ids(django), ids(ours); strings.Join(dj, ",") != strings.Join(us, ",") {
		t.Errorf("%s: Django shows ids %v, ours %v", what, dj, us)
		return
	}
	for i, dr := range django {
		for _, f := range fs {
			var ov any
			if gql {
				ov = lookup(ours[i], f.gql)
			} else {
				ov = ours[i][f.rest]
			}
			if !same(f, dr[f.django], ov, gql) {
				t.Errorf("%s %v %s: Django %#v, ours %#v", what, dr["id"], f.django, dr[f.django], ov)
			}
		}
	}
}

// gqlSelection is the GraphQL selection of every compared field.
func gqlSelection(fs []field) string {
	var b strings.Builder
	b.WriteString("id")
	nested := map[string][]string{}
	for _, f := range fs {
		if head, tail, ok := strings.Cut(f.gql, "."); ok {
			nested[head] = append(nested[head], tail)
			continue
		}
		b.WriteString(" " + f.gql)
	}
	for head, tails := range nested {
		fmt.Fprintf(&b, " %s { %s }", head, strings.Join(tails, " "))
	}
	return b.String()
}

// compareUser signs in to ours with the Django password and compares what
// the user sees over REST and GraphQL with what they saw in Django.
func compareUser(t *testing.T, base string, u *djangoUser) {
	tok := djangoLogin(t, base, u.email, u.password)
	t.Run("rest", func(t *testing.T) {
		compareRecords(t, "patient", patientFields, u.patients, results(t, base+"/api/patients/?page_size=100", tok), false)
		compareRecords(t, "doctor", doctorFields, u.doctors, results(t, base+"/api/doctors/?page_size=100", tok), false)
		compareRecords(t, "mapping", mappingFields, u.mappings, results(t, base+"/api/mappings/?page_size=100", tok), false)
	})
	t.Run("graphql", func(t *testing.T) {
		login := must(t, 200, "POST", base+"/graphql", "", map[string]any{
			"query":     `mutation($in: LoginInput!) { login(input: $in) { tokens { access } } }`,
			"variables": map[string]any{"in": map[string]any{"email": u.email, "password": u.password}},
		})
		gtok, _ := lookup(login, "login.tokens.access").(string)
		if gtok == "" {
			t.Fatalf("GraphQL login: %v", login)
		}
		q := fmt.Sprintf(`{ patients(first: 100) { nodes { %s } } doctors(first: 100) { nodes { %s } } mappings(first: 100) { nodes { %s } } }`,
			gqlSelection(patientFields), gqlSelection(doctorFields), gqlSelection(mappingFields))
		st, out := call(t, "POST", base+"/graphql", gtok, map[string]any{"query": q})
		if st != 200 || out["errors"] != nil {
			t.Fatalf("GraphQL: %d %v", st, out["errors"])
		}
		nodes := func(conn string) []map[string]any {
			var rs []map[string]any
			for _, n := range lookup(out["data"].(map[string]any), conn+".nodes").([]any) {
				rs = append(rs, n.(map[string]any))
			}
			return rs
		}
		compareRecords(t, "GraphQL patient", patientFields, u.patients, nodes("patients"), true)
		compareRecords(t, "GraphQL doctor", doctorFields, u.doctors, nodes("doctors"), true)
		compareRecords(t, "GraphQL mapping", mappingFields, u.mappings, nodes("mappings"), true)
	})
}

// TestImportDjangoCommand runs the import-django command on a small
// hand-built Django database (no Python needed): its flags, its output, a
// dry run and a real one.
func TestImportDjangoCommand(t *testing.T) {
	ctx := context.Background()
	schema, err := os.ReadFile("djangoimport/testdata/django_sqlite.sql")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "db.sqlite3")
	src, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	stmts := append(strings.Split(string(schema), ";\n"),
		`INSERT INTO authentication_user VALUES (1, '!unusable', NULL, 0, 'asha@clinic.example', 'Asha Rao', 1, 0, '2026-01-05 09:00:00')`,
		`INSERT INTO doctors_doctor (id, first_name, last_name, email, phone, date_of_birth, gender, specialization, qualification, license_number, experience_years, clinic_name, clinic_address, city, state, postal_code, country, consultation_fee, available_days, available_time, bio, languages_spoken, is_available, created_at, updated_at, created_by_id)
		 VALUES (1, 'Kavya', 'Nair', 'kavya@hospital.com', '+919876543221', NULL, '', 'ENT', 'MS ENT', 'KA778', 8, '', '', '', '', '', '', 750.5, '', '', '', '', 1, '2026-01-20 12:00:00', '2026-01-20 12:00:00', 1)`,
		`INSERT INTO patients_patient (id, first_name, last_name, email, phone, date_of_birth, gender, blood_group, address, city, state, postal_code, country, medical_history, allergies, current_medications, emergency_contact_name, emergency_contact_phone, emergency_contact_relation, is_active, created_at, updated_at, created_by_id)
		 VALUES (1, 'Ravi', 'Rao', 'ravi@example.com', '9876543211', '1985-01-01', 'M', '', '', '', '', '', '', '', '', '', '', '', '', 1, '2026-02-10 08:30:00', '2026-02-10 08:30:00', 1)`,
	)
	for _, s := range stmts {
		if strings.Contains(s, "CREATE") || strings.HasPrefix(strings.TrimSpace(s), "INSERT") {
			if _, err := src.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	src.Close()
	a := testApp(t)
	source := "sqlite://" + path
	run := func(args ...string) (string, error) {
		var out, progress bytes.Buffer
		err := importDjango(ctx, a, args, &out, &progress)
		return out.String() + progress.String(), err
	}
	count := func(table string) int {
		var n int
		if err := a.db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("bad_arguments", func(t *testing.T) {
		for _, args := range [][]string{{}, {source, source}, {"--batch", "0", source}, {"--nope", source}, {"mysql://x@y/z"}, {"sqlite:///nonexistent/db.sqlite3"}} {
			if out, err := run(args...); err == nil {
				t.Errorf("import-django %v: no error\n%s", args, out)
			}
		}
	})
	t.Run("dry_run_flag_after_source", func(t *testing.T) {
		out, err := run(source, "--dry-run")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"Dry run of the import of " + path + ": nothing was written.",
			`doctors_doctor id=1: specialization: "ENT" is not one of ours; imported as OTHER`,
			"patients_patient id=1 refused: phone: Enter a valid phone number",
			"would import", "1 row was refused (listed above).",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if n := count("users"); n != 0 {
			t.Errorf("dry run wrote %d users", n)
		}
	})
	t.Run("refused_row_stops", func(t *testing.T) {
		out, err := run(source)
		if err == nil || !strings.Contains(err.Error(), "patients_patient: rows were refused") {
			t.Fatalf("err = %v\n%s", err, out)
		}
		// The tables before it are imported; running again resumes.
		if count("users") != 1 || count("doctors") != 1 || count("patients") != 0 {
			t.Errorf("users %d, doctors %d, patients %d", count("users"), count("doctors"), count("patients"))
		}
	})
	t.Run("skip_invalid", func(t *testing.T) {
		out, err := run("--skip-invalid", source)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(out, "Import of "+path) || count("patients") != 0 || count("users") != 1 {
			t.Errorf("output:\n%s", out)
		}
	})
}
