package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A server, or someone between it and us, must not be able to make pull
// write outside its folder or into .git.
func TestLocalPathRefusesEscapes(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", `a\..\b`, ".git/hooks/pre-commit",
		"sub/.GIT/config", "a/", "x\x00y"} {
		if err := localPath(p); err == nil {
			t.Errorf("localPath(%q) accepted", p)
		}
	}
	for _, p := range []string{"a", "src/app.js", ".gitignore", "a/.github/x", "..a/b..", "é/ü.txt"} {
		if err := localPath(p); err != nil {
			t.Errorf("localPath(%q): %v", p, err)
		}
	}
}

func TestWriteFileNeverFollowsLinks(t *testing.T) {
	t.Parallel()
	dir, outside := t.TempDir(), t.TempDir()
	os.Symlink(outside, filepath.Join(dir, "out"))
	os.Symlink(filepath.Join(outside, "f"), filepath.Join(dir, "f"))
	os.Mkdir(filepath.Join(dir, "in"), 0o755)
	os.Symlink("in", filepath.Join(dir, "inner")) // stays inside: still refused
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, p := range []string{"out/x", "f", "inner/x"} {
		if _, err := writeFile(root, p, strings.NewReader("data")); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("writeFile(%q): %v, want a refusal", p, err)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("written outside: %v", entries)
	}
	changed, err := writeFile(root, "in/a/b.txt", strings.NewReader("data"))
	if err != nil || !changed {
		t.Fatalf("writeFile: %v, %v", changed, err)
	}
	if changed, err := writeFile(root, "in/a/b.txt", strings.NewReader("data")); err != nil || changed {
		t.Fatalf("rewriting the same bytes: changed %v, %v", changed, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "in", "a")); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestNormalizeHost(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ecode.example.com":        "https://ecode.example.com",
		"HTTP://LocalHost:8080/":   "http://localhost:8080",
		" https://e.example.org  ": "https://e.example.org",
	} {
		if got, err := normalizeHost(in); err != nil || got != want {
			t.Errorf("normalizeHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ftp://x", "https://x/path", "https://user:pw@x", "https://"} {
		if got, err := normalizeHost(in); err == nil {
			t.Errorf("normalizeHost(%q) = %q, want an error", in, got)
		}
	}
}

func TestShellLine(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{
		"ls -la | wc":                   "ls -la | wc",
		"sh\x00-c\x00echo hi; exit 3":   `sh -c 'echo hi; exit 3'`,
		"echo\x00it's\x00\x00a=b":       `echo 'it'\''s' '' a=b`,
		"go\x00test\x00./...\x00-run=X": "go test ./... -run=X",
	} {
		if got := shellLine(strings.Split(args, "\x00")); got != want {
			t.Errorf("shellLine(%q) = %q, want %q", args, got, want)
		}
	}
}

// Commands run in a folder below a linked one find its link, as git finds
// its repository.
func TestFindLinkLooksUp(t *testing.T) {
	t.Parallel()
	top := t.TempDir()
	deep := filepath.Join(top, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(top, LinkFile), []byte(`{"host":"https://e.example","project":"p1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	l, at, err := findLink(deep)
	if err != nil || l == nil || l.Project != "p1" || at != top {
		t.Fatalf("findLink = %+v, %q, %v", l, at, err)
	}
	if err := os.WriteFile(filepath.Join(deep, LinkFile), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := findLink(deep); err == nil || !strings.Contains(err.Error(), "not a project link") {
		t.Fatalf("a broken link nearer is not reported: %v", err)
	}
}
