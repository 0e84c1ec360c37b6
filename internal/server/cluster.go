package server

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"ecode/internal/cluster"
	"ecode/internal/config"
	"ecode/internal/deploy"
	"ecode/internal/domain"
	"ecode/internal/events"
	"ecode/internal/project"
	"ecode/internal/run"
	"ecode/internal/seal"
	"ecode/internal/store"
)

// joinCluster makes this server one of several sharing the database, when
// it is configured to be (ECODE_PEER_URL): the events every server must
// hear of travel over NATS, and a project's requests go to the server
// holding it. Without a cluster it returns nils.
func joinCluster(ctx context.Context, db *store.DB, bus *events.Bus, keys *seal.Keyring, cfg config.Config) (*cluster.Cluster, *cluster.Fanout, error) {
	if cfg.PeerURL == "" {
		return nil, nil, nil
	}
	// A person's tabs are on the server holding the project, whichever
	// server changed their role or their team's allowlist.
	events.Share[project.AccessChanged](bus, "project.access")
	events.Share[project.AdmissionChanged](bus, "project.admission")
	// A deleted project's sandbox, tabs and apps end on the server holding
	// it; its files and rows go once, where it was deleted (Deleted).
	events.Share[project.Gone](bus, "project.gone")
	fan, err := cluster.NewFanout(ctx, cfg.NATSURL, cfg.NATSStream, cfg.ServerID, bus)
	if err != nil {
		return nil, nil, err
	}
	bus.Connect(fan)
	c, err := cluster.New(ctx, db, bus, cluster.Options{
		ServerID: cfg.ServerID, PeerURL: cfg.PeerURL, Lease: cfg.ClusterLease,
		Key: keys.Derive("ecode peer v1")[keys.Current()], Log: slog.Default(),
	})
	if err != nil {
		fan.Close()
		return nil, nil, err
	}
	return c, fan, nil
}

// ownDir is a folder of the data dir for this server's own transient
// state (sandbox sockets, their cgroups' names): the servers of a cluster
// share the data dir, so each has one of its own.
func ownDir(cfg config.Config, name string) string {
	if cfg.PeerURL == "" {
		return filepath.Join(cfg.DataDir, name)
	}
	return filepath.Join(cfg.DataDir, name, cfg.ServerID)
}

// projectOf says which project a request is for: its API path, or the
// host of its preview, deployment or custom domain.
func projectOf(bus *events.Bus, projects *project.Service, runs *run.Service, deploys *deploy.Service, domains *domain.Service) func(r *http.Request) (string, bool) {
	sites := newSiteHosts(bus, time.Now)
	return func(r *http.Request) (string, bool) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/api/projects/"); ok {
			id, _, _ := strings.Cut(rest, "/")
			return id, store.IsID(id)
		}
		owner, slug, ok := runs.PreviewTarget(r.Host)
		if !ok {
			owner, slug, ok = deploys.Target(r.Host)
		}
		if !ok {
			return domains.ProjectOf(r) // remembered there for a moment
		}
		key := owner + "/" + slug
		if id, ok := sites.get(key); ok {
			return id, true
		}
		p, err := projects.Lookup(r.Context(), owner, slug)
		if err != nil {
			return "", false // served here: the answer that there is no such project
		}
		sites.put(key, p.ID)
		return p.ID, true
	}
}

// siteTTL is how long a preview or deployment host's project is
// remembered for forwarding: as long as the holder's own caches of hosts
// remember theirs, so a rename on another server reaches both together.
const siteTTL = 2 * time.Second

// siteHosts remembers the project of each preview and deployment host
// (by owner/slug): every request for one passes through Forward, and each
// would otherwise cost a query. A host of no project is not remembered, so
// a new project's requests reach its holder at once.
type siteHosts struct {
	now func() time.Time
	mu  sync.Mutex
	ids map[string]siteHost
}

type siteHost struct {
	projectID string
	at        time.Time
}

// newSiteHosts follows bus: a project deleted on any server, or renamed
// or given away on this one, is looked up afresh; one renamed on another,
// within siteTTL.
func newSiteHosts(bus *events.Bus, now func() time.Time) *siteHosts {
	c := &siteHosts{now: now, ids: map[string]siteHost{}}
	events.Subscribe(bus, func(_ context.Context, e project.Gone) { c.forget(e.ProjectID) })
	events.Subscribe(bus, func(_ context.Context, e project.Updated) { c.forget(e.Project.ID) })
	events.Subscribe(bus, func(_ context.Context, e project.Transferred) { c.forget(e.Project.ID) })
	return c
}

func (c *siteHosts) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.ids[key]
	if !ok || c.now().Sub(h.at) >= siteTTL {
		return "", false
	}
	return h.projectID, true
}

func (c *siteHosts) put(key, projectID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ids) >= maxSiteHosts {
		clear(c.ids)
	}
	c.ids[key] = siteHost{projectID: projectID, at: c.now()}
}

// forget drops projectID's hosts: it changed names or owners, or is gone.
func (c *siteHosts) forget(projectID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.DeleteFunc(c.ids, func(_ string, h siteHost) bool { return h.projectID == projectID })
}

// maxSiteHosts bounds the memory of hosts; past it, all are read afresh.
const maxSiteHosts = 10000
