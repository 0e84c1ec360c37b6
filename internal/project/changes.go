package project

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/plumbing/object"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
)

// FileChange is one file that differs between two checkpoints.
type FileChange struct {
	Path    string `json:"path"`
	From    string `json:"from,omitempty"` // a renamed file's old path
	Change  string `json:"change"`         // created, modified, deleted or renamed
	Added   int    `json:"added"`          // lines
	Removed int    `json:"removed"`
	Binary  bool   `json:"binary,omitempty"`
	// Diff is the unified diff, from its ---/+++ lines on; empty when there
	// are no lines to show, and then Note says why.
	Diff string `json:"diff"`
	Note string `json:"note,omitempty"`
}

// CheckpointDiff is what changed from one checkpoint to another.
type CheckpointDiff struct {
	Checkpoint Checkpoint   `json:"checkpoint"`
	Against    *Checkpoint  `json:"against"` // nil: the first checkpoint, against no files
	Files      []FileChange `json:"files"`
	// Truncated: more files changed than are listed.
	Truncated bool `json:"truncated"`
}

// What a diff shows, at most: a generated lock file says little more in
// its second hundred kilobytes, and a whole answer must stay small enough
// for a browser to draw.
const (
	maxDiff        = 64 << 10 // unified text of one file
	maxDiffTotal   = 1 << 20  // unified text of all files
	maxDiffFiles   = 500      // files listed
	maxCompared    = 1 << 20  // a side larger than this is not compared line by line
	maxRenameFiles = 50       // added and deleted files searched for renames
)

// Diff answers what changed at checkpoint target: against the checkpoint
// before it, or against checkpoint against when that is set.
func (s *Service) Diff(ctx context.Context, actor *auth.User, id, target, against string) (*CheckpointDiff, error) {
	p, err := s.Get(ctx, actor, id, access.Read)
	if err != nil {
		return nil, err
	}
	for _, h := range []string{target, against} {
		if h != "" && !plumbing.IsHash(h) {
			return nil, errs.Invalid("invalid_checkpoint", "Name a checkpoint by its full id.")
		}
	}
	repo, done, err := s.repo(p.ID)
	if err != nil {
		return nil, err
	}
	defer done()
	b, err := checkpointCommit(repo, target)
	if err != nil {
		return nil, err
	}
	var a *object.Commit
	switch {
	case against != "":
		if a, err = checkpointCommit(repo, against); err != nil {
			return nil, err
		}
	case b.NumParents() > 0:
		if a, err = b.Parent(0); err != nil {
			return nil, fmt.Errorf("checkpoint before %s: %w", b.Hash, err)
		}
	}
	files, truncated, err := diffCommits(ctx, a, b)
	if err != nil {
		return nil, err
	}
	out := &CheckpointDiff{Checkpoint: checkpointOf(b), Files: files, Truncated: truncated}
	if a != nil {
		cp := checkpointOf(a)
		out.Against = &cp
	}
	return out, nil
}

func checkpointCommit(repo *git.Repository, hash string) (*object.Commit, error) {
	c, err := repo.CommitObject(plumbing.NewHash(hash))
	if err != nil {
		return nil, errs.NotFound("not_found", "No checkpoint %s in this project.", hash[:7])
	}
	return c, nil
}

// Changes lists what changed from checkpoint from to checkpoint to, with
// a unified diff of each file.
func (s *Service) Changes(ctx context.Context, actor *auth.User, id, from, to string) ([]FileChange, error) {
	d, err := s.Diff(ctx, actor, id, to, from)
	if err != nil {
		return nil, err
	}
	return d.Files, nil
}

// diffCommits compares the files of commit a (nil: none) with those of b.
func diffCommits(ctx context.Context, a, b *object.Commit) ([]FileChange, bool, error) {
	var from *object.Tree
	if a != nil {
		t, err := a.Tree()
		if err != nil {
			return nil, false, fmt.Errorf("files of %s: %w", a.Hash, err)
		}
		from = t
	}
	to, err := b.Tree()
	if err != nil {
		return nil, false, fmt.Errorf("files of %s: %w", b.Hash, err)
	}
	changes, err := object.DiffTreeWithOptions(ctx, from, to, &object.DiffTreeOptions{
		DetectRenames: true, RenameScore: 60, RenameLimit: maxRenameFiles,
	})
	if err != nil {
		return nil, false, fmt.Errorf("compare checkpoints: %w", err)
	}
	truncated := len(changes) > maxDiffFiles
	if truncated {
		changes = changes[:maxDiffFiles]
	}
	out := make([]FileChange, 0, len(changes))
	budget := maxDiffTotal
	for _, ch := range changes {
		fc, err := fileChange(ctx, ch, &budget)
		if err != nil {
			return nil, false, err
		}
		out = append(out, fc)
	}
	return out, truncated, nil
}

// fileChange describes one change, its hunks taken from budget.
func fileChange(ctx context.Context, ch *object.Change, budget *int) (FileChange, error) {
	fc := FileChange{Path: ch.To.Name, Change: "modified"}
	switch {
	case ch.From.Name == "":
		fc.Change = "created"
	case ch.To.Name == "":
		fc.Path, fc.Change = ch.From.Name, "deleted"
	case ch.From.Name != ch.To.Name:
		fc.From, fc.Change = ch.From.Name, "renamed"
	}
	before, after, err := ch.Files()
	if err != nil {
		return fc, fmt.Errorf("read %s: %w", fc.Path, err)
	}
	if before == nil && after == nil {
		fc.Note = "Not a file (a submodule)."
		return fc, nil
	}
	var sizes []int64
	for _, f := range []*object.File{before, after} {
		if f == nil {
			continue
		}
		sizes = append(sizes, f.Size)
		if bin, err := f.IsBinary(); err != nil {
			return fc, fmt.Errorf("read %s: %w", f.Name, err)
		} else if bin {
			fc.Binary = true
		}
	}
	switch {
	case fc.Binary:
		fc.Note = "Binary file " + sizeChange(sizes) + "."
		return fc, nil
	case max(sizes[0], sizes[len(sizes)-1]) > maxCompared:
		fc.Note = "Large file " + sizeChange(sizes) + ": not compared line by line."
		return fc, nil
	}
	patch, err := ch.PatchContext(ctx)
	if err != nil {
		return fc, fmt.Errorf("diff %s: %w", fc.Path, err)
	}
	fps := patch.FilePatches()
	if len(fps) != 1 {
		return fc, nil
	}
	for _, c := range fps[0].Chunks() {
		n := lines(c.Content())
		switch c.Type() {
		case fdiff.Add:
			fc.Added += n
		case fdiff.Delete:
			fc.Removed += n
		}
	}
	if fc.Added == 0 && fc.Removed == 0 {
		if fc.Change == "modified" {
			fc.Note = "Only its mode changed."
		}
		return fc, nil
	}
	if *budget <= 0 {
		fc.Note = "Not shown: this comparison has reached its size limit."
		return fc, nil
	}
	var buf bytes.Buffer
	if err := fdiff.NewUnifiedEncoder(&buf, 3).Encode(onePatch{fps[0]}); err != nil {
		return fc, fmt.Errorf("diff %s: %w", fc.Path, err)
	}
	fc.Diff = buf.String()
	// From the ---/+++ lines on: git's own header says nothing a person needs.
	if i := strings.Index(fc.Diff, "\n--- "); i >= 0 && !strings.HasPrefix(fc.Diff, "--- ") {
		fc.Diff = fc.Diff[i+1:]
	}
	if limit := min(maxDiff, *budget); len(fc.Diff) > limit {
		fc.Diff = fc.Diff[:limit] + "\n[diff truncated]\n"
	}
	*budget -= len(fc.Diff)
	return fc, nil
}

// lines counts the lines of a chunk of text, the last one with or without
// its line break.
func lines(s string) int {
	n := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// sizeChange reads "(12 KB)" or "(12 KB → 14 KB)".
func sizeChange(sizes []int64) string {
	parts := make([]string, len(sizes))
	for i, n := range sizes {
		parts[i] = human(n)
	}
	return "(" + strings.Join(parts, " → ") + ")"
}

type onePatch struct{ fp fdiff.FilePatch }

func (p onePatch) FilePatches() []fdiff.FilePatch { return []fdiff.FilePatch{p.fp} }
func (p onePatch) Message() string                { return "" }

var _ fdiff.Patch = onePatch{}

// dependencyExcludes keep installed dependencies out of checkpoints in
// projects whose .gitignore does not name them: package managers own them,
// and they would make every checkpoint enormous.
var dependencyExcludes = []gitignore.Pattern{
	gitignore.ParsePattern("node_modules/", nil),
	gitignore.ParsePattern("__pycache__/", nil),
	gitignore.ParsePattern(".venv/", nil),
}
