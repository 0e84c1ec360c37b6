package gpu

import "strings"

// The extended resources NVIDIA's device plugin advertises: a whole GPU,
// and a MIG slice of a profile (its "mixed" strategy).
const (
	KubeGPU       = "nvidia.com/gpu"
	kubeMIGPrefix = "nvidia.com/mig-"
)

// KubeResource is the extended resource a Kubernetes pod asks for to get a
// unit of u's kind, as NVIDIA's device plugin advertises them: a whole GPU
// is nvidia.com/gpu, a MIG slice nvidia.com/mig-<profile> (the plugin's
// "mixed" strategy). On Kubernetes the plugin, not the platform, chooses
// which device of that kind the pod gets, so u's UUID names none there.
//
// The plugin counts a slice with attributes ("1g.10gb+me") as its base
// profile, and a resource name may not hold a '+' anyway: those are
// dropped.
//
// A simulated unit asks for the same resource. A cluster without the
// plugin schedules it only where a node advertises the resource, as
// Kubernetes' "Advertise Extended Resources for a Node" describes (a PATCH
// of the node's status capacity); nothing is then given to the container.
func (u Unit) KubeResource() string {
	if u.Profile == "" {
		return KubeGPU
	}
	profile, _, _ := strings.Cut(u.Profile, "+")
	return kubeMIGPrefix + profile
}

// KubeSlice reads a MIG resource a node advertises
// ("nvidia.com/mig-1g.10gb"): the profile a unit of it has, which
// KubeResource turns back into the same resource, and the profile's
// nominal memory. ok is false for any other resource, nvidia.com/gpu
// included.
func KubeSlice(resource string) (profile string, memoryMiB int, ok bool) {
	profile, ok = strings.CutPrefix(resource, kubeMIGPrefix)
	if !ok || profile == "" || strings.Contains(profile, "+") {
		return "", 0, false
	}
	return profile, profileMiB(profile), true
}
