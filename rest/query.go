package rest

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"healthcare/models"
)

// query reads the query parameters of a list. An empty value is the same as
// an absent one; a value that is not what the parameter takes is reported
// against its name (a silently empty list would hide the client's mistake).
// Parameters no endpoint knows are ignored, as Django REST framework does.
type query struct {
	v  url.Values
	fe models.FieldErrors
}

func newQuery(r *http.Request) *query { return &query{v: r.URL.Query()} }

func (q *query) get(name string) string { return strings.TrimSpace(q.v.Get(name)) }

// err returns the 400 of every malformed parameter, or nil.
func (q *query) err() error {
	if len(q.fe) == 0 {
		return nil
	}
	return &models.Error{Code: models.CodeInvalid, Message: "Invalid query parameter.", Fields: q.fe}
}

func (q *query) text(name string) string {
	s := q.get(name)
	if err := models.CheckSearch(name, s); err != nil {
		for _, m := range err.(*models.Error).Fields[name] {
			q.fe.Add(name, m)
		}
		return ""
	}
	return s
}

func (q *query) boolean(name string) *bool {
	s := q.get(name)
	if s == "" {
		return nil
	}
	b, ok := parseBool(s)
	if !ok {
		q.fe.Add(name, "Must be a valid boolean: true or false.")
		return nil
	}
	return &b
}

// integer reads a whole number of at least min.
func (q *query) integer(name string, min int) *int {
	s := q.get(name)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		q.fe.Add(name, "A valid integer is required.")
		return nil
	case n < min:
		q.fe.Add(name, fmt.Sprintf("Ensure this value is greater than or equal to %d.", min))
		return nil
	}
	return &n
}

// id reads a record id: a positive integer.
func (q *query) id(name string) *int64 {
	n := q.integer(name, 1)
	if n == nil {
		return nil
	}
	id := int64(*n)
	return &id
}

func (q *query) number(name string, min float64) *float64 {
	s := q.get(name)
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		q.fe.Add(name, "A valid number is required.")
		return nil
	case f < min:
		q.fe.Add(name, fmt.Sprintf("Ensure this value is greater than or equal to %g.", min))
		return nil
	}
	return &f
}

// enum reads one of choices, in any letter case.
func enum[T ~string](q *query, name string, choices []T) *T {
	s := q.get(name)
	if s == "" {
		return nil
	}
	v := T(strings.ToUpper(s))
	if !slices.Contains(choices, v) {
		names := make([]string, len(choices))
		for i, c := range choices {
			names[i] = string(c)
		}
		q.fe.Add(name, models.ChoiceMessage(s, names))
		return nil
	}
	return &v
}

// pagination is a DRF page-number page: page counts from 1.
type pagination struct {
	page, size int
}

// pagination reads page and page_size (default 20, at most 100).
func (q *query) pagination() pagination {
	p := pagination{page: 1, size: models.DefaultPageSize}
	if n := q.integer("page", 1); n != nil {
		p.page = *n
	}
	if n := q.integer("page_size", 1); n != nil {
		if *n > models.MaxPageSize {
			q.fe.Add("page_size", fmt.Sprintf("Ensure this value is less than or equal to %d.", models.MaxPageSize))
		} else {
			p.size = *n
		}
	}
	return p
}

// request is the store's PageRequest for p: an offset on the same ordered
// query GraphQL pages through by cursor, with the filtered total.
func (p pagination) request() models.PageRequest {
	size := p.size
	offset := (p.page - 1) * p.size
	if p.page > math.MaxInt32/p.size {
		offset = math.MaxInt32 // far past any end: answers "Invalid page."
	}
	return models.PageRequest{First: &size, Offset: offset, WithTotal: true}
}

// pageData is the data of a list: DRF's paginated body.
type pageData[T any] struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// pageOf shapes one store page as the answer to r, with absolute links to
// the neighbouring pages. A page past the end is DRF's 404 "Invalid page."
// (the first page of an empty list is not).
func pageOf[T, R any](r *http.Request, p pagination, pg *models.Page[T], shape func(T) R) (*pageData[R], error) {
	if p.page > 1 && len(pg.Items) == 0 {
		return nil, errInvalidPage
	}
	out := &pageData[R]{Count: pg.Total, Results: make([]R, 0, len(pg.Items))}
	for _, it := range pg.Items {
		out.Results = append(out.Results, shape(it))
	}
	if pg.HasNext {
		out.Next = pageLink(r, p.page+1)
	}
	if p.page > 1 {
		out.Previous = pageLink(r, p.page-1)
	}
	return out, nil
}

// pageLink is the absolute URL of page n of r's list: the scheme and host
// the client reached us at (web.RequestInfo works them out from trusted
// sources only), the request's path and parameters with page replaced
// (and dropped for the first page, as DRF does).
func pageLink(r *http.Request, n int) *string {
	info := models.RequestInfoFrom(r.Context())
	q := r.URL.Query()
	if n <= 1 {
		q.Del("page")
	} else {
		q.Set("page", strconv.Itoa(n))
	}
	u := url.URL{Scheme: info.Scheme, Host: info.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	if u.Scheme == "" {
		u.Scheme, u.Host = "http", "localhost"
	}
	s := u.String()
	return &s
}
