// Package gpu finds the host's NVIDIA GPUs and hands them out, one owner at a
// time.
//
// Discovery asks nvidia-smi (no cgo, no NVML binding): the GPUs, their
// memory and MIG mode, the MIG instances ("slices") each is split into, and
// what a sandbox must be given to use one: its device nodes and the
// CUDA_VISIBLE_DEVICES / NVIDIA_VISIBLE_DEVICES values. A host without a
// driver is not an error: the Inventory is empty and its Reason says why,
// for the API to show.
//
// A Pool shares an Inventory's units (a whole GPU, or a MIG slice when the
// GPU is in MIG mode) among owners. It guarantees that a unit is held by one
// lease at a time, that waiters are served first come first served among
// those a freed unit can serve, and that a want no unit could ever meet fails
// at once instead of waiting forever. It does not isolate anything itself:
// the sandbox drivers bind a lease's nodes (and only those) and set its env;
// nor does it meter: Lease.Held is what billing reads.
//
// Simulated builds an Inventory with no hardware behind it, for tests and
// GPU-less machines; it says so in its Simulated flag and Reason.
package gpu

import "strings"

// Inventory is what a host has. Devices is empty when Reason says why.
type Inventory struct {
	Devices []Device `json:"devices"`
	// Simulated is true for an Inventory from Simulated: nothing real.
	Simulated bool `json:"simulated"`
	// Remote is true when the units live on cluster nodes (Kubernetes),
	// where NVIDIA's device plugin allocates them: there are no device
	// nodes here, and a unit's UUID names only a slot of its kind.
	Remote bool `json:"remote"`
	// Reason is why there are no devices ("no NVIDIA driver found ..."), or
	// for a simulated inventory, that it is one.
	Reason string `json:"reason,omitempty"`
	// Warnings are things discovery could not learn; the devices are usable
	// but something about them (MIG instance ids, exact slice memory) is a
	// guess. Shown on the admin page.
	Warnings []string `json:"warnings,omitempty"`
}

// Device is one physical GPU.
type Device struct {
	Index int    `json:"index"` // nvidia-smi's index (PCI order)
	Minor int    `json:"minor"` // the N of /dev/nvidiaN; usually Index
	UUID  string `json:"uuid"`  // GPU-...
	Name  string `json:"name"`  // "NVIDIA A100-SXM4-80GB"
	// BusID is the PCI address ("00000000:10:00.0"): the folder of
	// /proc/driver/nvidia/gpus a sandbox should see for this GPU.
	BusID     string  `json:"busId,omitempty"`
	MemoryMiB int     `json:"memoryMiB"`
	MIG       bool    `json:"mig"` // in MIG mode: only its Slices can be used
	Slices    []Slice `json:"slices,omitempty"`
}

// Slice is one MIG device: a GPU instance with a compute instance in it.
type Slice struct {
	UUID      string `json:"uuid"` // MIG-...
	Name      string `json:"name"` // the profile: "1g.10gb"
	GPUIndex  int    `json:"gpuIndex"`
	GPUMinor  int    `json:"gpuMinor"`
	Index     int    `json:"index"` // its MIG device index on the GPU
	MemoryMiB int    `json:"memoryMiB"`
	// GI and CI are the GPU and compute instance ids, which name the
	// capability nodes that grant access to the slice; -1 when unknown.
	GI int `json:"gi"`
	CI int `json:"ci"`
}

// Env is what a process needs to see exactly these devices (GPU or MIG
// UUIDs): CUDA reads CUDA_VISIBLE_DEVICES, the NVIDIA container runtime
// reads NVIDIA_VISIBLE_DEVICES. None at all gives the runtime's "void".
func Env(uuids ...string) []string {
	if len(uuids) == 0 {
		return []string{"CUDA_VISIBLE_DEVICES=", "NVIDIA_VISIBLE_DEVICES=void"}
	}
	v := strings.Join(uuids, ",")
	return []string{"CUDA_VISIBLE_DEVICES=" + v, "NVIDIA_VISIBLE_DEVICES=" + v}
}
