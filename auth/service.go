package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"time"

	"healthcare/database"
	"healthcare/models"
)

// Service is everything about accounts and credentials: registration,
// sign-in, tokens and sessions (the APIs' and the console's), throttling,
// password changes and resets, activation, roles and signing out
// everywhere, with the bounded hashing pool. GraphQL, REST, the admin
// console and the command line call it; none of them re-implements a step.
// Each operation checks its rules, writes in one transaction with its audit
// event, and revokes what it must.
type Service struct {
	store    *database.Store
	signer   *Signer
	log      *slog.Logger
	throttle *Throttle
	hasher   *Hasher
	cache    *sessionCache
}

// Options configure a Service.
type Options struct {
	Log *slog.Logger
	// Throttle limits credential checks and registrations; nil: no limits.
	Throttle *Throttle
	// Hasher bounds concurrent password hashing; nil: a pool of one per CPU.
	Hasher *Hasher
	// SessionCache is how long a session's state may be reused without
	// reading it again (while changes are heard from every node); 0: 1
	// minute, negative: never cached.
	SessionCache time.Duration
}

// NewService returns the service over store, signing tokens with signer.
func NewService(store *database.Store, signer *Signer, o Options) *Service {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Hasher == nil {
		o.Hasher = NewHasher(0, 0)
	}
	if o.SessionCache == 0 {
		o.SessionCache = time.Minute
	}
	return &Service{
		store: store, signer: signer, log: o.Log, throttle: o.Throttle, hasher: o.Hasher,
		cache: newSessionCache(store.Notifier(), max(o.SessionCache, 0)),
	}
}

// Result is a signed-in user with a fresh token pair.
type Result struct {
	User    *models.User
	Access  string
	Refresh string
}

// errBadCredentials is the one answer to an unknown email, a wrong password
// and an inactive account, so none can be told from the others.
var errBadCredentials = models.Unauthenticated("Invalid email or password.")

var errBadRefresh = models.Unauthenticated("Token is invalid or expired.")

func userRef(id int64) []models.AuditRef {
	if id == 0 {
		return nil
	}
	return []models.AuditRef{{Type: models.AuditUser, ID: id}}
}

// audit records an event about the account target by actor; in a
// transaction when st is one.
func audit(ctx context.Context, st *database.Store, actor int64, action models.AuditAction, target int64) error {
	return st.Record(ctx, models.AuditEntry{UserID: actor, Action: action, Refs: userRef(target)})
}

// Register validates in, creates the account and signs it in. A taken email
// is the contract's 400, and counts as a failure of the client's network
// (Throttle), like a wrong password.
func (s *Service) Register(ctx context.Context, in models.RegisterInput) (*Result, error) {
	if err := s.throttle.register(ctx); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	u := &models.User{Name: in.Name, Email: in.Email, PasswordHash: hash, IsActive: true}
	var res *Result
	err = s.store.InTx(ctx, func(tx *database.Store) error {
		if err := tx.Users.Create(ctx, u); err != nil {
			return err
		}
		if err := audit(ctx, tx, u.ID, models.AuditAccountCreated, u.ID); err != nil {
			return err
		}
		res, err = s.newAPISession(ctx, tx, u)
		return err
	})
	if err != nil {
		if _, dup := fieldError(err, "email"); dup {
			s.throttle.failed(ctx)
		}
		return nil, err
	}
	return res, nil
}

// fieldError returns the messages err has for field.
func fieldError(err error, field string) ([]string, bool) {
	if me, ok := err.(*models.Error); ok && me.Code == models.CodeInvalid {
		msgs, ok := me.Fields[field]
		return msgs, ok
	}
	return nil, false
}

// Login checks the credentials and starts a new API session.
func (s *Service) Login(ctx context.Context, in models.LoginInput) (*Result, error) {
	u, err := s.Authenticate(ctx, in.Email, in.Password)
	if err != nil {
		return nil, err
	}
	var res *Result
	err = s.store.InTx(ctx, func(tx *database.Store) error {
		if err := tx.Users.TouchLogin(ctx, u.ID); err != nil {
			return err
		}
		res, err = s.newAPISession(ctx, tx, u)
		return err
	})
	return res, err
}

// Authenticate checks an email and password (Throttle) and returns the
// account. An unknown email costs the same hash check as a wrong password,
// and both get the same answer. Both outcomes are audited: login, or
// login_failed with the account's id when the email names one (the
// attempted email itself is not recorded).
func (s *Service) Authenticate(ctx context.Context, email, password string) (*models.User, error) {
	in := models.LoginInput{Email: email, Password: password}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	done, err := s.throttle.attempt(ctx, in.Email)
	if err != nil {
		return nil, err
	}
	// Only a refused credential counts; an attempt the server could not
	// check (a busy hashing pool, a database error) is taken back.
	refused := false
	defer func() { done(!refused) }()
	u, err := s.store.Users.ByEmail(ctx, in.Email)
	if err != nil {
		if models.ErrorCode(err) != models.CodeNotFound {
			return nil, err
		}
		if _, err := s.hasher.Check(ctx, dummyHash, in.Password); err != nil {
			return nil, err
		}
		refused = true
		return nil, s.refused(ctx, 0)
	}
	ok, err := s.hasher.Check(ctx, u.PasswordHash, in.Password)
	if err != nil {
		return nil, err
	}
	if !ok || !u.IsActive {
		refused = true
		return nil, s.refused(ctx, u.ID)
	}
	if err := audit(ctx, s.store, u.ID, models.AuditLogin, u.ID); err != nil {
		return nil, err
	}
	if NeedsRehash(u.PasswordHash) {
		// An older hash (an imported Django one): store the password
		// hashed as ours now that we have it, as Django itself upgrades
		// hashes. A failure leaves the old hash, which still verifies.
		if h, err := s.hasher.Hash(ctx, in.Password); err == nil {
			if err := s.store.Users.UpgradeHash(ctx, u.ID, u.PasswordHash, h); err != nil {
				s.log.WarnContext(ctx, "upgrade password hash", "user_id", u.ID, "err", err)
			} else {
				u.PasswordHash = h
			}
		}
	}
	return u, nil
}

// refused audits a refused sign-in of account userID (0: unknown email)
// and returns the one answer to it.
func (s *Service) refused(ctx context.Context, userID int64) error {
	if err := audit(ctx, s.store, userID, models.AuditLoginFailed, userID); err != nil {
		return err
	}
	return errBadCredentials
}

// newAPISession starts an API session of u in tx and issues its first pair.
func (s *Service) newAPISession(ctx context.Context, tx *database.Store, u *models.User) (*Result, error) {
	info := models.RequestInfoFrom(ctx)
	ses := &models.Session{
		ID: NewJTI(), UserID: u.ID, Kind: models.SessionAPI,
		ExpiresAt: time.Now().Add(s.signer.RefreshTTL).UTC(), IP: info.IP, UserAgent: info.UserAgent,
	}
	if err := tx.Sessions.Create(ctx, ses); err != nil {
		return nil, err
	}
	return s.issuePair(ctx, tx, u, ses.ID)
}

// issuePair issues an access token and a refresh token of session sid.
func (s *Service) issuePair(ctx context.Context, tx *database.Store, u *models.User, sid string) (*Result, error) {
	access, _, err := s.signer.Issue(u.ID, TypeAccess, sid)
	if err != nil {
		return nil, err
	}
	refresh, rc, err := s.signer.Issue(u.ID, TypeRefresh, sid)
	if err != nil {
		return nil, err
	}
	if err := tx.Tokens.Issue(ctx, &models.RefreshToken{
		JTI: rc.ID, FamilyID: sid, UserID: u.ID, ExpiresAt: rc.ExpiresAt.Time.UTC(),
	}); err != nil {
		return nil, err
	}
	return &Result{User: u, Access: access, Refresh: refresh}, nil
}

// Refresh spends a refresh token and issues the next pair of its session.
// A refresh token presented a second time revokes the whole session, its
// access tokens included: whoever holds the newer ones must sign in again.
func (s *Service) Refresh(ctx context.Context, raw string) (*Result, error) {
	c, err := s.signer.Verify(raw, TypeRefresh)
	if err != nil {
		return nil, errBadRefresh
	}
	uid, _ := c.UserID()
	var res *Result
	var reused bool
	err = s.store.InTx(ctx, func(tx *database.Store) error {
		outcome, _, err := tx.Tokens.Use(ctx, c.ID, uid)
		if err != nil {
			return err
		}
		switch outcome {
		case database.TokenReused:
			reused = true
			return audit(ctx, tx, uid, models.AuditTokenReuse, uid)
		case database.TokenInvalid:
			return errBadRefresh
		}
		st, err := tx.Sessions.State(ctx, c.Family)
		if err != nil || !st.Session.Live(time.Now()) || !st.User.IsActive || st.User.ID != uid {
			if err != nil && models.ErrorCode(err) != models.CodeNotFound {
				return err
			}
			return errBadRefresh
		}
		res, err = s.issuePair(ctx, tx, st.User, c.Family)
		return err
	})
	if reused {
		s.log.WarnContext(ctx, "refresh token reused; its session is revoked", "user_id", uid, "session", c.Family)
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Logout revokes the session of a refresh token, with every token of it.
// A token that does not verify is Unauthenticated; one already revoked is
// revoked again quietly.
func (s *Service) Logout(ctx context.Context, raw string) error {
	c, err := s.signer.Verify(raw, TypeRefresh)
	if err != nil {
		return errBadRefresh
	}
	uid, _ := c.UserID()
	family, err := s.store.Tokens.Family(ctx, c.ID, uid)
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return errBadRefresh
		}
		return err
	}
	return s.store.InTx(ctx, func(tx *database.Store) error {
		if err := tx.Sessions.Revoke(ctx, family); err != nil {
			return err
		}
		return audit(ctx, tx, uid, models.AuditLogout, uid)
	})
}

// Me returns the viewer's account: the one read to check the token.
func (s *Service) Me(ctx context.Context, v models.Viewer) (*models.User, error) {
	if v.Anonymous() {
		return nil, models.Unauthenticated("")
	}
	if u := userFrom(ctx); u != nil && u.ID == v.UserID {
		return u, nil
	}
	return s.store.Users.ByID(ctx, v.UserID)
}

// ChangePassword checks the viewer's current password (throttled like a
// sign-in, sharing its budget), sets the new one, revokes every session of
// the account (all devices must sign in again) and starts a new one for
// this device. A wrong current password is audited as
// password_change_failed, a change as password_changed.
func (s *Service) ChangePassword(ctx context.Context, v models.Viewer, in models.ChangePasswordInput) (*Result, error) {
	if v.Anonymous() {
		return nil, models.Unauthenticated("")
	}
	u, err := s.store.Users.ByID(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(u.Name, u.Email); err != nil {
		return nil, err
	}
	done, err := s.throttle.attempt(ctx, u.Email)
	if err != nil {
		return nil, err
	}
	refused := false // as in Authenticate: only a wrong password counts
	defer func() { done(!refused) }()
	ok, err := s.hasher.Check(ctx, u.PasswordHash, in.CurrentPassword)
	if err != nil {
		return nil, err
	}
	if !ok {
		refused = true
		if err := audit(ctx, s.store, u.ID, models.AuditPasswordChangeFailed, u.ID); err != nil {
			return nil, err
		}
		return nil, models.InvalidField("current_password", "The current password is not correct.")
	}
	hash, err := s.hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		return nil, err
	}
	var res *Result
	err = s.store.InTx(ctx, func(tx *database.Store) error {
		if err := tx.Users.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return err
		}
		if _, err := tx.Sessions.RevokeUser(ctx, u.ID); err != nil {
			return err
		}
		if err := audit(ctx, tx, u.ID, models.AuditPasswordChanged, u.ID); err != nil {
			return err
		}
		u.PasswordHash = hash
		res, err = s.newAPISession(ctx, tx, u)
		return err
	})
	return res, err
}

// CreateUser makes an account for a superuser viewer (the admin console),
// with the same validation as registration.
func (s *Service) CreateUser(ctx context.Context, v models.Viewer, in models.RegisterInput, superuser bool) (*models.User, error) {
	if err := v.RequireSuperuser(models.ManageAccounts); err != nil {
		return nil, err
	}
	return s.createUser(ctx, v.UserID, in, superuser)
}

// CreateSuperuser makes a superuser account from the command line
// (createsuperuser), with the same validation as registration.
func (s *Service) CreateSuperuser(ctx context.Context, in models.RegisterInput) (*models.User, error) {
	return s.createUser(ctx, 0, in, true)
}

func (s *Service) createUser(ctx context.Context, actor int64, in models.RegisterInput, superuser bool) (*models.User, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	u := &models.User{Name: in.Name, Email: in.Email, PasswordHash: hash, IsActive: true, IsSuperuser: superuser}
	err = s.store.InTx(ctx, func(tx *database.Store) error {
		if err := tx.Users.Create(ctx, u); err != nil {
			return err
		}
		if actor == 0 {
			actor = u.ID
		}
		return audit(ctx, tx, actor, models.AuditAccountCreated, u.ID)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// manage loads account id for superuser v to change, refusing changes to
// v's own account when selfMsg is set (they would lock v out).
func (s *Service) manage(ctx context.Context, tx *database.Store, v models.Viewer, id int64, selfMsg string) (*models.User, error) {
	u, err := tx.Users.Manage(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if selfMsg != "" && u.ID == v.UserID {
		return nil, models.InvalidField("user", selfMsg)
	}
	return u, nil
}

// SetActive activates or deactivates account id (superusers only, never
// their own). Deactivating revokes every session of the account.
func (s *Service) SetActive(ctx context.Context, v models.Viewer, id int64, active bool) (*models.User, error) {
	var u *models.User
	err := s.store.InTx(ctx, func(tx *database.Store) error {
		var err error
		if u, err = s.manage(ctx, tx, v, id, "You cannot deactivate your own account."); err != nil {
			return err
		}
		if u.IsActive == active {
			return nil
		}
		if err := tx.Users.SetFlags(ctx, v, id, active, u.IsSuperuser); err != nil {
			return err
		}
		u.IsActive = active
		action := models.AuditAccountActivated
		if !active {
			action = models.AuditAccountDeactivated
			if _, err := tx.Sessions.RevokeUser(ctx, id); err != nil {
				return err
			}
		}
		return audit(ctx, tx, v.UserID, action, id)
	})
	return u, err
}

// SetSuperuser grants or revokes superuser status of account id
// (superusers only, never their own).
func (s *Service) SetSuperuser(ctx context.Context, v models.Viewer, id int64, superuser bool) (*models.User, error) {
	var u *models.User
	err := s.store.InTx(ctx, func(tx *database.Store) error {
		var err error
		if u, err = s.manage(ctx, tx, v, id, "You cannot remove your own superuser status."); err != nil {
			return err
		}
		if u.IsSuperuser == superuser {
			return nil
		}
		if err := tx.Users.SetFlags(ctx, v, id, u.IsActive, superuser); err != nil {
			return err
		}
		u.IsSuperuser = superuser
		action := models.AuditSuperuserGranted
		if !superuser {
			action = models.AuditSuperuserRevoked
		}
		return audit(ctx, tx, v.UserID, action, id)
	})
	return u, err
}

// ResetPassword sets a new password for account id (superusers only, from
// the admin console; their own too) and revokes every session of it. For
// the viewer's own account it starts a new console session in the same
// transaction and returns its cookie secret, so the browser that made the
// change stays signed in.
func (s *Service) ResetPassword(ctx context.Context, v models.Viewer, id int64, in models.SetPasswordInput) (*models.User, string, error) {
	u, err := s.store.Users.Manage(ctx, v, id)
	if err != nil {
		return nil, "", err
	}
	if err := in.Validate(u.Name, u.Email); err != nil {
		return nil, "", err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, "", err
	}
	var secret string
	err = s.store.InTx(ctx, func(tx *database.Store) error {
		if err := tx.Users.SetPasswordHash(ctx, id, hash); err != nil {
			return err
		}
		if _, err := tx.Sessions.RevokeUser(ctx, id); err != nil {
			return err
		}
		if err := audit(ctx, tx, v.UserID, models.AuditPasswordReset, id); err != nil {
			return err
		}
		if id == v.UserID {
			secret, _, err = s.newConsoleSession(ctx, tx, u)
		}
		return err
	})
	if err != nil {
		return nil, "", err
	}
	u.PasswordHash = hash
	return u, secret, nil
}

// SignOutEverywhere revokes every session of account id: the viewer's own,
// or any account's for a superuser. It returns how many were live.
func (s *Service) SignOutEverywhere(ctx context.Context, v models.Viewer, id int64) (int, error) {
	if v.Anonymous() {
		return 0, models.Unauthenticated("")
	}
	var n int
	err := s.store.InTx(ctx, func(tx *database.Store) error {
		if id != v.UserID {
			if _, err := tx.Users.Manage(ctx, v, id); err != nil {
				return err
			}
		}
		var err error
		if n, err = tx.Sessions.RevokeUser(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, v.UserID, models.AuditSignOutAll, id)
	})
	return n, err
}

// ConsoleSession is a signed-in admin console session.
type ConsoleSession struct {
	ID   string // the session's id (not the cookie's secret)
	User *models.User
	CSRF string // the token every form of the session carries
}

// consoleID is the session id of a console cookie's secret: only its hash
// is stored, so the database does not hold usable cookies.
func consoleID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ConsoleLogin signs a superuser in to the admin console (throttled and
// audited as any sign-in) and returns the cookie's secret and the session.
// Any other account is Forbidden.
func (s *Service) ConsoleLogin(ctx context.Context, email, password string) (string, *ConsoleSession, error) {
	u, err := s.Authenticate(ctx, email, password)
	if err != nil {
		return "", nil, err
	}
	if !u.IsSuperuser {
		s.log.WarnContext(ctx, "admin console sign-in refused: not a superuser", "user_id", u.ID)
		return "", nil, models.Forbidden("This account may not use the admin console.")
	}
	var token string
	var cs *ConsoleSession
	err = s.store.InTx(ctx, func(tx *database.Store) error {
		if err := tx.Users.TouchLogin(ctx, u.ID); err != nil {
			return err
		}
		token, cs, err = s.newConsoleSession(ctx, tx, u)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return token, cs, nil
}

// newConsoleSession starts a console session of u in tx and returns its
// cookie secret.
func (s *Service) newConsoleSession(ctx context.Context, tx *database.Store, u *models.User) (string, *ConsoleSession, error) {
	token := randomToken(32)
	info := models.RequestInfoFrom(ctx)
	ses := &models.Session{
		ID: consoleID(token), UserID: u.ID, Kind: models.SessionConsole, CSRF: randomToken(24),
		ExpiresAt: time.Now().Add(consoleTTL).UTC(), IP: info.IP, UserAgent: info.UserAgent,
	}
	if err := tx.Sessions.Create(ctx, ses); err != nil {
		return "", nil, err
	}
	return token, &ConsoleSession{ID: ses.ID, User: u, CSRF: ses.CSRF}, nil
}

// consoleTTL is how long a console sign-in lasts.
const consoleTTL = 8 * time.Hour

// ConsoleTTL is how long a console sign-in lasts.
func (s *Service) ConsoleTTL() time.Duration { return consoleTTL }

// Console returns the session of a console cookie's secret: Unauthenticated
// unless it is live and its account is an active superuser.
func (s *Service) Console(ctx context.Context, token string) (*ConsoleSession, error) {
	if token == "" {
		return nil, models.Unauthenticated("")
	}
	st, err := s.cache.get(ctx, s.store, consoleID(token))
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return nil, models.Unauthenticated("Your session has ended.")
		}
		return nil, err
	}
	if st.Session.Kind != models.SessionConsole || !st.Session.Live(time.Now()) || !st.User.IsActive || !st.User.IsSuperuser {
		return nil, models.Unauthenticated("Your session has ended.")
	}
	return &ConsoleSession{ID: st.Session.ID, User: st.User, CSRF: st.Session.CSRF}, nil
}

// ConsoleLogout ends the console session cs.
func (s *Service) ConsoleLogout(ctx context.Context, cs *ConsoleSession) error {
	return s.store.InTx(ctx, func(tx *database.Store) error {
		if err := tx.Sessions.Revoke(ctx, cs.ID); err != nil {
			return err
		}
		return audit(ctx, tx, cs.User.ID, models.AuditLogout, cs.User.ID)
	})
}

// PurgeExpired deletes sessions and refresh tokens that ended over a day ago.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	return s.store.Sessions.Purge(ctx, time.Now().Add(-24*time.Hour))
}
