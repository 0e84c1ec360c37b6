// Package invite makes the secrets of invite links: a random token shown
// once, and its hash, which is all the database keeps.
package invite

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"ecode/internal/errs"
)

// Link is an invite link as its makers list it.
type Link struct {
	ID        string `json:"id" db:"id"`
	Role      string `json:"role" db:"role"`
	ExpiresAt int64  `json:"expiresAt" db:"expires_at"`
	CreatedAt int64  `json:"createdAt" db:"created_at"`
	URL       string `json:"url,omitempty" db:"-"` // only when created: the secret is not kept
}

// MaxHours is the longest an invite link lasts: 90 days.
const MaxHours = 24 * 90

// New returns a token that starts with prefix, and its hash.
func New(prefix string) (token, hash string) {
	raw := make([]byte, 18)
	_, _ = rand.Read(raw)
	token = prefix + hex.EncodeToString(raw)
	return token, Hash(token)
}

// Hash is what the database keeps of token.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Valid reports whether token could be one New made with prefix.
func Valid(token, prefix string) bool { return strings.HasPrefix(token, prefix) }

// Expiry is when a link made now for hours ends, in unix ms.
func Expiry(now time.Time, hours int) (int64, error) {
	if hours <= 0 || hours > MaxHours {
		return 0, errs.Invalid("invalid_expiry", "An invite link lasts 1 hour to 90 days.")
	}
	return now.Add(time.Duration(hours) * time.Hour).UnixMilli(), nil
}
