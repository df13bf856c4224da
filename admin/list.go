package admin

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"healthcare/models"
)

// column is a table header; SortHref is set when the column sorts.
type column struct {
	Label    string
	SortHref string
	Sort     string // "ascending", "descending" or "" (for aria-sort)
	Num      bool
}

// cell is one table cell: text, optionally a link or a status badge.
type cell struct {
	Text  string
	Href  string
	Badge string // "ok", "off", "warn" or ""
	Num   bool
}

type sizeLink struct {
	Size    int
	Href    string
	Current bool
}

// listData is what the list template shows.
type listData struct {
	Heading  string
	Intro    string
	NewHref  string
	NewLabel string
	Action   string
	Filters  []field
	Filtered bool
	Clear    string
	Columns  []column
	Rows     [][]cell
	Summary  string
	Empty    string
	First    string
	Prev     string
	Next     string
	PageInfo string
	Sizes    []sizeLink
	Keep     []hidden // query parameters the filter form carries over
}

type hidden struct{ Name, Value string }

// keep returns the sort and page size of the list, for the filter form.
func keep(q url.Values) []hidden {
	var out []hidden
	for _, n := range []string{"sort", "page_size"} {
		if v := q.Get(n); v != "" {
			out = append(out, hidden{n, v})
		}
	}
	return out
}

var pageSizes = []int{10, 25, 50, 100}

const defaultPageSize = 25

func pageSize(q url.Values) int {
	n, err := strconv.Atoi(q.Get("page_size"))
	if err != nil || !slices.Contains(pageSizes, n) {
		return defaultPageSize
	}
	return n
}

func sizeLinks(u *url.URL, current int) []sizeLink {
	out := make([]sizeLink, len(pageSizes))
	for i, n := range pageSizes {
		v := strconv.Itoa(n)
		if n == defaultPageSize {
			v = ""
		}
		out[i] = sizeLink{Size: n, Href: link(u, "page_size", v, "cursor", "", "rel", "", "page", ""), Current: n == current}
	}
	return out
}

// keyset is a list request over a store List, which pages by id: sorting
// is by id, newest (default) or oldest first, and paging goes by cursor
// (the id at the edge of the page shown) in either direction.
type keyset struct {
	asc    bool
	size   int
	cursor string
	prev   bool
}

func parseKeyset(q url.Values) keyset {
	k := keyset{asc: q.Get("sort") == "id", size: pageSize(q), prev: q.Get("rel") == "prev"}
	if c := q.Get("cursor"); c != "" {
		if _, ok := models.ParseCursor(c); ok {
			k.cursor = c
		}
	}
	return k
}

// request is the store's page request. Store pages are always in
// descending id order; "forward" walks down from the cursor, backward up.
func (k keyset) request() models.PageRequest {
	pr := models.PageRequest{WithTotal: true}
	n := k.size
	if k.asc == k.prev { // newest-first next page, or oldest-first previous page
		pr.First, pr.After = &n, k.cursor
	} else {
		pr.Last, pr.Before = &n, k.cursor
	}
	return pr
}

// nav orders the page's items for display and fills the paging links.
func nav[T any](d *listData, u *url.URL, k keyset, p *models.Page[T], id func(T) int64, noun string) []T {
	items := slices.Clone(p.Items)
	lower, higher := p.HasNext, p.HasPrevious
	hasNext, hasPrev := lower, higher
	if k.asc {
		slices.Reverse(items)
		hasNext, hasPrev = higher, lower
	}
	if len(items) > 0 {
		if hasNext {
			d.Next = link(u, "cursor", models.Cursor(id(items[len(items)-1])), "rel", "next")
		}
		if hasPrev {
			d.Prev = link(u, "cursor", models.Cursor(id(items[0])), "rel", "prev")
		}
	}
	if k.cursor != "" {
		d.First = link(u, "cursor", "", "rel", "")
	}
	d.Summary = countNoun(p.Total, noun)
	d.Sizes = sizeLinks(u, k.size)
	d.Keep = keep(u.Query())
	return items
}

// idColumn is the sortable id header of a keyset list.
func idColumn(u *url.URL, k keyset) column {
	c := column{Label: "ID", Num: true}
	if k.asc {
		c.Sort = "ascending"
		c.SortHref = link(u, "sort", "", "cursor", "", "rel", "")
	} else {
		c.Sort = "descending"
		c.SortHref = link(u, "sort", "id", "cursor", "", "rel", "")
	}
	return c
}

func countNoun(n int, noun string) string {
	if n < 0 {
		return ""
	}
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// filterValues copies the named query parameters, for the filter form.
func filterValues(q url.Values, names ...string) (url.Values, bool) {
	out := url.Values{}
	any := false
	for _, n := range names {
		if v := strings.TrimSpace(q.Get(n)); v != "" {
			out.Set(n, v)
			any = true
		}
	}
	return out, any
}

// boolParam reads a yes/no filter: "true" or "false", anything else unset.
func boolParam(q url.Values, name string) *bool {
	switch q.Get(name) {
	case "true":
		b := true
		return &b
	case "false":
		b := false
		return &b
	}
	return nil
}

var yesNo = []option{{"", "Any"}, {"true", "Yes"}, {"false", "No"}}

func yesNoCell(b bool, yes, no string) cell {
	if b {
		return cell{Text: yes, Badge: "ok"}
	}
	return cell{Text: no, Badge: "off"}
}
