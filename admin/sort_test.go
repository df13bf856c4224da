package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
)

// wantOrder fails unless every one of texts appears in the table body of
// the page, in this order.
func wantOrder(t *testing.T, page string, texts ...string) {
	t.Helper()
	body := page
	if i, j := strings.Index(page, "<tbody>"), strings.Index(page, "</tbody>"); i >= 0 && j > i {
		body = page[i:j]
	}
	at := -1
	for _, s := range texts {
		i := strings.Index(body, s)
		if i < 0 {
			t.Fatalf("page lacks %q\n%s", s, body)
		}
		if i < at {
			t.Fatalf("%q comes before %q; want the order %q", s, texts[0], texts)
		}
		at = i
	}
}

// header returns the <th> of the list column labelled label.
func header(t *testing.T, body, label string) string {
	t.Helper()
	m := regexp.MustCompile(`<th scope="col"[^>]*>(?:<a [^>]*>)?` + regexp.QuoteMeta(label) + `(?:<span.*?)?</th>`).FindString(body)
	if m == "" {
		t.Fatalf("no column %q\n%s", label, body)
	}
	return m
}

// sortHref is the link of the column labelled label.
func sortHref(t *testing.T, body, label string) string {
	t.Helper()
	m := regexp.MustCompile(`href="([^"]*)"`).FindStringSubmatch(header(t, body, label))
	if m == nil {
		t.Fatalf("column %q does not sort", label)
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

func TestSortedLists(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		c := e.signedIn()

		// Patients, created out of name order.
		pids := map[string]string{}
		for _, p := range []struct{ first, last, dob, city, gender string }{
			{"Zara", "Khan", "1990-01-01", "Pune", "F"},
			{"Arjun", "Bose", "1970-06-15", "", "M"},
			{"Chitra", "Mehta", "2001-12-31", "Agra", "F"},
			{"Dev", "Iyer", "1985-03-03", "Delhi", "M"},
		} {
			f := patientForm(p.first, p.last)
			f.Set("date_of_birth", p.dob)
			f.Set("city", p.city)
			f.Set("gender", p.gender)
			c.get("/admin/patients/new")
			if st, body := c.post("/admin/patients/new", f); st != http.StatusOK {
				t.Fatalf("create: %d\n%s", st, body)
			}
			pids[p.first] = c.createdID()
		}

		t.Run("patients_by_name", func(t *testing.T) {
			st, body := c.get("/admin/patients")
			want(t, st, http.StatusOK, body, "4 patients")
			if h := header(t, body, "Name"); strings.Contains(h, "aria-sort") || !strings.Contains(h, `href="/admin/patients?sort=name"`) {
				t.Fatalf("unsorted name header %s", h)
			}
			st, body = c.get(sortHref(t, body, "Name"))
			want(t, st, http.StatusOK, body, "4 patients")
			wantOrder(t, body, "Arjun Bose", "Dev Iyer", "Zara Khan", "Chitra Mehta")
			if h := header(t, body, "Name"); !strings.Contains(h, `aria-sort="ascending"`) || !strings.Contains(h, "sort=-name") {
				t.Fatalf("ascending name header %s", h)
			}
			if h := header(t, body, "ID"); strings.Contains(h, "aria-sort") || !strings.Contains(h, `href="/admin/patients"`) {
				t.Fatalf("ID header while sorting by name: %s", h)
			}
			st, body = c.get(sortHref(t, body, "Name"))
			want(t, st, http.StatusOK, body, `aria-sort="descending"`)
			wantOrder(t, body, "Chitra Mehta", "Zara Khan", "Dev Iyer", "Arjun Bose")
			if h := header(t, body, "Name"); !strings.Contains(h, `href="/admin/patients?sort=name"`) {
				t.Fatalf("descending name header %s", h)
			}
			// Not sortable: phone.
			if h := header(t, body, "Phone"); strings.Contains(h, "href") {
				t.Fatalf("phone sorts: %s", h)
			}
		})

		t.Run("patients_by_date_and_city", func(t *testing.T) {
			st, body := c.get("/admin/patients?sort=date_of_birth")
			want(t, st, http.StatusOK, body)
			wantOrder(t, body, "Arjun Bose", "Dev Iyer", "Zara Khan", "Chitra Mehta")
			st, body = c.get("/admin/patients?sort=-date_of_birth")
			want(t, st, http.StatusOK, body)
			wantOrder(t, body, "Chitra Mehta", "Zara Khan", "Dev Iyer", "Arjun Bose")
			// No city sorts last, either way.
			st, body = c.get("/admin/patients?sort=city")
			want(t, st, http.StatusOK, body)
			wantOrder(t, body, "Chitra Mehta", "Dev Iyer", "Zara Khan", "Arjun Bose")
			st, body = c.get("/admin/patients?sort=-city")
			want(t, st, http.StatusOK, body)
			wantOrder(t, body, "Zara Khan", "Dev Iyer", "Chitra Mehta", "Arjun Bose")
		})

		t.Run("patients_sort_keeps_filters", func(t *testing.T) {
			st, body := c.get("/admin/patients?gender=F&page_size=10")
			want(t, st, http.StatusOK, body, "2 patients matching")
			href := sortHref(t, body, "Name")
			u, _ := url.Parse(href)
			if q := u.Query(); q.Get("gender") != "F" || q.Get("page_size") != "10" || q.Get("sort") != "name" {
				t.Fatalf("sort link %s", href)
			}
			st, body = c.get(href)
			want(t, st, http.StatusOK, body, "2 patients matching", `<input type="hidden" name="sort" value="name">`)
			wantOrder(t, body, "Zara Khan", "Chitra Mehta")
			wantNot(t, body, "Arjun Bose", "Dev Iyer")
		})

		t.Run("patients_sorted_pages_by_number", func(t *testing.T) {
			// Two pages' worth.
			for _, n := range []string{"Eve", "Fay", "Gus", "Hal", "Ivy", "Jon", "Kim"} {
				c.get("/admin/patients/new")
				c.post("/admin/patients/new", patientForm(n, "Adams"))
			}
			st, body := c.get("/admin/patients?sort=-name&page_size=10")
			want(t, st, http.StatusOK, body, "11 patients", "Page 1 of 2", "Chitra Mehta")
			wantNot(t, body, "Eve Adams", "cursor=")
			next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)
			if next == nil {
				t.Fatalf("no next link\n%s", body)
			}
			st, body = c.get(strings.ReplaceAll(next[1], "&amp;", "&"))
			want(t, st, http.StatusOK, body, "Page 2 of 2", "Eve Adams", `rel="prev"`, `aria-sort="descending"`)
			wantNot(t, body, "Chitra Mehta", `" rel="next"`)
			// Past the end: an empty page, not an error.
			st, body = c.get("/admin/patients?sort=name&page=99")
			want(t, st, http.StatusOK, body, "No patients match.")
		})

		t.Run("unknown_sort_falls_back_to_newest_first", func(t *testing.T) {
			for _, s := range []string{"phone", "-created_by", "p.id%3B"} {
				st, body := c.get("/admin/patients?sort=" + s)
				want(t, st, http.StatusOK, body)
				if h := header(t, body, "ID"); !strings.Contains(h, `aria-sort="descending"`) {
					t.Fatalf("sort=%s: ID header %s", s, h)
				}
			}
		})

		// Doctors.
		for i, d := range []struct{ last, fee, exp, spec string }{
			{"Rao", "900", "5", "NEUROLOGY"}, {"Iyer", "300", "20", "CARDIOLOGY"}, {"Khan", "1200", "12", "DERMATOLOGY"},
		} {
			f := doctorForm(i)
			f.Set("last_name", d.last)
			f.Set("consultation_fee", d.fee)
			f.Set("experience_years", d.exp)
			f.Set("specialization", d.spec)
			c.get("/admin/doctors/new")
			if st, body := c.post("/admin/doctors/new", f); st != http.StatusOK {
				t.Fatalf("create doctor: %d\n%s", st, body)
			}
		}
		t.Run("doctors_by_fee_experience_name", func(t *testing.T) {
			_, body := c.get("/admin/doctors")
			st, body := c.get(sortHref(t, body, "Fee"))
			want(t, st, http.StatusOK, body, "3 doctors")
			if h := header(t, body, "Fee"); !strings.Contains(h, `aria-sort="ascending"`) {
				t.Fatalf("fee header %s", h)
			}
			wantOrder(t, body, "Asha Iyer", "Asha Rao", "Asha Khan")
			st, body = c.get("/admin/doctors?sort=-experience_years")
			want(t, st, http.StatusOK, body)
			wantOrder(t, body, "Asha Iyer", "Asha Khan", "Asha Rao")
			st, body = c.get("/admin/doctors?sort=name&specialization=CARDIOLOGY")
			want(t, st, http.StatusOK, body, "1 doctor matching", "Asha Iyer")
			st, body = c.get("/admin/doctors?sort=specialization")
			want(t, st, http.StatusOK, body)
			wantOrder(t, body, "Cardiology", "Dermatology", "Neurology")
		})

		// Assignments: Zara–Rao (completed), Arjun–Khan (active), Chitra–Iyer (inactive).
		for _, m := range []struct{ patient, doctor, status string }{
			{"Zara", "Rao", "COMPLETED"}, {"Arjun", "Khan", "ACTIVE"}, {"Chitra", "Iyer", "INACTIVE"},
		} {
			st, body := c.get("/admin/doctors?search=" + m.doctor)
			did := regexp.MustCompile(`/admin/doctors/(\d+)"`).FindStringSubmatch(body)
			if st != http.StatusOK || did == nil {
				t.Fatalf("find doctor %s: %d", m.doctor, st)
			}
			c.get("/admin/mappings/new")
			if st, body := c.post("/admin/mappings/new", url.Values{"patient": {pids[m.patient]}, "doctor": {did[1]}, "status": {m.status}}); st != http.StatusOK {
				t.Fatalf("assign: %d\n%s", st, body)
			}
		}
		t.Run("mappings_by_patient_doctor_status", func(t *testing.T) {
			st, body := c.get("/admin/mappings")
			want(t, st, http.StatusOK, body, "3 assignments")
			st, body = c.get(sortHref(t, body, "Patient"))
			want(t, st, http.StatusOK, body)
			if h := header(t, body, "Patient"); !strings.Contains(h, `aria-sort="ascending"`) {
				t.Fatalf("patient header %s", h)
			}
			wantOrder(t, body, "Arjun Bose", "Zara Khan", "Chitra Mehta")
			st, body = c.get("/admin/mappings?sort=-doctor_name")
			want(t, st, http.StatusOK, body)
			wantOrder(t, body, "Dr. Asha Rao", "Dr. Asha Khan", "Dr. Asha Iyer")
			st, body = c.get("/admin/mappings?sort=status")
			want(t, st, http.StatusOK, body)
			wantOrder(t, body, `badge ok">Active`, `badge warn">Completed`, `badge off">Inactive`)
			st, body = c.get("/admin/mappings?sort=-created_at&status=ACTIVE")
			want(t, st, http.StatusOK, body, "1 assignment matching", "Arjun Bose", `aria-sort="descending"`)
		})
	})
}
