package agent_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ecode/internal/agent"
	"ecode/internal/agent/agenttest"
	"ecode/internal/auth"
	"ecode/internal/billing"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/projectdb"
	"ecode/internal/snapshot"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// credits is billing as the agent sees it from outside: it keeps what it
// is told and refuses when asked to.
type credits struct {
	mu            sync.Mutex
	usage         []billing.Usage
	reserved      []string
	settled       map[string][]bool
	refuseReserve error
	refuseWithin  error
}

func (c *credits) Record(_ context.Context, us ...billing.Usage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.usage = append(c.usage, us...)
	return nil
}

func (c *credits) Reserve(_ context.Context, projectID, userID, key string, estimate int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refuseReserve != nil {
		return c.refuseReserve
	}
	if projectID == "" || userID == "" || estimate <= 0 {
		return fmt.Errorf("reserve %s: project %q, person %q, estimate %d", key, projectID, userID, estimate)
	}
	c.reserved = append(c.reserved, key)
	return nil
}

func (c *credits) Within(context.Context, string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refuseWithin
}

func (c *credits) Settle(_ context.Context, key string, charge bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settled[key] = append(c.settled[key], charge)
	return nil
}

// settlement waits for key's hold to be settled and returns how.
func (c *credits) settlement(t *testing.T, key string) []bool {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.mu.Lock()
		got := append([]bool(nil), c.settled[key]...)
		c.mu.Unlock()
		if len(got) > 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("hold %s never settled", key)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *credits) usageOf(prefix string) []billing.Usage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []billing.Usage
	for _, u := range c.usage {
		if strings.HasPrefix(u.Key, prefix) {
			out = append(out, u)
		}
	}
	return out
}

// The agent's outside that these tests do not look at: no databases, no
// data to snapshot.
type noDatabases struct{}

func (noDatabases) Create(context.Context, *auth.User, string, string) (projectdb.Info, error) {
	return projectdb.Info{}, errs.Unavailable("no_databases", "No databases in this test.")
}
func (noDatabases) Has(context.Context, string, string) (bool, error) { return false, nil }

type noSnapshots struct{}

func (noSnapshots) TakeIfData(context.Context, string, string, string, string, string) (snapshot.Snapshot, bool, error) {
	return snapshot.Snapshot{}, false, nil
}

// meteredAgent is an agent over the test server's projects and runs,
// talking to a scripted model and metered into c.
type meteredAgent struct {
	svc   *agent.Service
	s     *testserver.Server
	amy   *auth.User
	p     testserver.Project
	model string
}

func newMeteredAgent(t *testing.T, c *credits, scripts ...agenttest.Script) *meteredAgent {
	t.Helper()
	m := &agenttest.Model{Scripts: scripts, Completion: "return 42"}
	ms := httptest.NewServer(m)
	t.Cleanup(ms.Close)
	s := testserver.New(t, testdb.Engines(t)[0])
	client := s.SignUp(t, "amy")
	p := client.CreateProject(t, "Agent")
	amy, err := s.App.Auth.UserByUsername(t.Context(), "amy")
	if err != nil {
		t.Fatal(err)
	}
	life, cancel := context.WithCancel(context.Background())
	svc := agent.NewService(life, s.App.DB, s.App.Projects, s.App.Runs, noDatabases{}, noSnapshots{},
		agent.Config{BaseURL: ms.URL, APIKey: "test-key", Meter: c}, agent.DefaultBudgets)
	t.Cleanup(func() {
		cancel()
		svc.Wait()
	})
	return &meteredAgent{svc: svc, s: s, amy: amy, p: p, model: svc.Status().Model}
}

func (a *meteredAgent) run(t *testing.T, prompt string) *agent.Run {
	t.Helper()
	r, err := a.svc.Start(t.Context(), a.amy, a.p.ID, prompt)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := a.svc.Get(t.Context(), a.amy, a.p.ID, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != agent.StatusRunning {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent still running: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantTurns checks that every model call of run r was recorded against
// its hold, under keys of its own, and returns how many calls there were.
func (a *meteredAgent) wantTurns(t *testing.T, c *credits, r *agent.Run) int {
	t.Helper()
	us := c.usageOf("agent:" + r.ID + ":")
	seen := map[string]bool{}
	var in, out int64
	for _, u := range us {
		if seen[u.Key] || u.Hold != "agent:"+r.ID || u.Attr != a.model || u.ProjectID != a.p.ID || u.UserID != a.amy.ID || u.Quantity <= 0 {
			t.Fatalf("usage %+v of run %s", u, r.ID)
		}
		seen[u.Key] = true
		switch u.Meter {
		case billing.MeterAIIn:
			in += u.Quantity
		case billing.MeterAIOut:
			out += u.Quantity
		}
	}
	if in != r.TokensIn || out != r.TokensOut || in == 0 {
		t.Fatalf("recorded %d in / %d out, the run counted %d / %d", in, out, r.TokensIn, r.TokensOut)
	}
	return len(us) / 2
}

// TestAgentNoProgressNotCharged: a run the loop guard stops without a
// change is metered per model call against its hold, and the hold is
// settled without charge.
func TestAgentNoProgressNotCharged(t *testing.T) {
	testserver.NeedSandbox(t)
	failing := agenttest.Turn{Text: "Let me run the tests.", Tools: []agenttest.ToolCall{{Name: "run_command", Input: map[string]any{"command": "exit 1"}}}}
	c := &credits{settled: map[string][]bool{}}
	a := newMeteredAgent(t, c, agenttest.Script{Match: "tests", Turns: []agenttest.Turn{failing, failing, failing, failing}})
	r := a.run(t, "make the tests pass")
	if r.Status != agent.StatusNeedsInput || !r.NoProgress {
		t.Fatalf("run = %s, no progress %v: want the loop guard's stop", r.Status, r.NoProgress)
	}
	if n := a.wantTurns(t, c, r); n != 3 {
		t.Fatalf("%d model calls metered, want 3", n)
	}
	if got := c.settlement(t, "agent:"+r.ID); len(got) != 1 || got[0] {
		t.Fatalf("settled %v, want once without charge", got)
	}
}

// TestAgentCredits: a run is charged when it ends of itself, even with
// nothing changed; it does not start without credits (402), and stops
// when it runs out mid-way; completions are metered without a hold.
func TestAgentCredits(t *testing.T) {
	c := &credits{settled: map[string][]bool{}}
	a := newMeteredAgent(t, c,
		agenttest.Script{Match: "explain", Turns: []agenttest.Turn{{Text: "It prints hello."}}},
		agenttest.Script{Match: "long", Turns: []agenttest.Turn{
			{Text: "Looking.", Tools: []agenttest.ToolCall{{Name: "list_files", Input: map[string]any{}}}},
			{Text: "Still looking.", Tools: []agenttest.ToolCall{{Name: "list_files", Input: map[string]any{}}}},
		}})
	ctx := t.Context()

	// An answer without changes is work done: charged.
	r := a.run(t, "explain main.js")
	if r.Status != agent.StatusDone {
		t.Fatalf("run = %+v", r)
	}
	if n := a.wantTurns(t, c, r); n != 1 {
		t.Fatalf("%d model calls metered, want 1", n)
	}
	if got := c.settlement(t, "agent:"+r.ID); len(got) != 1 || !got[0] {
		t.Fatalf("settled %v, want once with charge", got)
	}
	if len(c.reserved) != 1 || c.reserved[0] != "agent:"+r.ID {
		t.Fatalf("reserved %v", c.reserved)
	}

	// No credits: the run does not start, and the API says why.
	c.mu.Lock()
	c.refuseReserve = errs.PaymentRequired("out_of_credits", "Out of credits: top up at http://localhost/usage to start new runs.")
	c.mu.Unlock()
	_, err := a.svc.Start(ctx, a.amy, a.p.ID, "explain again")
	w := httptest.NewRecorder()
	httpx.Error(w, httptest.NewRequest("POST", "/", nil), err)
	if w.Code != http.StatusPaymentRequired || !strings.Contains(w.Body.String(), `"code":"out_of_credits"`) {
		t.Fatalf("start without credits: %v → %d %s", err, w.Code, w.Body)
	}
	if runs, err := a.svc.List(ctx, a.amy, a.p.ID); err != nil || len(runs) != 1 {
		t.Fatalf("runs after a refused start = %d, %v; want only the first", len(runs), err)
	}

	// Credits run out mid-run: it stops after the call that spent them.
	c.mu.Lock()
	c.refuseReserve = nil
	c.refuseWithin = errs.PaymentRequired("out_of_credits", "Out of credits: top up at http://localhost/usage to go on.")
	c.mu.Unlock()
	r = a.run(t, "a long look")
	if r.Status != agent.StatusFailed || r.Error == nil || r.Error.Code != "out_of_credits" || !strings.HasPrefix(r.Summary, "Out of credits") {
		t.Fatalf("run out of credits = %s %+v %q", r.Status, r.Error, r.Summary)
	}
	if n := a.wantTurns(t, c, r); n != 1 {
		t.Fatalf("%d model calls after credits ran out, want the 1 that spent them", n)
	}
	if got := c.settlement(t, "agent:"+r.ID); len(got) != 1 || !got[0] {
		t.Fatalf("settled %v, want once with charge", got)
	}

	// Completions: charged as they come, without a hold.
	if _, err := a.svc.Complete(ctx, a.amy, a.p.ID, "main.js", "function answer() {", "}"); err != nil {
		t.Fatal(err)
	}
	us := c.usageOf("complete:")
	if len(us) != 2 || us[0].Hold != "" || us[0].Meter != billing.MeterAIIn || us[1].Meter != billing.MeterAIOut ||
		!strings.HasSuffix(us[0].Key, ":in") || strings.TrimSuffix(us[0].Key, ":in") != strings.TrimSuffix(us[1].Key, ":out") {
		t.Fatalf("completion usage = %+v", us)
	}
}
