package graph

import (
	"context"
	"slices"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"healthcare/auth"
	"healthcare/graph/model"
	"healthcare/models"
)

// parseID reads a numeric ID; anything else names no record.
func parseID(s string) (int64, bool) { return models.ParseID(s) }

// optID parses an optional ID filter; a malformed one is invalid input on field.
func optID(s *string, field string) (*int64, error) {
	if s == nil {
		return nil, nil
	}
	id, ok := parseID(*s)
	if !ok {
		return nil, models.InvalidField(field, "is not a valid ID")
	}
	return &id, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// pageRequest turns connection arguments into a PageRequest, counting the
// whole set only when totalCount was asked for.
func pageRequest(ctx context.Context, first *int, after *string, last *int, before *string) models.PageRequest {
	return models.PageRequest{
		First: first, After: deref(after), Last: last, Before: deref(before),
		WithTotal: slices.Contains(graphql.CollectAllFields(ctx), "totalCount"),
	}
}

// connection returns what every connection holds besides its nodes: an
// edge per node with its cursor, and the page info. id reads a node's id;
// edge makes the connection's own edge type.
func connection[T, E any](p *models.Page[T], id func(T) int64, edge func(cursor string, node T) E) ([]E, *model.PageInfo) {
	edges := make([]E, len(p.Items))
	for i, n := range p.Items {
		edges[i] = edge(models.Cursor(id(n)), n)
	}
	pi := &model.PageInfo{HasNextPage: p.HasNext, HasPreviousPage: p.HasPrevious}
	if n := len(p.Items); n > 0 {
		start, end := models.Cursor(id(p.Items[0])), models.Cursor(id(p.Items[n-1]))
		pi.StartCursor, pi.EndCursor = &start, &end
	}
	return edges, pi
}

func patientConnection(p *models.Page[*models.Patient]) *model.PatientConnection {
	edges, info := connection(p, func(n *models.Patient) int64 { return n.ID },
		func(c string, n *models.Patient) *model.PatientEdge { return &model.PatientEdge{Cursor: c, Node: n} })
	return &model.PatientConnection{Nodes: p.Items, Edges: edges, PageInfo: info, TotalCount: max(p.Total, 0)}
}

func doctorConnection(p *models.Page[*models.Doctor]) *model.DoctorConnection {
	edges, info := connection(p, func(n *models.Doctor) int64 { return n.ID },
		func(c string, n *models.Doctor) *model.DoctorEdge { return &model.DoctorEdge{Cursor: c, Node: n} })
	return &model.DoctorConnection{Nodes: p.Items, Edges: edges, PageInfo: info, TotalCount: max(p.Total, 0)}
}

func mappingConnection(p *models.Page[*models.Mapping]) *model.MappingConnection {
	edges, info := connection(p, func(n *models.Mapping) int64 { return n.ID },
		func(c string, n *models.Mapping) *model.MappingEdge { return &model.MappingEdge{Cursor: c, Node: n} })
	return &model.MappingConnection{Nodes: p.Items, Edges: edges, PageInfo: info, TotalCount: max(p.Total, 0)}
}

func auditEventConnection(p *models.Page[*models.AuditEvent]) *model.AuditEventConnection {
	edges, info := connection(p, func(n *models.AuditEvent) int64 { return n.ID },
		func(c string, n *models.AuditEvent) *model.AuditEventEdge {
			return &model.AuditEventEdge{Cursor: c, Node: n}
		})
	return &model.AuditEventConnection{Nodes: p.Items, Edges: edges, PageInfo: info, TotalCount: max(p.Total, 0)}
}

func authPayload(r *auth.Result) *model.AuthPayload {
	return &model.AuthPayload{User: r.User, Tokens: &model.TokenPair{Access: r.Access, Refresh: r.Refresh}}
}

// viewer returns the signed-in viewer or Unauthenticated.
func viewer(ctx context.Context) (models.Viewer, error) { return auth.RequireViewer(ctx) }

// orNull turns NotFound into a null result, as queries by id answer.
func orNull[T any](v *T, err error) (*T, error) {
	if models.ErrorCode(err) == models.CodeNotFound {
		return nil, nil
	}
	return v, err
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }
