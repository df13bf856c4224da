package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"healthcare/models"
)

// Dataloaders batch by time: keys that arrive within the wait share a query.
// For a page of 100 nodes resolved by 100 goroutines on a busy machine some
// keys can miss the window and cost a second query. A list resolver knows
// all its nodes at once, so it loads the edges its selection asks for in one
// batch up front (prefetch), and the per-node resolvers then hit the
// loaders' cache: the statement count of a nested query does not depend on
// the page size or the scheduler.

// edgeRequest is one to-many edge the selection asks for, with its status.
type edgeRequest struct {
	name   string
	status models.MappingStatus
}

// requestedEdges returns the edges named in names that the connection's
// nodes (under nodes or edges.node) select, with their status arguments.
func requestedEdges(ctx context.Context, nodeType string, names ...string) []edgeRequest {
	opCtx := graphql.GetOperationContext(ctx)
	var sets []ast.SelectionSet
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		switch f.Name {
		case "nodes":
			sets = append(sets, f.Selections)
		case "edges":
			for _, g := range graphql.CollectFields(opCtx, f.Selections, []string{nodeType + "Edge"}) {
				if g.Name == "node" {
					sets = append(sets, g.Selections)
				}
			}
		}
	}
	seen := map[edgeRequest]bool{}
	var out []edgeRequest
	for _, set := range sets {
		for _, f := range graphql.CollectFields(opCtx, set, []string{nodeType}) {
			for _, n := range names {
				if f.Name != n {
					continue
				}
				var st models.MappingStatus
				if s, ok := f.ArgumentMap(opCtx.Variables)["status"].(string); ok {
					st = models.MappingStatus(s)
				}
				if r := (edgeRequest{n, st}); !seen[r] {
					seen[r] = true
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// prefetchPatientEdges loads the doctors and mappings edges that a patients
// connection selects, for every patient of the page at once: one query per
// distinct status argument, since a patient's doctors are read through its
// mappings (patientResolver.Doctors). The page's patients are primed in
// PatientByID, so Mapping.patient under them costs nothing.
func prefetchPatientEdges(ctx context.Context, patients []*models.Patient) {
	if len(patients) == 0 {
		return
	}
	l := loaders(ctx)
	for _, p := range patients {
		l.PatientByID.Prime(p.ID, p)
	}
	statuses := map[models.MappingStatus]bool{}
	for _, r := range requestedEdges(ctx, "Patient", "doctors", "mappings") {
		statuses[r.status] = true
	}
	var wg sync.WaitGroup
	for st := range statuses {
		keys := make([]edgeKey, len(patients))
		for i, p := range patients {
			keys[i] = edgeKey{ID: p.ID, Status: st}
		}
		// Errors are not lost: the per-node Load sees the same result.
		wg.Go(func() { _, _ = l.MappingsByPatient.LoadAll(ctx, keys) })
	}
	wg.Wait()
}

// prefetchDoctorEdges loads the patients edge a doctors connection selects.
func prefetchDoctorEdges(ctx context.Context, doctors []*models.Doctor) {
	if len(doctors) == 0 {
		return
	}
	l := loaders(ctx)
	var wg sync.WaitGroup
	for _, r := range requestedEdges(ctx, "Doctor", "patients") {
		keys := make([]edgeKey, len(doctors))
		for i, d := range doctors {
			keys[i] = edgeKey{ID: d.ID, Status: r.status}
		}
		wg.Go(func() { _, _ = l.PatientsByDoctor.LoadAll(ctx, keys) })
	}
	wg.Wait()
}
