package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ecode/internal/cluster"
	"ecode/internal/events"
	"ecode/internal/project"
	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

const lease = 300 * time.Millisecond

// newProject makes a project (and its owner) in db: only projects that
// exist are claimed.
func newProject(t *testing.T, db *store.DB) string {
	t.Helper()
	user, id, now := store.NewID(), store.NewID(), store.Now()
	if _, err := db.Exec(t.Context(), `INSERT INTO users (id, username, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, '', ?, ?)`,
		user, "u"+user, user+"@example.com", now, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(t.Context(), `INSERT INTO projects (id, owner_id, slug, name, created_at, updated_at) VALUES (?, ?, 'p', 'P', ?, ?)`,
		id, user, now, now); err != nil {
		t.Fatal(err)
	}
	return id
}

// member is one server of a test cluster over db, with what its bus heard.
type member struct {
	*cluster.Cluster
	mu       sync.Mutex
	adopted  []string
	released []string
}

func join(t *testing.T, db *store.DB, id string) *member {
	t.Helper()
	bus := events.New()
	m := &member{}
	events.Subscribe(bus, func(_ context.Context, e project.Adopted) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.adopted = append(m.adopted, e.ProjectID)
	})
	events.Subscribe(bus, func(_ context.Context, e project.HandedOver) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.released = append(m.released, e.ProjectID)
	})
	c, err := cluster.New(t.Context(), db, bus, cluster.Options{ServerID: id, PeerURL: "http://" + id, Lease: lease, Key: []byte("key")})
	if err != nil {
		t.Fatal(err)
	}
	m.Cluster = c
	return m
}

func (m *member) heard() (adopted, released []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.adopted...), append([]string(nil), m.released...)
}

// run beats until stop is called or the test ends, then leaves.
func (m *member) run(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// eventually polls cond every beat for a few leases.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * lease); time.Now().Before(deadline); time.Sleep(lease / 6) {
		if cond() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

func TestClaimsLeasesAndHandover(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, e)
			ctx := t.Context()
			a, b := join(t, db, "a"), join(t, db, "b")
			a.run(t)
			leaveB := b.run(t)
			p := newProject(t, db)

			// An id of no project is nobody's, and leaves no row.
			madeUp := store.NewID()
			if _, mine, err := b.Holder(ctx, madeUp); err != nil || !mine {
				t.Fatalf("a made-up id: mine %v, %v; want it answered here", mine, err)
			}
			var rows int
			if err := db.Get(ctx, &rows, `SELECT COUNT(*) FROM project_holders WHERE project_id = ?`, madeUp); err != nil || rows != 0 {
				t.Fatalf("a made-up id left %d rows (%v)", rows, err)
			}

			// The first server asked holds the project; the other forwards to it.
			if _, mine, err := a.Holder(ctx, p); err != nil || !mine {
				t.Fatalf("a: mine %v, %v", mine, err)
			}
			if url, mine, err := b.Holder(ctx, p); err != nil || mine || url != "http://a" {
				t.Fatalf("b: %q mine %v, %v; want a's URL", url, mine, err)
			}
			if b.Holds(ctx, p) {
				t.Fatal("b holds a's project")
			}

			// a dies: once its lease runs out, b's sweep adopts what it held.
			a.Halt()
			eventually(t, "b adopts a's project", func() bool {
				adopted, _ := b.heard()
				return len(adopted) == 1 && adopted[0] == p
			})
			if _, mine, err := b.Holder(ctx, p); err != nil || !mine {
				t.Fatalf("b after a died: mine %v, %v", mine, err)
			}
			// a's health says it is out; b's that it is in.
			if err := a.Check(ctx); err == nil || !strings.Contains(err.Error(), "no heartbeat") {
				t.Fatalf("a's health: %v", err)
			}
			if err := b.Check(ctx); err != nil {
				t.Fatalf("b's health: %v", err)
			}

			// a comes back under its name, beats again, and hears the project is gone.
			a2 := join(t, db, "a")
			a2.run(t)
			if _, mine, _ := a2.Holder(ctx, p); mine {
				t.Fatal("a took the project back from a live b")
			}

			// b leaves cleanly: its projects are orphans at once, which a adopts.
			q := newProject(t, db)
			if !b.Holds(ctx, q) {
				t.Fatal("b could not claim a free project")
			}
			leaveB()
			eventually(t, "a adopts b's projects after b left", func() bool {
				adopted, _ := a2.heard()
				return len(adopted) == 2
			})
		})
	}
}

// A server that went unseen while another took its project lets go of
// the project's tabs and sandbox when it beats again.
func TestLetsGoOfWhatWasTaken(t *testing.T) {
	db := testdb.Open(t, testdb.Engines(t)[0])
	ctx := t.Context()
	a, b := join(t, db, "a"), join(t, db, "b")
	p := newProject(t, db)
	if !a.Holds(ctx, p) {
		t.Fatal("a could not claim")
	}
	// a pauses longer than its lease (no beats); b takes the project.
	time.Sleep(lease + lease/3)
	if !b.Holds(ctx, p) {
		t.Fatal("b could not take the project of an unseen server")
	}
	a.run(t)
	eventually(t, "a lets the project go", func() bool {
		_, released := a.heard()
		return len(released) == 1 && released[0] == p
	})
}

func TestForwardSignsAndPassesTheClient(t *testing.T) {
	db := testdb.Open(t, testdb.Engines(t)[0])
	ctx := t.Context()
	p := newProject(t, db)
	project := func(r *http.Request) (string, bool) { return p, r.URL.Path == "/p" }

	// The holder answers with the address its handlers see.
	hs := httptest.NewServer(nil)
	defer hs.Close()
	holder, err := cluster.New(ctx, db, events.New(), cluster.Options{ServerID: "a", PeerURL: hs.URL, Lease: time.Minute, Key: []byte("key")})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = holder.Forward(project, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen", fmt.Sprint(r.RemoteAddr, " ", r.Host, " tls=", r.TLS != nil))
	}))
	if !holder.Holds(ctx, p) {
		t.Fatal("a could not claim")
	}
	other := join(t, db, "b")
	// The other server terminates the client's TLS, as for a custom domain.
	front := httptest.NewTLSServer(other.Forward(project, nil, http.NotFoundHandler()))
	defer front.Close()

	req, _ := http.NewRequest("GET", front.URL+"/p", nil)
	req.Host = "shop.example"
	res, err := front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Seen"); got != "127.0.0.1:0 shop.example tls=true" {
		t.Fatalf("the holder saw %q, want the client's address, the host asked for and TLS", got)
	}

	// A forged peer header is not believed: the request is served as any.
	req, _ = http.NewRequest("GET", hs.URL+"/other", nil)
	req.Header.Set("X-Ecode-Peer", "b.1.00")
	req.Header.Set("X-Ecode-Client", "10.9.9.9")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Seen"); !strings.HasPrefix(got, "127.0.0.1:") {
		t.Fatalf("a forged peer header set the client to %q", got)
	}
}
