package project

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"ecode/internal/safefs"
)

// The platform's history of a project is a git directory of the server's
// own, <data>/history/<id>.git, with the project folder as its work tree.
// Code in the sandbox can neither see nor write it, and history never reads
// a .git the project holds: that one is the person's own repository.

// historyDir is where project id's history lives.
func (s *Service) historyDir(id string) string { return filepath.Join(s.histRoot, id+".git") }

func (s *Service) storage(id string) *filesystem.Storage {
	return filesystem.NewStorage(osfs.New(s.historyDir(id)), cache.NewObjectLRUDefault())
}

// repo opens project id's history over its work tree; done releases the
// tree's descriptor.
func (s *Service) repo(id string) (repo *git.Repository, done func(), err error) {
	d, err := safefs.OpenDir(s.Dir(id))
	if err != nil {
		return nil, nil, fmt.Errorf("open project tree: %w", err)
	}
	repo, err = git.Open(s.storage(id), worktreeFS{d: d})
	if err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("open history: %w", err)
	}
	return repo, func() { d.Close() }, nil
}

// initHistory starts project id's history with a commit of what its
// folder holds.
func (s *Service) initHistory(id, authorName, authorEmail, msg string) error {
	if err := os.MkdirAll(s.historyDir(id), 0o700); err != nil {
		return fmt.Errorf("create history: %w", err)
	}
	_, err := git.InitWithOptions(s.storage(id), nil, git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")})
	if err != nil {
		return fmt.Errorf("git init: %w", err)
	}
	repo, done, err := s.repo(id)
	if err != nil {
		return err
	}
	defer done()
	_, _, err = commitAll(repo, authorName, authorEmail, message(msg), true)
	return err
}

// adoptHistory makes the repository that project id's folder holds (an
// import's clone, or a project from before history moved out of the tree)
// the start of the platform's history, or starts it afresh with a commit
// named fresh when there is none to adopt. The folder is sandbox-written, so
// the repository is copied through safefs, links and alternates left out,
// and only kept if it opens with a HEAD; otherwise history starts afresh.
// With drop, the project's .git is removed once adopted.
func (s *Service) adoptHistory(id, authorName, authorEmail, fresh string, drop bool) error {
	hist := s.historyDir(id)
	if err := s.copyGitDir(id, hist); err != nil {
		os.RemoveAll(hist)
		if !errors.Is(err, fs.ErrNotExist) {
			// The .git stays in the tree, the person's to look into.
			slog.Warn("project history not adopted; starting afresh", "project_id", id, "err", err)
		}
		return s.initHistory(id, authorName, authorEmail, fresh)
	}
	if drop {
		if r, err := os.OpenRoot(s.Dir(id)); err == nil {
			_ = r.RemoveAll(".git")
			r.Close()
		}
	}
	return nil
}

// maxAdoptedHistory bounds the repository an import or migration copies.
const maxAdoptedHistory = 8 << 30

func (s *Service) copyGitDir(id, hist string) error {
	d, err := safefs.OpenDir(s.Dir(id))
	if err != nil {
		return err
	}
	defer d.Close()
	src, err := d.Sub(".git")
	if err != nil {
		return fmt.Errorf("project .git: %w", err)
	}
	defer src.Close()
	if err := os.MkdirAll(hist, 0o700); err != nil {
		return err
	}
	dst, err := os.OpenRoot(hist)
	if err != nil {
		return err
	}
	defer dst.Close()
	err = safefs.Copy(src, dst, safefs.CopyOptions{MaxBytes: maxAdoptedHistory, Skip: func(e safefs.Entry) bool {
		// Alternates would read another repository's objects; hooks and
		// worktrees are not the platform's business.
		return e.Path == "objects/info/alternates" || e.Path == "objects/info/http-alternates" ||
			e.Path == "commondir" || e.Path == "hooks" || e.Path == "worktrees"
	}})
	if err != nil {
		return fmt.Errorf("copy .git: %w", err)
	}
	repo, err := git.Open(s.storage(id), nil)
	if err != nil {
		return fmt.Errorf("open copied history: %w", err)
	}
	head, err := repo.Head()
	if err != nil {
		return fmt.Errorf("copied history has no HEAD: %w", err)
	}
	if _, err := repo.CommitObject(head.Hash()); err != nil {
		return fmt.Errorf("copied history's HEAD: %w", err)
	}
	return nil
}

// migrateHistory moves the history of projects from before it lived out of
// the tree: a project with no history of the server's own adopts its .git
// (dropping it from the tree) or starts afresh.
func (s *Service) migrateHistory() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list projects: %w", err)
	}
	moved := 0
	for _, e := range entries {
		id := e.Name()
		if !e.IsDir() || strings.Contains(id, ".") {
			continue // a project being deleted
		}
		if _, err := os.Stat(s.historyDir(id)); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := s.adoptHistory(id, "E-Code", "ecode@localhost", "History starts here", true); err != nil {
			slog.Error("migrate project history", "project_id", id, "err", err)
			continue
		}
		moved++
	}
	if moved > 0 {
		slog.Info("project histories moved out of the project trees", "projects", moved)
	}
	return nil
}

// commitAll stages everything the tree holds now (what .gitignore leaves
// out excepted) and commits it with the message msg makes of the paths
// that changed. It reports false, with the last commit, when nothing
// changed, unless empty commits are allowed (msg then gets no paths).
func commitAll(repo *git.Repository, name, email string, msg func(changed []string) string, allowEmpty bool) (*object.Commit, bool, error) {
	wt, err := repo.Worktree()
	if err != nil {
		return nil, false, err
	}
	wt.Excludes = append(wt.Excludes, dependencyExcludes...)
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return nil, false, fmt.Errorf("stage changes: %w", err)
	}
	var changed []string
	if !allowEmpty {
		status, err := wt.Status()
		if err != nil {
			return nil, false, fmt.Errorf("status: %w", err)
		}
		for path, fs := range status {
			if fs.Staging != git.Unmodified && fs.Staging != git.Untracked {
				changed = append(changed, path)
			}
		}
		if len(changed) == 0 {
			if head, err := repo.Head(); err == nil {
				if c, err := repo.CommitObject(head.Hash()); err == nil {
					return c, false, nil
				}
			}
		}
		slices.Sort(changed)
	}
	hash, err := wt.Commit(msg(changed), &git.CommitOptions{
		AllowEmptyCommits: true,
		Author:            &object.Signature{Name: name, Email: email, When: time.Now()},
	})
	if err != nil {
		return nil, false, fmt.Errorf("commit: %w", err)
	}
	c, err := repo.CommitObject(hash)
	if err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// message is a commit message that does not depend on what changed.
func message(text string) func([]string) string { return func([]string) string { return text } }
