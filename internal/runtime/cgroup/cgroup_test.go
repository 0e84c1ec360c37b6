package cgroup

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("cgroups need root")
	}
	if _, err := os.Stat("/sys/fs/cgroup"); err != nil {
		t.Skip("no cgroup file system")
	}
}

// TestOrphansOfDeadServersEnd: a server's groups carry its owner, so the
// next server, of any instance, ends those whose owner is gone and leaves
// those of live servers alone.
func TestOrphansOfDeadServersEnd(t *testing.T) {
	needRoot(t)
	me, err := New("test-me")
	if err != nil {
		t.Skipf("cgroups unusable here: %v", err)
	}
	defer me.Close()
	// No process has pid 2^22+1 (above pid_max's ceiling): a dead owner.
	dead := &Manager{root: me.root, v2: me.v2, parent: prefix + "test-dead@4194305-1"}
	live := &Manager{root: me.root, v2: me.v2, parent: prefix + "test-live@" + mustOwner(t)}
	var sleeps []*exec.Cmd
	for _, m := range []*Manager{dead, live} {
		if err := m.mkParents(); err != nil {
			t.Fatal(err)
		}
		g, err := m.Create("sandbox", Limits{})
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := g.Adopt(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		sleeps = append(sleeps, cmd)
	}
	defer live.Close()

	if _, err := me.Orphans(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- sleeps[0].Wait() }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the dead server's sandbox still runs")
	}
	if _, err := os.Stat(filepath.Join(dead.base(), dead.parent)); !os.IsNotExist(err) {
		t.Fatalf("the dead server's group remains: %v", err)
	}
	if live.groupEmpty("sandbox") {
		t.Fatal("a live server's sandbox was ended")
	}
	live.Close()
	sleeps[1].Wait()
}

func mustOwner(t *testing.T) string {
	id, err := processID(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (m *Manager) mkParents() error {
	if m.v2 {
		return os.MkdirAll(m.dir(""), 0o755)
	}
	for _, c := range v1Controllers {
		if err := os.MkdirAll(m.dirV1(c, ""), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// base is the folder parent groups are listed in.
func (m *Manager) base() string {
	if m.v2 {
		return m.root
	}
	return filepath.Join(m.root, "memory")
}

func (m *Manager) groupEmpty(id string) bool { return (&Group{m: m, id: id}).Empty() }

// TestReadLimits: a group reads back the limits it was made with, as the
// kernel holds them, and counts what runs in it.
func TestReadLimits(t *testing.T) {
	needRoot(t)
	m, err := New("test-read")
	if err != nil {
		t.Skipf("cgroups unusable here: %v", err)
	}
	defer m.Close()
	want := Limits{MemoryBytes: 96 << 20, Pids: 48, CPUs: 0.5}
	g, err := m.Create("sandbox", want)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	if err := g.Adopt(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	got, use, err := g.Read()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("limits read back %+v, want %+v", got, want)
	}
	// (Memory the sleep used before it moved stays charged where it was.)
	if use.Pids < 1 {
		t.Errorf("usage %+v: want the sleep counted", use)
	}
	if err := g.Destroy(); err != nil {
		t.Fatal(err)
	}
}
