package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"ecode/internal/cli"
	"ecode/internal/testserver"
)

// The log of a live autoscale deployment: the edge's line for a request,
// for people and as JSON lines, and -f printing a new one as it comes.
func TestLogs(t *testing.T) {
	t.Parallel()
	testserver.NeedSandbox(t)
	s, alice, sh := loggedIn(t)
	p := alice.CreateProject(t, "Api")
	seedFiles(t, alice, p.ID, map[string]string{
		"ecode.toml": "run = \"python3 -m http.server $PORT\"\n\n[deployment]\ntarget = \"autoscale\"\n",
	})
	var deployed struct{ Release struct{ ID string } }
	alice.Post(t, "/api/projects/"+p.ID+"/deployments", map[string]any{}).WantStatus(t, http.StatusAccepted).Decode(t, &deployed)
	// The release's log is a stream that ends with the release.
	alice.Get(t, "/api/projects/"+p.ID+"/releases/"+deployed.Release.ID+"/log").WantStatus(t, http.StatusOK)
	var state struct {
		Deployment *struct{ LiveReleaseID string }
	}
	alice.Get(t, "/api/projects/"+p.ID+"/deployment").WantStatus(t, http.StatusOK).Decode(t, &state)
	if state.Deployment == nil || state.Deployment.LiveReleaseID != deployed.Release.ID {
		t.Fatalf("the release did not go live: %+v", state.Deployment)
	}
	visit := func(path string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = p.Slug + "--alice.app.localhost"
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
	}
	visit("/ecode.toml?n=1")

	r := sh.run(t, "", "logs", "-p", "alice/api", "--source", "edge").want(t, 0, "GET /ecode.toml?n=1 200 ")
	var line string // time, source, instance, text
	for l := range strings.Lines(r.stdout) {
		if strings.Contains(l, "GET /ecode.toml?n=1 ") {
			line = l
		}
	}
	if f := strings.Fields(line); len(f) < 7 || f[2] != "edge" || f[3] == "-" || f[4] != "GET" {
		t.Fatalf("edge line %q", line)
	}

	r = sh.run(t, "", "logs", "-p", "alice/api", "--json", "--source", "edge", "-q", "N=1").want(t, 0)
	type logLine struct {
		Source   string
		Instance *string
		Text     string
	}
	var lines []logLine
	for l := range strings.Lines(r.stdout) {
		var v logLine
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("JSON line %q: %v", l, err)
		}
		lines = append(lines, v)
	}
	if len(lines) != 1 || lines[0].Source != "edge" || !strings.HasPrefix(lines[0].Text, "GET /ecode.toml?n=1 200 ") || lines[0].Instance == nil {
		t.Fatalf("--json -q: %s", r.stdout)
	}

	// -f: the last lines, then a new one as it comes, until Ctrl-C.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr liveOutput
	code := make(chan int, 1)
	go func() {
		code <- sh.runCtx(ctx, strings.NewReader(""), &stdout, &stderr, "logs", "-p", "alice/api", "-f", "--source", "edge")
	}()
	stdout.waitFor(t, "GET /ecode.toml?n=1 200 ", 10*time.Second)
	visit("/ecode.toml?n=2")
	stdout.waitFor(t, "GET /ecode.toml?n=2 200 ", 10*time.Second)
	cancel()
	wantExit(t, code, cli.ExitInterrupted, 10*time.Second, "logs -f did not end after Ctrl-C", &stderr)

	sh.run(t, "", "logs", "-p", "alice/api", "--source", "nope").want(t, cli.ExitUsage, "--source")
	sh.run(t, "", "logs", "-p", "alice/api", "-n", "0").want(t, cli.ExitUsage, "-n")
}
