package billing_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ecode/internal/agent/agenttest"
	"ecode/internal/config"
	"ecode/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// fast meters and rates every 100 ms, so a test sees its usage charged
// within a second.
func fast(c *config.Config) {
	c.MeterInterval = 100 * time.Millisecond
	c.RatingInterval = 100 * time.Millisecond
}

type row struct {
	Category  string `json:"category"`
	Meter     string `json:"meter"`
	Attr      string `json:"attr"`
	ProjectID string `json:"projectId"`
	User      string `json:"user"`
	Quantity  int64  `json:"quantity"`
	Amount    int64  `json:"amount"`
}

type account struct {
	Balance      int64 `json:"balance"`
	Granted      int64 `json:"granted"`
	Used         int64 `json:"used"`
	OutOfCredits bool  `json:"outOfCredits"`
}

func usage(t *testing.T, c *testserver.Client) []row {
	t.Helper()
	var out struct{ Usage struct{ Rows []row } }
	c.Get(t, "/api/billing/usage").WantStatus(t, http.StatusOK).Decode(t, &out)
	return out.Usage.Rows
}

func summary(t *testing.T, c *testserver.Client) account {
	t.Helper()
	var out struct{ Billing account }
	c.Get(t, "/api/billing").WantStatus(t, http.StatusOK).Decode(t, &out)
	return out.Billing
}

// eventually retries check until it holds or 30 s have passed.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !check(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestChargedOnce runs code, uses the agent and deploys, then reads the
// usage page's API: each is charged, under its category, to the project
// and the person, and the ledger holds exactly what the usage page says,
// once: every metered event is in exactly one charge, and the books
// balance.
func TestChargedOnce(t *testing.T) {
	testserver.NeedSandbox(t)
	model := httptest.NewServer(&agenttest.Model{Scripts: agenttest.All()})
	t.Cleanup(model.Close)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ada := s.SignUp(t, "ada")
		p := ada.CreateProject(t, "Metered")

		// Code that runs: a busy loop in the sandbox.
		var ex struct{ ExitCode int }
		ada.Post(t, "/api/projects/"+p.ID+"/exec", map[string]any{"command": "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"}).
			WantStatus(t, http.StatusOK).Decode(t, &ex)

		// The agent: a run that writes files, so it is charged.
		var ag struct{ Run struct{ ID, Status string } }
		ada.Post(t, "/api/projects/"+p.ID+"/agent/runs", map[string]string{"prompt": "make a hello page"}).WantStatus(t, http.StatusAccepted).Decode(t, &ag)
		eventually(t, "the agent run to end", func() bool {
			ada.Get(t, "/api/projects/"+p.ID+"/agent/runs/"+ag.Run.ID).Decode(t, &ag)
			return ag.Run.Status != "running"
		})
		if ag.Run.Status != "done" {
			t.Fatalf("agent run ended %s", ag.Run.Status)
		}

		// A static deployment, built in a sandbox and visited.
		ada.Put(t, "/api/projects/"+p.ID+"/files/site/index.html", "<!doctype html><h1>"+strings.Repeat("metered ", 500)+"</h1>").WantStatus(t, http.StatusNoContent)
		ada.Put(t, "/api/projects/"+p.ID+"/files/ecode.toml", "run = \"node server.js\"\n\n[deployment]\ntarget = \"static\"\nbuild = \"cp -r site dist\"\npublicDir = \"dist\"\n").WantStatus(t, http.StatusNoContent)
		var rel struct{ Release struct{ ID string } }
		ada.Post(t, "/api/projects/"+p.ID+"/deployments", map[string]any{}).WantStatus(t, http.StatusAccepted).Decode(t, &rel)
		ada.Get(t, "/api/projects/"+p.ID+"/releases/"+rel.Release.ID+"/log").WantStatus(t, http.StatusOK)
		for range 3 {
			if code := visit(t, s, p.Slug+"--"+p.Owner+".app.localhost"); code != http.StatusOK {
				t.Fatalf("the deployment answered %d", code)
			}
		}

		charged := map[string]int64{}
		eventually(t, "compute, AI, deployments and egress to be charged", func() bool {
			if _, err := s.App.Billing.RateNow(context.Background()); err != nil {
				t.Fatal(err)
			}
			clear(charged)
			for _, r := range usage(t, ada) {
				if r.ProjectID != p.ID {
					t.Fatalf("usage of another project: %+v", r)
				}
				charged[r.Category] += r.Amount
				if r.Category == "ai" && (r.Attr == "" || r.User != "ada") {
					t.Fatalf("AI usage without its model or person: %+v", r)
				}
			}
			return charged["compute"] > 0 && charged["ai"] > 0 && charged["egress"] > 0
		})

		// Exactly once: each charged event's quantity is in exactly one
		// charge row, and the ledger took exactly the charges' sum.
		db := s.App.DB
		ctx := context.Background()
		if _, err := s.App.Billing.RateNow(ctx); err != nil {
			t.Fatal(err)
		}
		var mismatched []string
		if err := db.Select(ctx, &mismatched, `SELECT e.meter FROM
			(SELECT meter, SUM(quantity) AS q FROM usage_events WHERE charge_id IS NOT NULL GROUP BY meter) e
			LEFT JOIN (SELECT meter, SUM(quantity) AS q FROM usage_charges GROUP BY meter) c ON c.meter = e.meter
			WHERE c.q IS NULL OR c.q <> e.q`); err != nil || len(mismatched) > 0 {
			t.Fatalf("events and charges differ for %v (%v)", mismatched, err)
		}
		var charges, consumed int64
		if err := db.Get(ctx, &charges, `SELECT COALESCE(SUM(amount), 0) FROM usage_charges`); err != nil {
			t.Fatal(err)
		}
		if err := db.Get(ctx, &consumed, `SELECT credits_posted FROM ledger_balances WHERE account = 'system:consumption'`); err != nil {
			t.Fatal(err)
		}
		if charges != consumed {
			t.Fatalf("usage charges %d µcr, the ledger's consumption %d µcr", charges, consumed)
		}
		acct := summary(t, ada)
		if acct.Balance != acct.Granted-acct.Used {
			t.Fatalf("balance %d is not granted %d − used %d", acct.Balance, acct.Granted, acct.Used)
		}
		if rep, err := s.App.Billing.Reconcile(ctx); err != nil || !rep.OK() {
			t.Fatalf("reconcile: %+v, %v", rep, err)
		}

		// The statement as CSV has the project's rows.
		csv := ada.Get(t, "/api/billing/statement.csv?period="+time.Now().UTC().Format("2006-01")).WantStatus(t, http.StatusOK)
		if !strings.HasPrefix(string(csv.Body), "date,category,meter,detail,project,person,quantity,unit,credits") || !strings.Contains(string(csv.Body), "ada/metered") {
			t.Fatalf("statement:\n%s", csv.Body)
		}
	}, testserver.WithAI(model.URL), fast)
}

// visit fetches the deployment at host through the edge.
func visit(t *testing.T, s *testserver.Server, host string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// TestQuotaMidRun: with credits enforced, a run that spends the last of
// them is stopped with the reason in its console, a new run and an agent
// run wait with out_of_credits and a top-up link, and a grant lets work
// start again. Nothing of the project is lost.
func TestQuotaMidRun(t *testing.T) {
	testserver.NeedSandbox(t)
	// One credit a month, and CPU dear enough to spend it in a moment.
	plans := filepath.Join(t.TempDir(), "plans.json")
	cat := map[string]any{
		"plans":       []map[string]any{{"id": "free", "name": "Free", "monthlyCredits": 1}, {"id": "team", "name": "Team", "monthlyCredits": 1, "teams": true}},
		"defaultPlan": "free", "defaultTeamPlan": "team",
		"prices": map[string]any{"sandbox.cpu": map[string]any{"unit": "CPU-second", "micro": 20_000_000}},
	}
	b, _ := json.Marshal(cat)
	if err := os.WriteFile(plans, b, 0o600); err != nil {
		t.Fatal(err)
	}
	model := httptest.NewServer(&agenttest.Model{Scripts: agenttest.All()})
	t.Cleanup(model.Close)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		admin := s.SignUp(t, "olga") // the first account administers the platform
		bob := s.SignUp(t, "bob")
		p := bob.CreateProject(t, "Spender")
		bob.Put(t, "/api/projects/"+p.ID+"/files/keep.txt", "mine").WantStatus(t, http.StatusNoContent)
		bob.Put(t, "/api/projects/"+p.ID+"/files/ecode.toml", "run = \"sh -c 'while :; do :; done'\"\n").WantStatus(t, http.StatusNoContent)
		if a := summary(t, bob); a.Balance != 1_000_000 {
			t.Fatalf("a first period's grant: %+v", a)
		}
		var run struct{ Run struct{ ID, Status string } }
		bob.Post(t, "/api/projects/"+p.ID+"/run", nil).WantStatus(t, http.StatusAccepted).Decode(t, &run)
		eventually(t, "the run to be stopped for want of credits", func() bool {
			bob.Get(t, "/api/projects/"+p.ID+"/runs/"+run.Run.ID).Decode(t, &run)
			return run.Run.Status != "running" && run.Run.Status != "starting"
		})
		out := bob.Get(t, "/api/projects/"+p.ID+"/runs/"+run.Run.ID+"/output")
		if !strings.Contains(string(out.Body), "Out of credits") {
			t.Fatalf("the console does not say why the run stopped:\n%s", out.Body)
		}
		if a := summary(t, bob); !a.OutOfCredits || a.Balance > 0 {
			t.Fatalf("after the run: %+v", a)
		}
		res := bob.Post(t, "/api/projects/"+p.ID+"/run", nil).WantError(t, http.StatusPaymentRequired, "out_of_credits")
		if !strings.Contains(string(res.Body), s.URL+"/usage") {
			t.Fatalf("no top-up link: %s", res.Body)
		}
		bob.Post(t, "/api/projects/"+p.ID+"/agent/runs", map[string]string{"prompt": "make a hello page"}).WantError(t, http.StatusPaymentRequired, "out_of_credits")
		if got := bob.Get(t, "/api/projects/"+p.ID+"/files/keep.txt").WantStatus(t, http.StatusOK).Body; string(got) != "mine" {
			t.Fatalf("the project's file is now %q", got)
		}

		// An administrator's grant puts the payer back in credit.
		admin.Post(t, "/api/admin/billing/grants", map[string]any{"user": "bob", "credits": 5, "reason": "test"}).WantStatus(t, http.StatusCreated)
		bob.Put(t, "/api/projects/"+p.ID+"/files/ecode.toml", "run = \"echo back\"\n").WantStatus(t, http.StatusNoContent)
		bob.Post(t, "/api/projects/"+p.ID+"/run", nil).WantStatus(t, http.StatusAccepted)
		if rep, err := s.App.Billing.Reconcile(context.Background()); err != nil || !rep.OK() {
			t.Fatalf("reconcile: %+v, %v", rep, err)
		}
	}, testserver.WithAI(model.URL), fast, func(c *config.Config) { c.Billing, c.PlansFile = true, plans })
}
