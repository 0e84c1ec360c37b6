package agent_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"ecode/internal/agent/agenttest"
	"ecode/internal/events"
	"ecode/internal/project"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// The test binary is also the sandbox agent, as the ecode binary is.
func TestMain(m *testing.M) { testserver.Main(m) }

type runView struct {
	ID, Status, Summary, NeedsInput, Prompt string
	Features                                []string
	Error                                   *struct {
		Code, Message string
		Retryable     bool
	}
	Steps []struct {
		N, DurationMs            int64
		Kind, Text, Tool, Status string
		Output, Checkpoint       string
		Input                    map[string]any
		Files                    []struct{ Path, Change, Diff string }
	}
	TokensIn, TokensOut int64
	NoProgress          bool
	Checkpoints         []struct {
		Hash, Message string
		Step          int
	}
}

// model starts a scripted model server and returns the option that
// points the platform at it.
func model(t testing.TB, scripts ...agenttest.Script) (*agenttest.Model, testserver.Option) {
	t.Helper()
	m := &agenttest.Model{Scripts: scripts, Completion: agenttest.Completion}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return m, testserver.WithAI(srv.URL)
}

func startAgent(t testing.TB, c *testserver.Client, projectID, prompt string) runView {
	t.Helper()
	var out struct{ Run runView }
	c.Post(t, "/api/projects/"+projectID+"/agent/runs", map[string]string{"prompt": prompt}).WantStatus(t, 202).Decode(t, &out)
	if out.Run.ID == "" || out.Run.Status != "running" {
		t.Fatalf("started run = %+v", out.Run)
	}
	return out.Run
}

func waitAgent(t testing.TB, c *testserver.Client, projectID, runID string) runView {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var out struct{ Run runView }
		c.Get(t, "/api/projects/"+projectID+"/agent/runs/"+runID).WantStatus(t, 200).Decode(t, &out)
		if out.Run.Status != "running" {
			return out.Run
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent still running: %+v", out.Run)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// previewGet fetches a public project's preview through the platform.
func previewGet(t testing.TB, s *testserver.Server, owner, slug, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	u, _ := url.Parse(s.URL)
	req.Host = slug + "--" + owner + ".localhost:" + u.Port()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res.StatusCode, b.String()
}

func publicProject(t testing.TB, c *testserver.Client, name string) testserver.Project {
	t.Helper()
	var out struct{ Project testserver.Project }
	c.Post(t, "/api/projects", map[string]string{"name": name, "visibility": "public"}).WantStatus(t, 201).Decode(t, &out)
	return out.Project
}

// buildsApp runs a script that builds an app, then checks the files, the
// preview, the checkpoints, rollback and its undo.
func buildsApp(t *testing.T, script agenttest.Script, prompt string, files []string, path, want string) {
	m, ai := model(t, script)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		amy := s.SignUp(t, "amy")
		p := publicProject(t, amy, "App")
		base := "/api/projects/" + p.ID
		amy.Put(t, base+"/files/ECODE.md", "Use plain Node.js; keep it small.").WantStatus(t, 204)
		r := waitAgent(t, amy, p.ID, startAgent(t, amy, p.ID, prompt).ID)
		if r.Status != "done" || r.Error != nil || r.NoProgress {
			t.Fatalf("run = %+v", r)
		}
		if r.Summary == "" || len(r.Features) == 0 || r.TokensIn == 0 || r.TokensOut == 0 {
			t.Fatalf("summary %q features %v tokens %d/%d", r.Summary, r.Features, r.TokensIn, r.TokensOut)
		}
		for _, f := range files {
			amy.Get(t, base+"/files/"+f).WantStatus(t, 200)
		}
		if code, body := previewGet(t, s, "amy", p.Slug, path); code != 200 || !strings.Contains(body, want) {
			t.Fatalf("preview %s = %d %q", path, code, body)
		}
		var sawWrite, sawDiff bool
		for _, st := range r.Steps {
			if st.Tool == "write_file" && st.Status == "ok" {
				sawWrite = true
			}
			for _, f := range st.Files {
				if f.Change == "created" && strings.Contains(f.Diff, "+") {
					sawDiff = true
				}
			}
			if st.Kind == "tool" && st.Tool == "start_app" && st.Status != "ok" {
				t.Errorf("start_app step: %+v", st)
			}
		}
		if !sawWrite || !sawDiff {
			t.Fatalf("steps have no write with a diff: %+v", r.Steps)
		}
		// The model saw the project's instructions.
		if first := m.Requests()[0].Messages[0].Text(); !strings.Contains(first, "keep it small") || !strings.Contains(first, prompt) {
			t.Fatalf("first message: %q", first)
		}

		// Checkpoints: before, and after each step that changed files.
		if len(r.Checkpoints) < 2 || r.Checkpoints[0].Step != 0 {
			t.Fatalf("checkpoints = %+v", r.Checkpoints)
		}
		amy.Post(t, base+"/restore", map[string]string{"checkpoint": r.Checkpoints[0].Hash}).WantStatus(t, 200)
		amy.Get(t, base+"/files/"+files[0]).WantError(t, 404, "not_found")
		// Undo: restore the agent's last checkpoint, where the project was.
		amy.Post(t, base+"/restore", map[string]string{"checkpoint": r.Checkpoints[len(r.Checkpoints)-1].Hash}).WantStatus(t, 200)
		amy.Get(t, base+"/files/"+files[0]).WantStatus(t, 200)

		var usage struct {
			Usage []struct {
				Kind               string
				TokensIn, Requests int64
			}
		}
		amy.Get(t, "/api/user/ai-usage").WantStatus(t, 200).Decode(t, &usage)
		if len(usage.Usage) != 1 || usage.Usage[0].Kind != "agent" || usage.Usage[0].TokensIn != r.TokensIn || usage.Usage[0].Requests < 3 {
			t.Fatalf("usage = %+v (run %d)", usage.Usage, r.TokensIn)
		}
	}, ai)
}

func TestAgentBuildsHelloPage(t *testing.T) {
	testserver.NeedSandbox(t)
	buildsApp(t, agenttest.HelloPage, "Build a hello page", []string{"server.js", "ecode.toml"}, "/", "Hello from the agent")
}

// The issue's own example: an Express API, installed from the npm registry.
func TestAgentBuildsExpressTodoAPI(t *testing.T) {
	testserver.NeedSandbox(t)
	if testing.Short() {
		t.Skip("installs from the npm registry")
	}
	buildsApp(t, agenttest.ExpressTodo, "build an Express todo API", []string{"index.js", "package.json", "package-lock.json"}, "/api/todos", `"title":"Try E-Code"`)
}

func TestAgentLoopGuard(t *testing.T) {
	testserver.NeedSandbox(t)
	failing := agenttest.Turn{Text: "Let me run the tests.", Tools: []agenttest.ToolCall{{Name: "run_command", Input: map[string]any{"command": "echo 'no tests yet' >&2; exit 1"}}}}
	_, ai := model(t, agenttest.Script{Match: "tests", Turns: []agenttest.Turn{failing, failing, failing, failing, failing}})
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		bo := s.SignUp(t, "bob")
		p := bo.CreateProject(t, "Loop")
		r := waitAgent(t, bo, p.ID, startAgent(t, bo, p.ID, "make the tests pass").ID)
		tools := 0
		for _, st := range r.Steps {
			if st.Kind == "tool" {
				tools++
				if st.Status != "error" || !strings.Contains(st.Output, "exit code 1") || !strings.Contains(st.Output, "no tests yet") {
					t.Errorf("step %+v", st)
				}
			}
		}
		if r.Status != "needs_input" || tools != 3 || !strings.Contains(r.NeedsInput, "3 times") || !r.NoProgress {
			t.Fatalf("run = %s, %d tool steps, asks %q", r.Status, tools, r.NeedsInput)
		}
	}, ai)
}

func TestAgentStop(t *testing.T) {
	testserver.NeedSandbox(t)
	_, ai := model(t, agenttest.Script{Match: "slow", Turns: []agenttest.Turn{{Text: "Working…", Tools: []agenttest.ToolCall{{Name: "run_command", Input: map[string]any{"command": "sleep 60", "timeout_sec": 300}}}}}})
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		cy := s.SignUp(t, "cyd")
		p := cy.CreateProject(t, "Slow")
		r := startAgent(t, cy, p.ID, "something slow")
		cy.Post(t, "/api/projects/"+p.ID+"/agent/runs", map[string]string{"prompt": "another"}).WantError(t, 409, "agent_busy")
		// Wait until the command runs, then stop it.
		deadline := time.Now().Add(30 * time.Second)
		for {
			var out struct{ Run runView }
			cy.Get(t, "/api/projects/"+p.ID+"/agent/runs/"+r.ID).Decode(t, &out)
			if len(out.Run.Steps) > 0 && out.Run.Steps[len(out.Run.Steps)-1].Tool == "run_command" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the command never started: %+v", out.Run)
			}
			time.Sleep(20 * time.Millisecond)
		}
		start := time.Now()
		cy.Post(t, "/api/projects/"+p.ID+"/agent/runs/"+r.ID+"/stop", nil).WantStatus(t, 204)
		got := waitAgent(t, cy, p.ID, r.ID)
		if got.Status != "stopped" || time.Since(start) > 10*time.Second {
			t.Fatalf("after stop: %s after %s", got.Status, time.Since(start))
		}
		if last := got.Steps[len(got.Steps)-1]; last.Status == "running" {
			t.Fatalf("a step still runs: %+v", last)
		}
		// The project is free for the next run.
		cy.Post(t, "/api/projects/"+p.ID+"/agent/runs", map[string]string{"prompt": "hello"}).WantStatus(t, 202)
	}, ai)
}

// A run stops when another server of the cluster comes to hold its
// project (or it is deleted): it must not go on here.
func TestAgentLetsGo(t *testing.T) {
	testserver.NeedSandbox(t)
	_, ai := model(t, agenttest.Script{Match: "slow", Turns: []agenttest.Turn{{Text: "Working…", Tools: []agenttest.ToolCall{{Name: "run_command", Input: map[string]any{"command": "sleep 60", "timeout_sec": 300}}}}}})
	s := testserver.New(t, testdb.Engines(t)[0], ai)
	ed := s.SignUp(t, "eda")
	p := ed.CreateProject(t, "Moved")
	r := startAgent(t, ed, p.ID, "something slow")
	start := time.Now()
	events.Publish(t.Context(), s.App.Bus, project.HandedOver{ProjectID: p.ID})
	if got := waitAgent(t, ed, p.ID, r.ID); got.Status != "stopped" || time.Since(start) > 10*time.Second {
		t.Fatalf("after the handover: %s after %s", got.Status, time.Since(start))
	}
}

func TestAgentProviderErrors(t *testing.T) {
	fail := func(match string, f agenttest.Failure) agenttest.Script {
		return agenttest.Script{Match: match, Turns: []agenttest.Turn{{Text: "Starting to build the thing", Fail: &f}}}
	}
	_, ai := model(t,
		fail("rate", agenttest.Failure{Status: 429, Type: "rate_limit_error", Message: "slow down"}),
		fail("internal", agenttest.Failure{Status: 500, Type: "api_error", Message: "boom"}),
		fail("busy", agenttest.Failure{Status: 529, Type: "overloaded_error", Message: "Overloaded"}),
		fail("midway", agenttest.Failure{MidStream: true, Type: "overloaded_error", Message: "Overloaded"}),
		fail("garbled", agenttest.Failure{Malformed: true}),
	)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		di := s.SignUp(t, "dia")
		p := di.CreateProject(t, "Errors")
		for prompt, code := range map[string]string{
			"rate": "ai_rate_limited", "internal": "ai_unavailable", "busy": "ai_overloaded", "midway": "ai_overloaded", "garbled": "ai_stream_failed",
		} {
			r := waitAgent(t, di, p.ID, startAgent(t, di, p.ID, prompt).ID)
			if r.Status != "failed" || r.Error == nil || r.Error.Code != code || !r.Error.Retryable || r.Error.Message == "" {
				t.Errorf("%s: %s %+v", prompt, r.Status, r.Error)
			}
		}
		di.Get(t, "/api/monitoring/health").WantStatus(t, 200)
	}, ai)
}

func TestAgentStreamsOverTheWorkspaceSocket(t *testing.T) {
	testserver.NeedSandbox(t)
	_, ai := model(t, agenttest.HelloPage)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ed := s.SignUp(t, "eda")
		p := ed.CreateProject(t, "Live")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/api/projects/"+p.ID+"/ws",
			&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {ed.CookieHeader(t)}}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		conn.Write(ctx, websocket.MessageText, []byte(`{"type":"agent.subscribe"}`))
		type message struct {
			Type  string
			Agent struct {
				Kind, Delta, RunID string
				Run                *runView
				Step               *struct{ Tool, Status string }
			}
		}
		read := func() message {
			_, b, err := conn.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var m message
			json.Unmarshal(b, &m)
			return m
		}
		m := read()
		for m.Type != "agent.snapshot" { // presence comes first
			m = read()
		}
		if m.Agent.Run != nil {
			t.Fatalf("snapshot %+v", m)
		}
		startAgent(t, ed, p.ID, "Build a hello page")
		var text strings.Builder
		var tools []string
		for {
			m := read()
			if m.Type != "agent.event" {
				continue
			}
			switch a := m.Agent; a.Kind {
			case "text":
				text.WriteString(a.Delta)
			case "step":
				if a.Step.Status == "ok" {
					tools = append(tools, a.Step.Tool)
				}
			case "run":
				if a.Run.Status == "done" {
					if !strings.Contains(text.String(), "I'll write a small Node.js server that serves the page. 👋") {
						t.Fatalf("streamed text %q", text.String())
					}
					if strings.Join(tools, ",") != "write_file,write_file,start_app,check_app,finish" {
						t.Fatalf("tools streamed: %v", tools)
					}
					return
				}
			}
		}
	}, ai)
}

func TestAgentNotConfigured(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		fay := s.SignUp(t, "fay")
		p := fay.CreateProject(t, "No AI")
		var st struct{ Configured bool }
		fay.Get(t, "/api/ai/status").WantStatus(t, 200).Decode(t, &st)
		if st.Configured {
			t.Fatal("configured without a key")
		}
		res := fay.Post(t, "/api/projects/"+p.ID+"/agent/runs", map[string]string{"prompt": "hi"}).WantError(t, 503, "ai_not_configured")
		// The message names the settings of both kinds of model server.
		for _, setting := range []string{"ECODE_ANTHROPIC_API_KEY", "ECODE_OPENAI_BASE_URL", "ECODE_OPENAI_API_KEY", "ECODE_AI_MODEL"} {
			if !strings.Contains(string(res.Body), setting) {
				t.Errorf("the not-configured message %s does not name %s", res.Body, setting)
			}
		}
		fay.Post(t, "/api/projects/"+p.ID+"/complete", map[string]string{"path": "a.js", "prefix": "x", "suffix": ""}).WantError(t, 503, "ai_not_configured")
	})
}

func TestCompletion(t *testing.T) {
	m, ai := model(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		gus := s.SignUp(t, "gus")
		p := gus.CreateProject(t, "Complete")
		var out struct{ Completion string }
		gus.Post(t, "/api/projects/"+p.ID+"/complete", map[string]string{"path": "src/app.js", "prefix": "function hi() {\n  ", "suffix": "\n}\n"}).
			WantStatus(t, 200).Decode(t, &out)
		if out.Completion != agenttest.Completion {
			t.Fatalf("completion = %q", out.Completion)
		}
		last := m.Requests()[len(m.Requests())-1]
		if len(last.Tools) != 0 || !strings.Contains(last.Messages[0].Text(), "<path>src/app.js</path>") || last.APIKey != "test-key" {
			t.Fatalf("completion request = %+v", last)
		}
		gus.Post(t, "/api/projects/"+p.ID+"/complete", map[string]string{"path": "../x", "prefix": "", "suffix": ""}).WantError(t, 400, "invalid_path")
		s.SignUp(t, "hal").Post(t, "/api/projects/"+p.ID+"/complete", map[string]string{"path": "a.js"}).WantError(t, 404, "not_found")
		gus.Post(t, "/api/projects/"+p.ID+"/agent/runs", map[string]string{"prompt": "  "}).WantError(t, 400, "invalid_prompt")
	}, ai)
}

// The same agent through an OpenAI-compatible Chat Completions server
// (Ollama, vLLM, OpenRouter): tool calls, streaming, errors, completions.
func TestAgentOpenAICompatible(t *testing.T) {
	testserver.NeedSandbox(t)
	m := &agenttest.Model{Scripts: []agenttest.Script{agenttest.HelloPage,
		{Match: "busy", Turns: []agenttest.Turn{{Fail: &agenttest.Failure{Status: 429, Type: "rate_limit_error", Message: "slow down"}}}},
	}, Completion: agenttest.Completion}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ida := s.SignUp(t, "ida")
		var st struct {
			Configured      bool
			Model, Provider string
		}
		ida.Get(t, "/api/ai/status").Decode(t, &st)
		if !st.Configured || st.Provider != "openai" || st.Model != "qwen-coder" {
			t.Fatalf("status = %+v", st)
		}
		p := publicProject(t, ida, "Chat")
		r := waitAgent(t, ida, p.ID, startAgent(t, ida, p.ID, "Build a hello page").ID)
		if r.Status != "done" || len(r.Features) != 2 || r.TokensIn == 0 || !strings.Contains(r.Steps[0].Text, "👋") {
			t.Fatalf("run = %+v, error %+v", r, r.Error)
		}
		if code, body := previewGet(t, s, "ida", p.Slug, "/"); code != 200 || !strings.Contains(body, "Hello from the agent") {
			t.Fatalf("preview = %d %q", code, body)
		}
		busy := waitAgent(t, ida, p.ID, startAgent(t, ida, p.ID, "busy").ID)
		if busy.Status != "failed" || busy.Error == nil || busy.Error.Code != "ai_rate_limited" {
			t.Fatalf("rate limited run = %+v", busy)
		}
		var out struct{ Completion string }
		ida.Post(t, "/api/projects/"+p.ID+"/complete", map[string]string{"path": "a.js", "prefix": "x", "suffix": ""}).WantStatus(t, 200).Decode(t, &out)
		if out.Completion != agenttest.Completion {
			t.Fatalf("completion = %q", out.Completion)
		}
		// The conversation went back with the tool calls' results.
		var sawResult bool
		for _, req := range m.Requests() {
			for _, msg := range req.Messages {
				if msg.Role == "tool" && strings.Contains(msg.Text(), "Wrote server.js") {
					sawResult = true
				}
			}
		}
		if !sawResult {
			t.Fatal("no tool result reached the model")
		}
	}, testserver.WithOpenAI(srv.URL+"/v1/", "qwen-coder"))
}

// The agent gives the project a database when its app must keep data,
// makes its tables with psql, and is told about it on its next run.
func TestAgentDatabase(t *testing.T) {
	testserver.NeedSandbox(t)
	m, ai := model(t, agenttest.Script{Match: "notes app", Turns: []agenttest.Turn{
		{Text: "The notes need a database.", Tools: []agenttest.ToolCall{{Name: "create_database", Input: map[string]any{}}}},
		{Tools: []agenttest.ToolCall{{Name: "run_command", Input: map[string]any{"command": `psql -q -c "CREATE TABLE notes (id serial PRIMARY KEY, body text)" && psql -tAc "SELECT count(*) FROM information_schema.tables WHERE table_name = 'notes'"`}}}},
		{Tools: []agenttest.ToolCall{{Name: "finish", Input: map[string]any{"summary": "A notes table is ready."}}}},
	}})
	s := testserver.New(t, testdb.Engines(t)[0], ai)
	cy := s.SignUp(t, "cyd")
	p := cy.CreateProject(t, "Notes")
	r := waitAgent(t, cy, p.ID, startAgent(t, cy, p.ID, "build a notes app").ID)
	var outputs []string
	for _, st := range r.Steps {
		if st.Kind == "tool" {
			outputs = append(outputs, st.Tool+": "+st.Output)
		}
	}
	if r.Status != "done" || len(outputs) < 2 || !strings.Contains(outputs[0], "p_"+p.ID+"_dev") || !strings.HasSuffix(strings.TrimSpace(outputs[1]), "1") {
		t.Fatalf("run %s: %q", r.Status, outputs)
	}
	first := func(req agenttest.Request) string {
		var b strings.Builder
		for _, blk := range req.Messages[0].Content {
			b.WriteString(blk.Text)
		}
		return b.String()
	}
	if reqs := m.Requests(); !strings.Contains(first(reqs[0]), "no database yet") {
		t.Fatalf("first run not told it has no database: %s", first(reqs[0]))
	}
	again := waitAgent(t, cy, p.ID, startAgent(t, cy, p.ID, "build a notes app again").ID)
	reqs := m.Requests()
	if last := first(reqs[len(reqs)-1]); !strings.Contains(last, "has a PostgreSQL database") {
		t.Fatalf("second run not told of its database: %s", last)
	}
	// The checkpoint before a run keeps the data when there is any: not
	// before the first run, before the second.
	var snaps struct {
		Snapshots []struct {
			Commit, Reason string
			Database       bool
		}
	}
	cy.Get(t, "/api/projects/"+p.ID+"/snapshots").WantStatus(t, 200).Decode(t, &snaps)
	if got := snaps.Snapshots; len(got) != 1 || got[0].Reason != "agent" || !got[0].Database || got[0].Commit != again.Checkpoints[0].Hash {
		t.Fatalf("data snapshots %+v, want one of checkpoint %s", got, again.Checkpoints[0].Hash)
	}
}
