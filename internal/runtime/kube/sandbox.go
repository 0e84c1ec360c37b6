package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"ecode/internal/runtime"
	"ecode/internal/runtime/agent"
)

// parkedWaiting is how many accept requests wait per relay.
const parkedWaiting = 2

// Reasons of a container that will not start, whatever the wait.
var imageFailures = []string{"ErrImageNeverPull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"}

// Start creates the sandbox's pod and waits until its agent answers.
func (d *Driver) Start(ctx context.Context, spec runtime.Spec) (runtime.Sandbox, error) {
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return nil, errors.New("the sandbox driver has stopped")
	}
	if err := d.Check(ctx); err != nil {
		return nil, err
	}
	if d.cfg.DataClaim != "" {
		for _, dir := range []string{spec.ProjectDir, spec.CacheDir, spec.ToolCacheDir} {
			if rel, err := filepath.Rel(d.cfg.DataDir, dir); dir != "" && (err != nil || !filepath.IsLocal(rel)) {
				return nil, fmt.Errorf("%s is not in the data dir %s, which sandbox pods mount from claim %s", dir, d.cfg.DataDir, d.cfg.DataClaim)
			}
		}
	}
	for _, dir := range []string{spec.CacheDir, spec.ToolCacheDir} {
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("sandbox folder: %w", err)
			}
		}
	}
	image, err := d.sandboxImage(ctx)
	if err != nil {
		return nil, err
	}
	uid := runtime.SandboxUID(spec.ID)
	if os.Geteuid() == 0 {
		if err := runtime.HandOver(spec, uid); err != nil {
			return nil, err
		}
	}
	token := rand.Text() // the agent's: nothing of it appears anywhere else
	relays := slices.Clone(spec.Relays)
	egress := spec.Egress && d.cfg.Egress != nil
	if egress {
		relays = append(relays, runtime.Relay{Port: agent.EgressPort, Serve: func(ln net.Listener) { d.cfg.Egress.Serve(ln, spec.ID) }})
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := "sbx-" + dnsLabel(spec.ID) + "-" + hex.EncodeToString(suffix)
	s := &sandbox{
		d: d, id: spec.ID, name: name,
		env:     runtime.MergeEnv(runtime.SandboxEnv(spec, egress), spec.Env),
		updates: make(chan *corev1.Pod, 1),
		done:    make(chan struct{}),
	}
	d.mu.Lock()
	d.pods[name] = s
	d.mu.Unlock()
	s.limits = spec.Limits.Over(d.cfg.Limits)
	pod := d.pod(podSpec{name: name, image: image, token: token, uid: int64(uid), spec: spec, limits: s.limits, relays: relays})
	err = retry.OnError(retry.DefaultBackoff, transient, func() error {
		_, err := d.cs.CoreV1().Pods(d.cfg.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil // an earlier try's, whose answer was lost
		}
		return err
	})
	if err != nil {
		d.forget(s)
		return nil, explain(fmt.Errorf("create the sandbox pod: %w", err))
	}
	ip, err := s.waitRunning(ctx)
	if err != nil {
		_ = s.Stop()
		return nil, err
	}
	s.agent = agent.Client{Addr: net.JoinHostPort(ip, strconv.Itoa(agentPort)), Token: token}
	if err := s.waitAgent(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	s.relays = parkRelays(s.agent, relays)
	return s, nil
}

// transient reports an API error worth another try: the server busy or
// briefly unreachable.
func transient(err error) bool {
	var op *net.OpError
	return apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) ||
		apierrors.IsInternalError(err) || apierrors.IsTimeout(err) || errors.As(err, &op)
}

func (d *Driver) forget(s *sandbox) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pods[s.name] == s {
		delete(d.pods, s.name)
	}
}

type sandbox struct {
	d       *Driver
	id      string
	name    string
	env     []string
	limits  runtime.Limits
	agent   agent.Client
	relays  []*agent.Parked
	updates chan *corev1.Pod       // the pod's latest state, while Start waits
	lost    atomic.Pointer[string] // the node it was on, once that stopped answering
	done    chan struct{}
	once    sync.Once
	stop    sync.Once
}

// observe takes a new state of the pod: an ended or deleted pod ends the
// sandbox.
func (s *sandbox) observe(pod *corev1.Pod, deleted bool) {
	if node, lost := NodeLost(pod); lost {
		s.lost.Store(&node)
		s.d.log.Warn("a sandbox's node stopped answering", "pod", s.name, "node", node)
		go s.Stop() // no kubelet ends it: its pod goes at once
		deleted = true
	}
	if deleted || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		s.end()
	}
	select {
	case <-s.updates:
	default:
	}
	s.updates <- pod
}

func (s *sandbox) end() {
	s.once.Do(func() {
		close(s.done)
		for _, ln := range s.relays {
			ln.Close()
		}
	})
}

// waitRunning waits for the pod to run and returns its address. A pod no
// node has room for fails after Config.Pending, one whose image is
// missing at once.
func (s *sandbox) waitRunning(ctx context.Context) (string, error) {
	var unschedulable time.Time
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var pod *corev1.Pod
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("sandbox start: %w", ctx.Err())
		case <-s.done:
			return "", s.failure(nil)
		case pod = <-s.updates:
		case <-tick.C:
			if !unschedulable.IsZero() && time.Since(unschedulable) > s.d.cfg.Pending {
				return "", NoRoom("sandbox", s.d.cfg.Pending)
			}
			continue
		}
		if pod.Status.Phase == corev1.PodRunning && pod.Status.PodIP != "" {
			return pod.Status.PodIP, nil
		}
		if why, ok := Unschedulable(pod); ok && unschedulable.IsZero() {
			unschedulable = time.Now()
			s.d.log.Warn("sandbox pod waits for a node", "pod", s.name, "why", why)
		}
		if err := CannotStart(pod, "sandbox"); err != nil {
			return "", err
		}
		if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
			return "", s.failure(pod)
		}
	}
}

// failure says why a pod ended before its sandbox was up: its container's
// last state and the end of its log.
func (s *sandbox) failure(pod *corev1.Pod) error {
	if node := s.lost.Load(); node != nil {
		return LostNode("sandbox", *node)
	}
	why := "the sandbox pod ended before it was ready"
	if pod != nil {
		for _, cs := range pod.Status.ContainerStatuses {
			if t := cs.State.Terminated; t != nil {
				why += fmt.Sprintf(" (%s, exit %d)", t.Reason, t.ExitCode)
			}
		}
	}
	tail := int64(20)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if b, err := s.d.cs.CoreV1().Pods(s.d.cfg.Namespace).GetLogs(s.name, &corev1.PodLogOptions{TailLines: &tail}).DoRaw(ctx); err == nil && len(b) > 0 {
		why += ": " + strings.TrimSpace(string(b))
	}
	return errors.New(why)
}

// waitAgent waits until the agent answers on the pod's address.
func (s *sandbox) waitAgent(ctx context.Context) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := s.agent.Ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sandbox start: %w", ctx.Err())
		case <-s.done:
			return s.failure(nil)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the sandbox agent does not answer at %s: %w", s.agent.Addr, err)
		}
	}
}

func (s *sandbox) ID() string { return s.id }

func (s *sandbox) Done() <-chan struct{} { return s.done }

func (s *sandbox) Exec(ctx context.Context, c runtime.Command) (runtime.Process, error) {
	return runtime.AgentExec(ctx, s.agent, s.done, s.env, c)
}

func (s *sandbox) Ports(ctx context.Context) ([]int, error) { return s.agent.Ports(ctx) }

func (s *sandbox) Dial(ctx context.Context, port int) (net.Conn, error) {
	return s.agent.Dial(ctx, port)
}

// usage asks the agent for its cgroup's figures, briefly.
func (s *sandbox) usage() (agent.Usage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.agent.Usage(ctx)
}

func (s *sandbox) Resources() (runtime.Resources, bool) {
	u, err := s.usage()
	if err != nil {
		return runtime.Resources{}, false
	}
	pids := u.Limits.Pids
	if pids == 0 {
		pids = s.limits.Pids // RLIMIT_NPROC's, where the cgroup sets none
	}
	return runtime.Resources{
		Limits:     runtime.Limits{MemoryBytes: u.Limits.MemoryBytes, CPUs: u.Limits.CPUs, Pids: pids},
		MemoryUsed: u.Used.MemoryBytes, PidsUsed: u.Used.Pids, CPUUsec: u.Used.CPUUsec,
	}, true
}

func (s *sandbox) OOMKilled() bool {
	u, err := s.usage()
	return err == nil && u.OOMKilled
}

// Stop deletes the pod and waits until it is gone.
func (s *sandbox) Stop() error {
	var err error
	s.stop.Do(func() {
		defer s.d.forget(s)
		defer s.end()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		grace := int64(0)
		err = retry.OnError(retry.DefaultBackoff, transient, func() error {
			return s.d.cs.CoreV1().Pods(s.d.cfg.Namespace).Delete(ctx, s.name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
		})
		if apierrors.IsNotFound(err) {
			err = nil
		}
		if err != nil {
			err = explain(fmt.Errorf("delete sandbox pod %s: %w", s.name, err))
			return
		}
		select {
		case <-s.done:
		case <-ctx.Done():
		}
	})
	return err
}
