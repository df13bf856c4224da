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
	Code  bool   // monospace (ids, hashes)
	Wrap  bool   // may wrap in a table that does not (Class "audit")
	Title string // the whole value, when Text is shortened
	// Links, when set, are shown instead of Text, one after another (the
	// records an audit event names), followed by More.
	Links []cell
	More  string
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
	Class    string   // an extra class for the filter form and the table
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

// sortable is a column of a store list: its header and the store's
// order_by name ("id" for the default keyset order, "" if it does not sort).
type sortable struct {
	Label string
	Key   string
	Num   bool
}

// listQuery is how a store list is sorted and paged, read from the URL:
// by id with cursors (newest first; ?sort=id oldest first), or by a column
// the store can order by with page numbers (?sort=name ascending,
// ?sort=-name descending), since cursors page by id only. An unknown sort
// key falls back to newest first.
type listQuery struct {
	keyset
	orderBy string
	desc    bool
	pageNo  int
}

// maxPageNo bounds ?page= so that the offset cannot overflow.
const maxPageNo = 1_000_000

func parseListQuery(q url.Values, cols []sortable) listQuery {
	lq := listQuery{keyset: parseKeyset(q), pageNo: 1}
	key := q.Get("sort")
	desc := strings.HasPrefix(key, "-")
	key = strings.TrimPrefix(key, "-")
	if key == "" || key == "id" || !slices.ContainsFunc(cols, func(c sortable) bool { return c.Key == key }) {
		return lq
	}
	lq.orderBy, lq.desc, lq.keyset.cursor = key, desc, ""
	lq.pageNo = pageNumber(q)
	return lq
}

// pageNumber reads ?page=, 1 (the first) unless a valid number.
func pageNumber(q url.Values) int {
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return min(n, maxPageNo)
}

// request is the store's page request.
func (lq listQuery) request() models.PageRequest {
	if lq.orderBy == "" {
		return lq.keyset.request()
	}
	n := lq.size
	return models.PageRequest{First: &n, Offset: (lq.pageNo - 1) * n, OrderBy: lq.orderBy, Desc: lq.desc, WithTotal: true}
}

// columns returns the headers of cols: a sortable one links to the list
// sorted by it (ascending first, then descending; the id column toggles
// between newest and oldest first), keeping the filters and page size.
func (lq listQuery) columns(u *url.URL, cols []sortable) []column {
	out := make([]column, len(cols))
	for i, c := range cols {
		col := column{Label: c.Label, Num: c.Num}
		next := c.Key
		switch {
		case c.Key == "":
			out[i] = col
			continue
		case c.Key == "id" && lq.orderBy == "" && lq.asc:
			col.Sort, next = "ascending", ""
		case c.Key == "id" && lq.orderBy == "":
			col.Sort = "descending"
		case c.Key == "id":
			next = "" // back to the default, newest first
		case c.Key == lq.orderBy && lq.desc:
			col.Sort = "descending"
		case c.Key == lq.orderBy:
			col.Sort, next = "ascending", "-"+c.Key
		}
		col.SortHref = link(u, "sort", next, "page", "", "cursor", "", "rel", "")
		out[i] = col
	}
	return out
}

// listNav orders the page's items for display and fills the paging links,
// by cursor or by page number as lq pages.
func listNav[T any](d *listData, u *url.URL, lq listQuery, p *models.Page[T], id func(T) int64, noun string) []T {
	if lq.orderBy == "" {
		return nav(d, u, lq.keyset, p, id, noun)
	}
	d.Summary = countNoun(p.Total, noun)
	d.Sizes = sizeLinks(u, lq.size)
	d.Keep = keep(u.Query())
	pageLinks(d, u, lq.pageNo, lq.size, p.Total, p.HasNext)
	return p.Items
}

// pageLinks fills the links of a list paged by number.
func pageLinks(d *listData, u *url.URL, pageNo, size, total int, hasNext bool) {
	pages := 1
	if total > 0 {
		pages = (total + size - 1) / size
	}
	d.PageInfo = "Page " + strconv.Itoa(pageNo) + " of " + strconv.Itoa(pages)
	if hasNext {
		d.Next = link(u, "page", strconv.Itoa(pageNo+1))
	}
	if pageNo > 1 {
		prev := ""
		if pageNo > 2 {
			prev = strconv.Itoa(pageNo - 1)
		}
		d.Prev = link(u, "page", prev)
		d.First = link(u, "page", "")
	}
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
