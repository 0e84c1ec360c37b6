package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
)

// Checkpoint is one commit of a project's history.
type Checkpoint struct {
	ID      string `json:"id"`
	Short   string `json:"short"`
	Message string `json:"message"`
	Author  string `json:"author"`
	Time    int64  `json:"time"`
	// Auto: the platform took it by itself (edits settled, or just
	// before a restore), not a person or the agent.
	Auto bool `json:"auto"`
}

// autoTrailer ends the message of an automatic checkpoint: the mark lives
// in the commit itself, so it survives forks and needs no table.
const autoTrailer = "E-Code-Checkpoint: auto"

func checkpointOf(c *object.Commit) Checkpoint {
	msg := strings.TrimSpace(c.Message)
	rest, auto := strings.CutSuffix(msg, autoTrailer)
	if auto {
		msg = strings.TrimSpace(rest)
	}
	return Checkpoint{ID: c.Hash.String(), Short: c.Hash.String()[:7], Message: msg,
		Author: c.Author.Name, Time: c.Author.When.UnixMilli(), Auto: auto}
}

// autoMessage marks text as the message of an automatic checkpoint.
func autoMessage(text string) string { return text + "\n\n" + autoTrailer + "\n" }

const (
	maxHistory = 200 // checkpoints listed
	// maxHistoryScan bounds the commits read to fill the list when
	// automatic ones are left out of it.
	maxHistoryScan = 5000
)

// historyLocks serialises history changes per project: two checkpoints at
// once would race on the index.
type historyLocks struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (h *historyLocks) lock(id string) func() {
	h.mu.Lock()
	if h.locks == nil {
		h.locks = map[string]*sync.Mutex{}
	}
	l := h.locks[id]
	if l == nil {
		l = &sync.Mutex{}
		h.locks[id] = l
	}
	h.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// History lists the project's checkpoints, newest first: every one a
// person or the agent made, and the newest automatic ones (the current
// checkpoint always). It also counts the older automatic checkpoints left
// out; they stay in the history, and can still be restored by id.
func (s *Service) History(ctx context.Context, actor *auth.User, id string) (list []Checkpoint, omitted int, err error) {
	p, err := s.Get(ctx, actor, id, access.Read)
	if err != nil {
		return nil, 0, err
	}
	repo, done, err := s.repo(p.ID)
	if err != nil {
		return nil, 0, err
	}
	defer done()
	iter, err := repo.Log(&git.LogOptions{Order: git.LogOrderCommitterTime})
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return []Checkpoint{}, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read history: %w", err)
	}
	defer iter.Close()
	list = []Checkpoint{}
	autos, scanned := 0, 0
	err = iter.ForEach(func(c *object.Commit) error {
		if len(list) >= maxHistory || scanned >= maxHistoryScan {
			return io.EOF
		}
		scanned++
		cp := checkpointOf(c)
		if cp.Auto && scanned > 1 {
			if autos++; autos > s.auto.keep() {
				omitted++
				return nil
			}
		}
		list = append(list, cp)
		return nil
	})
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, fmt.Errorf("read history: %w", err)
	}
	return list, omitted, nil
}

// Checkpoint commits everything the project holds now (what .gitignore
// leaves out excepted). It reports false when nothing changed since the
// last checkpoint, which it then returns; but after an automatic one it
// always commits: the new checkpoint names that state, and is kept where
// automatic ones are left out of the list.
func (s *Service) Checkpoint(ctx context.Context, actor *auth.User, id, msg string) (*Checkpoint, bool, error) {
	return s.checkpoint(ctx, actor, id, msg, false)
}

// CheckpointAlways is Checkpoint that commits even when no file changed:
// for a checkpoint that keeps what else changed, the project's data.
func (s *Service) CheckpointAlways(ctx context.Context, actor *auth.User, id, msg string) (*Checkpoint, error) {
	cp, _, err := s.checkpoint(ctx, actor, id, msg, true)
	return cp, err
}

func (s *Service) checkpoint(ctx context.Context, actor *auth.User, id, msg string, always bool) (*Checkpoint, bool, error) {
	p, err := s.Get(ctx, actor, id, access.Write)
	if err != nil {
		return nil, false, err
	}
	msg = strings.TrimSpace(msg)
	if msg == "" {
		msg = "Checkpoint"
	}
	if len(msg) > 1000 {
		return nil, false, errs.Invalid("invalid_message", "A checkpoint message is at most 1000 bytes.")
	}
	defer s.history.lock(p.ID)()
	cp, changed, err := s.commitAll(p.ID, actor.Username, actor.Email, message(msg), false)
	if err != nil || changed || !cp.Auto && !always {
		return cp, changed, err
	}
	return s.commitAll(p.ID, actor.Username, actor.Email, message(msg), true)
}

// commitAll checkpoints project id as author name; the history lock is held.
func (s *Service) commitAll(id, name, email string, msg func(changed []string) string, allowEmpty bool) (*Checkpoint, bool, error) {
	repo, done, err := s.repo(id)
	if err != nil {
		return nil, false, err
	}
	defer done()
	c, changed, err := commitAll(repo, name, email, msg, allowEmpty)
	if err != nil {
		return nil, false, err
	}
	cp := checkpointOf(c)
	return &cp, changed, nil
}

// Restore makes the project's files what they were at checkpoint target,
// as a new checkpoint on top, so a restore is itself undone by restoring
// the checkpoint before it. Changes since the last checkpoint are kept in
// a checkpoint of their own first: nothing is lost.
func (s *Service) Restore(ctx context.Context, actor *auth.User, id, target string) (*Checkpoint, error) {
	cp, _, err := s.RestoreUndoable(ctx, actor, id, target)
	return cp, err
}

// RestoreUndoable is Restore, and also answers the checkpoint of the files
// just before it, whose restore undoes it.
func (s *Service) RestoreUndoable(ctx context.Context, actor *auth.User, id, target string) (restored, before *Checkpoint, err error) {
	p, err := s.Get(ctx, actor, id, access.Write)
	if err != nil {
		return nil, nil, err
	}
	if !plumbing.IsHash(target) {
		return nil, nil, errs.Invalid("invalid_checkpoint", "Name a checkpoint by its full id.")
	}
	defer s.history.lock(p.ID)()
	repo, done, err := s.repo(p.ID)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	want, err := repo.CommitObject(plumbing.NewHash(target))
	if err != nil {
		return nil, nil, errs.NotFound("not_found", "No checkpoint %s in this project.", target[:7])
	}
	msg := autoMessage("Before restoring " + want.Hash.String()[:7])
	before, _, err = s.commitAll(p.ID, actor.Username, actor.Email, message(msg), false)
	if err != nil {
		return nil, nil, err
	}
	current, err := repo.CommitObject(plumbing.NewHash(before.ID))
	if err != nil {
		return nil, nil, err
	}
	if err := s.writeTree(p, current, want); err != nil {
		return nil, nil, err
	}
	msg = fmt.Sprintf("Restore %s: %s", want.Hash.String()[:7], firstLine(want.Message))
	restored, _, err = s.commitAll(p.ID, actor.Username, actor.Email, message(msg), false)
	if err != nil {
		return nil, nil, err
	}
	s.Touched(ctx, p)
	return restored, before, nil
}

// writeTree turns the files of commit from into those of commit to.
func (s *Service) writeTree(p *Project, from, to *object.Commit) error {
	t := s.Tree(p)
	keep := map[string]bool{}
	files, err := to.Files()
	if err != nil {
		return err
	}
	err = files.ForEach(func(f *object.File) error {
		if _, err := CleanPath(f.Name); err != nil {
			return nil // a name no working tree may hold (.git/...): skip it
		}
		keep[f.Name] = true
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		if _, err := t.Write(f.Name, r); err != nil {
			return fmt.Errorf("restore %s: %w", f.Name, err)
		}
		if f.Mode == filemode.Executable {
			return t.SetExecutable(f.Name, true)
		}
		return nil
	})
	if err != nil {
		return err
	}
	old, err := from.Files()
	if err != nil {
		return err
	}
	return old.ForEach(func(f *object.File) error {
		if keep[f.Name] {
			return nil
		}
		if err := t.Delete(f.Name); err != nil && !errs.Is(err, errs.KindNotFound) {
			return fmt.Errorf("remove %s: %w", f.Name, err)
		}
		return nil
	})
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
