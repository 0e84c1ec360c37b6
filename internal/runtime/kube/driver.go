// Package kube is the sandbox driver over Kubernetes: each sandbox is a
// pod whose PID 1 is the ecode agent, reached over the pod network with a
// token of its own. Exec, terminals, ports and previews go through the
// agent as with bwrap. The pod reaches nothing: the egress proxy and the
// project's data services are parked relays, whose connections the server
// takes through the agent (see agent.Parked), and a NetworkPolicy denies
// all other traffic where the network enforces one.
//
// Everything the driver makes carries its labels and is owned by one
// ConfigMap per server, so that a later server finds and removes what an
// earlier one left, and deleting the ConfigMap removes all of it.
package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"ecode/internal/runtime"
)

// Labels on everything the driver makes.
const (
	labelManaged = "app.kubernetes.io/managed-by"
	labelServer  = "ecode.dev/server"
	labelRole    = "ecode.dev/role"
	labelSandbox = "ecode.dev/sandbox"
	managedBy    = "ecode"
)

// agentPort is where the agent listens on the pod's network.
const agentPort = 7070

// Egress accepts the connections of one sandbox's egress relay.
type Egress interface {
	Serve(ln net.Listener, sandboxID string)
}

// Config of the driver.
type Config struct {
	// Kubeconfig is the path of a kubeconfig file; empty uses the service
	// account of the pod the server runs in.
	Kubeconfig string
	Namespace  string
	// ServerID names this server among those sharing the cluster: its
	// pods carry it, and its start removes the pods it left before.
	ServerID string
	// Image is the sandbox image to run as it is; when empty the driver
	// makes one from the host's toolchain and AgentBinary and pushes it to
	// Registry (HOST[:PORT][/PATH]).
	Image       string
	Registry    string
	AgentBinary string
	// DataClaim, when set, is a PersistentVolumeClaim (ReadWriteMany)
	// holding the server's DataDir, which sandbox pods mount the project,
	// cache and tool cache folders from. Without one the folders are
	// mounted from the node, which then must be the server's own machine
	// or hold the data dir at the same path.
	DataClaim, DataDir string
	// RuntimeClass, when set, names the pods' RuntimeClass (gVisor's
	// runsc, Kata).
	RuntimeClass string
	// Limits are the defaults of a sandbox whose spec sets none.
	Limits runtime.Limits
	// TmpBytes and HomeBytes size /tmp and the home folder, in memory.
	TmpBytes, HomeBytes int64
	// Request is the share of its limits a sandbox asks the scheduler for:
	// sandboxes idle most of the time, so a node holds more of them than
	// their limits add up to.
	Request float64
	// Pending is how long a pod may wait for a node before the start
	// fails as out of capacity.
	Pending time.Duration
	// NodePool, when set (LABEL=VALUE), puts the pods on the nodes with
	// that label, tolerating a taint of the same key and value: a pool of
	// nodes kept for sandboxes.
	NodePool string
	// NodeLost is how long the pods of a node that stops answering wait
	// for it before they are evicted (Kubernetes' default is 5 minutes).
	NodeLost time.Duration
	Egress   Egress // nil: sandboxes have no way out
	Log      *slog.Logger
}

func (c *Config) defaults() {
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.Limits.MemoryBytes == 0 {
		c.Limits.MemoryBytes = 1 << 30
	}
	if c.Limits.CPUs == 0 {
		c.Limits.CPUs = 1
	}
	if c.Limits.Pids == 0 {
		c.Limits.Pids = 256
	}
	if c.TmpBytes == 0 {
		c.TmpBytes = 256 << 20
	}
	if c.HomeBytes == 0 {
		c.HomeBytes = 512 << 20
	}
	if c.Request <= 0 || c.Request > 1 {
		c.Request = 0.1
	}
	if c.Pending == 0 {
		c.Pending = 30 * time.Second
	}
	if c.NodeLost == 0 {
		c.NodeLost = 30 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// Driver starts sandbox pods.
type Driver struct {
	cfg    Config
	cs     kubernetes.Interface
	log    *slog.Logger
	owner  metav1.OwnerReference // the server's ConfigMap
	cancel context.CancelFunc
	synced cache.InformerSynced

	imageMu sync.Mutex
	image   string

	mu     sync.Mutex
	pods   map[string]*sandbox // by pod name
	closed bool

	checkMu sync.Mutex
	checked time.Time // when Check last passed
}

// Client connects to the cluster a kubeconfig names, or the one the server
// runs in.
func Client(kubeconfig string) (kubernetes.Interface, *rest.Config, error) {
	var rc *rest.Config
	var err error
	if kubeconfig == "" {
		rc, err = rest.InClusterConfig()
	} else {
		rc, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client config: %w", err)
	}
	rc.QPS, rc.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return cs, rc, nil
}

// New connects to the cluster, makes the server's ConfigMap, removes the
// sandbox pods this server left before, and watches the ones it starts.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	cfg.defaults()
	if cfg.ServerID == "" {
		return nil, errors.New("kube driver: no server id")
	}
	if cfg.NodePool != "" && !validPool(cfg.NodePool) {
		return nil, fmt.Errorf("kube driver: node pool %q is not LABEL=VALUE", cfg.NodePool)
	}
	if cfg.Image == "" && (cfg.Registry == "" || cfg.AgentBinary == "") {
		return nil, errors.New("kube driver: name a sandbox image, or a registry to push the one made here to")
	}
	cs, _, err := Client(cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	d := &Driver{cfg: cfg, cs: cs, log: cfg.Log, pods: map[string]*sandbox{}}
	if err := d.Check(ctx); err != nil {
		return nil, err
	}
	if d.owner, err = Anchor(ctx, cs, cfg.Namespace, cfg.ServerID); err != nil {
		return nil, err
	}
	policy := d.policy(cfg.Namespace)
	if _, err := cs.NetworkingV1().NetworkPolicies(cfg.Namespace).Create(ctx, policy, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, explain(fmt.Errorf("make the sandboxes' NetworkPolicy: %w", err))
	}
	if err := d.removeLeftovers(ctx); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	if d.synced, err = WatchPods(wctx, cs, cfg.Namespace, d.selector(), d.observe); err != nil {
		cancel()
		return nil, fmt.Errorf("sandbox pods: %w", err)
	}
	// The image is made now, not when the first sandbox waits for it.
	go func() {
		if _, err := d.sandboxImage(wctx); err != nil && wctx.Err() == nil {
			d.log.Error("make the sandbox image", "err", err)
		}
	}()
	return d, nil
}

// Anchor makes (or finds) the ConfigMap that owns what server id makes in
// namespace, and returns a reference to it for their owner references.
func Anchor(ctx context.Context, cs kubernetes.Interface, namespace, id string) (metav1.OwnerReference, error) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name:   AnchorName(id),
		Labels: map[string]string{labelManaged: managedBy, labelServer: labelValue(id), labelRole: "server"},
	}, Data: map[string]string{"server": id}}
	got, err := cs.CoreV1().ConfigMaps(namespace).Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		got, err = cs.CoreV1().ConfigMaps(namespace).Get(ctx, cm.Name, metav1.GetOptions{})
	}
	if err != nil {
		return metav1.OwnerReference{}, explain(fmt.Errorf("make the server's ConfigMap %s/%s: %w", namespace, cm.Name, err))
	}
	return metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: got.Name, UID: got.UID}, nil
}

// AnchorName is the name of the ConfigMap of server id.
func AnchorName(id string) string { return "ecode-server-" + dnsLabel(id) }

// Name says which driver this is.
func (d *Driver) Name() string { return "kube" }

func (d *Driver) selector() string {
	return fmt.Sprintf("%s=%s,%s=%s,%s=sandbox", labelManaged, managedBy, labelServer, labelValue(d.cfg.ServerID), labelRole)
}

// removeLeftovers deletes the sandbox pods of an earlier run of this
// server: nothing holds them any more.
func (d *Driver) removeLeftovers(ctx context.Context) error {
	grace := int64(0)
	err := d.cs.CoreV1().Pods(d.cfg.Namespace).DeleteCollection(ctx,
		metav1.DeleteOptions{GracePeriodSeconds: &grace}, metav1.ListOptions{LabelSelector: d.selector()})
	if err != nil {
		return explain(fmt.Errorf("remove the sandbox pods an earlier server left: %w", err))
	}
	return nil
}

// observe passes a pod's new state to its sandbox.
func (d *Driver) observe(pod *corev1.Pod, deleted bool) {
	d.mu.Lock()
	s := d.pods[pod.Name]
	d.mu.Unlock()
	if s != nil {
		s.observe(pod, deleted)
	}
}

// Close stops the driver's watch and deletes every sandbox pod it
// started.
func (d *Driver) Close() error {
	d.mu.Lock()
	d.closed = true
	live := make([]*sandbox, 0, len(d.pods))
	for _, s := range d.pods {
		live = append(live, s)
	}
	d.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range live {
		wg.Go(func() { _ = s.Stop() })
	}
	wg.Wait()
	d.cancel()
	return nil
}
