package deploy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"ecode/internal/billing"
	"ecode/internal/billing/billingtest"
	deploysvc "ecode/internal/deploy"
	"ecode/internal/events"
	"ecode/internal/runtime/bwrap"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

var sizeName = regexp.MustCompile(`^[0-9.]+cpu-[0-9]+mib$`)

// TestDeploymentMeteredAndPaused: a build's CPU, a reserved VM's
// instance time (by size) and the bytes the edge serves are recorded as
// they go; a suspended deployment's instance stops, its time up to then
// is charged, and the edge answers 402 with a page that says why;
// resumed, it serves again.
func TestDeploymentMeteredAndPaused(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	carl := s.SignUp(t, "carl")
	p := project(t, carl, "Metered", appFiles("v1", "target = \"vm\"\nmaxInstances = 1\nbuild = \"i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done\"\n"))
	actor, err := s.App.Auth.UserByUsername(t.Context(), "carl")
	if err != nil {
		t.Fatal(err)
	}
	// A deploy service of its own, metered into rec, over the server's
	// projects and database.
	ctx, cancel := context.WithCancel(context.Background())
	driver, err := bwrap.New(ctx, bwrap.Config{StateDir: filepath.Join(s.App.Config.DataDir, "metered-sandboxes"), Limits: bwrap.DefaultLimits()})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	rec := &billingtest.Log{}
	svc := deploysvc.NewService(ctx, s.App.DB, events.New(), s.App.Projects, deploysvc.NewLocal(driver, nil, nil), deploysvc.Options{
		DataDir: filepath.Join(s.App.Config.DataDir, "metered"), Domain: "app.localhost", PublicURL: s.URL,
		Secrets: func(context.Context, string) ([]string, error) { return nil, nil },
		Meter:   rec, MeterInterval: 50 * time.Millisecond,
	})
	t.Cleanup(func() {
		cancel()
		svc.Wait()
		driver.Close()
	})

	rel, err := svc.Deploy(ctx, actor, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	r, err := svc.Log(ctx, actor, p.ID, rel.ID, func(c string) error { log.WriteString(c); return nil })
	if err != nil || r.Status != "ready" || !r.Live {
		t.Fatalf("release %+v, %v\n%s", r, err, log.String())
	}
	// The build ran in a sandbox of its own: charged to whoever deployed.
	build := map[string]billing.Usage{}
	for _, u := range append(rec.Of(billing.MeterCPU), rec.Of(billing.MeterMemory)...) {
		build[u.Key] = u
	}
	if u := build["build:"+r.ID+":cpu"]; u.Quantity <= 0 || u.UserID != actor.ID || u.ProjectID != p.ID {
		t.Fatalf("build usage %+v", build)
	}
	serve := func() (int, string) {
		w := httptest.NewRecorder()
		svc.ServeDeployment(w, httptest.NewRequest("GET", "http://"+host(p)+"/", nil), p.ID)
		return w.Code, w.Body.String()
	}
	code, body := serve()
	if code != http.StatusOK || !strings.HasPrefix(body, "v1 ") {
		t.Fatalf("/: %d %s", code, body)
	}
	eventually(t, 10*time.Second, "instance time and egress recorded", func() bool {
		return billingtest.Sum(rec.Of(billing.MeterInstance)) > 0 && billingtest.Sum(rec.Of(billing.MeterEgress)) >= int64(len(body))
	})
	for _, u := range rec.Of(billing.MeterInstance) {
		if u.ProjectID != p.ID || !sizeName.MatchString(u.Attr) || !strings.HasPrefix(u.Key, "inst:") {
			t.Fatalf("instance usage %+v", u)
		}
	}
	for _, u := range rec.Of(billing.MeterEgress) {
		if u.ProjectID != p.ID || !strings.HasPrefix(u.Key, "egress:"+p.ID+":") {
			t.Fatalf("egress usage %+v", u)
		}
	}

	// Out of credits: paused, nothing deleted.
	if err := svc.Suspend(ctx, p.ID, "Out of credits"); err != nil {
		t.Fatal(err)
	}
	code, body = serve()
	if code != http.StatusPaymentRequired || !strings.Contains(body, "This app is paused: its owner&#39;s credits have run out") && !strings.Contains(body, "This app is paused: its owner's credits have run out") {
		t.Fatalf("paused: %d %s", code, body)
	}
	live, err := svc.LiveProjects(ctx)
	if err != nil || !slices.Contains(live, p.ID) {
		t.Fatalf("live projects while paused = %v, %v: the release stays live", live, err)
	}
	in, _, err := svc.Instances(ctx, actor, p.ID)
	if err != nil || len(in) != 0 {
		t.Fatalf("instances while paused = %+v, %v", in, err)
	}
	// Its time is charged up to its stop, then no more: passes go by
	// (every 50 ms) with nothing running.
	eventually(t, 10*time.Second, "instance time stops", func() bool {
		before := billingtest.Sum(rec.Of(billing.MeterInstance))
		time.Sleep(200 * time.Millisecond)
		return billingtest.Sum(rec.Of(billing.MeterInstance)) == before
	})

	if err := svc.Resume(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "served again", func() bool {
		code, body := serve()
		return code == http.StatusOK && strings.HasPrefix(body, "v1 ")
	})
	seen := map[string]bool{}
	for _, u := range rec.All() {
		if seen[u.Key] {
			t.Fatalf("key %s recorded twice", u.Key)
		}
		seen[u.Key] = true
	}
}
