package bwrap

import (
	"ecode/internal/runtime/cgroup/cgrouptest"

	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"ecode/internal/gpu"
	"ecode/internal/runtime"
	"ecode/internal/runtime/cgroup"
)

// fakeGPUHost lays out under a root sandboxes can reach what a host with
// one NVIDIA GPU has: the device nodes of two GPUs (the sandbox leases the
// first), the control node, the driver's libraries (copies of a real
// shared library, so the loader can load them), nvidia-smi, the
// persistence daemon's socket and the module's version; and a runner that
// answers ldconfig -p as that host's would.
func fakeGPUHost(t *testing.T) (string, gpu.Runner) {
	t.Helper()
	arch := map[string]string{"amd64": "x86-64", "arm64": "AArch64"}[goruntime.GOARCH]
	if arch == "" {
		t.Skipf("no fake loader cache for %s", goruntime.GOARCH)
	}
	root := reachableTempDir(t)
	write := func(path string, content []byte, mode os.FileMode) {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "dev"), 0o755)
	for name, minor := range map[string]uint32{"nvidia0": 0, "nvidia1": 1, "nvidiactl": 255} {
		cgrouptest.Mknod(t, filepath.Join(root, "dev", name), 195, minor)
	}
	libs, _ := filepath.Glob("/usr/lib*/*/libz.so.1")
	if more, _ := filepath.Glob("/usr/lib*/libz.so.1"); len(more) > 0 {
		libs = append(libs, more...)
	}
	if len(libs) == 0 {
		t.Fatal("no libz.so.1 on this host to stand in for the driver's libraries")
	}
	elf, err := os.ReadFile(libs[0])
	if err != nil {
		t.Fatal(err)
	}
	var cache strings.Builder
	for _, l := range []struct{ file, soname string }{
		{"libcuda.so.550.54.15", "libcuda.so.1"},
		{"libnvidia-ml.so.550.54.15", "libnvidia-ml.so.1"},
	} {
		// Writable by anyone: only the read-only mount may refuse a write.
		write("/usr/lib/nvidia/"+l.file, elf, 0o666)
		if err := os.Symlink(l.file, filepath.Join(root, "/usr/lib/nvidia", l.soname)); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cache, "\t%s (libc6,%s) => /usr/lib/nvidia/%s\n", l.soname, arch, l.soname)
	}
	write("/usr/bin/nvidia-smi", []byte("#!/bin/sh\necho fake nvidia-smi\n"), 0o777)
	write("/run/nvidia-persistenced/socket", nil, 0o666)
	write("/proc/driver/nvidia/version", []byte("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n"), 0o444)
	run := func(_ context.Context, name string, args ...string) ([]byte, error) {
		if name != "ldconfig" {
			return nil, fmt.Errorf("ran %s, want ldconfig", name)
		}
		return []byte(cache.String()), nil
	}
	return root, run
}

// TestGPUSandbox: a sandbox with a GPU has that GPU's device nodes and no
// other's, may open them (the device filter lets the open through to the
// kernel, where no driver answers here: ENXIO), runs the driver's programs
// and loads its libraries, which it cannot change, and names the GPU in its
// environment. A sandbox with a simulated GPU only names it; one without
// says "void"; neither gets anything of the driver.
func TestGPUSandbox(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("device nodes and the device filter need root")
	}
	root, run := fakeGPUHost(t)
	d := newDriverWith(t, Config{StateDir: filepath.Join(reachableTempDir(t), "sandboxes"), Limits: DefaultLimits(), GPURoot: root, GPURunner: run})
	// Where a real driver serves major 195, the fake node opens the real
	// GPU; the filter must let it through all the same.
	openNode := "ENXIO"
	if b, _ := os.ReadFile("/proc/devices"); bytes.Contains(b, []byte("195 nvidia")) {
		openNode = "ok"
	}
	// On a host with a driver, the unit is its first GPU, so that
	// /proc/driver/nvidia/gpus can show it alone.
	busID := "00000000:10:00.0"
	gpus, _ := os.ReadDir(procGPUs)
	if len(gpus) > 0 {
		busID = gpus[0].Name()
	}
	unit := &gpu.Unit{UUID: "GPU-1d2c3b4a", Name: "fake", Nodes: []string{"/dev/nvidia0", "/dev/nvidiactl"}, BusID: busID}
	s, _ := startSpec(t, d, runtime.Spec{ID: "gpu", GPU: unit})
	probes := []struct{ name, script string }{
		{"only its nodes", `test "$(ls /dev | grep nvidia | tr '\n' ' ')" = "nvidia0 nvidiactl "`},
		{"its node as on the host", `test "$(stat -c '%F %t:%T' /dev/nvidia0)" = "character special file c3:0"`},
		{"the filter allows its nodes", openProbe("/dev/nvidia0", openNode) + " && " + openProbe("/dev/nvidiactl", openNode)},
		{"the usual devices still open", `head -c1 /dev/urandom >/dev/null && test "$(head -c3 /dev/zero | wc -c)" = 3`},
		{"environment names it", `test "$CUDA_VISIBLE_DEVICES $NVIDIA_VISIBLE_DEVICES" = "GPU-1d2c3b4a GPU-1d2c3b4a"`},
		{"nvidia-smi on PATH", `test "$(command -v nvidia-smi)" = ` + gpuBinDir + `/nvidia-smi && test "$(nvidia-smi)" = "fake nvidia-smi"`},
		{"the loader finds the libraries", `python3 -c 'import ctypes
for name in ("libcuda.so.1", "libcuda.so", "libnvidia-ml.so.1"):
    ctypes.CDLL(name)'`},
		{"driver files read-only", `! sh -c 'echo x >> ` + gpuLibDir + `/libcuda.so.550.54.15' 2>/dev/null && ! sh -c 'echo x >> ` + gpuBinDir + `/nvidia-smi' 2>/dev/null && ! ln -s x ` + gpuLibDir + `/libevil.so 2>/dev/null`},
		{"the persistence daemon's socket", `test -e /run/nvidia-persistenced/socket`},
	}
	if len(gpus) > 0 {
		probes = append(probes, struct{ name, script string }{"only its GPU in /proc", `test "$(ls ` + procGPUs + `)" = "` + busID + `"`})
	} else {
		t.Logf("%s is missing (no NVIDIA driver here): its tmpfs is not tried", procGPUs)
	}
	for _, p := range probes {
		if out, e := sh(t, s, p.script); e.Code != 0 {
			t.Errorf("GPU sandbox: %s: exit %+v: %s", p.name, e, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "/usr/lib/nvidia/libcuda.so.550.54.15")); err != nil || bytes.Contains(b, []byte("x\n")) {
		t.Errorf("the host's libcuda was changed from inside (%v)", err)
	}

	simulated, _ := startSpec(t, d, runtime.Spec{ID: "simulated", GPU: &gpu.Unit{UUID: "GPU-SIMULATED-0"}})
	none, _ := startSpec(t, d, runtime.Spec{ID: "none"})
	for _, c := range []struct {
		name string
		s    runtime.Sandbox
		env  string
	}{{"simulated GPU", simulated, "GPU-SIMULATED-0 GPU-SIMULATED-0"}, {"no GPU", none, " void"}} {
		script := `test "$CUDA_VISIBLE_DEVICES $NVIDIA_VISIBLE_DEVICES" = "` + c.env + `" && ! ls /dev | grep -q nvidia && ! test -e /opt/sbx/nvidia`
		if out, e := sh(t, c.s, script); e.Code != 0 {
			t.Errorf("%s: exit %+v: %s", c.name, e, out)
		}
	}
}

// openProbe is a script that succeeds when opening path for reading and
// writing ends as want says: "ok", or an errno's name.
func openProbe(path, want string) string {
	return fmt.Sprintf(`python3 -c '
import errno, os, sys
try:
    os.close(os.open("%s", os.O_RDWR))
    got = "ok"
except OSError as e:
    got = errno.errorcode[e.errno]
sys.exit(0 if got == "%s" else "open: " + got)'`, path, want)
}

// TestTerminalsUnderTheDeviceFilter: shells get a terminal (the agent opens
// /dev/ptmx, the shell its /dev/pts node), which the filter must allow.
func TestTerminalsUnderTheDeviceFilter(t *testing.T) {
	d := newDriver(t)
	s, _ := startSandbox(t, d, "tty")
	ctx := context.Background()
	p, err := s.Exec(ctx, runtime.Command{Argv: []string{"sh", "-c", "tty; echo ok > /dev/tty"}, TTY: true, Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if e, err := p.Wait(ctx, &out, &out); err != nil || e.Code != 0 {
		t.Fatalf("shell on a terminal: %+v %v: %q", e, err, out.String())
	}
	if got := out.String(); !strings.HasPrefix(got, "/dev/pts/") || !strings.Contains(got, "ok") {
		t.Fatalf("terminal: %q, want its /dev/pts node and the write to /dev/tty", got)
	}
}

// TestGPUSandboxRefused: a sandbox with a real GPU does not start where
// nothing would keep it to that GPU, nor with a node that is not one.
func TestGPUSandboxRefused(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "dev", "nvidia0")
	os.MkdirAll(filepath.Dir(plain), 0o755)
	os.WriteFile(plain, nil, 0o666)
	unit := &gpu.Unit{UUID: "GPU-x", Nodes: []string{"/dev/nvidia0"}}
	for _, tc := range []struct {
		name string
		d    *Driver
		want string
	}{
		{"no cgroup", &Driver{}, "needs a cgroup"},
		{"no device filter", &Driver{cg: &cgroup.Manager{}, devicesErr: fmt.Errorf("BPF: operation not permitted")}, "BPF: operation not permitted"},
		{"node missing", &Driver{cg: &cgroup.Manager{}, cfg: Config{GPURoot: t.TempDir()}}, "GPU device node /dev/nvidia0"},
		{"not a device", &Driver{cg: &cgroup.Manager{}, cfg: Config{GPURoot: dir}}, "/dev/nvidia0 is not a character device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.d.gpuSetup(context.Background(), runtime.Spec{ID: "p", GPU: unit})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
