// Package auth knows who is asking: accounts with argon2id passwords,
// server-side sessions in the platform database, personal API tokens (kept
// only as hashes), and rate limits on guessing. It attaches the caller to the
// request context; what the caller may do is access's business.
package auth

import (
	"context"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"ecode/internal/audit"
	"ecode/internal/errs"
)

// User is an account as the API shows it.
type User struct {
	ID          string `json:"id" db:"id"`
	Username    string `json:"username" db:"username"`
	Email       string `json:"email" db:"email"`
	CreatedAt   int64  `json:"createdAt" db:"created_at"`
	HasPassword bool   `json:"hasPassword" db:"has_password"` // false for accounts made through a provider
	RequireKey  bool   `json:"requireKey" db:"require_key"`   // a security key after the password
	IsAdmin     bool   `json:"isAdmin" db:"is_admin"`         // a platform administrator
	DisabledAt  *int64 `json:"-" db:"disabled_at"`
}

// AuditActor is u as the audit log names who did something.
func (u *User) AuditActor() audit.Actor { return audit.Actor{ID: u.ID, Name: u.Username} }

// AuditTarget is u as the audit log names what something was done to.
func (u *User) AuditTarget() string { return audit.Target("user", u.ID) }

type ctxKey struct{}

// WithUser returns ctx carrying u as the caller.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// UserFrom returns the caller, or nil for an anonymous request.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(ctxKey{}).(*User)
	return u
}

// Actor returns the request's caller, or nil when anonymous.
func Actor(r *http.Request) *User { return UserFrom(r.Context()) }

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{2,31}$`)

// reserved names would collide with UI routes or mislead people.
var reserved = map[string]bool{
	"admin": true, "api": true, "assets": true, "login": true, "logout": true, "signup": true,
	"settings": true, "new": true, "root": true, "system": true, "ecode": true, "support": true,
	"help": true, "docs": true, "static": true, "metrics": true, "anonymous": true,
	"courses": true, "lti": true, "usage": true,
}

// NormalizeUsername lowercases and validates a username.
func NormalizeUsername(s string) (string, error) {
	u := strings.ToLower(strings.TrimSpace(s))
	if !usernameRE.MatchString(u) {
		return "", errs.Invalid("invalid_username",
			"A username is 3 to 32 characters: letters, digits, '-' or '_', starting with a letter or digit.")
	}
	if reserved[u] {
		return "", errs.Invalid("invalid_username", "The username %q is reserved; choose another.", u)
	}
	return u, nil
}

// NormalizeEmail lowercases and validates an email address.
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 || !strings.Contains(e[strings.LastIndexByte(e, '@'):], ".") {
		return "", errs.Invalid("invalid_email", "Enter a valid email address, like you@example.com.")
	}
	return e, nil
}

// Password length bounds, in characters and bytes.
const (
	minPassword      = 8
	maxPasswordBytes = 1024
)

// CheckPassword refuses passwords that are too short or absurdly long.
func CheckPassword(p string) error {
	if utf8.RuneCountInString(p) < minPassword {
		return errs.Invalid("weak_password", "A password needs at least %d characters.", minPassword)
	}
	if len(p) > maxPasswordBytes {
		return errs.Invalid("invalid_password", "A password may be at most %d bytes.", maxPasswordBytes)
	}
	return nil
}
