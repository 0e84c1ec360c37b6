package deploy_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"ecode/internal/deploy/export"
	"ecode/internal/testserver"
)

// download fetches the project's export in format and reads its
// documents, checking it comes as a file to save.
func download(t *testing.T, c *testserver.Client, p testserver.Project, format string) [][]byte {
	t.Helper()
	res := c.Get(t, "/api/projects/"+p.ID+"/deployment/export?format="+format).WantStatus(t, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "application/yaml" {
		t.Fatalf("content type %q", ct)
	}
	if cd, want := res.Header.Get("Content-Disposition"), `attachment; filename="`+p.Slug+"-"+format+`.yaml"`; cd != want {
		t.Fatalf("content disposition %q, want %q", cd, want)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(res.Body)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
	}
}

// decode reads one document strictly into v: a field v's type does not
// have is an error.
func decode(t *testing.T, doc []byte, v any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, v); err != nil {
		t.Fatalf("%T: %v\n%s", v, err, doc)
	}
}

// TestExport: the Deploy pane's export, each type in each format, read
// back into the Kubernetes types; secrets named, never shown; editors only.
func TestExport(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		c := s.SignUp(t, "erin")
		p := project(t, c, "Shop API", map[string]string{"ecode.toml": "run = \"node server.js\"\n"})
		c.Put(t, "/api/projects/"+p.ID+"/secrets/STRIPE_KEY", map[string]string{"value": "sk-very-secret-value"}).WantStatus(t, http.StatusNoContent)
		// What each instance may use is what the project's sandbox may.
		c.Put(t, "/api/projects/"+p.ID+"/resources", map[string]any{"memoryBytes": 768 << 20, "cpus": 1.5}).WantStatus(t, http.StatusOK)
		image := "registry.local/ecode/erin-" + p.Slug + ":latest" // nothing live yet

		// Static, the default: the platform serves it, there is nothing to export.
		res1 := c.Get(t, "/api/projects/"+p.ID+"/deployment/export?format=kubernetes").WantError(t, http.StatusBadRequest, "not_exportable")
		if !strings.Contains(string(res1.Body), "served by the platform") {
			t.Fatalf("static: %s", res1.Body)
		}
		c.Get(t, "/api/projects/"+p.ID+"/deployment/export?format=helm").WantError(t, http.StatusBadRequest, "invalid_format")

		setConfig(t, c, p.ID, map[string]any{"target": "vm", "run": "node server.js", "maxInstances": 2, "healthPath": "/health"})
		docs := download(t, c, p, "kubernetes")
		if len(docs) != 2 {
			t.Fatalf("vm: %d documents", len(docs))
		}
		var d appsv1.Deployment
		var svc corev1.Service
		decode(t, docs[0], &d)
		decode(t, docs[1], &svc)
		ctr := d.Spec.Template.Spec.Containers[0]
		if d.Kind != "Deployment" || *d.Spec.Replicas != 2 || ctr.Image != image || ctr.EnvFrom[0].SecretRef.Name != p.Slug+"-env" ||
			ctr.ReadinessProbe.HTTPGet.Path != "/health" || svc.Kind != "Service" || svc.Spec.Selector["app.kubernetes.io/name"] != d.Name {
			t.Fatalf("vm as a Deployment and a Service:\n%s\n---\n%s", docs[0], docs[1])
		}
		if m, cpu := ctr.Resources.Limits[corev1.ResourceMemory], ctr.Resources.Limits[corev1.ResourceCPU]; m.Cmp(resource.MustParse("768Mi")) != 0 || cpu.Cmp(resource.MustParse("1500m")) != 0 {
			t.Fatalf("limits %s %s, the project's sandbox has 768Mi and 1.5 CPUs", m.String(), cpu.String())
		}
		if !bytes.Contains(docs[0], []byte("STRIPE_KEY")) {
			t.Fatalf("the secret's name is not given:\n%s", docs[0])
		}

		var cr export.KnativeService
		decode(t, download(t, c, p, "cloudrun")[0], &cr)
		ann := cr.Spec.Template.Annotations
		if cr.APIVersion != "serving.knative.dev/v1" || ann["autoscaling.knative.dev/minScale"] != "2" || ann["autoscaling.knative.dev/maxScale"] != "2" ||
			ann["run.googleapis.com/cpu-throttling"] != "false" || cr.Spec.Template.Spec.Containers[0].Env[0].Name != "STRIPE_KEY" {
			t.Fatalf("vm on Cloud Run: %+v", cr)
		}

		setConfig(t, c, p.ID, map[string]any{"target": "autoscale", "run": "node server.js", "maxInstances": 5, "concurrency": 20})
		var kn export.KnativeService
		decode(t, download(t, c, p, "kubernetes")[0], &kn)
		ann = kn.Spec.Template.Annotations
		if ann["autoscaling.knative.dev/target"] != "20" || ann["autoscaling.knative.dev/min-scale"] != "0" || ann["autoscaling.knative.dev/max-scale"] != "5" ||
			*kn.Spec.Template.Spec.ContainerConcurrency != 20 || kn.Spec.Template.Spec.Containers[0].ReadinessProbe.TCPSocket == nil {
			t.Fatalf("autoscale as a Knative Service: %+v", kn.Spec.Template)
		}

		// A scheduled deployment without a build step deploys without a
		// sandbox; once live, the image is its release's.
		setConfig(t, c, p.ID, map[string]any{"target": "scheduled", "run": "node job.js", "schedule": "0 0 1 1 *", "timeZone": "Asia/Tokyo", "timeout": 120})
		rel := deployReady(t, c, p.ID)
		var cj batchv1.CronJob
		decode(t, download(t, c, p, "kubernetes")[0], &cj)
		if cj.Spec.Schedule != "0 0 1 1 *" || *cj.Spec.TimeZone != "Asia/Tokyo" || *cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds != 120 ||
			cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Fatalf("scheduled as a CronJob: %+v", cj.Spec)
		}
		if got, want := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image, strings.TrimSuffix(image, "latest")+strconv.Itoa(rel.Number); got != want {
			t.Fatalf("image %s, want %s", got, want)
		}
		docs = download(t, c, p, "cloudrun")
		var job export.CloudRunJob
		decode(t, docs[0], &job)
		if job.Kind != "Job" || job.Spec.Template.Spec.Template.Spec.TimeoutSeconds != 120 ||
			!bytes.Contains(docs[0], []byte(`# The schedule is a Cloud Scheduler job that runs this one: cron "0 0 1 1 *", time zone Asia/Tokyo.`)) {
			t.Fatalf("scheduled as a Cloud Run job:\n%s", docs[0])
		}

		for _, f := range []string{"kubernetes", "cloudrun"} {
			body := c.Get(t, "/api/projects/"+p.ID+"/deployment/export?format="+f).Body
			if bytes.Contains(body, []byte("sk-very-secret-value")) {
				t.Fatalf("%s export shows a secret's value", f)
			}
		}
		// It names the secrets and the image: for editors.
		viewer := s.SignUp(t, "vera")
		c.Post(t, "/api/projects/"+p.ID+"/members", map[string]string{"username": "vera", "role": "viewer"}).WantStatus(t, http.StatusCreated)
		if code := viewer.Get(t, "/api/projects/"+p.ID+"/deployment/export").StatusCode; code != http.StatusForbidden {
			t.Fatalf("a viewer got %d", code)
		}
		s.SignUp(t, "stan").Get(t, "/api/projects/"+p.ID+"/deployment/export").WantStatus(t, http.StatusNotFound)
	})
}
