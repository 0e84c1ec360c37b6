package telemetry

import (
	"bytes"
	"context"
	"ecode/internal/clocktest"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/project"
	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

// projects stands in for project.Service: each user's role per project.
// The rules themselves are access's; here only the answer's shape matters.
type projects map[string]map[string]access.Action

func (p projects) Get(_ context.Context, actor *auth.User, id string, a access.Action) (*project.Project, error) {
	if actor == nil {
		return nil, errs.NotFound("not_found", "No project %s.", id)
	}
	role, ok := p[id][actor.ID]
	if !ok {
		return nil, errs.NotFound("not_found", "No project %s.", id)
	}
	if a > role {
		return nil, errs.Forbidden("forbidden", "Not allowed.")
	}
	return &project.Project{ID: id}, nil
}

// env is the service over a real database behind a real HTTP server. The
// caller is named by X-User ("admin" administers the platform) and its
// address by X-IP, standing in for the session and Observe.
type env struct {
	db    *store.DB
	svc   *Service
	url   string
	clock *clocktest.Clock
	// p1 and p2 are projects owned by "owner"; "viewer" and "editor" have
	// those roles on p1.
	p1, p2 string
}

// base is a fixed half past an hour, so steps fall alike on every run.
var start = time.Date(2026, 5, 4, 12, 30, 0, 0, time.UTC)

func newEnv(t testing.TB, e testdb.Engine, opts Options) *env {
	t.Helper()
	db := testdb.Open(t, e)
	ctx := context.Background()
	now := store.Now()
	if _, err := db.Exec(ctx, `INSERT INTO users (id, username, email, password_hash, created_at, updated_at) VALUES ('owner', 'owner', 'o@x.y', '', ?, ?)`, now, now); err != nil {
		t.Fatal(err)
	}
	ids := []string{store.NewID(), store.NewID()}
	for i, id := range ids {
		if _, err := db.Exec(ctx, `INSERT INTO projects (id, owner_id, slug, name, created_at, updated_at) VALUES (?, 'owner', ?, 'P', ?, ?)`,
			id, fmt.Sprintf("p%d", i), now, now); err != nil {
			t.Fatal(err)
		}
	}
	c := clocktest.New(start)
	opts.Now = c.Now
	opts.PublicURL = "https://ecode.test"
	svc := New(db, projects{
		ids[0]: {"owner": access.Admin, "editor": access.Write, "viewer": access.Read},
		ids[1]: {"owner": access.Admin},
	}, opts)
	rt := httpx.NewRouter()
	svc.Routes(rt)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if u := r.Header.Get("X-User"); u != "" {
			ctx = auth.WithUser(ctx, &auth.User{ID: u, IsAdmin: u == "admin"})
		}
		if ip := r.Header.Get("X-IP"); ip != "" {
			ctx = httpx.WithClient(ctx, httpx.Client{IP: ip})
		}
		rt.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(srv.Close)
	return &env{db: db, svc: svc, url: srv.URL, clock: c, p1: ids[0], p2: ids[1]}
}

// reply is an answer read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) want(t testing.TB, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (r reply) wantError(t testing.TB, status int, code string) reply {
	t.Helper()
	r.want(t, status)
	var b httpx.ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error.Code != code {
		t.Fatalf("error %s, want %s", r.body, code)
	}
	return r
}

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends body (a string as is, anything else as JSON) as user.
func (e *env) do(t testing.TB, user, method, path string, body any, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("X-User", user)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

// key answers a project's ingest key, as its owner reads it.
func (e *env) key(t testing.TB, id string) string {
	t.Helper()
	var st Settings
	e.do(t, "owner", "GET", "/api/projects/"+id+"/monitoring", nil).want(t, 200).decode(t, &st)
	return st.IngestKey
}

// send posts events with key and answers the batch's outcome.
func (e *env) send(t testing.TB, key string, events ...map[string]any) Batch {
	t.Helper()
	var b Batch
	e.do(t, "", "POST", "/api/monitoring/event?key="+key, events).want(t, 202).decode(t, &b)
	return b
}

// at is unix ms d after the clock.
func (e *env) at(d time.Duration) int64 { return e.clock.Now().Add(d).UnixMilli() }

func (e *env) flush(t testing.TB) {
	t.Helper()
	if err := e.svc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e *env) count(t testing.TB, table, scope string) int {
	t.Helper()
	var n int
	if err := e.db.Get(context.Background(), &n, `SELECT COUNT(*) FROM `+table+` WHERE scope = ?`, scope); err != nil {
		t.Fatal(err)
	}
	return n
}

// engines runs fn on each engine with a fresh env.
func engines(t *testing.T, opts Options, fn func(t *testing.T, e *env)) {
	for _, eng := range testdb.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, eng, opts))
		})
	}
}

const sess = "sess_abcdef01"

func pageview(t int64, url string) map[string]any {
	return map[string]any{"type": "pageview", "t": t, "session": sess, "url": url}
}

func jsError(t int64, message, stack string) map[string]any {
	return map[string]any{"type": "error", "t": t, "session": sess, "url": "https://app.test/", "name": "TypeError",
		"message": message, "stack": stack, "source": "error"}
}
