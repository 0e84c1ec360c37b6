package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/project"
	"ecode/internal/store"
)

// Projects is what the Key-value pane's routes need of the project
// capability: the project, once access is granted.
type Projects interface {
	Get(ctx context.Context, actor *auth.User, id string, a access.Action) (*project.Project, error)
}

// Entry is a key as the pane lists it. Size is what it counts against the
// store's limit: the bytes of its key and value. Updated is unix ms.
type Entry struct {
	Key     string `json:"key"`
	Size    int64  `json:"size"`
	Updated int64  `json:"updated"`
}

// Usage is how full a store is, against its limits.
type Usage struct {
	Keys     int64 `json:"keys"`
	Bytes    int64 `json:"bytes"`
	MaxKeys  int64 `json:"maxKeys"`
	MaxBytes int64 `json:"maxBytes"`
}

// Page is one page of a listing; Next, when not empty, is the after of the
// next page.
type Page struct {
	Entries []Entry `json:"entries"`
	Next    string  `json:"next"`
	Usage   Usage   `json:"usage"`
}

// Value is one entry with its value.
type Value struct {
	Entry
	Value string `json:"value"`
}

// Page lists up to limit keys of the scope that start with prefix and sort
// after after, with the store's usage.
func (s *Store) Page(ctx context.Context, sc Scope, prefix, after string, limit int) (Page, error) {
	var rows []struct {
		Key     string `db:"key"`
		Size    int64  `db:"size"`
		Updated int64  `db:"updated_at"`
	}
	err := s.db.Select(ctx, &rows, `SELECT key, size, updated_at FROM kv_entries
		WHERE project_id = ? AND env = ? AND substr(key, 1, ?) = ? AND key > ? ORDER BY key LIMIT ?`,
		sc.ProjectID, sc.Env, len([]rune(prefix)), prefix, after, limit+1)
	if err != nil {
		return Page{}, fmt.Errorf("kv page: %w", err)
	}
	page := Page{Entries: make([]Entry, 0, len(rows))}
	for i, r := range rows {
		if i == limit {
			page.Next = page.Entries[i-1].Key
			break
		}
		page.Entries = append(page.Entries, Entry(r))
	}
	if page.Usage, err = s.usage(ctx, sc); err != nil {
		return Page{}, err
	}
	return page, nil
}

// usage reads the scope's row of kv_usage, which every write keeps.
func (s *Store) usage(ctx context.Context, sc Scope) (Usage, error) {
	u := Usage{MaxKeys: MaxKeys, MaxBytes: MaxTotalBytes}
	var rows []tally
	if err := s.db.Select(ctx, &rows, `SELECT keys, bytes FROM kv_usage WHERE project_id = ? AND env = ?`, sc.ProjectID, sc.Env); err != nil {
		return u, fmt.Errorf("kv usage: %w", err)
	}
	if len(rows) == 1 {
		u.Keys, u.Bytes = rows[0].Keys, rows[0].Bytes
	}
	return u, nil
}

// Value answers one key with its value.
func (s *Store) Value(ctx context.Context, sc Scope, key string) (Value, error) {
	var row struct {
		Value   string `db:"value"`
		Size    int64  `db:"size"`
		Updated int64  `db:"updated_at"`
	}
	err := s.db.Get(ctx, &row, `SELECT value, size, updated_at FROM kv_entries WHERE project_id = ? AND env = ? AND key = ?`,
		sc.ProjectID, sc.Env, key)
	if store.NoRows(err) {
		return Value{}, errMissing
	}
	if err != nil {
		return Value{}, fmt.Errorf("kv value: %w", err)
	}
	return Value{Entry: Entry{Key: key, Size: row.Size, Updated: row.Updated}, Value: row.Value}, nil
}

// Manager serves the Key-value pane: a project's members with write access
// browse and change its entries; every change is audited.
type Manager struct {
	kv       *Store
	projects Projects
	audit    *audit.Log
}

// NewManager builds the pane's routes over kvs.
func NewManager(kvs *Store, projects Projects, audits *audit.Log) *Manager {
	if kvs == nil || projects == nil {
		panic("kv.NewManager: nil store or projects")
	}
	return &Manager{kv: kvs, projects: projects, audit: audits}
}

// A listing's page: its size unless asked, and at most.
const (
	defaultPage = 100
	maxPage     = 1000
)

// scope checks the caller's access to the project, then the environment:
// those who may not see the project learn nothing of its routes.
func (m *Manager) scope(r *http.Request) (*project.Project, Scope, error) {
	p, err := m.projects.Get(r.Context(), auth.Actor(r), r.PathValue("id"), access.Write)
	if err != nil {
		return nil, Scope{}, err
	}
	env := r.PathValue("env")
	if env != "dev" && env != "prod" {
		return nil, Scope{}, errs.Invalid("invalid_env", "The environment must be dev or prod, not %q.", env)
	}
	return p, Scope{ProjectID: p.ID, Env: env}, nil
}

// Routes registers the pane's routes.
func (m *Manager) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/projects/{id}/kv/{env}", m.list)
	rt.HandleFunc("GET /api/projects/{id}/kv/{env}/value", m.get)
	rt.HandleFunc("PUT /api/projects/{id}/kv/{env}/value", m.set)
	rt.HandleFunc("DELETE /api/projects/{id}/kv/{env}/value", m.delete)
}

func (m *Manager) list(w http.ResponseWriter, r *http.Request) {
	_, sc, err := m.scope(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	limit := defaultPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			httpx.Error(w, r, errs.Invalid("invalid_limit", "limit must be a number from 1 to %d.", maxPage))
			return
		}
		limit = n
	}
	page, err := m.kv.Page(r.Context(), sc, q.Get("prefix"), q.Get("after"), limit)
	httpx.Reply(w, r, http.StatusOK, page, err)
}

// keyed is scope, then the request's ?key=, which must name a key the
// store can hold.
func (m *Manager) keyed(r *http.Request) (*project.Project, Scope, string, error) {
	p, sc, err := m.scope(r)
	if err != nil {
		return nil, Scope{}, "", err
	}
	k := r.URL.Query().Get("key")
	return p, sc, k, checkKey(k)
}

func (m *Manager) get(w http.ResponseWriter, r *http.Request) {
	_, sc, k, err := m.keyed(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	v, err := m.kv.Value(r.Context(), sc, k)
	httpx.Reply(w, r, http.StatusOK, v, err)
}

// maxSetBody bounds a set's JSON body: a value at its largest, every byte
// escaped at worst as \u00XX.
const maxSetBody = 6*MaxValueBytes + 4<<10

func (m *Manager) set(w http.ResponseWriter, r *http.Request) {
	p, sc, k, err := m.keyed(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in struct {
		Value *string `json:"value"`
	}
	if err := decodeSet(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	if in.Value == nil {
		httpx.Error(w, r, errs.Invalid("kv_value_missing", "Send the value as {\"value\": \"...\"}."))
		return
	}
	ctx := r.Context()
	if err := m.kv.Set(ctx, sc, map[string]string{k: *in.Value}); err != nil {
		httpx.Error(w, r, err)
		return
	}
	actor := auth.Actor(r)
	m.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "kv.set", audit.Target("project", p.ID), map[string]any{"env": sc.Env, "key": k})
	v, err := m.kv.Value(ctx, sc, k)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"entry": v.Entry}, err)
}

// decodeSet reads a set's body as httpx.Decode does, but up to the size of
// the largest value rather than the house's 1 MiB.
func decodeSet(w http.ResponseWriter, r *http.Request, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSetBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return errs.TooLarge("kv_value_too_large", "A value is at most %d MiB.", MaxValueBytes>>20)
	case err != nil:
		return errs.Invalid("invalid_json", "The request body must be a JSON object {\"value\": \"...\"}.").With(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errs.Invalid("invalid_json", "The request body must hold a single JSON object.")
	}
	return nil
}

func (m *Manager) delete(w http.ResponseWriter, r *http.Request) {
	p, sc, k, err := m.keyed(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	ctx := r.Context()
	if err := m.kv.Delete(ctx, sc, k); err != nil {
		httpx.Error(w, r, err)
		return
	}
	m.audit.RecordIn(ctx, p.TeamID(), auth.Actor(r).AuditActor(), "kv.delete", audit.Target("project", p.ID), map[string]any{"env": sc.Env, "key": k})
	w.WriteHeader(http.StatusNoContent)
}
