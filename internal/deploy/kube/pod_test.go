package kube

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"ecode/internal/gpu"
	"ecode/internal/runtime"
	rkube "ecode/internal/runtime/kube"
)

// An instance's pod asks for its GPU's kind on the app's container alone,
// not on the relay agent beside it, and may go to GPU nodes; a pod without
// a GPU asks for none.
func TestTemplateGPU(t *testing.T) {
	d := &Driver{rt: &rkube.Driver{}} // no cluster: template reads only its settings
	slice := &gpu.Unit{UUID: "MIG-0929581a-2be6-5dec-bf34-0954c6c529a6", Name: "MIG 2g.20gb", Profile: "2g.20gb", MemoryMiB: 19968,
		Nodes: []string{"/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-caps/nvidia-cap21", "/dev/nvidia-caps/nvidia-cap22"}}
	shape := podShape{labels: map[string]string{"app": "x"}, image: "img", uid: 1000, command: "python serve.py", secret: "app-x", port: 8080,
		limits: runtime.Limits{MemoryBytes: 1 << 30, CPUs: 1, Pids: 64}, relays: []runtime.Relay{{Port: 5432}}}

	shape.gpu = slice
	tmpl, err := d.template(shape)
	if err != nil {
		t.Fatal(err)
	}
	app := tmpl.Spec.Containers[0]
	for name, list := range map[string]corev1.ResourceList{"limits": app.Resources.Limits, "requests": app.Resources.Requests} {
		if q, ok := list["nvidia.com/mig-2g.20gb"]; !ok || !q.Equal(resource.MustParse("1")) || list.Cpu().IsZero() {
			t.Errorf("the app's %s: %v, want one nvidia.com/mig-2g.20gb beside its CPU and memory", name, list)
		}
	}
	for _, c := range tmpl.Spec.InitContainers {
		if _, ok := c.Resources.Limits["nvidia.com/mig-2g.20gb"]; ok {
			t.Errorf("container %s asks for the GPU too", c.Name)
		}
	}
	if !tolerates(tmpl.Spec) {
		t.Errorf("a GPU pod does not tolerate GPU nodes: %+v", tmpl.Spec.Tolerations)
	}

	shape.gpu = nil
	if tmpl, err = d.template(shape); err != nil {
		t.Fatal(err)
	}
	for r := range tmpl.Spec.Containers[0].Resources.Limits {
		if r != corev1.ResourceCPU && r != corev1.ResourceMemory {
			t.Errorf("a pod without a GPU asks for %s", r)
		}
	}
	if tolerates(tmpl.Spec) {
		t.Errorf("a pod without a GPU tolerates GPU nodes: %+v", tmpl.Spec.Tolerations)
	}
}

func tolerates(spec corev1.PodSpec) bool {
	for _, tol := range spec.Tolerations {
		if tol.Key == "nvidia.com/gpu" {
			return true
		}
	}
	return false
}
