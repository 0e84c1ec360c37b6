package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"ecode/internal/errs"
	"ecode/internal/gpu"
	"ecode/internal/run"
	"ecode/internal/runtime"
)

// An app deployment (autoscale or vm) runs its live release as instances:
// each a sandbox of its own over the release's app/ folder, read-only,
// with its own tmp and home. A pool holds the instances of one release;
// the live pool takes the edge's requests, and a pool that stopped being
// live drains: it answers what it holds, then stops.
//
// autoscale: instances start when requests need them (one when a request
// finds none ready, another when those running reach their concurrency
// target), and stop when idle for the stable window, down to minInstances
// (0: scale to zero). vm: maxInstances run always; one that ends by itself
// is started again after an exponential backoff.

// Instance states.
const (
	InstStarting = "starting"
	InstReady    = "ready"
	InstDraining = "draining"
	InstCrashed  = "crashed"
)

// ScaleOptions tune how app deployments scale; zero fields take the
// defaults (Knative's and Cloud Run's where they have one).
type ScaleOptions struct {
	StableWindow time.Duration // idle this long, an instance stops: 60 s
	StartTimeout time.Duration // to open the port and pass the health path: 60 s
	QueueTimeout time.Duration // a request held for an instance: 30 s, then 503
	MaxQueue     int           // requests held per deployment: 1000
	WorkerGrace  time.Duration // a vm that opens no port counts as up after: 5 s
	MaxBackoff   time.Duration // between restarts of a crashing vm instance: 5 min
}

func (o *ScaleOptions) fill() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.StableWindow, 60*time.Second)
	def(&o.StartTimeout, 60*time.Second)
	def(&o.QueueTimeout, 30*time.Second)
	def(&o.WorkerGrace, 5*time.Second)
	def(&o.MaxBackoff, 5*time.Minute)
	if o.MaxQueue == 0 {
		o.MaxQueue = 1000
	}
}

// Defaults of the [deployment] keys for app types.
const (
	appPort            = 8080
	defaultConcurrency = 80
	defaultMaxScale    = 3
	// shortLife: an instance that ends sooner crashed on start, and the
	// backoff before the next grows; one that lived longer resets it.
	shortLife = 60 * time.Second
)

// scaling is what a pool aims at, from the release's job.
type scaling struct {
	vm               bool
	min, max, target int
}

func scalingOf(j runSpec) scaling {
	sc := scaling{vm: j.Target == VM, min: j.MinInstances, max: j.MaxInstances, target: j.Concurrency}
	if sc.target <= 0 {
		sc.target = defaultConcurrency
	}
	if sc.vm {
		sc.max = max(sc.max, 1)
		sc.min = sc.max
	} else if sc.max <= 0 {
		sc.max = max(defaultMaxScale, sc.min)
	}
	return sc
}

// pool is the instances of one app release.
type pool struct {
	svc       *Service
	projectID string
	releaseID string
	job       runSpec
	sc        scaling
	spec      InstanceSpec // each instance's, less its ID
	secrets   []string     // masked in what instances print
	stats     *deployStats
	ctx       context.Context // ends when the pool stops
	stop      context.CancelFunc
	done      chan struct{} // closed once every instance has ended

	mu        sync.Mutex
	instances []*instance
	waiters   int
	wake      chan struct{} // closed and replaced when an instance is ready or gone
	draining  bool
	crashes   int       // in a row, each instance living less than shortLife
	holdUntil time.Time // no start before it: the backoff of a crash loop
	message   string    // why no instance runs, when not by design
	samples   []sample  // in-flight requests over the stable window
}

type sample struct {
	at time.Time
	n  int
}

type instance struct {
	id        string
	run       Instance
	transport *http.Transport
	state     string
	inFlight  int
	startedAt time.Time
	lastUsed  time.Time
	restarts  int
	lastExit  string
	nextStart time.Time
	gpu       *gpu.Unit     // the GPU it holds while it runs
	meterSeq  int           // usage records so far, across restarts (meter.go)
	ready     chan struct{} // closed when it is ready or has failed to be
	startErr  error
}

// newPool makes the pool of an app release; nothing starts yet.
func (s *Service) newPool(ctx context.Context, projectID, releaseID string) (*pool, error) {
	dir := s.releaseDir(projectID, releaseID)
	j, err := readJob(dir)
	if err != nil {
		return nil, err
	}
	sb, err := s.sandboxOf(ctx, projectID)
	if err != nil {
		return nil, err
	}
	pctx, stop := context.WithCancel(s.ctx)
	p := &pool{svc: s, projectID: projectID, releaseID: releaseID, job: j, sc: scalingOf(j), secrets: sb.secrets,
		stats: s.statsFor(projectID), ctx: pctx, stop: stop, done: make(chan struct{}), wake: make(chan struct{}),
		spec: InstanceSpec{ProjectID: projectID, ReleaseID: releaseID, Dir: filepath.Join(dir, appDir), Command: j.Run,
			Image: s.releaseImage(ctx, projectID, releaseID),
			Port:  appPort, Env: sb.secrets, Internet: sb.internet, Limits: sb.limits}}
	s.wg.Add(1)
	go p.loop()
	return p, nil
}

// warm starts the instances a release needs to take traffic (one for
// autoscale, all of a vm) and waits until they are ready; the first one's
// output also goes to out. An error says in words why the release cannot
// go live, with what the app printed.
func (p *pool) warm(ctx context.Context, out io.Writer) error {
	n := max(p.sc.min, 1)
	// The output goes to out only while warming; the instance outlives it.
	first := &gate{w: out}
	defer first.close()
	p.mu.Lock()
	var started []*instance
	for i := range n {
		var tee io.Writer
		if i == 0 {
			tee = first
		}
		started = append(started, p.startLocked(tee))
	}
	p.mu.Unlock()
	for _, in := range started {
		select {
		case <-in.ready:
		case <-ctx.Done():
			return ctx.Err()
		}
		if in.startErr != nil {
			return in.startErr
		}
	}
	return nil
}

// startLocked starts one more instance; its output also goes to tee.
func (p *pool) startLocked(tee io.Writer) *instance {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	in := &instance{id: "app-" + p.projectID[len(p.projectID)-6:] + "-" + hex.EncodeToString(rnd[:]), state: InstStarting,
		startedAt: time.Now(), lastUsed: time.Now(), ready: make(chan struct{})}
	p.instances = append(p.instances, in)
	p.svc.wg.Add(1)
	go p.run(in, tee)
	return in
}

// restartLocked starts a crashed vm instance again in its slot.
func (p *pool) restartLocked(in *instance) {
	in.state, in.startedAt, in.lastUsed, in.ready, in.startErr = InstStarting, time.Now(), time.Now(), make(chan struct{}), nil
	in.restarts++
	p.svc.wg.Add(1)
	go p.run(in, nil)
}

// run starts in, waits for it to be ready, then for its end.
func (p *pool) run(in *instance, tee io.Writer) {
	defer p.svc.wg.Done()
	logs := p.stats.logs
	var w io.Writer = &lineWriter{logs: logs, instance: in.id}
	if tee != nil {
		w = io.MultiWriter(w, tee)
	}
	out := run.Masked(p.secrets, w)
	spec := p.spec
	spec.ID = in.id
	lease, err := p.leaseGPU(in)
	if err != nil {
		p.ended(in, "", err)
		return
	}
	if lease != nil {
		defer lease.Release()
		spec.GPU = &lease.Unit
	}
	logs.add(SourcePlatform, in.id, fmt.Sprintf("Starting %s of release %s: %s", in.id, p.releaseID, p.job.Run))
	began := time.Now()
	inst, err := p.svc.driver.Start(p.ctx, spec, out)
	if err == nil {
		p.svc.bill.instanceStarted(p, in, began)
		p.mu.Lock()
		in.run = inst
		in.transport = newInstanceTransport(inst)
		p.mu.Unlock()
		err = p.waitReady(in, inst)
	}
	if err != nil {
		_ = out.Flush()
		if inst != nil {
			_ = inst.Stop()
		}
		p.ended(in, "", err)
		return
	}
	logs.add(SourcePlatform, in.id, fmt.Sprintf("%s is ready in %d ms", in.id, time.Since(began).Milliseconds()))
	if s, ok := inst.(OutputSyncer); ok && tee != nil { // the release log shows what it wrote until ready
		sctx, cancel := context.WithTimeout(p.ctx, 3*time.Second)
		s.SyncOutput(sctx)
		cancel()
	}
	p.mu.Lock()
	drained := in.state == InstDraining // the pool stopped wanting it meanwhile
	if in.state == InstStarting {
		in.state = InstReady
	}
	close(in.ready)
	p.wakeLocked()
	p.mu.Unlock()
	if drained {
		_ = inst.Stop()
	}
	<-inst.Done()
	_ = out.Flush()
	exit, err := inst.Exit()
	in.transport.CloseIdleConnections()
	p.ended(in, describeExit(exit, err), nil)
}

func describeExit(e runtime.Exit, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case e.Signal != "":
		return "killed (" + e.Signal + ")"
	}
	return fmt.Sprintf("exited with code %d", e.Code)
}

// waitReady waits until in listens on its port and answers its health
// path, the app's end, or StartTimeout. A vm's worker that opens no port
// is up once it has run WorkerGrace.
func (p *pool) waitReady(in *instance, inst Instance) error {
	opts := p.svc.opts.Scale
	ctx, cancel := context.WithTimeout(p.ctx, opts.StartTimeout)
	defer cancel()
	began := time.Now()
	for wait := 2 * time.Millisecond; ; wait = min(wait*2, 100*time.Millisecond) {
		if c, err := inst.Dial(ctx); err == nil {
			c.Close()
			if p.job.HealthPath == "" {
				return nil
			}
			if err := p.health(ctx, in); err == nil {
				return nil
			}
		} else if p.sc.vm && p.job.HealthPath == "" && time.Since(began) >= opts.WorkerGrace {
			return nil
		}
		select {
		case <-inst.Done():
			exit, err := inst.Exit()
			return fmt.Errorf("the app %s before it was ready", describeExit(exit, err))
		case <-ctx.Done():
			if p.ctx.Err() != nil {
				return errors.New("stopped before it was ready")
			}
			if p.job.HealthPath != "" {
				return fmt.Errorf("%s did not answer 2xx or 3xx within %s", p.job.HealthPath, opts.StartTimeout)
			}
			return fmt.Errorf("the app did not listen on port %d ($PORT) within %s", appPort, opts.StartTimeout)
		case <-time.After(wait):
		}
	}
}

func (p *pool) health(ctx context.Context, in *instance) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://instance"+p.job.HealthPath, nil)
	if err != nil {
		return err
	}
	res, err := in.transport.RoundTrip(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode >= 400 {
		return fmt.Errorf("health %d", res.StatusCode)
	}
	return nil
}

// ended records that in has ended: startErr when it never was ready,
// else how it exited. A vm instance waits its backoff in its slot; an
// autoscale one leaves the pool.
func (p *pool) ended(in *instance, exit string, startErr error) {
	defer p.svc.bill.instanceEnded(in) // after the unlock: it records
	p.mu.Lock()
	defer p.mu.Unlock()
	expected := in.state == InstDraining || p.ctx.Err() != nil
	if startErr != nil {
		in.startErr = startErr
		exit = startErr.Error()
		close(in.ready)
	}
	lived := time.Since(in.startedAt)
	in.lastExit = exit
	logs := p.stats.logs
	if expected {
		logs.add(SourcePlatform, in.id, fmt.Sprintf("%s stopped", in.id))
		p.removeLocked(in)
		p.wakeLocked()
		return
	}
	logs.add(SourcePlatform, in.id, fmt.Sprintf("%s %s after %.1f s", in.id, exit, lived.Seconds()))
	if lived < shortLife || startErr != nil {
		p.crashes++
	} else {
		p.crashes = 0
	}
	backoff := min(time.Second<<min(max(p.crashes-1, 0), 20), p.svc.opts.Scale.MaxBackoff)
	if p.crashes >= 3 {
		p.message = fmt.Sprintf("The app keeps ending soon after it starts (it %s); the next try is in %s.", exit, backoff.Round(time.Second))
	}
	if p.sc.vm {
		in.state, in.nextStart, in.inFlight = InstCrashed, time.Now().Add(backoff), 0
	} else {
		p.removeLocked(in)
		if p.crashes > 1 {
			p.holdUntil = time.Now().Add(backoff)
		}
	}
	p.wakeLocked()
}

func (p *pool) removeLocked(in *instance) {
	p.instances = slices.DeleteFunc(p.instances, func(x *instance) bool { return x == in })
}

func (p *pool) wakeLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

var (
	errNoCapacity = errors.New("the deployment holds as many requests as it can")
	errStartWait  = errors.New("no instance was ready in time")
	errDrained    = errors.New("the release is no longer live")
)

// acquire picks the instance to answer a request: the least busy ready
// one. One more starts when none is ready or all are at the concurrency
// target (a soft target: a ready instance still answers meanwhile); with
// none ready the request waits, in a bounded queue, until QueueTimeout.
func (p *pool) acquire(ctx context.Context) (*instance, error) {
	opts := p.svc.opts.Scale
	var timeout <-chan time.Time
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		var best *instance
		starting, inFlight := 0, 0
		for _, in := range p.instances {
			switch in.state {
			case InstReady:
				if best == nil || in.inFlight < best.inFlight {
					best = in
				}
				inFlight += in.inFlight
			case InstStarting:
				starting++
			}
		}
		if p.draining && best == nil {
			return nil, errDrained
		}
		if !p.draining && !p.sc.vm && time.Now().After(p.holdUntil) {
			live := 0
			for _, in := range p.instances {
				if in.state == InstReady || in.state == InstStarting {
					live++
				}
			}
			want := min((inFlight+p.waiters+1+p.sc.target-1)/p.sc.target, p.sc.max)
			if live < want && (best == nil || best.inFlight >= p.sc.target) {
				p.startLocked(nil)
				starting++
			}
		}
		if best != nil {
			best.inFlight++
			return best, nil
		}
		if starting == 0 && !p.sc.vm && time.Now().Before(p.holdUntil) {
			msg := p.message
			if msg == "" {
				msg = "The app ended soon after it started; it is tried again shortly."
			}
			return nil, errs.Unavailable("app_crashing", "%s", msg)
		}
		if p.waiters >= opts.MaxQueue {
			return nil, errNoCapacity
		}
		if timeout == nil {
			t := time.NewTimer(opts.QueueTimeout)
			defer t.Stop()
			timeout = t.C
		}
		p.waiters++
		wake := p.wake
		p.mu.Unlock()
		var err error
		select {
		case <-wake:
		case <-ctx.Done():
			err = ctx.Err()
		case <-timeout:
			err = errStartWait
		}
		p.mu.Lock()
		p.waiters--
		if err != nil {
			return nil, err
		}
	}
}

func (p *pool) release(in *instance) {
	p.mu.Lock()
	in.inFlight--
	in.lastUsed = time.Now()
	p.mu.Unlock()
}

// tick is how often a pool looks at its instances.
func (p *pool) tick() time.Duration {
	return min(time.Second, p.svc.opts.Scale.StableWindow/10)
}

// loop scales the pool until it stops: min instances kept, idle ones
// stopped after the stable window, crashed vm instances started again
// after their backoff, a drained pool stopped once it is idle.
func (p *pool) loop() {
	defer p.svc.wg.Done()
	defer close(p.done)
	t := time.NewTicker(p.tick())
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			p.stopAll()
			return
		case now := <-t.C:
			if p.scale(now) {
				p.stop()
			}
		}
	}
}

// scale does one look; true when a draining pool has nothing left.
func (p *pool) scale(now time.Time) bool {
	window := p.svc.opts.Scale.StableWindow
	p.mu.Lock()
	running, inFlight := 0, 0
	for _, in := range p.instances {
		inFlight += in.inFlight
		if in.state != InstCrashed {
			running++
		}
	}
	p.samples = append(p.samples, sample{at: now, n: inFlight + p.waiters})
	p.samples = slices.DeleteFunc(p.samples, func(s sample) bool { return now.Sub(s.at) > window })
	var toStop []*instance // each marked draining; stopped below once it has started
	switch {
	case p.draining:
		// A crashed vm instance has nothing left to stop.
		p.instances = slices.DeleteFunc(p.instances, func(in *instance) bool { return in.state == InstCrashed })
		for _, in := range p.instances {
			if in.inFlight == 0 && in.state != InstDraining {
				in.state = InstDraining
				toStop = append(toStop, in)
			}
		}
	case p.sc.vm:
		for _, in := range p.instances {
			if in.state == InstCrashed && now.After(in.nextStart) {
				p.restartLocked(in)
			}
		}
	default:
		// Aim at the stable window's mean demand, never under min.
		sum := 0
		for _, s := range p.samples {
			sum += s.n
		}
		want := max(p.sc.min, (sum+len(p.samples)*p.sc.target-1)/max(len(p.samples)*p.sc.target, 1))
		for running < p.sc.min && now.After(p.holdUntil) {
			p.startLocked(nil)
			running++
		}
		for _, in := range p.instances {
			if running <= want {
				break
			}
			if in.state == InstReady && in.inFlight == 0 && now.Sub(in.lastUsed) >= window {
				in.state = InstDraining
				toStop = append(toStop, in)
				running--
			}
		}
		if running > 0 || p.crashes < 3 {
			p.message = ""
		}
	}
	empty := p.draining && len(p.instances) == 0 && p.waiters == 0
	p.stats.traffic.instances(now, running-len(toStop))
	why := "idle"
	if p.draining {
		why = "the release is no longer live"
	}
	var runs []Instance
	for _, in := range toStop {
		if in.run != nil && in.state != InstStarting {
			runs = append(runs, in.run)
		}
		p.stats.logs.add(SourcePlatform, in.id, "Stopping "+in.id+": "+why)
	}
	p.mu.Unlock()
	for _, r := range runs {
		p.svc.wg.Add(1)
		go func() {
			defer p.svc.wg.Done()
			_ = r.Stop()
		}()
	}
	return empty
}

// drain takes the pool out of service: it answers what it holds, then
// stops.
func (p *pool) drain() {
	p.mu.Lock()
	p.draining = true
	p.wakeLocked()
	p.mu.Unlock()
}

// stopAll ends every instance now and waits for them.
func (p *pool) stopAll() {
	p.mu.Lock()
	var runs []Instance
	for _, in := range p.instances {
		in.state = InstDraining
		if in.run != nil {
			runs = append(runs, in.run)
		}
	}
	p.mu.Unlock()
	for _, r := range runs {
		_ = r.Stop()
	}
}

// view is the pool as the API shows it.
func (p *pool) view() ([]InstanceView, Scale) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]InstanceView, 0, len(p.instances))
	running := 0
	for _, in := range p.instances {
		v := InstanceView{ID: in.id, ReleaseID: p.releaseID, State: in.state, StartedAt: in.startedAt.UnixMilli(),
			InFlight: in.inFlight, Restarts: in.restarts}
		if in.lastExit != "" {
			v.LastExit = &in.lastExit
		}
		if in.state == InstCrashed {
			t := in.nextStart.UnixMilli()
			v.NextStartAt = &t
		} else {
			running++
		}
		out = append(out, v)
	}
	target := Autoscale
	if p.sc.vm {
		target = VM
	}
	sc := Scale{Target: target, Min: p.sc.min, Max: p.sc.max, Concurrency: p.sc.target, Desired: max(running, p.sc.min), CrashLoop: p.crashes >= 3}
	if p.message != "" {
		sc.Message = &p.message
	}
	return out, sc
}

// InstanceView is an instance as the API shows it.
type InstanceView struct {
	ID          string  `json:"id"`
	ReleaseID   string  `json:"releaseId"`
	State       string  `json:"state"`
	StartedAt   int64   `json:"startedAt"`
	InFlight    int     `json:"inFlight"`
	Restarts    int     `json:"restarts"`
	LastExit    *string `json:"lastExit"`
	NextStartAt *int64  `json:"nextStartAt"`
}

// Scale is what an app deployment aims at.
type Scale struct {
	Target      string  `json:"target"`
	Min         int     `json:"min"`
	Max         int     `json:"max"`
	Concurrency int     `json:"concurrency"`
	Desired     int     `json:"desired"`
	CrashLoop   bool    `json:"crashLoop"`
	Message     *string `json:"message"`
}

// newInstanceTransport pools connections to one instance.
func newInstanceTransport(inst Instance) *http.Transport {
	return &http.Transport{
		DialContext:           func(ctx context.Context, _, _ string) (net.Conn, error) { return inst.Dial(ctx) },
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
}

// isApp reports whether a target runs instances.
func isApp(target string) bool { return target == Autoscale || target == VM }

// releaseApp makes the release of an autoscale or vm deployment: the
// whole build, readable by its instances, and its job; then it starts the
// instances it goes live with, which must open their port (and answer the
// health path) before it can.
func (s *Service) releaseApp(ctx context.Context, j *job, dir string, settings Settings, out io.Writer) (string, error) {
	r := &j.row
	dst := s.releaseDir(r.ProjectID, r.ID)
	job := runSpec{Run: settings.Run, Target: settings.Target, MinInstances: settings.MinInstances,
		MaxInstances: settings.MaxInstances, Concurrency: settings.Concurrency, HealthPath: settings.HealthPath, GPU: settings.GPU}
	n, err := publishApp(dir, dst, job)
	if err == nil {
		err = openUp(filepath.Join(dst, appDir))
	}
	if err != nil {
		return "The release could not be made: " + err.Error() + ". The live release is unchanged.", err
	}
	sc := scalingOf(job)
	fmt.Fprintf(out, "Release in place: %d files, to run: %s\n", n, settings.Run)
	if sc.vm {
		fmt.Fprintf(out, "Starting %d instance(s), always on\n", sc.max)
	} else {
		fmt.Fprintf(out, "Starting one instance (%d to %d, %d requests each)\n", sc.min, sc.max, sc.target)
	}
	started := time.Now()
	p, err := s.newPool(ctx, r.ProjectID, r.ID)
	if err != nil {
		return "The release could not start: " + err.Error() + ". The live release is unchanged.", err
	}
	if err := p.warm(ctx, out); err != nil {
		p.stop()
		return "The release did not become healthy: " + err.Error() + ". The live release is unchanged.", err
	}
	fmt.Fprintf(out, "Healthy in %d ms\n", time.Since(started).Milliseconds())
	j.pool = p
	return "", nil
}

// gate passes writes on until closed.
type gate struct {
	mu sync.Mutex
	w  io.Writer
}

func (g *gate) Write(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w != nil {
		_, _ = g.w.Write(b)
	}
	return len(b), nil
}

func (g *gate) close() {
	g.mu.Lock()
	g.w = nil
	g.mu.Unlock()
}

// sandboxSettings are what a project's deployment sandboxes get from it.
type sandboxSettings struct {
	internet bool
	limits   runtime.Limits
	secrets  []string // NAME=value
}

// sandboxOf reads the project's network setting, resources and secrets
// (with the deployment's overrides) as they are now.
func (s *Service) sandboxOf(ctx context.Context, projectID string) (sandboxSettings, error) {
	var sb sandboxSettings
	if err := s.db.Get(ctx, &sb.internet, `SELECT internet FROM projects WHERE id = ?`, projectID); err != nil {
		return sb, fmt.Errorf("read project: %w", err)
	}
	res, err := s.projects.SandboxResources(ctx, projectID)
	if err != nil {
		return sb, err
	}
	sb.limits = runtime.Limits{MemoryBytes: res.MemoryBytes, CPUs: res.CPUs, Pids: res.Pids}
	if sb.secrets, err = s.opts.Secrets(ctx, projectID); err != nil {
		return sb, fmt.Errorf("read secrets: %w", err)
	}
	if s.opts.DataEnv != nil {
		data, err := s.opts.DataEnv(ctx, projectID)
		if err != nil {
			return sb, fmt.Errorf("read data env: %w", err)
		}
		sb.secrets = append(data, sb.secrets...) // a secret of the same name wins
	}
	return sb, nil
}
