package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"ecode/internal/cli"
	"ecode/internal/testserver"
)

// visitDeployment fetches the page at a deployment's address through the
// test server, which answers for every deploy host.
func visitDeployment(t *testing.T, s *testserver.Server, address string) string {
	t.Helper()
	u, err := url.Parse(address)
	if err != nil {
		t.Fatalf("deployment address %q: %v", address, err)
	}
	req, err := http.NewRequest(http.MethodGet, s.URL+u.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = u.Host
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", address, res.StatusCode, err, body)
	}
	return string(body)
}

// setDeployment writes the project's [deployment] settings over the API.
func setDeployment(t *testing.T, c *testserver.Client, projectID string, cfg map[string]any) {
	t.Helper()
	c.Put(t, "/api/projects/"+projectID+"/deployment/config", cfg).WantStatus(t, http.StatusOK)
}

// A static site deploys, its address serves the page; on a terminal the
// progress line is drawn in place, elsewhere the output is plain lines.
func TestDeployStatic(t *testing.T) {
	t.Parallel()
	testserver.NeedSandbox(t)
	s, alice, sh := loggedIn(t)
	p := alice.CreateProject(t, "Site")
	seedFiles(t, alice, p.ID, map[string]string{"index.html": "<h1>hello from the cli</h1>"})

	r := sh.run(t, "", "deploy", "-p", "alice/site").want(t, 0, "Release in place", "Release #1 is live")
	address := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(address, "http://site--alice.") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("stdout %q, want the deployment's address alone", r.stdout)
	}
	if strings.ContainsAny(r.stderr, "\r\x1b") {
		t.Fatalf("escape codes without a terminal: %q", r.stderr)
	}
	if body := visitDeployment(t, s, address); !strings.Contains(body, "hello from the cli") {
		t.Fatalf("the deployment serves %q", body)
	}

	// On a terminal: the release's progress, redrawn on one line.
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	screen := &liveOutput{}
	go io.Copy(screen, ptmx)
	var stdout strings.Builder
	if code := sh.runCtx(context.Background(), strings.NewReader(""), &stdout, tty, "deploy", "-p", "alice/site"); code != 0 {
		t.Fatalf("exit %d on a terminal", code)
	}
	screen.waitFor(t, "Release #2 is live", 10*time.Second)
	if out := screen.String(); !strings.Contains(out, "\r\x1b[K") || !strings.Contains(out, "release #2 ") {
		t.Fatalf("no progress line on the terminal: %q", out)
	}
	if strings.TrimSpace(stdout.String()) != address {
		t.Fatalf("stdout %q, want %s", stdout.String(), address)
	}
}

// A failing build exits with 1 and says why; --type changes the settings
// first, and the server's refusal of a type is printed as it is.
func TestDeployFailsAndType(t *testing.T) {
	t.Parallel()
	testserver.NeedSandbox(t)
	_, alice, sh := loggedIn(t)
	p := alice.CreateProject(t, "App")
	seedFiles(t, alice, p.ID, map[string]string{"ecode.toml": "run = \"python3 -m http.server $PORT\"\n"})
	setDeployment(t, alice, p.ID, map[string]any{"build": "echo boom && exit 3", "publicDir": "dist"})

	r := sh.run(t, "", "deploy", "-p", "alice/app", "--json").want(t, cli.ExitFailure, "boom", "release #1 failed", "exited with code 3")
	var out struct {
		Release struct{ Status, Error string }
		URL     string
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Release.Status != "failed" || !strings.Contains(out.Release.Error, "exited with code 3") {
		t.Fatalf("deploy --json: %v, %s", err, r.stdout)
	}

	sh.run(t, "", "deploy", "-p", "alice/app", "--type", "lambda").
		want(t, cli.ExitFailure, `ecode: invalid_deployment: [deployment] target: "lambda" is not a deployment type`)

	r = sh.run(t, "", "deploy", "-p", "alice/app", "--type", "autoscale", "--no-wait", "--json").want(t, 0)
	var rel struct{ ID, Status, Target string }
	if err := json.Unmarshal([]byte(r.stdout), &rel); err != nil || rel.Target != "autoscale" || (rel.Status != "queued" && rel.Status != "building") {
		t.Fatalf("deploy --no-wait: %v, %s", err, r.stdout)
	}
	var state struct {
		Config struct{ Target, Build, PublicDir string }
	}
	alice.Get(t, "/api/projects/"+p.ID+"/deployment").WantStatus(t, http.StatusOK).Decode(t, &state)
	if state.Config.Target != "autoscale" || state.Config.Build != "echo boom && exit 3" || state.Config.PublicDir != "dist" {
		t.Fatalf("settings after --type autoscale: %+v", state.Config)
	}
	// The release's log ends with it: nothing outlives the test.
	alice.Get(t, "/api/projects/"+p.ID+"/releases/"+rel.ID+"/log").WantStatus(t, http.StatusOK)
}

// Ctrl-C while the release builds cancels it.
func TestDeployCancelled(t *testing.T) {
	t.Parallel()
	testserver.NeedSandbox(t)
	_, alice, sh := loggedIn(t)
	p := alice.CreateProject(t, "Slow")
	seedFiles(t, alice, p.ID, map[string]string{"index.html": "slow"})
	setDeployment(t, alice, p.ID, map[string]any{"build": "echo started building && sleep 120", "publicDir": "dist"})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &liveOutput{}
	done := make(chan int, 1)
	go func() {
		done <- sh.runCtx(ctx, strings.NewReader(""), io.Discard, stderr, "deploy", "-p", "alice/slow")
	}()
	stderr.waitFor(t, "started building", time.Minute)
	cancel()
	wantExit(t, done, cli.ExitInterrupted, time.Minute, "deploy did not end after Ctrl-C", stderr)
	if !strings.Contains(stderr.String(), "Cancelled.") {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
	var state struct {
		Deployment *struct{}
		Releases   []struct{ Status, Error string }
	}
	alice.Get(t, "/api/projects/"+p.ID+"/deployment").WantStatus(t, http.StatusOK).Decode(t, &state)
	if state.Deployment != nil || len(state.Releases) != 1 || state.Releases[0].Status != "failed" || !strings.Contains(state.Releases[0].Error, "Cancelled by alice") {
		t.Fatalf("after Ctrl-C: %+v", state)
	}
}
