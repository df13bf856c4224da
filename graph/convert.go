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

func pageInfo[T any](p *models.Page[T], id func(T) int64) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: p.HasNext, HasPreviousPage: p.HasPrevious}
	if n := len(p.Items); n > 0 {
		start, end := models.Cursor(id(p.Items[0])), models.Cursor(id(p.Items[n-1]))
		pi.StartCursor, pi.EndCursor = &start, &end
	}
	return pi
}

func patientConnection(p *models.Page[*models.Patient]) *model.PatientConnection {
	c := &model.PatientConnection{Nodes: p.Items, TotalCount: max(p.Total, 0), Edges: make([]*model.PatientEdge, len(p.Items))}
	for i, n := range p.Items {
		c.Edges[i] = &model.PatientEdge{Cursor: models.Cursor(n.ID), Node: n}
	}
	c.PageInfo = pageInfo(p, func(n *models.Patient) int64 { return n.ID })
	return c
}

func doctorConnection(p *models.Page[*models.Doctor]) *model.DoctorConnection {
	c := &model.DoctorConnection{Nodes: p.Items, TotalCount: max(p.Total, 0), Edges: make([]*model.DoctorEdge, len(p.Items))}
	for i, n := range p.Items {
		c.Edges[i] = &model.DoctorEdge{Cursor: models.Cursor(n.ID), Node: n}
	}
	c.PageInfo = pageInfo(p, func(n *models.Doctor) int64 { return n.ID })
	return c
}

func mappingConnection(p *models.Page[*models.Mapping]) *model.MappingConnection {
	c := &model.MappingConnection{Nodes: p.Items, TotalCount: max(p.Total, 0), Edges: make([]*model.MappingEdge, len(p.Items))}
	for i, n := range p.Items {
		c.Edges[i] = &model.MappingEdge{Cursor: models.Cursor(n.ID), Node: n}
	}
	c.PageInfo = pageInfo(p, func(n *models.Mapping) int64 { return n.ID })
	return c
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
