package project

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/safefs"
	"ecode/internal/store"
)

// Fork copies a project the actor may read into the actor's account: its
// files as they are now and its whole history. Installed dependencies are
// left behind; the first Run installs them again.
func (s *Service) Fork(ctx context.Context, actor *auth.User, id, name string) (*Project, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	src, err := s.Get(ctx, actor, id, access.Read)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = src.Name
	}
	if name, err = checkName(name); err != nil {
		return nil, err
	}
	return s.copyAs(ctx, src, actor, Slugify(name), name, "project forked")
}

// copyAs copies src, files and history, into owner's account as a private
// project at slug; what it logs says how.
func (s *Service) copyAs(ctx context.Context, src *Project, owner *auth.User, slug, name, how string) (*Project, error) {
	now := store.Now()
	p := &Project{
		ID: store.NewID(), OwnerID: owner.ID, Owner: owner.Username, OwnerKind: "user", Slug: slug, Name: name,
		Visibility: Private, Template: src.Template, CreatedAt: now, UpdatedAt: now,
	}
	unlock := s.history.lock(src.ID) // a consistent copy of the history
	err := s.copyProject(src.ID, p.ID)
	unlock()
	if err != nil {
		s.removeFiles(p.ID)
		return nil, err
	}
	if err := insertProject(ctx, s.db, p); err != nil {
		s.removeFiles(p.ID)
		return nil, err
	}
	slog.InfoContext(ctx, how, "from", src.ID, "project_id", p.ID, "owner", p.Owner)
	return decorate(p, owner), nil
}

// copyProject copies project from's files and history to project to. The
// files are sandbox-written and may change while they are copied, so they
// are read through safefs from descriptors: no link is followed (links are
// copied as links), no FIFO opened, and the copy stops at the project size
// limit. Installed dependencies and the platform's staging folders stay.
func (s *Service) copyProject(from, to string) error {
	if err := copyDir(s.Dir(from), s.Dir(to), safefs.CopyOptions{
		Links: true, MaxBytes: s.limits.MaxProject,
		Skip: func(e safefs.Entry) bool { return e.IsDir() && (heavy(e.Name()) || e.Name() == stagingDir) },
	}); err != nil {
		if errors.Is(err, safefs.ErrTooLarge) {
			return errs.TooLarge("project_too_large", "The project is over its %s limit and cannot be forked.", human(s.limits.MaxProject))
		}
		return fmt.Errorf("copy project: %w", err)
	}
	if err := copyDir(s.historyDir(from), s.historyDir(to), safefs.CopyOptions{}); err != nil {
		return fmt.Errorf("copy history: %w", err)
	}
	return nil
}

func copyDir(from, to string, opts safefs.CopyOptions) error {
	src, err := safefs.OpenDir(from)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	dst, err := os.OpenRoot(to)
	if err != nil {
		return err
	}
	defer dst.Close()
	return safefs.Copy(src, dst, opts)
}
