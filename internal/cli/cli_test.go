package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"ecode/internal/cli"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// The sandbox agent is this test binary run again, as it is the ecode binary.
func TestMain(m *testing.M) { testserver.Main(m) }

// shell runs the command line as one person would, with its own config folder.
type shell struct {
	config string
}

type result struct {
	code           int
	stdout, stderr string
}

func newShell(t *testing.T) *shell {
	return &shell{config: filepath.Join(t.TempDir(), "config")}
}

// run runs args with stdin, in no terminal.
func (sh *shell) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return sh.runIn(t, strings.NewReader(stdin), args...)
}

// runIn runs args reading stdin, which may be a terminal.
func (sh *shell) runIn(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := sh.runCtx(context.Background(), stdin, &out, &errb, args...)
	return result{code, out.String(), errb.String()}
}

// runCtx runs args under ctx, with output that may be read while it runs.
func (sh *shell) runCtx(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args ...string) int {
	return cli.Run(ctx, args, cli.Env{
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Getenv: func(k string) string {
			if k == "ECODE_CONFIG_DIR" {
				return sh.config
			}
			return ""
		},
	})
}

// want fails unless r exited with code and its output holds each of wants.
func (r result) want(t *testing.T, code int, wants ...string) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	for _, w := range wants {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Fatalf("output lacks %q\nstdout: %s\nstderr: %s", w, r.stdout, r.stderr)
		}
	}
	return r
}

// token creates an API token for c.
func token(t *testing.T, c *testserver.Client) string {
	t.Helper()
	var out struct{ Token string }
	c.Post(t, "/api/tokens", map[string]string{"name": "cli"}).WantStatus(t, http.StatusCreated).Decode(t, &out)
	return out.Token
}

// loggedIn is a shell logged in to a fresh server as alice.
func loggedIn(t *testing.T, opts ...testserver.Option) (*testserver.Server, *testserver.Client, *shell) {
	s := testserver.New(t, testdb.Engines(t)[0], opts...)
	alice := s.SignUp(t, "alice")
	sh := newShell(t)
	sh.run(t, token(t, alice)+"\n", "login", "--host", s.URL, "--with-token").want(t, 0, "Logged in to "+s.URL+" as alice")
	return s, alice, sh
}

func TestLogin(t *testing.T) {
	t.Parallel()
	s, _, sh := loggedIn(t)
	info, err := os.Stat(filepath.Join(sh.config, "hosts.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("hosts.json: %v, %v; want mode 0600", info, err)
	}
	if info, err := os.Stat(sh.config); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("config folder: %v, %v; want mode 0700", info, err)
	}
	// The host of the last login is the default.
	sh.run(t, "", "projects", "ls").want(t, 0, "No projects yet")

	stranger := newShell(t)
	stranger.run(t, "ecode_notatoken\n", "login", "--host", s.URL, "--with-token").want(t, cli.ExitAuth, "ecode: invalid_token: ")
	stranger.run(t, "", "projects", "ls").want(t, cli.ExitAuth, "not logged in")
	stranger.run(t, "x", "login", "--with-token").want(t, cli.ExitUsage, "--host")

	sh.run(t, "", "logout").want(t, 0, "Logged out of "+s.URL)
	sh.run(t, "", "projects", "ls", "--host", s.URL).want(t, cli.ExitAuth, "not logged in to "+s.URL)
}

// On a terminal, login asks for the token and rm for a confirmation.
func TestTerminalPrompts(t *testing.T) {
	t.Parallel()
	s := testserver.New(t, testdb.Engines(t)[0])
	alice := s.SignUp(t, "alice")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	typed := func(line string) {
		if _, err := ptmx.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	sh := newShell(t)
	typed(token(t, alice))
	sh.runIn(t, tty, "login", "--host", s.URL, "--paste").want(t, 0, "paste it here", "Logged in to "+s.URL+" as alice")
	alice.CreateProject(t, "Doomed")
	typed("n")
	sh.runIn(t, tty, "projects", "rm", "alice/doomed").want(t, cli.ExitRefused, "Delete alice/doomed", "not confirmed")
	typed("y")
	sh.runIn(t, tty, "projects", "rm", "alice/doomed").want(t, 0, "Deleted alice/doomed")
}

func TestRevokedToken(t *testing.T) {
	t.Parallel()
	_, alice, sh := loggedIn(t)
	var out struct{ Tokens []struct{ ID string } }
	alice.Get(t, "/api/tokens").WantStatus(t, 200).Decode(t, &out)
	alice.Delete(t, "/api/tokens/"+out.Tokens[0].ID).WantStatus(t, http.StatusNoContent)
	sh.run(t, "", "projects", "ls").want(t, cli.ExitAuth, "ecode: invalid_token: ")
}

func TestProjects(t *testing.T) {
	t.Parallel()
	s, alice, sh := loggedIn(t)
	sh.run(t, "", "projects", "create", "Blog").want(t, 0, "Created alice/blog", s.URL+"/@alice/blog")
	sh.run(t, "", "projects", "create", "Blog").want(t, cli.ExitRefused, "ecode: project_exists: ")

	var created map[string]any
	r := sh.run(t, "", "projects", "create", "Notes", "--template", "python", "--json").want(t, 0)
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || created["slug"] != "notes" || created["template"] != "python" {
		t.Fatalf("create --json: %v, %s", err, r.stdout)
	}

	r = sh.run(t, "", "projects", "ls").want(t, 0, "NAME", "PROJECT", "Blog", "alice/blog", "alice/notes", created["id"].(string))
	var listed []struct{ ID, Slug, Owner string }
	r = sh.run(t, "", "projects", "ls", "--json").want(t, 0)
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("ls --json: %v, %s", err, r.stdout)
	}

	sh.run(t, "", "projects", "open", "alice/notes").want(t, 0, s.URL+"/@alice/notes\n")
	sh.run(t, "", "projects", "open", created["id"].(string)).want(t, 0, s.URL+"/@alice/notes\n")
	sh.run(t, "", "projects", "open", s.URL+"/@alice/notes").want(t, 0, s.URL+"/@alice/notes\n")
	sh.run(t, "", "projects", "open", "alice/nothing").want(t, cli.ExitNotFound, "ecode: not_found: ")
	sh.run(t, "", "projects", "open").want(t, cli.ExitUsage, "--project")

	// Someone else's private project looks like no project at all.
	bob := s.SignUp(t, "bob")
	bob.CreateProject(t, "Secret")
	sh.run(t, "", "projects", "rm", "bob/secret", "--yes").want(t, cli.ExitNotFound, "not_found")

	sh.run(t, "", "projects", "rm", "alice/blog").want(t, cli.ExitUsage, "--yes")
	sh.run(t, "", "projects", "rm", "alice/blog", "--yes").want(t, 0, "Deleted alice/blog")
	sh.run(t, "", "projects", "open", "alice/blog").want(t, cli.ExitNotFound)
	alice.Get(t, "/api/users/alice/projects/notes").WantStatus(t, 200)

	sh.run(t, "", "projects", "bogus").want(t, cli.ExitUsage, "unknown command")
	sh.run(t, "", "projects", "ls", "--bogus").want(t, cli.ExitUsage, "unknown flag")
	sh.run(t, "", "projects", "create").want(t, cli.ExitUsage)

	// Shell completion offers the projects.
	sh.run(t, "", "__complete", "projects", "open", "").want(t, 0, "alice/notes")
}

// write creates the files of tree under dir.
func write(t *testing.T, dir string, tree map[string]string) {
	t.Helper()
	for p, content := range tree {
		f := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// read returns the files under dir, but the link file.
func read(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == cli.LinkFile {
			return nil
		}
		b, err := os.ReadFile(p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sameTree(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	for p, w := range want {
		if got[p] != w {
			t.Fatalf("%s holds %q, want %q (all: %v)", p, got[p], w, got)
		}
	}
}

func TestFilesPushPull(t *testing.T) {
	t.Parallel()
	s, alice, sh := loggedIn(t)
	p := alice.CreateProject(t, "Site")
	src := t.TempDir()
	pushed := map[string]string{
		"index.html":      "<h1>hi</h1>\n",
		".gitignore":      "secret.txt\nbuild/\n",
		"src/app.js":      "console.log(1)\n",
		"src/lib/util.js": "export const x = 1\n",
		"sub/.gitignore":  "*.log\n",
		"sub/keep.txt":    "keep\n",
	}
	write(t, src, pushed)
	write(t, src, map[string]string{
		"secret.txt":          "password\n",
		"build/out.js":        "built\n",
		"sub/debug.log":       "noise\n",
		".git/config":         "[core]\n",
		"node_modules/x/a.js": "dep\n",
	})
	if err := os.Symlink("/etc/passwd", filepath.Join(src, "passwd")); err != nil {
		t.Fatal(err)
	}

	sh.run(t, "", "files", "push", src).want(t, cli.ExitUsage, "--project")
	sh.run(t, "", "files", "push", src, "-p", "alice/site").want(t, 0, "6 uploaded, 0 unchanged", "passwd: a symbolic link")
	for path, content := range pushed {
		if got := alice.Get(t, "/api/projects/"+p.ID+"/files/"+path).WantStatus(t, 200).Body; string(got) != content {
			t.Fatalf("remote %s holds %q, want %q", path, got, content)
		}
	}
	for _, path := range []string{"secret.txt", "build/out.js", "sub/debug.log", "passwd", "node_modules/x/a.js", cli.LinkFile} {
		alice.Get(t, "/api/projects/"+p.ID+"/files/"+path).WantStatus(t, 404)
	}

	// The folder is linked now: no --project, and only what changed goes,
	// found by content when the size is the same.
	sh.run(t, "", "files", "push", src).want(t, 0, "0 uploaded, 6 unchanged")
	sh.run(t, "", "files", "push", filepath.Join(src, "src")).want(t, cli.ExitUsage, "is inside "+src+", which is linked")
	write(t, src, map[string]string{"src/app.js": "console.log(2)\n"})
	r := sh.run(t, "", "files", "push", src, "--json").want(t, 0)
	var res struct {
		Uploaded  []string
		Unchanged int
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res.Uploaded) != 1 || res.Uploaded[0] != "src/app.js" || res.Unchanged != 5 {
		t.Fatalf("push --json: %v, %s", err, r.stdout)
	}
	pushed["src/app.js"] = "console.log(2)\n"

	// --delete removes what the folder no longer has, but keeps what it ignores.
	alice.Put(t, "/api/projects/"+p.ID+"/files/secret.txt", "remote secret\n").WantStatus(t, http.StatusNoContent)
	alice.Put(t, "/api/projects/"+p.ID+"/files/old/stale.txt", "stale\n").WantStatus(t, http.StatusNoContent)
	os.Remove(filepath.Join(src, "sub/keep.txt"))
	delete(pushed, "sub/keep.txt")
	sh.run(t, "", "files", "push", src, "--delete").want(t, 0, "0 uploaded, 5 unchanged, 2 deleted")
	alice.Get(t, "/api/projects/"+p.ID+"/files/sub/keep.txt").WantStatus(t, 404)
	alice.Get(t, "/api/projects/"+p.ID+"/files/old/stale.txt").WantStatus(t, 404)
	alice.Get(t, "/api/projects/"+p.ID+"/files/secret.txt").WantStatus(t, 200)

	// Pull into a fresh folder gives the project's files back.
	alice.Post(t, "/api/projects/"+p.ID+"/mkdir", map[string]string{"path": "empty/dir"}).WantStatus(t, http.StatusNoContent)
	dst := filepath.Join(t.TempDir(), "site")
	sh.run(t, "", "files", "pull", dst, "-p", p.ID).want(t, 0, "6 downloaded, 0 unchanged")
	pulled := map[string]string{"secret.txt": "remote secret\n"}
	for k, v := range pushed {
		pulled[k] = v
	}
	sameTree(t, read(t, dst), pulled)
	if info, err := os.Stat(filepath.Join(dst, "empty", "dir")); err != nil || !info.IsDir() {
		t.Fatalf("the empty remote folder was not made: %v", err)
	}
	sh.run(t, "", "files", "pull", dst).want(t, 0, "0 downloaded, 6 unchanged")
	var link cli.Link
	raw, _ := os.ReadFile(filepath.Join(dst, cli.LinkFile))
	if err := json.Unmarshal(raw, &link); err != nil || link.Host != s.URL || link.Project != p.ID {
		t.Fatalf("link %s: %v", raw, err)
	}

	// A link in the folder is never written through, even to a place the
	// folder holds.
	outside := t.TempDir()
	trap := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(trap, "src")); err != nil {
		t.Fatal(err)
	}
	sh.run(t, "", "files", "pull", trap, "-p", p.ID).want(t, cli.ExitFailure, "src is a symbolic link")
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("pull wrote through a link: %v", entries)
	}

	sh.run(t, "", "files", "pull", t.TempDir(), "-p", "alice/nothing").want(t, cli.ExitNotFound, "ecode: not_found: ")
}

func TestExec(t *testing.T) {
	t.Parallel()
	testserver.NeedSandbox(t)
	_, alice, sh := loggedIn(t)
	alice.CreateProject(t, "Box")
	sh.run(t, "", "exec", "-p", "alice/box", "--", "sh", "-c", "echo hi; echo oops >&2; exit 3").want(t, 3)
	r := sh.run(t, "", "exec", "-p", "alice/box", "--", "sh", "-c", "echo hi; echo oops >&2; exit 3")
	if r.stdout != "hi\n" || r.stderr != "oops\n" {
		t.Fatalf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
	// One argument is a shell line; flags after the program are its own.
	sh.run(t, "", "exec", "-p", "alice/box", "echo a b | wc -w").want(t, 0, "2")
	sh.run(t, "", "exec", "-p", "alice/box", "echo", "-n", "it's").want(t, 0, "it's")

	r = sh.run(t, "", "exec", "-p", "alice/box", "--json", "--", "true").want(t, 0)
	var res struct{ ExitCode *int }
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.ExitCode == nil || *res.ExitCode != 0 {
		t.Fatalf("exec --json: %v, %s", err, r.stdout)
	}
	sh.run(t, "", "exec", "-p", "alice/nothing", "--", "true").want(t, cli.ExitNotFound, "ecode: not_found: ")
}

func TestCompletionAndHelp(t *testing.T) {
	t.Parallel()
	sh := newShell(t)
	for _, shell := range []string{"bash", "zsh", "fish"} {
		sh.run(t, "", "completion", shell).want(t, 0, "ecode")
	}
	sh.run(t, "", "completion", "tcsh").want(t, cli.ExitUsage, "tcsh")
	sh.run(t, "", "--help").want(t, 0, "Exit codes:", "not logged in")
	for _, cmd := range [][]string{{"login"}, {"logout"}, {"projects", "ls"}, {"projects", "create"}, {"projects", "rm"},
		{"projects", "open"}, {"files", "push"}, {"files", "pull"}, {"exec"}, {"completion"}} {
		sh.run(t, "", append(cmd, "--help")...).want(t, 0, "Examples:")
	}
	if !cli.Handles([]string{"--host", "x", "projects"}) || !cli.Handles([]string{"__complete", "pro"}) || cli.Handles([]string{"serve"}) || cli.Handles([]string{"connect", "a", "b"}) {
		t.Fatal("Handles routes the wrong commands")
	}
}

// wantExit waits for a command running in the background to end with
// code want, within d; output (may be nil) is shown when it does not.
func wantExit(t *testing.T, code <-chan int, want int, d time.Duration, what string, output fmt.Stringer) {
	t.Helper()
	shown := func() string {
		if output == nil {
			return ""
		}
		return "\noutput:\n" + output.String()
	}
	select {
	case c := <-code:
		if c != want {
			t.Fatalf("exit %d, want %d%s", c, want, shown())
		}
	case <-time.After(d):
		t.Fatalf("%s%s", what, shown())
	}
}
