package kube

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ecode/internal/runtime"
	rkube "ecode/internal/runtime/kube"
)

// container is the name of the one container of the driver's pods.
const container = "app"

// killed is how a command that was stopped ended.
var killed = runtime.Exit{Code: -1, Signal: "killed"}

// tracker follows the pod of one Deployment or Job, as the driver's watch
// reports it: whether its container has started, how it first ended, and
// its output, copied to out.
type tracker struct {
	d       *Driver
	name    string // the workload's
	what    string // "instance" or "run", in messages
	out     io.Writer
	changed chan struct{} // a pod changed; holds one
	started atomic.Bool
	copied  atomic.Int64 // bytes of output copied to out
	relays  []runtime.Relay
	unrelay func() // ends the relays, once served

	mu   sync.Mutex
	pod  *corev1.Pod // the latest state of the pod followed: the first seen
	gone bool        // that pod was deleted

	logs     chan struct{} // closed once output is copied; nil until it started
	stopLogs context.CancelFunc
}

func newTracker(d *Driver, name, what string, out io.Writer) *tracker {
	return &tracker{d: d, name: name, what: what, out: out, changed: make(chan struct{}, 1)}
}

// observe takes a new state of a pod of the workload. Only the first pod
// counts: a replacement the Deployment makes is not the instance that
// was started, which has ended.
func (t *tracker) observe(pod *corev1.Pod, deleted bool) {
	t.mu.Lock()
	if t.pod == nil || t.pod.Name == pod.Name {
		t.pod = pod
		t.gone = t.gone || deleted
	}
	t.mu.Unlock()
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// podIP is the followed pod's address; empty before it has one.
func (t *tracker) podIP() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pod == nil {
		return ""
	}
	return t.pod.Status.PodIP
}

// wait follows the workload until its container first ends, it cannot
// start, or ctx ends; onStart is called once the container has started.
// stuck, asked while no pod has shown up, says why none will.
func (t *tracker) wait(ctx context.Context, onStart func(), stuck func(context.Context) error) (runtime.Exit, error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	begun := time.Now()
	var unschedulable time.Time
	for {
		select {
		case <-ctx.Done():
			return killed, ctx.Err()
		case <-t.changed:
		case <-tick.C:
		}
		t.mu.Lock()
		pod, gone := t.pod, t.gone
		t.mu.Unlock()
		if pod == nil {
			if time.Since(begun) > 2*time.Second {
				if err := stuck(ctx); err != nil {
					return runtime.Exit{}, err
				}
			}
			continue
		}
		c := status(pod)
		if c != nil && !t.started.Load() && (c.State.Running != nil || c.State.Terminated != nil || c.RestartCount > 0) {
			t.started.Store(true)
			t.unrelay = serveRelays(pod, t.relays)
			// Restarted already: the first run's output is the previous one's.
			t.copyLogs(pod.Name, c.RestartCount > 0)
			onStart()
		}
		if c != nil {
			if end := c.State.Terminated; end != nil {
				return exitOf(end)
			}
			if end := c.LastTerminationState.Terminated; end != nil && c.RestartCount > 0 {
				return exitOf(end)
			}
		}
		if node, lost := rkube.NodeLost(pod); lost {
			t.forget(pod.Name)
			return killed, rkube.LostNode(t.what, node)
		}
		switch {
		case gone:
			return killed, fmt.Errorf("its pod %s was deleted", pod.Name)
		case pod.Status.Phase == corev1.PodFailed:
			return killed, fmt.Errorf("its pod failed: %s %s", pod.Status.Reason, pod.Status.Message)
		case t.started.Load():
			continue
		}
		if err := rkube.CannotStart(pod, t.what); err != nil {
			return runtime.Exit{}, err
		}
		if why, ok := rkube.Unschedulable(pod); ok {
			if unschedulable.IsZero() {
				unschedulable = time.Now()
				t.d.log.Warn("deploy pod waits for a node", "pod", pod.Name, "why", why)
			} else if time.Since(unschedulable) > t.d.rt.Pending() {
				return runtime.Exit{}, rkube.NoRoom(t.what, t.d.rt.Pending())
			}
		}
	}
}

// forget deletes pod at once: it is on a node that stopped answering, so
// no kubelet would confirm its end.
func (t *tracker) forget(pod string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	grace := int64(0)
	if err := t.d.cs.CoreV1().Pods(t.d.ns).Delete(ctx, pod, metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil && !apierrors.IsNotFound(err) {
		t.d.log.Warn("remove a pod of a lost node", "pod", pod, "err", rkube.Explain(err))
	}
}

// status is the pod's container's status; nil before it has one.
func status(pod *corev1.Pod) *corev1.ContainerStatus {
	for i := range pod.Status.ContainerStatuses {
		if pod.Status.ContainerStatuses[i].Name == container {
			return &pod.Status.ContainerStatuses[i]
		}
	}
	return nil
}

// copyLogs copies the container's output to out as it comes, until it
// ends or finish stops it.
func (t *tracker) copyLogs(pod string, previous bool) {
	ctx, cancel := context.WithCancel(context.Background())
	t.stopLogs, t.logs = cancel, make(chan struct{})
	go func() {
		defer close(t.logs)
		opts := &corev1.PodLogOptions{Container: container, Follow: !previous, Previous: previous}
		// The kubelet may not serve a container's log the moment it starts.
		for try := 0; ; try++ {
			rc, err := t.d.cs.CoreV1().Pods(t.d.ns).GetLogs(pod, opts).Stream(ctx)
			if err == nil {
				_, _ = io.Copy(counted{t.out, &t.copied}, rc)
				rc.Close()
				return
			}
			if try == 10 {
				t.d.log.Warn("read a deploy pod's output", "pod", pod, "err", err)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
}

// counted counts what passes to w.
type counted struct {
	w io.Writer
	n *atomic.Int64
}

func (c counted) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// caughtUp waits until the output copied is all the container has
// written so far, as the kubelet has it, or ctx ends.
func (t *tracker) caughtUp(ctx context.Context) {
	t.mu.Lock()
	pod := t.pod
	t.mu.Unlock()
	if pod == nil || !t.started.Load() {
		return
	}
	raw, err := t.d.cs.CoreV1().Pods(t.d.ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: container}).DoRaw(ctx)
	if err != nil {
		return
	}
	for t.copied.Load() < int64(len(raw)) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// finish stops following: the rest of the output has a moment to come,
// and nothing is written to out once it returns.
func (t *tracker) finish() {
	t.d.unfollow(t)
	if t.unrelay != nil {
		t.unrelay()
	}
	if t.logs == nil {
		return
	}
	select {
	case <-t.logs:
	case <-time.After(2 * time.Second):
	}
	t.stopLogs()
	<-t.logs
}
