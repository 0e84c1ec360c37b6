package kube

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"ecode/internal/gpu"
)

// gpuTaint is the taint GPU nodes usually carry (GKE, the GPU operator's
// guides), keeping pods that want no GPU off them.
const gpuTaint = "nvidia.com/gpu"

// AskGPU has container c of pod spec ask for one GPU of u's kind (see
// gpu.Unit.KubeResource), and lets the pod onto nodes tainted for GPUs;
// nil asks for nothing. The device plugin picks the device and gives the
// container its nodes and NVIDIA_VISIBLE_DEVICES, so nothing here names
// one: the unit the server leased says only which kind.
func AskGPU(spec *corev1.PodSpec, c *corev1.Container, u *gpu.Unit) {
	if u == nil {
		return
	}
	name, one := corev1.ResourceName(u.KubeResource()), resource.MustParse("1")
	// Extended resources cannot be overcommitted: the request must equal
	// the limit.
	for _, list := range []*corev1.ResourceList{&c.Resources.Limits, &c.Resources.Requests} {
		if *list == nil {
			*list = corev1.ResourceList{}
		}
		(*list)[name] = one
	}
	spec.Tolerations = append(spec.Tolerations, corev1.Toleration{Key: gpuTaint, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
}
