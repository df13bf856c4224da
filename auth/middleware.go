package auth

import (
	"context"
	"net/http"
	"strings"
	"sync"

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
	_, st, err := s.verifyAccess(ctx, strings.TrimSpace(raw), s.cachedState)
	if err != nil {
		return viewerState{err: err}
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
