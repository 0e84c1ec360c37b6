package project

import (
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{"a": "a", "a/b.txt": "a/b.txt", "dir/": "dir", "über/ß": "über/ß", ".env": ".env", "a/.gitignore": "a/.gitignore"} {
		if got, err := CleanPath(in); err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/", "/etc/passwd", "..", "../a", "a/../b", "a/..", "a//b", "./a", "a/./b", ".git", ".git/config",
		"x/.git/HEAD", "a\x00b", `a\b`, "\xff", strings.Repeat("a", 256), strings.Repeat("a/", 600)} {
		if got, err := CleanPath(bad); err == nil {
			t.Errorf("CleanPath(%q) accepted as %q", bad, got)
		}
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "a/./b", ".git/x", "a\\b", "/abs", "x/", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := CleanPath(s)
		if err != nil {
			return
		}
		if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsAny(p, "\x00\\") {
			t.Fatalf("CleanPath(%q) = %q", s, p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." || seg == ".." || seg == ".git" {
				t.Fatalf("CleanPath(%q) = %q has segment %q", s, p, seg)
			}
		}
	})
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"My First App!": "my-first-app", "  spaced  out ": "spaced-out", "Ünïcode": "n-code", "___": "", "a--b": "a-b",
		strings.Repeat("ab ", 30): "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab",
	} {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}
