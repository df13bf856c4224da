package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"healthcare/database"
	"healthcare/models"
)

var userColumns = []struct{ Label, Key string }{
	{"ID", "id"}, {"Name", "name"}, {"Email", "email"}, {"Joined", "date_joined"}, {"Last sign-in", "last_login"},
}

func (h *handler) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := pageSize(q)
	pageNo := pageNumber(q)
	sortKey := q.Get("sort")
	if !database.UserSorts(sortKey) {
		sortKey = "-id"
	}
	uq := database.UserQuery{Search: q.Get("search"), IsActive: boolParam(q, "is_active"),
		IsSuperuser: boolParam(q, "is_superuser"), Sort: sortKey, Limit: size, Offset: (pageNo - 1) * size}
	page, err := h.store.Users.Find(r.Context(), viewerFrom(r.Context()), uq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fv, filtered := filterValues(q, "search", "is_active", "is_superuser")
	filters := []section{{Fields: []field{
		{Name: "search", Label: "Search", Type: "search", Placeholder: "Name or email"},
		{Name: "is_active", Label: "Active", Type: "select", Options: yesNo},
		{Name: "is_superuser", Label: "Superuser", Type: "select", Options: yesNo},
	}}}
	fill(filters, fv, nil)
	d := &listData{
		Heading: "Users", Intro: "Accounts that sign in to the API and, for superusers, to this console.",
		NewHref: h.prefix + "/users/new", NewLabel: "Add user",
		Action: h.prefix + "/users", Filters: filters[0].Fields, Filtered: filtered, Clear: h.prefix + "/users",
		Empty: "No users match.", Summary: countNoun(page.Total, "user"), Sizes: sizeLinks(r.URL, size), Keep: keep(q),
	}
	for _, c := range userColumns {
		col := column{Label: c.Label, Num: c.Key == "id"}
		next := c.Key
		switch sortKey {
		case c.Key:
			col.Sort, next = "ascending", "-"+c.Key
		case "-" + c.Key:
			col.Sort = "descending"
		}
		if next == "-id" {
			next = ""
		}
		col.SortHref = link(r.URL, "sort", next, "page", "")
		d.Columns = append(d.Columns, col)
	}
	d.Columns = append(d.Columns, column{Label: "Role"}, column{Label: "Status"})
	for _, u := range page.Items {
		last := "Never"
		if u.LastLogin != nil {
			last = fmtTime(*u.LastLogin)
		}
		role := cell{Text: "User"}
		if u.IsSuperuser {
			role = cell{Text: "Superuser", Badge: "warn"}
		}
		d.Rows = append(d.Rows, []cell{
			{Text: itoa(u.ID), Num: true},
			{Text: u.Name, Href: h.prefix + "/users/" + itoa(u.ID)},
			{Text: u.Email},
			{Text: fmtTime(u.DateJoined)},
			{Text: last},
			role,
			yesNoCell(u.IsActive, "Active", "Inactive"),
		})
	}
	pageLinks(d, r.URL, pageNo, size, page.Total, page.HasNext)
	h.render(w, r, http.StatusOK, "list", "Users", "users", d)
}

// passwordHint says what a new password must be (models.PasswordProblems).
var passwordHint = fmt.Sprintf("At least %d characters; not entirely numeric, common, or like the name or email.",
	models.PasswordMinLength)

// newUserSection is the form that makes an account: the fields of
// models.UserEntity, then the password and the role.
func newUserSection() section {
	s := layout{{"Account", []string{"name", "email"}}}.sections(models.UserEntity)[0]
	s.Fields = append(s.Fields,
		field{Name: "password", Label: "Password", Type: "password", Required: true, Autocomplete: "new-password", Hint: passwordHint},
		field{Name: "password_confirm", Label: "Password again", Type: "password", Required: true, Autocomplete: "new-password"},
		field{Name: "is_superuser", Label: "Superuser (may sign in to this console and sees all records)", Type: "checkbox", Wide: true},
	)
	return s
}

func (h *handler) newUser(w http.ResponseWriter, r *http.Request) {
	h.userForm(w, r, http.StatusOK, url.Values{}, nil)
}

func (h *handler) userForm(w http.ResponseWriter, r *http.Request, status int, vals url.Values, errs map[string][]string) {
	f := form{Heading: "Add user", Action: h.prefix + "/users/new", Submit: "Create user", Cancel: h.prefix + "/users",
		Sections: []section{newUserSection()}}
	f.Problems = fill(f.Sections, vals, errs)
	h.render(w, r, status, "form", "Add user", "users", f)
}

func (h *handler) createUser(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	in := models.RegisterInput{Name: f.Get("name"), Email: f.Get("email"), Password: f.Get("password"), PasswordConfirm: f.Get("password_confirm")}
	u, err := h.auth.CreateUser(r.Context(), viewerFrom(r.Context()), in, f.Get("is_superuser") != "")
	if fe := fieldErrors(err); fe != nil {
		h.userForm(w, r, http.StatusBadRequest, f, fe)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, h.prefix+"/users/"+itoa(u.ID), "created")
}

// userData is a user's page: the account and its actions.
type userData struct {
	Account  *models.User
	Self     bool // the signed-in superuser's own account
	Joined   string
	Last     string
	Base     string
	Password []field
	Problems []problem
	// Error is what the auth service said against an action on the whole
	// account (its "user" field: not on one's own account).
	Error string
}

func (h *handler) showUser(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	u, err := h.store.Users.Manage(r.Context(), viewerFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.userPage(w, r, http.StatusOK, u, nil)
}

// userPage renders account u, with the field errors errs of a failed
// action.
func (h *handler) userPage(w http.ResponseWriter, r *http.Request, status int, u *models.User, errs map[string][]string) {
	d := userData{Account: u, Self: u.ID == sessionFrom(r.Context()).User.ID, Joined: fmtTime(u.DateJoined), Last: "Never",
		Base: h.prefix + "/users/" + itoa(u.ID), Error: strings.Join(errs["user"], " ")}
	if u.LastLogin != nil {
		d.Last = fmtTime(*u.LastLogin)
	}
	pw := []section{{Fields: []field{
		{Name: "password", Label: "New password", Type: "password", Required: true, Autocomplete: "new-password", Hint: passwordHint},
		{Name: "password_confirm", Label: "New password again", Type: "password", Required: true, Autocomplete: "new-password"},
	}}}
	delete(errs, "user")
	d.Problems = fill(pw, url.Values{}, errs)
	d.Password = pw[0].Fields
	h.render(w, r, status, "user", u.Name, "users", d)
}

// accountDone answers an account action: its field errors on the
// account's page (400), any other error as such, else a redirect to the
// page with the notice done.
func (h *handler) accountDone(w http.ResponseWriter, r *http.Request, id int64, err error, done string) {
	if errs := fieldErrors(err); errs != nil {
		u, gerr := h.store.Users.Manage(r.Context(), viewerFrom(r.Context()), id)
		if gerr != nil {
			h.fail(w, r, gerr)
			return
		}
		h.userPage(w, r, http.StatusBadRequest, u, errs)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, h.prefix+"/users/"+itoa(id), done)
}

func (h *handler) setUserActive(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	active := r.PostForm.Get("active") == "true"
	_, err := h.auth.SetActive(r.Context(), viewerFrom(r.Context()), id, active)
	done := "activated"
	if !active {
		done = "deactivated"
	}
	h.accountDone(w, r, id, err, done)
}

func (h *handler) setUserSuperuser(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	super := r.PostForm.Get("superuser") == "true"
	_, err := h.auth.SetSuperuser(r.Context(), viewerFrom(r.Context()), id, super)
	done := "promoted"
	if !super {
		done = "demoted"
	}
	h.accountDone(w, r, id, err, done)
}

// resetPassword sets a new password for an account, which ends every
// session of it. Resetting one's own ends this session too; this browser
// gets the new session the reset started with it.
func (h *handler) resetPassword(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	in := models.SetPasswordInput{Password: r.PostForm.Get("password"), PasswordConfirm: r.PostForm.Get("password_confirm")}
	_, secret, err := h.auth.ResetPassword(ctx, viewerFrom(ctx), id, in)
	if err != nil || secret == "" {
		h.accountDone(w, r, id, err, "password")
		return
	}
	h.setSessionCookie(w, r, secret)
	h.redirect(w, r, h.prefix+"/users/"+itoa(id), "ownpassword")
}

// signOutUser ends every session of an account (the APIs' and the
// console's). Doing it to one's own account signs this browser out too.
func (h *handler) signOutUser(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	_, err := h.auth.SignOutEverywhere(ctx, viewerFrom(ctx), id)
	if err == nil && id == sessionFrom(ctx).User.ID {
		h.clearSessionCookie(w, r)
		http.Redirect(w, r, h.prefix+"/login?done=signedoutall", http.StatusSeeOther)
		return
	}
	h.accountDone(w, r, id, err, "sessions")
}

// dashData is the start page.
type dashData struct {
	Cards []card
}

type card struct {
	Label, Count, Href, Action, ActionHref, Note string
}

func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewerFrom(ctx)
	zero := 0
	pr := models.PageRequest{First: &zero, WithTotal: true}
	yes := true
	users, err := h.store.Users.Count(ctx, v)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pts, err := h.store.Patients.List(ctx, v, models.PatientFilter{}, pr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	active, err := h.store.Patients.List(ctx, v, models.PatientFilter{IsActive: &yes}, pr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	docs, err := h.store.Doctors.List(ctx, v, models.DoctorFilter{}, pr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	avail, err := h.store.Doctors.List(ctx, v, models.DoctorFilter{IsAvailable: &yes}, pr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	st := models.StatusActive
	maps, err := h.store.Mappings.List(ctx, v, models.MappingFilter{Status: &st}, pr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.prefix
	d := dashData{Cards: []card{
		{"Patients", strconv.Itoa(pts.Total), p + "/patients", "Add patient", p + "/patients/new", strconv.Itoa(active.Total) + " active"},
		{"Doctors", strconv.Itoa(docs.Total), p + "/doctors", "Add doctor", p + "/doctors/new", strconv.Itoa(avail.Total) + " accepting patients"},
		{"Active assignments", strconv.Itoa(maps.Total), p + "/mappings?status=ACTIVE", "Assign a doctor", p + "/mappings/new", ""},
		{"Users", strconv.Itoa(users), p + "/users", "Add user", p + "/users/new", ""},
	}}
	h.render(w, r, http.StatusOK, "dashboard", "Dashboard", "dashboard", d)
}
