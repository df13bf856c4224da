package djangoimport_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcare/audit"
	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/djangoimport"
	"healthcare/models"
)

// TestImportScale seeds a Django-shaped PostgreSQL database with
// DJANGO_IMPORT_SCALE generated patients (plus one user per 1,000 of them,
// 200 doctors and a mapping for every tenth patient) through COPY, imports
// it into a fresh database of ours and reports the time, the rate and the
// peak memory. It runs only when DJANGO_IMPORT_SCALE and TEST_DATABASE_URL
// are set:
//
//	DJANGO_IMPORT_SCALE=1000000 TEST_DATABASE_URL=postgres://... \
//	  go test ./djangoimport/ -run TestImportScale -v -timeout 30m
//
// At 1,000,000 patients or more it fails if the import takes over 5
// minutes per million.
func TestImportScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DJANGO_IMPORT_SCALE"))
	if n <= 0 {
		t.Skip("set DJANGO_IMPORT_SCALE (patients) and TEST_DATABASE_URL to run the import at scale")
	}
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("TEST_DATABASE_URL is not set: the scale test imports from and into PostgreSQL")
	}
	ctx := context.Background()
	c := testCipher(t)
	src := newDjangoDB(t, dbtest.Postgres)
	users, doctors, mappings := max(1, n/1000), 200, n/10

	seedStart := time.Now()
	conn, err := pgx.Connect(ctx, src.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	hash := djangoHash(t, "pbkdf2_sha256", ashaPassword)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	seed(t, conn, "authentication_user", userCols, users, func(i int) []any {
		return []any{int64(i + 1), hash, nil, i == 0, fmt.Sprintf("user%d@clinic.example", i+1), fmt.Sprintf("User %d", i+1), true, i == 0, base}
	})
	specs := []string{"CARDIOLOGY", "NEUROLOGY", "ENT", "PEDIATRICS", "DENTISTRY", "ONCOLOGY"}
	seed(t, conn, "doctors_doctor", doctorCols, doctors, func(i int) []any {
		id := int64(i + 1)
		return []any{id, "Doc", fmt.Sprintf("Tor%d", id), fmt.Sprintf("doc%d@hospital.example", id), fmt.Sprintf("+9198%08d", id), nil, "F",
			specs[i%len(specs)], "MBBS", fmt.Sprintf("LIC%06d", id), int64(i % 40), "", "", "Mumbai", "", "", "", float64(i%50) * 100.5,
			"", "", "", "", true, base, base, int64(1 + i%users)}
	})
	firsts := []string{"Asha", "Ravi", "Meera", "Dev", "Noor", "Kiran", "Sita", "Arjun"}
	bloods := []string{"A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-", ""}
	genders := []string{"M", "F", "O"}
	seed(t, conn, "patients_patient", patientCols, n, func(i int) []any {
		id := int64(i + 1)
		med := [3]string{}
		if i%3 == 0 {
			med = [3]string{fmt.Sprintf("History of patient %d: hypertension, type 2 diabetes.", id), "Penicillin", "Metformin 500 mg"}
		}
		created := base.Add(time.Duration(i) * time.Second)
		return []any{id, firsts[i%len(firsts)], fmt.Sprintf("Patient%d", id), fmt.Sprintf("p%d@example.com", id),
			fmt.Sprintf("+91%010d", 9000000000+i), base.AddDate(-20-i%60, 0, -(i % 365)), genders[i%3], bloods[i%len(bloods)],
			"12 MG Road", "Mumbai", "MH", "400001", "India", med[0], med[1], med[2], "Kin Name", "+919812345678", "Sibling",
			i%10 != 0, created, created, int64(1 + i%users)}
	})
	seed(t, conn, "mappings_patientdoctormapping", mappingCols, mappings, func(i int) []any {
		id := int64(i + 1)
		statuses := []string{"ACTIVE", "INACTIVE", "COMPLETED"}
		patient := int64(i*10 + 1)
		return []any{id, "Follow-up", "", statuses[i%3], base, base, nil, int64(1 + i%doctors), patient}
	})
	for _, tbl := range []string{"authentication_user", "doctors_doctor", "patients_patient", "mappings_patientdoctormapping"} {
		if _, err := conn.Exec(ctx, "ANALYZE "+tbl); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seeded %d users, %d doctors, %d patients, %d mappings in %s", users, doctors, n, mappings, time.Since(seedStart).Round(time.Millisecond))

	target, err := database.Open(ctx, database.Config{URL: dbtest.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	s, err := djangoimport.OpenSource(ctx, src.url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Peak memory: sampled from the runtime while the import runs.
	var peakHeap, peakSys atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			if ms.Sys > peakSys.Load() {
				peakSys.Store(ms.Sys)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	var progress strings.Builder
	im := &djangoimport.Importer{Source: s, Target: target, Sealer: c, Audit: audit.Imports{Trail: audit.New(target, nil), Run: "scale"},
		Options: djangoimport.Options{Progress: &progress, OnProblem: func(p djangoimport.Problem) {}}}
	var load1 [3]float64
	readLoad(&load1)
	start := time.Now()
	rep, err := im.Run(ctx)
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var load2 [3]float64
	readLoad(&load2)
	t.Logf("import progress:\n%s", progress.String())
	var total int64
	for _, tr := range rep.Tables {
		total += tr.Written
		t.Logf("%-30s %8d rows in %8s (%.0f rows/s), %d refused, %d notes", tr.Table, tr.Written, tr.Elapsed.Round(time.Millisecond),
			float64(tr.Read)/tr.Elapsed.Seconds(), tr.Refused, tr.Notes)
		if tr.Refused != 0 || tr.Written != tr.Total {
			t.Errorf("%s: %+v", tr.Table, tr)
		}
	}
	t.Logf("import of %d rows (%d patients) took %s; peak Go heap in use %d MiB, peak memory from the OS %d MiB (max RSS of the test process, seeding included: %d MiB); load average %.2f before, %.2f after; %d CPUs",
		total, n, elapsed.Round(time.Millisecond), peakHeap.Load()>>20, peakSys.Load()>>20, ru.Maxrss>>10, load1[0], load2[0], runtime.NumCPU())
	// Import events name every row they cover: count the records named.
	var named int64
	rows, err := target.QueryContext(ctx, "SELECT records FROM audit_events WHERE action = 'import'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			t.Fatal(err)
		}
		named += int64(len(models.Records(rec).Refs()))
	}
	rows.Close()
	if named != total {
		t.Errorf("import events name %d records, rows %d", named, total)
	}
	if n >= 1_000_000 && elapsed > time.Duration(float64(5*time.Minute)*float64(n)/1e6) {
		t.Errorf("the import took %s: over 5 minutes per million patients", elapsed)
	}
}

// seed fills table with n generated rows through COPY.
func seed(t *testing.T, conn *pgx.Conn, table, cols string, n int, row func(i int) []any) {
	t.Helper()
	names := strings.Split(strings.ReplaceAll(cols, " ", ""), ",")
	i := 0
	got, err := conn.CopyFrom(context.Background(), pgx.Identifier{table}, names, pgx.CopyFromFunc(func() ([]any, error) {
		if i >= n {
			return nil, nil
		}
		i++
		return row(i - 1), nil
	}))
	if err != nil || got != int64(n) {
		t.Fatalf("seed %s: %d rows, %v", table, got, err)
	}
	if _, err := conn.Exec(context.Background(), fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), %d)", table, max(n, 1))); err != nil {
		t.Fatal(err)
	}
}

// readLoad reads the 1, 5 and 15 minute load averages (Linux).
func readLoad(out *[3]float64) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		out[i], _ = strconv.ParseFloat(f[i], 64)
	}
}
