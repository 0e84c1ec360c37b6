package deploy_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"ecode/internal/store"
	"ecode/internal/testserver"
)

type execution struct {
	ID         string  `json:"id"`
	Source     string  `json:"source"`
	Status     string  `json:"status"`
	ExitCode   *int    `json:"exitCode"`
	Error      *string `json:"error"`
	DurationMs *int64  `json:"durationMs"`
}

type executions struct {
	Executions []execution `json:"executions"`
	Schedule   *struct {
		Cron     string `json:"cron"`
		TimeZone string `json:"timeZone"`
		Sentence string `json:"sentence"`
		Command  string `json:"command"`
		Timeout  int    `json:"timeout"`
		NextRun  int64  `json:"nextRun"`
	} `json:"schedule"`
}

func listExecutions(t testing.TB, c *testserver.Client, projectID string) executions {
	t.Helper()
	var out executions
	c.Get(t, "/api/projects/"+projectID+"/deployment/executions").WantStatus(t, http.StatusOK).Decode(t, &out)
	return out
}

// settle waits until run id has ended and returns it with its log.
func settle(t testing.TB, c *testserver.Client, projectID, id string) (execution, string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var out struct {
			Execution execution
			Log       string
		}
		c.Get(t, "/api/projects/"+projectID+"/deployment/executions/"+id+"/log").WantStatus(t, http.StatusOK).Decode(t, &out)
		if out.Execution.Status != "running" {
			return out.Execution, out.Log
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still running: %s", id, out.Log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func runNow(t testing.TB, c *testserver.Client, projectID string) execution {
	t.Helper()
	var out struct{ Execution execution }
	c.Post(t, "/api/projects/"+projectID+"/deployment/run", map[string]any{}).WantStatus(t, http.StatusAccepted).Decode(t, &out)
	return out.Execution
}

func deployReady(t testing.TB, c *testserver.Client, projectID string) release {
	t.Helper()
	rel, log := finish(t, c, projectID, deploy(t, c, projectID).ID)
	if rel.Status != "ready" {
		t.Fatalf("deploy %s: %s", rel.Status, log)
	}
	return rel
}

func setConfig(t testing.TB, c *testserver.Client, projectID string, cfg map[string]any) {
	t.Helper()
	c.Put(t, "/api/projects/"+projectID+"/deployment/config", cfg).WantStatus(t, http.StatusOK)
}

// TestScheduledDeploy: a scheduled release runs its command in a fresh
// sandbox over its own copy of the built tree, with the project's
// secrets; Run now, failures, timeouts and the history.
func TestScheduledDeploy(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		c := s.SignUp(t, "sam")
		p := project(t, c, "Job", map[string]string{
			"ecode.toml": "run = \"python3 -m http.server $PORT\"\n",
			"job.sh":     "cat built.txt\necho token=$API_TOKEN\ntest ! -e mark && echo fresh copy\ntouch mark /tmp/scratch\n",
		})
		c.Put(t, "/api/projects/"+p.ID+"/secrets/API_TOKEN", map[string]string{"value": "tok-1234567890abcdef"}).WantStatus(t, http.StatusNoContent)

		for _, bad := range []struct {
			cfg   map[string]any
			names string
		}{
			{map[string]any{"target": "scheduled", "run": "sh job.sh", "schedule": "every fortnight"}, "schedule"},
			{map[string]any{"target": "scheduled", "run": "sh job.sh", "schedule": "0 9 * * *", "timeZone": "Nowhere/Land"}, "timeZone"},
			{map[string]any{"target": "scheduled", "run": "sh job.sh", "schedule": "0 9 * * *", "timeout": 7200}, "timeout"},
		} {
			res := c.Put(t, "/api/projects/"+p.ID+"/deployment/config", bad.cfg).WantError(t, http.StatusBadRequest, "invalid_deployment")
			if !strings.Contains(string(res.Body), bad.names) {
				t.Errorf("%v: %s does not name %s", bad.cfg, res.Body, bad.names)
			}
		}
		// Not scheduled yet: nothing to run.
		c.Post(t, "/api/projects/"+p.ID+"/deployment/run", map[string]any{}).WantError(t, http.StatusConflict, "not_scheduled")

		setConfig(t, c, p.ID, map[string]any{"target": "scheduled", "build": "echo built at $(date +%s) > built.txt",
			"run": "sh job.sh", "schedule": "every weekday at 9:00", "timeZone": "Europe/Paris", "timeout": 60})
		var o struct {
			Config struct{ Cron, Sentence, Schedule string }
		}
		c.Get(t, "/api/projects/"+p.ID+"/deployment").WantStatus(t, http.StatusOK).Decode(t, &o)
		if o.Config.Cron != "0 9 * * 1-5" || o.Config.Sentence != "Every weekday at 9:00" {
			t.Fatalf("settings: %+v", o.Config)
		}
		deployReady(t, c, p.ID)
		// A scheduled deployment serves nothing at its address.
		if res, _ := visit(t, s, host(p), "/job.sh", nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("host of a scheduled deployment: %d", res.StatusCode)
		}
		list := listExecutions(t, c, p.ID)
		if list.Schedule == nil || list.Schedule.Sentence != "Every weekday at 9:00" || list.Schedule.TimeZone != "Europe/Paris" ||
			list.Schedule.Timeout != 60 || list.Schedule.NextRun <= time.Now().UnixMilli() || len(list.Executions) != 0 {
			t.Fatalf("before any run: %+v", list)
		}
		paris, _ := time.LoadLocation("Europe/Paris")
		if next := time.UnixMilli(list.Schedule.NextRun).In(paris); next.Hour() != 9 || next.Minute() != 0 || next.Weekday() == time.Saturday || next.Weekday() == time.Sunday {
			t.Fatalf("next run %v", next)
		}

		for range 2 { // twice: each run has its own copy
			e := runNow(t, c, p.ID)
			if e.Status != "running" || e.Source != "manual" {
				t.Fatalf("run now: %+v", e)
			}
			e, log := settle(t, c, p.ID, e.ID)
			if e.Status != "ok" || e.ExitCode == nil || *e.ExitCode != 0 || e.DurationMs == nil {
				t.Fatalf("run: %+v\n%s", e, log)
			}
			if !strings.Contains(log, "built at") || !strings.Contains(log, "fresh copy") || strings.Contains(log, "tok-1234567890abcdef") || !strings.Contains(log, "token=") {
				t.Fatalf("run log: %q", log)
			}
		}
		// The dev folder never saw a run.
		c.Get(t, "/api/projects/"+p.ID+"/files/mark").WantStatus(t, http.StatusNotFound)
		c.Get(t, "/api/projects/"+p.ID+"/files/built.txt").WantStatus(t, http.StatusNotFound)

		// A failing command and one past its timeout.
		setConfig(t, c, p.ID, map[string]any{"target": "scheduled", "run": "echo oops; exit 3", "schedule": "every hour"})
		deployReady(t, c, p.ID)
		e, log := settle(t, c, p.ID, runNow(t, c, p.ID).ID)
		if e.Status != "failed" || e.ExitCode == nil || *e.ExitCode != 3 || e.Error == nil || !strings.Contains(log, "oops") {
			t.Fatalf("failing run: %+v %q", e, log)
		}
		setConfig(t, c, p.ID, map[string]any{"target": "scheduled", "run": "echo start; sleep 30", "schedule": "every hour", "timeout": 1})
		deployReady(t, c, p.ID)
		started := time.Now()
		e = runNow(t, c, p.ID)
		// No overlap: Run now while one runs is refused.
		c.Post(t, "/api/projects/"+p.ID+"/deployment/run", map[string]any{}).WantError(t, http.StatusConflict, "execution_running")
		e, log = settle(t, c, p.ID, e.ID)
		if e.Status != "timed_out" || e.ExitCode != nil || !strings.Contains(log, "start") || time.Since(started) > 15*time.Second {
			t.Fatalf("timed-out run: %+v %q after %v", e, log, time.Since(started))
		}
		list = listExecutions(t, c, p.ID)
		if len(list.Executions) != 4 || list.Executions[0].ID != e.ID {
			t.Fatalf("history: %+v", list.Executions)
		}
		c.Get(t, "/api/projects/"+p.ID+"/deployment/executions/nope/log").WantError(t, http.StatusNotFound, "execution_not_found")
		other := s.SignUp(t, "eve")
		other.Get(t, "/api/projects/"+p.ID+"/deployment/executions").WantStatus(t, http.StatusNotFound)
		other.Post(t, "/api/projects/"+p.ID+"/deployment/run", map[string]any{}).WantStatus(t, http.StatusNotFound)
	})
}

// TestScheduleFires: a schedule of a second fires on its own and records
// each run; a tick while a run is still going is recorded as skipped;
// promoting a static release stops the ticking; a restart starts it again.
func TestScheduleFires(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		c := s.SignUp(t, "tic")
		p := project(t, c, "Tick", map[string]string{"index.html": "<h1>static</h1>"})
		static := deployReady(t, c, p.ID)
		setConfig(t, c, p.ID, map[string]any{"target": "scheduled", "run": "echo tick; sleep 1.5", "schedule": "@every 1s"})
		scheduled := deployReady(t, c, p.ID)
		deadline := time.Now().Add(40 * time.Second)
		var list executions
		for {
			list = listExecutions(t, c, p.ID)
			count := map[string]int{}
			for _, e := range list.Executions {
				count[e.Status]++
				if e.Source != "schedule" {
					t.Fatalf("a run not of the schedule: %+v", e)
				}
			}
			if count["ok"] >= 2 && count["skipped"] >= 1 {
				if count["running"] > 1 {
					t.Fatalf("runs overlap: %+v", list.Executions)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the schedule did not fire as expected: %+v", list.Executions)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if list.Schedule == nil || list.Schedule.Sentence != "Every 1s" {
			t.Fatalf("schedule: %+v", list.Schedule)
		}
		// Back to the static release: the schedule stops.
		c.Post(t, "/api/projects/"+p.ID+"/releases/"+static.ID+"/promote", map[string]any{}).WantStatus(t, http.StatusOK)
		time.Sleep(2 * time.Second) // a run started before the switch ends
		before := len(listExecutions(t, c, p.ID).Executions)
		time.Sleep(2500 * time.Millisecond)
		after := listExecutions(t, c, p.ID)
		if len(after.Executions) != before || after.Schedule != nil {
			t.Fatalf("still ticking after the switch: %d then %+v", before, after)
		}

		// A server starting again with the scheduled release live (as the
		// database says) ticks again, and fails the run it left going.
		ctx := context.Background()
		if _, err := s.App.DB.Exec(ctx, `UPDATE deployments SET live_release_id = ?, target = 'scheduled' WHERE project_id = ?`, scheduled.ID, p.ID); err != nil {
			t.Fatal(err)
		}
		left := store.NewID()
		if _, err := s.App.DB.Exec(ctx, `INSERT INTO executions (id, project_id, release_id, source, status, started_at) VALUES (?, ?, ?, 'schedule', 'running', ?)`,
			left, p.ID, scheduled.ID, store.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.App.Deploys.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		if e, _ := settle(t, c, p.ID, left); e.Status != "failed" || e.Error == nil || !strings.Contains(*e.Error, "restart") {
			t.Fatalf("a run left going: %+v", e)
		}
		deadline = time.Now().Add(20 * time.Second)
		for len(listExecutions(t, c, p.ID).Executions) < before+2 {
			if time.Now().After(deadline) {
				t.Fatalf("no runs after the restart: %+v", listExecutions(t, c, p.ID))
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}
