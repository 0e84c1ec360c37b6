// Package run runs project code: the Run button's lifecycle, the shared
// console, one-shot exec, interactive shells, and previews. Everything
// happens in the project's one sandbox, which a pool starts on first need
// and stops when idle.
package run

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httputil"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/gpu"
	"ecode/internal/project"
	"ecode/internal/runtime"
	"ecode/internal/runtime/egress"
	"ecode/internal/store"
)

// Options of the run service.
type Options struct {
	IdleTimeout    time.Duration // stop a sandbox nothing has used for this long
	PreviewDomain  string        // previews at {slug}--{owner}.{PreviewDomain}
	PublicURL      string        // the platform's URL; previews share its scheme and port
	StateDir       string        // host state: install stamps
	DefaultPort    int           // $PORT of every run
	PreviewKey     []byte        // signs preview passes
	Egress         *egress.Proxy // where each project's egress policy is set
	DiskCheck      time.Duration // how often a running sandbox's project size is measured
	GitImportRoots []string      // host folders file:// imports may clone from
	CacheRoot      string        // per-project caches (~/.cache in the sandbox) live below it
	MaxCacheBytes  int64         // a project's cache is held to this size (see cache.go); 0: no limit
	ToolCacheRoot  string        // caches the platform builds for every sandbox, read-only inside (gocache.go); "": none
	// Reachable says which addresses imports may clone from (as egress
	// allows them); nil means egress.Reachable(nil): public addresses that
	// are not the host's own.
	Reachable func(netip.Addr) bool
	// SSHKey returns the PEM of a person's SSH key, for ssh:// imports.
	SSHKey func(ctx context.Context, userID string) ([]byte, error)
	// Secrets returns a project's secrets as NAME=value: the environment
	// of its runs, shells and commands, and what their output masks.
	Secrets func(ctx context.Context, projectID string) ([]string, error)
	// Relays, when set, answers the host services a project's sandbox
	// reaches on its loopback (its database).
	Relays func(projectID string) []runtime.Relay
	// Access resolves who a preview's visitor is to its project.
	Access *access.Resolver

	ShellIdle time.Duration // close a shell nobody has watched for this long; 0: 10 minutes
	MaxShells int           // live shells per project; 0: 16

	// Meter, when set, is told what sandboxes use, every MeterInterval
	// (0: 30 s) and as each stops, and asked before any work starts.
	Meter         Meter
	MeterInterval time.Duration

	// GPUs, when set, leases GPUs to the sandboxes of projects that ask
	// for one (project.Resources.GPU); nil: none is ever given.
	GPUs *gpu.Pool
}

// Service is the run capability.
type Service struct {
	projects *project.Service
	rt       runtime.Runtime
	pool     *pool
	opts     Options
	proxy    *httputil.ReverseProxy
	meters   *meters // nil: nothing metered

	mu           sync.Mutex
	consoles     map[string]*console
	shells       map[string]*shellHub // by project id
	previewCache map[string]cachedProject
	watched      map[runtime.Sandbox]bool
	tools        toolCache
}

// NewService builds the service; Run keeps its sandboxes until ctx ends.
// It follows the projects on bus: a deleted project's sandbox and caches
// go, a changed one's egress policy follows at once. It joins projects
// in turn (project.Service.UseRuns): git imports and the running flag of
// their list are this service's.
func NewService(bus *events.Bus, projects *project.Service, rt runtime.Runtime, opts Options) *Service {
	if bus == nil || projects == nil || rt == nil {
		panic("run.NewService: nil bus, projects or runtime")
	}
	if opts.DefaultPort == 0 {
		opts.DefaultPort = 3000
	}
	s := &Service{projects: projects, rt: rt, pool: newPool(rt, opts.IdleTimeout), opts: opts, consoles: map[string]*console{},
		shells: map[string]*shellHub{}, previewCache: map[string]cachedProject{}, watched: map[runtime.Sandbox]bool{}}
	s.pool.prepare = s.prepareCache
	s.pool.gpus = opts.GPUs
	s.meters = newMeters(opts.Meter, opts.MeterInterval)
	s.pool.beforeStop = s.meters.final
	events.Subscribe(bus, func(_ context.Context, e project.Deleted) { s.forget(e.ProjectID) })
	// Another server of the cluster holds the project now, or it was
	// deleted on any: its sandbox, consoles and shells here end.
	events.Subscribe(bus, func(_ context.Context, e project.HandedOver) { s.letGo(e.ProjectID) })
	events.Subscribe(bus, func(_ context.Context, e project.Gone) { s.letGo(e.ProjectID) })
	events.Subscribe(bus, func(_ context.Context, e project.Updated) { s.applyPolicy(e.Project) })
	if s.opts.ShellIdle == 0 {
		s.opts.ShellIdle = defaultShellIdle
	}
	if s.opts.MaxShells == 0 {
		s.opts.MaxShells = defaultMaxShells
	}
	if s.opts.DiskCheck == 0 {
		s.opts.DiskCheck = 5 * time.Second
	}
	if s.opts.Reachable == nil {
		s.opts.Reachable = egress.Reachable(nil)
	}
	s.proxy = s.newProxy()
	projects.UseRuns(s)
	return s
}

// Run reaps idle sandboxes, and meters them, until ctx ends, then stops
// every sandbox.
func (s *Service) Run(ctx context.Context) {
	metering := s.meters.run(ctx)
	s.pool.reap(ctx)
	<-metering
}

func (s *Service) console(projectID string) *console {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.consoles[projectID]
	if c == nil {
		c = newConsole()
		s.consoles[projectID] = c
	}
	return c
}

// sandbox returns p's sandbox, started when needed, or 503 with the fix
// when this host cannot sandbox at all.
func (s *Service) sandbox(ctx context.Context, p *project.Project) (runtime.Sandbox, func(), error) {
	if err := s.rt.Check(ctx); err != nil {
		return nil, nil, errs.Unavailable("sandbox_unavailable", "Code cannot run on this server: %v.", err)
	}
	if err := s.allow(ctx, p.ID); err != nil {
		return nil, nil, err
	}
	s.applyPolicy(p)
	res, err := s.projects.SandboxResources(ctx, p.ID)
	if err != nil {
		return nil, nil, err
	}
	spec := runtime.Spec{ID: p.ID, ProjectDir: s.projects.Dir(p.ID), Egress: true,
		Limits: runtime.Limits{MemoryBytes: res.MemoryBytes, CPUs: res.CPUs, Pids: res.Pids}}
	if s.opts.Relays != nil {
		spec.Relays = s.opts.Relays(p.ID)
	}
	if s.opts.ToolCacheRoot != "" {
		dir, err := s.toolCacheRoot()
		if err != nil {
			return nil, nil, err
		}
		spec.ToolCacheDir = dir
	}
	if s.opts.CacheRoot != "" {
		spec.CacheDir = filepath.Join(s.opts.CacheRoot, p.ID)
		if err := os.MkdirAll(spec.CacheDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("project cache: %w", err)
		}
	}
	want, err := s.gpuWant(res.GPU)
	if err != nil {
		return nil, nil, err
	}
	sb, release, err := s.pool.acquire(ctx, spec, want)
	if err != nil {
		if _, ok := errs.As(err); ok || errors.Is(err, context.Canceled) {
			return nil, nil, err
		}
		return nil, nil, errs.Unavailable("sandbox_unavailable", "The sandbox did not start: %v.", err).With(err)
	}
	s.meters.track(ctx, p.ID, sb)
	s.mu.Lock()
	first := !s.watched[sb]
	s.watched[sb] = true
	s.mu.Unlock()
	if first {
		go s.watchDisk(p, sb)
	}
	return sb, release, nil
}

// watchDisk holds the project, and its cache, to their size limits while
// its sandbox runs: code can write files the API never sees, so both are
// measured every DiskCheck and the sandbox stopped, with a word in the
// console, when either outgrows its limit.
func (s *Service) watchDisk(p *project.Project, sb runtime.Sandbox) {
	defer func() {
		s.mu.Lock()
		delete(s.watched, sb)
		s.mu.Unlock()
	}()
	tree := s.projects.Tree(p)
	t := time.NewTicker(s.opts.DiskCheck)
	defer t.Stop()
	for {
		select {
		case <-sb.Done():
			return
		case <-t.C:
		}
		var msg string
		cacheFull := false
		if used, limit, err := tree.Usage(); err == nil && used > limit {
			msg = fmt.Sprintf("The project uses %s, over its %s limit: everything running was stopped. Delete files to make room.",
				project.Human(used), project.Human(limit))
			slog.Warn("project over its disk limit; sandbox stopped", "project_id", p.ID, "used", used, "limit", limit)
		} else if msg = s.cacheOverrun(p.ID); msg != "" {
			cacheFull = true
			slog.Warn("project cache over its limit; sandbox stopped", "project_id", p.ID, "limit", s.opts.MaxCacheBytes)
		}
		if msg == "" {
			continue
		}
		c := s.console(p.ID)
		c.mu.Lock()
		r := c.current
		c.mu.Unlock()
		if r != nil && r.active() {
			r.set(func(r *Run) { r.diskFull = msg })
		}
		s.meters.final(sb)
		_ = sb.Stop()
		if cacheFull {
			// Free the disk now rather than at the next start, which may
			// never come.
			s.prepareCache(runtime.Spec{ID: p.ID, CacheDir: s.cacheDir(p.ID)})
		}
		return
	}
}

// applyPolicy sets what p's sandbox may reach: the package registries, or
// in internet mode any public host. A running sandbox follows at once.
func (s *Service) applyPolicy(p *project.Project) {
	if s.opts.Egress != nil {
		s.opts.Egress.SetPolicy(p.ID, egress.Policy{Allow: egress.DefaultAllow, AnyPublic: p.Internet})
	}
}

// forget removes a deleted project's caches and install stamp, once; its
// sandbox ended on project.Gone.
func (s *Service) forget(projectID string) {
	if s.opts.CacheRoot != "" {
		_ = os.RemoveAll(filepath.Join(s.opts.CacheRoot, projectID))
	}
	_ = os.Remove(s.stampFile(projectID))
}

// letGo stops the project's sandbox, consoles and shells here.
func (s *Service) letGo(projectID string) {
	s.pool.stop(projectID)
	if s.opts.Egress != nil {
		s.opts.Egress.Forget(projectID)
	}
	s.mu.Lock()
	delete(s.consoles, projectID)
	delete(s.shells, projectID)
	s.mu.Unlock()
}

// SandboxRunning reports whether the project's sandbox is up.
func (s *Service) SandboxRunning(projectID string) bool { return s.pool.running(projectID) != nil }

// RunConfig says what Run will do for the project.
func (s *Service) RunConfig(ctx context.Context, actor *auth.User, projectID string) (Config, string, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return Config{}, "", err
	}
	return LoadConfig(s.projects.Tree(p))
}

// Start begins a run, stopping the active one first.
func (s *Service) Start(ctx context.Context, actor *auth.User, projectID string) (*View, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	if err := s.rt.Check(ctx); err != nil {
		return nil, errs.Unavailable("sandbox_unavailable", "Code cannot run on this server: %v.", err)
	}
	if err := s.allow(ctx, p.ID); err != nil {
		return nil, err
	}
	ctx = startedBy(ctx, actor)
	cfg, source, err := LoadConfig(s.projects.Tree(p))
	if err != nil {
		return nil, err
	}
	if source == FromNone {
		return nil, errs.Invalid("no_run_command", "E-Code cannot tell how to run this project. Add an ecode.toml with a line like: run = \"node index.js\"")
	}
	if source == FromGuess {
		// Write the guess down so the person sees it and can change it.
		if raw, err := cfg.Encode(); err == nil {
			if _, err := s.projects.Tree(p).Write(ConfigFile, bytes.NewReader(raw)); err != nil {
				slog.WarnContext(ctx, "write guessed ecode.toml", "project_id", p.ID, "err", err)
			}
		}
	}
	c := s.console(p.ID)
	c.mu.Lock()
	prev := c.current
	c.mu.Unlock()
	if prev != nil && prev.active() {
		prev.stop()
		<-prev.done
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &Run{ID: store.NewID(), ProjectID: p.ID, Command: cfg.Run, StartedAt: time.Now(), status: Starting,
		out: ring{max: keptOutput}, cancel: cancel, done: make(chan struct{})}
	c.begin(r)
	go s.execute(rctx, p, cfg, c, r)
	v := r.view()
	return &v, nil
}

func (r *Run) stop() {
	r.set(func(r *Run) { r.stopped = true })
	r.cancel()
}

// Stop ends the project's active run, if any.
func (s *Service) Stop(ctx context.Context, actor *auth.User, projectID string) error {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return err
	}
	c := s.console(p.ID)
	c.mu.Lock()
	r := c.current
	c.mu.Unlock()
	if r != nil && r.active() {
		r.stop()
		<-r.done
	}
	return nil
}

const (
	dim   = "\x1b[2m"
	red   = "\x1b[31m"
	reset = "\x1b[0m"
)

// execute runs install, build and run in the sandbox, reporting to the console.
func (s *Service) execute(ctx context.Context, p *project.Project, cfg Config, c *console, r *Run) {
	defer close(r.done)
	defer r.cancel()
	secrets := s.secretEnv(ctx, p.ID)
	// One masked stream for the whole run, flushed as each command ends.
	out := newMasker(secrets).Writer(consoleWriter{c: c, r: r})
	finish := func(status string, code *int, msg string) {
		r.set(func(r *Run) {
			if r.stopped {
				status = Stopped
			}
			r.status, r.exitCode, r.err, r.endedAt = status, code, msg, time.Now()
		})
		if msg != "" && status != Stopped {
			fmt.Fprintf(out, "\r\n%s%s%s\r\n", red, msg, reset)
		}
		_ = out.Flush()
		// Streams of the output end here, not once the sandbox is released
		// (done), which comes after this last change is told.
		r.set(func(r *Run) { r.outDone = true })
		c.changed(r)
	}
	s.awaitGoCache(ctx, p, c, r, out)
	waited := s.tellGPUWait(ctx, p.ID, out)
	sb, release, err := s.sandbox(ctx, p)
	waited()
	if err != nil {
		finish(Failed, nil, errMessage(err))
		return
	}
	defer release()

	env := append([]string{"PORT=" + strconv.Itoa(s.opts.DefaultPort)}, secrets...)
	for k, v := range cfg.Env {
		env = append(env, k+"="+v)
	}
	steps := []struct{ name, cmd string }{}
	if cfg.Install != "" && s.installNeeded(p.ID, s.projects.Tree(p)) {
		steps = append(steps, struct{ name, cmd string }{"install", cfg.Install})
	}
	if cfg.Build != "" {
		steps = append(steps, struct{ name, cmd string }{"build", cfg.Build})
	}
	for _, st := range steps {
		fmt.Fprintf(out, "%s$ %s%s\r\n", dim, st.cmd, reset)
		e, err := s.stream(ctx, sb, st.cmd, env, &buildNotices{w: out, c: c, r: r, base: Starting})
		_ = out.Flush()
		if err != nil || e.Code != 0 {
			code := e.Code
			finish(Crashed, &code, fmt.Sprintf("The %s step (%s) failed%s; Run stopped there.", st.name, st.cmd, exitWords(e, sb, err)))
			return
		}
		if st.name == "install" {
			s.markInstalled(p.ID, s.projects.Tree(p))
		}
	}
	fmt.Fprintf(out, "%s$ %s%s\r\n", dim, cfg.Run, reset)
	r.set(func(r *Run) { r.status = Running })
	c.changed(r)
	watchDone := make(chan struct{})
	go s.watchPorts(ctx, p, sb, c, r, watchDone)
	e, err := s.stream(ctx, sb, cfg.Run, env, &buildNotices{w: out, c: c, r: r, base: Running})
	_ = out.Flush()
	close(watchDone)
	code := e.Code
	r.mu.Lock()
	diskFull := r.diskFull
	r.mu.Unlock()
	switch {
	case diskFull != "":
		finish(Crashed, nil, diskFull)
	case err != nil:
		finish(Crashed, nil, "The sandbox stopped unexpectedly: "+err.Error())
	case e.Code == 0 && e.Signal == "":
		finish(Exited, &code, "")
	default:
		finish(Crashed, &code, "The program"+exitWords(e, sb, nil)+".")
	}
}

// exitWords says in plain words how a command ended.
func exitWords(e runtime.Exit, sb runtime.Sandbox, err error) string {
	switch {
	case err != nil:
		return ": " + err.Error()
	case sb.OOMKilled() && e.Signal != "":
		return " was killed: it ran out of memory"
	case e.Signal != "":
		return " was killed (" + e.Signal + ")"
	}
	return fmt.Sprintf(" exited with code %d", e.Code)
}

func errMessage(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Message
	}
	return err.Error()
}

// stream runs a command in a terminal, its output to w.
func (s *Service) stream(ctx context.Context, sb runtime.Sandbox, cmd string, env []string, w io.Writer) (runtime.Exit, error) {
	proc, err := sb.Exec(ctx, runtime.Command{Argv: []string{"sh", "-c", cmd}, Env: env, TTY: true, Rows: 40, Cols: 160})
	if err != nil {
		return runtime.Exit{}, err
	}
	return proc.Wait(ctx, w, w)
}

// watchPorts notices when the run starts listening and publishes its
// preview URL, preferring $PORT.
func (s *Service) watchPorts(ctx context.Context, p *project.Project, sb runtime.Sandbox, c *console, r *Run, done <-chan struct{}) {
	// Checks are cheap (the agent reads /proc/net); most apps listen within
	// a few hundred milliseconds, so look often at first.
	for delay := 10 * time.Millisecond; ; delay = min(delay*3/2, time.Second) {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-time.After(delay):
		}
		ports, err := sb.Ports(ctx)
		if err != nil || len(ports) == 0 {
			continue
		}
		port := ports[0]
		for _, p := range ports {
			if p == s.opts.DefaultPort {
				port = p
			}
		}
		r.set(func(r *Run) { r.port, r.preview = port, s.PreviewURL(p) })
		c.changed(r)
		return
	}
}

// installStamp fingerprints the dependency manifests, so install runs again
// only when they change or the dependencies are gone. The manifests are
// read through the tree (sandbox-written: no link, pipe or device).
func installStamp(tree *project.Tree) string {
	h := sha256.New()
	for _, f := range []string{"package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "requirements.txt", "go.mod", "go.sum"} {
		file, err := tree.Open(f)
		if err != nil {
			continue
		}
		fmt.Fprintf(h, "%s\x00", f)
		n, _ := io.Copy(h, file)
		file.Close()
		fmt.Fprintf(h, "\x00%d\x00", n)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Service) stampFile(projectID string) string {
	return filepath.Join(s.opts.StateDir, "install-"+projectID)
}

func (s *Service) installNeeded(projectID string, tree *project.Tree) bool {
	if hasNodeDeps(tree) && !tree.Exists("node_modules") {
		return true
	}
	old, err := os.ReadFile(s.stampFile(projectID))
	return err != nil || string(old) != installStamp(tree)
}

// hasNodeDeps reports whether package.json names any dependency, so that
// a missing node_modules means they must be installed.
func hasNodeDeps(tree *project.Tree) bool {
	raw, err := tree.ReadFile("package.json", MaxManifest)
	if err != nil {
		return false
	}
	var pkg struct {
		Deps    map[string]string `json:"dependencies"`
		DevDeps map[string]string `json:"devDependencies"`
	}
	return json.Unmarshal(raw, &pkg) != nil || len(pkg.Deps)+len(pkg.DevDeps) > 0
}

func (s *Service) markInstalled(projectID string, tree *project.Tree) {
	if err := os.MkdirAll(s.opts.StateDir, 0o750); err == nil {
		_ = os.WriteFile(s.stampFile(projectID), []byte(installStamp(tree)), 0o640)
	}
}

// PreviewURL is where p's running app is seen.
func (s *Service) PreviewURL(p *project.Project) string {
	return project.SiteURL(s.opts.PublicURL, s.opts.PreviewDomain, p)
}
