package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"ecode/internal/deploy"
	"ecode/internal/runtime"
	rkube "ecode/internal/runtime/kube"
)

// Start implements deploy.Driver: a Deployment of one pod running the
// command over the release, mounted read-only, and a Service in front.
// It returns once the container has started. The platform starts
// instances again itself, so the instance ends the first time its
// container does, and takes its Deployment with it.
func (d *Driver) Start(ctx context.Context, i deploy.InstanceSpec, out io.Writer) (deploy.Instance, error) {
	image, dir, err := d.imageFor(ctx, i.Image, i.Dir)
	if err != nil {
		return nil, err
	}
	name := "app-" + rkube.DNSLabel(i.ID)
	relays := d.relaysOf(i.ProjectID)
	labels := d.labels(roleApp)
	labels[labelProject] = rkube.LabelValue(i.ProjectID)
	labels[labelRelease] = rkube.LabelValue(i.ReleaseID)
	labels[labelInstance] = rkube.LabelValue(i.ID)
	selector := d.own()
	selector[labelWorkload] = name
	podLabels := maps.Clone(labels)
	podLabels[labelWorkload] = name
	if i.Internet {
		podLabels[labelInternet] = "true"
	}
	tmpl, err := d.template(podShape{labels: podLabels, image: image, uid: int64(runtime.SandboxUID(i.ID)), command: i.Command,
		secret: name, dir: dir, readOnly: true, copied: dir == "", relays: relays, port: i.Port, limits: i.Limits, gpu: i.GPU})
	if err != nil {
		return nil, err
	}
	one := int32(1)
	dep := &appsv1.Deployment{
		ObjectMeta: d.meta(name, labels),
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: tmpl,
		},
	}
	svc := &corev1.Service{
		ObjectMeta: d.meta(name, labels),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: selector,
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt(i.Port), Protocol: corev1.ProtocolTCP}},
		},
	}
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	in := &instance{d: d, name: name, port: i.Port, cancel: cancel, started: make(chan struct{}), done: make(chan struct{})}
	in.t = d.follow(name, "instance", out)
	in.t.relays = relays
	env := runtime.MergeEnv(withRelays(relays, i.Env), []string{"PORT=" + strconv.Itoa(i.Port)})
	if err := d.makeSecret(ctx, name, env, func() (metav1.OwnerReference, error) {
		made, err := d.cs.AppsV1().Deployments(d.ns).Create(ctx, dep, metav1.CreateOptions{})
		if err != nil {
			return metav1.OwnerReference{}, rkube.Explain(fmt.Errorf("create Deployment %s: %w", name, err))
		}
		return ownerOf("apps/v1", "Deployment", made), nil
	}); err != nil {
		d.unfollow(in.t)
		cancel()
		return nil, err
	}
	if _, err := d.cs.CoreV1().Services(d.ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		d.unfollow(in.t)
		cancel()
		_ = in.remove(context.WithoutCancel(ctx), metav1.DeletePropagationBackground)
		return nil, rkube.Explain(fmt.Errorf("create Service %s: %w", name, err))
	}
	go in.run(life)
	select {
	case <-in.started:
		return in, nil
	case <-in.done:
	case <-ctx.Done():
	}
	select {
	case <-in.started: // and ended at once: Done says so
		return in, nil
	default:
	}
	_ = in.Stop()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("instance start: %w", ctx.Err())
	}
	return nil, fmt.Errorf("%s did not start: %w", i.Command, in.err)
}

type instance struct {
	d       *Driver
	name    string // of the Deployment, the Service and the tracker
	port    int
	t       *tracker
	cancel  context.CancelFunc // ends run
	started chan struct{}
	done    chan struct{}
	exit    runtime.Exit // set before done is closed
	err     error

	mu       sync.Mutex
	addr     string // a ready endpoint's, once found: the pod's, which keeps it
	stop     sync.Once
	stopping atomic.Bool
	stopErr  error
}

// run follows the instance until its container first ends, then removes
// its objects, unless Stop does.
func (in *instance) run(life context.Context) {
	exit, err := in.t.wait(life, func() { close(in.started) }, in.stuck)
	in.t.finish()
	in.exit, in.err = exit, err
	if in.stopping.Load() {
		in.exit, in.err = killed, nil
	} else { // ended by itself: nothing may restart it
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := in.remove(ctx, metav1.DeletePropagationBackground); err != nil {
			in.d.log.Warn("remove an ended instance", "instance", in.name, "err", err)
		}
		cancel()
	}
	close(in.done)
}

// stuck says why the Deployment has made no pod, if it cannot.
func (in *instance) stuck(ctx context.Context) error {
	dep, err := in.d.cs.AppsV1().Deployments(in.d.ns).Get(ctx, in.name, metav1.GetOptions{})
	if err != nil {
		return nil // asked again on the next tick
	}
	for _, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			return fmt.Errorf("its pod cannot be made: %s", c.Message)
		}
	}
	return nil
}

// Dial connects to a ready endpoint of the Service. There may be no
// kube-proxy routing the Service's ClusterIP, so the endpoint is the
// pod's own address; before the pod is ready, its address as the watch
// has it.
func (in *instance) Dial(ctx context.Context) (net.Conn, error) {
	select {
	case <-in.done:
		return nil, errors.New("the instance has ended")
	default:
	}
	in.mu.Lock()
	addr := in.addr
	in.mu.Unlock()
	if addr == "" {
		ready, err := in.endpoint(ctx)
		if err != nil {
			return nil, err
		}
		addr = ready
		if addr != "" {
			in.mu.Lock()
			in.addr = addr
			in.mu.Unlock()
		} else if ip := in.t.podIP(); ip != "" {
			addr = net.JoinHostPort(ip, strconv.Itoa(in.port))
		} else {
			return nil, errors.New("the instance has no address yet")
		}
	}
	var dl net.Dialer
	return dl.DialContext(ctx, "tcp", addr)
}

// endpoint is a ready endpoint of the Service's EndpointSlices; empty
// when there is none yet.
func (in *instance) endpoint(ctx context.Context) (string, error) {
	slices, err := in.d.cs.DiscoveryV1().EndpointSlices(in.d.ns).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + in.name,
	})
	if err != nil {
		return "", rkube.Explain(fmt.Errorf("read the endpoints of %s: %w", in.name, err))
	}
	for _, s := range slices.Items {
		port := in.port
		for _, p := range s.Ports {
			if p.Port != nil && (p.Name == nil || *p.Name == "http") {
				port = int(*p.Port)
			}
		}
		for _, e := range s.Endpoints {
			if (e.Conditions.Ready == nil || *e.Conditions.Ready) && len(e.Addresses) > 0 {
				return net.JoinHostPort(e.Addresses[0], strconv.Itoa(port)), nil
			}
		}
	}
	return "", nil
}

func (in *instance) Done() <-chan struct{} { return in.done }

// SyncOutput implements deploy.OutputSyncer: pod logs come a moment
// after the app writes them.
func (in *instance) SyncOutput(ctx context.Context) { in.t.caughtUp(ctx) }

func (in *instance) Exit() (runtime.Exit, error) {
	<-in.done
	return in.exit, in.err
}

// Stop deletes the Deployment and the Service, and waits until their
// pod is gone.
func (in *instance) Stop() error {
	in.stop.Do(func() {
		in.stopping.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		in.stopErr = in.remove(ctx, metav1.DeletePropagationForeground)
		// Foreground: the Deployment is there until its pod has gone.
		if in.stopErr == nil {
			_ = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
				_, err := in.d.cs.AppsV1().Deployments(in.d.ns).Get(ctx, in.name, metav1.GetOptions{})
				return apierrors.IsNotFound(err), nil
			})
		}
		in.cancel()
	})
	<-in.done
	return in.stopErr
}

// remove deletes the Deployment and the Service; either gone already is
// no error.
func (in *instance) remove(ctx context.Context, how metav1.DeletionPropagation) error {
	opts := metav1.DeleteOptions{PropagationPolicy: &how}
	var errs []error
	if err := in.d.cs.AppsV1().Deployments(in.d.ns).Delete(ctx, in.name, opts); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("delete Deployment %s: %w", in.name, err))
	}
	if err := in.d.cs.CoreV1().Services(in.d.ns).Delete(ctx, in.name, opts); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("delete Service %s: %w", in.name, err))
	}
	return rkube.Explain(errors.Join(errs...))
}
