package run_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ecode/internal/auth"
	"ecode/internal/billing"
	"ecode/internal/config"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/project"
	"ecode/internal/run"
	"ecode/internal/runtime"
	"ecode/internal/runtime/bwrap"
	ecodeserver "ecode/internal/server"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// recorder is billing as the run capability sees it from outside: it
// keeps every Record call and answers Allow with refuse.
type recorder struct {
	mu     sync.Mutex
	calls  [][]billing.Usage
	refuse error
}

func (r *recorder) Record(_ context.Context, us ...billing.Usage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, append([]billing.Usage(nil), us...))
	return nil
}

func (r *recorder) Allow(context.Context, string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refuse
}

func (r *recorder) setRefuse(err error) {
	r.mu.Lock()
	r.refuse = err
	r.mu.Unlock()
}

// usage is everything recorded so far, and its total per meter.
func (r *recorder) usage() ([]billing.Usage, map[string]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []billing.Usage
	sums := map[string]int64{}
	for _, c := range r.calls {
		all = append(all, c...)
		for _, u := range c {
			sums[u.Meter] += u.Quantity
		}
	}
	return all, sums
}

// platform is the core services (accounts, projects) over a fresh
// database and data directory, with a run service of its own metered into
// rec every interval through a real bwrap driver, and amy, who owns n
// projects.
type platform struct {
	svc      *run.Service
	core     *ecodeserver.Core
	amy      *auth.User
	projects []*project.Project
	dir      string
}

func meteredRuns(t testing.TB, rec *recorder, interval time.Duration, n int) *platform {
	t.Helper()
	db := testdb.Open(t, testdb.Engines(t)[0])
	dir := t.TempDir()
	// Sandbox uids must be able to pass through to their project.
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o711)
	}
	if err := os.Mkdir(filepath.Join(dir, "projects"), 0o711); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dir
	ctx, cancel := context.WithCancel(context.Background())
	core, err := ecodeserver.NewCore(ctx, db, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	driver, err := bwrap.New(ctx, bwrap.Config{StateDir: filepath.Join(dir, "sandboxes"), Limits: bwrap.DefaultLimits()})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	svc := run.NewService(core.Bus, core.Projects, driver, run.Options{
		IdleTimeout: time.Minute, PublicURL: "http://localhost", StateDir: filepath.Join(dir, "runs"),
		Meter: rec, MeterInterval: interval,
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		driver.Close()
	})
	amy, err := core.Accounts.CreateUser(ctx, "amy", "amy@example.com", "password-amy")
	if err != nil {
		t.Fatal(err)
	}
	pl := &platform{svc: svc, core: core, amy: amy, dir: dir}
	for i := range n {
		p, err := core.Projects.Create(ctx, amy, project.CreateInput{Name: fmt.Sprintf("Metered %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		pl.projects = append(pl.projects, p)
	}
	return pl
}

func (pl *platform) write(t testing.TB, p *project.Project, name, text string) {
	t.Helper()
	if _, err := pl.core.Projects.Tree(p).Write(name, strings.NewReader(text)); err != nil {
		t.Fatal(err)
	}
}

const busyLoop = "i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done"

func wantUniqueKeys(t *testing.T, us []billing.Usage) {
	t.Helper()
	seen := map[string]bool{}
	for _, u := range us {
		if seen[u.Key] {
			t.Fatalf("key %s recorded twice", u.Key)
		}
		seen[u.Key] = true
	}
}

// TestSandboxUsageAtStop: a short command's CPU and memory are charged by
// the sample taken as its sandbox stops, to the person who started it;
// stopping a project for its payer ends its run and says why.
func TestSandboxUsageAtStop(t *testing.T) {
	testserver.NeedSandbox(t)
	rec := &recorder{}
	pl := meteredRuns(t, rec, time.Hour, 1) // no tick: only the stop samples
	svc, actor, p := pl.svc, pl.amy, pl.projects[0]
	ctx := t.Context()

	if res, err := svc.Exec(ctx, actor, p.ID, busyLoop, time.Minute); err != nil || res.ExitCode != 0 {
		t.Fatalf("exec = %+v, %v", res, err)
	}
	if got := svc.RunningProjects(); len(got) != 1 || got[0] != p.ID {
		t.Fatalf("running projects = %v, want [%s]", got, p.ID)
	}
	if us, _ := rec.usage(); len(us) != 0 {
		t.Fatalf("usage before any sample: %+v", us)
	}
	svc.StopProject(ctx, p.ID, "Out of credits: top up at http://localhost/usage")
	us, sums := rec.usage()
	if sums[billing.MeterCPU] <= 0 || sums[billing.MeterMemory] <= 0 {
		t.Fatalf("usage at stop = %+v: want CPU and memory", us)
	}
	for _, u := range us {
		if u.ProjectID != p.ID || u.UserID != actor.ID || !strings.HasPrefix(u.Key, "sbx:") || u.At.IsZero() {
			t.Fatalf("usage %+v: want project %s, person %s", u, p.ID, actor.ID)
		}
	}
	wantUniqueKeys(t, us)
	if got := svc.RunningProjects(); len(got) != 0 {
		t.Fatalf("running projects after StopProject = %v", got)
	}
	t.Logf("a %q exec: %d µs CPU, %d byte-seconds", busyLoop, sums[billing.MeterCPU], sums[billing.MeterMemory])

	// A run in progress ends, with the reason in its console.
	pl.write(t, p, "ecode.toml", "run = \"echo started; sleep 600\"\n")
	v, err := svc.Start(ctx, actor, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	snap, events, cancel, err := svc.Subscribe(ctx, actor, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	out := string(snap.Data)
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out, "started") {
		select {
		case e := <-events:
			out += string(e.Data)
		case <-deadline:
			t.Fatalf("the run never started; console %q", out)
		}
	}
	svc.StopProject(ctx, p.ID, "Out of credits: top up at http://localhost/usage")
	for !strings.Contains(out, "[Out of credits: top up at http://localhost/usage]") {
		select {
		case e := <-events:
			out += string(e.Data)
		case <-deadline:
			t.Fatalf("no reason in the console: %q", out)
		}
	}
	snap2, _, cancel2, err := svc.Subscribe(ctx, actor, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	cancel2()
	if snap2.Run == nil || snap2.Run.ID != v.ID || snap2.Run.Status != run.Stopped {
		t.Fatalf("run after StopProject = %+v, want %s stopped", snap2.Run, v.ID)
	}
	us, _ = rec.usage()
	wantUniqueKeys(t, us)
}

// TestOutOfCreditsRefusesWork: with the meter refusing, runs, commands
// and shells do not start, and the API answers 402 out_of_credits.
func TestOutOfCreditsRefusesWork(t *testing.T) {
	testserver.NeedSandbox(t)
	rec := &recorder{}
	pl := meteredRuns(t, rec, time.Hour, 1)
	svc, actor, p := pl.svc, pl.amy, pl.projects[0]
	pl.write(t, p, "ecode.toml", "run = \"echo hi\"\n")
	rec.setRefuse(errs.PaymentRequired("out_of_credits", "Out of credits: top up at http://localhost/usage to start new runs."))
	ctx := t.Context()

	_, err := svc.Start(ctx, actor, p.ID)
	wantOutOfCredits(t, "run", err)
	_, err = svc.Exec(ctx, actor, p.ID, "true", 0)
	wantOutOfCredits(t, "exec", err)
	shells, err := svc.Shells(ctx, actor, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = shells.Open(ctx, "one", 24, 80)
	wantOutOfCredits(t, "shell", err)
	if got := svc.RunningProjects(); len(got) != 0 {
		t.Fatalf("a sandbox started for a payer out of credits: %v", got)
	}

	rec.setRefuse(nil)
	if res, err := svc.Exec(ctx, actor, p.ID, "true", 0); err != nil || res.ExitCode != 0 {
		t.Fatalf("exec after a top-up = %+v, %v", res, err)
	}
}

func wantOutOfCredits(t *testing.T, what string, err error) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.KindPaymentRequired || e.Code != "out_of_credits" {
		t.Fatalf("%s: err = %v, want out_of_credits", what, err)
	}
	w := httptest.NewRecorder()
	httpx.Error(w, httptest.NewRequest("POST", "/", nil), err)
	if w.Code != http.StatusPaymentRequired || !strings.Contains(w.Body.String(), `"code":"out_of_credits"`) {
		t.Fatalf("%s: the API answers %d %s", what, w.Code, w.Body)
	}
}

// TestSandboxUsageSampled: running sandboxes are sampled every interval,
// all of them in one Record call, each sample under keys of its own.
func TestSandboxUsageSampled(t *testing.T) {
	testserver.NeedSandbox(t)
	rec := &recorder{}
	pl := meteredRuns(t, rec, 50*time.Millisecond, 2)
	svc, actor, p1, p2 := pl.svc, pl.amy, pl.projects[0], pl.projects[1]
	ctx := t.Context()
	for _, p := range pl.projects {
		if res, err := svc.Exec(ctx, actor, p.ID, busyLoop, time.Minute); err != nil || res.ExitCode != 0 {
			t.Fatalf("exec = %+v, %v", res, err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec.mu.Lock()
		both := false
		for _, c := range rec.calls {
			in := map[string]bool{}
			for _, u := range c {
				in[u.ProjectID] = true
			}
			both = both || (in[p1.ID] && in[p2.ID])
		}
		rec.mu.Unlock()
		if _, sums := rec.usage(); both && sums[billing.MeterCPU] > 0 {
			break
		}
		if time.Now().After(deadline) {
			us, _ := rec.usage()
			t.Fatalf("no pass sampled both sandboxes: %+v", us)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := len(svc.RunningProjects()); got != 2 {
		t.Fatalf("%d sandboxes running, want 2: samples must not stop them", got)
	}
	us, _ := rec.usage()
	wantUniqueKeys(t, us)
}

// BenchmarkMeterPass is one sampling pass's cost per sandbox: reading
// each running sandbox's cgroup (CPU and memory), what the meter does for
// every sandbox every interval. Its "cpu%@30s" is that cost as a share of
// one CPU at the default 30 s interval.
func BenchmarkMeterPass(b *testing.B) {
	testserver.NeedSandbox(b)
	const n = 8
	pl := meteredRuns(b, &recorder{}, time.Hour, n)
	ctx := b.Context()
	driver, err := bwrap.New(ctx, bwrap.Config{StateDir: filepath.Join(pl.dir, "bench"), Limits: bwrap.DefaultLimits()})
	if err != nil {
		b.Fatal(err)
	}
	defer driver.Close()
	var boxes []runtime.Sandbox
	for _, p := range pl.projects {
		sb, err := driver.Start(ctx, runtime.Spec{ID: p.ID, ProjectDir: pl.core.Projects.Dir(p.ID), Limits: runtime.Limits{MemoryBytes: 1 << 30, CPUs: 1, Pids: 256}})
		if err != nil {
			b.Fatal(err)
		}
		defer sb.Stop()
		boxes = append(boxes, sb)
	}
	if _, ok := boxes[0].Resources(); !ok {
		b.Skip("no cgroups here (not root): nothing to meter")
	}
	b.ResetTimer()
	for b.Loop() {
		for _, sb := range boxes {
			if _, ok := sb.Resources(); !ok {
				b.Fatal("a sandbox could not be measured")
			}
		}
	}
	perSandbox := float64(b.Elapsed().Microseconds()) / float64(b.N) / n
	b.ReportMetric(perSandbox, "µs/sandbox")
	b.ReportMetric(perSandbox/30e6*100, "cpu%@30s")
}
