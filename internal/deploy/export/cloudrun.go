package export

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// CloudRunJob is a run.googleapis.com/v1 Job as `gcloud run jobs replace`
// reads it: a job, its execution template, that execution's task template.
// Declared here over the Kubernetes types: Cloud Run's own Go types come
// with its API client (google.golang.org/api/run/v1), which would add some
// 150 packages (gRPC among them) and 50 MB to the binary. The tests decode
// what is exported into those types instead.
type CloudRunJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CloudRunJobSpec `json:"spec"`
}

// CloudRunJobSpec holds the template of each execution of the job.
type CloudRunJobSpec struct {
	Template ExecutionTemplate `json:"template"`
}

// ExecutionTemplate describes one execution: how many tasks it runs.
type ExecutionTemplate struct {
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ExecutionSpec `json:"spec"`
}

// ExecutionSpec is an execution's tasks.
type ExecutionSpec struct {
	TaskCount *int32       `json:"taskCount,omitempty"`
	Template  TaskTemplate `json:"template"`
}

// TaskTemplate describes each task of an execution.
type TaskTemplate struct {
	Spec TaskSpec `json:"spec"`
}

// TaskSpec is a task's container, its retries and its time limit, which
// the API writes as a string.
type TaskSpec struct {
	Containers     []corev1.Container `json:"containers"`
	MaxRetries     *int32             `json:"maxRetries,omitempty"`
	TimeoutSeconds int64              `json:"timeoutSeconds,omitempty,string"`
}

// Cloud Run names services in at most 49 characters.
const maxCloudRunService = 49

// cloudRun is app as Cloud Run objects: a service for autoscale and vm
// (a vm as a fixed number of instances whose CPU is never throttled), a
// job for a scheduled one.
func cloudRun(app App) []Document {
	if app.Target == Scheduled {
		name := objectName(app.Slug, 63)
		return []Document{{Comment: header(app, "Cloud Run job", name) + secretManagerHint(app) + "\n" + schedulerHint(app, name),
			Object: cloudRunJob(app, name)}}
	}
	name := objectName(app.Slug, maxCloudRunService)
	c := cloudRunContainer(app)
	c.Ports = []corev1.ContainerPort{{Name: "http1", ContainerPort: int32(app.Port)}}
	c.StartupProbe = startupProbe(app, intstr.FromInt32(int32(app.Port)))
	scale := map[string]string{
		"autoscaling.knative.dev/minScale": itoa(app.MinScale),
		"autoscaling.knative.dev/maxScale": itoa(app.MaxScale),
	}
	if app.Target == VM {
		// Always the same instances, CPU also between requests.
		scale["autoscaling.knative.dev/minScale"] = itoa(app.MaxScale)
		scale["run.googleapis.com/cpu-throttling"] = "false"
	}
	return []Document{{Comment: header(app, "Cloud Run service", name) + "\nApply with: gcloud run services replace FILE" + secretManagerHint(app),
		Object: &KnativeService{
			TypeMeta:   knativeService,
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"run.googleapis.com/ingress": "all"}},
			Spec: KnativeServiceSpec{
				Template: RevisionTemplate{
					ObjectMeta: metav1.ObjectMeta{Annotations: scale},
					Spec: RevisionSpec{
						PodSpec:              corev1.PodSpec{Containers: []corev1.Container{c}},
						ContainerConcurrency: new(int64(app.Concurrency)),
						TimeoutSeconds:       new(int64(requestTimeout)),
					},
				},
				Traffic: allToLatest(),
			},
		}}}
}

func cloudRunJob(app App, name string) *CloudRunJob {
	return &CloudRunJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "run.googleapis.com/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: CloudRunJobSpec{Template: ExecutionTemplate{Spec: ExecutionSpec{
			TaskCount: new(int32(1)),
			Template: TaskTemplate{Spec: TaskSpec{
				Containers: []corev1.Container{cloudRunContainer(app)},
				// A run that fails is recorded, not retried, as the platform does.
				MaxRetries:     new(int32(0)),
				TimeoutSeconds: int64(app.TimeoutSeconds),
			}},
		}}},
	}
}

// secretManagerHint names the Secret Manager secrets the variables come
// from, when there are any.
func secretManagerHint(app App) string {
	if len(app.Env) == 0 {
		return ""
	}
	return fmt.Sprintf("\nIts variables come from Secret Manager, one secret each (%s-NAME, version latest):\n  %s",
		envSecret(app), strings.Join(app.Env, " "))
}

// schedulerHint says how to start the job on its schedule: Cloud Run jobs
// have none of their own.
func schedulerHint(app App, name string) string {
	return fmt.Sprintf("The schedule is a Cloud Scheduler job that runs this one: cron %q, time zone %s.\n"+
		"Apply with: gcloud run jobs replace FILE --region REGION, then:\n"+
		"  gcloud scheduler jobs create http %s-schedule --location REGION --schedule %q --time-zone %s \\\n"+
		"    --http-method POST --uri https://REGION-run.googleapis.com/apis/run.googleapis.com/v1/namespaces/PROJECT/jobs/%s:run \\\n"+
		"    --oauth-service-account-email SERVICE_ACCOUNT",
		app.Cron, app.TimeZone, name, app.Cron, app.TimeZone, name)
}

// cloudRunContainer is app's container as Cloud Run takes it: each
// variable from a Secret Manager secret of its own (Cloud Run has no
// envFrom), limits only, and no security context (Cloud Run's sandbox
// has no such settings).
func cloudRunContainer(app App) corev1.Container {
	c := corev1.Container{
		Name:    "app",
		Image:   app.Image,
		Command: []string{"sh", "-c", app.Run},
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
			corev1.ResourceMemory: *resource.NewQuantity(app.MemoryBytes, resource.BinarySI),
			corev1.ResourceCPU:    resource.MustParse(cloudRunCPU(app.CPUs)),
		}},
	}
	for _, n := range app.Env {
		c.Env = append(c.Env, corev1.EnvVar{Name: n, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: envSecret(app) + "-" + n}, Key: "latest"}}})
	}
	return c
}

// cloudRunCPU is the least CPU count Cloud Run offers that covers cpus.
// Below one CPU it would allow only one request at a time, so one is the
// least given.
func cloudRunCPU(cpus float64) string {
	for _, n := range []int{1, 2, 4, 6} {
		if cpus <= float64(n) {
			return strconv.Itoa(n)
		}
	}
	return "8" // the most there is
}
