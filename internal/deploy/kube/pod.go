package kube

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"os"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"

	"ecode/internal/gpu"
	"ecode/internal/runtime"
	rkube "ecode/internal/runtime/kube"
)

// stopGrace is how long an app may take to end once asked: sh as PID 1
// ignores SIGTERM, so most apps wait it out.
const stopGrace = 2

// portName names an instance's port, for the NetworkPolicy that lets the
// server in.
const portName = "app"

// podShape is what a Deployment's or Job's pod runs.
type podShape struct {
	labels   map[string]string
	image    string
	uid      int64
	command  string
	secret   string // the Secret holding its environment (secret.go)
	dir      string // the host folder at runtime.ProjectDir; empty: the image has it there
	readOnly bool
	// copied: an init container copies the release (dir, or the image's)
	// to a folder of the pod's own, which it sees at runtime.ProjectDir
	// (read-only if readOnly).
	copied bool
	port   int // 0: none
	limits runtime.Limits
	relays []runtime.Relay // the project's services, through an agent beside it
	gpu    *gpu.Unit       // the kind of GPU the command gets; nil: none
}

// template is the pod of s, held as sandbox pods are, without their
// agent: sh runs the command.
func (d *Driver) template(s podShape) (corev1.PodTemplateSpec, error) {
	no, yes := false, true
	grace := int64(stopGrace)
	annotations, volumes, mounts := d.rt.Scratch(s.uid)
	// The release is the image's own (at runtime.ProjectDir, which the
	// home's volume hides), or the server's folder mounted there. A run
	// copies either to a folder of its own, as an instance does the
	// image's, which it then sees there.
	from := runtime.ProjectDir
	var release []corev1.VolumeMount
	if s.dir != "" {
		if s.copied {
			from = releaseDir
		}
		v, m, err := d.rt.Mount("project", s.dir, from, s.readOnly || s.copied)
		if err != nil {
			return corev1.PodTemplateSpec{}, err
		}
		volumes, release = append(volumes, v), []corev1.VolumeMount{m}
	}
	var inits []corev1.Container
	if s.copied {
		const to = "/own"
		volumes = append(volumes, corev1.Volume{Name: "own", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		inits = []corev1.Container{{Name: "copy", Image: s.image, ImagePullPolicy: corev1.PullIfNotPresent,
			Command:         []string{"cp", "-R", from + "/.", to},
			VolumeMounts:    append(release, corev1.VolumeMount{Name: "own", MountPath: to}),
			SecurityContext: rkube.Held(),
		}}
		mounts = append(mounts, corev1.VolumeMount{Name: "own", MountPath: runtime.ProjectDir, ReadOnly: s.readOnly})
	} else {
		mounts = append(mounts, release...)
	}
	// Kubernetes bounds processes per node, not per pod; the pod's uid is
	// its own, so RLIMIT_NPROC bounds its processes, as the agent does a
	// sandbox's (dash names it -p).
	limits := s.limits.Over(d.rt.Limits())
	bound := fmt.Sprintf(`ulimit -n 4096 2>/dev/null; ulimit -u %[1]d 2>/dev/null || ulimit -p %[1]d 2>/dev/null; exec sh -c "$1"`, limits.Pids)
	c := corev1.Container{
		Name:            container,
		Image:           s.image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         []string{"sh", "-c", bound, "sh", s.command},
		EnvFrom:         []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: s.secret}}}},
		WorkingDir:      runtime.ProjectDir,
		Resources:       d.rt.Resources(limits),
		VolumeMounts:    mounts,
		SecurityContext: rkube.Held(),
	}
	if s.port > 0 {
		c.Ports = []corev1.ContainerPort{{Name: portName, ContainerPort: int32(s.port), Protocol: corev1.ProtocolTCP}}
		c.ReadinessProbe = &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt(s.port)}},
			PeriodSeconds: 1, FailureThreshold: 3,
		}
	}
	if len(s.relays) > 0 {
		// A sidecar: it ends when the command does, so a Job completes.
		// Its token is in the spec, where the server following the pod
		// reads it (serveRelays).
		agent := d.rt.RelayAgent(s.image, rand.Text(), s.relays)
		always := corev1.ContainerRestartPolicyAlways
		agent.RestartPolicy = &always
		inits = append([]corev1.Container{agent}, inits...)
	}
	t := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: s.labels, Annotations: annotations},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: &grace,
			AutomountServiceAccountToken:  &no,
			EnableServiceLinks:            &no,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsUser: &s.uid, RunAsGroup: &s.uid, RunAsNonRoot: &yes,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			InitContainers: inits,
			Containers:     []corev1.Container{c},
			Volumes:        volumes,
		},
	}
	if rc := d.rt.RuntimeClass(); rc != "" {
		t.Spec.RuntimeClassName = &rc
	}
	d.rt.Place(&t.Spec)
	rkube.AskGPU(&t.Spec, &t.Spec.Containers[0], s.gpu)
	return t, nil
}

// releaseDir is where a run's pod sees the release it copies.
const releaseDir = "/release"

// handOver gives a run's own copy to the uid its pod runs as, when the
// server may (as the runtime does for a sandbox's project).
func handOver(dir string, uid int) error {
	if os.Geteuid() != 0 {
		return nil
	}
	return runtime.HandOver(runtime.Spec{ProjectDir: dir}, uid)
}

// meta is the metadata of an object of the driver's: owned by the
// server's ConfigMap, so that nothing outlives it.
func (d *Driver) meta(name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: d.ns, Labels: maps.Clone(labels), OwnerReferences: []metav1.OwnerReference{d.rt.Owner()}}
}

// makePolicies makes the NetworkPolicies of the driver's pods, for
// networks that enforce them: the sandboxes' one selects only sandboxes,
// whose one way in is the agent's port. An instance takes connections on
// its app port, and its relay agent's (token-held), a run on the latter
// only, and neither reaches anything, except the public internet (and
// DNS) for a project that may; the project's services they reach through
// the server, which connects to them.
func (d *Driver) makePolicies(ctx context.Context) error {
	own := d.own()
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	app, dns, agentPort := intstr.FromString(portName), intstr.FromInt32(53), intstr.FromInt32(rkube.AgentPort)
	withInternet := maps.Clone(own)
	withInternet[labelInternet] = "true"
	confined := d.meta("ecode-apps-"+rkube.DNSLabel(d.rt.ServerID()), d.labels("policy"))
	internet := confined
	internet.Name = "ecode-apps-internet-" + rkube.DNSLabel(d.rt.ServerID())
	policies := []*networkingv1.NetworkPolicy{{
		ObjectMeta: confined,
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: own, MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: labelRole, Operator: metav1.LabelSelectorOpIn, Values: []string{roleApp, roleExec, roleCron}},
			}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{
				{Protocol: &tcp, Port: &app}, {Protocol: &tcp, Port: &agentPort},
			}}},
			Egress: []networkingv1.NetworkPolicyEgressRule{}, // none
		},
	}, {
		ObjectMeta: internet,
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: withInternet},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}}},
				{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: privateV4}}}},
				{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "::/0", Except: privateV6}}}},
			},
		},
	}}
	for _, p := range policies {
		_, err := d.cs.NetworkingV1().NetworkPolicies(d.ns).Create(ctx, p, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) { // an earlier server's, maybe older
			err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
				cur, err := d.cs.NetworkingV1().NetworkPolicies(d.ns).Get(ctx, p.Name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				cur.Spec = p.Spec
				_, err = d.cs.NetworkingV1().NetworkPolicies(d.ns).Update(ctx, cur, metav1.UpdateOptions{})
				return err
			})
		}
		if err != nil {
			return rkube.Explain(fmt.Errorf("make NetworkPolicy %s: %w", p.Name, err))
		}
	}
	return nil
}

// The addresses no project reaches, as the egress proxy has them: the
// cluster's, the host's, the cloud's metadata service.
var (
	privateV4 = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8"}
	privateV6 = []string{"fc00::/7", "fe80::/10", "::1/128"}
)
