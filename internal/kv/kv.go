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
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ecode/internal/errs"
	"ecode/internal/runtime"
	"ecode/internal/runtime/agent"
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
		var keys, bytes int64
		for k, v := range pairs {
			var old []int64
			if err := q.Select(ctx, &old, `SELECT size FROM kv_entries WHERE project_id = ? AND env = ? AND key = ?`, sc.ProjectID, sc.Env, k); err != nil {
				return fmt.Errorf("kv set: %w", err)
			}
			if len(old) == 0 {
				keys++
			} else {
				bytes -= old[0]
			}
			bytes += int64(len(k) + len(v))
			if _, err := q.Exec(ctx, `INSERT INTO kv_entries (project_id, env, key, value, size, updated_at) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (project_id, env, key) DO UPDATE SET value = excluded.value, size = excluded.size, updated_at = excluded.updated_at`,
				sc.ProjectID, sc.Env, k, v, len(k)+len(v), now); err != nil {
				return fmt.Errorf("kv set: %w", err)
			}
		}
		use, err := addUsage(ctx, q, sc, keys, bytes)
		switch {
		case err != nil:
			return err
		case use.Keys > MaxKeys:
			return errs.TooLarge("kv_too_many_keys", "The store holds at most %d keys; delete some first.", MaxKeys)
		case use.Bytes > MaxTotalBytes:
			return errs.TooLarge("kv_full", "The store holds at most %d MiB of keys and values; delete some first.", MaxTotalBytes>>20)
		}
		return nil
	})
}

// tally is what a scope's store holds: its row of kv_usage.
type tally struct {
	Keys  int64 `db:"keys" json:"keys"`
	Bytes int64 `db:"bytes" json:"bytes"`
}

// addUsage changes the scope's usage by keys and bytes, answering the new one.
func addUsage(ctx context.Context, q store.Q, sc Scope, keys, bytes int64) (tally, error) {
	var use tally
	err := q.Get(ctx, &use, `INSERT INTO kv_usage (project_id, env, keys, bytes) VALUES (?, ?, ?, ?)
		ON CONFLICT (project_id, env) DO UPDATE SET keys = kv_usage.keys + excluded.keys, bytes = kv_usage.bytes + excluded.bytes
		RETURNING keys, bytes`, sc.ProjectID, sc.Env, keys, bytes)
	if err != nil {
		return tally{}, fmt.Errorf("kv usage: %w", err)
	}
	return use, nil
}

// Delete removes a key; errs.NotFound when it is not there.
func (s *Store) Delete(ctx context.Context, sc Scope, key string) error {
	return s.db.Tx(ctx, func(q store.Q) error {
		var size []int64
		if err := q.Select(ctx, &size, `DELETE FROM kv_entries WHERE project_id = ? AND env = ? AND key = ? RETURNING size`, sc.ProjectID, sc.Env, key); err != nil {
			return fmt.Errorf("kv delete: %w", err)
		}
		if len(size) == 0 {
			return errMissing
		}
		_, err := addUsage(ctx, q, sc, -1, -size[0])
		return err
	})
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

// URLFile is where Replit's clients look for the store's URL before
// REPLIT_DB_URL, and again every hour: the sandbox's agent keeps it
// holding a fresh one, so a process running for days outlives its
// environment's token.
const URLFile = "/tmp/replitdb"

// Relay serves the store to one sandbox of the scope, on its loopback: a
// token of any other scope is refused there, so a URL copied out of one
// project reaches nothing from another's sandbox. It also hands the
// sandbox's agent a fresh URL for URLFile.
func (s *Store) Relay(sc Scope) runtime.Relay {
	return runtime.Relay{Port: SandboxPort, File: URLFile, Serve: func(ln net.Listener) {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == agent.RelayFilePath {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				_, _ = io.WriteString(w, s.URL(sc))
				return
			}
			s.serve(w, r, &sc)
		}), ReadHeaderTimeout: 10 * time.Second}
		_ = srv.Serve(ln) // ends when the sandbox stops and ln is closed
	}}
}
