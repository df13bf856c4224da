package rest

import (
	"net/http"

	"healthcare/auth"
	"healthcare/models"
)

// tokenPair is a fresh access and refresh token.
type tokenPair struct {
	Refresh string `json:"refresh"`
	Access  string `json:"access"`
}

// session is the data of a registration or sign-in: the account (id, name,
// email, date_joined, by models.User's json tags) and its tokens.
type session struct {
	User   *models.User `json:"user"`
	Tokens tokenPair    `json:"tokens"`
}

func sessionOf(res *auth.Result) session {
	return session{User: res.User, Tokens: tokenPair{Refresh: res.Refresh, Access: res.Access}}
}

// refreshInput is the body of token refresh and logout.
type refreshInput struct {
	Refresh string `json:"refresh"`
}

// readRefresh reads {"refresh": "..."}. An absent or blank token is a 400 on
// refresh; one that does not verify is the auth service's 401.
func readRefresh(r *http.Request) (string, error) {
	obj, err := readObject(r)
	if err != nil {
		return "", err
	}
	var in refreshInput
	if fe := fill(&in, obj); len(fe) > 0 {
		return "", fe.Err()
	}
	if in.Refresh == "" {
		if _, ok := obj["refresh"]; !ok {
			return "", models.InvalidField("refresh", models.MsgRequired)
		}
		return "", models.InvalidField("refresh", models.MsgBlank)
	}
	return in.Refresh, nil
}

// register is POST /auth/register/: 201 with the account and its tokens.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) error {
	in, err := decode[models.RegisterInput](r)
	if err != nil {
		return err
	}
	res, err := h.auth.Register(r.Context(), in)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusCreated, "User registered successfully", sessionOf(res))
}

// login is POST /auth/login/: 200 with the account and a new token family;
// wrong credentials are a 401.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	in, err := decode[models.LoginInput](r)
	if err != nil {
		return err
	}
	res, err := h.auth.Login(r.Context(), in)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Login successful", sessionOf(res))
}

// refresh is POST /auth/token/refresh/: it spends the refresh token (each
// works once) and answers the next pair of its family.
func (h *Handler) refresh(w http.ResponseWriter, r *http.Request) error {
	raw, err := readRefresh(r)
	if err != nil {
		return err
	}
	res, err := h.auth.Refresh(r.Context(), raw)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Token refreshed successfully", tokenPair{Refresh: res.Refresh, Access: res.Access})
}

// logout is POST /auth/logout/: it ends the refresh token's session, its
// access tokens included.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	raw, err := readRefresh(r)
	if err != nil {
		return err
	}
	if err := h.auth.Logout(r.Context(), raw); err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Logout successful", nil)
}

// me is GET /auth/me/: the signed-in account.
func (h *Handler) me(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	u, err := h.auth.Me(r.Context(), v)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "User retrieved successfully", u)
}

// changePassword is POST /auth/password/: it changes the viewer's password,
// ends every session of the account and answers a new one.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	in, err := decode[models.ChangePasswordInput](r)
	if err != nil {
		return err
	}
	res, err := h.auth.ChangePassword(r.Context(), v, in)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Password changed successfully; other sessions must sign in again", sessionOf(res))
}
