package graph_test

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
	"healthcare/models"
)

const nodeQ = `query($n: ID!) { node(nodeId: $n) { __typename nodeId
	... on User { id email }
	... on Patient { id firstName }
	... on Doctor { id fullName }
	... on Mapping { id status patient { id } }
	... on AuditEvent { id action } } }`

// TestNode: every Node type's nodeId round-trips through Query.node to the
// same object, and node answers null for what the viewer may not see.
func TestNode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newAuditEnv(t, db)
		alice, _ := e.signup("alice@example.com")
		bob, _ := e.signup("bob@example.com")
		pid := e.mkPatient(alice, "Asha")
		did := e.mkDoctor(alice, 1)
		mid := e.mkMapping(alice, pid, did)
		if _, err := e.auth.CreateSuperuser(context.Background(), models.RegisterInput{Name: "Root", Email: "root@example.com", Password: "Correct-Horse-42", PasswordConfirm: "Correct-Horse-42"}); err != nil {
			t.Fatal(err)
		}
		root := path(e.ok("", `mutation { login(input: {email: "root@example.com", password: "Correct-Horse-42"}) { tokens { access } } }`, nil), "login", "tokens", "access").(string)

		ids := e.ok(alice, `query($p: ID!, $d: ID!, $m: ID!) { me { id nodeId } patient(id: $p) { nodeId } doctor(id: $d) { nodeId } mapping(id: $m) { nodeId } }`,
			map[string]any{"p": pid, "d": did, "m": mid})
		audit := e.ok(root, `{ auditEvents(first: 1) { nodes { id nodeId } } }`, nil)
		objects := []struct {
			typ, token, id string
			nodeID         any
		}{
			{"User", alice, path(ids, "me", "id").(string), path(ids, "me", "nodeId")},
			{"Patient", alice, pid, path(ids, "patient", "nodeId")},
			{"Doctor", alice, did, path(ids, "doctor", "nodeId")},
			{"Mapping", alice, mid, path(ids, "mapping", "nodeId")},
			{"AuditEvent", root, path(audit, "auditEvents", "nodes", 0, "id").(string), path(audit, "auditEvents", "nodes", 0, "nodeId")},
		}
		seen := map[any]bool{}
		for _, o := range objects {
			t.Run(o.typ+"_round_trip", func(t *testing.T) {
				nid, ok := o.nodeID.(string)
				if !ok || nid == "" || nid == o.id || seen[nid] {
					t.Fatalf("nodeId %v of %s %s: not an opaque id of its own", o.nodeID, o.typ, o.id)
				}
				seen[nid] = true
				d := e.ok(o.token, nodeQ, map[string]any{"n": nid})
				if path(d, "node", "__typename") != o.typ || path(d, "node", "id") != o.id || path(d, "node", "nodeId") != nid {
					t.Fatalf("node(%s): %v, want %s %s", nid, d, o.typ, o.id)
				}
			})
		}

		t.Run("other_accounts_objects_null", func(t *testing.T) {
			for _, o := range objects {
				if o.typ == "Doctor" {
					continue // the directory is everyone's: see below
				}
				d := e.ok(bob, nodeQ, map[string]any{"n": o.nodeID})
				if n, present := d["node"]; !present || n != nil {
					t.Errorf("bob's node(%s %s) = %v, want null", o.typ, o.id, d)
				}
			}
			if d := e.ok(bob, nodeQ, map[string]any{"n": objects[2].nodeID}); path(d, "node", "id") != did {
				t.Errorf("a doctor is in the shared directory: %v", d)
			}
		})

		t.Run("superuser_sees_every_account", func(t *testing.T) {
			if d := e.ok(root, nodeQ, map[string]any{"n": objects[1].nodeID}); path(d, "node", "id") != pid {
				t.Errorf("root's node(patient) = %v", d)
			}
			// Not another account itself: there is no such query.
			if d := e.ok(root, nodeQ, map[string]any{"n": objects[0].nodeID}); d["node"] != nil {
				t.Errorf("root's node(alice) = %v, want null", d)
			}
		})

		t.Run("malformed_or_unknown_null", func(t *testing.T) {
			b64 := base64.RawURLEncoding.EncodeToString
			for _, nid := range []string{"", "42", pid, "!!!", b64([]byte("Patient:")), b64([]byte("Patient:-1")), b64([]byte("Nurse:1")),
				b64([]byte("Patient:99999999"))} {
				d := e.ok(alice, nodeQ, map[string]any{"n": nid})
				if n, present := d["node"]; !present || n != nil {
					t.Errorf("node(%q) = %v, want null", nid, d)
				}
			}
		})

		t.Run("unauthenticated", func(t *testing.T) {
			if r := e.do("", nodeQ, map[string]any{"n": objects[1].nodeID}); r.code() != "UNAUTHENTICATED" {
				t.Fatalf("anonymous node: %s", r.Raw)
			}
		})

		t.Run("reads_are_audited", func(t *testing.T) {
			e.doAs(alice, "node-test", "node-read-1", nodeQ, map[string]any{"n": objects[1].nodeID})
			evs := e.eventsOf("node-read-1")
			if len(evs) != 1 || evs[0].Action != models.AuditRead || evs[0].RecordType != models.AuditPatient {
				t.Fatalf("node's read of a patient: %+v", evs)
			}
		})
	})
}
