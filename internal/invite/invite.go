// Package invite keeps invite links: a random token shown once (its hash
// is all the database keeps) that grants a role on a place until it
// expires.
package invite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"ecode/internal/errs"
	"ecode/internal/store"
)

// Link is an invite link as its makers list it.
type Link struct {
	ID        string `json:"id" db:"id"`
	Role      string `json:"role" db:"role"`
	ExpiresAt int64  `json:"expiresAt" db:"expires_at"`
	CreatedAt int64  `json:"createdAt" db:"created_at"`
	URL       string `json:"url,omitempty" db:"-"` // only when created: the secret is not kept
}

// maxHours is the longest an invite link lasts: 90 days.
const maxHours = 24 * 90

// newToken returns a token that starts with prefix.
func newToken(prefix string) string {
	raw := make([]byte, 18)
	_, _ = rand.Read(raw)
	return prefix + hex.EncodeToString(raw)
}

// digest is what the database keeps of token.
func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// valid reports whether token could be one newToken made with prefix.
func valid(token, prefix string) bool { return strings.HasPrefix(token, prefix) }

// expiry is when a link made now for hours ends, in unix ms.
func expiry(now time.Time, hours int) (int64, error) {
	if hours <= 0 || hours > maxHours {
		return 0, errs.Invalid("invalid_expiry", "An invite link lasts 1 hour to 90 days.")
	}
	return now.Add(time.Duration(hours) * time.Hour).UnixMilli(), nil
}

// Links are the invite links to one kind of place (projects, teams): a
// table with the columns id, Scope, token_hash, role, created_by,
// expires_at and created_at.
type Links struct {
	DB     *store.DB
	Table  string // "project_invites"
	Scope  string // the column naming the place: "project_id"
	Prefix string // what tokens start with: "ecinv_"
	Path   string // the link's path before the token: "/invite/"
}

// Create makes a link to place scopeID that grants role until hours
// from now.
func (l Links) Create(ctx context.Context, scopeID, role, createdBy string, hours int) (*Link, error) {
	now := time.Now()
	expires, err := expiry(now, hours)
	if err != nil {
		return nil, err
	}
	token := newToken(l.Prefix)
	link := &Link{ID: store.NewID(), Role: role, CreatedAt: now.UnixMilli(), ExpiresAt: expires, URL: l.Path + token}
	_, err = l.DB.Exec(ctx, `INSERT INTO `+l.Table+` (id, `+l.Scope+`, token_hash, role, created_by, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		link.ID, scopeID, digest(token), role, createdBy, link.ExpiresAt, link.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("create invite link: %w", err)
	}
	return link, nil
}

// Open lists the links to scopeID that have not expired, newest first.
func (l Links) Open(ctx context.Context, scopeID string) ([]Link, error) {
	out := []Link{}
	err := l.DB.Select(ctx, &out, `SELECT id, role, expires_at, created_at FROM `+l.Table+`
		WHERE `+l.Scope+` = ? AND expires_at > ? ORDER BY created_at DESC`, scopeID, store.Now())
	if err != nil {
		return nil, fmt.Errorf("list invite links: %w", err)
	}
	return out, nil
}

// Revoke deletes link id to scopeID.
func (l Links) Revoke(ctx context.Context, scopeID, id string) error {
	n, err := l.DB.Exec(ctx, `DELETE FROM `+l.Table+` WHERE id = ? AND `+l.Scope+` = ?`, id, scopeID)
	if err != nil {
		return fmt.Errorf("revoke invite link: %w", err)
	}
	if n == 0 {
		return errs.NotFound("not_found", "No such invite link.")
	}
	return nil
}

// Found is a link as its token finds it, and as the page that opens it
// shows it.
type Found struct {
	ScopeID   string `json:"-" db:"scope_id"`
	Role      string `json:"role" db:"role"`
	InvitedBy string `json:"invitedBy" db:"invited_by"` // a username
	ExpiresAt int64  `json:"expiresAt" db:"expires_at"`
}

// Find reads the link token opens, if it is one and has not expired.
func (l Links) Find(ctx context.Context, token string) (*Found, error) {
	var f Found
	err := l.DB.Get(ctx, &f, `SELECT i.`+l.Scope+` AS scope_id, i.role, i.expires_at, b.username AS invited_by
		FROM `+l.Table+` i JOIN users b ON b.id = i.created_by WHERE i.token_hash = ?`, digest(token))
	if store.NoRows(err) || !valid(token, l.Prefix) {
		return nil, errs.NotFound("invite_not_found", "This invite link is not valid: ask for a new one.")
	}
	if err != nil {
		return nil, fmt.Errorf("read invite link: %w", err)
	}
	if f.ExpiresAt <= store.Now() {
		return nil, errs.Gone("invite_expired", "This invite link has expired: ask for a new one.")
	}
	return &f, nil
}
