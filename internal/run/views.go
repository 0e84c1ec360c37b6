package run

import (
	"context"
	"io"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/runtime"
)

var errNoRun = errs.NotFound("not_found", "No such run in this project.")

// List returns the project's recent runs, newest first, and the current one.
func (s *Service) List(ctx context.Context, actor *auth.User, projectID string) ([]View, *View, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, nil, err
	}
	runs, cur := s.console(p.ID).list()
	return runs, cur, nil
}

// Get returns one run.
func (s *Service) Get(ctx context.Context, actor *auth.User, projectID, runID string) (*View, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	r := s.console(p.ID).find(runID)
	if r == nil {
		return nil, errNoRun
	}
	v := r.view()
	return &v, nil
}

// Output writes what a run has printed, then what it prints until it ends.
// flush is called after each live chunk.
func (s *Service) Output(ctx context.Context, actor *auth.User, projectID, runID string, w io.Writer, flush func()) error {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return err
	}
	c := s.console(p.ID)
	r := c.find(runID)
	if r == nil {
		return errNoRun
	}
	snap, ch, cancel := c.attach(r)
	defer cancel()
	if _, err := w.Write(snap); err != nil {
		return err
	}
	flush()
	for ch != nil {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-ch:
			if !ok {
				return nil // fell behind; the client can fetch again
			}
			switch {
			case e.Type == "output" && e.RunID == r.ID:
				if _, err := w.Write(e.Data); err != nil {
					return err
				}
				flush()
			case e.Run != nil && e.Run.ID == r.ID && !r.active():
				return nil
			case e.Type == "reset" && e.Run != nil && e.Run.ID != r.ID:
				return nil // a new run replaced this one
			}
		}
	}
	return nil
}

// Subscribe follows the project's console: the current state, then every
// change, until cancel.
func (s *Service) Subscribe(ctx context.Context, actor *auth.User, projectID string) (Event, <-chan Event, func(), error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return Event{}, nil, nil, err
	}
	snap, ch, cancel := s.console(p.ID).subscribe()
	return snap, ch, cancel, nil
}

// shellEcho is how long a shell's output may wait for the rest of what
// could be a secret: short enough that typing feels immediate.
const shellEcho = 30 * time.Millisecond

// Shell starts an interactive terminal in the project's sandbox; what it
// prints is masked. The caller must call release once the shell has ended.
func (s *Service) Shell(ctx context.Context, actor *auth.User, projectID string, rows, cols uint16) (runtime.Process, func(), error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, nil, err
	}
	sb, release, err := s.sandbox(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	secrets := s.secretEnv(ctx, p.ID)
	proc, err := sb.Exec(ctx, runtime.Command{Argv: []string{"bash", "-i"}, TTY: true, Rows: rows, Cols: cols,
		Env: append(secrets, "PS1=\\[\\e[32m\\]\\w\\[\\e[0m\\]$ ")})
	if err != nil {
		release()
		return nil, nil, errs.Unavailable("shell_failed", "The shell did not start: %v.", err)
	}
	return maskedProcess{Process: proc, m: newMasker(secrets), idle: shellEcho}, release, nil
}
