package export

import (
	"bufio"
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	run "google.golang.org/api/run/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"ecode/internal/errs"
)

func app(target string) App {
	return App{Owner: "alice", Slug: "blog", Target: target, Run: "node server.js",
		Image: Image("registry.local", "alice", "blog", "7"), Port: 8080,
		MinScale: 1, MaxScale: 4, Concurrency: 50, HealthPath: "/healthz",
		Cron: "0 9 * * 1-5", TimeZone: "Europe/Paris", TimeoutSeconds: 900,
		Env: []string{"API_KEY", "DATABASE_URL"}, MemoryBytes: 768 << 20, CPUs: 1.5}
}

func documents(t *testing.T, a App, f Format) []Document {
	t.Helper()
	docs, err := Documents(a, f)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func TestImage(t *testing.T) {
	if got := Image("registry.example.com:5000", "alice", "blog", "12"); got != "registry.example.com:5000/ecode/alice-blog:12" {
		t.Fatal(got)
	}
}

func TestKubernetesVM(t *testing.T) {
	a := app(VM)
	a.MinScale = a.MaxScale
	docs := documents(t, a, Kubernetes)
	if len(docs) != 2 {
		t.Fatalf("%d documents, want a Deployment and a Service", len(docs))
	}
	d := docs[0].Object.(*appsv1.Deployment)
	if d.APIVersion != "apps/v1" || d.Kind != "Deployment" || d.Name != "blog" || *d.Spec.Replicas != 4 {
		t.Fatalf("deployment %s %s %s replicas %d", d.APIVersion, d.Kind, d.Name, *d.Spec.Replicas)
	}
	if !reflect.DeepEqual(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Fatalf("selector %v, pod labels %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != "registry.local/ecode/alice-blog:7" || !reflect.DeepEqual(c.Command, []string{"sh", "-c", "node server.js"}) {
		t.Fatalf("container %s %v", c.Image, c.Command)
	}
	if env(c, "PORT") != "8080" || c.Ports[0].ContainerPort != 8080 {
		t.Fatalf("port: env %q, container port %d", env(c, "PORT"), c.Ports[0].ContainerPort)
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef.Name != "blog-env" {
		t.Fatalf("env from %+v", c.EnvFrom)
	}
	for _, p := range []*corev1.Probe{c.ReadinessProbe, c.StartupProbe} {
		if p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port != intstr.FromInt32(8080) {
			t.Fatalf("probe %+v", p)
		}
	}
	wantResources(t, c.Resources.Limits, "768Mi", "1500m")
	wantResources(t, c.Resources.Requests, "768Mi", "1500m")
	sc := c.SecurityContext
	if !*sc.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Fatalf("security context %+v", sc)
	}
	if c.VolumeMounts[0].MountPath != "/tmp" || d.Spec.Template.Spec.Volumes[0].EmptyDir == nil {
		t.Fatal("no writable /tmp beside the read-only root")
	}
	s := docs[1].Object.(*corev1.Service)
	if s.Kind != "Service" || s.Name != "blog" || !reflect.DeepEqual(s.Spec.Selector, d.Spec.Template.Labels) ||
		s.Spec.Ports[0].TargetPort != intstr.FromString(c.Ports[0].Name) {
		t.Fatalf("service %+v", s)
	}
	if strings.Contains(docs[0].Comment, "=value") || !strings.Contains(docs[0].Comment, "--from-literal=API_KEY=...") {
		t.Fatalf("comment %q", docs[0].Comment)
	}
}

func TestKubernetesAutoscale(t *testing.T) {
	docs := documents(t, app(Autoscale), Kubernetes)
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	k := docs[0].Object.(*KnativeService)
	if k.APIVersion != "serving.knative.dev/v1" || k.Kind != "Service" || k.Name != "blog" {
		t.Fatalf("%s %s %s", k.APIVersion, k.Kind, k.Name)
	}
	want := map[string]string{
		"autoscaling.knative.dev/class":     "kpa.autoscaling.knative.dev",
		"autoscaling.knative.dev/metric":    "concurrency",
		"autoscaling.knative.dev/target":    "50",
		"autoscaling.knative.dev/min-scale": "1",
		"autoscaling.knative.dev/max-scale": "4",
	}
	if !reflect.DeepEqual(k.Spec.Template.Annotations, want) {
		t.Fatalf("annotations %v", k.Spec.Template.Annotations)
	}
	if *k.Spec.Template.Spec.ContainerConcurrency != 50 || *k.Spec.Template.Spec.TimeoutSeconds != requestTimeout {
		t.Fatal("containerConcurrency or timeoutSeconds")
	}
	c := k.Spec.Template.Spec.Containers[0]
	if env(c, "PORT") != "" || c.Ports[0].Name != "http1" {
		t.Fatalf("Knative sets PORT itself from the http1 port: env %v ports %v", c.Env, c.Ports)
	}
	if c.ReadinessProbe.HTTPGet.Path != "/healthz" || c.SecurityContext == nil || c.EnvFrom[0].SecretRef.Name != "blog-env" {
		t.Fatalf("container %+v", c)
	}
}

func TestKubernetesScheduled(t *testing.T) {
	docs := documents(t, app(Scheduled), Kubernetes)
	j := docs[0].Object.(*batchv1.CronJob)
	if j.APIVersion != "batch/v1" || j.Kind != "CronJob" || j.Spec.Schedule != "0 9 * * 1-5" || *j.Spec.TimeZone != "Europe/Paris" ||
		j.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Fatalf("cronjob %+v", j.Spec)
	}
	js := j.Spec.JobTemplate.Spec
	if *js.ActiveDeadlineSeconds != 900 || *js.BackoffLimit != 0 || js.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Fatalf("job %+v", js)
	}
	c := js.Template.Spec.Containers[0]
	if c.Ports != nil || c.ReadinessProbe != nil || env(c, "PORT") != "" || c.EnvFrom[0].SecretRef.Name != "blog-env" {
		t.Fatalf("a job's container has no port: %+v", c)
	}
}

func TestCloudRunService(t *testing.T) {
	for _, target := range []string{Autoscale, VM} {
		t.Run(target, func(t *testing.T) {
			a := app(target)
			a.Env = []string{"API_KEY"}
			k := documents(t, a, CloudRun)[0].Object.(*KnativeService)
			ann := k.Spec.Template.Annotations
			min, throttled := "1", ""
			if target == VM {
				min, throttled = "4", "false"
			}
			if ann["autoscaling.knative.dev/minScale"] != min || ann["autoscaling.knative.dev/maxScale"] != "4" ||
				ann["run.googleapis.com/cpu-throttling"] != throttled {
				t.Fatalf("annotations %v", ann)
			}
			if k.Annotations["run.googleapis.com/ingress"] != "all" || *k.Spec.Template.Spec.ContainerConcurrency != 50 {
				t.Fatalf("service %+v", k)
			}
			c := k.Spec.Template.Spec.Containers[0]
			ref := c.Env[0].ValueFrom.SecretKeyRef
			if len(c.Env) != 1 || c.Env[0].Name != "API_KEY" || ref.Name != "blog-env-API_KEY" || ref.Key != "latest" || c.EnvFrom != nil {
				t.Fatalf("env %+v", c.Env)
			}
			// Cloud Run offers whole CPUs above one.
			wantResources(t, c.Resources.Limits, "768Mi", "2")
			if c.StartupProbe.HTTPGet.Path != "/healthz" || c.SecurityContext != nil || c.Resources.Requests != nil {
				t.Fatalf("container %+v", c)
			}
		})
	}
}

func TestCloudRunJob(t *testing.T) {
	docs := documents(t, app(Scheduled), CloudRun)
	j := docs[0].Object.(*CloudRunJob)
	task := j.Spec.Template.Spec.Template.Spec
	if j.APIVersion != "run.googleapis.com/v1" || j.Kind != "Job" || task.TimeoutSeconds != 900 || *task.MaxRetries != 0 {
		t.Fatalf("job %+v", j)
	}
	for _, want := range []string{"Cloud Scheduler", `cron "0 9 * * 1-5"`, "time zone Europe/Paris", "jobs/blog:run"} {
		if !strings.Contains(docs[0].Comment, want) {
			t.Fatalf("comment %q lacks %q", docs[0].Comment, want)
		}
	}
}

func TestTCPProbeWithoutHealthPath(t *testing.T) {
	a := app(VM)
	a.HealthPath = ""
	c := documents(t, a, Kubernetes)[0].Object.(*appsv1.Deployment).Spec.Template.Spec.Containers[0]
	if c.ReadinessProbe.TCPSocket == nil || c.ReadinessProbe.TCPSocket.Port != intstr.FromInt32(8080) || c.ReadinessProbe.HTTPGet != nil {
		t.Fatalf("probe %+v", c.ReadinessProbe)
	}
}

func TestNoSecretsNoSecretRef(t *testing.T) {
	a := app(VM)
	a.Env = nil
	docs := documents(t, a, Kubernetes)
	if c := docs[0].Object.(*appsv1.Deployment).Spec.Template.Spec.Containers[0]; c.EnvFrom != nil {
		t.Fatalf("a Secret no one needs is referenced: %+v", c.EnvFrom)
	}
	if strings.Contains(docs[0].Comment, "kubectl create secret") {
		t.Fatal(docs[0].Comment)
	}
}

func TestNotExportable(t *testing.T) {
	_, err := Render(app(Static), Kubernetes)
	if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || e.Code != "not_exportable" || !strings.Contains(e.Message, "served by the platform") {
		t.Fatalf("static: %v", err)
	}
	a := app(Scheduled)
	a.Cron = "@every 90m"
	if _, err := Render(a, CloudRun); !errs.Is(err, errs.KindInvalid) {
		t.Fatalf("@every: %v", err)
	}
	a.Cron = "@daily"
	if j := documents(t, a, Kubernetes)[0].Object.(*batchv1.CronJob); j.Spec.Schedule != "0 0 * * *" {
		t.Fatalf("@daily became %q", j.Spec.Schedule)
	}
	if _, err := ParseFormat("helm"); !errs.Is(err, errs.KindInvalid) {
		t.Fatal(err)
	}
}

// Names are made valid for each kind from any slug: a slug may start with
// a digit and be 48 characters long.
func TestNames(t *testing.T) {
	a := app(Scheduled)
	a.Slug = "2048-" + strings.Repeat("x", 43)
	for _, f := range []Format{Kubernetes, CloudRun} {
		if _, err := Render(a, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	a.Target = Autoscale
	k := documents(t, a, CloudRun)[0].Object.(*KnativeService)
	if len(k.Name) > maxCloudRunService || !strings.HasPrefix(k.Name, "app-2048-") || strings.HasSuffix(k.Name, "-") {
		t.Fatalf("cloud run name %q", k.Name)
	}
	if _, err := Render(a, CloudRun); err != nil {
		t.Fatal(err)
	}
}

// check refuses what the API server would.
func TestCheckRefuses(t *testing.T) {
	cases := map[string]func(d *appsv1.Deployment){
		"name":      func(d *appsv1.Deployment) { d.Name = "Blog_1" },
		"env":       func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Env[0].Name = "1=X" },
		"selector":  func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"x": "y"} },
		"image":     func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" },
		"label":     func(d *appsv1.Deployment) { d.Labels["bad key!"] = "v" },
		"mount":     func(d *appsv1.Deployment) { d.Spec.Template.Spec.Volumes = nil },
		"port name": func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Ports[0].Name = "this-name-is-too-long" },
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			d := documents(t, app(VM), Kubernetes)[0].Object.(*appsv1.Deployment)
			if err := check(d, Kubernetes); err != nil {
				t.Fatalf("before: %v", err)
			}
			spoil(d)
			if err := check(d, Kubernetes); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	j := documents(t, app(Scheduled), Kubernetes)[0].Object.(*batchv1.CronJob)
	j.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
	if err := check(j, Kubernetes); err == nil {
		t.Fatal("a CronJob that restarts always was accepted")
	}
	k := documents(t, app(Autoscale), Kubernetes)[0].Object.(*KnativeService)
	k.Spec.Template.Spec.Containers[0].Env = append(k.Spec.Template.Spec.Containers[0].Env, corev1.EnvVar{Name: "PORT", Value: "1"})
	if err := check(k, Kubernetes); err == nil {
		t.Fatal("a Knative Service that sets PORT was accepted")
	}
	// Cloud Run names a service in fewer characters than Kubernetes.
	cr := documents(t, app(Autoscale), CloudRun)[0].Object.(*KnativeService)
	cr.Name = "a" + strings.Repeat("b", maxCloudRunService)
	if check(cr, Kubernetes) != nil || check(cr, CloudRun) == nil {
		t.Fatal("a 50-character Cloud Run service name")
	}
}

// Each rendered file decodes back strictly, document by document, into the
// objects Documents builds; the Cloud Run ones also into Cloud Run Admin
// API v1's own types, which know only what Cloud Run accepts.
func TestRenderDecodesBack(t *testing.T) {
	for _, target := range []string{VM, Autoscale, Scheduled} {
		for _, f := range []Format{Kubernetes, CloudRun} {
			t.Run(target+"/"+string(f), func(t *testing.T) {
				out, err := Render(app(target), f)
				if err != nil {
					t.Fatal(err)
				}
				docs := documents(t, app(target), f)
				parts := split(t, out)
				if len(parts) != len(docs) {
					t.Fatalf("%d documents in the file, %d built", len(parts), len(docs))
				}
				for i, d := range docs {
					back := reflect.New(reflect.TypeOf(d.Object).Elem()).Interface()
					if err := yaml.UnmarshalStrict(parts[i], back); err != nil {
						t.Fatalf("document %d: %v", i, err)
					}
					if !equality.Semantic.DeepEqual(d.Object, back) {
						t.Fatalf("document %d decodes to something else", i)
					}
					if f == CloudRun {
						var into any = &run.Service{}
						if target == Scheduled {
							into = &run.Job{}
						}
						if err := yaml.UnmarshalStrict(parts[i], into); err != nil {
							t.Fatalf("not a Cloud Run %T: %v", into, err)
						}
					}
				}
			})
		}
	}
	// Cloud Run's types are strict: Knative's security context is not Cloud
	// Run's, which is why the Cloud Run service is built on its own.
	out, _ := Render(app(Autoscale), Kubernetes)
	if err := yaml.UnmarshalStrict(out[bytes.Index(out, []byte("apiVersion")):], &run.Service{}); err == nil {
		t.Fatal("the Kubernetes Knative Service reads as a Cloud Run service")
	}
	// The job's timeout is a string in Cloud Run's API.
	out, _ = Render(app(Scheduled), CloudRun)
	var j run.Job
	if err := yaml.UnmarshalStrict(out, &j); err != nil || j.Spec.Template.Spec.Template.Spec.TimeoutSeconds != 900 {
		t.Fatalf("timeoutSeconds: %v", err)
	}
}

// split reads a multi-document YAML file as Kubernetes' own reader does.
func split(t *testing.T, file []byte) [][]byte {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(file)))
	var parts [][]byte
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, doc)
	}
}

func env(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func wantResources(t *testing.T, got corev1.ResourceList, memory, cpu string) {
	t.Helper()
	if m := got[corev1.ResourceMemory]; m.Cmp(resource.MustParse(memory)) != 0 {
		t.Fatalf("memory %s, want %s", m.String(), memory)
	}
	if c := got[corev1.ResourceCPU]; c.Cmp(resource.MustParse(cpu)) != 0 {
		t.Fatalf("cpu %s, want %s", c.String(), cpu)
	}
}
