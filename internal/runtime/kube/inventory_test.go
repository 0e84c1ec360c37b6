package kube

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"ecode/internal/gpu"
)

const testPool = "ecode.dev/pool=gpu"

// gpuNode is a Ready node of the test pool advertising alloc, changed by
// each of edits.
func gpuNode(name string, alloc map[string]string, edits ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"ecode.dev/pool": "gpu"}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
	for r, q := range alloc {
		n.Status.Allocatable[corev1.ResourceName(r)] = resource.MustParse(q)
	}
	for _, edit := range edits {
		edit(n)
	}
	return n
}

func withLabel(k, v string) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Labels[k] = v }
}

func withTaint(key, value string, effect corev1.TaintEffect) func(*corev1.Node) {
	return func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	}
}

func inventoryOf(t *testing.T, pool string, nodes ...*corev1.Node) gpu.Inventory {
	t.Helper()
	objs := make([]k8sruntime.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = n
	}
	d := &Driver{cfg: Config{NodePool: pool, NodeLost: 30 * time.Second}, cs: fake.NewClientset(objs...)}
	inv, err := d.GPUInventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Remote || inv.Simulated {
		t.Errorf("remote %v, simulated %v; want a remote inventory", inv.Remote, inv.Simulated)
	}
	return inv
}

func TestGPUInventory(t *testing.T) {
	h100 := gpuNode("gpu-a", map[string]string{"nvidia.com/gpu": "2"},
		withLabel("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3"), withLabel("nvidia.com/gpu.memory", "81559"),
		// Tolerated: GPU pods tolerate the GPU taint, sandbox pods their pool's.
		withTaint("nvidia.com/gpu", "present", corev1.TaintEffectNoSchedule), withTaint("ecode.dev/pool", "gpu", corev1.TaintEffectNoExecute),
		withTaint("spot", "true", corev1.TaintEffectPreferNoSchedule))
	mixed := gpuNode("mig-b", map[string]string{"nvidia.com/gpu": "1", "nvidia.com/mig-3g.40gb": "1", "nvidia.com/mig-1g.10gb": "2"})
	nodes := []*corev1.Node{
		mixed, h100,
		gpuNode("other-pool", map[string]string{"nvidia.com/gpu": "4"}, withLabel("ecode.dev/pool", "cpu")),
		gpuNode("cordoned", map[string]string{"nvidia.com/gpu": "1"}, func(n *corev1.Node) { n.Spec.Unschedulable = true }),
		gpuNode("not-ready", map[string]string{"nvidia.com/gpu": "1"}, func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionUnknown }),
		gpuNode("tainted", map[string]string{"nvidia.com/gpu": "1"}, withTaint("dedicated", "ml", corev1.TaintEffectNoSchedule)),
		gpuNode("cpu-only", nil),
		gpuNode("drained-plugin", map[string]string{"nvidia.com/gpu": "0"}),
	}
	inv := inventoryOf(t, testPool, nodes...)

	h100Name, mixedName := "NVIDIA-H100-80GB-HBM3 on gpu-a", "NVIDIA GPU on mig-b"
	want := []gpu.Device{
		{Index: 0, Minor: 0, UUID: "kube:gpu-a:gpu:0", Name: h100Name, MemoryMiB: 81559},
		{Index: 1, Minor: 1, UUID: "kube:gpu-a:gpu:1", Name: h100Name, MemoryMiB: 81559},
		{Index: 2, Minor: 2, UUID: "kube:mig-b:gpu:0", Name: mixedName},
		{Index: 3, Minor: 3, UUID: "kube:mig-b:mig", Name: mixedName, MIG: true, Slices: []gpu.Slice{
			{UUID: "kube:mig-b:mig-1g.10gb:0", Name: "1g.10gb", GPUIndex: 3, GPUMinor: 3, Index: 0, MemoryMiB: 10240, GI: -1, CI: -1},
			{UUID: "kube:mig-b:mig-1g.10gb:1", Name: "1g.10gb", GPUIndex: 3, GPUMinor: 3, Index: 1, MemoryMiB: 10240, GI: -1, CI: -1},
			{UUID: "kube:mig-b:mig-3g.40gb:0", Name: "3g.40gb", GPUIndex: 3, GPUMinor: 3, Index: 2, MemoryMiB: 40960, GI: -1, CI: -1},
		}},
	}
	if !reflect.DeepEqual(inv.Devices, want) {
		t.Errorf("devices:\n%+v\nwant\n%+v", inv.Devices, want)
	}
	wantWarnings := []string{
		"the GPUs of node cordoned are left out: it is cordoned",
		"the GPUs of node not-ready are left out: it is not Ready",
		"the GPUs of node tainted are left out: it has the taint dedicated=ml:NoSchedule, which sandbox pods do not tolerate",
	}
	if inv.Reason != "" || !reflect.DeepEqual(inv.Warnings, wantWarnings) {
		t.Errorf("reason %q, warnings:\n%q\nwant\n%q", inv.Reason, inv.Warnings, wantWarnings)
	}

	// Pooled on this host, which has no device nodes, every unit can be
	// leased, and asks for a resource its node advertises.
	byNode := map[string]*corev1.Node{"gpu-a": h100, "mig-b": mixed}
	p := gpu.NewPool(inv, gpu.Options{Root: t.TempDir()})
	units := p.Snapshot().Units
	if len(units) != 6 {
		t.Fatalf("%d units, want 3 whole GPUs and 3 slices", len(units))
	}
	for _, u := range units {
		if u.Problem != "" || len(u.Nodes) != 0 {
			t.Errorf("%s: problem %q, nodes %q", u.UUID, u.Problem, u.Nodes)
		}
		name := strings.Split(u.UUID, ":")[1]
		if _, ok := byNode[name].Status.Allocatable[corev1.ResourceName(u.KubeResource())]; !ok {
			t.Errorf("%s asks for %s, which node %s does not advertise", u.UUID, u.KubeResource(), name)
		}
	}
	l, err := p.Acquire(t.Context(), "alice", gpu.Want{Profile: "3g.40gb"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Unit.KubeResource() != "nvidia.com/mig-3g.40gb" || l.Unit.MemoryMiB != 40960 {
		t.Errorf("leased %+v", l.Unit)
	}
}

// Without a node pool, sandbox pods may go to any node.
func TestGPUInventoryWithoutNodePool(t *testing.T) {
	inv := inventoryOf(t, "",
		gpuNode("a", map[string]string{"nvidia.com/gpu": "1"}, withLabel("ecode.dev/pool", "cpu")),
		gpuNode("b", map[string]string{"nvidia.com/mig-2g.20gb": "1"}))
	var uuids []string
	for _, d := range inv.Devices {
		uuids = append(uuids, d.UUID)
	}
	if want := []string{"kube:a:gpu:0", "kube:b:mig"}; !reflect.DeepEqual(uuids, want) {
		t.Errorf("devices %q, want %q", uuids, want)
	}
}

func TestGPUInventoryWithoutGPUs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		nodes  []*corev1.Node
		reason string
	}{
		{"no nodes", nil, noGPUNode},
		{"no device plugin", []*corev1.Node{gpuNode("a", nil), gpuNode("b", map[string]string{"nvidia.com/gpu.shared": "4"})}, noGPUNode},
		{"GPUs elsewhere", []*corev1.Node{gpuNode("a", map[string]string{"nvidia.com/gpu": "8"}, withLabel("ecode.dev/pool", "ml"))}, noGPUNode},
		{"GPU node down", []*corev1.Node{gpuNode("a", map[string]string{"nvidia.com/gpu": "8"}, func(n *corev1.Node) { n.Status.Conditions = nil })},
			"no Kubernetes node of the sandbox pool that sandbox pods can use has GPUs: the GPUs of node a are left out: it is not Ready"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := inventoryOf(t, testPool, tc.nodes...)
			if len(inv.Devices) != 0 || inv.Reason != tc.reason {
				t.Errorf("%d devices, reason %q; want none, because %q", len(inv.Devices), inv.Reason, tc.reason)
			}
		})
	}
}

// A server whose account may not list nodes hears what it lacks.
func TestGPUInventoryForbidden(t *testing.T) {
	cs := fake.NewClientset()
	cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, k8sruntime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", nil)
	})
	d := &Driver{cfg: Config{NodePool: testPool}, cs: cs}
	_, err := d.GPUInventory(t.Context())
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "list on nodes, a ClusterRole") {
		t.Errorf("err = %v", err)
	}
}
