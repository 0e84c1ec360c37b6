package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"ecode/internal/cli"
	"ecode/internal/testserver"
)

// liveOutput is a command's output, read and waited on while it runs.
type liveOutput struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed at the next write
}

func (o *liveOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
	return len(p), nil
}

func (o *liveOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// wait reports whether the output holds want within d.
func (o *liveOutput) wait(want string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		o.mu.Lock()
		if strings.Contains(o.buf.String(), want) {
			o.mu.Unlock()
			return true
		}
		if o.changed == nil {
			o.changed = make(chan struct{})
		}
		changed := o.changed
		o.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			return false
		}
	}
}

// waitFor fails the test unless the output holds want within d.
func (o *liveOutput) waitFor(t *testing.T, want string, d time.Duration) {
	t.Helper()
	if !o.wait(want, d) {
		t.Fatalf("no %q within %s; output so far:\n%s", want, d, o.String())
	}
}

// seedFiles writes files into project id.
func seedFiles(t *testing.T, c *testserver.Client, id string, files map[string]string) {
	t.Helper()
	for path, body := range files {
		c.Put(t, "/api/projects/"+id+"/files/"+path, body).WantStatus(t, http.StatusNoContent)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	testserver.NeedSandbox(t)
	_, alice, sh := loggedIn(t)
	p := alice.CreateProject(t, "Script")
	seedFiles(t, alice, p.ID, map[string]string{"ecode.toml": "run = \"echo first line; echo second line; exit 3\"\n"})

	r := sh.run(t, "", "run", "-p", "alice/script").want(t, 3, "first line", "second line")
	if strings.Contains(r.stderr, "first line") {
		t.Fatalf("the output went to stderr: %q", r.stderr)
	}

	// --json: the output on stderr, the run's object on stdout.
	r = sh.run(t, "", "run", "-p", "alice/script", "--json").want(t, 3)
	var v struct {
		ID, Status string
		ExitCode   *int
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.ID == "" || v.Status != "crashed" || v.ExitCode == nil || *v.ExitCode != 3 {
		t.Fatalf("run --json: %v, %s", err, r.stdout)
	}
	if !strings.Contains(r.stderr, "second line") {
		t.Fatalf("--json stderr lacks the output: %q", r.stderr)
	}
	sh.run(t, "", "run", "-p", "alice/nothing").want(t, cli.ExitNotFound, "not_found")
}

// Ctrl-C stops a long run on the server too; its preview address was
// printed once it listened.
func TestRunStopped(t *testing.T) {
	t.Parallel()
	testserver.NeedSandbox(t)
	_, alice, sh := loggedIn(t)
	p := alice.CreateProject(t, "Server")
	seedFiles(t, alice, p.ID, map[string]string{
		"ecode.toml": "run = \"python3 -u server.py\"\n",
		"server.py": `import http.server, os, threading, time
srv = http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), http.server.SimpleHTTPRequestHandler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
while True:
    print("tick", flush=True)
    time.sleep(0.2)
`,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr liveOutput
	code := make(chan int, 1)
	go func() { code <- sh.runCtx(ctx, strings.NewReader(""), &stdout, &stderr, "run", "-p", "alice/server") }()
	stdout.waitFor(t, "tick", 60*time.Second)
	stderr.waitFor(t, "Preview: http://", 30*time.Second)
	cancel()
	wantExit(t, code, cli.ExitInterrupted, 30*time.Second, "ecode run did not end after Ctrl-C", &stderr)
	if got := stderr.String(); strings.Count(got, "Preview: ") != 1 || !strings.HasSuffix(got, "Stopped.\n") {
		t.Fatalf("stderr: %q", got)
	}
	var runs struct {
		Runs []struct{ Status string }
	}
	alice.Get(t, "/api/projects/"+p.ID+"/runs").WantStatus(t, http.StatusOK).Decode(t, &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].Status != "stopped" {
		t.Fatalf("runs on the server: %+v", runs.Runs)
	}
}

func TestRunShellLogsAgentHelp(t *testing.T) {
	t.Parallel()
	sh := newShell(t)
	for _, cmd := range []string{"run", "shell", "logs", "agent"} {
		sh.run(t, "", cmd, "--help").want(t, 0, "Examples:", "-p, --project")
	}
	sh.run(t, "", "run", "extra").want(t, cli.ExitUsage, "too many arguments")
}
