package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"ecode/internal/audit"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/store"
)

// Session keys besides the user id.
const (
	sessionSeenKey    = "seen"        // when session_info.last_seen was last written, unix ms
	pendingUserKey    = "pending_uid" // passed the password, owes a security key
	pendingAtKey      = "pending_at"
	secondFactorGrace = 5 * time.Minute
)

// ClientIP is the address r comes from, as Observe worked it out (behind
// trusted proxies, the forwarded one); the peer when Observe did not run.
func ClientIP(r *http.Request) string {
	if c := httpx.ClientFrom(r.Context()); c.IP != "" {
		return c.IP
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// StartSession logs u in on this request's session with a fresh token
// (defeating session fixation) and records where it is used from.
func (s *Service) StartSession(ctx context.Context, r *http.Request, u *User) error {
	if u.DisabledAt != nil {
		return errDisabled
	}
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	s.Sessions.Remove(ctx, pendingUserKey)
	s.Sessions.Remove(ctx, pendingAtKey)
	s.Sessions.Put(ctx, sessionUserKey, u.ID)
	now := store.Now()
	s.Sessions.Put(ctx, sessionSeenKey, now)
	_, err := s.db.Exec(ctx, `INSERT INTO session_info (token, user_id, ip, user_agent, created_at, last_seen) VALUES (?, ?, ?, ?, ?, ?)`,
		s.Sessions.Token(ctx), u.ID, ClientIP(r), clipUA(r.UserAgent()), now, now)
	if err != nil {
		return fmt.Errorf("record session: %w", err)
	}
	s.audit.Record(ctx, u.AuditActor(), "login", u.AuditTarget(), nil)
	return nil
}

func clipUA(ua string) string {
	if len(ua) > 400 {
		return ua[:400]
	}
	return ua
}

// touchSession notes, at most once a minute, that the session was used.
func (s *Service) touchSession(ctx context.Context, r *http.Request, u *User) {
	now := store.Now()
	if seen := s.Sessions.GetInt64(ctx, sessionSeenKey); now-seen < time.Minute.Milliseconds() {
		return
	}
	s.Sessions.Put(ctx, sessionSeenKey, now)
	_, err := s.db.Exec(ctx, `INSERT INTO session_info (token, user_id, ip, user_agent, created_at, last_seen) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET ip = excluded.ip, user_agent = excluded.user_agent, last_seen = excluded.last_seen`,
		s.Sessions.Token(ctx), u.ID, ClientIP(r), clipUA(r.UserAgent()), now, now)
	if err != nil {
		slog.WarnContext(ctx, "record session use", "err", err)
	}
}

// Session is one place a person is logged in, as they see it.
type Session struct {
	ID        string `json:"id"` // not the token: a hash of it
	IP        string `json:"ip" db:"ip"`
	UserAgent string `json:"userAgent" db:"user_agent"`
	Browser   string `json:"browser"`
	Device    string `json:"device"`
	CreatedAt int64  `json:"createdAt" db:"created_at"`
	LastSeen  int64  `json:"lastSeen" db:"last_seen"`
	Current   bool   `json:"current"`
	Token     string `json:"-" db:"token"`
}

func sessionID(token string) string {
	sum := sha256.Sum256([]byte("session:" + token))
	return hex.EncodeToString(sum[:12])
}

// ListSessions lists u's live sessions, the current one first.
func (s *Service) ListSessions(ctx context.Context, u *User) ([]Session, error) {
	out := []Session{}
	err := s.db.Select(ctx, &out, `SELECT i.token, i.ip, i.user_agent, i.created_at, i.last_seen FROM session_info i
		JOIN sessions x ON x.token = i.token WHERE i.user_id = ? AND x.expiry > ? ORDER BY i.last_seen DESC`, u.ID, store.Now())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	current := s.Sessions.Token(ctx)
	for i := range out {
		out[i].ID = sessionID(out[i].Token)
		out[i].Current = out[i].Token == current
		out[i].Browser, out[i].Device = describeAgent(out[i].UserAgent)
	}
	for i := range out {
		if out[i].Current && i > 0 {
			out[0], out[i] = out[i], out[0]
		}
	}
	return out, nil
}

// EndSession ends one of u's sessions by its id; it is refused at once.
func (s *Service) EndSession(ctx context.Context, u *User, id string) error {
	sessions, err := s.ListSessions(ctx, u)
	if err != nil {
		return err
	}
	for _, x := range sessions {
		if x.ID == id {
			s.audit.Record(ctx, u.AuditActor(), "session.end", u.AuditTarget(), map[string]any{"ip": x.IP, "browser": x.Browser, "device": x.Device})
			return s.endSessions(ctx, u.ID, x.Token)
		}
	}
	return errs.NotFound("not_found", "No such session.")
}

// EndOtherSessions ends every session of u but the current one.
func (s *Service) EndOtherSessions(ctx context.Context, u *User) error {
	s.audit.Record(ctx, u.AuditActor(), "session.end_others", u.AuditTarget(), nil)
	return s.endSessions(ctx, u.ID, "", s.Sessions.Token(ctx))
}

// endSessions deletes u's sessions: the one named by token, or with no
// token every one but keep.
func (s *Service) endSessions(ctx context.Context, userID, token string, keep ...string) error {
	return s.db.Tx(ctx, func(q store.Q) error {
		var tokens []string
		if token != "" {
			tokens = []string{token}
		} else if err := q.Select(ctx, &tokens, `SELECT token FROM session_info WHERE user_id = ?`, userID); err != nil {
			return err
		}
		for _, t := range tokens {
			if len(keep) > 0 && t == keep[0] {
				continue
			}
			if _, err := q.Exec(ctx, `DELETE FROM sessions WHERE token = ?`, t); err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `DELETE FROM session_info WHERE token = ?`, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// describeAgent names the browser and the device of a User-Agent header.
func describeAgent(ua string) (browser, device string) {
	has := func(s string) bool { return strings.Contains(ua, s) }
	switch {
	case has("Edg/"):
		browser = "Edge"
	case has("OPR/"):
		browser = "Opera"
	case has("Firefox/"):
		browser = "Firefox"
	case has("Chrome/") || has("Chromium/") || has("HeadlessChrome"):
		browser = "Chrome"
	case has("Safari/"):
		browser = "Safari"
	case has("curl/"):
		browser = "curl"
	default:
		browser = "Unknown browser"
	}
	switch {
	case has("iPhone") || has("iPad"):
		device = "iOS"
	case has("Android"):
		device = "Android"
	case has("Windows"):
		device = "Windows"
	case has("Mac OS X") || has("Macintosh"):
		device = "macOS"
	case has("CrOS"):
		device = "ChromeOS"
	case has("Linux"):
		device = "Linux"
	default:
		device = "Unknown device"
	}
	return browser, device
}

var errDisabled = errs.Forbidden("account_disabled", "This account is disabled; ask an administrator.")

// AccountChange is what PATCH /api/auth/me may change.
type AccountChange struct {
	Username        *string `json:"username"`
	Email           *string `json:"email"`
	CurrentPassword string  `json:"currentPassword"`
}

// UpdateAccount changes u's username or email. A new email needs the
// password, where the account has one: it is how the account is recovered.
func (s *Service) UpdateAccount(ctx context.Context, u *User, c AccountChange) (*User, error) {
	next := *u
	if c.Username != nil {
		name, err := NormalizeUsername(*c.Username)
		if err != nil {
			return nil, err
		}
		next.Username = name
	}
	if c.Email != nil {
		email, err := NormalizeEmail(*c.Email)
		if err != nil {
			return nil, err
		}
		if email != u.Email {
			if err := s.confirmPassword(ctx, u, c.CurrentPassword); err != nil {
				return nil, err
			}
		}
		next.Email = email
	}
	_, err := s.db.Exec(ctx, `UPDATE users SET username = ?, email = ?, updated_at = ? WHERE id = ?`, next.Username, next.Email, store.Now(), u.ID)
	if store.IsUnique(err) {
		var n int
		if err := s.db.Get(ctx, &n, `SELECT COUNT(*) FROM users WHERE username = ? AND id <> ?`, next.Username, u.ID); err == nil && n > 0 {
			return nil, errNameTaken(next.Username)
		}
		return nil, errs.Conflict("email_taken", "Another account uses this email.")
	}
	if err != nil {
		return nil, fmt.Errorf("update account: %w", err)
	}
	slog.InfoContext(ctx, "account changed", "user_id", u.ID, "username", next.Username)
	s.audit.Record(ctx, u.AuditActor(), "account.update", u.AuditTarget(),
		map[string]any{"username": [2]string{u.Username, next.Username}, "emailChanged": next.Email != u.Email})
	return s.UserByID(ctx, u.ID)
}

// confirmPassword checks password against u's, when u has one.
func (s *Service) confirmPassword(ctx context.Context, u *User, password string) error {
	if !u.HasPassword {
		return nil
	}
	_, hash, err := credentials(ctx, s.db, u.Username)
	if err != nil {
		return err
	}
	if wait := s.confirms.take(u.ID); wait > 0 {
		return rateLimited(wait)
	}
	if !checkPassword(password, hash) {
		return errs.Invalid("wrong_password", "Your current password is not right.")
	}
	return nil
}

// ChangePassword sets u's password (the current one is needed when there
// is one) and ends every other session of u.
func (s *Service) ChangePassword(ctx context.Context, u *User, current, next string) error {
	if err := s.confirmPassword(ctx, u, current); err != nil {
		return err
	}
	if err := CheckPassword(next); err != nil {
		return err
	}
	hash, err := hashPassword(next)
	if err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, store.Now(), u.ID); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	slog.InfoContext(ctx, "password changed", "user_id", u.ID)
	s.audit.Record(ctx, u.AuditActor(), "password.change", u.AuditTarget(), nil)
	return s.EndOtherSessions(ctx, u)
}

// DeleteAccount removes u and everything u owns, once u confirms with
// their username (and password, where they have one).
func (s *Service) DeleteAccount(ctx context.Context, u *User, confirm, password string) error {
	if !strings.EqualFold(strings.TrimSpace(confirm), u.Username) {
		return errs.Invalid("confirm_username", "Type your username to confirm.")
	}
	if err := s.confirmPassword(ctx, u, password); err != nil {
		return err
	}
	for _, fn := range slices.Backward(s.beforeDelete) {
		if err := fn(ctx, u); err != nil {
			return fmt.Errorf("delete what %s owns: %w", u.Username, err)
		}
	}
	if err := s.endSessions(ctx, u.ID, ""); err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM users WHERE id = ?`, u.ID); err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	slog.InfoContext(ctx, "account deleted", "user_id", u.ID, "username", u.Username)
	s.audit.Record(ctx, u.AuditActor(), "account.delete", u.AuditTarget(), map[string]any{"username": u.Username})
	return s.Sessions.Destroy(ctx)
}

// SetDisabled disables or enables an account; disabling ends its sessions
// and refuses its tokens.
func (s *Service) SetDisabled(ctx context.Context, username string, disabled bool) error {
	u, err := s.UserByUsername(ctx, username)
	if err != nil {
		return err
	}
	var at *int64
	if disabled {
		now := store.Now()
		at = &now
	}
	if _, err := s.db.Exec(ctx, `UPDATE users SET disabled_at = ? WHERE id = ?`, at, u.ID); err != nil {
		return fmt.Errorf("disable account: %w", err)
	}
	s.audit.Record(ctx, audit.Actor{Name: "operator"}, map[bool]string{true: "admin.disable_user", false: "admin.enable_user"}[disabled], u.AuditTarget(), nil)
	if disabled {
		return s.endSessions(ctx, u.ID, "")
	}
	return nil
}

// SetRequireKey sets whether u must confirm logins with a security key.
func (s *Service) SetRequireKey(ctx context.Context, u *User, require bool) error {
	if _, err := s.db.Exec(ctx, `UPDATE users SET require_key = ? WHERE id = ?`, require, u.ID); err != nil {
		return fmt.Errorf("set second factor: %w", err)
	}
	s.audit.Record(ctx, u.AuditActor(), "second_factor.set", u.AuditTarget(), map[string]any{"required": require})
	return nil
}

// CreateExternalUser makes an account with no password, for a person who
// signs up through a provider.
func (s *Service) CreateExternalUser(ctx context.Context, username, email string) (*User, error) {
	if !s.opts.AllowSignup {
		return nil, ErrSignupClosed
	}
	username, err := NormalizeUsername(username)
	if err != nil {
		return nil, err
	}
	if email, err = NormalizeEmail(email); err != nil {
		return nil, err
	}
	u := &User{ID: store.NewID(), Username: username, Email: email, CreatedAt: store.Now()}
	if err := insertUser(ctx, s.db, u, ""); err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "account created through a provider", "user_id", u.ID, "username", u.Username)
	return u, nil
}

// UserByEmail returns the account with this email.
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := s.db.Get(ctx, &u, `SELECT `+userCols+` FROM users WHERE email = ? AND kind = 'user'`, strings.ToLower(strings.TrimSpace(email)))
	return found(&u, err, "user")
}

// CanRemoveLoginMethod reports whether u keeps a way to log in after
// losing one: the password counts, and whatever CountLogins joined.
func (s *Service) CanRemoveLoginMethod(ctx context.Context, u *User) error {
	n := 0
	if u.HasPassword {
		n++
	}
	for _, count := range s.loginMethods {
		m, err := count(ctx, u)
		if err != nil {
			return err
		}
		n += m
	}
	if n <= 1 {
		return errs.Conflict("last_login_method", "This is your only way to log in: set a password or add another first.")
	}
	return nil
}

// SetAdmin makes an account a platform administrator, or not.
func (s *Service) SetAdmin(ctx context.Context, username string, admin bool) error {
	u, err := s.UserByUsername(ctx, username)
	if err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `UPDATE users SET is_admin = ? WHERE id = ?`, admin, u.ID); err != nil {
		return fmt.Errorf("set admin: %w", err)
	}
	s.audit.Record(ctx, audit.Actor{Name: "operator"}, map[bool]string{true: "admin.grant", false: "admin.revoke"}[admin], u.AuditTarget(), nil)
	return nil
}

// ErrNotAdmin answers platform routes called by someone who is not an administrator.
var ErrNotAdmin = errs.Forbidden("forbidden", "Only platform administrators can do that.")

// RequireAdmin returns the caller when they administer the platform, or
// answers 401/403 and returns nil.
func RequireAdmin(w http.ResponseWriter, r *http.Request) *User {
	u := Require(w, r)
	if u != nil && !u.IsAdmin {
		httpx.Error(w, r, ErrNotAdmin)
		return nil
	}
	return u
}
