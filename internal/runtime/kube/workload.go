package kube

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"ecode/internal/runtime"
	"ecode/internal/runtime/agent"
)

// What other drivers on the server's cluster (the kube deploy driver)
// share with the sandboxes: the client, the namespace, the owner, the
// image, and the shape of a pod's files, so that their pods are confined
// and cleaned up as sandboxes are.

// Clientset is the driver's connection to the cluster.
func (d *Driver) Clientset() kubernetes.Interface { return d.cs }

// Namespace is where the driver makes everything.
func (d *Driver) Namespace() string { return d.cfg.Namespace }

// ServerID names this server among those sharing the cluster.
func (d *Driver) ServerID() string { return d.cfg.ServerID }

// Owner references the server's ConfigMap, which owns what it makes.
func (d *Driver) Owner() metav1.OwnerReference { return d.owner }

// RuntimeClass is the pods' RuntimeClass; empty for the cluster's default.
func (d *Driver) RuntimeClass() string { return d.cfg.RuntimeClass }

// Pending is how long a pod may wait for a node.
func (d *Driver) Pending() time.Duration { return d.cfg.Pending }

// Image is the sandbox image, made and pushed on first need.
func (d *Driver) Image(ctx context.Context) (string, error) { return d.sandboxImage(ctx) }

// Labels are those of everything of this server's in role.
func (d *Driver) Labels(role string) map[string]string {
	return map[string]string{labelManaged: managedBy, labelServer: labelValue(d.cfg.ServerID), labelRole: role}
}

// Limits are the defaults of a pod whose spec sets none.
func (d *Driver) Limits() runtime.Limits { return d.cfg.Limits }

// Resources are what a pod held to l is asked for and limited to; a
// limit l leaves unset is the driver's default.
func (d *Driver) Resources(l runtime.Limits) corev1.ResourceRequirements {
	return d.resources(l.Over(d.cfg.Limits))
}

// Scratch is what every pod gets besides its project: /tmp and the home
// folder in memory, and /etc/passwd and /etc/group naming uid runner,
// projected from the pod's annotations.
func (d *Driver) Scratch(uid int64) (map[string]string, []corev1.Volume, []corev1.VolumeMount) {
	id := strconv.FormatInt(uid, 10)
	annotations := map[string]string{
		"ecode.dev/passwd": "root:x:0:0:root:/root:/usr/sbin/nologin\nrunner:x:" + id + ":" + id + ":runner:" + runtime.HomeDir + ":/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		"ecode.dev/group":  "root:x:0:\nrunner:x:" + id + ":\nnogroup:x:65534:\n",
	}
	mounts := []corev1.VolumeMount{
		{Name: "tmp", MountPath: "/tmp"},
		{Name: "home", MountPath: runtime.HomeDir},
		{Name: "users", MountPath: "/etc/passwd", SubPath: "passwd", ReadOnly: true},
		{Name: "users", MountPath: "/etc/group", SubPath: "group", ReadOnly: true},
	}
	volumes := []corev1.Volume{
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: resource.NewQuantity(d.cfg.TmpBytes, resource.BinarySI)}}},
		{Name: "home", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: resource.NewQuantity(d.cfg.HomeBytes, resource.BinarySI)}}},
		{Name: "users", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "passwd", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['ecode.dev/passwd']"}},
			{Path: "group", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['ecode.dev/group']"}},
		}}}},
	}
	return annotations, volumes, mounts
}

// Mount is the volume and mount of the server's folder path at target:
// from the data claim by subPath (the volume is then "data", shared by
// all such mounts), or from the node, which then is the server's or holds
// the data dir at the same path.
func (d *Driver) Mount(name, path, target string, readOnly bool) (corev1.Volume, corev1.VolumeMount, error) {
	if d.cfg.DataClaim != "" {
		rel, err := filepath.Rel(d.cfg.DataDir, path)
		if err != nil || !filepath.IsLocal(rel) {
			return corev1.Volume{}, corev1.VolumeMount{}, fmt.Errorf("%s is not in the data dir %s, which pods mount from claim %s", path, d.cfg.DataDir, d.cfg.DataClaim)
		}
		v := corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: d.cfg.DataClaim},
		}}
		return v, corev1.VolumeMount{Name: "data", MountPath: target, SubPath: rel, ReadOnly: readOnly}, nil
	}
	kind := corev1.HostPathDirectory
	v := corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &kind}}}
	return v, corev1.VolumeMount{Name: name, MountPath: target, ReadOnly: readOnly}, nil
}

// CannotStart says why pod's container will not start whatever the wait
// (its image cannot be pulled, its spec is wrong); nil while it may.
func CannotStart(pod *corev1.Pod, what string) error {
	for _, cs := range pod.Status.ContainerStatuses {
		w := cs.State.Waiting
		// A kubelet that has not yet read a Secret it just saw named says
		// so in a config error, and tries again.
		if w == nil || !slices.Contains(imageFailures, w.Reason) || strings.Contains(w.Message, "failed to sync") {
			continue
		}
		return fmt.Errorf("the %s cannot start: %s: %s", what, w.Reason, w.Message)
	}
	return nil
}

// Unschedulable reports whether no node has room for pod, and the
// scheduler's words.
func Unschedulable(pod *corev1.Pod) (string, bool) {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return c.Message, true
		}
	}
	return "", false
}

// NoRoom is the error of a pod of what that waited for a node in vain.
func NoRoom(what string, waited time.Duration) error {
	return fmt.Errorf("no node has room for the %s (waited %s): add nodes or lower the project's limits", what, waited)
}

// DNSLabel makes s a valid part of a Kubernetes name.
func DNSLabel(s string) string { return dnsLabel(s) }

// LabelValue makes s a valid label value.
func LabelValue(s string) string { return labelValue(s) }

// Explain adds the fix to an API error whose cause is clear.
func Explain(err error) error { return explain(err) }

// WatchPods calls observe with every change of the pods in namespace that
// match selector, from a watch that runs until ctx ends; it returns once
// the pods there now have been seen, with what tells whether the watch is
// in step. A pod deleted while the watch was away comes as deleted.
func WatchPods(ctx context.Context, cs kubernetes.Interface, namespace, selector string, observe func(pod *corev1.Pod, deleted bool)) (synced func() bool, err error) {
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }))
	inf := f.Core().V1().Pods().Informer()
	pass := func(obj any, deleted bool) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj, deleted = t.Obj, true
		}
		if pod, ok := obj.(*corev1.Pod); ok {
			observe(pod, deleted)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { pass(obj, false) },
		UpdateFunc: func(_, obj any) { pass(obj, false) },
		DeleteFunc: func(obj any) { pass(obj, true) },
	}); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil, fmt.Errorf("watch pods: %w", ctx.Err())
	}
	return inf.HasSynced, nil
}

// Denied asks the API server, for each of needs in namespace, whether this
// server's account may do it, and names those it may not ("create
// deployments.apps"); the error is for an API server that did not answer.
func Denied(ctx context.Context, cs kubernetes.Interface, namespace string, needs []authv1.ResourceAttributes) ([]string, error) {
	var denied []string
	for _, a := range needs {
		a.Namespace = namespace
		r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
			&authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &a}}, metav1.CreateOptions{})
		if err != nil {
			return nil, explain(fmt.Errorf("ask the API server what this server may do: %w", err))
		}
		if !r.Status.Allowed {
			res := a.Resource
			if a.Subresource != "" {
				res += "/" + a.Subresource
			}
			if a.Group != "" {
				res += "." + a.Group
			}
			denied = append(denied, a.Verb+" "+res)
		}
	}
	return denied, nil
}

// RelayAgent is the container of a workload's pod that serves relays, as
// the agent does in a sandbox pod: each relay's port on the pod's
// loopback, which the pod's other containers share, reaches the server,
// which connects to the agent (token) at AgentPort and parks connections
// there (ServeRelays). It runs nothing else.
func (d *Driver) RelayAgent(image, token string, relays []runtime.Relay) corev1.Container {
	return corev1.Container{
		Name:            RelayContainer,
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         []string{runtime.AgentBinary},
		Args:            agentArgs([]string{"sandbox-agent"}, relays),
		Env:             agentEnv(token),
		Ports:           []corev1.ContainerPort{{Name: "agent", ContainerPort: agentPort}},
		Resources: corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
		},
		SecurityContext: Held(),
	}
}

// Held is how every container of the platform's pods runs: no
// privileges, none to gain, a read-only root.
func Held() *corev1.SecurityContext {
	no, yes := false, true
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: &no,
		ReadOnlyRootFilesystem:   &yes,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// parkRelays parks each relay's connections at the agent of c and serves
// them, until the listeners it returns are closed.
func parkRelays(c agent.Client, relays []runtime.Relay) []*agent.Parked {
	var parked []*agent.Parked
	for _, r := range relays {
		ln := c.Park(r.Port, parkedWaiting)
		parked = append(parked, ln)
		go r.Serve(ln)
	}
	return parked
}

// RelayContainer names the container of RelayAgent.
const RelayContainer = "relay"

// AgentPort is where a pod's agent listens for the server.
const AgentPort = agentPort

// ServeRelays serves relays at the agent of the pod at ip (RelayAgent),
// parking connections there until the agent answers; stop ends them.
func ServeRelays(ip, token string, relays []runtime.Relay) (stop func()) {
	parked := parkRelays(agent.Client{Addr: net.JoinHostPort(ip, strconv.Itoa(agentPort)), Token: token}, relays)
	return func() {
		for _, ln := range parked {
			ln.Close()
		}
	}
}

// Place puts a pod of spec where the driver's pods go: on the node pool's
// nodes, and off a node that stops answering after Config.NodeLost.
func (d *Driver) Place(spec *corev1.PodSpec) {
	lost := int64(d.cfg.NodeLost / time.Second)
	for _, taint := range []string{corev1.TaintNodeUnreachable, corev1.TaintNodeNotReady} {
		spec.Tolerations = append(spec.Tolerations, corev1.Toleration{Key: taint, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &lost})
	}
	if d.cfg.NodePool == "" {
		return
	}
	k, v, _ := strings.Cut(d.cfg.NodePool, "=")
	spec.NodeSelector = map[string]string{k: v}
	spec.Tolerations = append(spec.Tolerations, corev1.Toleration{Key: k, Operator: corev1.TolerationOpEqual, Value: v})
}

// validPool says whether pool is LABEL=VALUE, as Kubernetes has labels.
func validPool(pool string) bool {
	k, v, ok := strings.Cut(pool, "=")
	return ok && len(validation.IsQualifiedName(k)) == 0 && len(validation.IsValidLabelValue(v)) == 0 && v != ""
}

// NodeLost says which node a pod is being evicted from because it stopped
// answering; such a pod stays Terminating until the node is back or gone,
// for no kubelet confirms its end.
func NodeLost(pod *corev1.Pod) (string, bool) {
	if pod.DeletionTimestamp == nil {
		return "", false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == "DeletionByTaintManager" {
			return pod.Spec.NodeName, true
		}
	}
	return "", false
}

// LostNode is the error of what ran on node, which stopped answering.
func LostNode(what, node string) error {
	return fmt.Errorf("the %s's node %s stopped answering and the %s was moved off it; start it again", what, node, what)
}
