package kube

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ecode/internal/gpu"
)

// The labels NVIDIA's GPU feature discovery puts on a GPU node: the model
// ("NVIDIA-H100-80GB-HBM3") and each GPU's memory in MiB.
const (
	labelGPUProduct = "nvidia.com/gpu.product"
	labelGPUMemory  = "nvidia.com/gpu.memory"
)

// noGPUNode is the Reason of an inventory without units.
const noGPUNode = "no Kubernetes node of the sandbox pool advertises nvidia.com/gpu or nvidia.com/mig-* (is the NVIDIA device plugin installed?)"

// GPUInventory is the GPUs of the nodes sandbox pods may run on (the node
// pool's, Ready, schedulable, and with no taint a GPU pod does not
// tolerate), as their device plugin advertises them in status.allocatable.
// Each nvidia.com/gpu is a whole GPU; the nvidia.com/mig-<profile> slices
// of a node are grouped under one MIG-mode device. The server's pool then
// models their capacity and queue, while the plugin picks the device each
// pod gets: the UUIDs ("kube:<node>:gpu:<i>") name slots, not devices, and
// the inventory is Remote, with no device nodes here. It is the cluster
// at one moment: nodes added later count from the next call.
//
// Under the plugin's "single" MIG strategy a node advertises its slices as
// nvidia.com/gpu, labelled with the slice's product and memory: they are
// whole GPUs here too, as a pod sees them.
func (d *Driver) GPUInventory(ctx context.Context) (gpu.Inventory, error) {
	opts := metav1.ListOptions{}
	if d.cfg.NodePool != "" {
		opts.LabelSelector = d.cfg.NodePool
	}
	nodes, err := d.cs.CoreV1().Nodes().List(ctx, opts)
	if err != nil {
		err = fmt.Errorf("list the Kubernetes nodes for their GPUs: %w", err)
		if apierrors.IsForbidden(err) {
			return gpu.Inventory{}, fmt.Errorf("%w (the server's account needs list on nodes, a ClusterRole)", err)
		}
		return gpu.Inventory{}, explain(err)
	}
	slices.SortFunc(nodes.Items, func(a, b corev1.Node) int { return cmp.Compare(a.Name, b.Name) })

	inv := gpu.Inventory{Remote: true}
	tolerations := d.gpuTolerations()
	for i := range nodes.Items {
		node := &nodes.Items[i]
		whole, migs := advertised(node)
		if whole == 0 && len(migs) == 0 {
			continue
		}
		if why := unusable(node, tolerations); why != "" {
			inv.Warnings = append(inv.Warnings, fmt.Sprintf("the GPUs of node %s are left out: it %s", node.Name, why))
			continue
		}
		inv.Devices = appendNodeGPUs(inv.Devices, node, whole, migs)
	}
	switch {
	case len(inv.Devices) > 0:
	case len(inv.Warnings) > 0:
		inv.Reason = "no Kubernetes node of the sandbox pool that sandbox pods can use has GPUs: " + strings.Join(inv.Warnings, "; ")
	default:
		inv.Reason = noGPUNode
	}
	return inv, nil
}

// migKind is count MIG slices of one profile.
type migKind struct {
	profile    string
	mib, count int
}

// advertised is how many whole GPUs node offers pods, and its MIG slices
// by profile, in name order.
func advertised(node *corev1.Node) (int, []migKind) {
	whole := 0
	var migs []migKind
	for name, q := range node.Status.Allocatable {
		n := int(q.Value())
		if n <= 0 {
			continue
		}
		if name == gpu.KubeGPU {
			whole = n
		} else if profile, mib, ok := gpu.KubeSlice(string(name)); ok {
			migs = append(migs, migKind{profile, mib, n})
		}
	}
	slices.SortFunc(migs, func(a, b migKind) int { return cmp.Compare(a.profile, b.profile) })
	return whole, migs
}

// unusable says why no sandbox pod asking for a GPU would be placed on
// node; "" when one would.
func unusable(node *corev1.Node, tolerations []corev1.Toleration) string {
	if node.Spec.Unschedulable {
		return "is cordoned"
	}
	ready := slices.ContainsFunc(node.Status.Conditions, func(c corev1.NodeCondition) bool {
		return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
	})
	if !ready {
		return "is not Ready"
	}
	for _, taint := range node.Spec.Taints {
		if taint.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		// No toleration of the driver's compares numbers, so nothing logs.
		if !slices.ContainsFunc(tolerations, func(t corev1.Toleration) bool { return t.ToleratesTaint(logr.Discard(), &taint, false) }) {
			return "has the taint " + taint.ToString() + ", which sandbox pods do not tolerate"
		}
	}
	return ""
}

// gpuTolerations are those of a sandbox pod that asks for a GPU.
func (d *Driver) gpuTolerations() []corev1.Toleration {
	var spec corev1.PodSpec
	d.Place(&spec)
	AskGPU(&spec, &corev1.Container{}, &gpu.Unit{})
	return spec.Tolerations
}

// appendNodeGPUs appends node's whole GPUs to devices, then one MIG device
// holding its slices; indexes continue from the devices before.
func appendNodeGPUs(devices []gpu.Device, node *corev1.Node, whole int, migs []migKind) []gpu.Device {
	name := cmp.Or(node.Labels[labelGPUProduct], "NVIDIA GPU") + " on " + node.Name
	mib, err := strconv.Atoi(node.Labels[labelGPUMemory])
	if err != nil || mib < 0 {
		mib = 0
	}
	for i := range whole {
		devices = append(devices, gpu.Device{
			Index: len(devices), Minor: len(devices),
			UUID: fmt.Sprintf("kube:%s:gpu:%d", node.Name, i),
			Name: name, MemoryMiB: mib,
		})
	}
	if len(migs) == 0 {
		return devices
	}
	idx := len(devices)
	dev := gpu.Device{Index: idx, Minor: idx, UUID: "kube:" + node.Name + ":mig", Name: name, MemoryMiB: mib, MIG: true}
	for _, k := range migs {
		for j := range k.count {
			dev.Slices = append(dev.Slices, gpu.Slice{
				UUID: fmt.Sprintf("kube:%s:mig-%s:%d", node.Name, k.profile, j), Name: k.profile,
				GPUIndex: idx, GPUMinor: idx, Index: len(dev.Slices),
				MemoryMiB: k.mib, GI: -1, CI: -1,
			})
		}
	}
	return append(devices, dev)
}
