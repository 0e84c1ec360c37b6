package export

import (
	"fmt"
	"math"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Kubernetes limits names beyond DNS rules: a CronJob's, as its Jobs add
// 11 characters to it.
const maxCronJobName = 52

// kubernetes is app as Kubernetes objects: a Deployment and a Service for a
// vm, a Knative Service for autoscale, a CronJob for a scheduled job.
func kubernetes(app App) []Document {
	name := objectName(app.Slug, 63)
	switch app.Target {
	case VM:
		return []Document{
			{Comment: header(app, "Deployment", name) + secretHint(app), Object: deployment(app, name)},
			{Comment: "Service " + name + ": the Deployment's instances inside the cluster, on port 80.", Object: service(name)},
		}
	case Autoscale:
		return []Document{{Comment: header(app, "Knative Service", name) + "\nNeeds Knative Serving in the cluster." + secretHint(app),
			Object: knative(app, name)}}
	default:
		name = objectName(app.Slug, maxCronJobName)
		return []Document{{Comment: header(app, "CronJob", name) + secretHint(app), Object: cronJob(app, name)}}
	}
}

func header(app App, kind, name string) string {
	return fmt.Sprintf("%s %s: the %s deployment of %s/%s, image %s.", kind, name, app.Target, app.Owner, app.Slug, app.Image)
}

// secretHint says how to make the Secret the manifests name, when they
// name one.
func secretHint(app App) string {
	if len(app.Env) == 0 {
		return ""
	}
	lits := make([]string, len(app.Env))
	for i, n := range app.Env {
		lits[i] = "--from-literal=" + n + "=..."
	}
	return fmt.Sprintf("\nIts variables come from the Secret %s:\n  kubectl create secret generic %s %s",
		envSecret(app), envSecret(app), strings.Join(lits, " "))
}

func envSecret(app App) string { return app.Slug + "-env" }

// nameLabel is the label that ties an app's objects together.
func nameLabel(name string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": name}
}

func deployment(app App, name string) *appsv1.Deployment {
	pod := podSpec(container(app, true))
	c := &pod.Containers[0]
	c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: int32(app.Port), Protocol: corev1.ProtocolTCP}}
	c.ReadinessProbe = probe(app, intstr.FromInt32(int32(app.Port)))
	c.StartupProbe = startupProbe(app, intstr.FromInt32(int32(app.Port)))
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nameLabel(name)},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(app.MaxScale)),
			Selector: &metav1.LabelSelector{MatchLabels: nameLabel(name)},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: new(intstr.FromInt32(1)), MaxUnavailable: new(intstr.FromInt32(0))}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: nameLabel(name)}, Spec: pod},
		},
	}
}

func service(name string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nameLabel(name)},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: nameLabel(name),
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
}

func knative(app App, name string) *KnativeService {
	c := container(app, false)
	// Knative sets $PORT from the one port, which it names http1.
	c.Ports = []corev1.ContainerPort{{Name: "http1", ContainerPort: int32(app.Port), Protocol: corev1.ProtocolTCP}}
	c.ReadinessProbe = probe(app, intstr.FromInt32(int32(app.Port)))
	return &KnativeService{
		TypeMeta:   knativeService,
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nameLabel(name)},
		Spec: KnativeServiceSpec{
			Template: RevisionTemplate{
				ObjectMeta: metav1.ObjectMeta{Labels: nameLabel(name), Annotations: map[string]string{
					"autoscaling.knative.dev/class":     "kpa.autoscaling.knative.dev",
					"autoscaling.knative.dev/metric":    "concurrency",
					"autoscaling.knative.dev/target":    itoa(app.Concurrency),
					"autoscaling.knative.dev/min-scale": itoa(app.MinScale),
					"autoscaling.knative.dev/max-scale": itoa(app.MaxScale),
				}},
				Spec: RevisionSpec{
					PodSpec:              podSpec(c),
					ContainerConcurrency: new(int64(app.Concurrency)),
					TimeoutSeconds:       new(int64(requestTimeout)),
				},
			},
			Traffic: allToLatest(),
		},
	}
}

func cronJob(app App, name string) *batchv1.CronJob {
	pod := podSpec(container(app, false))
	// A run that fails is recorded, not retried, as the platform does.
	pod.RestartPolicy = corev1.RestartPolicyNever
	return &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nameLabel(name)},
		Spec: batchv1.CronJobSpec{
			Schedule:          app.Cron,
			TimeZone:          new(app.TimeZone),
			ConcurrencyPolicy: batchv1.ForbidConcurrent,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: nameLabel(name)},
				Spec: batchv1.JobSpec{
					ActiveDeadlineSeconds: new(int64(app.TimeoutSeconds)),
					BackoffLimit:          new(int32(0)),
					Template:              corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: nameLabel(name)}, Spec: pod},
				},
			},
		},
	}
}

// container is the one container of app's pods: its command in a shell,
// its secrets, its resources (requested as much as its limit, as the
// platform reserves them), and no privilege: not root, a read-only root
// filesystem with a fresh /tmp (also its HOME), no capabilities.
// setPort adds $PORT, which Knative sets itself and refuses from anyone
// else.
func container(app App, setPort bool) corev1.Container {
	c := corev1.Container{
		Name:    "app",
		Image:   app.Image,
		Command: []string{"sh", "-c", app.Run},
		Env:     []corev1.EnvVar{{Name: "HOME", Value: "/tmp"}},
		Resources: corev1.ResourceRequirements{
			Requests: resources(app),
			Limits:   resources(app),
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
		// On the container, not the pod: Knative accepts these fields there
		// without a feature flag.
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot:             new(true),
			RunAsUser:                new(int64(1000)),
			RunAsGroup:               new(int64(1000)),
			ReadOnlyRootFilesystem:   new(true),
			AllowPrivilegeEscalation: new(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
	if setPort {
		c.Env = append(c.Env, corev1.EnvVar{Name: "PORT", Value: itoa(app.Port)})
	}
	if len(app.Env) > 0 {
		c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: envSecret(app)}}}}
	}
	return c
}

func podSpec(c corev1.Container) corev1.PodSpec {
	return corev1.PodSpec{
		Containers: []corev1.Container{c},
		Volumes: []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: new(resource.MustParse("1Gi"))}}}},
	}
}

func resources(app App) corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceMemory: *resource.NewQuantity(app.MemoryBytes, resource.BinarySI),
		corev1.ResourceCPU:    *resource.NewMilliQuantity(int64(math.Ceil(app.CPUs*1000)), resource.DecimalSI),
	}
}

// probe checks the app as the platform does before it takes traffic: a
// GET of the health path answering below 400, else its port open.
func probe(app App, port intstr.IntOrString) *corev1.Probe {
	if app.HealthPath != "" {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: app.HealthPath, Port: port}}}
	}
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}}
}

// startupProbe gives the app a minute to come up, as the platform does.
func startupProbe(app App, port intstr.IntOrString) *corev1.Probe {
	p := probe(app, port)
	p.PeriodSeconds, p.FailureThreshold = 2, 30
	return p
}

// objectName is slug as the name of an object that must start with a
// letter and have at most max characters.
func objectName(slug string, max int) string {
	name := slug
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		name = "app-" + name
	}
	if len(name) > max {
		name = name[:max]
	}
	return strings.TrimRight(name, "-")
}
