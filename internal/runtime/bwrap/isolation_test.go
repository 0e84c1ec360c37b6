package bwrap

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecode/internal/runtime"
	"ecode/internal/runtime/cgroup"
)

// TestIsolation tries what a hostile project would, and each attempt must
// fail. The resource attacks run last, only once the isolation probes have
// passed, and each is bounded so that a sandbox that failed open would
// still not take the machine down.
func TestIsolation(t *testing.T) {
	t.Setenv("ECODE_TEST_SERVER_SECRET", "hunter2")
	d := newDriver(t)
	s, proj := startSandbox(t, d, "victim-a")
	other, otherProj := startSandbox(t, d, "victim-b")
	os.WriteFile(filepath.Join(otherProj, "private.txt"), []byte("b's secret"), 0o644)

	host, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	go func() {
		for {
			c, err := host.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("host service"))
			c.Close()
		}
	}()
	hostPort := host.Addr().(*net.TCPAddr).Port

	probes := []struct{ name, script string }{
		{"own pid namespace", `test "$(ls /proc | grep -c '^[0-9]')" -lt 10`},
		{"agent is pid 1", `grep -q sandbox-agent /proc/1/cmdline`},
		{"no capabilities", `grep -q '^CapEff:\s*0000000000000000' /proc/self/status`},
		{"host shadow file absent", `! cat /etc/shadow`},
		{"host root home absent", `! ls /root/.bashrc`},
		{"server data dir absent", `! ls ` + filepath.Dir(filepath.Dir(proj))},
		{"other project absent", `! ls ` + otherProj + ` && ! find / -name private.txt -print -quit 2>/dev/null | grep .`},
		{"root filesystem read-only", `! touch /x && ! touch /usr/x && ! touch /etc/x && ! mkdir /opt/sbx/x`},
		{"agent binary read-only", `! sh -c 'echo > /opt/sbx/ecode'`},
		{"server environment hidden", `! env | grep -q hunter2 && ! grep -q hunter2 /proc/1/environ`},
		{"only loopback", `test "$(python3 -c 'import socket; print(socket.if_nameindex())')" = "[(1, 'lo')]"`},
		{"host loopback port unreachable", connect("127.0.0.1", hostPort)},
		{"postgres unreachable", connect("127.0.0.1", 5432)},
		{"cloud metadata unreachable", connect("169.254.169.254", 80)},
		{"public internet unreachable", connect("1.1.1.1", 443)},
		{"no DNS", `! getent hosts registry.npmjs.org`},
		{"no nested user namespaces", `! unshare -U true`},
		{"setuid does not escalate", `! su -c id root </dev/null && python3 -c 'import os
try:
    os.setuid(0)
except OSError:  # EPERM, or EINVAL: no uid 0 is mapped at all
    raise SystemExit(0)
raise SystemExit(1)'`},
		{"no core dumps", `test "$(ulimit -c)" = 0`},
		{"seccomp denies keyrings and io_uring", `python3 -c '
import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
for name, nr, args in (("keyctl", 250, (0, -3, 0)), ("io_uring_setup", 425, (1, 0)), ("bpf", 321, (0, 0, 0))):
    if libc.syscall(nr, *args) != -1 or ctypes.get_errno() != errno.EPERM:
        sys.exit(name + " was allowed")'`},
	}
	for _, addr := range hostAddrs(t) {
		probes = append(probes, struct{ name, script string }{"host address " + addr + " unreachable", connect(addr, hostPort)})
	}
	failed := false
	for _, p := range probes {
		if out, e := sh(t, s, p.script); e.Code != 0 {
			t.Errorf("%s: attempt succeeded or probe broke (exit %+v): %s", p.name, e, out)
			failed = true
		}
	}
	// The other sandbox's ports are its own.
	server, err := other.Exec(context.Background(), runtime.Command{Argv: []string{"python3", "-m", "http.server", "8765", "--bind", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Kill()
	eventually(t, func() bool { ports, _ := other.Ports(context.Background()); return contains(ports, 8765) })
	if out, e := sh(t, s, connect("127.0.0.1", 8765)); e.Code != 0 {
		t.Errorf("reached another sandbox's port: %s", out)
		failed = true
	}
	if failed {
		t.Fatal("isolation probes failed; resource attacks skipped")
	}
	t.Run("resources", func(t *testing.T) { testResourceAttacks(t) })
}

// connect is a script that succeeds when a TCP connection is refused or
// unreachable, and fails when it connects.
func connect(host string, port int) string {
	return fmt.Sprintf(`python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in "%[1]s" else socket.AF_INET)
s.settimeout(2)
try:
    s.connect(("%[1]s", %[2]d))
except OSError:
    sys.exit(0)
sys.exit(1)'`, host, port)
}

func hostAddrs(t *testing.T) []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			out = append(out, ipn.IP.String())
		}
	}
	return out
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func testResourceAttacks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("cgroup limits need root")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	limits := DefaultLimits()
	limits.Limits = cgroup.Limits{MemoryBytes: 128 << 20, Pids: 64, CPUs: 0.5}
	limits.TmpBytes = 16 << 20
	d, err := New(ctx, Config{StateDir: filepath.Join(reachableTempDir(t), "sandboxes"), Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	t.Run("process flood stops at the pids limit", func(t *testing.T) {
		s, _ := startSandbox(t, d, "flood")
		// At most 2000 short sleeps: harmless even without a limit.
		out, _ := sh(t, s, `python3 -c '
import os, time
started = 0
for i in range(2000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(5)
        os._exit(0)
    started += 1
print(started)'`)
		started, err := strconv.Atoi(strings.TrimSpace(out))
		if err != nil || started == 0 || started >= 64 {
			t.Fatalf("%q processes started (limit 64 in all)", out)
		}
	})
	t.Run("memory hog is killed at the limit", func(t *testing.T) {
		s, _ := startSandbox(t, d, "hog")
		// Stops by itself at 2 GiB should the limit be missing.
		out, e := sh(t, s, `python3 -c '
chunks = []
for i in range(32):
    chunks.append(bytearray(64 << 20))
print("survived")'`)
		if e.Code == 0 || strings.Contains(out, "survived") || !s.OOMKilled() {
			t.Fatalf("hog exit %+v, oom %v: %s", e, s.OOMKilled(), out)
		}
		if out, e := sh(t, s, "echo still here"); e.Code != 0 || out != "still here\n" {
			t.Fatalf("sandbox unusable after OOM: %+v %q", e, out)
		}
	})
	t.Run("busy loop gets its CPU quota", func(t *testing.T) {
		s, _ := startSandbox(t, d, "spin")
		out, _ := sh(t, s, `python3 -c '
import os, time
for _ in range(2):
    if os.fork() == 0:
        end = time.time() + 1.5
        while time.time() < end: pass
        os._exit(0)
for _ in range(2): os.wait()
print(sum(os.times()[2:4]))'`)
		cpu, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
		if err != nil || cpu > 1.2 {
			t.Fatalf("two busy children for 1.5 s used %q CPU-seconds; a 0.5-CPU quota allows ~0.75", out)
		}
	})
	t.Run("filling /tmp stops at its size", func(t *testing.T) {
		s, _ := startSandbox(t, d, "fill")
		out, e := sh(t, s, `dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1; du -m /tmp/fill | cut -f1`)
		lines := strings.Fields(out)
		mb, _ := strconv.Atoi(lines[len(lines)-1])
		if e.Code != 0 || mb > 16 || !strings.Contains(out, "No space left") {
			t.Fatalf("wrote %d MiB into a 16 MiB /tmp: %s", mb, out)
		}
	})
	// After every attack the host still starts sandboxes and runs code.
	if err := d.Check(context.Background()); err != nil {
		t.Errorf("preflight after the attacks: %v", err)
	}
	after, _ := startSandbox(t, d, "after")
	if out, e := sh(t, after, "echo fine"); e.Code != 0 || out != "fine\n" {
		t.Errorf("a new sandbox after the attacks: %+v %q", e, out)
	}
}
