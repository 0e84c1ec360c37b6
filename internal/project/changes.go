package project

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"ecode/internal/access"
	"ecode/internal/auth"
)

// FileChange is one file that differs between two checkpoints.
type FileChange struct {
	Path   string `json:"path"`
	Change string `json:"change"` // created, modified or deleted
	Diff   string `json:"diff"`   // unified, or a note for binary files
}

// maxDiff bounds one file's diff: a generated lock file says little more
// in its second hundred kilobytes.
const maxDiff = 64 << 10

// Changes lists what changed from checkpoint from to checkpoint to, with
// a unified diff of each file.
func (s *Service) Changes(ctx context.Context, actor *auth.User, id, from, to string) ([]FileChange, error) {
	p, err := s.Get(ctx, actor, id, access.Read)
	if err != nil {
		return nil, err
	}
	repo, done, err := s.repo(p.ID)
	if err != nil {
		return nil, err
	}
	defer done()
	a, err := repo.CommitObject(plumbing.NewHash(from))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", from, err)
	}
	b, err := repo.CommitObject(plumbing.NewHash(to))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", to, err)
	}
	patch, err := a.PatchContext(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("diff %s..%s: %w", from, to, err)
	}
	var out []FileChange
	for _, fp := range patch.FilePatches() {
		before, after := fp.Files()
		c := FileChange{Change: "modified"}
		switch {
		case before == nil:
			c.Path, c.Change = after.Path(), "created"
		case after == nil:
			c.Path, c.Change = before.Path(), "deleted"
		default:
			c.Path = after.Path()
		}
		if fp.IsBinary() {
			c.Diff = "(binary file)"
		} else {
			var buf bytes.Buffer
			if err := fdiff.NewUnifiedEncoder(&buf, 3).Encode(onePatch{fp}); err != nil {
				return nil, fmt.Errorf("diff %s: %w", c.Path, err)
			}
			c.Diff = buf.String()
			// From the ---/+++ lines on: git's own header says nothing a person needs.
			if i := strings.Index(c.Diff, "\n--- "); i >= 0 && !strings.HasPrefix(c.Diff, "--- ") {
				c.Diff = c.Diff[i+1:]
			}
			if len(c.Diff) > maxDiff {
				c.Diff = c.Diff[:maxDiff] + "\n[diff truncated]\n"
			}
		}
		out = append(out, c)
	}
	return out, nil
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
