package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/scs/v2"

	"ecode/internal/audit"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/store"
)

// Service is the identity capability.
type Service struct {
	db        *store.DB
	opts      Options
	Sessions  *scs.SessionManager
	perIP     *limiter   // every login and sign-up attempt from one address
	perPair   *limiter   // failed logins against one account from one address
	strikes   *limiter   // failed logins against one account from anywhere: they slow it down
	confirms  *limiter   // password confirmations by a signed-in account
	devices   *limiter   // device codes issued to one address
	guesses   *limiter   // wrong user codes entered by one account or address
	deviceKey []byte     // signs known-device cookies
	audit     *audit.Log // records what happens to accounts; nil records nothing

	// beforeDelete and loginMethods are joined by the capabilities built
	// after this one, from their constructors (BeforeDelete, CountLogins),
	// and only read once the platform serves.
	beforeDelete []func(ctx context.Context, u *User) error
	loginMethods []func(ctx context.Context, u *User) (int, error)
}

// Options are the operator's choices for accounts and sessions.
type Options struct {
	SecureCookies bool          // mark cookies Secure: the platform is served over HTTPS
	AllowSignup   bool          // let anyone create an account
	IdleTimeout   time.Duration // a session unused this long ends; 0 means 14 days
	Lifetime      time.Duration // a session ends this long after login whatever; 0 means 30 days
	// DeviceKey signs the cookies that mark a browser as one an account
	// logged in from; nil draws a key that lasts as long as the process.
	DeviceKey []byte
	// PublicURL is where browsers reach the platform, for the page a device
	// login sends its person to; empty takes the request's own origin.
	PublicURL string
}

// NewService builds the identity service, recording to audits (nil
// records nothing). People and teams share the accounts' names, which it
// gives the log's listings.
func NewService(db *store.DB, audits *audit.Log, opts Options) *Service {
	if db == nil {
		panic("auth.NewService: nil db")
	}
	// scs.New starts a memory store's cleanup goroutine that the database
	// store below replaces. It is left to tick over an empty map: stopping
	// it races with its own start (memstore sets its stop channel in the
	// goroutine).
	sm := scs.New()
	sm.Store = sessionStore{db: db}
	sm.Lifetime, sm.IdleTimeout = 30*24*time.Hour, 14*24*time.Hour
	if opts.Lifetime > 0 {
		sm.Lifetime = opts.Lifetime
	}
	if opts.IdleTimeout > 0 {
		sm.IdleTimeout = opts.IdleTimeout
	}
	sm.Cookie.Name = "ecode_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = opts.SecureCookies
	sm.Cookie.Persist = true
	sm.ErrorFunc = httpx.Error
	key := opts.DeviceKey
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand never fails on Linux
	}
	s := &Service{
		db:        db,
		opts:      opts,
		Sessions:  sm,
		perIP:     newLimiter(perIPPerMinute, perIPBurst),
		perPair:   newLimiter(perPairPerMinute, perPairBurst),
		strikes:   newLimiter(strikesPerMinute, strikesMax),
		confirms:  newLimiter(6, 10),
		devices:   newLimiter(devicesPerMinute, devicesBurst),
		guesses:   newLimiter(guessesPerMinute, guessesBurst),
		deviceKey: key,
		audit:     audits,
	}
	audits.Names("user", s.Usernames)
	audits.Names("team", s.Usernames)
	return s
}

// BeforeDelete adds fn to what runs before an account is deleted: it
// removes or hands over what else the account holds, and an error keeps
// the account. The capabilities that hold such things call it from their
// constructors. The last joined runs first, as deferred calls do: one
// built later may use those built before it while it lets go (a team
// deletes its projects), and those must still hold their part then.
func (s *Service) BeforeDelete(fn func(ctx context.Context, u *User) error) {
	s.beforeDelete = append(s.beforeDelete, fn)
}

// CountLogins adds fn to the counts of the other ways u can log in
// (linked providers, passkeys), so the last one is never taken away. The
// capabilities that keep them call it from their constructors.
func (s *Service) CountLogins(fn func(ctx context.Context, u *User) (int, error)) {
	s.loginMethods = append(s.loginMethods, fn)
}

// Run does the service's background upkeep until ctx ends.
func (s *Service) Run(ctx context.Context) {
	sessionStore{db: s.db}.sweep(ctx, 10*time.Minute)
}

const sessionUserKey = "user_id"

// CreateUser makes an account after validating every field.
func (s *Service) CreateUser(ctx context.Context, username, email, password string) (*User, error) {
	username, err := NormalizeUsername(username)
	if err != nil {
		return nil, err
	}
	if email, err = NormalizeEmail(email); err != nil {
		return nil, err
	}
	if err := CheckPassword(password); err != nil {
		return nil, err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	u := &User{ID: store.NewID(), Username: username, Email: email, CreatedAt: store.Now()}
	if err := insertUser(ctx, s.db, u, hash); err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "account created", "user_id", u.ID, "username", u.Username)
	// Read back so the answer carries what the insert decided (has a password, first account is admin).
	return userByID(ctx, s.db, u.ID)
}

var errRateLimited = errs.RateLimited("rate_limited", "Too many attempts from this address; wait a little and try again.")

// ErrSignupClosed answers sign-ups the operator has closed.
var ErrSignupClosed = errs.Forbidden("signup_disabled", "Sign-up is closed on this server; ask an administrator for an account.")

// SignupAllowed reports whether anyone may create an account.
func (s *Service) SignupAllowed() bool { return s.opts.AllowSignup }

// signup creates an account and starts a session for it.
func (s *Service) signup(ctx context.Context, r *http.Request, username, email, password string) (*User, error) {
	if !s.opts.AllowSignup {
		return nil, ErrSignupClosed
	}
	if wait := s.perIP.take(ClientIP(r)); wait > 0 {
		return nil, rateLimited(wait)
	}
	u, err := s.CreateUser(ctx, username, email, password)
	if err != nil {
		return nil, err
	}
	s.audit.Record(ctx, u.AuditActor(), "account.create", u.AuditTarget(), nil)
	return u, s.StartSession(ctx, r, u)
}

// errSecondFactor tells the login handler the password was right and a
// security key is owed.
var errSecondFactor = errs.Unauthenticated("second_factor_required", "Confirm with your security key.")

// login checks a password and starts a session with a fresh token, or,
// for an account that requires a security key, holds the login until the
// key answers (see PendingSecondFactor).
//
// Every attempt costs one password hash comparison, whether the account
// exists, has a password, or not, so the time taken does not tell which
// names are accounts. Limits: see ratelimit.go.
func (s *Service) login(ctx context.Context, r *http.Request, login, password string) (*User, error) {
	ip := ClientIP(r)
	login = strings.ToLower(strings.TrimSpace(login))
	if login == "" || password == "" || len(login) > 254 || len(password) > maxPasswordBytes {
		return nil, errs.Invalid("invalid_credentials", "Enter your username or email and your password.")
	}
	if wait := s.perIP.take(ip); wait > 0 {
		return nil, rateLimited(wait)
	}
	u, hash, err := credentials(ctx, s.db, login)
	if err != nil {
		return nil, err
	}
	account := "login:" + login // unknown names are limited as accounts are, so limits tell nothing either
	if u != nil {
		account = "user:" + u.ID
	}
	pair := account + "@" + ip
	known := u != nil && s.knownDevice(r, u.ID)
	if !known {
		if wait := s.perPair.wait(pair); wait > 0 {
			return nil, rateLimited(wait)
		}
		// Before the comparison, so a right password cannot be told
		// from a wrong one by answering sooner.
		if err := pause(ctx, slowdown(s.strikes.spent(account))); err != nil {
			return nil, err
		}
	}
	if ok := checkPassword(password, hash); !ok || u == nil || hash == "" {
		if !known {
			s.perPair.take(pair)
			s.strikes.take(account)
		}
		slog.InfoContext(ctx, "login failed", "login", login, "ip", ip, "known_device", known)
		target := "login:" + login
		if u != nil {
			target = u.AuditTarget()
		}
		s.audit.Record(ctx, audit.Actor{}, "login.failure", target, map[string]any{"login": login})
		return nil, errs.Unauthenticated("invalid_credentials", "That username or email and password do not match.")
	}
	if u.DisabledAt != nil {
		return nil, errDisabled
	}
	s.audit.Record(ctx, u.AuditActor(), "login.password", u.AuditTarget(), map[string]any{"secondFactorNext": u.RequireKey})
	if u.RequireKey {
		if err := s.BeginSecondFactor(ctx, u); err != nil {
			return nil, err
		}
		return u, errSecondFactor
	}
	return u, s.StartSession(ctx, r, u)
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("login slowed down: %w", ctx.Err())
	}
}

// BeginSecondFactor holds a login whose first factor (a password, a
// provider) u passed until u's security key answers: see PendingSecondFactor.
func (s *Service) BeginSecondFactor(ctx context.Context, u *User) error {
	if u.DisabledAt != nil {
		return errDisabled
	}
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	s.Sessions.Put(ctx, pendingUserKey, u.ID)
	s.Sessions.Put(ctx, pendingAtKey, store.Now())
	return nil
}

// PendingSecondFactor returns the account whose password this session
// passed in the last few minutes and that still owes a security key.
func (s *Service) PendingSecondFactor(ctx context.Context) (*User, error) {
	id := s.Sessions.GetString(ctx, pendingUserKey)
	at := s.Sessions.GetInt64(ctx, pendingAtKey)
	if id == "" || store.Now()-at > secondFactorGrace.Milliseconds() {
		return nil, errs.Unauthenticated("no_pending_login", "Log in with your password first.")
	}
	return s.UserByID(ctx, id)
}

// UserByID returns an account.
func (s *Service) UserByID(ctx context.Context, id string) (*User, error) {
	return userByID(ctx, s.db, id)
}

// UserByUsername returns an account by its username.
func (s *Service) UserByUsername(ctx context.Context, username string) (*User, error) {
	return userByUsername(ctx, s.db, strings.ToLower(username))
}

const tokenPrefix = "ecode_"

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateToken issues a personal API token; the secret is returned only here.
func (s *Service) CreateToken(ctx context.Context, u *User, name string, expiresInDays int) (string, *Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return "", nil, errs.Invalid("invalid_name", "A token needs a name of 1 to 64 characters.")
	}
	if expiresInDays < 0 || expiresInDays > 3650 {
		return "", nil, errs.Invalid("invalid_expiry", "expiresInDays must be between 0 (never) and 3650.")
	}
	var raw [20]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, fmt.Errorf("token entropy: %w", err)
	}
	secret := tokenPrefix + strings.ToLower(tokenEncoding.EncodeToString(raw[:]))
	t := &Token{ID: store.NewID(), Name: name, CreatedAt: store.Now()}
	if expiresInDays > 0 {
		exp := time.Now().Add(time.Duration(expiresInDays) * 24 * time.Hour).UnixMilli()
		t.ExpiresAt = &exp
	}
	if err := insertToken(ctx, s.db, u.ID, hashToken(secret), t); err != nil {
		return "", nil, err
	}
	s.audit.Record(ctx, u.AuditActor(), "token.create", u.AuditTarget(), map[string]any{"token": t.ID, "name": t.Name})
	return secret, t, nil
}

// ListTokens lists u's tokens, newest first.
func (s *Service) ListTokens(ctx context.Context, u *User) ([]Token, error) {
	return listTokens(ctx, s.db, u.ID)
}

// RevokeToken deletes one of u's tokens.
func (s *Service) RevokeToken(ctx context.Context, u *User, id string) error {
	if err := deleteToken(ctx, s.db, u.ID, id); err != nil {
		return err
	}
	s.audit.Record(ctx, u.AuditActor(), "token.revoke", u.AuditTarget(), map[string]any{"token": id})
	return nil
}

type tokenKey struct{}

// withToken returns ctx noting that the caller authenticated with the API
// token id.
func withToken(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, tokenKey{}, id)
}

// tokenID is the id of the API token the request was authenticated with,
// or "" for a session or an anonymous caller.
func tokenID(ctx context.Context) string {
	id, _ := ctx.Value(tokenKey{}).(string)
	return id
}

var errNoToken = errs.Invalid("not_a_token", "This request was not made with an API token, so there is none to revoke; manage tokens in Settings.")

// RevokeCurrentToken deletes the API token the caller authenticated with:
// how a client logs out for good.
func (s *Service) RevokeCurrentToken(ctx context.Context, u *User) error {
	id := tokenID(ctx)
	if id == "" {
		return errNoToken
	}
	return s.RevokeToken(ctx, u, id)
}

var errBadToken = errs.Unauthenticated("invalid_token", "The API token is not valid; create a new one in Settings.")

// tokenUser resolves a Bearer secret to its account and the token's id.
func (s *Service) tokenUser(ctx context.Context, secret string) (*User, string, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 128 {
		return nil, "", errBadToken
	}
	t, err := tokenByHash(ctx, s.db, hashToken(secret))
	if errs.Is(err, errs.KindNotFound) {
		return nil, "", errBadToken
	}
	if err != nil {
		return nil, "", err
	}
	now := store.Now()
	if t.ExpiresAt != nil && *t.ExpiresAt <= now {
		return nil, "", errs.Unauthenticated("token_expired", "The API token %q has expired; create a new one in Settings.", t.Name)
	}
	// Recording use at most once a minute keeps authenticated reads free of writes.
	if t.LastUsedAt == nil || now-*t.LastUsedAt > int64(time.Minute/time.Millisecond) {
		if err := touchToken(ctx, s.db, t.ID, now); err != nil {
			slog.WarnContext(ctx, "record token use", "token_id", t.ID, "err", err)
		}
	}
	u, err := s.UserByID(ctx, t.UserID)
	if err == nil && u.DisabledAt != nil {
		return nil, "", errDisabled
	}
	return u, t.ID, err
}

// Middleware loads the session and resolves the caller from a Bearer token
// or the session cookie; anonymous requests pass through with no user.
func (s *Service) Middleware(next http.Handler) http.Handler {
	resolve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			secret, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				httpx.Error(w, r, errs.Unauthenticated("invalid_token", "Use the header Authorization: Bearer <token>."))
				return
			}
			u, id, err := s.tokenUser(ctx, strings.TrimSpace(secret))
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(withToken(WithUser(ctx, u), id)))
			return
		}
		if id := s.Sessions.GetString(ctx, sessionUserKey); id != "" {
			u, err := s.UserByID(ctx, id)
			switch {
			case err == nil && u.DisabledAt != nil:
				_ = s.Sessions.Destroy(ctx) // disabled: every session ends at its next request
			case err == nil:
				ctx = WithUser(ctx, u)
				s.touchSession(ctx, r, u)
			case errs.Is(err, errs.KindNotFound):
				_ = s.Sessions.Destroy(ctx) // the account is gone
			default:
				httpx.Error(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
	return s.Sessions.LoadAndSave(resolve)
}

// ErrUnauthenticated is answered to anonymous callers of routes that need an account.
var ErrUnauthenticated = errs.Unauthenticated("unauthenticated", "Log in to continue.")
