// Package deploy is deployments: every deploy builds a release, in a fresh
// sandbox, from a checkpoint of the project (its commit recorded) into an
// immutable folder; one release per project is live, and switching it
// (a rollback, its undo) is the change of one row. Static releases are
// served by the platform itself on {slug}--{owner}.{domain}.
//
// It guarantees: a build never reads the project's working tree (it gets a
// checkout of the commit) and nothing of what it made is followed by name
// (the output is copied through safefs); a failed build never takes
// traffic; the deploys of one project run one at a time, a second request
// while one waits answering the waiting one; a queued or building release
// can be cancelled (its sandbox stopped), which leaves the live one as it
// was; a build a stopped server left unfinished is marked failed when it
// starts again.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/billing"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/gpu"
	"ecode/internal/project"
	"ecode/internal/run"
	"ecode/internal/store"
)

// Options of the deploy service.
type Options struct {
	DataDir   string // releases under DataDir/releases, build folders under DataDir/builds
	Domain    string // deployments at {slug}--{owner}.{Domain}
	PublicURL string // the platform's URL; deployments share its scheme and port
	// Secrets returns a project's secrets as NAME=value: its build's
	// environment, and what the build log masks.
	Secrets func(ctx context.Context, projectID string) ([]string, error)
	// DataEnv, when set, returns what a project's deployments are given
	// to reach its data on the platform (its production database and
	// key-value store), as NAME=value: their environment before the
	// secrets, masked like them, and never exported, for it names the
	// sandbox's own loopback.
	DataEnv func(ctx context.Context, projectID string) ([]string, error)
	// Prepare, when set, runs at the start of each build, before the
	// secrets are read: it makes what a deployment needs beside its code
	// (the production database), saying what it did on log.
	Prepare func(ctx context.Context, projectID string, log io.Writer) error
	// KeepData, when set, runs at the start of each build, before Prepare:
	// it keeps production's data with commit, the checkpoint being
	// deployed, so that what the release does to the data can be undone.
	KeepData func(ctx context.Context, projectID, commit string, log io.Writer) error
	// Keep is how many releases of a project are kept; 0: 10. The live
	// one and the one before it are kept whatever their age.
	Keep int
	// BuildTimeout bounds a build without a timeout of its own; 0: 15 minutes.
	BuildTimeout time.Duration
	// Policy is the operator's: the schedules' floor and where failure
	// webhooks may go (notify.go).
	Policy Policy
	// Scale tunes app deployments.
	Scale ScaleOptions
	// Registerer, when set, gets the edge's metrics.
	Registerer prometheus.Registerer
	// ImageRegistry is where exports say releases' images are:
	// {ImageRegistry}/ecode/{owner}-{slug}:{release}.
	ImageRegistry string
	// Observe, when set, is told of every request the edge answers for a
	// deployment: the platform's monitoring of it.
	Observe func(projectID string, r *http.Request, status int, d time.Duration)
	// Snippet, when set, says what a deployment's HTML pages get before
	// </head> (the monitoring script), and whether they get it.
	Snippet func(ctx context.Context, projectID string) (string, bool, error)
	// Meter, when set, is told each running instance's time (by size)
	// and the bytes the edge served, every MeterInterval (0: 30 s) and as
	// each instance stops (meter.go).
	Meter         billing.Recorder
	MeterInterval time.Duration
	// Holds, when set, says whether this server of a cluster runs a
	// project's app instances and scheduled runs, claiming the project
	// when no live server does; unset, this server runs them all.
	Holds func(ctx context.Context, projectID string) bool
	// GPUs leases GPUs to the instances of releases that ask for one
	// ([deployment] gpu); nil: none is ever given.
	GPUs *gpu.Pool
}

// Release is one deploy as the API shows it.
type Release struct {
	ID        string  `json:"id"`
	Number    int     `json:"number"`
	Commit    string  `json:"commit"`
	Target    string  `json:"target"`
	Status    string  `json:"status"`
	Error     *string `json:"error"`
	CreatedBy Author  `json:"createdBy"`
	CreatedAt int64   `json:"createdAt"`
	BuildMs   *int64  `json:"buildMs"`
	Live      bool    `json:"live"`
}

// Author is who asked for a release.
type Author struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// Deployment is a project's deployment: where it is seen and what is live.
type Deployment struct {
	Target            string   `json:"target"`
	URL               string   `json:"url"`
	LiveReleaseID     string   `json:"liveReleaseId"`
	PreviousReleaseID *string  `json:"previousReleaseId"`
	Config            Settings `json:"config"`
}

// Service is the deploy capability.
type Service struct {
	db       *store.DB
	projects *project.Service
	driver   Driver
	opts     Options
	log      *slog.Logger
	ctx      context.Context // builds end with it
	wg       sync.WaitGroup

	edge *httputil.ReverseProxy
	prom *promMetrics
	bill *metering // usage metered, deployments paused for want of credits

	mu     sync.Mutex
	queues map[string]*queue // by project id
	hosts  map[string]cachedHost
	lives  map[string]cachedLive // by project id
	sites  map[string]*site      // by release id
	apps   map[string]*pool      // by project id: the live app release's
	stats  map[string]*deployStats
	crons  map[string]*cronJob // by project id: live scheduled deployments
	// execLogs are the runs of scheduled deployments in progress, by
	// project id: at most one each.
	execLogs map[string]execLog
}

// queue is a project's deploys: the one building and at most one waiting.
type queue struct{ building, waiting *job }

type job struct {
	row   releaseRow
	actor *auth.User
	log   *buildLog
	// Under Service.mu: cancel stops the build once it has started;
	// cancelledBy names who did; recording is set once the outcome is being
	// written, after which it can no longer be cancelled.
	cancel      context.CancelFunc
	cancelledBy string
	recording   bool
	// pool is an app release's instances, warmed by the build; they take
	// traffic once the release is live.
	pool *pool
}

// NewService builds the service; builds run until ctx ends. It follows
// the projects on bus: a deleted project's releases go with it.
func NewService(ctx context.Context, db *store.DB, bus *events.Bus, projects *project.Service, driver Driver, opts Options) *Service {
	if db == nil || bus == nil || projects == nil || driver == nil {
		panic("deploy.NewService: nil db, bus, projects or driver")
	}
	if opts.Keep == 0 {
		opts.Keep = 10
	}
	if opts.BuildTimeout == 0 {
		opts.BuildTimeout = 15 * time.Minute
	}
	opts.Scale.fill()
	s := &Service{db: db, projects: projects, driver: driver, opts: opts, log: slog.Default(), ctx: ctx,
		prom:   newPromMetrics(opts.Registerer),
		queues: map[string]*queue{}, hosts: map[string]cachedHost{}, lives: map[string]cachedLive{}, sites: map[string]*site{},
		apps: map[string]*pool{}, stats: map[string]*deployStats{}, crons: map[string]*cronJob{}, execLogs: map[string]execLog{}}
	s.edge = newEdgeProxy(func(err error) { s.log.Warn("deployment request failed", "err", err) })
	s.bill = newMetering(opts.Meter, opts.MeterInterval, s.log)
	s.wg.Go(func() { s.bill.run(ctx) })
	// Every server of a cluster ticks the schedules and may hold the apps:
	// each stops a deleted project's; its releases go once.
	events.Subscribe(bus, func(_ context.Context, e project.Gone) {
		s.stopCron(e.ProjectID)
		s.stopPool(e.ProjectID)
		s.forgetHosts()
	})
	events.Subscribe(bus, func(_ context.Context, e project.Deleted) {
		_ = os.RemoveAll(filepath.Join(s.opts.DataDir, "releases", e.ProjectID))
	})
	// In a cluster: a dead server's builds and runs of the project ended
	// with it, and its apps start here; a server that was taken for dead
	// and is back stops its own, which the project's holder runs now.
	events.Subscribe(bus, func(ctx context.Context, e project.Adopted) { s.adopt(ctx, e.ProjectID) })
	events.Subscribe(bus, func(_ context.Context, e project.HandedOver) { s.stopPool(e.ProjectID) })
	return s
}

// Recover fails the builds and scheduled runs a stopped server left
// unfinished (their sandbox is gone, and the live release never changed),
// then starts the apps and the schedules of the live deployments. In a
// cluster the others may be building: what a dead server left is failed
// as its projects are adopted instead.
func (s *Service) Recover(ctx context.Context) error {
	if s.opts.Holds == nil {
		if err := s.interrupt(ctx, ""); err != nil {
			return err
		}
		_ = os.RemoveAll(s.buildRoot())
		_ = os.RemoveAll(filepath.Join(s.opts.DataDir, "executions"))
	}
	if err := s.startApps(ctx); err != nil {
		return err
	}
	if err := s.startSchedules(ctx); err != nil {
		return err
	}
	if cron, ok := s.driver.(Cron); ok { // once what was left is failed
		cron.Runs(s.takeRun)
	}
	return nil
}

// interrupt fails the unfinished builds and runs of projectID, or of all
// projects when it is empty.
func (s *Service) interrupt(ctx context.Context, projectID string) error {
	n, err := interrupt(ctx, s.db, projectID, "Interrupted by a restart of the server; deploy again.", store.Now())
	if err != nil {
		return fmt.Errorf("recover deploys: %w", err)
	}
	if n > 0 {
		s.log.Warn("deploys interrupted by a restart marked failed", "count", n, "project_id", projectID)
	}
	if _, err := interruptExecutions(ctx, s.db, projectID, store.Now()); err != nil {
		return fmt.Errorf("recover scheduled runs: %w", err)
	}
	return nil
}

// adopt takes over a project from a dead server of the cluster.
func (s *Service) adopt(ctx context.Context, projectID string) {
	if err := s.interrupt(ctx, projectID); err != nil {
		s.log.Error("adopt a project's deployment", "project_id", projectID, "err", err)
	}
	var live string
	if err := s.db.Get(ctx, &live, `SELECT live_release_id FROM deployments WHERE project_id = ? AND target IN (?, ?) AND live_release_id IS NOT NULL`, projectID, Autoscale, VM); err != nil {
		if !store.NoRows(err) {
			s.log.Error("adopt a project's app", "project_id", projectID, "err", err)
		}
		return
	}
	s.startApp(ctx, projectID, live)
}

// holds says whether this server runs projectID's apps and schedules.
func (s *Service) holds(ctx context.Context, projectID string) bool {
	return s.opts.Holds == nil || s.opts.Holds(ctx, projectID)
}

// Wait returns once every build has ended (after ctx given to NewService).
func (s *Service) Wait() { s.wg.Wait() }

func (s *Service) buildRoot() string { return filepath.Join(s.opts.DataDir, "builds") }

func (s *Service) releaseDir(projectID, releaseID string) string {
	return filepath.Join(s.opts.DataDir, "releases", projectID, releaseID)
}

// URL is where p's deployment is seen.
func (s *Service) URL(p *project.Project) string {
	return project.SiteURL(s.opts.PublicURL, s.opts.Domain, p)
}

// Get returns the project's deployment (nil before its first release goes
// live) and its releases, newest first.
func (s *Service) Get(ctx context.Context, actor *auth.User, projectID string) (*Deployment, []Release, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, nil, err
	}
	rows, err := listReleases(ctx, s.db, p.ID)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.deployment(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	live := ""
	if d != nil {
		live = d.LiveReleaseID
	}
	out := make([]Release, 0, len(rows))
	for _, r := range rows {
		out = append(out, view(r, live))
	}
	return d, out, nil
}

func (s *Service) deployment(ctx context.Context, p *project.Project) (*Deployment, error) {
	row, err := getDeployment(ctx, s.db, p.ID)
	if store.NoRows(err) || err == nil && row.Live == nil {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read deployment: %w", err)
	}
	settings, err := readSettings(s.projects.Tree(p), s.floor())
	if err != nil {
		// The deployment stands; its settings are shown as they were deployed.
		settings = Settings{Config: Config{Target: row.Target}}
	}
	return &Deployment{Target: row.Target, URL: s.URL(p), LiveReleaseID: *row.Live, PreviousReleaseID: row.Previous, Config: settings}, nil
}

func view(r releaseRow, live string) Release {
	v := Release{ID: r.ID, Number: r.Number, Commit: r.Commit, Target: r.Target, Status: r.Status,
		CreatedBy: Author{ID: r.CreatedBy, Username: r.Username}, CreatedAt: r.CreatedAt, Live: r.ID == live}
	if r.Error != "" {
		v.Error = &r.Error
	}
	if r.StartedAt != nil && r.FinishedAt != nil {
		ms := *r.FinishedAt - *r.StartedAt
		v.BuildMs = &ms
	}
	return v
}

// Settings returns the project's deployment settings, defaults filled.
func (s *Service) Settings(ctx context.Context, actor *auth.User, projectID string) (Settings, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return Settings{}, err
	}
	return s.settingsOf(ctx, p)
}

// settingsOf reads p's settings, with the GPUs it may ask for.
func (s *Service) settingsOf(ctx context.Context, p *project.Project) (Settings, error) {
	st, err := readSettings(s.projects.Tree(p), s.floor())
	if err != nil {
		return st, err
	}
	st.GPUKinds = s.projects.GPUOffer(ctx, p.ID)
	return st, nil
}

// SetConfig writes c as the [deployment] table of the project's ecode.toml
// and returns the settings it makes.
func (s *Service) SetConfig(ctx context.Context, actor *auth.User, projectID string, c Config) (Settings, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return Settings{}, err
	}
	if err := s.projects.CheckGPU(ctx, p.ID, c.GPU); err != nil {
		return Settings{}, err
	}
	if err := writeConfig(s.projects.Tree(p), c, s.floor()); err != nil {
		return Settings{}, err
	}
	return s.settingsOf(ctx, p)
}

// Deploy queues a release of the project. While one waits to build, a
// second request answers that one instead of queueing another.
func (s *Service) Deploy(ctx context.Context, actor *auth.User, projectID string) (*Release, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	settings, err := readSettings(s.projects.Tree(p), s.floor())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[p.ID]
	if q != nil && q.waiting != nil {
		v := view(q.waiting.row, "")
		return &v, nil
	}
	j := &job{actor: actor, log: newBuildLog(), row: releaseRow{ID: store.NewID(), ProjectID: p.ID, Target: settings.Target,
		Status: Queued, CreatedBy: actor.ID, Username: actor.Username, CreatedAt: store.Now()}}
	if err := insertRelease(ctx, s.db, &j.row); err != nil {
		return nil, err
	}
	if q == nil {
		q = &queue{building: j}
		s.queues[p.ID] = q
		s.wg.Add(1)
		go s.work(p.ID, q)
	} else {
		q.waiting = j
	}
	v := view(j.row, "")
	return &v, nil
}

// work builds the project's queued releases one after another.
func (s *Service) work(projectID string, q *queue) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		j := q.building
		s.mu.Unlock()
		s.build(j)
		s.mu.Lock()
		q.building, q.waiting = q.waiting, nil
		if q.building == nil {
			delete(s.queues, projectID)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// running returns the job of release id while it is queued or building.
func (s *Service) running(projectID, id string) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[projectID]; q != nil {
		for _, j := range []*job{q.building, q.waiting} {
			if j != nil && j.row.ID == id {
				return j
			}
		}
	}
	return nil
}

// build takes a checkpoint, checks it out into a fresh folder, builds it
// there in a sandbox of its own, and publishes the output as the live
// release. Whatever fails, the live release stays as it was.
func (s *Service) build(j *job) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	// What happened is recorded even when the server is stopping.
	dbctx := context.WithoutCancel(ctx)
	r := &j.row
	s.mu.Lock()
	r.Status = Building
	j.cancel = cancel
	if j.cancelledBy != "" {
		cancel() // cancelled between the queue and here
	}
	s.mu.Unlock()
	msg, err := s.buildRelease(ctx, j)
	s.mu.Lock()
	j.recording = true
	by := j.cancelledBy
	s.mu.Unlock()
	status := Ready
	if by != "" {
		// A cancel wins over a build that ended meanwhile: it was asked for.
		_ = os.RemoveAll(s.releaseDir(r.ProjectID, r.ID))
		msg, err = cancelled(by), errCancelled
	}
	if err != nil {
		status = Failed
		fmt.Fprintf(j.log, "\n%s\n", msg)
		s.log.Info("deploy failed", "project_id", r.ProjectID, "release_id", r.ID, "err", err)
		s.buildFailed(r, msg, err)
	}
	now := store.Now()
	err = s.db.Tx(dbctx, func(q store.Q) error {
		if err := finishRelease(dbctx, q, r.ID, status, msg, j.log.String(), now); err != nil {
			return err
		}
		if status == Ready {
			return setLive(dbctx, q, r.ProjectID, r.ID, r.Target, now)
		}
		return nil
	})
	if err != nil {
		// Not recorded (the project was deleted meanwhile, or the database
		// failed): its folder must not stay behind.
		s.log.Error("record deploy", "project_id", r.ProjectID, "release_id", r.ID, "err", err)
		_ = os.RemoveAll(s.releaseDir(r.ProjectID, r.ID))
	}
	switch {
	case (err != nil || status != Ready) && j.pool != nil:
		j.pool.stop()
	case err == nil && status == Ready:
		// The new release's instances take the traffic; the old ones drain.
		s.swapPool(r.ProjectID, j.pool)
	}
	s.forgetHosts()
	if status == Ready {
		s.reschedule(dbctx, r.ProjectID)
	}
	if err := s.prune(dbctx, r.ProjectID); err != nil {
		s.log.Warn("prune releases", "project_id", r.ProjectID, "err", err)
	}
	s.mu.Lock()
	r.Status, r.Error, r.FinishedAt = status, msg, &now
	s.mu.Unlock()
	// Last: whoever follows the log learns of the end with everything done.
	j.log.end()
}

// buildRelease does the work of build; on failure it returns the reason
// as the person reads it.
func (s *Service) buildRelease(ctx context.Context, j *job) (string, error) {
	r := &j.row
	fail := func(err error) (string, error) {
		if e, ok := errs.As(err); ok {
			return e.Message, err
		}
		return "The deploy failed: " + err.Error() + ".", err
	}
	p, err := s.projects.Get(ctx, j.actor, r.ProjectID, access.Write)
	if err != nil {
		return fail(err)
	}
	tree := s.projects.Tree(p)
	settings, err := readSettings(tree, s.floor())
	if err != nil {
		return fail(err)
	}
	cp, _, err := s.projects.Checkpoint(ctx, j.actor, p.ID, fmt.Sprintf("Deploy #%d", r.Number))
	if err != nil {
		return fail(fmt.Errorf("checkpoint: %w", err))
	}
	started := store.Now()
	if err := startRelease(ctx, s.db, r.ID, cp.ID, started); err != nil {
		return fail(err)
	}
	s.mu.Lock()
	r.Commit, r.StartedAt = cp.ID, &started
	s.mu.Unlock()
	if s.opts.KeepData != nil {
		// A deploy is not held back for it: the log says it is missing.
		if err := s.opts.KeepData(ctx, p.ID, cp.ID, j.log); err != nil {
			msg := "the server's log says why"
			if e, ok := errs.As(err); ok {
				msg = e.Message
			}
			s.log.Error("keep production's data before a deploy", "project", p.ID, "err", err)
			fmt.Fprintf(j.log, "Production's data could not be snapshotted (%s); deploying all the same.\n", msg)
		}
	}
	if s.opts.Prepare != nil {
		if err := s.opts.Prepare(ctx, p.ID, j.log); err != nil {
			return fail(err)
		}
	}
	sb, err := s.sandboxOf(ctx, p.ID)
	if err != nil {
		return fail(err)
	}
	out := run.Masked(sb.secrets, j.log)
	defer out.Flush()
	fmt.Fprintf(out, "Release #%d of checkpoint %s\n", r.Number, cp.Short)

	if err := os.MkdirAll(s.buildRoot(), 0o711); err != nil {
		return fail(err)
	}
	dir := filepath.Join(s.buildRoot(), r.ID)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fail(fmt.Errorf("build folder: %w", err))
	}
	defer os.RemoveAll(dir)
	if err := s.projects.CheckoutTo(ctx, p.ID, cp.ID, dir); err != nil {
		return fail(fmt.Errorf("check out %s: %w", cp.Short, err))
	}
	var steps []string
	for _, st := range []string{settings.Install, settings.Build} {
		if st != "" {
			steps = append(steps, st)
		}
	}
	if len(steps) > 0 {
		timeout := s.opts.BuildTimeout
		if settings.Timeout > 0 && settings.Target != Scheduled { // a scheduled one's bounds its runs
			timeout = time.Duration(settings.Timeout) * time.Second
		}
		bctx, cancel := context.WithTimeout(ctx, timeout)
		err = s.driver.Build(bctx, BuildSpec{ProjectID: p.ID, Dir: dir, Steps: steps, Env: sb.secrets, Internet: sb.internet,
			Limits: sb.limits, Used: s.bill.buildUsed(p.ID, r.ID, r.CreatedBy)}, out)
		cancel()
		_ = out.Flush()
		if err != nil {
			if e, ok := errs.As(err); ok {
				return e.Message, err
			}
			return "The build failed: " + err.Error() + ". The live release is unchanged.", err
		}
	}
	if isApp(settings.Target) {
		return s.releaseApp(ctx, j, dir, settings, out)
	}
	if settings.Target == Scheduled {
		n, err := publishApp(dir, s.releaseDir(p.ID, r.ID), runSpec{Run: settings.Run, Schedule: settings.Schedule,
			TimeZone: settings.TimeZone, Timeout: settings.Timeout})
		if err != nil {
			return "The release could not be made: " + err.Error() + ". The live release is unchanged.", err
		}
		fmt.Fprintf(out, "Release in place: %d files, to run %s: %s\n", n, strings.ToLower(settings.Sentence[:1])+settings.Sentence[1:], settings.Run)
		return "", nil
	}
	n, err := publish(dir, settings.PublicDir, s.releaseDir(p.ID, r.ID))
	if err != nil {
		return "The release could not be made: " + err.Error() + ". The live release is unchanged.", err
	}
	fmt.Fprintf(out, "Release in place: %d files from %s\n", n, settings.PublicDir+"/")
	return "", nil
}

// Promote makes release id live: a rollback to an older release, or its
// undo (promoting the one live before). Only a ready release can be live.
func (s *Service) Promote(ctx context.Context, actor *auth.User, projectID, id string) (*Deployment, error) {
	p, r, err := s.changeRelease(ctx, actor, projectID, id)
	if err != nil {
		return nil, err
	}
	if r.Status != Ready {
		return nil, errs.Conflict("release_not_ready", "Release #%d is %s: only a release that built can go live.", r.Number, r.Status)
	}
	if _, err := os.Stat(s.releaseDir(p.ID, r.ID)); err != nil {
		return nil, errs.Conflict("release_not_ready", "Release #%d is no longer kept.", r.Number)
	}
	var pl *pool
	if isApp(r.Target) {
		// Its instances are ready before it takes traffic.
		if pl, err = s.newPool(ctx, p.ID, r.ID); err != nil {
			return nil, err
		}
		if err := pl.warm(ctx, io.Discard); err != nil {
			pl.stop()
			return nil, errs.Conflict("release_unhealthy", "Release #%d did not start: %v. The live release is unchanged.", r.Number, err)
		}
	}
	if err := setLive(ctx, s.db, p.ID, r.ID, r.Target, store.Now()); err != nil {
		if pl != nil {
			pl.stop()
		}
		return nil, err
	}
	s.swapPool(p.ID, pl)
	s.forgetHosts()
	s.reschedule(ctx, p.ID)
	return s.deployment(ctx, p)
}

// changeRelease is release id of project projectID, which actor may change.
func (s *Service) changeRelease(ctx context.Context, actor *auth.User, projectID, id string) (*project.Project, *releaseRow, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, nil, err
	}
	r, err := getRelease(ctx, s.db, p.ID, id)
	if store.NoRows(err) {
		return nil, nil, errNoRelease
	}
	if err != nil {
		return nil, nil, err
	}
	return p, r, nil
}

// releaseRemover is a driver that keeps something of its own per release
// (an image), removed with the release.
type releaseRemover interface {
	RemoveRelease(ctx context.Context, projectID, releaseID string) error
}

var errNoRelease = errs.NotFound("release_not_found", "There is no such release of this project.")

var errCancelled = errors.New("cancelled")

// cancelled is the error of a release cancelled by username.
func cancelled(username string) string {
	return "Cancelled by " + username + ". The live release is unchanged."
}

// Cancel ends release id while it is queued or building: a queued one is
// dropped from the queue, a building one's sandbox stopped. Either ends
// failed, saying who cancelled it, and the live release stays. It returns
// the release once it has ended, or when ctx ends.
func (s *Service) Cancel(ctx context.Context, actor *auth.User, projectID, id string) (*Release, error) {
	p, r, err := s.changeRelease(ctx, actor, projectID, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	q := s.queues[p.ID]
	switch {
	case q != nil && q.waiting != nil && q.waiting.row.ID == id:
		j := q.waiting
		q.waiting = nil
		s.mu.Unlock()
		s.log.Info("deploy cancelled", "project_id", p.ID, "release_id", id, "by", actor.Username)
		if err := s.drop(ctx, j, actor.Username); err != nil {
			return nil, err
		}
	case q != nil && q.building != nil && q.building.row.ID == id && q.building.recording:
		// Too late: its outcome is being recorded; answer with it.
		j := q.building
		s.mu.Unlock()
		if err := j.log.wait(ctx); err != nil {
			return nil, err
		}
		if r, err = getRelease(ctx, s.db, p.ID, id); err != nil {
			return nil, err
		}
		return nil, notActive(r)
	case q != nil && q.building != nil && q.building.row.ID == id:
		j := q.building
		if j.cancelledBy == "" {
			j.cancelledBy = actor.Username
			s.log.Info("deploy cancelled", "project_id", p.ID, "release_id", id, "by", actor.Username)
		}
		if j.cancel != nil {
			j.cancel()
		}
		s.mu.Unlock()
		// Its worker records the end; wait for it, so that the answer is the end.
		if err := j.log.wait(ctx); err != nil {
			return nil, err
		}
	default:
		s.mu.Unlock()
		return nil, notActive(r)
	}
	return s.release(ctx, p.ID, id)
}

func notActive(r *releaseRow) error {
	return errs.Conflict("release_not_active", "Release #%d has already ended (%s): only a queued or building release can be cancelled.", r.Number, r.Status)
}

// drop records a queued release that never built as cancelled.
func (s *Service) drop(ctx context.Context, j *job, username string) error {
	msg := cancelled(username)
	fmt.Fprintf(j.log, "%s\n", msg)
	now := store.Now()
	err := finishRelease(context.WithoutCancel(ctx), s.db, j.row.ID, Failed, msg, j.log.String(), now)
	s.mu.Lock()
	j.row.Status, j.row.Error, j.row.FinishedAt = Failed, msg, &now
	s.mu.Unlock()
	j.log.end()
	if err != nil {
		return fmt.Errorf("record cancelled release: %w", err)
	}
	return nil
}

// Log follows the build log of release id: what it holds so far, then
// what comes as it comes, through emit; it returns the release once it
// has ended (at once for a finished one).
func (s *Service) Log(ctx context.Context, actor *auth.User, projectID, id string, emit func(chunk string) error) (*Release, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	if _, err := getRelease(ctx, s.db, p.ID, id); store.NoRows(err) {
		return nil, errNoRelease
	} else if err != nil {
		return nil, err
	}
	if j := s.running(p.ID, id); j != nil {
		for off := 0; ; {
			chunk, ended, err := j.log.next(ctx, off)
			if err != nil {
				return nil, err
			}
			if chunk != "" {
				if err := emit(chunk); err != nil {
					return nil, err
				}
				off += len(chunk)
			}
			if ended {
				break
			}
		}
	} else {
		text, err := releaseLog(ctx, s.db, id)
		if err != nil {
			return nil, err
		}
		if text != "" {
			if err := emit(text); err != nil {
				return nil, err
			}
		}
	}
	return s.release(ctx, p.ID, id)
}

// release returns one release as the API shows it, live or not.
func (s *Service) release(ctx context.Context, projectID, id string) (*Release, error) {
	r, err := getRelease(ctx, s.db, projectID, id)
	if err != nil {
		return nil, err
	}
	live := ""
	if d, err := getDeployment(ctx, s.db, projectID); err == nil && d.Live != nil {
		live = *d.Live
	}
	v := view(*r, live)
	return &v, nil
}

// prune removes the releases past the newest Keep, and their folders; the
// live one and the one before it stay.
func (s *Service) prune(ctx context.Context, projectID string) error {
	rows, err := listReleases(ctx, s.db, projectID)
	if err != nil || len(rows) <= s.opts.Keep {
		return err
	}
	keep := map[string]bool{}
	if d, err := getDeployment(ctx, s.db, projectID); err == nil {
		for _, id := range []*string{d.Live, d.Previous} {
			if id != nil {
				keep[*id] = true
			}
		}
	}
	var errList []error
	for _, r := range rows[s.opts.Keep:] {
		if keep[r.ID] || r.Status == Queued || r.Status == Building {
			continue
		}
		if err := deleteRelease(ctx, s.db, r.ID); err != nil {
			errList = append(errList, err)
			continue
		}
		s.mu.Lock()
		delete(s.sites, r.ID)
		s.mu.Unlock()
		if err := os.RemoveAll(s.releaseDir(projectID, r.ID)); err != nil {
			errList = append(errList, err)
		}
		if d, ok := s.driver.(releaseRemover); ok {
			if err := d.RemoveRelease(ctx, projectID, r.ID); err != nil {
				errList = append(errList, err)
			}
		}
	}
	return errors.Join(errList...)
}
