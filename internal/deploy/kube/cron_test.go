package kube_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ecode/internal/deploy"
	"ecode/internal/testserver"
)

// A schedule is a CronJob whose Jobs wait, suspended, for the server to
// let them go; each run copies the release, writes its copy, reads its
// environment from a Secret, and is stopped at its timeout.
func TestSchedule(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	found := make(chan deploy.CronRun, 4)
	e.d.Runs(func(r deploy.CronRun) { found <- r })

	spec := deploy.CronSpec{ProjectID: "01PROJECTC", ReleaseID: "01RELEASEC", Cron: "* * * * *", TimeZone: "Europe/Paris",
		Dir:   release(t, map[string]string{"job.sh": "echo run of $GREETING; touch mine && echo wrote its copy; test -e /release || echo sees its copy only"}),
		Image: testserver.Registry(t) + "/ecode/alice-job:1", Command: "sh job.sh", Timeout: 20 * time.Second, Env: []string{"GREETING=tok-secret-1"}}
	if ok, err := e.d.Schedule(ctx, spec); err != nil || !ok {
		t.Fatalf("schedule: %v %v", ok, err)
	}
	// Twice is once: a server that schedules it again replaces it.
	if ok, err := e.d.Schedule(ctx, spec); err != nil || !ok {
		t.Fatalf("schedule again: %v %v", ok, err)
	}
	cj, err := e.cs.BatchV1().CronJobs(e.ns).Get(ctx, "cron-01projectc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	js := cj.Spec.JobTemplate.Spec
	if cj.Spec.Schedule != "* * * * *" || cj.Spec.TimeZone == nil || *cj.Spec.TimeZone != "Europe/Paris" || js.Suspend == nil || !*js.Suspend {
		t.Fatalf("CronJob: %+v", cj.Spec)
	}
	if raw := js.Template.String(); strings.Contains(raw, "tok-secret-1") {
		t.Fatal("the environment is in the pod's spec")
	}
	if img := js.Template.Spec.Containers[0].Image; !strings.Contains(img, "/ecode/alice-job@sha256:") {
		t.Fatalf("the release is not the image's: %s", img)
	}
	secret, err := e.cs.CoreV1().Secrets(e.ns).Get(ctx, cj.Name, metav1.GetOptions{})
	if err != nil || string(secret.Data["GREETING"]) != "tok-secret-1" || len(secret.OwnerReferences) != 1 || secret.OwnerReferences[0].UID != cj.UID {
		t.Fatalf("Secret: %v %+v", err, secret)
	}

	// Run now: started at once.
	run, err := e.d.RunNow(ctx, spec.ProjectID, spec.Env)
	if err != nil {
		t.Fatal(err)
	}
	var out output
	exit, err := run.Follow(ctx, spec.Env, &out)
	if err != nil || exit.Code != 0 || !run.Manual || !strings.Contains(out.String(), "run of tok-secret-1") ||
		!strings.Contains(out.String(), "wrote its copy") || !strings.Contains(out.String(), "sees its copy only") {
		t.Fatalf("run now: %+v %v\n%s", exit, err, out.String())
	}

	// The schedule's own run, within the minute: handed over suspended.
	var sched deploy.CronRun
	select {
	case sched = <-found:
	case <-time.After(90 * time.Second):
		t.Fatal("the schedule did not fire")
	}
	if sched.Manual || sched.ProjectID != spec.ProjectID || sched.ReleaseID != spec.ReleaseID || time.Since(sched.StartedAt) > time.Minute {
		t.Fatalf("scheduled run: %+v", sched)
	}
	// Each run has the environment as it is when it starts.
	var out2 output
	if exit, err := sched.Follow(ctx, []string{"GREETING=tok-secret-2"}, &out2); err != nil || exit.Code != 0 || !strings.Contains(out2.String(), "run of tok-secret-2") {
		t.Fatalf("scheduled run: %+v %v\n%s", exit, err, out2.String())
	}

	// A run past its timeout is stopped, its Job with it.
	spec.Command, spec.Timeout = "echo start; sleep 60", time.Second
	if ok, err := e.d.Schedule(ctx, spec); err != nil || !ok {
		t.Fatalf("schedule: %v %v", ok, err)
	}
	if run, err = e.d.RunNow(ctx, spec.ProjectID, spec.Env); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	var out3 output
	if _, err := run.Follow(ctx, spec.Env, &out3); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(out3.String(), "start") || time.Since(began) > 30*time.Second {
		t.Fatalf("timed-out run: %v %q after %s", err, out3.String(), time.Since(began))
	}

	// Only calendar schedules are the cluster's.
	if ok, err := e.d.Schedule(ctx, deploy.CronSpec{ProjectID: "01PROJECTD", Cron: "@every 5s", Dir: spec.Dir}); ok || err != nil {
		t.Fatalf("@every: %v %v", ok, err)
	}
	// Unschedule takes the CronJob and its Secret.
	if err := e.d.Unschedule(ctx, spec.ProjectID); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Unschedule(ctx, spec.ProjectID); err != nil {
		t.Fatalf("twice: %v", err)
	}
	eventually(t, time.Minute, func() bool {
		_, err := e.cs.CoreV1().Secrets(e.ns).Get(ctx, cj.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if _, err := e.d.RunNow(ctx, spec.ProjectID, nil); err == nil {
		t.Fatal("run now of no schedule")
	}
}
