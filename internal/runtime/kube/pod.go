package kube

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"ecode/internal/runtime"
	"ecode/internal/runtime/agent"
)

// podSpec is what a pod needs to know of its sandbox.
type podSpec struct {
	name, image, token string
	uid                int64
	spec               runtime.Spec
	limits             runtime.Limits
	relays             []runtime.Relay // the spec's, and the egress proxy's
}

// pod is the sandbox's pod: the agent as PID 1 under the sandbox's own
// uid, no privileges, a read-only root, the project and caches from the
// node, /tmp and the home folder in memory, /etc/passwd naming the uid
// (from an annotation, through the downward API), and a GPU of the kind
// the spec's lease is, if it has one.
func (d *Driver) pod(p podSpec) *corev1.Pod {
	no, yes := false, true
	grace := int64(1)
	// Kubernetes bounds processes per node, not per pod; each project's
	// uid is its own, so RLIMIT_NPROC bounds the sandbox's.
	args := agentArgs([]string{"sandbox-agent", "-nofile", "4096", "-nproc", strconv.Itoa(p.limits.Pids)}, p.relays)
	env := agentEnv(p.token)
	annotations, volumes, mounts := d.Scratch(p.uid)
	// share mounts a folder of the server's at target: from the data
	// volume they share, or from the node, which is then the server's.
	share := func(name, path, target string, readOnly bool) {
		v, m, _ := d.Mount(name, path, target, readOnly) // the path is checked by Start
		if !slices.ContainsFunc(volumes, func(o corev1.Volume) bool { return o.Name == v.Name }) {
			volumes = append(volumes, v)
		}
		mounts = append(mounts, m)
	}
	share("project", p.spec.ProjectDir, runtime.ProjectDir, p.spec.ReadOnly)
	if p.spec.CacheDir != "" {
		share("cache", p.spec.CacheDir, runtime.HomeDir+"/.cache", false)
	}
	if p.spec.ToolCacheDir != "" {
		share("toolcache", p.spec.ToolCacheDir, runtime.ToolCache, true)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            p.name,
			Namespace:       d.cfg.Namespace,
			Labels:          d.labels(p.spec.ID),
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{d.owner},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: &grace,
			AutomountServiceAccountToken:  &no,
			EnableServiceLinks:            &no,
			Hostname:                      "sandbox",
			SecurityContext: &corev1.PodSecurityContext{
				RunAsUser: &p.uid, RunAsGroup: &p.uid, RunAsNonRoot: &yes,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:            "sandbox",
				Image:           p.image,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Command:         []string{runtime.AgentBinary},
				Args:            args,
				Env:             env,
				WorkingDir:      runtime.ProjectDir,
				Ports:           []corev1.ContainerPort{{Name: "agent", ContainerPort: agentPort}},
				Resources:       d.resources(p.limits),
				VolumeMounts:    mounts,
				SecurityContext: Held(),
			}},
			Volumes: volumes,
		},
	}
	if d.cfg.RuntimeClass != "" {
		pod.Spec.RuntimeClassName = &d.cfg.RuntimeClass
	}
	d.Place(&pod.Spec)
	AskGPU(&pod.Spec, &pod.Spec.Containers[0], p.spec.GPU)
	return pod
}

// agentArgs are the agent's arguments: first, then each relay's port on
// the pod's loopback, then where it listens for the server.
func agentArgs(first []string, relays []runtime.Relay) []string {
	args := first
	for _, r := range relays {
		args = append(args, "-relay", fmt.Sprintf("%d=", r.Port))
		if r.File != "" {
			args = append(args, "-relay-file", fmt.Sprintf("%d=%s", r.Port, r.File))
		}
	}
	return append(args, fmt.Sprintf("tcp::%d", agentPort))
}

// agentEnv is the agent's environment: its token, and the base one.
func agentEnv(token string) []corev1.EnvVar {
	env := []corev1.EnvVar{{Name: agent.TokenEnv, Value: token}}
	for _, kv := range runtime.BaseEnv(false) {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, corev1.EnvVar{Name: k, Value: v})
	}
	return env
}

// resources asks for a share of the limits (Config.Request) and holds the
// pod to all of them; processes are bounded by the node's pod pids limit.
func (d *Driver) resources(l runtime.Limits) corev1.ResourceRequirements {
	cpu := resource.NewMilliQuantity(int64(l.CPUs*1000), resource.DecimalSI)
	mem := resource.NewQuantity(l.MemoryBytes, resource.BinarySI)
	return corev1.ResourceRequirements{
		Limits: corev1.ResourceList{corev1.ResourceCPU: *cpu, corev1.ResourceMemory: *mem},
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewMilliQuantity(max(10, int64(l.CPUs*1000*d.cfg.Request)), resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(max(32<<20, int64(float64(l.MemoryBytes)*d.cfg.Request)), resource.BinarySI),
		},
	}
}

func (d *Driver) labels(sandboxID string) map[string]string {
	return map[string]string{
		labelManaged: managedBy, labelServer: labelValue(d.cfg.ServerID), labelRole: "sandbox", labelSandbox: labelValue(sandboxID),
	}
}

// policy denies a sandbox pod every connection but the server's to its
// agent: its relays reach the host through those, so it needs no other.
// Only a network that enforces NetworkPolicies (Calico, Cilium) applies
// it; the pod's own design holds without.
func (d *Driver) policy(namespace string) *networkingv1.NetworkPolicy {
	port := intstr.FromInt32(agentPort)
	tcp := corev1.ProtocolTCP
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{
			Name:            "ecode-sandboxes-" + dnsLabel(d.cfg.ServerID),
			Namespace:       namespace,
			Labels:          map[string]string{labelManaged: managedBy, labelServer: labelValue(d.cfg.ServerID), labelRole: "policy"},
			OwnerReferences: []metav1.OwnerReference{d.owner},
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{
				labelManaged: managedBy, labelServer: labelValue(d.cfg.ServerID), labelRole: "sandbox",
			}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}}},
			Egress:      []networkingv1.NetworkPolicyEgressRule{}, // none
		},
	}
}

// dnsLabel makes s a valid part of a Kubernetes name: lower case letters,
// digits and dashes, at most 40 of them.
func dnsLabel(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b[:min(len(b), 40)]), "-")
}

// labelValue makes s a valid label value: letters, digits, '-', '_' and
// '.', at most 63, starting and ending with a letter or digit.
func labelValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !slices.Contains([]byte("-_."), c) && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return strings.Trim(string(b[:min(len(b), 63)]), "-_.")
}
