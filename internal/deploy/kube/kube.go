// Package kube is the deploy driver over Kubernetes objects: an app
// release's instance is a Deployment of one pod with a Service in front,
// a scheduled deployment is a CronJob (cron.go), and a run the platform
// ticks itself is a Job. Builds stay sandbox pods of the kube runtime
// (through deploy.Local).
//
// The pods run the release's command directly, from the release's own
// image or the sandbox image, as sandbox pods are held: an unprivileged
// uid of their own, no capabilities, no privilege escalation, a read-only
// root, the RuntimeDefault seccomp profile, no service account token,
// /tmp and the home in memory, the project's limits, the environment in a
// Secret. An instance reads its release and never writes it; a run writes
// its own copy. The project's services are relays on the pod's loopback,
// served by an agent in a sidecar (relay.go); beyond them, a pod reaches
// the internet directly when the project may, and nothing otherwise where
// the network enforces the driver's NetworkPolicies.
//
// Everything carries the runtime's labels and is owned by the server's
// ConfigMap (or by what it is made for), so deleting that removes all of
// it, and a starting server removes what its earlier run left, but for
// the CronJobs, which the servers of a cluster share and which go when
// their schedule does.
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

	batchv1 "k8s.io/api/batch/v1"
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
	labelServer   = "ecode.dev/server" // the runtime's: the server that made it
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
	roleCron = "cron" // a schedule's CronJob, its Jobs and their pods
	roleEnv  = "env"  // a workload's Secret
)

// Config of the driver.
type Config struct {
	// Runtime is the kube sandbox runtime: its cluster, namespace, server
	// id, image and mounts are the driver's too.
	Runtime *rkube.Driver
	// Local runs builds (sandbox pods of Runtime).
	Local *deploy.Local
	// Relays, when set, answers the services of the server a project's
	// pods reach on their loopback (its production database), as Local's.
	Relays func(projectID string) []runtime.Relay
	Log    *slog.Logger
}

// Driver is the kube deploy driver.
type Driver struct {
	rt     *rkube.Driver
	local  *deploy.Local
	relays func(projectID string) []runtime.Relay
	cs     kubernetes.Interface
	ns     string
	log    *slog.Logger
	life   context.Context // ends with Close: the watches'
	cancel context.CancelFunc

	mu     sync.Mutex
	watch  map[string]*tracker  // by workload name
	images map[string]*appImage // by release folder
}

var (
	_ deploy.Driver = (*Driver)(nil)
	_ deploy.Cron   = (*Driver)(nil)
)

// New checks what the driver may do, makes its NetworkPolicies, removes
// what an earlier run of the server left, and starts watching its pods.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if cfg.Runtime == nil || cfg.Local == nil {
		return nil, errors.New("kube deploy driver: needs the kube runtime and the local driver over it")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	d := &Driver{rt: cfg.Runtime, local: cfg.Local, relays: cfg.Relays, cs: cfg.Runtime.Clientset(), ns: cfg.Runtime.Namespace(),
		log: cfg.Log, watch: map[string]*tracker{}, images: map[string]*appImage{}}
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	if err := d.makePolicies(ctx); err != nil {
		return nil, err
	}
	if err := d.removeLeftovers(ctx); err != nil {
		return nil, err
	}
	d.life, d.cancel = context.WithCancel(context.Background())
	if _, err := rkube.WatchPods(d.life, d.cs, d.ns, d.selector(), d.observe); err != nil {
		d.cancel()
		return nil, fmt.Errorf("app pods: %w", err)
	}
	// A schedule's pods are of whichever server wrote its CronJob last.
	if _, err := rkube.WatchPods(d.life, d.cs, d.ns, d.cronSelector(), d.observe); err != nil {
		d.cancel()
		return nil, fmt.Errorf("scheduled run pods: %w", err)
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
	name := pod.Labels[labelWorkload]
	if name == "" { // a pod of a schedule's Job
		name = pod.Labels[batchv1.JobNameLabel]
	}
	d.mu.Lock()
	t := d.watch[name]
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
