package project

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/events"
	"ecode/internal/store/testdb"
	"ecode/templates"
)

// oldProject lays out a project as it was before history left the tree:
// a .git inside the project folder with n commits.
func oldProject(t *testing.T, data, id string, n int) {
	t.Helper()
	dir := filepath.Join(data, "projects", id)
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, "file.txt"), []byte{byte('a' + i)}, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add("file.txt"); err != nil {
			t.Fatal(err)
		}
		sig := &object.Signature{Name: "ada", Email: "ada@example.com", When: time.Now()}
		if _, err := wt.Commit("commit", &git.CommitOptions{Author: sig}); err != nil {
			t.Fatal(err)
		}
	}
}

func commits(t *testing.T, s *Service, id string) int {
	t.Helper()
	repo, done, err := s.repo(id)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	iter, err := repo.Log(&git.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = iter.ForEach(func(*object.Commit) error { n++; return nil })
	return n
}

// TestMigrateHistory starts on a data dir from before history moved out of
// the project trees: checkpoints are kept, the tree's .git is gone, and a
// .git that reaches out of its project is not adopted.
func TestMigrateHistory(t *testing.T) {
	data := t.TempDir()
	oldProject(t, data, "kept", 3)
	oldProject(t, data, "other", 2)
	oldProject(t, data, "sneaky", 1)
	// sneaky's objects are other's: adopting them would read another tenant.
	sneaky := filepath.Join(data, "projects", "sneaky", ".git", "objects")
	if err := os.RemoveAll(sneaky); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../other/.git/objects", sneaky); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(data, "projects", "plain"), 0o755); err != nil {
		t.Fatal(err)
	}

	db := testdb.Open(t, testdb.Engines(t)[0])
	catalog, err := NewCatalog(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	start := func() (*Service, error) {
		return NewService(db, events.New(), access.NewResolver(db), auth.NewService(db, nil, auth.Options{}), nil,
			Options{DataDir: data, Limits: Limits{MaxFile: 1 << 20, MaxProject: 1 << 30}, Templates: catalog})
	}
	s, err := start()
	if err != nil {
		t.Fatal(err)
	}
	if n := commits(t, s, "kept"); n != 3 {
		t.Fatalf("kept has %d checkpoints after the move, want 3", n)
	}
	if n := commits(t, s, "sneaky"); n != 1 {
		t.Fatalf("sneaky has %d checkpoints, want a fresh history of 1", n)
	}
	if n := commits(t, s, "plain"); n != 1 {
		t.Fatalf("a project without .git has %d checkpoints, want 1", n)
	}
	for _, id := range []string{"kept", "other"} {
		if _, err := os.Lstat(filepath.Join(data, "projects", id, ".git")); !os.IsNotExist(err) {
			t.Errorf("%s still holds the old .git: %v", id, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(data, "projects", "sneaky", ".git")); err != nil {
		t.Errorf("sneaky's .git, not adopted, should stay the person's: %v", err)
	}
	if info, err := os.Stat(filepath.Join(data, "history")); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("history dir: %v %v", info.Mode(), err)
	}
	// A second start has nothing to move.
	if _, err := start(); err != nil {
		t.Fatal(err)
	}
	if n := commits(t, s, "kept"); n != 3 {
		t.Fatalf("kept has %d checkpoints after a second start", n)
	}
}
