package auth

import (
	"context"
	"log/slog"
	"time"

	"healthcare/database"
	"healthcare/models"
)

// Service is the one implementation of registration, sign-in, token
// refresh and sign-out; GraphQL, REST and the admin console call it.
type Service struct {
	Store  *database.Store
	Signer *Signer
	Log    *slog.Logger
	// Throttle limits sign-in and registration attempts; nil: no limits.
	Throttle *Throttle
}

// Result is a signed-in user with a fresh token pair.
type Result struct {
	User    *models.User
	Access  string
	Refresh string
}

// Register validates in, creates the account and signs it in.
func (s *Service) Register(ctx context.Context, in models.RegisterInput) (*Result, error) {
	if err := s.Throttle.register(ctx); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	u := &models.User{Name: in.Name, Email: in.Email, PasswordHash: hash, IsActive: true}
	if err := s.Store.Users.Create(ctx, u); err != nil {
		return nil, err
	}
	return s.issuePair(ctx, u, NewJTI())
}

// errBadCredentials is the one answer to an unknown email, a wrong password
// and an inactive account, so none can be told from the others.
var errBadCredentials = models.Unauthenticated("Invalid email or password.")

// Login checks the credentials and issues a new token family.
func (s *Service) Login(ctx context.Context, in models.LoginInput) (*Result, error) {
	u, err := s.Authenticate(ctx, in.Email, in.Password)
	if err != nil {
		return nil, err
	}
	if err := s.Store.Users.TouchLogin(ctx, u.ID); err != nil {
		return nil, err
	}
	return s.issuePair(ctx, u, NewJTI())
}

// Authenticate checks an email and password (throttled per account and per
// client address) and returns the account. An unknown email costs the same
// hash check as a wrong password, and both get the same answer. The admin
// console signs in with it directly. Both outcomes are audited: login, or
// login_failed with the account's id when the email names one (the
// attempted email itself is not recorded).
func (s *Service) Authenticate(ctx context.Context, email, password string) (*models.User, error) {
	in := models.LoginInput{Email: email, Password: password}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if err := s.Throttle.login(ctx, in.Email); err != nil {
		return nil, err
	}
	u, err := s.Store.Users.ByEmail(ctx, in.Email)
	if err != nil {
		if models.ErrorCode(err) != models.CodeNotFound {
			return nil, err
		}
		_, _ = CheckPassword(dummyHash, in.Password)
		return nil, s.loginFailed(ctx, 0)
	}
	ok, err := CheckPassword(u.PasswordHash, in.Password)
	if err != nil {
		return nil, err
	}
	if !ok || !u.IsActive {
		return nil, s.loginFailed(ctx, u.ID)
	}
	if err := s.Store.Audit.RecordAuth(ctx, models.AuditLogin, u.ID); err != nil {
		return nil, err
	}
	return u, nil
}

// loginFailed audits a refused sign-in of account userID (0: unknown email)
// and returns the one answer to it.
func (s *Service) loginFailed(ctx context.Context, userID int64) error {
	if err := s.Store.Audit.RecordAuth(ctx, models.AuditLoginFailed, userID); err != nil {
		return err
	}
	return errBadCredentials
}

var errBadRefresh = models.Unauthenticated("Token is invalid or expired.")

// Refresh spends a refresh token and issues the next pair of its family. A
// refresh token presented a second time revokes the whole family: whoever
// holds the newer one must sign in again.
func (s *Service) Refresh(ctx context.Context, raw string) (*Result, error) {
	c, err := s.Signer.Verify(raw, TypeRefresh)
	if err != nil {
		return nil, errBadRefresh
	}
	uid, _ := c.UserID()
	res, _, err := s.Store.Tokens.Use(ctx, c.ID, uid)
	if err != nil {
		return nil, err
	}
	switch res {
	case database.TokenReused:
		s.log().WarnContext(ctx, "refresh token reused; family revoked", "user_id", uid, "family", c.Family)
		if err := s.Store.Audit.RecordAuth(ctx, models.AuditTokenReuse, uid); err != nil {
			return nil, err
		}
		return nil, errBadRefresh
	case database.TokenInvalid:
		return nil, errBadRefresh
	}
	u, err := s.Store.Users.ByID(ctx, uid)
	if err != nil || !u.IsActive {
		if err != nil && models.ErrorCode(err) != models.CodeNotFound {
			return nil, err
		}
		return nil, errBadRefresh
	}
	return s.issuePair(ctx, u, c.Family)
}

// Logout revokes the family of a refresh token. A token that does not
// verify is Unauthenticated; one already revoked is revoked again quietly.
func (s *Service) Logout(ctx context.Context, raw string) error {
	c, err := s.Signer.Verify(raw, TypeRefresh)
	if err != nil {
		return errBadRefresh
	}
	uid, _ := c.UserID()
	family, err := s.Store.Tokens.Family(ctx, c.ID, uid)
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return errBadRefresh
		}
		return err
	}
	if err := s.Store.Tokens.RevokeFamily(ctx, family); err != nil {
		return err
	}
	return s.Store.Audit.RecordAuth(ctx, models.AuditLogout, uid)
}

// Me returns the viewer's account: the one the middleware read to check
// the token, when it is there, rather than reading it twice.
func (s *Service) Me(ctx context.Context, v models.Viewer) (*models.User, error) {
	if v.Anonymous() {
		return nil, models.Unauthenticated("")
	}
	if u := userFrom(ctx); u != nil && u.ID == v.UserID {
		return u, nil
	}
	return s.Store.Users.ByID(ctx, v.UserID)
}

// ChangePassword checks the viewer's current password, sets the new one,
// revokes every refresh token of the account (all devices must sign in
// again) and returns a fresh pair for this one. Access tokens issued before
// the change stop working too.
func (s *Service) ChangePassword(ctx context.Context, v models.Viewer, in models.ChangePasswordInput) (*Result, error) {
	if v.Anonymous() {
		return nil, models.Unauthenticated("")
	}
	u, err := s.Store.Users.ByID(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(u.Name, u.Email); err != nil {
		return nil, err
	}
	ok, err := CheckPassword(u.PasswordHash, in.CurrentPassword)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.InvalidField("current_password", "The current password is not correct.")
	}
	hash, err := HashPassword(in.NewPassword)
	if err != nil {
		return nil, err
	}
	if err := s.Store.Users.SetPassword(ctx, u.ID, hash); err != nil {
		return nil, err
	}
	if err := s.Store.Tokens.RevokeUser(ctx, u.ID); err != nil {
		return nil, err
	}
	return s.issuePair(ctx, u, NewJTI())
}

// CreateUser makes an account directly (createsuperuser, the admin console),
// with the same validation as registration.
func (s *Service) CreateUser(ctx context.Context, in models.RegisterInput, superuser bool) (*models.User, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	u := &models.User{Name: in.Name, Email: in.Email, PasswordHash: hash, IsActive: true, IsSuperuser: superuser}
	if err := s.Store.Users.Create(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Service) issuePair(ctx context.Context, u *models.User, family string) (*Result, error) {
	access, _, err := s.Signer.Issue(u.ID, TypeAccess, "")
	if err != nil {
		return nil, err
	}
	refresh, rc, err := s.Signer.Issue(u.ID, TypeRefresh, family)
	if err != nil {
		return nil, err
	}
	if err := s.Store.Tokens.Issue(ctx, &models.RefreshToken{
		JTI: rc.ID, FamilyID: family, UserID: u.ID, ExpiresAt: rc.ExpiresAt.Time.UTC(),
	}); err != nil {
		return nil, err
	}
	return &Result{User: u, Access: access, Refresh: refresh}, nil
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// PurgeExpired deletes refresh tokens that expired over a day ago.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	return s.Store.Tokens.Purge(ctx, time.Now().Add(-24*time.Hour))
}
