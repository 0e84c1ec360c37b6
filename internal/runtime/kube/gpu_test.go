package kube

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"ecode/internal/gpu"
	"ecode/internal/runtime"
)

// A sandbox pod with a GPU asks the device plugin for one of its kind and
// tolerates GPU nodes; one without asks for none and keeps off them.
func TestSandboxPodGPU(t *testing.T) {
	inv, err := gpu.Simulated("1xA100-80GB")
	if err != nil {
		t.Fatal(err)
	}
	sim := gpu.NewPool(inv, gpu.Options{}).Snapshot().Units[0].Unit
	d := &Driver{cfg: Config{Namespace: "ns", ServerID: "s", Request: 0.5}}
	for _, tc := range []struct {
		name string
		unit *gpu.Unit
		want corev1.ResourceName // "": none
	}{
		{"none", nil, ""},
		{"whole GPU", &gpu.Unit{UUID: "GPU-5a1f0e2b-7c3d-4e8f-9a0b-1c2d3e4f5a6b", Name: "NVIDIA A100-SXM4-80GB", MemoryMiB: 81920,
			Nodes: []string{"/dev/nvidia0", "/dev/nvidiactl"}}, "nvidia.com/gpu"},
		{"MIG slice", &gpu.Unit{UUID: "MIG-0929581a-2be6-5dec-bf34-0954c6c529a6", Name: "MIG 1g.10gb", Profile: "1g.10gb", MemoryMiB: 9984,
			Nodes: []string{"/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-caps/nvidia-cap12", "/dev/nvidia-caps/nvidia-cap13"}}, "nvidia.com/mig-1g.10gb"},
		// A cluster that advertises the resource schedules it all the same.
		{"simulated", &sim, "nvidia.com/gpu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := d.pod(podSpec{name: "sbx-p1", image: "img", token: "t", uid: 1000, limits: runtime.Limits{MemoryBytes: 256 << 20, CPUs: 0.5, Pids: 64},
				spec: runtime.Spec{ID: "p1", ProjectDir: t.TempDir(), GPU: tc.unit}})
			checkGPU(t, pod.Spec, pod.Spec.Containers[0], tc.want)
		})
	}
}

// checkGPU fails t unless container c of pod spec asks for exactly one of
// resource want (nothing of NVIDIA's when empty) beside its CPU and memory,
// the pod tolerates the GPU taint exactly when it asks, and the container
// sets no GPU env, which is the device plugin's.
func checkGPU(t *testing.T, spec corev1.PodSpec, c corev1.Container, want corev1.ResourceName) {
	t.Helper()
	one := resource.MustParse("1")
	for name, list := range map[string]corev1.ResourceList{"limits": c.Resources.Limits, "requests": c.Resources.Requests} {
		for r, q := range list {
			if strings.HasPrefix(string(r), "nvidia.com/") && (r != want || !q.Equal(one)) {
				t.Errorf("%s: %s of %s, want only one %q", name, q.String(), r, want)
			}
		}
		if _, ok := list[want]; want != "" && !ok {
			t.Errorf("%s lack %s: %v", name, want, list)
		}
		if list.Cpu().IsZero() || list.Memory().IsZero() {
			t.Errorf("%s lost the CPU or memory: %v", name, list)
		}
	}
	// The taint's value varies (GKE's is "present"): only Exists tolerates
	// them all.
	tolerated := slices.ContainsFunc(spec.Tolerations, func(tol corev1.Toleration) bool {
		return tol.Key == "nvidia.com/gpu" && tol.Operator == corev1.TolerationOpExists &&
			(tol.Effect == "" || tol.Effect == corev1.TaintEffectNoSchedule)
	})
	if tolerated != (want != "") {
		t.Errorf("tolerates the GPU taint: %v, want %v (%+v)", tolerated, want != "", spec.Tolerations)
	}
	for _, e := range c.Env {
		if e.Name == "CUDA_VISIBLE_DEVICES" || e.Name == "NVIDIA_VISIBLE_DEVICES" {
			t.Errorf("the pod sets %s=%s", e.Name, e.Value)
		}
	}
}
