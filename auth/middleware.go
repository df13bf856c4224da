package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"healthcare/models"
)

type ctxKey struct{}

type viewerState struct {
	viewer models.Viewer
	user   *models.User // the account the token named, as read for this request
	err    error
}

// Middleware reads an "Authorization: Bearer <access token>" header and
// puts the viewer in the request context. With no header the viewer is
// anonymous. The token is verified, and the account read, only when a
// handler first asks (ViewerFrom), so a request rejected before it needs
// the viewer (a query over the complexity limit) costs no SQL. A bad,
// expired or revoked token, or a deactivated account, is an error from
// ViewerFrom; nothing is written here: each transport answers in its own
// format.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		lazy := sync.OnceValue(func() viewerState { return s.resolve(ctx, h) })
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, ctxKey{}, lazy)))
	})
}

func (s *Service) resolve(ctx context.Context, header string) viewerState {
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return viewerState{err: models.Unauthenticated("Authorization header must be 'Bearer <access token>'.")}
	}
	c, err := s.signer.Verify(strings.TrimSpace(raw), TypeAccess)
	if err != nil {
		msg := "Given token not valid for any token type."
		if errors.Is(err, ErrExpiredToken) {
			msg = "Token is expired."
		}
		return viewerState{err: models.Unauthenticated(msg)}
	}
	uid, _ := c.UserID()
	// The token's session and account, from the session cache when fresh:
	// a revoked session (sign-out, refresh-token reuse, a password change)
	// or a deactivated account stops the token at its next use, on every
	// node.
	st, err := s.cache.get(ctx, s.store, c.Session)
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return viewerState{err: models.Unauthenticated("Token is invalid or expired.")}
		}
		return viewerState{err: err}
	}
	switch {
	case st.User.ID != uid || st.Session.Kind != models.SessionAPI:
		return viewerState{err: models.Unauthenticated("Given token not valid for any token type.")}
	case !st.Session.Live(time.Now()):
		return viewerState{err: models.Unauthenticated("Token is invalid or expired.")}
	case !st.User.IsActive:
		return viewerState{err: models.Unauthenticated("User is inactive.")}
	}
	u := *st.User
	return viewerState{viewer: models.Viewer{UserID: u.ID, Superuser: u.IsSuperuser}, user: &u}
}

// ViewerFrom returns the viewer of the request, anonymous if no token was
// sent, or the error of a token that was sent and failed.
func ViewerFrom(ctx context.Context) (models.Viewer, error) {
	switch v := ctx.Value(ctxKey{}).(type) {
	case func() viewerState:
		st := v()
		return st.viewer, st.err
	case viewerState:
		return v.viewer, v.err
	}
	return models.Viewer{}, nil
}

// userFrom returns the account the request's token named, if this request
// has already read it.
func userFrom(ctx context.Context) *models.User {
	if f, ok := ctx.Value(ctxKey{}).(func() viewerState); ok {
		return f().user
	}
	return nil
}

// WithViewer returns ctx carrying v (for the admin console's session).
func WithViewer(ctx context.Context, v models.Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, viewerState{viewer: v})
}

// RequireViewer returns the signed-in viewer, or Unauthenticated.
func RequireViewer(ctx context.Context) (models.Viewer, error) {
	v, err := ViewerFrom(ctx)
	if err != nil {
		return v, err
	}
	if v.Anonymous() {
		return v, models.Unauthenticated("")
	}
	return v, nil
}
