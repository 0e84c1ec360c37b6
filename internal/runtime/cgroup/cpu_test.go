package cgroup

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCPUUsageFiles reads CPU time as each kernel version writes it: v2's
// cpu.stat in microseconds, v1's cpuacct.usage in nanoseconds, whether
// cpuacct is mounted apart from cpu or with it.
func TestCPUUsageFiles(t *testing.T) {
	write := func(t *testing.T, file, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("v2", func(t *testing.T) {
		root := t.TempDir()
		m := &Manager{root: root, parent: "p", v2: true}
		write(t, filepath.Join(m.dir("sb"), "cpu.stat"), "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n")
		if got := (&Group{m: m, id: "sb"}).cpuUsec(); got != 1234567 {
			t.Fatalf("cpu = %d µs, want 1234567", got)
		}
	})
	t.Run("v1 cpuacct apart", func(t *testing.T) {
		root := t.TempDir()
		for _, c := range []string{"cpu", "cpuacct"} {
			if err := os.MkdirAll(filepath.Join(root, c), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		m := &Manager{root: root, parent: "p", ctrls: v1Hierarchies(root)}
		if got := m.controllers(); got[len(got)-1] != "cpuacct" {
			t.Fatalf("controllers = %v, want cpuacct among them", got)
		}
		write(t, filepath.Join(m.dirV1("cpuacct", "sb"), "cpuacct.usage"), "2500000999\n")
		if got := (&Group{m: m, id: "sb"}).cpuUsec(); got != 2500000 {
			t.Fatalf("cpu = %d µs, want 2500000", got)
		}
	})
	t.Run("v1 comounted", func(t *testing.T) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "cpu,cpuacct"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"cpu", "cpuacct"} {
			if err := os.Symlink("cpu,cpuacct", filepath.Join(root, c)); err != nil {
				t.Fatal(err)
			}
		}
		m := &Manager{root: root, parent: "p", ctrls: v1Hierarchies(root)}
		if len(m.controllers()) != len(v1Controllers) {
			t.Fatalf("controllers = %v: cpuacct comounted with cpu needs no group of its own", m.controllers())
		}
		write(t, filepath.Join(m.dirV1("cpu", "sb"), "cpuacct.usage"), "7000\n")
		if got := (&Group{m: m, id: "sb"}).cpuUsec(); got != 7 {
			t.Fatalf("cpu = %d µs, want 7", got)
		}
	})
	t.Run("not counted", func(t *testing.T) {
		m := &Manager{root: t.TempDir(), parent: "p", v2: true}
		if got := (&Group{m: m, id: "sb"}).cpuUsec(); got != 0 {
			t.Fatalf("cpu = %d µs without a cpu.stat, want 0", got)
		}
	})
}

// TestReadCountsCPU: a busy process in a real group shows up as CPU time.
func TestReadCountsCPU(t *testing.T) {
	needRoot(t)
	m, err := New("test-cpu")
	if err != nil {
		t.Skipf("cgroups unusable here: %v", err)
	}
	defer m.Close()
	g, err := m.Create("sandbox", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "read go; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := g.Adopt(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	in.Write([]byte("go\n"))
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	_, u, err := g.Read()
	if err != nil {
		t.Fatal(err)
	}
	if u.CPUUsec <= 0 {
		t.Fatalf("CPU time = %d µs after a busy loop, want > 0", u.CPUUsec)
	}
	t.Logf("busy loop: %d µs of CPU", u.CPUUsec)
}
