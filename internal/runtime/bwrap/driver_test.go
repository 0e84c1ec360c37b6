package bwrap

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ecode/internal/runtime"
)

func TestMain(m *testing.M) {
	if handled, err := Main(os.Args[1:]); handled {
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// reachableTempDir is a temp dir that sandbox uids can traverse.
func reachableTempDir(t *testing.T) string {
	dir := t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o711)
	}
	return dir
}

func newDriver(t *testing.T) *Driver {
	t.Helper()
	return newDriverWith(t, Config{StateDir: filepath.Join(reachableTempDir(t), "sandboxes"), Limits: DefaultLimits()})
}

func newDriverWith(t *testing.T, cfg Config) *Driver {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bubblewrap is not installed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Check(ctx); err != nil {
		t.Skipf("bubblewrap cannot run here: %v", err)
	}
	return d
}

func startSandbox(t *testing.T, d *Driver, id string) (runtime.Sandbox, string) {
	t.Helper()
	return startSpec(t, d, runtime.Spec{ID: id})
}

// startSpec starts a sandbox of spec over a new project folder.
func startSpec(t *testing.T, d *Driver, spec runtime.Spec) (runtime.Sandbox, string) {
	t.Helper()
	proj := filepath.Join(reachableTempDir(t), "project")
	os.MkdirAll(proj, 0o755)
	spec.ProjectDir = proj
	s, err := d.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s, proj
}

func sh(t *testing.T, s runtime.Sandbox, script string) (string, runtime.Exit) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := s.Exec(ctx, runtime.Command{Argv: []string{"sh", "-c", script}})
	if err != nil {
		t.Fatalf("exec %q: %v", script, err)
	}
	var out bytes.Buffer
	e, err := p.Wait(ctx, &out, &out)
	if err != nil {
		t.Fatalf("wait %q: %v", script, err)
	}
	return out.String(), e
}

func TestSandboxBasics(t *testing.T) {
	d := newDriver(t)
	s, proj := startSandbox(t, d, "basics")
	out, e := sh(t, s, "id -u; id -g; whoami; pwd; echo $HOME; echo hi > made-inside.txt; echo $$")
	want := "1000\n1000\nrunner\n/home/runner/project\n/home/runner\n"
	if !strings.HasPrefix(out, want) || e.Code != 0 {
		t.Fatalf("got %q (%+v), want prefix %q", out, e, want)
	}
	if b, err := os.ReadFile(filepath.Join(proj, "made-inside.txt")); err != nil || string(b) != "hi\n" {
		t.Fatalf("file made inside: %q %v", b, err)
	}
	out, _ = sh(t, s, "node -e 'console.log(1+1)'; python3 -c 'print(6*7)'")
	if out != "2\n42\n" {
		t.Fatalf("toolchain: %q", out)
	}
	out, e = sh(t, s, "exit 7")
	if e.Code != 7 {
		t.Fatalf("exit code %+v %q", e, out)
	}
}

func benchDriver(b *testing.B) (*Driver, string) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		b.Skip("bubblewrap is not installed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	tmp := b.TempDir()
	for d := tmp; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o711)
	}
	d, err := New(ctx, Config{StateDir: filepath.Join(tmp, "sandboxes"), Limits: DefaultLimits()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	proj := filepath.Join(tmp, "project")
	os.MkdirAll(proj, 0o755)
	return d, proj
}

func runTrue(b *testing.B, s runtime.Sandbox) {
	p, err := s.Exec(context.Background(), runtime.Command{Argv: []string{"/usr/bin/true"}})
	if err != nil {
		b.Fatal(err)
	}
	if e, err := p.Wait(context.Background(), nil, nil); err != nil || e.Code != 0 {
		b.Fatalf("true: %+v %v", e, err)
	}
}

// BenchmarkColdStart is a sandbox from nothing (cgroup, namespaces, mounts,
// the agent as PID 1) to a user process that has run: limits and network
// policy on, as every project gets it.
func BenchmarkColdStart(b *testing.B) {
	d, proj := benchDriver(b)
	for b.Loop() {
		s, err := d.Start(context.Background(), runtime.Spec{ID: "bench", ProjectDir: proj})
		if err != nil {
			b.Fatal(err)
		}
		runTrue(b, s)
		b.StopTimer()
		s.Stop()
		b.StartTimer()
	}
}

// BenchmarkExecTrue is one command in a running sandbox, through its agent.
func BenchmarkExecTrue(b *testing.B) {
	d, proj := benchDriver(b)
	s, err := d.Start(context.Background(), runtime.Spec{ID: "bench", ProjectDir: proj})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	for b.Loop() {
		runTrue(b, s)
	}
}

// BenchmarkHostTrue is the same process started directly on the host.
func BenchmarkHostTrue(b *testing.B) {
	for b.Loop() {
		if err := exec.Command("/usr/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLeftoversEnd: a server that starts over the state dir of one that
// died ends the sandboxes it left.
func TestLeftoversEnd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("orphans are found through cgroups, which need root")
	}
	d := newDriver(t)
	s, _ := startSandbox(t, d, "orphan")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d2, err := New(ctx, d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the old server's sandbox survived a new server's start")
	}
}
