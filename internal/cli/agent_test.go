package cli_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ecode/internal/agent/agenttest"
	"ecode/internal/cli"
	"ecode/internal/testserver"
)

// withModel is a server option: the agent talks to a scripted model.
func withModel(t *testing.T, scripts ...agenttest.Script) testserver.Option {
	model := httptest.NewServer(&agenttest.Model{Scripts: scripts})
	t.Cleanup(model.Close)
	return testserver.WithAI(model.URL)
}

// The agent writes a file and finishes: its steps stream as they happen,
// then the summary and tokens; --json gives the same as JSON lines.
func TestAgent(t *testing.T) {
	t.Parallel()
	_, alice, sh := loggedIn(t, withModel(t, agenttest.Script{Match: "hello.txt", Turns: []agenttest.Turn{
		{Text: "I will write the file.", Tools: []agenttest.ToolCall{{Name: "write_file", Input: map[string]any{"path": "hello.txt", "content": "hello\n"}}}},
		{Tools: []agenttest.ToolCall{{Name: "finish", Input: map[string]any{"summary": "hello.txt says hello.", "features": []any{"A greeting"}}}}},
	}}))
	p := alice.CreateProject(t, "Greeter")

	r := sh.run(t, "", "agent", "-p", "alice/greeter", "make hello.txt").want(t, 0,
		"I will write the file.", "✓ write_file hello.txt (", "Done: hello.txt says hello.", "  - A greeting", "Tokens: ")
	if strings.Count(r.stdout, "write_file") != 1 || strings.Index(r.stdout, "write_file") > strings.Index(r.stdout, "Done:") {
		t.Fatalf("steps not once each, in order:\n%s", r.stdout)
	}
	if got := alice.Get(t, "/api/projects/"+p.ID+"/files/hello.txt").WantStatus(t, http.StatusOK).Body; string(got) != "hello\n" {
		t.Fatalf("hello.txt holds %q", got)
	}

	r = sh.run(t, "", "agent", "-p", "alice/greeter", "make hello.txt again", "--json").want(t, 0)
	var wrote, ended bool
	for line := range strings.Lines(r.stdout) {
		var e struct {
			Kind string
			Step *struct{ Tool, Status string }
			Run  *struct {
				Status, Summary string
				Steps           []json.RawMessage
			}
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("JSON line %q: %v", line, err)
		}
		wrote = wrote || e.Kind == "step" && e.Step.Tool == "write_file" && e.Step.Status == "ok"
		ended = e.Kind == "end" && e.Run.Status == "done" && e.Run.Summary == "hello.txt says hello." && len(e.Run.Steps) > 0
	}
	if !wrote || !ended {
		t.Fatalf("--json lines (wrote %v, ended %v):\n%s", wrote, ended, r.stdout)
	}
}

func TestAgentNotConfigured(t *testing.T) {
	t.Parallel()
	_, alice, sh := loggedIn(t)
	alice.CreateProject(t, "Plain")
	sh.run(t, "", "agent", "-p", "alice/plain", "build a blog").want(t, cli.ExitFailure, "ecode: ai_not_configured: No AI model is set up")
	sh.run(t, "", "agent", "-p", "alice/plain").want(t, cli.ExitUsage)
}

// Ctrl-C stops the agent on the server too.
func TestAgentStopped(t *testing.T) {
	t.Parallel()
	testserver.NeedSandbox(t)
	_, alice, sh := loggedIn(t, withModel(t, agenttest.Script{Match: "slow", Turns: []agenttest.Turn{
		{Text: "Working…", Tools: []agenttest.ToolCall{{Name: "run_command", Input: map[string]any{"command": "sleep 60", "timeout_sec": 300}}}},
	}}))
	p := alice.CreateProject(t, "Slow")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr liveOutput
	code := make(chan int, 1)
	go func() {
		code <- sh.runCtx(ctx, strings.NewReader(""), &stdout, &stderr, "agent", "-p", "alice/slow", "something slow", "--json")
	}()
	stdout.waitFor(t, `"tool":"run_command"`, 30*time.Second) // its step, running
	cancel()
	wantExit(t, code, cli.ExitInterrupted, 30*time.Second, "ecode agent did not end after Ctrl-C", &stderr)
	if !strings.HasSuffix(stderr.String(), "Stopped.\n") {
		t.Fatalf("stderr: %s", stderr.String())
	}
	var runs struct{ Runs []struct{ Status string } }
	alice.Get(t, "/api/projects/"+p.ID+"/agent/runs").WantStatus(t, http.StatusOK).Decode(t, &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].Status != "stopped" {
		t.Fatalf("agent runs on the server: %+v", runs.Runs)
	}
}
