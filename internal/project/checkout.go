package project

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"ecode/internal/errs"
)

// CheckoutTo writes the files of checkpoint commit of project id into dst,
// an empty folder of the server's own: a build starts from what was
// committed, never from the working tree a sandbox may be changing.
// Links are written as links (what builds there follows them inside its
// own sandbox); names no working tree may hold are left out.
func (s *Service) CheckoutTo(ctx context.Context, id, commit, dst string) error {
	if !plumbing.IsHash(commit) {
		return errs.Invalid("invalid_checkpoint", "Name a checkpoint by its full id.")
	}
	repo, done, err := s.repo(id)
	if err != nil {
		return err
	}
	defer done()
	c, err := repo.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return errs.NotFound("not_found", "No checkpoint %s in this project.", commit[:7])
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return fmt.Errorf("open checkout folder: %w", err)
	}
	defer root.Close()
	files, err := c.Files()
	if err != nil {
		return fmt.Errorf("read checkpoint %s: %w", commit[:7], err)
	}
	return files.ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := CleanPath(f.Name); err != nil {
			return nil
		}
		if dir := path.Dir(f.Name); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("checkout %s: %w", f.Name, err)
			}
		}
		if f.Mode == filemode.Symlink {
			target, err := f.Contents()
			if err != nil {
				return fmt.Errorf("checkout %s: %w", f.Name, err)
			}
			return root.Symlink(target, f.Name)
		}
		perm := os.FileMode(0o644)
		if f.Mode == filemode.Executable {
			perm = 0o755
		}
		return writeBlob(root, f, perm)
	})
}

func writeBlob(root *os.Root, f *object.File, perm os.FileMode) error {
	r, err := f.Reader()
	if err != nil {
		return fmt.Errorf("checkout %s: %w", f.Name, err)
	}
	defer r.Close()
	out, err := root.OpenFile(f.Name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("checkout %s: %w", f.Name, err)
	}
	_, err = io.Copy(out, r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("checkout %s: %w", f.Name, err)
	}
	return nil
}
