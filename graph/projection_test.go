package graph_test

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
)

// selects keeps the SELECT statements a query hook sees.
type selects struct {
	mu sync.Mutex
	qs []string
}

func (s *selects) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (s *selects) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.HasPrefix(e.Query, "SELECT") {
		s.mu.Lock()
		s.qs = append(s.qs, e.Query)
		s.mu.Unlock()
	}
}

func (s *selects) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	qs := s.qs
	s.qs = nil
	return qs
}

// TestProjection: the stores read only the columns an operation selects,
// and every way of selecting a field (plainly, aliased, in a fragment,
// through the Node interface, under an edge, in a mutation's answer) still
// gets its value: each answer equals the same fields read from a query
// that selects everything.
func TestProjection(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		rec := &selects{}
		db.AddQueryHook(rec)
		tok, _ := e.signup("projection@example.com")
		vars := patientVars("Asha")
		in := vars["in"].(map[string]any)
		in["currentMedications"], in["emergencyContactName"], in["address"] = "Metformin", "Ravi", "12 MG Road"
		pid := path(e.ok(tok, createPatientQ, vars), "createPatient", "id").(string)
		did := e.mkDoctor(tok, 1)
		e.ok(tok, `mutation($id: ID!, $in: DoctorPatch!) { updateDoctor(id: $id, input: $in) { id } }`,
			map[string]any{"id": did, "in": map[string]any{"clinicName": "City Clinic", "bio": "Cardiologist."}})
		mid := e.mkMapping(tok, pid, did)

		const patientAll = `id nodeId firstName lastName fullName age email phone dateOfBirth gender bloodGroup address city state
			postalCode country medicalHistory allergies currentMedications emergencyContactName emergencyContactPhone
			emergencyContactRelation isActive createdAt updatedAt`
		const doctorAll = `id firstName lastName fullName email phone specialization qualification licenseNumber experienceYears
			clinicName clinicAddress city consultationFee bio isAvailable createdAt`
		ref := e.ok(tok, `query($p: ID!, $m: ID!) {
			patient(id: $p) { `+patientAll+` doctors { `+doctorAll+` } mappings { id reason notes status createdAt } }
			mapping(id: $m) { id reason status patient { `+patientAll+` } doctor { `+doctorAll+` } } }`,
			map[string]any{"p": pid, "m": mid})
		patient := path(ref, "patient").(map[string]any)
		doctor := path(ref, "patient", "doctors", 0).(map[string]any)
		mapping := path(ref, "mapping").(map[string]any)
		if patient["allergies"] != "Penicillin" || doctor["bio"] != "Cardiologist." || patient["age"] == nil {
			t.Fatalf("reference: %v", ref)
		}
		nodeID := patient["nodeId"].(string)

		want := func(src map[string]any, aliases map[string]string) map[string]any {
			out := map[string]any{}
			for alias, field := range aliases {
				out[alias] = src[field]
			}
			return out
		}
		same := func(name string, got any, want map[string]any) {
			t.Helper()
			g, _ := got.(map[string]any)
			for k, v := range want {
				if !reflect.DeepEqual(g[k], v) {
					t.Errorf("%s: %s = %v, want %v", name, k, g[k], v)
				}
			}
		}
		cases := []struct {
			name, query string
			check       func(d map[string]any)
		}{
			{"plain", `{ patients { nodes { allergies } } }`, func(d map[string]any) {
				same("plain", path(d, "patients", "nodes", 0), want(patient, map[string]string{"allergies": "allergies"}))
			}},
			{"aliased_and_derived", `{ patients { nodes { a: email b: age c: fullName } } }`, func(d map[string]any) {
				same("aliased", path(d, "patients", "nodes", 0), want(patient, map[string]string{"a": "email", "b": "age", "c": "fullName"}))
			}},
			{"fragment", `query { patients { edges { node { ...P } } } } fragment P on Patient { medicalHistory city dateOfBirth }`, func(d map[string]any) {
				same("fragment", path(d, "patients", "edges", 0, "node"),
					want(patient, map[string]string{"medicalHistory": "medicalHistory", "city": "city", "dateOfBirth": "dateOfBirth"}))
			}},
			{"node_interface", `{ node(nodeId: "` + nodeID + `") { nodeId ... on Patient { currentMedications address } } }`, func(d map[string]any) {
				same("node", path(d, "node"), want(patient, map[string]string{"nodeId": "nodeId", "currentMedications": "currentMedications", "address": "address"}))
			}},
			{"edges_and_union", `{ patients { nodes { firstName doctors { clinicName consultationFee } mappings { reason patient { emergencyContactName } } } } }`, func(d map[string]any) {
				same("patient", path(d, "patients", "nodes", 0), want(patient, map[string]string{"firstName": "firstName"}))
				same("doctor", path(d, "patients", "nodes", 0, "doctors", 0), want(doctor, map[string]string{"clinicName": "clinicName", "consultationFee": "consultationFee"}))
				same("mapping", path(d, "patients", "nodes", 0, "mappings", 0), want(mapping, map[string]string{"reason": "reason"}))
				same("mapping's patient", path(d, "patients", "nodes", 0, "mappings", 0, "patient"), want(patient, map[string]string{"emergencyContactName": "emergencyContactName"}))
			}},
			{"mappings_list", `{ mappings { nodes { status patient { allergies } doctor { bio email } } } }`, func(d map[string]any) {
				same("mapping", path(d, "mappings", "nodes", 0), want(mapping, map[string]string{"status": "status"}))
				same("patient", path(d, "mappings", "nodes", 0, "patient"), want(patient, map[string]string{"allergies": "allergies"}))
				same("doctor", path(d, "mappings", "nodes", 0, "doctor"), want(doctor, map[string]string{"bio": "bio", "email": "email"}))
			}},
			{"one_patient", `{ patient(id: ` + pid + `) { emergencyContactName phone } }`, func(d map[string]any) {
				same("patient", path(d, "patient"), want(patient, map[string]string{"emergencyContactName": "emergencyContactName", "phone": "phone"}))
			}},
			{"doctors_list", `{ doctors { nodes { licenseNumber experienceYears } } }`, func(d map[string]any) {
				same("doctor", path(d, "doctors", "nodes", 0), want(doctor, map[string]string{"licenseNumber": "licenseNumber", "experienceYears": "experienceYears"}))
			}},
			{"skipped_field_still_safe", `query($s: Boolean!) { patients { nodes { allergies @skip(if: $s) bloodGroup } } }`, func(d map[string]any) {
				same("patient", path(d, "patients", "nodes", 0), want(patient, map[string]string{"bloodGroup": "bloodGroup"}))
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				c.check(e.ok(tok, c.query, map[string]any{"s": true}))
			})
		}

		t.Run("reads_only_what_is_selected", func(t *testing.T) {
			rec.take()
			e.ok(tok, `{ patients { nodes { firstName doctors { lastName } } } }`, nil)
			qs := strings.Join(rec.take(), "\n")
			for _, col := range []string{"medical_history", "allergies", "bio", "license_number"} {
				if strings.Contains(qs, col) {
					t.Errorf("read %s, which the query does not select:\n%s", col, qs)
				}
			}
			if !strings.Contains(qs, "first_name") || !strings.Contains(qs, "last_name") {
				t.Errorf("did not read the selected columns:\n%s", qs)
			}
		})

		t.Run("a_write_reads_the_whole_record", func(t *testing.T) {
			// The update compares against the stored record: a projected
			// read would lose the fields it does not select.
			d := e.ok(tok, `mutation($id: ID!) { updatePatient(id: $id, input: {city: "Pune"}) { city } }`, map[string]any{"id": pid})
			if path(d, "updatePatient", "city") != "Pune" {
				t.Fatalf("update: %v", d)
			}
			after := e.ok(tok, `query($p: ID!) { patient(id: $p) { allergies medicalHistory email } }`, map[string]any{"p": pid})
			same("after update", path(after, "patient"), want(patient, map[string]string{"allergies": "allergies", "medicalHistory": "medicalHistory", "email": "email"}))
		})
	})
}
