package project

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"ecode/internal/access"
	"ecode/internal/auth"
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
	now := store.Now()
	p := &Project{
		ID: store.NewID(), OwnerID: actor.ID, Owner: actor.Username, Slug: Slugify(name), Name: name,
		Visibility: Private, Template: src.Template, CreatedAt: now, UpdatedAt: now,
	}
	dir := s.Dir(p.ID)
	unlock := s.history.lock(src.ID) // a consistent copy of the history
	err = copyTree(s.Dir(src.ID), dir)
	unlock()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy project: %w", err)
	}
	if err := insertProject(ctx, s.db, p); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	slog.InfoContext(ctx, "project forked", "from", src.ID, "project_id", p.ID, "owner", p.Owner)
	return decorate(p, actor), nil
}

// copyTree copies regular files, folders and links from src to dst,
// skipping installed dependencies and the platform's staging folders.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && rel != "." && (heavy(d.Name()) || d.Name() == stagingDir):
			return fs.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
