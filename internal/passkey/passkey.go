// Package passkey lets people log in with WebAuthn credentials: security
// keys and passkeys registered to their account (named, listed, renamed,
// removed), used alone (a discoverable passkey logs in without a password)
// or as the second factor an account may require after its password.
//
// It keeps the whole credential record (public key, attestation, transports,
// the backup flags, the authenticator's AAGUID and signature counter), and it
// refuses an assertion whose counter did not move forward, as a cloned
// authenticator's would not. Every ceremony's challenge lives in the
// server-side session between begin and finish and is used once.
//
// The relying party is the platform's origin (ECODE_PASSKEY_ORIGIN, else
// ECODE_PUBLIC_URL); WebAuthn forbids an IP address there, so a server
// reached only by IP answers every ceremony with passkeys_unavailable.
package passkey

import (
	"context"
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/webauthn"

	"ecode/internal/auth"
	"ecode/internal/errs"
)

// Passkey is a registered credential as its owner sees it.
type Passkey struct {
	ID         string `json:"id"` // the credential id, base64url
	Name       string `json:"name"`
	CreatedAt  int64  `json:"createdAt"`
	LastUsedAt *int64 `json:"lastUsedAt"`
	// BackupEligible: the credential may be synced between devices (a
	// passkey in a password manager) rather than bound to one key.
	BackupEligible bool `json:"backupEligible"`
	BackedUp       bool `json:"backedUp"` // it is synced now
	// Discoverable: the authenticator keeps it and offers it at login, so
	// it logs in without a username or password.
	Discoverable bool `json:"discoverable"`
	// CloneWarning: an assertion once came back with a counter that had not
	// moved forward; that login was refused.
	CloneWarning bool `json:"cloneWarning"`
}

// record is a stored credential with its owner and bookkeeping.
type record struct {
	ID         string `db:"id"`
	UserID     string `db:"user_id"`
	Name       string `db:"name"`
	Credential string `db:"credential"`
	SignCount  int64  `db:"sign_count"`
	CreatedAt  int64  `db:"created_at"`
	LastUsedAt *int64 `db:"last_used_at"`

	cred webauthn.Credential
}

func (r *record) view() Passkey {
	return Passkey{
		ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt,
		BackupEligible: r.cred.Flags.BackupEligible,
		BackedUp:       r.cred.Flags.BackupState,
		Discoverable:   discoverable(&r.cred),
		CloneWarning:   r.cred.Authenticator.CloneWarning,
	}
}

// discoverable reports whether the authenticator said (through credProps,
// or by logging in without a username) that it keeps the credential.
func discoverable(c *webauthn.Credential) bool {
	return c.Extensions.RK != nil && *c.Extensions.RK
}

func credentialID(raw []byte) string { return base64.RawURLEncoding.EncodeToString(raw) }

// holder is an account with its credentials, as the WebAuthn library asks.
// The user handle is the account id: opaque, stable, and no personal data.
type holder struct {
	u     *auth.User
	creds []webauthn.Credential
}

func (h holder) WebAuthnID() []byte                         { return []byte(h.u.ID) }
func (h holder) WebAuthnName() string                       { return h.u.Username }
func (h holder) WebAuthnDisplayName() string                { return h.u.Username }
func (h holder) WebAuthnCredentials() []webauthn.Credential { return h.creds }

func newHolder(u *auth.User, recs []record) holder {
	h := holder{u: u}
	for i := range recs {
		h.creds = append(h.creds, recs[i].cred)
	}
	return h
}

const maxName = 64

func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxName {
		return "", errs.Invalid("invalid_name", "Name the key in 1 to %d characters, e.g. “Laptop” or “YubiKey”.", maxName)
	}
	return name, nil
}

var (
	errNoCeremony = errs.Invalid("no_ceremony",
		"No security key prompt is waiting for this answer, or it has expired; start again.")
	errCloned = errs.Unauthenticated("cloned_authenticator",
		"This key's signature counter did not move forward, as happens when a key has been copied, so the login was refused. If it happens again, remove the key in Settings and add it anew.")
	errNotFound = errs.NotFound("not_found", "No such security key or passkey.")
)

// LoginMethods counts u's credentials that log in on their own (the
// discoverable ones), for auth's rule that the last way in is never removed.
func (s *Service) LoginMethods(ctx context.Context, u *auth.User) (int, error) {
	recs, err := s.records(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range recs {
		if discoverable(&recs[i].cred) {
			n++
		}
	}
	return n, nil
}
