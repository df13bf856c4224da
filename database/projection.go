package database

import (
	"context"
	"slices"

	"github.com/uptrace/bun"
)

// Projection names, per table, the columns a reader will use of the
// records it reads; the stores read only those (and the ones they need
// themselves), so a GraphQL query that shows a patient's name does not
// fetch, decode and decrypt its medical history. A nil list is every
// column. The GraphQL adapter derives it from the operation's selection;
// REST and the console show whole records and set none.
//
// Only plain reads honour it (Get, List, ByIDs and the edge loaders): a
// read that a write builds on (an update compares and keeps the record it
// read) always reads every column.
type Projection struct {
	Patients, Doctors, Mappings []string
}

type projectionKey struct{}

// WithProjection returns ctx whose plain reads read only p's columns.
func WithProjection(ctx context.Context, p *Projection) context.Context {
	return context.WithValue(ctx, projectionKey{}, p)
}

// projectionOf returns the projection of ctx, or nil.
func projectionOf(ctx context.Context) *Projection {
	p, _ := ctx.Value(projectionKey{}).(*Projection)
	return p
}

// The columns every read of a table includes, whatever the reader selects:
// the id, what decides who may see the row, and the keys edges are joined by.
var (
	patientKeys = []string{"id", "created_by"}
	doctorKeys  = []string{"id", "created_by"}
	mappingKeys = []string{"id", "patient_id", "doctor_id", "created_by"}
)

// withKeys is cols with keys added, each once.
func withKeys(cols, keys []string) []string {
	out := slices.Clone(keys)
	for _, c := range cols {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// patientColumns, doctorColumns and mappingColumns return the columns a
// plain read of ctx selects of each table (nil: all).
func patientColumns(ctx context.Context) []string {
	if p := projectionOf(ctx); p != nil && p.Patients != nil {
		return withKeys(p.Patients, patientKeys)
	}
	return nil
}

func doctorColumns(ctx context.Context) []string {
	if p := projectionOf(ctx); p != nil && p.Doctors != nil {
		return withKeys(p.Doctors, doctorKeys)
	}
	return nil
}

func mappingColumns(ctx context.Context) []string {
	if p := projectionOf(ctx); p != nil && p.Mappings != nil {
		return withKeys(p.Mappings, mappingKeys)
	}
	return nil
}

// columns restricts q to cols (nil: leaves it whole); for a joined
// relation's apply function as much as for the model's own.
func columns(cols []string) func(*bun.SelectQuery) *bun.SelectQuery {
	return func(q *bun.SelectQuery) *bun.SelectQuery {
		if cols == nil {
			return q
		}
		return q.Column(cols...)
	}
}
