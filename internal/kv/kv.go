// Package kv is each project's key-value store, wire-compatible with Replit
// Database, so that the unmodified clients (`@replit/database`, Replit's
// Python `replit.database`) work against it: the URL they are given holds a
// token of the project and environment, keys go in the path, values are
// opaque strings set by form-encoded POSTs.
package kv

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ecode/internal/errs"
	"ecode/internal/runtime"
	"ecode/internal/store"
)

// Limits of one project environment's store (those Replit documents).
const (
	MaxKeys       = 5000
	MaxKeyBytes   = 1000
	MaxValueBytes = 5 << 20
	MaxTotalBytes = 50 << 20
)

// Store keeps the entries in the platform's database.
type Store struct {
	db  *store.DB
	key []byte // signs tokens
	now func() time.Time
}

// New returns the store; key signs its tokens (derive it from the master key).
func New(db *store.DB, key []byte) *Store {
	if db == nil || len(key) < 32 {
		panic("kv.New: nil db or short key")
	}
	return &Store{db: db, key: key, now: time.Now}
}

// Scope is whose entries a request reaches: a project's environment.
type Scope struct {
	ProjectID string
	Env       string // dev or prod
}

// Token is the credential a client holds, valid for ttl: the scope and
// its expiry, signed. It is URL-path safe.
func (s *Store) Token(sc Scope, ttl time.Duration) string {
	body := sc.ProjectID + "." + sc.Env + "." + strconv.FormatInt(s.now().Add(ttl).Unix(), 10)
	enc := base64.RawURLEncoding.EncodeToString([]byte(body))
	return enc + "." + base64.RawURLEncoding.EncodeToString(s.sign(enc))
}

func (s *Store) sign(msg string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("ecode kv v1\x00" + msg))
	return m.Sum(nil)
}

var errToken = errs.Unauthenticated("kv_token_invalid", "This key-value URL is not valid (or has expired); read REPLIT_DB_URL again.")

// scopeOf checks a token and answers its scope.
func (s *Store) scopeOf(token string) (Scope, error) {
	enc, sig, ok := strings.Cut(token, ".")
	if !ok {
		return Scope{}, errToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.sign(enc)) {
		return Scope{}, errToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return Scope{}, errToken
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 {
		return Scope{}, errToken
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || s.now().Unix() > exp {
		return Scope{}, errToken
	}
	return Scope{ProjectID: parts[0], Env: parts[1]}, nil
}

var errMissing = errs.NotFound("kv_key_not_found", "No such key.")

// checkKey refuses keys the store cannot hold.
func checkKey(key string) error {
	switch {
	case key == "":
		return errs.Invalid("kv_key_empty", "A key cannot be empty.")
	case len(key) > MaxKeyBytes:
		return errs.TooLarge("kv_key_too_long", "A key is at most %d bytes; this one has %d.", MaxKeyBytes, len(key))
	case strings.ContainsRune(key, 0):
		return errs.Invalid("kv_key_invalid", "A key cannot hold a NUL character.")
	}
	return nil
}

// Get answers a key's value.
func (s *Store) Get(ctx context.Context, sc Scope, key string) (string, error) {
	var v string
	err := s.db.Get(ctx, &v, `SELECT value FROM kv_entries WHERE project_id = ? AND env = ? AND key = ?`, sc.ProjectID, sc.Env, key)
	if store.NoRows(err) {
		return "", errMissing
	}
	if err != nil {
		return "", fmt.Errorf("kv get: %w", err)
	}
	return v, nil
}

// Set stores each pair, all or none, within the limits.
func (s *Store) Set(ctx context.Context, sc Scope, pairs map[string]string) error {
	for k, v := range pairs {
		if err := checkKey(k); err != nil {
			return err
		}
		if len(v) > MaxValueBytes {
			return errs.TooLarge("kv_value_too_large", "A value is at most %d MiB; the one for %q has %d bytes.", MaxValueBytes>>20, k, len(v))
		}
		if strings.ContainsRune(v, 0) {
			return errs.Invalid("kv_value_invalid", "A value cannot hold a NUL character.")
		}
	}
	now := store.Now()
	return s.db.Tx(ctx, func(q store.Q) error {
		for k, v := range pairs {
			if _, err := q.Exec(ctx, `INSERT INTO kv_entries (project_id, env, key, value, size, updated_at) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (project_id, env, key) DO UPDATE SET value = excluded.value, size = excluded.size, updated_at = excluded.updated_at`,
				sc.ProjectID, sc.Env, k, v, len(k)+len(v), now); err != nil {
				return fmt.Errorf("kv set: %w", err)
			}
		}
		var use struct {
			Keys  int   `db:"n"`
			Bytes int64 `db:"bytes"`
		}
		if err := q.Get(ctx, &use, `SELECT count(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM kv_entries WHERE project_id = ? AND env = ?`,
			sc.ProjectID, sc.Env); err != nil {
			return fmt.Errorf("kv usage: %w", err)
		}
		switch {
		case use.Keys > MaxKeys:
			return errs.TooLarge("kv_too_many_keys", "The store holds at most %d keys; delete some first.", MaxKeys)
		case use.Bytes > MaxTotalBytes:
			return errs.TooLarge("kv_full", "The store holds at most %d MiB of keys and values; delete some first.", MaxTotalBytes>>20)
		}
		return nil
	})
}

// Delete removes a key; errs.NotFound when it is not there.
func (s *Store) Delete(ctx context.Context, sc Scope, key string) error {
	n, err := s.db.Exec(ctx, `DELETE FROM kv_entries WHERE project_id = ? AND env = ? AND key = ?`, sc.ProjectID, sc.Env, key)
	if err != nil {
		return fmt.Errorf("kv delete: %w", err)
	}
	if n == 0 {
		return errMissing
	}
	return nil
}

// List answers the keys that start with prefix, in order.
func (s *Store) List(ctx context.Context, sc Scope, prefix string) ([]string, error) {
	var keys []string
	err := s.db.Select(ctx, &keys, `SELECT key FROM kv_entries WHERE project_id = ? AND env = ? AND substr(key, 1, ?) = ? ORDER BY key`,
		sc.ProjectID, sc.Env, len([]rune(prefix)), prefix)
	if err != nil {
		return nil, fmt.Errorf("kv list: %w", err)
	}
	return keys, nil
}

// SandboxPort is where a sandbox reaches its store, on its own loopback.
const SandboxPort = 7707

// tokenTTL is how long the URL a command is given stays valid: each
// command gets a fresh one.
const tokenTTL = 48 * time.Hour

// URL is what a command of the scope is given as REPLIT_DB_URL.
func (s *Store) URL(sc Scope) string {
	return "http://127.0.0.1:" + strconv.Itoa(SandboxPort) + Prefix + s.Token(sc, tokenTTL)
}

// Relay serves the store to one sandbox of the scope, on its loopback: a
// token of any other scope is refused there, so a URL copied out of one
// project reaches nothing from another's sandbox.
func (s *Store) Relay(sc Scope) runtime.Relay {
	return runtime.Relay{Port: SandboxPort, Serve: func(ln net.Listener) {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.serve(w, r, &sc)
		}), ReadHeaderTimeout: 10 * time.Second}
		_ = srv.Serve(ln) // ends when the sandbox stops and ln is closed
	}}
}
