package run_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// cudaProbe is a small CUDA program on the driver API alone (no toolkit
// needed in the sandbox): it counts the devices it sees, names the first,
// and fills and reads back a buffer in its memory.
const cudaProbe = `import ctypes, sys
cuda = ctypes.CDLL("libcuda.so.1")
def check(r, what):
    if r != 0:
        s = ctypes.c_char_p()
        cuda.cuGetErrorString(r, ctypes.byref(s))
        sys.exit("%s: %d %s" % (what, r, s.value))
check(cuda.cuInit(0), "cuInit")
n, dev = ctypes.c_int(), ctypes.c_int()
check(cuda.cuDeviceGetCount(ctypes.byref(n)), "cuDeviceGetCount")
check(cuda.cuDeviceGet(ctypes.byref(dev), 0), "cuDeviceGet")
name, uuid = ctypes.create_string_buffer(256), ctypes.create_string_buffer(16)
check(cuda.cuDeviceGetName(name, 256, dev), "cuDeviceGetName")
check(cuda.cuDeviceGetUuid(uuid, dev), "cuDeviceGetUuid")
ctx, ptr = ctypes.c_void_p(), ctypes.c_uint64()
check(cuda.cuCtxCreate_v2(ctypes.byref(ctx), 0, dev), "cuCtxCreate")
check(cuda.cuMemAlloc_v2(ctypes.byref(ptr), 1 << 20), "cuMemAlloc")
check(cuda.cuMemsetD8_v2(ptr, 42, 1 << 20), "cuMemsetD8")
back = (ctypes.c_ubyte * 16)()
check(cuda.cuMemcpyDtoH_v2(back, ptr, 16), "cuMemcpyDtoH")
h = uuid.raw.hex()
print("devices=%d name=%s uuid=GPU-%s-%s-%s-%s-%s byte=%d" % (n.value, name.value.decode(), h[:8], h[8:12], h[12:16], h[16:20], h[20:], back[0]))
`

// TestRealGPU runs only where the host has an NVIDIA GPU: a project's
// sandbox leases one, sees exactly it (nvidia-smi lists it alone, /dev has
// only its nodes) and runs CUDA on it.
func TestRealGPU(t *testing.T) {
	testserver.NeedSandbox(t)
	if _, err := exec.LookPath("nvidia-smi"); err != nil {
		t.Skip("no nvidia-smi: this host has no NVIDIA GPU (TestGPUQueue covers leasing with simulated ones)")
	}
	if os.Geteuid() != 0 {
		t.Skip("a sandbox with a GPU needs the device filter of a cgroup: run as root")
	}
	s := testserver.New(t, testdb.Engines(t)[0])
	amy := s.SignUp(t, "amy")
	p := amy.CreateProject(t, "Cuda")
	amy.Put(t, "/api/projects/"+p.ID+"/resources", map[string]any{"gpu": "any"}).WantStatus(t, 200)
	amy.Put(t, "/api/projects/"+p.ID+"/files/probe.py", cudaProbe).WantStatus(t, 204)

	smi := execIn(t, amy, p.ID, map[string]any{"command": "nvidia-smi -L", "timeoutSec": 60})
	lines := strings.Split(strings.TrimSpace(smi.Stdout), "\n")
	gpuLines := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "GPU ") {
			gpuLines++
		}
	}
	m := regexp.MustCompile(`UUID: (GPU-[0-9a-f-]+)`).FindStringSubmatch(smi.Stdout)
	if smi.ExitCode != 0 || gpuLines != 1 || m == nil {
		t.Fatalf("nvidia-smi -L in the sandbox: %+v", smi)
	}
	env := execIn(t, amy, p.ID, map[string]any{"command": "echo $CUDA_VISIBLE_DEVICES; ls /dev | grep nvidia | sort | tr '\\n' ' '"})
	if !strings.HasPrefix(env.Stdout, m[1]+"\n") {
		t.Fatalf("the sandbox names %q, nvidia-smi lists %s", env.Stdout, m[1])
	}
	for _, n := range strings.Fields(strings.SplitN(env.Stdout, "\n", 2)[1]) {
		if !regexp.MustCompile(`^nvidia([0-9]+|ctl|-uvm|-uvm-tools|-caps)$`).MatchString(n) {
			t.Errorf("/dev/%s in the sandbox", n)
		}
	}
	probe := execIn(t, amy, p.ID, map[string]any{"command": "python3 probe.py", "timeoutSec": 120})
	if probe.ExitCode != 0 || !strings.Contains(probe.Stdout, "devices=1 ") || !strings.Contains(probe.Stdout, "uuid="+m[1]+" ") ||
		!strings.HasSuffix(strings.TrimSpace(probe.Stdout), "byte=42") {
		t.Fatalf("CUDA in the sandbox: %+v", probe)
	}
	t.Logf("nvidia-smi: %s; CUDA: %s", lines[0], strings.TrimSpace(probe.Stdout))
}
