// Package cluster lets several servers share one PostgreSQL database and
// one data folder as one platform. Each server records itself with a
// heartbeat; a project's live state (its collaboration documents,
// sandbox, previews and app instances) is held by one server at a time,
// recorded in the database, and a request for it that reaches another
// server is forwarded there (Forward). A server unseen for a lease hands
// its projects to whichever server asks for them next, or adopts them in
// its sweep; nothing it acknowledged is lost, since documents are on disk
// before their edits are confirmed.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"ecode/internal/events"
	"ecode/internal/project"
	"ecode/internal/store"
)

// Options of a server in a cluster.
type Options struct {
	ServerID string
	// PeerURL is how the other servers reach this one (http://host:port).
	PeerURL string
	// Lease is how long a server may go unseen before it counts as dead
	// and its projects move; it beats three times a lease.
	Lease time.Duration
	// Key proves a forwarded request came from a server of the cluster.
	Key []byte
	Log *slog.Logger
}

// Cluster is this server's place among the others.
type Cluster struct {
	db   *store.DB
	bus  *events.Bus
	opts Options

	mu    sync.Mutex
	known map[string]holder // project -> its holder, as last read

	halt     chan struct{}
	haltOnce sync.Once
	beaten   atomic.Int64 // when the last heartbeat was recorded, unix ms
}

type holder struct {
	server, url string
	read        time.Time
}

// New records this server in the cluster. It publishes
// project.HandedOver and project.Adopted on bus.
func New(ctx context.Context, db *store.DB, bus *events.Bus, opts Options) (*Cluster, error) {
	if opts.ServerID == "" || opts.PeerURL == "" {
		return nil, errors.New("cluster: a server needs an id and the URL its peers reach it at")
	}
	if len(opts.Key) == 0 {
		return nil, errNoKey
	}
	if opts.Lease <= 0 {
		opts.Lease = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	c := &Cluster{db: db, bus: bus, opts: opts, known: map[string]holder{}, halt: make(chan struct{})}
	now := store.Now()
	err := db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO servers (id, peer_url, started_at, seen_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET peer_url = excluded.peer_url, started_at = excluded.started_at, seen_at = excluded.seen_at`,
			opts.ServerID, opts.PeerURL, now, now); err != nil {
			return err
		}
		// What it held in an earlier life is an orphan's, for a sweep
		// (this server's too) to adopt: builds it left fail, apps start.
		_, err := q.Exec(ctx, `UPDATE project_holders SET server_id = '' WHERE server_id = ?`, opts.ServerID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("join the cluster as %s: %w", opts.ServerID, err)
	}
	c.beaten.Store(now)
	// A project deleted on any server is forgotten here with its live
	// state, so the next beat does not mistake it for one another server
	// took over.
	events.Subscribe(bus, func(_ context.Context, e project.Gone) {
		c.mu.Lock()
		delete(c.known, e.ProjectID)
		c.mu.Unlock()
	})
	events.Subscribe(bus, func(ctx context.Context, e project.Deleted) { c.drop(ctx, e.ProjectID) })
	return c, nil
}

// drop forgets a deleted project's holder row, once.
func (c *Cluster) drop(ctx context.Context, projectID string) {
	if _, err := c.db.Exec(ctx, `DELETE FROM project_holders WHERE project_id = ?`, projectID); err != nil {
		c.opts.Log.Error("cluster: forget a deleted project", "project_id", projectID, "err", err)
	}
}

// Check fails while this server's heartbeat is older than a lease: the
// others may take its projects over, and a load balancer should send its
// requests elsewhere.
func (c *Cluster) Check(context.Context) error {
	if since := time.Since(time.UnixMilli(c.beaten.Load())); since > c.opts.Lease {
		return fmt.Errorf("no heartbeat recorded for %s: the other servers take this one's projects over", since.Round(time.Second))
	}
	return nil
}

// ServerID names this server.
func (c *Cluster) ServerID() string { return c.opts.ServerID }

func (c *Cluster) beat() time.Duration { return c.opts.Lease / 3 }

// deadline is the last heartbeat of a server that still counts as alive.
func (c *Cluster) deadline() int64 { return store.Now() - c.opts.Lease.Milliseconds() }

// Holder says which server holds projectID, claiming it for this one
// when no live server does: mine, or the URL to forward to.
func (c *Cluster) Holder(ctx context.Context, projectID string) (url string, mine bool, err error) {
	c.mu.Lock()
	h, ok := c.known[projectID]
	c.mu.Unlock()
	if ok && !h.read.IsZero() && time.Since(h.read) < c.beat() {
		return h.url, h.server == c.opts.ServerID, nil
	}
	// Who held it before: a claim that takes it from another (dead)
	// server adopts what ran there.
	var prev string
	err = c.db.Get(ctx, &prev, `SELECT server_id FROM project_holders WHERE project_id = ?`, projectID)
	if err != nil && !store.NoRows(err) {
		return "", false, fmt.Errorf("read the holder of project %s: %w", projectID, err)
	}
	held := err == nil
	// Only a project that exists is claimed: ids anyone may make up
	// leave no rows.
	if _, err := c.db.Exec(ctx, `INSERT INTO project_holders (project_id, server_id, since) SELECT id, ?, ? FROM projects WHERE id = ?
		ON CONFLICT (project_id) DO UPDATE SET server_id = excluded.server_id, since = excluded.since
		WHERE project_holders.server_id NOT IN (SELECT id FROM servers WHERE seen_at > ?)`,
		c.opts.ServerID, store.Now(), projectID, c.deadline()); err != nil {
		return "", false, fmt.Errorf("claim project %s: %w", projectID, err)
	}
	var row struct {
		Server string `db:"server_id"`
		URL    string `db:"peer_url"`
	}
	if err := c.db.Get(ctx, &row, `SELECT h.server_id, s.peer_url FROM project_holders h JOIN servers s ON s.id = h.server_id
		WHERE h.project_id = ?`, projectID); store.NoRows(err) {
		return "", true, nil // no such project: here says so
	} else if err != nil {
		return "", false, fmt.Errorf("read the holder of project %s: %w", projectID, err)
	}
	c.mu.Lock()
	was, seen := c.known[projectID]
	c.known[projectID] = holder{server: row.Server, url: row.URL, read: time.Now()}
	c.mu.Unlock()
	mine = row.Server == c.opts.ServerID
	switch {
	case seen && was.server == c.opts.ServerID && !mine:
		events.Publish(ctx, c.bus, project.HandedOver{ProjectID: projectID})
	case mine && held && prev != c.opts.ServerID:
		c.opts.Log.Info("cluster: adopted a project of a server that stopped", "project_id", projectID, "from", prev)
		events.Publish(ctx, c.bus, project.Adopted{ProjectID: projectID})
	}
	return row.URL, mine, nil
}

// Holds reports whether this server holds projectID, claiming it when no
// live server does: what runs on one server only (an app's instances, a
// schedule's runs) asks it first.
func (c *Cluster) Holds(ctx context.Context, projectID string) bool {
	_, mine, err := c.Holder(ctx, projectID)
	if err != nil {
		c.opts.Log.Error("cluster: who holds a project", "project_id", projectID, "err", err)
	}
	return mine
}

// forget drops what this server read of projectID's holder, so the next
// request reads it again (its holder stopped answering).
func (c *Cluster) forget(projectID string) {
	c.mu.Lock()
	if h, ok := c.known[projectID]; ok {
		h.read = time.Time{} // kept: whether it was this server's still counts
		c.known[projectID] = h
	}
	c.mu.Unlock()
}

// Run beats until ctx ends, adopting the projects of dead servers on the
// way; then it lets this server's projects go, so the others take them at
// once. Halt ends it without letting go, as a crash would.
func (c *Cluster) Run(ctx context.Context) {
	t := time.NewTicker(c.beat())
	defer t.Stop()
	for {
		select {
		case <-c.halt:
			return
		case <-ctx.Done():
			c.leave()
			return
		case <-t.C:
			if err := c.heartbeat(ctx); err != nil && ctx.Err() == nil {
				c.opts.Log.Error("cluster: heartbeat", "server", c.opts.ServerID, "err", err)
				continue
			}
			c.sweep(ctx)
		}
	}
}

// Halt stops the heartbeat and holds on to every project: for tests of a
// server that dies.
func (c *Cluster) Halt() { c.haltOnce.Do(func() { close(c.halt) }) }

// heartbeat records this server as alive, then lets go of the projects it
// served that another server took while this one went unseen (a pause, a
// network split): their tabs and sandboxes here must not go on beside
// the new holder's.
func (c *Cluster) heartbeat(ctx context.Context) error {
	n, err := c.db.Exec(ctx, `UPDATE servers SET seen_at = ? WHERE id = ?`, store.Now(), c.opts.ServerID)
	if err == nil && n == 0 {
		now := store.Now()
		_, err = c.db.Exec(ctx, `INSERT INTO servers (id, peer_url, started_at, seen_at) VALUES (?, ?, ?, ?)`, c.opts.ServerID, c.opts.PeerURL, now, now)
	}
	if err != nil {
		return err
	}
	c.beaten.Store(store.Now())
	var held []string
	if err := c.db.Select(ctx, &held, `SELECT project_id FROM project_holders WHERE server_id = ?`, c.opts.ServerID); err != nil {
		return err
	}
	still := make(map[string]bool, len(held))
	for _, id := range held {
		still[id] = true
	}
	var lost []string
	c.mu.Lock()
	for id, h := range c.known {
		if h.server == c.opts.ServerID && !still[id] {
			lost = append(lost, id)
			delete(c.known, id)
		}
	}
	c.mu.Unlock()
	for _, id := range lost {
		c.opts.Log.Warn("cluster: another server took a project over", "project_id", id)
		events.Publish(ctx, c.bus, project.HandedOver{ProjectID: id})
	}
	return nil
}

// sweep takes over the projects of dead servers, one claim each, so two
// sweeping servers never adopt the same project; a server dead for a
// hundred leases is forgotten.
func (c *Cluster) sweep(ctx context.Context) {
	var orphans []string
	if err := c.db.Select(ctx, &orphans, `SELECT project_id FROM project_holders
		WHERE server_id NOT IN (SELECT id FROM servers WHERE seen_at > ?)`, c.deadline()); err != nil {
		c.opts.Log.Error("cluster: list the projects of dead servers", "err", err)
		return
	}
	for _, id := range orphans {
		c.forget(id)
		c.Holds(ctx, id) // adopts it, unless another server did first
	}
	if _, err := c.db.Exec(ctx, `DELETE FROM servers WHERE seen_at < ?`, store.Now()-100*c.opts.Lease.Milliseconds()); err != nil {
		c.opts.Log.Error("cluster: forget long-dead servers", "err", err)
	}
}

// leave lets this server's projects go, for the others to adopt at their
// next sweep, and takes it off the list.
func (c *Cluster) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `UPDATE project_holders SET server_id = '' WHERE server_id = ?`, c.opts.ServerID); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `DELETE FROM servers WHERE id = ?`, c.opts.ServerID)
		return err
	})
	if err != nil {
		c.opts.Log.Error("cluster: leave", "server", c.opts.ServerID, "err", err)
	}
}
