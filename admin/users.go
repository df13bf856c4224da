package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"healthcare/auth"
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
	page, err := h.store.Users.Find(r.Context(), uq)
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

func newUserSection() section {
	return section{Legend: "Account", Fields: []field{
		{Name: "name", Label: "Name", Type: "text", Required: true, MaxLen: 150, Autocomplete: "off"},
		{Name: "email", Label: "Email", Type: "email", Required: true, MaxLen: 254, Autocomplete: "off"},
		{Name: "password", Label: "Password", Type: "password", Required: true, Autocomplete: "new-password",
			Hint: "At least 8 characters; not entirely numeric, common, or like the name or email."},
		{Name: "password_confirm", Label: "Password again", Type: "password", Required: true, Autocomplete: "new-password"},
		{Name: "is_superuser", Label: "Superuser (may sign in to this console and sees all records)", Type: "checkbox", Wide: true},
	}}
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
	u, err := h.auth.CreateUser(r.Context(), in, f.Get("is_superuser") != "")
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
	Self     bool
	Joined   string
	Last     string
	Base     string
	Password []field
	Problems []problem
	Error    string
}

func (h *handler) showUser(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	u, err := h.store.Users.ByID(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.userPage(w, r, http.StatusOK, u, nil, "")
}

func (h *handler) userPage(w http.ResponseWriter, r *http.Request, status int, u *models.User, errs map[string][]string, msg string) {
	d := userData{Account: u, Self: u.ID == userFrom(r.Context()).ID, Joined: fmtTime(u.DateJoined), Last: "Never",
		Base: h.prefix + "/users/" + itoa(u.ID), Error: msg}
	if u.LastLogin != nil {
		d.Last = fmtTime(*u.LastLogin)
	}
	pw := []section{{Fields: []field{
		{Name: "password", Label: "New password", Type: "password", Required: true, Autocomplete: "new-password",
			Hint: "At least 8 characters; not entirely numeric, common, or like the name or email."},
		{Name: "password_confirm", Label: "New password again", Type: "password", Required: true, Autocomplete: "new-password"},
	}}}
	d.Problems = fill(pw, url.Values{}, errs)
	d.Password = pw[0].Fields
	h.render(w, r, status, "user", u.Name, "users", d)
}

// userAction loads the account a flag change is about, refusing changes to
// one's own account that would lock one out.
func (h *handler) userAction(w http.ResponseWriter, r *http.Request, selfMsg string) (*models.User, bool) {
	id, ok := h.pathID(w, r)
	if !ok {
		return nil, false
	}
	u, err := h.store.Users.ByID(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	if selfMsg != "" && u.ID == userFrom(r.Context()).ID {
		h.userPage(w, r, http.StatusBadRequest, u, nil, selfMsg)
		return nil, false
	}
	return u, true
}

func (h *handler) setUserActive(w http.ResponseWriter, r *http.Request) {
	u, ok := h.userAction(w, r, "You cannot deactivate your own account.")
	if !ok {
		return
	}
	active := r.PostForm.Get("active") == "true"
	if err := h.store.Users.SetFlags(r.Context(), u.ID, active, u.IsSuperuser); err != nil {
		h.fail(w, r, err)
		return
	}
	done := "activated"
	if !active {
		done = "deactivated"
		if err := h.store.Tokens.RevokeUser(r.Context(), u.ID); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.log.InfoContext(r.Context(), "admin: account "+done, "user_id", u.ID, "by", userFrom(r.Context()).ID)
	h.redirect(w, r, h.prefix+"/users/"+itoa(u.ID), done)
}

func (h *handler) setUserSuperuser(w http.ResponseWriter, r *http.Request) {
	u, ok := h.userAction(w, r, "You cannot remove your own superuser status.")
	if !ok {
		return
	}
	super := r.PostForm.Get("superuser") == "true"
	if err := h.store.Users.SetFlags(r.Context(), u.ID, u.IsActive, super); err != nil {
		h.fail(w, r, err)
		return
	}
	done := "promoted"
	if !super {
		done = "demoted"
	}
	h.log.InfoContext(r.Context(), "admin: account "+done, "user_id", u.ID, "by", userFrom(r.Context()).ID)
	h.redirect(w, r, h.prefix+"/users/"+itoa(u.ID), done)
}

func (h *handler) resetPassword(w http.ResponseWriter, r *http.Request) {
	u, ok := h.userAction(w, r, "")
	if !ok {
		return
	}
	pw, confirm := r.PostForm.Get("password"), r.PostForm.Get("password_confirm")
	var fe models.FieldErrors
	if pw == "" {
		fe.Add("password", models.MsgBlank)
	} else {
		for _, m := range models.PasswordProblems(pw, map[string]string{"name": u.Name, "email address": u.Email}) {
			fe.Add("password", m)
		}
	}
	if confirm == "" {
		fe.Add("password_confirm", models.MsgBlank)
	} else if pw != confirm {
		fe.Add("password_confirm", "Passwords do not match.")
	}
	if len(fe) > 0 {
		h.userPage(w, r, http.StatusBadRequest, u, fe, "")
		return
	}
	hash, err := auth.HashPassword(pw)
	if err == nil {
		err = h.store.Users.SetPassword(r.Context(), u.ID, hash)
	}
	if err == nil {
		err = h.store.Tokens.RevokeUser(r.Context(), u.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "admin: password reset", "user_id", u.ID, "by", userFrom(r.Context()).ID)
	if u.ID == userFrom(r.Context()).ID {
		// The session carries a fingerprint of the old hash: renew it.
		u.PasswordHash = hash
		h.startSession(w, r, u)
	}
	h.redirect(w, r, h.prefix+"/users/"+itoa(u.ID), "password")
}

// loginData is the sign-in page.
type loginData struct {
	Email   string
	Next    string
	Token   string
	Error   string
	Refused bool
}

func (h *handler) loginForm(w http.ResponseWriter, r *http.Request) {
	next := h.safeNext(r.URL.Query().Get("next"))
	if _, _, ok := h.currentUser(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.loginPage(w, r, http.StatusOK, loginData{Next: next})
}

// loginPage renders the sign-in form with a fresh signed double-submit
// token (its random half in a cookie, the other in the form).
func (h *handler) loginPage(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	nonce := randomToken(18)
	h.setCookie(w, r, loginCookie, nonce, h.ttl)
	d.Token = h.keys.loginToken(nonce)
	h.render(w, r, status, "login", "Sign in", "", d)
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.badForm(w, r, err)
		return
	}
	d := loginData{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: h.safeNext(r.PostForm.Get("next"))}
	c, err := r.Cookie(loginCookie)
	if err != nil || !tokensEqual(r.PostForm.Get(csrfField), h.keys.loginToken(c.Value)) {
		d.Error = "The sign-in form expired or your browser blocks cookies. Try again."
		h.loginPage(w, r, http.StatusForbidden, d)
		return
	}
	u, err := h.auth.Authenticate(r.Context(), d.Email, r.PostForm.Get("password"))
	if err != nil {
		switch models.ErrorCode(err) {
		case models.CodeUnauthenticated, models.CodeInvalid:
			d.Error = "Invalid email or password."
			h.loginPage(w, r, http.StatusUnauthorized, d)
		case models.CodeRateLimited:
			d.Error = "Too many sign-in attempts. " + retryText(err)
			setRetryAfter(w, err)
			h.loginPage(w, r, http.StatusTooManyRequests, d)
		default:
			h.fail(w, r, err)
		}
		return
	}
	if !u.IsSuperuser {
		h.log.WarnContext(r.Context(), "admin: sign-in refused: not a superuser", "user_id", u.ID)
		d.Error, d.Refused = "This account may not use the admin console. Sign in with a superuser account (created with createsuperuser).", true
		h.loginPage(w, r, http.StatusForbidden, d)
		return
	}
	if err := h.store.Users.TouchLogin(r.Context(), u.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.startSession(w, r, u)
	h.setCookie(w, r, loginCookie, "", -1)
	h.log.InfoContext(r.Context(), "admin: signed in", "user_id", u.ID)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.store.Audit.RecordAuth(r.Context(), models.AuditLogout, userFrom(r.Context()).ID); err != nil {
		h.log.ErrorContext(r.Context(), "admin: audit sign-out", "err", err)
	}
	h.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, h.prefix+"/login?done=signedout", http.StatusSeeOther)
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
	users, err := h.store.Users.Count(ctx)
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
