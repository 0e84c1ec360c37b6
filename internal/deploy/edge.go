package deploy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/store"
)

// The edge answers every request to a deployment: a static release from
// its folder, an app release through one of its instances. It counts what
// it answers (traffic, and an access line in the runtime log).

// deployStats is what the edge keeps of one project's deployment.
type deployStats struct {
	traffic *traffic
	logs    *logRing
}

// noStats is what a deployment that has served nothing yet shows.
var noStats = &deployStats{traffic: &traffic{}, logs: newLogRing()}

// statsOf returns the project's stats for reading: noStats when it has
// none, so that looking makes nothing.
func (s *Service) statsOf(projectID string) *deployStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.stats[projectID]; st != nil {
		return st
	}
	return noStats
}

func (s *Service) statsFor(projectID string) *deployStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats[projectID]
	if st == nil {
		st = &deployStats{traffic: &traffic{}, logs: newLogRing()}
		if m := s.prom; m != nil {
			for i, c := range []string{"2xx", "3xx", "4xx", "5xx"} {
				st.traffic.classes[i] = m.requests.WithLabelValues(projectID, c)
			}
			st.traffic.duration = m.duration.WithLabelValues(projectID)
			st.traffic.gauge = m.instances.WithLabelValues(projectID)
		}
		s.stats[projectID] = st
	}
	return st
}

// liveEntry is what a project's deployment serves now: a static site or
// an app's pool.
type liveEntry struct {
	projectID string
	site      *site
	app       *pool
	stats     *deployStats
}

type cachedLive struct {
	entry *liveEntry // nil: nothing served
	at    time.Time
}

// liveFor returns what the project serves now, or nil.
func (s *Service) liveFor(ctx context.Context, projectID string) (*liveEntry, error) {
	s.mu.Lock()
	c, ok := s.lives[projectID]
	s.mu.Unlock()
	if ok && time.Since(c.at) < siteTTL {
		return c.entry, nil
	}
	e, err := s.lookupLive(ctx, projectID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.lives) > 10000 {
		clear(s.lives)
	}
	s.lives[projectID] = cachedLive{entry: e, at: time.Now()}
	s.mu.Unlock()
	return e, nil
}

func (s *Service) lookupLive(ctx context.Context, projectID string) (*liveEntry, error) {
	d, err := getDeployment(ctx, s.db, projectID)
	if store.NoRows(err) || err == nil && (d.Live == nil || d.Target == Scheduled) { // a scheduled job serves nothing
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read deployment: %w", err)
	}
	e := &liveEntry{projectID: projectID, stats: s.statsFor(projectID)}
	if isApp(d.Target) {
		e.app, err = s.livePool(ctx, projectID, *d.Live)
		return e, err
	}
	e.site, err = s.loadSite(projectID, *d.Live)
	return e, err
}

// livePool returns the pool of the project's live app release, made (with
// no instance yet) when there is none, as after a restart at zero.
func (s *Service) livePool(ctx context.Context, projectID, releaseID string) (*pool, error) {
	s.mu.Lock()
	p := s.apps[projectID]
	s.mu.Unlock()
	if p != nil && p.releaseID == releaseID {
		return p, nil
	}
	p, err := s.newPool(ctx, projectID, releaseID)
	if err != nil {
		return nil, err
	}
	return s.swapPool(projectID, p), nil
}

// swapPool makes p the project's live pool (nil: none) and drains the one
// before. Two requests making a pool for the same release keep the first.
func (s *Service) swapPool(projectID string, p *pool) *pool {
	s.mu.Lock()
	old := s.apps[projectID]
	if old != nil && p != nil && old.releaseID == p.releaseID && old != p {
		s.mu.Unlock()
		p.stop()
		return old
	}
	if p == nil {
		delete(s.apps, projectID)
	} else {
		s.apps[projectID] = p
	}
	clear(s.lives)
	s.mu.Unlock()
	if old != nil && old != p {
		old.drain()
	}
	return p
}

// stopPool ends the project's instances at once: the project is gone.
func (s *Service) stopPool(projectID string) {
	s.mu.Lock()
	p := s.apps[projectID]
	delete(s.apps, projectID)
	delete(s.stats, projectID)
	clear(s.lives)
	s.mu.Unlock()
	if p != nil {
		p.stop()
	}
	s.prom.forget(projectID)
}

// Serves reports whether the project has a live deployment that takes
// traffic (a scheduled one takes none); it starts nothing.
func (s *Service) Serves(ctx context.Context, projectID string) (bool, error) {
	d, err := getDeployment(ctx, s.db, projectID)
	if store.NoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read deployment: %w", err)
	}
	return d.Live != nil && d.Target != Scheduled, nil
}

// ServeDeployment answers a request for the project's live deployment,
// whatever name it came by.
func (s *Service) ServeDeployment(w http.ResponseWriter, r *http.Request, projectID string) {
	if s.bill.servePaused(w, projectID) {
		return
	}
	w = s.bill.counted(w, projectID)
	e, err := s.liveFor(r.Context(), projectID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "serve deployment", "host", r.Host, "err", err)
		sitePage(w, http.StatusServiceUnavailable, "Deployment unavailable", "This site cannot be served right now.")
		return
	}
	if e == nil {
		sitePage(w, http.StatusNotFound, "Nothing deployed here", "There is no deployment at this address.")
		return
	}
	start := time.Now()
	rec := &httpx.StatusWriter{ResponseWriter: w}
	var out http.ResponseWriter = rec
	var inj *injector
	if s.opts.Snippet != nil && injectable(r) {
		snippet, ok, err := s.opts.Snippet(r.Context(), projectID)
		if err != nil {
			// The page goes out without monitoring rather than not at all.
			s.log.WarnContext(r.Context(), "monitoring snippet", "project_id", projectID, "err", err)
		}
		if ok {
			inj = &injector{ResponseWriter: rec, snippet: []byte(snippet)}
			out, r = inj, forInjection(r)
		}
	}
	instance := ""
	if e.app != nil {
		instance = s.serveApp(out, r, e)
	} else {
		e.site.serveRequest(out, r)
	}
	if inj != nil {
		inj.finish()
	}
	d := time.Since(start)
	e.stats.traffic.record(start, rec.Status(), d)
	if s.opts.Observe != nil {
		s.opts.Observe(projectID, r, rec.Status(), d)
	}
	e.stats.logs.add(SourceEdge, instance, r.Method+" "+r.URL.RequestURI()+" "+strconv.Itoa(rec.Status())+" "+
		strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)+" ms")
}

// serveApp sends r to an instance of the app; it returns the instance's id.
func (s *Service) serveApp(w http.ResponseWriter, r *http.Request, e *liveEntry) string {
	p := e.app
	in, err := p.acquire(r.Context())
	if errors.Is(err, errDrained) {
		// The release changed under the request: take the new one's.
		s.forgetHosts()
		if e2, err2 := s.liveFor(r.Context(), e.projectID); err2 == nil && e2 != nil && e2.app != nil {
			p = e2.app
			in, err = p.acquire(r.Context())
		}
	}
	if err != nil {
		msg := "The app could not take this request in time; try again in a moment."
		if e, ok := errs.As(err); ok {
			msg = e.Message
		} else if errors.Is(err, errNoCapacity) {
			msg = "Too many requests are waiting for this app; try again in a moment."
		}
		if r.Context().Err() == nil {
			s.log.WarnContext(r.Context(), "deployment request not served", "project_id", e.projectID, "err", err)
		}
		w.Header().Set("Retry-After", "5")
		sitePage(w, http.StatusServiceUnavailable, "Service unavailable", msg)
		return ""
	}
	defer p.release(in)
	s.edge.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), instanceKey{}, in)))
	return in.id
}

type instanceKey struct{}

// newEdgeProxy forwards to the instance the request's context names,
// through that instance's own connection pool. The app sees the public
// Host; X-Forwarded-* say where the request came from.
func newEdgeProxy(log func(error)) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		BufferPool: &httpx.ProxyBuffers{},
		Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			return req.Context().Value(instanceKey{}).(*instance).transport.RoundTrip(req)
		}),
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = "instance"
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				log(err)
			}
			sitePage(w, http.StatusBadGateway, "The app did not answer", "The app ended or closed the connection before it answered.")
		},
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// openUp lets an instance read the release it runs (a sandbox's uid is
// not the server's): every file readable, every folder searchable. Links
// are left alone; the release is the server's own folder.
func openUp(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode().Perm() | 0o444
		if d.IsDir() || mode&0o100 != 0 {
			mode |= 0o111
		}
		return os.Chmod(p, mode&^0o222)
	})
}

// Instances lists the instances of the project's live app deployment.
func (s *Service) Instances(ctx context.Context, actor *auth.User, projectID string) ([]InstanceView, Scale, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, Scale{}, err
	}
	s.mu.Lock()
	pl := s.apps[p.ID]
	s.mu.Unlock()
	if pl != nil {
		list, sc := pl.view()
		return list, sc, nil
	}
	// None runs: a deployment scaled to zero (or not an app) says what it
	// would aim at.
	sc := Scale{}
	if d, err := getDeployment(ctx, s.db, p.ID); err == nil && d.Live != nil && isApp(d.Target) {
		if j, err := readJob(s.releaseDir(p.ID, *d.Live)); err == nil {
			x := scalingOf(j)
			sc = Scale{Target: d.Target, Min: x.min, Max: x.max, Concurrency: x.target, Desired: x.min}
		}
	}
	return []InstanceView{}, sc, nil
}

// Metrics returns the project's deployment traffic over window.
func (s *Service) Metrics(ctx context.Context, actor *auth.User, projectID, window string) (time.Duration, []MetricPoint, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return 0, nil, err
	}
	if window == "" {
		window = "1h"
	}
	step, points, ok := s.statsOf(p.ID).traffic.points(time.Now(), window)
	if !ok {
		return 0, nil, errs.Invalid("invalid_window", "window must be 15m, 1h, 6h or 24h")
	}
	return step, points, nil
}

// Logs returns the project's runtime log lines matching q, oldest first,
// and a follow that sends each new matching line to emit until ctx ends.
func (s *Service) Logs(ctx context.Context, actor *auth.User, projectID string, q LogQuery) ([]LogLine, func(context.Context, func(LogLine) error) error, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, nil, err
	}
	switch q.Source {
	case "", "all", SourceApp, SourceEdge, SourcePlatform:
	default:
		return nil, nil, errs.Invalid("invalid_source", "source must be all, app or edge")
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 200
	}
	logs := s.statsOf(p.ID).logs
	lines, seq, _ := logs.find(q)
	if lines == nil {
		lines = []LogLine{}
	}
	follow := func(ctx context.Context, emit func(LogLine) error) error {
		next := q
		next.Before, next.After = 0, seq
		if logs == noStats.logs {
			// Nothing served yet: follow the ring the first line will make.
			logs, next.After = s.statsFor(p.ID).logs, 0
		}
		return logs.follow(ctx, next, emit)
	}
	return lines, follow, nil
}

// startApps brings back the live app deployments after a start: a vm's
// instances, and an autoscale's minInstances (one at zero stays there
// until a request comes). It does not wait for them to be ready.
func (s *Service) startApps(ctx context.Context) error {
	var rows []struct {
		ProjectID string `db:"project_id"`
		Live      string `db:"live_release_id"`
	}
	if err := s.db.Select(ctx, &rows, `SELECT project_id, live_release_id FROM deployments WHERE target IN (?, ?) AND live_release_id IS NOT NULL`, Autoscale, VM); err != nil {
		return fmt.Errorf("list app deployments: %w", err)
	}
	for _, r := range rows {
		if s.holds(ctx, r.ProjectID) {
			s.startApp(ctx, r.ProjectID, r.Live)
		}
	}
	return nil
}

// startApp starts the least instances of projectID's live app release.
func (s *Service) startApp(ctx context.Context, projectID, live string) {
	j, err := readJob(s.releaseDir(projectID, live))
	if err != nil {
		s.log.Error("live app release", "project_id", projectID, "release_id", live, "err", err)
		return
	}
	if scalingOf(j).min == 0 {
		return
	}
	p, err := s.livePool(ctx, projectID, live)
	if err != nil {
		s.log.Error("start app deployment", "project_id", projectID, "err", err)
		return
	}
	p.mu.Lock()
	for len(p.instances) < p.sc.min {
		p.startLocked(nil)
	}
	p.mu.Unlock()
}
