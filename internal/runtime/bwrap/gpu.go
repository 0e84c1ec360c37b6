package bwrap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"ecode/internal/gpu"
	"ecode/internal/runtime"
	"ecode/internal/runtime/cgroup"
)

// Inside the sandbox: the folders a GPU's driver libraries and programs
// are bound in. Folders of their own, for the host may keep them outside
// /usr, and the sandbox's /etc has no loader cache to find them by.
const (
	gpuLibDir = "/opt/sbx/nvidia/lib"
	gpuBinDir = "/opt/sbx/nvidia/bin"
	procGPUs  = "/proc/driver/nvidia/gpus"
)

// sandboxDevices are the devices bwrap's --dev makes (null, zero, full,
// random, urandom, tty) and those of the sandbox's own devpts (ptmx, the
// terminals): all a sandbox may open, besides its GPU's.
var sandboxDevices = []cgroup.Device{
	{Major: 1, Minor: 3}, {Major: 1, Minor: 5}, {Major: 1, Minor: 7}, {Major: 1, Minor: 8}, {Major: 1, Minor: 9},
	{Major: 5, Minor: 0}, {Major: 5, Minor: 2}, {Major: 136, Minor: cgroup.AnyMinor},
}

// gpuSetup is what a sandbox gets for its GPU, or for having none, the way
// the NVIDIA container toolkit equips a container.
type gpuSetup struct {
	args    []string        // bwrap's: device nodes, driver files, /proc/driver/nvidia/gpus
	env     []string        // over the runtime's environment
	devices []cgroup.Device // what its device filter allows
}

// sandboxEnv is the environment of everything in the sandbox.
func (g gpuSetup) sandboxEnv(spec runtime.Spec, egress bool) []string {
	return runtime.MergeEnv(runtime.SandboxEnv(spec, egress), g.env)
}

// gpuSetup gives a sandbox with a real GPU its device nodes (nothing else
// of /dev/nvidia*), the driver's files read-only, and only its GPU's
// folder of /proc/driver/nvidia/gpus, where the driver describes each GPU.
// The device filter keeps it to those nodes, so such a sandbox does not
// start where there is none. A simulated GPU has no nodes: it gets only
// the environment that names it.
func (d *Driver) gpuSetup(ctx context.Context, spec runtime.Spec) (gpuSetup, error) {
	g := gpuSetup{env: gpu.Env(), devices: sandboxDevices}
	if spec.GPU == nil {
		return g, nil
	}
	g.env = gpu.Env(spec.GPU.UUID)
	if len(spec.GPU.Nodes) == 0 {
		return g, nil
	}
	switch {
	case d.cg == nil:
		return g, errors.New("a sandbox with a GPU needs a cgroup to keep it to its GPU: run the server as root on a host with cgroups")
	case d.devicesErr != nil:
		return g, fmt.Errorf("a sandbox with a GPU needs a device filter to keep it to its GPU, and this host has none: %w", d.devicesErr)
	}
	root := d.cfg.GPURoot
	g.devices = slices.Clone(sandboxDevices)
	for _, n := range spec.GPU.Nodes {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(root, n), &st); err != nil {
			return g, fmt.Errorf("GPU device node %s: %w", n, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFCHR {
			return g, fmt.Errorf("GPU device node %s is not a character device", n)
		}
		g.devices = append(g.devices, cgroup.Device{Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev))})
		g.args = append(g.args, "--dev-bind", filepath.Join(root, n), n)
	}
	files, err := d.driverFiles(ctx)
	if err != nil {
		return g, fmt.Errorf("the GPU driver's files: %w", err)
	}
	for _, l := range files.Libs {
		name := filepath.Base(l.Path)
		g.args = append(g.args, "--ro-bind", filepath.Join(root, l.Path), gpuLibDir+"/"+name)
		for _, n := range l.Names {
			if n != name {
				g.args = append(g.args, "--symlink", name, gpuLibDir+"/"+n)
			}
		}
	}
	for _, b := range files.Bins {
		g.args = append(g.args, "--ro-bind", filepath.Join(root, b.Path), gpuBinDir+"/"+b.Name)
	}
	for _, s := range files.Sockets {
		g.args = append(g.args, "--ro-bind", filepath.Join(root, s), s)
	}
	// The sandbox's /proc is the running kernel's, whatever GPURoot says.
	if _, err := os.Stat(procGPUs); err == nil {
		g.args = append(g.args, "--tmpfs", procGPUs)
		if dir := gpu.ProcGPUDir("", spec.GPU.BusID); dir != "" {
			g.args = append(g.args, "--ro-bind", dir, dir)
		} else {
			slog.Warn("the GPU has no folder in "+procGPUs+": nvidia-smi in the sandbox will not list it", "gpu", spec.GPU.UUID, "busId", spec.GPU.BusID)
		}
	}
	g.env = append(g.env, "PATH="+gpuBinDir+":"+runtime.SandboxPath, "LD_LIBRARY_PATH="+gpuLibDir)
	return g, nil
}

// driverFiles finds the host driver's files at the first start of a
// sandbox with a GPU, and keeps them; a failure is tried again next time.
func (d *Driver) driverFiles(ctx context.Context) (gpu.DriverFiles, error) {
	d.gpuMu.Lock()
	defer d.gpuMu.Unlock()
	if d.gpuFiles == nil {
		run := d.cfg.GPURunner
		if run == nil {
			run = gpu.ExecRunner
		}
		f, err := gpu.FindDriverFiles(ctx, d.cfg.GPURoot, run)
		if err != nil {
			return gpu.DriverFiles{}, err
		}
		d.gpuFiles = &f
	}
	return *d.gpuFiles, nil
}
