package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ecode/internal/deploy"
	"ecode/internal/runtime"
	rkube "ecode/internal/runtime/kube"
)

// finishedTTL is how long a finished run's Job (and its pod's log) stays
// to be looked at.
const finishedTTL = 300

// Exec implements deploy.Driver: a Job of one pod running the command
// over the run's own copy of the release, which it may write. Ending ctx
// deletes the Job, and with it the pod.
func (d *Driver) Exec(ctx context.Context, e deploy.ExecSpec, out io.Writer) (runtime.Exit, error) {
	// Runs of one project never overlap: one uid each is enough, the one
	// Local's would have.
	uid := runtime.SandboxUID("cron-" + e.ProjectID)
	if err := handOver(e.Dir, uid); err != nil {
		return runtime.Exit{}, fmt.Errorf("hand the run's folder to its pod: %w", err)
	}
	image, err := d.rt.Image(ctx)
	if err != nil {
		return runtime.Exit{}, err
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := "run-" + rkube.DNSLabel(e.ProjectID) + "-" + hex.EncodeToString(suffix)
	relays := d.relaysOf(e.ProjectID)
	labels := d.labels(roleExec)
	labels[labelProject] = rkube.LabelValue(e.ProjectID)
	podLabels := d.labels(roleExec)
	podLabels[labelProject] = labels[labelProject]
	podLabels[labelWorkload] = name
	if e.Internet {
		podLabels[labelInternet] = "true"
	}
	tmpl, err := d.template(podShape{labels: podLabels, image: image, uid: int64(uid), command: e.Command, secret: name, dir: e.Dir, limits: e.Limits, relays: relays})
	if err != nil {
		return runtime.Exit{}, err
	}
	tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	none, ttl := int32(0), int32(finishedTTL)
	job := &batchv1.Job{
		ObjectMeta: d.meta(name, labels),
		Spec: batchv1.JobSpec{
			BackoffLimit:            &none,
			TTLSecondsAfterFinished: &ttl,
			Template:                tmpl,
		},
	}
	if dl, ok := ctx.Deadline(); ok {
		secs := int64(max(1, math.Ceil(time.Until(dl).Seconds())))
		job.Spec.ActiveDeadlineSeconds = &secs
	}
	t := d.follow(name, "run", out)
	t.relays = relays
	if err := d.makeSecret(ctx, name, withRelays(relays, e.Env), func() (metav1.OwnerReference, error) {
		made, err := d.cs.BatchV1().Jobs(d.ns).Create(ctx, job, metav1.CreateOptions{})
		if err != nil {
			return metav1.OwnerReference{}, rkube.Explain(fmt.Errorf("create Job %s: %w", name, err))
		}
		return ownerOf("batch/v1", "Job", made), nil
	}); err != nil {
		d.unfollow(t)
		return runtime.Exit{}, err
	}
	exit, err := t.wait(ctx, func() {}, func(ctx context.Context) error { return d.jobFailed(ctx, name) })
	if ctx.Err() != nil || err != nil && !t.started.Load() {
		// Stopped, or it never ran: nothing of it should stay.
		d.deleteJob(name)
	}
	t.finish()
	switch {
	case ctx.Err() != nil:
		return killed, nil
	case !t.started.Load():
		return runtime.Exit{}, fmt.Errorf("%s did not start: %w", e.Command, err)
	case errors.Is(err, errOutOfMemory):
		return exit, nil // the exit says it was killed; a run's error is for one that did not start
	case err != nil:
		return exit, fmt.Errorf("%s did not finish: %w", e.Command, err)
	}
	return exit, nil
}

// jobFailed says why a Job that has made no pod failed, if it has.
func (d *Driver) jobFailed(ctx context.Context, name string) error {
	job, err := d.cs.BatchV1().Jobs(d.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil // asked again on the next tick
	}
	for _, c := range job.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			return fmt.Errorf("its Job failed: %s %s", c.Reason, c.Message)
		}
	}
	return nil
}

// deleteJob deletes Job name and, before it goes, its pod.
func (d *Driver) deleteJob(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fg := metav1.DeletePropagationForeground
	if err := d.cs.BatchV1().Jobs(d.ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil && !apierrors.IsNotFound(err) {
		d.log.Warn("delete a run's Job", "job", name, "err", rkube.Explain(err))
	}
}
