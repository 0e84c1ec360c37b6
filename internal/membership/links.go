package membership

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

// Links says where a kind keeps its invite links: a table with the
// columns id, the kind's Column, token_hash, role, created_by, expires_at
// and created_at.
type Links struct {
	Table  string // "project_invites"
	Prefix string // what tokens start with: "ecinv_"
	Path   string // the link's path before the token: "/invite/"
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

// expiry is when a link made now for hours ends, in unix ms.
func expiry(now time.Time, hours int) (int64, error) {
	if hours <= 0 || hours > maxHours {
		return 0, errs.Invalid("invalid_expiry", "An invite link lasts 1 hour to 90 days.")
	}
	return now.Add(time.Duration(hours) * time.Hour).UnixMilli(), nil
}

// createLink makes a link to place placeID that grants role until hours
// from now.
func (k *Kind) createLink(ctx context.Context, q store.Q, placeID, role, createdBy string, hours int) (*Link, error) {
	now := time.Now()
	expires, err := expiry(now, hours)
	if err != nil {
		return nil, err
	}
	token := newToken(k.Links.Prefix)
	link := &Link{ID: store.NewID(), Role: role, CreatedAt: now.UnixMilli(), ExpiresAt: expires, URL: k.Links.Path + token}
	_, err = q.Exec(ctx, `INSERT INTO `+k.Links.Table+` (id, `+k.Column+`, token_hash, role, created_by, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		link.ID, placeID, digest(token), role, createdBy, link.ExpiresAt, link.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("create %s invite link: %w", k.Name, err)
	}
	return link, nil
}

// openLinks lists the links to placeID that have not expired, newest first.
func (k *Kind) openLinks(ctx context.Context, q store.Q, placeID string) ([]Link, error) {
	out := []Link{}
	err := q.Select(ctx, &out, `SELECT id, role, expires_at, created_at FROM `+k.Links.Table+`
		WHERE `+k.Column+` = ? AND expires_at > ? ORDER BY created_at DESC`, placeID, store.Now())
	if err != nil {
		return nil, fmt.Errorf("list %s invite links: %w", k.Name, err)
	}
	return out, nil
}

// revokeLink deletes link id to placeID.
func (k *Kind) revokeLink(ctx context.Context, q store.Q, placeID, id string) error {
	n, err := q.Exec(ctx, `DELETE FROM `+k.Links.Table+` WHERE id = ? AND `+k.Column+` = ?`, id, placeID)
	if err != nil {
		return fmt.Errorf("revoke %s invite link: %w", k.Name, err)
	}
	if n == 0 {
		return errs.NotFound("not_found", "No such invite link.")
	}
	return nil
}

// found is a link as its token finds it.
type found struct {
	PlaceID   string `db:"place_id"`
	Role      string `db:"role"`
	InvitedBy string `db:"invited_by"` // a username
	ExpiresAt int64  `db:"expires_at"`
}

// findLink reads the link token opens, if it is one of this kind's and
// has not expired.
func (k *Kind) findLink(ctx context.Context, q store.Q, token string) (*found, error) {
	if !strings.HasPrefix(token, k.Links.Prefix) {
		return nil, errNoLink
	}
	var f found
	err := q.Get(ctx, &f, `SELECT i.`+k.Column+` AS place_id, i.role, i.expires_at, b.username AS invited_by
		FROM `+k.Links.Table+` i JOIN users b ON b.id = i.created_by WHERE i.token_hash = ?`, digest(token))
	if store.NoRows(err) {
		return nil, errNoLink
	}
	if err != nil {
		return nil, fmt.Errorf("read %s invite link: %w", k.Name, err)
	}
	if f.ExpiresAt <= store.Now() {
		return nil, errs.Gone("invite_expired", "This invite link has expired: ask for a new one.")
	}
	return &f, nil
}

var errNoLink = errs.NotFound("invite_not_found", "This invite link is not valid: ask for a new one.")
