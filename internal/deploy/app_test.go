package deploy_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"ecode/internal/config"
	"ecode/internal/store"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// appJS is a Node app that says which process answered, can be slow, tries
// to write where it may not, and crashes on request.
const appJS = `const http = require('http');
const fs = require('fs');
const version = 'VERSION';
http.createServer((req, res) => {
  if (req.url === '/health') { res.end('ok'); return; }
  if (req.url === '/slow') { setTimeout(() => res.end(version + ' ' + process.pid), 400); return; }
  if (req.url === '/write') {
    const out = [];
    for (const f of ['/home/runner/project/x.txt', '/tmp/x.txt']) {
      try { fs.writeFileSync(f, 'x'); out.push(f + ' ok'); } catch (e) { out.push(f + ' ' + e.code); }
    }
    res.end(out.join('\n'));
    return;
  }
  if (req.url === '/crash') { res.end('bye'); process.exit(3); }
  res.setHeader('X-Host', String(req.headers.host) + ' ' + String(req.headers['x-forwarded-host']));
  res.end(version + ' ' + process.pid + ' ' + process.env.GREETING);
}).listen(process.env.PORT, () => console.log('listening on ' + process.env.PORT));
`

func appFiles(version, deployment string) map[string]string {
	return map[string]string{
		"server.js":  strings.Replace(appJS, "VERSION", version, 1),
		"ecode.toml": "run = \"node server.js\"\n\n[deployment]\n" + deployment,
	}
}

type instancesView struct {
	Instances []struct {
		ID       string  `json:"id"`
		State    string  `json:"state"`
		Restarts int     `json:"restarts"`
		LastExit *string `json:"lastExit"`
	} `json:"instances"`
	Scale struct {
		Target      string `json:"target"`
		Min, Max    int
		Concurrency int  `json:"concurrency"`
		CrashLoop   bool `json:"crashLoop"`
	} `json:"scale"`
}

func instances(t testing.TB, c *testserver.Client, projectID string) instancesView {
	t.Helper()
	var v instancesView
	c.Get(t, "/api/projects/"+projectID+"/deployment/instances").WantStatus(t, http.StatusOK).Decode(t, &v)
	return v
}

// eventually polls cond until it holds or d has passed.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

// TestAutoscaleDeploy deploys a Node app as autoscale: it goes live once
// healthy, runs read-only with its own tmp, scales out under concurrent
// requests up to its max, down to zero when idle, back up on the next
// request; a redeploy switches without a failed request; a rollback
// brings the old release back; metrics and logs count what the edge saw.
func TestAutoscaleDeploy(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		p := project(t, alice, "Api", appFiles("v1", "target = \"autoscale\"\nmaxInstances = 2\nconcurrency = 1\nhealthPath = \"/health\"\n"))
		alice.Put(t, "/api/projects/"+p.ID+"/secrets/GREETING", map[string]string{"value": "hola-secret-value"}).WantStatus(t, http.StatusNoContent)
		v1, log := finish(t, alice, p.ID, deploy(t, alice, p.ID).ID)
		if v1.Status != "ready" || !v1.Live || !strings.Contains(log, "listening on 8080") || !strings.Contains(log, "Healthy in") {
			t.Fatalf("release: %+v\n%s", v1, log)
		}
		h := host(p)
		res, body := visit(t, s, h, "/", nil)
		if res.StatusCode != 200 || !strings.HasPrefix(string(body), "v1 ") || !strings.HasSuffix(string(body), "hola-secret-value") ||
			res.Header.Get("X-Host") != h+" "+h {
			t.Fatalf("/: %d %v %s", res.StatusCode, res.Header, body)
		}
		if _, body := visit(t, s, h, "/write", nil); string(body) != "/home/runner/project/x.txt EROFS\n/tmp/x.txt ok" {
			t.Fatalf("writes: %s", body)
		}
		// The health check's instance may still be draining (a pod takes a moment to go).
		var v instancesView
		eventually(t, 15*time.Second, "one instance", func() bool {
			v = instances(t, alice, p.ID)
			return len(v.Instances) == 1
		})
		if v.Instances[0].State != "ready" || v.Scale.Target != "autoscale" || v.Scale.Max != 2 || v.Scale.Concurrency != 1 {
			t.Fatalf("instances: %+v", v)
		}

		// Four slow requests at once, one each per instance: a second starts.
		pids := map[string]bool{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				res, body := visit(t, s, h, "/slow", nil)
				if res.StatusCode != 200 {
					t.Errorf("/slow: %d %s", res.StatusCode, body)
				}
				mu.Lock()
				pids[string(body)] = true
				mu.Unlock()
			})
		}
		wg.Wait()
		if v := instances(t, alice, p.ID); len(v.Instances) != 2 {
			t.Fatalf("after concurrent requests: %+v", v)
		}

		// Idle past the window: down to zero; the next request starts one.
		eventually(t, 10*time.Second, "scale to zero", func() bool { return len(instances(t, alice, p.ID).Instances) == 0 })
		start := time.Now()
		if res, body := visit(t, s, h, "/", nil); res.StatusCode != 200 || !strings.HasPrefix(string(body), "v1 ") {
			t.Fatalf("after zero: %d %s", res.StatusCode, body)
		}
		t.Logf("cold start to the first byte: %s", time.Since(start))

		// A redeploy under steady requests: none fails, and v2 answers after.
		// They are paced: unpaced, a slow redeploy's requests would push
		// the lines checked below out of the log's last 10000.
		alice.Put(t, "/api/projects/"+p.ID+"/files/server.js", strings.Replace(appJS, "VERSION", "v2", 1)).WantStatus(t, http.StatusNoContent)
		stop := make(chan struct{})
		var failed, served int
		wg.Go(func() {
			pace := time.NewTicker(5 * time.Millisecond)
			defer pace.Stop()
			for {
				select {
				case <-stop:
					return
				case <-pace.C:
				}
				res, body := visit(t, s, h, "/", nil)
				mu.Lock()
				served++
				if res.StatusCode != 200 {
					failed++
					t.Errorf("during redeploy: %d %s", res.StatusCode, body)
				}
				mu.Unlock()
			}
		})
		v2, log := finish(t, alice, p.ID, deploy(t, alice, p.ID).ID)
		time.Sleep(200 * time.Millisecond)
		close(stop)
		wg.Wait()
		if v2.Status != "ready" || failed > 0 || served == 0 {
			t.Fatalf("redeploy: %+v, %d of %d failed\n%s", v2, failed, served, log)
		}
		if _, body := visit(t, s, h, "/", nil); !strings.HasPrefix(string(body), "v2 ") {
			t.Fatalf("after redeploy: %s", body)
		}
		alice.Post(t, "/api/projects/"+p.ID+"/releases/"+v1.ID+"/promote", nil).WantStatus(t, http.StatusOK)
		if _, body := visit(t, s, h, "/", nil); !strings.HasPrefix(string(body), "v1 ") {
			t.Fatalf("after rollback: %s", body)
		}

		var m struct {
			StepMs int64 `json:"stepMs"`
			Points []struct {
				Requests, S2xx int
				P50Ms          *float64 `json:"p50Ms"`
				Instances      int
			} `json:"points"`
		}
		alice.Get(t, "/api/projects/"+p.ID+"/deployment/metrics?window=15m").WantStatus(t, http.StatusOK).Decode(t, &m)
		requests, ok, peak := 0, 0, 0
		for _, pt := range m.Points {
			requests += pt.Requests
			ok += pt.S2xx
			peak = max(peak, pt.Instances)
		}
		if m.StepMs != 10000 || len(m.Points) != 90 || requests < 8 || ok != requests || peak < 1 {
			t.Fatalf("metrics: step %d, %d points, %d requests, %d ok, peak %d", m.StepMs, len(m.Points), requests, ok, peak)
		}
		alice.Get(t, "/api/projects/"+p.ID+"/deployment/metrics?window=2d").WantError(t, http.StatusBadRequest, "invalid_window")

		var logs struct {
			Lines []struct {
				Source string  `json:"source"`
				Text   string  `json:"text"`
				Inst   *string `json:"instance"`
			} `json:"lines"`
		}
		alice.Get(t, "/api/projects/"+p.ID+"/deployment/logs?source=edge&q=/slow").WantStatus(t, http.StatusOK).Decode(t, &logs)
		if len(logs.Lines) != 4 || logs.Lines[0].Source != "edge" || !strings.HasPrefix(logs.Lines[0].Text, "GET /slow 200 ") || logs.Lines[0].Inst == nil {
			t.Fatalf("edge lines: %+v", logs.Lines)
		}
		alice.Get(t, "/api/projects/"+p.ID+"/deployment/logs?source=app&q=LISTENING").WantStatus(t, http.StatusOK).Decode(t, &logs)
		if len(logs.Lines) < 3 || logs.Lines[0].Text != "listening on 8080" {
			t.Fatalf("app lines: %+v", logs.Lines)
		}
	}, testserver.WithDeployIdle(time.Second))
}

// TestAppHealth: a release whose app ends before it listens never goes
// live; the one before keeps answering, and the reason is its error.
func TestAppHealth(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	bob := s.SignUp(t, "bob")
	p := project(t, bob, "Svc", appFiles("v1", "target = \"autoscale\"\n"))
	v1, _ := finish(t, bob, p.ID, deploy(t, bob, p.ID).ID)
	bob.Put(t, "/api/projects/"+p.ID+"/files/server.js", "console.log('no port today'); process.exit(2)").WantStatus(t, http.StatusNoContent)
	bad, log := finish(t, bob, p.ID, deploy(t, bob, p.ID).ID)
	if v1.Status != "ready" || bad.Status != "failed" || bad.Error == nil ||
		*bad.Error != "The release did not become healthy: the app exited with code 2 before it was ready. The live release is unchanged." ||
		!strings.Contains(log, "no port today") {
		t.Fatalf("releases: %+v %+v\n%s", v1, bad, log)
	}
	if _, body := visit(t, s, host(p), "/", nil); !strings.HasPrefix(string(body), "v1 ") {
		t.Fatalf("live: %s", body)
	}
	bob.Post(t, "/api/projects/"+p.ID+"/releases/"+bad.ID+"/promote", nil).WantError(t, http.StatusConflict, "release_not_ready")

	// No run command in the table nor in the run configuration: refused,
	// and ecode.toml is left as it was.
	q := project(t, bob, "Norun", map[string]string{"ecode.toml": "install = \"true\"\n"})
	res := bob.Put(t, "/api/projects/"+q.ID+"/deployment/config", map[string]any{"target": "vm"}).WantError(t, http.StatusBadRequest, "invalid_deployment")
	if !strings.Contains(string(res.Body), "[deployment] run") {
		t.Fatalf("no run: %s", res.Body)
	}
	if res := bob.Get(t, "/api/projects/"+q.ID+"/files/ecode.toml").WantStatus(t, http.StatusOK); string(res.Body) != "install = \"true\"\n" {
		t.Fatalf("ecode.toml after a refused write: %q", res.Body)
	}
}

// TestVMDeploy: a reserved VM's instance that crashes is started again
// after its backoff, with the restart counted; a worker that opens no
// port is a valid deployment; a server restart brings the instances back.
func TestVMDeploy(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	carl := s.SignUp(t, "carl")
	p := project(t, carl, "Always", appFiles("v1", "target = \"vm\"\nmaxInstances = 1\n"))
	r, log := finish(t, carl, p.ID, deploy(t, carl, p.ID).ID)
	if r.Status != "ready" {
		t.Fatalf("release: %+v\n%s", r, log)
	}
	v := instances(t, carl, p.ID)
	if len(v.Instances) != 1 || v.Instances[0].State != "ready" || v.Scale.Target != "vm" || v.Scale.Min != 1 {
		t.Fatalf("instances: %+v", v)
	}
	if res, body := visit(t, s, host(p), "/crash", nil); res.StatusCode != 200 || string(body) != "bye" {
		t.Fatalf("/crash: %d %s", res.StatusCode, body)
	}
	eventually(t, 10*time.Second, "restart after the crash", func() bool {
		v := instances(t, carl, p.ID)
		return len(v.Instances) == 1 && v.Instances[0].State == "ready" && v.Instances[0].Restarts == 1 &&
			v.Instances[0].LastExit != nil && *v.Instances[0].LastExit == "exited with code 3"
	})
	if _, body := visit(t, s, host(p), "/", nil); !strings.HasPrefix(string(body), "v1 ") {
		t.Fatalf("after restart: %s", body)
	}

	// A background worker: no port, always on.
	w := project(t, carl, "Worker", map[string]string{
		"ecode.toml": "run = \"sh -c 'while true; do echo tick; sleep 0.2; done'\"\n\n[deployment]\ntarget = \"vm\"\n",
	})
	r, log = finish(t, carl, w.ID, deploy(t, carl, w.ID).ID)
	if r.Status != "ready" || !strings.Contains(log, "tick") {
		t.Fatalf("worker: %+v\n%s", r, log)
	}
	var logs struct {
		Lines []json.RawMessage `json:"lines"`
	}
	carl.Get(t, "/api/projects/"+w.ID+"/deployment/logs?q=tick&limit=3").WantStatus(t, http.StatusOK).Decode(t, &logs)
	if len(logs.Lines) != 3 {
		t.Fatalf("worker lines: %s", logs.Lines)
	}
}

// TestAppsComeBack: a restarted server brings a reserved VM's instance
// back by itself, leaves an autoscale deployment at zero until a request
// comes, and serves both; the old server's instances ended with it.
func TestAppsComeBack(t *testing.T) {
	testserver.NeedSandbox(t)
	e := testdb.Engines(t)[0]
	s := testserver.New(t, e)
	dan := s.SignUp(t, "dan")
	vm := project(t, dan, "Kept", appFiles("vm", "target = \"vm\"\n"))
	auto := project(t, dan, "Lazy", appFiles("auto", "target = \"autoscale\"\n"))
	// The instance's environment marks its processes, which the host sees
	// under pids of its own.
	marker := "MARKER=" + store.NewID()
	dan.Put(t, "/api/projects/"+vm.ID+"/secrets/MARKER", map[string]string{"value": strings.TrimPrefix(marker, "MARKER=")}).WantStatus(t, http.StatusNoContent)
	for _, p := range []testserver.Project{vm, auto} {
		if r, log := finish(t, dan, p.ID, deploy(t, dan, p.ID).ID); r.Status != "ready" {
			t.Fatalf("%s: %+v\n%s", p.Name, r, log)
		}
	}
	if len(testserver.MarkedProcesses(marker)) == 0 {
		t.Fatal("no process of the vm's instance found by its environment")
	}
	s.Close()
	if err := s.App.Close(); err != nil {
		t.Fatal(err)
	}
	if pids := testserver.MarkedProcesses(marker); len(pids) > 0 {
		t.Fatalf("the old server's instance outlived it: pids %v", pids)
	}

	s2 := testserver.New(t, e, func(c *config.Config) { c.DataDir, c.DatabaseURL = s.App.Config.DataDir, s.App.Config.DatabaseURL })
	dan2 := s2.Anonymous()
	dan2.Post(t, "/api/auth/login", map[string]string{"login": "dan", "password": "password-dan"}).WantStatus(t, http.StatusOK)
	eventually(t, 10*time.Second, "the vm's instance back", func() bool {
		v := instances(t, dan2, vm.ID)
		return len(v.Instances) == 1 && v.Instances[0].State == "ready"
	})
	if v := instances(t, dan2, auto.ID); len(v.Instances) != 0 || v.Scale.Target != "autoscale" {
		t.Fatalf("autoscale after a restart: %+v", v)
	}
	for _, p := range []testserver.Project{vm, auto} {
		want := map[string]string{vm.ID: "vm ", auto.ID: "auto "}[p.ID]
		if res, body := visit(t, s2, host(p), "/", nil); res.StatusCode != 200 || !strings.HasPrefix(string(body), want) {
			t.Fatalf("%s after a restart: %d %s", p.Name, res.StatusCode, body)
		}
	}
}

// TestCrashLoop: a vm app that keeps ending soon after it starts is
// started again with a growing backoff and shown as a crash loop.
func TestCrashLoop(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	eve := s.SignUp(t, "eve")
	p := project(t, eve, "Flaky", map[string]string{
		"server.js":  "require('http').createServer((q, r) => r.end('up')).listen(process.env.PORT, () => setTimeout(() => process.exit(4), 200))",
		"ecode.toml": "run = \"node server.js\"\n\n[deployment]\ntarget = \"vm\"\n",
	})
	if r, log := finish(t, eve, p.ID, deploy(t, eve, p.ID).ID); r.Status != "ready" {
		t.Fatalf("%+v\n%s", r, log)
	}
	var v instancesView
	eventually(t, 15*time.Second, "a crash loop", func() bool {
		v = instances(t, eve, p.ID)
		return v.Scale.CrashLoop
	})
	if len(v.Instances) != 1 || v.Instances[0].Restarts < 2 || v.Instances[0].LastExit == nil || *v.Instances[0].LastExit != "exited with code 4" {
		t.Fatalf("crash loop: %+v", v)
	}
}

// TestAppsMoveWithTheirServer: on two servers of a cluster, a reserved
// VM runs on the server holding its project and is reached through
// either; when that server dies, the other adopts the project, fails
// nothing it did not start, and runs the VM itself.
func TestAppsMoveWithTheirServer(t *testing.T) {
	testserver.NeedSandbox(t)
	cl := testserver.NewCluster(t)
	a, b := cl.Join(t, "a"), cl.Join(t, "b")
	fay := a.SignUp(t, "fay")
	vm := project(t, fay, "Moves", appFiles("vm", "target = \"vm\"\n"))
	marker := "MARKER=" + store.NewID()
	fay.Put(t, "/api/projects/"+vm.ID+"/secrets/MARKER", map[string]string{"value": strings.TrimPrefix(marker, "MARKER=")}).WantStatus(t, http.StatusNoContent)
	if r, log := finish(t, fay, vm.ID, deploy(t, fay, vm.ID).ID); r.Status != "ready" {
		t.Fatalf("%+v\n%s", r, log)
	}
	for _, s := range []*testserver.Server{a, b} {
		if res, body := visit(t, s, host(vm), "/", nil); res.StatusCode != 200 || !strings.HasPrefix(string(body), "vm ") {
			t.Fatalf("through %s: %d %s", s.App.Config.ServerID, res.StatusCode, body)
		}
	}
	if v := instances(t, fay.On(b), vm.ID); len(v.Instances) != 1 {
		t.Fatalf("instances seen through b: %+v", v)
	}

	a.Crash()
	a.App.Close() // its sandboxes end with it, as a dead process's do
	if pids := testserver.MarkedProcesses(marker); len(pids) > 0 {
		t.Fatalf("the dead server's instance outlived it: pids %v", pids)
	}
	eventually(t, 15*time.Second, "b runs the vm", func() bool {
		res := fay.On(b).Get(t, "/api/projects/"+vm.ID+"/deployment/instances")
		if res.StatusCode == http.StatusServiceUnavailable {
			return false // until a's lease runs out
		}
		var v instancesView
		res.WantStatus(t, http.StatusOK).Decode(t, &v)
		return len(v.Instances) == 1 && v.Instances[0].State == "ready"
	})
	if res, body := visit(t, b, host(vm), "/", nil); res.StatusCode != 200 || !strings.HasPrefix(string(body), "vm ") {
		t.Fatalf("after the move: %d %s", res.StatusCode, body)
	}

	// A server that finds at its beat that another took the project (as
	// one taken for dead that comes back does) stops the instances it ran.
	c := cl.Join(t, "c")
	if _, err := c.App.DB.Exec(t.Context(), `UPDATE project_holders SET server_id = 'c' WHERE project_id = ?`, vm.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "b stops its instance", func() bool { return len(testserver.MarkedProcesses(marker)) == 0 })
}
