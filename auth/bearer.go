package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"healthcare/database"
	"healthcare/models"
)

// TokenCheck is what an access token stands for when it is checked outside
// an HTTP request (a websocket's connection_init): its viewer, its session
// and when it expires.
type TokenCheck struct {
	Viewer    models.Viewer
	Session   string
	ExpiresAt time.Time
}

// CheckToken checks an access token, given bare or as "Bearer <token>",
// as Middleware checks one: signature, type, expiry, a live session and an
// active account (Unauthenticated otherwise). The session's state comes
// from the cache that every node's changes keep fresh, so a long-lived
// connection may call it again at every step at no cost while nothing
// changed.
func (s *Service) CheckToken(ctx context.Context, token string) (*TokenCheck, error) {
	return s.checkToken(ctx, token, s.cachedState)
}

// cachedState is a session's state from the session cache.
func (s *Service) cachedState(ctx context.Context, id string) (*database.SessionState, error) {
	return s.cache.get(ctx, s.store, id)
}

// RecheckToken is CheckToken reading the session from the database: for a
// caller that has just heard that the session or its account changed, and
// may hear it before the cache does.
func (s *Service) RecheckToken(ctx context.Context, token string) (*TokenCheck, error) {
	return s.checkToken(ctx, token, s.store.Sessions.State)
}

// checkToken makes the checks of resolve (verifyAccess), with the
// session's state from state, for a token given bare or as a header value.
func (s *Service) checkToken(ctx context.Context, token string, state func(context.Context, string) (*database.SessionState, error)) (*TokenCheck, error) {
	token = strings.TrimSpace(token)
	if scheme, raw, ok := strings.Cut(token, " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(raw)
	}
	if token == "" {
		return nil, models.Unauthenticated("")
	}
	c, st, err := s.verifyAccess(ctx, token, state)
	if err != nil {
		return nil, err
	}
	tc := &TokenCheck{Viewer: models.Viewer{UserID: st.User.ID, Superuser: st.User.IsSuperuser}, Session: c.Session}
	if c.ExpiresAt != nil {
		tc.ExpiresAt = c.ExpiresAt.Time
	}
	return tc, nil
}

// verifyAccess is the one check of an access token: signature, type and
// expiry (Signer.Verify), then its session and account from state: a
// revoked or ended session (sign-out, refresh-token reuse, a password
// change) or a deactivated account stops the token at its next use, on
// every node.
func (s *Service) verifyAccess(ctx context.Context, token string, state func(context.Context, string) (*database.SessionState, error)) (*Claims, *database.SessionState, error) {
	c, err := s.signer.Verify(token, TypeAccess)
	if err != nil {
		if errors.Is(err, ErrExpiredToken) {
			return nil, nil, models.Unauthenticated("Token is expired.")
		}
		return nil, nil, models.Unauthenticated("Given token not valid for any token type.")
	}
	uid, _ := c.UserID()
	st, err := state(ctx, c.Session)
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return nil, nil, models.Unauthenticated("Token is invalid or expired.")
		}
		return nil, nil, err
	}
	switch {
	case st.User.ID != uid || st.Session.Kind != models.SessionAPI:
		return nil, nil, models.Unauthenticated("Given token not valid for any token type.")
	case !st.Session.Live(time.Now()):
		return nil, nil, models.Unauthenticated("Token is invalid or expired.")
	case !st.User.IsActive:
		return nil, nil, models.Unauthenticated("User is inactive.")
	}
	return c, st, nil
}
