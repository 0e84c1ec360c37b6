// Package kube is the deploy driver over Kubernetes objects: an app
// release's instance is a Deployment of one pod with a Service in front,
// and a scheduled deployment's run is a Job. Builds stay sandbox pods of
// the kube runtime (through deploy.Local).
//
// The pods run the release's command directly, from the sandbox image,
// as sandbox pods are held: an unprivileged uid of their own, no
// capabilities, no privilege escalation, a read-only root, the
// RuntimeDefault seccomp profile, no service account token, /tmp and the
// home in memory, the project's limits. An instance reads its release
// and never writes it; a run writes its own copy. Unlike a sandbox, such
// a pod has no agent and so no relays: it reaches the internet directly
// when the project may, and nothing otherwise where the network enforces
// the driver's NetworkPolicies.
//
// Everything carries the runtime's labels and is owned by the server's
// ConfigMap, so deleting that removes all of it, and a starting server
// removes what its earlier run left.
package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/kubernetes"

	"ecode/internal/deploy"
	"ecode/internal/runtime"
	rkube "ecode/internal/runtime/kube"
)

// Labels of the driver's own, besides the runtime's.
const (
	labelRole     = "ecode.dev/role"
	labelProject  = "ecode.dev/project"
	labelRelease  = "ecode.dev/release"
	labelInstance = "ecode.dev/instance"
	labelInternet = "ecode.dev/internet" // "true" on pods that may reach the internet
	// labelWorkload names the Deployment or Job a pod is of: the watch
	// hands each pod to its waiter by it.
	labelWorkload = "ecode.dev/workload"
)

// Roles of the driver's objects.
const (
	roleApp  = "app"
	roleExec = "exec"
)

// Config of the driver.
type Config struct {
	// Runtime is the kube sandbox runtime: its cluster, namespace, server
	// id, image and mounts are the driver's too.
	Runtime *rkube.Driver
	// Local runs builds (sandbox pods of Runtime).
	Local *deploy.Local
	Log   *slog.Logger
}

// Driver is the kube deploy driver.
type Driver struct {
	rt     *rkube.Driver
	local  *deploy.Local
	cs     kubernetes.Interface
	ns     string
	log    *slog.Logger
	cancel context.CancelFunc

	mu    sync.Mutex
	watch map[string]*tracker // by workload name
}

var _ deploy.Driver = (*Driver)(nil)

// New checks what the driver may do, makes its NetworkPolicies, removes
// what an earlier run of the server left, and starts watching its pods.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if cfg.Runtime == nil || cfg.Local == nil {
		return nil, errors.New("kube deploy driver: needs the kube runtime and the local driver over it")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	d := &Driver{rt: cfg.Runtime, local: cfg.Local, cs: cfg.Runtime.Clientset(), ns: cfg.Runtime.Namespace(),
		log: cfg.Log, watch: map[string]*tracker{}}
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	if err := d.makePolicies(ctx); err != nil {
		return nil, err
	}
	if err := d.removeLeftovers(ctx); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	if _, err := rkube.WatchPods(wctx, d.cs, d.ns, d.selector(), d.observe); err != nil {
		cancel()
		return nil, fmt.Errorf("app pods: %w", err)
	}
	return d, nil
}

// Close stops the watch. Instances keep running until the next server's
// New removes them.
func (d *Driver) Close() error {
	d.cancel()
	return nil
}

// Name implements deploy.Driver.
func (d *Driver) Name() string { return "kube" }

// Build implements deploy.Driver: a sandbox pod, as Local builds.
func (d *Driver) Build(ctx context.Context, b deploy.BuildSpec, out io.Writer) error {
	return d.local.Build(ctx, b, out)
}

// labels are those of every object of the driver's in role.
func (d *Driver) labels(role string) map[string]string {
	return d.rt.Labels(role)
}

// own are the labels of everything of this server's, whatever its role.
func (d *Driver) own() map[string]string {
	l := d.rt.Labels("")
	delete(l, labelRole)
	return l
}

// selector selects the pods of the driver's Deployments and Jobs.
func (d *Driver) selector() string {
	roles, err := labels.NewRequirement(labelRole, selection.In, []string{roleApp, roleExec})
	if err != nil {
		panic(err) // constant
	}
	return labels.SelectorFromSet(d.own()).Add(*roles).String()
}

// labelsOf is the selector of set.
func labelsOf(set map[string]string) string { return labels.SelectorFromSet(set).String() }

// follow registers a tracker of workload name's pods.
func (d *Driver) follow(name, what string, out io.Writer) *tracker {
	t := newTracker(d, name, what, out)
	d.mu.Lock()
	d.watch[name] = t
	d.mu.Unlock()
	return t
}

func (d *Driver) unfollow(t *tracker) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.watch[t.name] == t {
		delete(d.watch, t.name)
	}
}

// observe passes a pod's new state to the tracker of its workload.
func (d *Driver) observe(pod *corev1.Pod, deleted bool) {
	d.mu.Lock()
	t := d.watch[pod.Labels[labelWorkload]]
	d.mu.Unlock()
	if t != nil {
		t.observe(pod, deleted)
	}
}

// exitOf reads a container's end as a shell does: a status above 128 is
// the signal that killed it (137: SIGKILL). The memory limit's kill is an
// error, as Local reports it.
func exitOf(t *corev1.ContainerStateTerminated) (runtime.Exit, error) {
	code := int(t.ExitCode)
	sig := int(t.Signal)
	if sig == 0 && code > 128 && code < 128+65 {
		sig = code - 128
	}
	var err error
	if t.Reason == "OOMKilled" {
		err = errOutOfMemory
	}
	if sig != 0 {
		return runtime.Exit{Code: -1, Signal: signalName(sig)}, err
	}
	return runtime.Exit{Code: code}, err
}

func signalName(sig int) string { return strings.ToLower(syscall.Signal(sig).String()) }

var errOutOfMemory = errors.New("it ran out of memory")
