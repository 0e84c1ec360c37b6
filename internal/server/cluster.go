package server

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"

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
func projectOf(projects *project.Service, runs *run.Service, deploys *deploy.Service, domains *domain.Service) func(r *http.Request) (string, bool) {
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
			return domains.ProjectOf(r)
		}
		p, err := projects.Lookup(r.Context(), owner, slug)
		if err != nil {
			return "", false // served here: the answer that there is no such project
		}
		return p.ID, true
	}
}
