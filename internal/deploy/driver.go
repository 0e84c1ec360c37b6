package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"ecode/internal/errs"
	"ecode/internal/runtime"
	"ecode/internal/runtime/egress"
)

// Driver builds releases. Local (the sandbox runtime) is the one there is;
// drivers that build images or run releases elsewhere take the same seam.
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
}

// BuildSpec is one release's build.
type BuildSpec struct {
	ProjectID string
	Dir       string   // the build folder on the host, the sandbox's project folder
	Steps     []string // shell commands, run in order until one fails
	Env       []string // NAME=value: the project's secrets
	Internet  bool     // the project may reach any public host, not only registries
	Limits    runtime.Limits
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

// stepDone starts the line that ends each step in the log, with its time.
const stepDone = "done in"

// Local builds in a sandbox of the local runtime, as Run does, but over
// the build folder and never the project's own.
type Local struct {
	rt     runtime.Runtime
	egress *egress.Proxy
}

// NewLocal returns the local driver; egress may be nil (no way out).
func NewLocal(rt runtime.Runtime, proxy *egress.Proxy) *Local {
	if rt == nil {
		panic("deploy.NewLocal: nil runtime")
	}
	return &Local{rt: rt, egress: proxy}
}

// Name implements Driver.
func (l *Local) Name() string { return "local" }

// Build implements Driver.
func (l *Local) Build(ctx context.Context, b BuildSpec, out io.Writer) error {
	// Its own sandbox id: the build never shares the project's sandbox,
	// its uid or its egress policy entry.
	sb, stop, err := l.start(ctx, "deploy-"+b.ProjectID, b.Dir, b.Env, b.Internet, b.Limits)
	if err != nil {
		return err
	}
	defer stop()
	for _, cmd := range b.Steps {
		fmt.Fprintf(out, "$ %s\n", cmd)
		start := time.Now()
		proc, err := sb.Exec(ctx, runtime.Command{Argv: []string{"sh", "-c", cmd}})
		if err != nil {
			return fmt.Errorf("%s did not start: %w", cmd, err)
		}
		e, err := proc.Wait(ctx, out, out)
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return fmt.Errorf("%s ran out of time", cmd)
		case ctx.Err() != nil:
			return fmt.Errorf("the build was stopped")
		case err != nil:
			return fmt.Errorf("%s did not finish: %w", cmd, err)
		case sb.OOMKilled() && e.Signal != "":
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
	sb, stop, err := l.start(ctx, "cron-"+e.ProjectID, e.Dir, e.Env, e.Internet, e.Limits)
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

// start starts sandbox id over dir with its own egress policy; stop ends
// both.
func (l *Local) start(ctx context.Context, id, dir string, env []string, internet bool, limits runtime.Limits) (runtime.Sandbox, func(), error) {
	if err := l.rt.Check(ctx); err != nil {
		return nil, nil, errs.Unavailable("sandbox_unavailable", "Code cannot run on this server: %v.", err)
	}
	if l.egress != nil {
		l.egress.SetPolicy(id, egress.Policy{Allow: egress.DefaultAllow, AnyPublic: internet})
	}
	forget := func() {
		if l.egress != nil {
			l.egress.Forget(id)
		}
	}
	sb, err := l.rt.Start(ctx, runtime.Spec{ID: id, ProjectDir: dir, Env: env, Egress: l.egress != nil, Limits: limits})
	if err != nil {
		forget()
		return nil, nil, fmt.Errorf("the sandbox did not start: %w", err)
	}
	return sb, func() {
		sb.Stop()
		forget()
	}, nil
}
