package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"

	"ecode/internal/deploy"
	"ecode/internal/runtime"
	rkube "ecode/internal/runtime/kube"
)

// A scheduled deployment is a CronJob (one per project, whichever server
// of a cluster wrote it last), whose Jobs start suspended: the server
// holding the project records each run, then lets it go, or skips it
// while the previous one runs, as the platform's own ticking does. So a
// run is on record before it starts, a paused project runs nothing, and
// runs never overlap, manual ones included. Each run's pod copies the
// release into a folder of its own first.

const (
	labelManual = "ecode.dev/manual" // "true" on a Job of RunNow
	// missedAfter: a Job nobody let go within it is skipped as missed
	// (no server held the project at its time).
	missedAfter = 2 * time.Minute
	// scheduledAt is the CronJob controller's annotation of a Job's time.
	scheduledAt = "batch.kubernetes.io/cronjob-scheduled-timestamp"
	// annotationTimeout is a run's timeout in seconds, from its start: the
	// server following it stops it then. The Job's own deadline, which
	// counts from the Job's start, waits startSlack more, for a run nobody
	// follows.
	annotationTimeout = "ecode.dev/timeout"
	startSlack        = time.Minute
)

// cronName is the CronJob of projectID: its Jobs' names add 11
// characters to it, within a DNS label's 63.
func cronName(projectID string) string {
	n := "cron-" + rkube.DNSLabel(projectID)
	return strings.Trim(n[:min(len(n), 52)], "-")
}

// cronSelector selects the schedules' Jobs and pods, whichever server's.
func (d *Driver) cronSelector() string {
	l := d.labels(roleCron)
	delete(l, labelServer)
	return labelsOf(l)
}

// Schedule implements deploy.Cron. @every schedules are the platform's:
// a CronJob knows only calendar times.
func (d *Driver) Schedule(ctx context.Context, c deploy.CronSpec) (bool, error) {
	if strings.HasPrefix(c.Cron, "@every") {
		return false, nil
	}
	image, dir, err := d.imageFor(ctx, c.Image, c.Dir)
	if err != nil {
		return false, err
	}
	name := cronName(c.ProjectID)
	relays := d.relaysOf(c.ProjectID)
	labels := d.labels(roleCron)
	labels[labelProject] = rkube.LabelValue(c.ProjectID)
	labels[labelRelease] = rkube.LabelValue(c.ReleaseID)
	podLabels := maps.Clone(labels)
	if c.Internet {
		podLabels[labelInternet] = "true"
	}
	tmpl, err := d.template(podShape{labels: podLabels, image: image, uid: int64(runtime.SandboxUID("cron-" + c.ProjectID)),
		command: c.Command, secret: name, dir: dir, copied: true, limits: c.Limits, relays: relays})
	if err != nil {
		return false, err
	}
	tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	none, ttl, kept := int32(0), int32(finishedTTL), int32(3)
	timeout := max(time.Second, c.Timeout)
	deadline := int64((timeout + startSlack) / time.Second)
	suspended := true
	cj := &batchv1.CronJob{
		ObjectMeta: d.meta(name, labels),
		Spec: batchv1.CronJobSpec{
			Schedule:                   c.Cron,
			ConcurrencyPolicy:          batchv1.AllowConcurrent, // the holder skips overlaps and says so
			SuccessfulJobsHistoryLimit: &kept,
			FailedJobsHistoryLimit:     &kept,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					annotationTimeout: strconv.FormatInt(int64(timeout/time.Second), 10),
				}},
				Spec: batchv1.JobSpec{
					Suspend:                 &suspended,
					BackoffLimit:            &none,
					ActiveDeadlineSeconds:   &deadline,
					TTLSecondsAfterFinished: &ttl,
					Template:                tmpl,
				},
			},
		},
	}
	if c.TimeZone != "" && c.TimeZone != "UTC" {
		cj.Spec.TimeZone = &c.TimeZone
	}
	made, err := d.cs.BatchV1().CronJobs(d.ns).Create(ctx, cj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := d.cs.BatchV1().CronJobs(d.ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			cur.Labels, cur.OwnerReferences, cur.Spec = cj.Labels, cj.OwnerReferences, cj.Spec
			made, err = d.cs.BatchV1().CronJobs(d.ns).Update(ctx, cur, metav1.UpdateOptions{})
			return err
		})
	}
	if err != nil {
		return false, rkube.Explain(fmt.Errorf("write CronJob %s: %w", name, err))
	}
	if err := d.cronEnv(ctx, c.ProjectID, ownerOf("batch/v1", "CronJob", made), c.Env); err != nil {
		return false, err
	}
	return true, nil
}

// cronEnv writes the Secret of projectID's CronJob cj with env. Each run
// is let go after it, so it has the project's environment as it is then.
func (d *Driver) cronEnv(ctx context.Context, projectID string, cj metav1.OwnerReference, env []string) error {
	secret := d.envSecret(cj.Name, withRelays(d.relaysOf(projectID), env))
	secret.Labels = d.labels(roleCron) // not a leftover of this server's: it goes with the CronJob
	secret.OwnerReferences = []metav1.OwnerReference{cj}
	if err := d.putSecret(ctx, secret); err != nil {
		return fmt.Errorf("write Secret %s: %w", cj.Name, err)
	}
	return nil
}

// Unschedule implements deploy.Cron: the CronJob goes, and with it its
// Jobs (a run in progress ends) and its Secret.
func (d *Driver) Unschedule(ctx context.Context, projectID string) error {
	bg := metav1.DeletePropagationBackground
	err := d.cs.BatchV1().CronJobs(d.ns).Delete(ctx, cronName(projectID), metav1.DeleteOptions{PropagationPolicy: &bg})
	if err != nil && !apierrors.IsNotFound(err) {
		return rkube.Explain(fmt.Errorf("delete CronJob %s: %w", cronName(projectID), err))
	}
	return nil
}

// RunNow implements deploy.Cron: a Job of the CronJob's template, not
// suspended, owned by the CronJob.
func (d *Driver) RunNow(ctx context.Context, projectID string, env []string) (deploy.CronRun, error) {
	cj, err := d.cs.BatchV1().CronJobs(d.ns).Get(ctx, cronName(projectID), metav1.GetOptions{})
	if err != nil {
		return deploy.CronRun{}, rkube.Explain(fmt.Errorf("read CronJob %s: %w", cronName(projectID), err))
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	yes, no := true, false
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: cj.Name + "-now-" + hex.EncodeToString(suffix), Namespace: d.ns,
			Labels:          maps.Clone(cj.Spec.JobTemplate.Labels),
			Annotations:     maps.Clone(cj.Spec.JobTemplate.Annotations),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: &yes}}},
		Spec: *cj.Spec.JobTemplate.Spec.DeepCopy(),
	}
	job.Labels[labelManual] = "true"
	job.Spec.Suspend = &no
	if err := d.cronEnv(ctx, projectID, ownerOf("batch/v1", "CronJob", cj), env); err != nil {
		return deploy.CronRun{}, err
	}
	t := d.take(job.Name, projectID)
	made, err := d.cs.BatchV1().Jobs(d.ns).Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		d.drop(job.Name)
		return deploy.CronRun{}, rkube.Explain(fmt.Errorf("create Job %s: %w", job.Name, err))
	}
	return d.cronRun(made, t), nil
}

// Runs implements deploy.Cron: a watch of the schedules' Jobs (of every
// server's) hands found each suspended one nobody has let go yet. It
// comes again on the watch's resync, for a server that has since come to
// hold its project.
func (d *Driver) Runs(found func(deploy.CronRun)) {
	sel := d.cronSelector()
	f := informers.NewSharedInformerFactoryWithOptions(d.cs, 30*time.Second, informers.WithNamespace(d.ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel }))
	inf := f.Batch().V1().Jobs().Informer()
	offer := func(obj any) {
		job, ok := obj.(*batchv1.Job)
		if !ok || job.Spec.Suspend == nil || !*job.Spec.Suspend || job.Status.StartTime != nil {
			return
		}
		d.mu.Lock()
		t := d.watch[job.Name]
		d.mu.Unlock()
		if t != nil {
			return // taken: being let go
		}
		found(d.cronRun(job, nil))
	}
	gone := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if job, ok := obj.(*batchv1.Job); ok {
			d.drop(job.Name)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    offer,
		UpdateFunc: func(_, obj any) { offer(obj) },
		DeleteFunc: gone,
	}); err != nil {
		d.log.Error("watch the schedules' Jobs", "err", err)
		return
	}
	f.Start(d.life.Done())
}

// take follows the pods of Job name, of projectID, from now on.
func (d *Driver) take(name, projectID string) *tracker {
	t := d.follow(name, "run", nil)
	t.relays = d.relaysOf(projectID)
	return t
}

// drop stops following Job name.
func (d *Driver) drop(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.watch, name)
}

// cronRun is job as a run; t is its tracker when it is already taken.
func (d *Driver) cronRun(job *batchv1.Job, t *tracker) deploy.CronRun {
	at := job.CreationTimestamp.Time
	if v, err := time.Parse(time.RFC3339, job.Annotations[scheduledAt]); err == nil {
		at = v
	}
	name, uid := job.Name, job.UID
	timeout := time.Hour
	if secs, err := strconv.Atoi(job.Annotations[annotationTimeout]); err == nil && secs > 0 {
		timeout = time.Duration(secs) * time.Second
	}
	r := deploy.CronRun{
		ProjectID: job.Labels[labelProject], ReleaseID: job.Labels[labelRelease],
		Name: name + "/" + string(uid), Manual: job.Labels[labelManual] == "true", StartedAt: at,
	}
	r.Follow = func(ctx context.Context, env []string, out io.Writer) (runtime.Exit, error) {
		if t == nil {
			if time.Since(at) > missedAfter {
				d.deleteJob(name)
				return runtime.Exit{}, fmt.Errorf("%w: no server held the project at %s", deploy.ErrMissed, at.UTC().Format(time.RFC3339))
			}
			owner := metav1.GetControllerOf(job)
			if owner == nil {
				return runtime.Exit{}, fmt.Errorf("Job %s is of no CronJob", name)
			}
			if err := d.cronEnv(ctx, r.ProjectID, *owner, env); err != nil {
				return runtime.Exit{}, err
			}
			t = d.take(name, r.ProjectID)
			if err := d.letGo(ctx, name, uid); err != nil {
				d.drop(name)
				return runtime.Exit{}, err
			}
		}
		return d.followRun(ctx, name, timeout, t, out)
	}
	r.Skip = func(ctx context.Context) {
		d.drop(name)
		d.deleteJob(name)
	}
	return r
}

// letGo lets a suspended Job of a schedule start.
func (d *Driver) letGo(ctx context.Context, name string, uid types.UID) error {
	patch := fmt.Sprintf(`{"metadata":{"uid":%q},"spec":{"suspend":false}}`, uid)
	_, err := d.cs.BatchV1().Jobs(d.ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		return rkube.Explain(fmt.Errorf("start Job %s: %w", name, err))
	}
	return nil
}

// followRun follows Job name's pod through t until it ends, and stops it
// once it has run for its timeout.
func (d *Driver) followRun(ctx context.Context, name string, timeout time.Duration, t *tracker, out io.Writer) (runtime.Exit, error) {
	t.out = out
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var overran atomic.Bool
	var timer *time.Timer
	exit, err := t.wait(wctx, func() {
		timer = time.AfterFunc(timeout, func() { overran.Store(true); stop() })
	}, func(ctx context.Context) error {
		// Its pod may have come before the tracker did.
		pods, lerr := d.cs.CoreV1().Pods(d.ns).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + name})
		if lerr == nil {
			for i := range pods.Items {
				t.observe(&pods.Items[i], false)
			}
		}
		return d.jobFailed(ctx, name)
	})
	if timer != nil {
		timer.Stop()
	}
	if overran.Load() {
		d.deleteJob(name)
	}
	t.finish()
	switch {
	case overran.Load():
		return killed, context.DeadlineExceeded
	case ctx.Err() != nil:
		return killed, ctx.Err()
	case (err != nil || exit.Signal != "") && d.pastDeadline(ctx, name):
		return killed, context.DeadlineExceeded
	case !t.started.Load():
		return runtime.Exit{}, fmt.Errorf("the run did not start: %w", err)
	case errors.Is(err, errOutOfMemory):
		return exit, nil
	case err != nil:
		return exit, fmt.Errorf("the run did not finish: %w", err)
	}
	return exit, nil
}

// pastDeadline says whether Job name was stopped at its deadline; the
// controller may mark it a moment after it killed the pod.
func (d *Driver) pastDeadline(ctx context.Context, name string) bool {
	for try := 0; try < 20; try++ {
		job, err := d.cs.BatchV1().Jobs(d.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range job.Status.Conditions {
			if (c.Type == batchv1.JobFailed || c.Type == batchv1.JobFailureTarget) && c.Status == corev1.ConditionTrue {
				return c.Reason == batchv1.JobReasonDeadlineExceeded
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(250 * time.Millisecond):
		}
	}
	return false
}
