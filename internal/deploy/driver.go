package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"ecode/internal/errs"
	"ecode/internal/gpu"
	"ecode/internal/runtime"
	"ecode/internal/runtime/egress"
)

// Driver builds releases and runs them. Local (the sandbox runtime) is
// the default; drivers that build images or run releases elsewhere take
// the same seam.
type Driver interface {
	Name() string
	// Build runs b's steps over b.Dir, a fresh checkout of the release's
	// commit, in a sandbox of its own, their output to out. The error says
	// in words why the build failed.
	Build(ctx context.Context, b BuildSpec, out io.Writer) error
	// Exec runs a scheduled deployment's command once over e.Dir, a
	// private copy of the release, in a fresh sandbox, its output to out.
	// Ending ctx kills it; the error is for a run that could not start.
	Exec(ctx context.Context, e ExecSpec, out io.Writer) (runtime.Exit, error)
	// Start starts one instance of an app release (autoscale or vm): its
	// command over i.Dir, which it may read and never write, with PORT set
	// to i.Port, its output to out until it ends. It returns once the
	// command has started, not once it listens.
	Start(ctx context.Context, i InstanceSpec, out io.Writer) (Instance, error)
}

// OutputSyncer is an Instance whose output reaches its writer late (read
// back from where the driver keeps it): SyncOutput returns once what it
// has written so far has, or ctx has ended.
type OutputSyncer interface {
	SyncOutput(ctx context.Context)
}

// InstanceSpec is one instance of an app release.
type InstanceSpec struct {
	ProjectID string
	ReleaseID string
	ID        string // unique among the platform's instances
	Dir       string // the release's app folder on the host: read-only inside
	Image     string // where a driver that makes release images pushes its own (REGISTRY/PATH:TAG)
	Command   string // shell command
	Port      int    // what the app is asked to listen on ($PORT)
	Env       []string
	Internet  bool
	Limits    runtime.Limits
	// GPU, when set, is the GPU unit the platform leased to this instance
	// (the local drivers bind it; docker asks for it by UUID; Kubernetes,
	// whose device plugin allocates, asks for one of its kind).
	GPU *gpu.Unit
}

// Instance is a running instance of an app release.
type Instance interface {
	// Dial connects to the instance's port.
	Dial(ctx context.Context) (net.Conn, error)
	// Done is closed once the instance has ended, whatever the reason;
	// Exit then says how.
	Done() <-chan struct{}
	Exit() (runtime.Exit, error)
	// Stop ends the instance and frees what it held; it may be called
	// more than once.
	Stop() error
}

// BuildSpec is one release's build.
type BuildSpec struct {
	ProjectID string
	Dir       string   // the build folder on the host, the sandbox's project folder
	Steps     []string // shell commands, run in order until one fails
	Env       []string // NAME=value: the project's secrets
	Internet  bool     // the project may reach any public host, not only registries
	Limits    runtime.Limits
	// Used, when set, is told what the build's sandbox used (CPU µs,
	// memory byte-seconds) as it ends; a driver that cannot tell never
	// calls it (docker).
	Used func(cpuUsec, memoryByteSeconds int64)
}

// ExecSpec is one run of a scheduled deployment.
type ExecSpec struct {
	ProjectID string
	Dir       string // the run's own copy of the release, the sandbox's project folder
	Command   string // shell command
	Env       []string
	Internet  bool
	Limits    runtime.Limits
}

// Cron is a driver that keeps scheduled releases on their schedules
// itself (Kubernetes CronJobs) rather than by the platform's ticking.
// The platform still records every run, from what the driver hands it.
type Cron interface {
	// Schedule makes c's runs start at its schedule's times, replacing
	// what the project had. ok is false for a schedule the driver cannot
	// keep, which the platform then ticks itself.
	Schedule(ctx context.Context, c CronSpec) (ok bool, err error)
	// Unschedule ends the project's schedule; none is no error.
	Unschedule(ctx context.Context, projectID string) error
	// RunNow starts a run of the project's schedule at once, with env.
	RunNow(ctx context.Context, projectID string, env []string) (CronRun, error)
	// Runs calls found with each run a schedule starts, once, in the
	// order they start; not those of RunNow, which hands back its own.
	Runs(found func(CronRun))
}

// CronSpec is a scheduled release on its schedule.
type CronSpec struct {
	ProjectID string
	ReleaseID string
	Cron      string // five fields
	TimeZone  string // IANA name
	Dir       string // the release's app folder: each run gets a copy of its own
	Image     string // as InstanceSpec's
	Command   string // shell command
	Timeout   time.Duration
	Env       []string
	Internet  bool
	Limits    runtime.Limits
}

// CronRun is one run a Cron driver started.
type CronRun struct {
	ProjectID string
	ReleaseID string
	Name      string // the driver's, unique among its runs
	Manual    bool   // started by RunNow
	StartedAt time.Time
	// Follow starts the run, if it has not, with env (the project's
	// environment as it is now), copies its output to out until it ends,
	// and says how it ended. A run past its timeout answers context.DeadlineExceeded;
	// ending ctx stops following, not the run. A run whose time has long
	// passed answers ErrMissed and never starts.
	Follow func(ctx context.Context, env []string, out io.Writer) (runtime.Exit, error)
	// Skip drops the run before it starts.
	Skip func(ctx context.Context)
}

// ErrMissed marks a scheduled run whose time passed while no server
// could start it.
var ErrMissed = errors.New("missed")

// stepDone starts the line that ends each step in the log, with its time.
const stepDone = "done in"

// Local builds in a sandbox of the local runtime, as Run does, but over
// the build folder and never the project's own.
type Local struct {
	rt     runtime.Runtime
	egress *egress.Proxy
	relays func(projectID string) []runtime.Relay
}

// NewLocal returns the local driver; egress may be nil (no way out), and
// relays, when set, answers the host services a project's build, runs and
// instances reach on their loopback (its production database).
func NewLocal(rt runtime.Runtime, proxy *egress.Proxy, relays func(projectID string) []runtime.Relay) *Local {
	if rt == nil {
		panic("deploy.NewLocal: nil runtime")
	}
	return &Local{rt: rt, egress: proxy, relays: relays}
}

// Name implements Driver.
func (l *Local) Name() string { return "local" }

// Build implements Driver.
func (l *Local) Build(ctx context.Context, b BuildSpec, out io.Writer) error {
	// Its own sandbox id: the build never shares the project's sandbox,
	// its uid or its egress policy entry.
	sb, stop, err := l.start(ctx, b.ProjectID, runtime.Spec{ID: "deploy-" + b.ProjectID, ProjectDir: b.Dir, Env: b.Env, Limits: b.Limits}, b.Internet)
	if err != nil {
		return err
	}
	defer stop()
	if b.Used != nil {
		defer measureUse(sb, b.Used)() // before stop: the sandbox can still be read
	}
	return RunSteps(ctx, b.Steps, out, func(cmd string) (runtime.Exit, bool, error) {
		proc, err := sb.Exec(ctx, runtime.Command{Argv: []string{"sh", "-c", cmd}})
		if err != nil {
			return runtime.Exit{}, false, fmt.Errorf("%w: %w", ErrNotStarted, err)
		}
		e, err := proc.Wait(ctx, out, out)
		return e, sb.OOMKilled() && e.Signal != "", err
	})
}

// ErrNotStarted marks a build step that could not start.
var ErrNotStarted = errors.New("did not start")

// RunSteps runs a build's steps in order through run, which runs one to
// its end (oom: the memory limit killed it), until one fails; it writes
// each command and its time to out, and says in words why a step failed,
// so that the builds of every driver read the same.
func RunSteps(ctx context.Context, steps []string, out io.Writer, run func(cmd string) (e runtime.Exit, oom bool, err error)) error {
	for _, cmd := range steps {
		fmt.Fprintf(out, "$ %s\n", cmd)
		start := time.Now()
		e, oom, err := run(cmd)
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return fmt.Errorf("%s ran out of time", cmd)
		case ctx.Err() != nil:
			return fmt.Errorf("the build was stopped")
		case errors.Is(err, ErrNotStarted):
			return fmt.Errorf("%s %w", cmd, err)
		case err != nil:
			return fmt.Errorf("%s did not finish: %w", cmd, err)
		case oom:
			return fmt.Errorf("%s was killed: it ran out of memory", cmd)
		case e.Signal != "":
			return fmt.Errorf("%s was killed (%s)", cmd, e.Signal)
		case e.Code != 0:
			return fmt.Errorf("%s exited with code %d", cmd, e.Code)
		}
		fmt.Fprintf(out, "%s %.2f s\n", stepDone, time.Since(start).Seconds())
	}
	return nil
}

// Exec implements Driver.
func (l *Local) Exec(ctx context.Context, e ExecSpec, out io.Writer) (runtime.Exit, error) {
	// Runs of one project never overlap, so one id each is enough; it is
	// not the project's nor its builds'.
	sb, stop, err := l.start(ctx, e.ProjectID, runtime.Spec{ID: "cron-" + e.ProjectID, ProjectDir: e.Dir, Env: e.Env, Limits: e.Limits}, e.Internet)
	if err != nil {
		return runtime.Exit{}, err
	}
	defer stop()
	proc, err := sb.Exec(ctx, runtime.Command{Argv: []string{"sh", "-c", e.Command}})
	if err != nil {
		return runtime.Exit{}, fmt.Errorf("%s did not start: %w", e.Command, err)
	}
	exit, err := proc.Wait(ctx, out, out)
	if err != nil && ctx.Err() == nil {
		return exit, fmt.Errorf("%s did not finish: %w", e.Command, err)
	}
	return exit, nil
}

// Start implements Driver: the instance is a sandbox of its own over the
// release, mounted read-only, with its own tmp and home.
func (l *Local) Start(ctx context.Context, i InstanceSpec, out io.Writer) (Instance, error) {
	env := runtime.MergeEnv(i.Env, []string{"PORT=" + strconv.Itoa(i.Port)})
	sb, stop, err := l.start(ctx, i.ProjectID, runtime.Spec{ID: i.ID, ProjectDir: i.Dir, ReadOnly: true, Env: env, Limits: i.Limits, GPU: i.GPU}, i.Internet)
	if err != nil {
		return nil, err
	}
	// The instance lives until Stop, not as long as the request that
	// started it.
	life, kill := context.WithCancel(context.WithoutCancel(ctx))
	proc, err := sb.Exec(life, runtime.Command{Argv: []string{"sh", "-c", i.Command}})
	if err != nil {
		kill()
		stop()
		return nil, fmt.Errorf("%s did not start: %w", i.Command, err)
	}
	inst := &localInstance{sb: sb, port: i.Port, kill: kill, done: make(chan struct{})}
	go func() {
		exit, err := proc.Wait(life, out, out)
		if err == nil && sb.OOMKilled() && exit.Signal != "" {
			err = errOutOfMemory
		}
		stop()
		inst.exit, inst.err = exit, err
		close(inst.done)
	}()
	return inst, nil
}

var errOutOfMemory = errors.New("it ran out of memory")

type localInstance struct {
	sb   runtime.Sandbox
	port int
	kill context.CancelFunc
	done chan struct{}
	exit runtime.Exit // set before done is closed
	err  error
}

func (i *localInstance) Dial(ctx context.Context) (net.Conn, error) { return i.sb.Dial(ctx, i.port) }
func (i *localInstance) Done() <-chan struct{}                      { return i.done }

func (i *localInstance) Exit() (runtime.Exit, error) {
	<-i.done
	return i.exit, i.err
}

func (i *localInstance) Stop() error {
	i.kill()
	<-i.done
	return nil
}

// start starts the sandbox of spec with its own egress policy; stop ends
// both.
func (l *Local) start(ctx context.Context, projectID string, spec runtime.Spec, internet bool) (runtime.Sandbox, func(), error) {
	if err := l.rt.Check(ctx); err != nil {
		return nil, nil, errs.Unavailable("sandbox_unavailable", "Code cannot run on this server: %v.", err)
	}
	id := spec.ID
	if l.egress != nil {
		l.egress.SetPolicy(id, egress.Policy{Allow: egress.DefaultAllow, AnyPublic: internet})
	}
	forget := func() {
		if l.egress != nil {
			l.egress.Forget(id)
		}
	}
	spec.Egress = l.egress != nil
	if l.relays != nil {
		spec.Relays = l.relays(projectID)
	}
	sb, err := l.rt.Start(ctx, spec)
	if err != nil {
		forget()
		return nil, nil, fmt.Errorf("the sandbox did not start: %w", err)
	}
	return sb, func() {
		sb.Stop()
		forget()
	}, nil
}
