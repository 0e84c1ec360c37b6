package run

import (
	"bytes"
	"context"
	"strings"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/project"
	"ecode/internal/runtime"
)

// ExecResult is the outcome of a one-shot command.
type ExecResult struct {
	ExitCode   int    `json:"exitCode"`
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr"`
	DurationMs int64  `json:"durationMs"`
	TimedOut   bool   `json:"timedOut"`
}

const (
	defaultExecTimeout = 30 * time.Second
	maxExecTimeout     = 10 * time.Minute
	maxExecOutput      = 1 << 20
)

// capped keeps the first max bytes written and notes what it dropped.
type capped struct {
	buf     bytes.Buffer
	max     int
	dropped int
}

func (c *capped) Write(p []byte) (int, error) {
	n := len(p)
	if room := c.max - c.buf.Len(); room < n {
		c.dropped += n - room
		p = p[:room]
	}
	c.buf.Write(p)
	return n, nil
}

func (c *capped) String() string {
	if c.dropped > 0 {
		return c.buf.String() + "\n[output truncated: " + project.Human(int64(c.dropped)) + " more]\n"
	}
	return c.buf.String()
}

// Exec runs a shell line in the project's sandbox and waits for it.
func (s *Service) Exec(ctx context.Context, actor *auth.User, projectID, command string, timeout time.Duration) (*ExecResult, error) {
	if strings.TrimSpace(command) == "" || len(command) > 64<<10 {
		return nil, errs.Invalid("invalid_command", "Send a shell command of 1 byte to 64 KiB.")
	}
	if timeout == 0 {
		timeout = defaultExecTimeout
	}
	if timeout < 0 || timeout > maxExecTimeout {
		return nil, errs.Invalid("invalid_timeout", "timeoutSec must be between 1 and %d.", int(maxExecTimeout.Seconds()))
	}
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	sb, release, err := s.sandbox(startedBy(ctx, actor), p)
	if err != nil {
		return nil, err
	}
	defer release()
	start := time.Now()
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	env := s.secretEnv(ctx, p.ID)
	proc, err := sb.Exec(tctx, runtime.Command{Argv: []string{"sh", "-c", command}, Env: env})
	if err != nil {
		return nil, errs.Invalid("exec_failed", "The command could not start: %v.", err)
	}
	// Masked before capped: the cap then never cuts a value in two.
	stdout, stderr := &capped{max: maxExecOutput}, &capped{max: maxExecOutput}
	e, err := maskedProcess{Process: proc, m: newMasker(env)}.Wait(tctx, stdout, stderr)
	if err != nil {
		return nil, errs.Unavailable("sandbox_lost", "The sandbox stopped while the command ran: %v.", err)
	}
	res := &ExecResult{ExitCode: e.Code, Stdout: stdout.String(), Stderr: stderr.String(), DurationMs: time.Since(start).Milliseconds()}
	if e.Signal != "" {
		res.ExitCode = 128 + 9
		res.TimedOut = tctx.Err() != nil && ctx.Err() == nil
		if sb.OOMKilled() && !res.TimedOut {
			res.Stderr += "\n[killed: the sandbox ran out of memory]\n"
		}
	}
	return res, nil
}
