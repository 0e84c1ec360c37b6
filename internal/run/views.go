package run

import (
	"context"
	"io"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
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

// Running reports whether projectID has a run starting or running, for
// lists that show it; it asks nobody's access (the caller listed the project).
func (s *Service) Running(projectID string) bool {
	s.mu.Lock()
	c := s.consoles[projectID]
	s.mu.Unlock()
	if c == nil {
		return false
	}
	c.mu.Lock()
	r := c.current
	c.mu.Unlock()
	return r != nil && r.active()
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
			case e.Run != nil && e.Run.ID == r.ID && r.over():
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
