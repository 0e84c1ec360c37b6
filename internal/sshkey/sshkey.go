// Package sshkey gives each person an SSH key of their own, made by the
// platform: they add the public half to their git host once, and E-Code
// clones their private repositories over ssh:// with the private half,
// which never leaves the server except into the clone's sandbox.
package sshkey

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/seal"
	"ecode/internal/store"
)

// Key is the public half of a person's key, as the settings page shows it.
type Key struct {
	PublicKey   string `json:"publicKey" db:"public_key"`
	Fingerprint string `json:"fingerprint" db:"-"`
	CreatedAt   int64  `json:"createdAt" db:"created_at"`
}

// Service stores keys, sealed.
type Service struct {
	db    *store.DB
	keys  *seal.Keyring
	audit *audit.Log // records new and deleted keys; nil records nothing
}

// NewService returns a key store sealing with keys, recording to audits.
func NewService(db *store.DB, keys *seal.Keyring, audits *audit.Log) *Service {
	if db == nil || keys == nil {
		panic("sshkey.NewService: nil db or keys")
	}
	return &Service{db: db, keys: keys, audit: audits}
}

// ErrNoKey means the person has not made a key yet.
var ErrNoKey = errs.NotFound("no_ssh_key", "You have no SSH key yet: create one in Settings, add it to your git host, then import again.")

// Generate makes a new ed25519 key for u, replacing any earlier one.
func (s *Service) Generate(ctx context.Context, u *auth.User) (*Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ssh key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, fmt.Errorf("marshal ssh key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("ssh public key: %w", err)
	}
	k := &Key{
		PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " " + u.Username + "@e-code",
		CreatedAt: time.Now().UnixMilli(),
	}
	sealed := s.keys.Seal(pem.EncodeToMemory(block), []byte(u.ID))
	_, err = s.db.Exec(ctx, `INSERT INTO ssh_keys (user_id, public_key, private_key, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET public_key = excluded.public_key, private_key = excluded.private_key, created_at = excluded.created_at`,
		u.ID, k.PublicKey, sealed, k.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("store ssh key: %w", err)
	}
	k = k.withFingerprint()
	s.audit.Record(ctx, u.AuditActor(), "ssh_key.create", u.AuditTarget(), map[string]any{"fingerprint": k.Fingerprint})
	return k, nil
}

// Get returns u's public key, or ErrNoKey.
func (s *Service) Get(ctx context.Context, userID string) (*Key, error) {
	var k Key
	err := s.db.Get(ctx, &k, `SELECT public_key, created_at FROM ssh_keys WHERE user_id = ?`, userID)
	if store.NoRows(err) {
		return nil, ErrNoKey
	}
	if err != nil {
		return nil, fmt.Errorf("read ssh key: %w", err)
	}
	return k.withFingerprint(), nil
}

// Private returns the PEM of userID's private key, or ErrNoKey.
func (s *Service) Private(ctx context.Context, userID string) ([]byte, error) {
	var sealed string
	err := s.db.Get(ctx, &sealed, `SELECT private_key FROM ssh_keys WHERE user_id = ?`, userID)
	if store.NoRows(err) {
		return nil, ErrNoKey
	}
	if err != nil {
		return nil, fmt.Errorf("read ssh key: %w", err)
	}
	pemKey, err := s.keys.Open(sealed, []byte(userID))
	if err != nil {
		return nil, fmt.Errorf("ssh key of %s: %w", userID, err)
	}
	return pemKey, nil
}

// Reseal re-encrypts every private key under the keyring's current key.
func (s *Service) Reseal(ctx context.Context) (int, error) {
	var rows []struct {
		UserID string `db:"user_id"`
		Sealed string `db:"private_key"`
	}
	if err := s.db.Select(ctx, &rows, `SELECT user_id, private_key FROM ssh_keys`); err != nil {
		return 0, fmt.Errorf("read ssh keys: %w", err)
	}
	for _, r := range rows {
		pemKey, err := s.keys.Open(r.Sealed, []byte(r.UserID))
		if err != nil {
			return 0, fmt.Errorf("ssh key of %s: %w", r.UserID, err)
		}
		if _, err := s.db.Exec(ctx, `UPDATE ssh_keys SET private_key = ? WHERE user_id = ?`, s.keys.Seal(pemKey, []byte(r.UserID)), r.UserID); err != nil {
			return 0, fmt.Errorf("reseal ssh key: %w", err)
		}
	}
	return len(rows), nil
}

// Delete removes u's key.
func (s *Service) Delete(ctx context.Context, u *auth.User) error {
	n, err := s.db.Exec(ctx, `DELETE FROM ssh_keys WHERE user_id = ?`, u.ID)
	if err != nil {
		return fmt.Errorf("delete ssh key: %w", err)
	}
	if n == 0 {
		return ErrNoKey
	}
	s.audit.Record(ctx, u.AuditActor(), "ssh_key.delete", u.AuditTarget(), nil)
	return nil
}

func (k *Key) withFingerprint() *Key {
	if pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.PublicKey)); err == nil {
		k.Fingerprint = ssh.FingerprintSHA256(pub)
	}
	return k
}

// Routes mounts the key routes of the signed-in person.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/user/ssh-key", func(w http.ResponseWriter, r *http.Request) {
		if u := auth.Require(w, r); u != nil {
			// Having no key yet is an answer, not an error: Settings asks on every visit.
			k, err := s.Get(r.Context(), u.ID)
			if errors.Is(err, ErrNoKey) {
				k, err = nil, nil
			}
			httpx.Reply(w, r, http.StatusOK, map[string]any{"sshKey": k}, err)
		}
	})
	rt.HandleFunc("POST /api/user/ssh-key", func(w http.ResponseWriter, r *http.Request) {
		if u := auth.Require(w, r); u != nil {
			k, err := s.Generate(r.Context(), u)
			httpx.Reply(w, r, http.StatusCreated, map[string]any{"sshKey": k}, err)
		}
	})
	rt.HandleFunc("DELETE /api/user/ssh-key", func(w http.ResponseWriter, r *http.Request) {
		if u := auth.Require(w, r); u != nil {
			if err := s.Delete(r.Context(), u); err != nil {
				httpx.Error(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	})
}
