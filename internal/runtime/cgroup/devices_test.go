package cgroup

import (
	"ecode/internal/runtime/cgroup/cgrouptest"

	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// probeEnv makes the test binary a probe: a process that waits for a line
// on stdin (its parent has moved it into a group by then), does what each
// argument says ("open:PATH", or "mknod:PATH" for a node 120:0) and prints
// the outcome of each: "ok" or the errno's name.
const probeEnv = "ECODE_CGROUP_TEST_PROBE"

func TestMain(m *testing.M) {
	if os.Getenv(probeEnv) == "1" {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		for _, arg := range os.Args[1:] {
			op, path, _ := strings.Cut(arg, ":")
			var err error
			switch op {
			case "open":
				var f *os.File
				if f, err = os.OpenFile(path, os.O_RDWR, 0); err == nil {
					f.Close()
				}
			case "mknod":
				err = unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(120, 0)))
			}
			fmt.Println(outcome(err))
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func outcome(err error) string {
	var errno unix.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &errno):
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// TestDeviceFilter: a process in a group opens the devices the group
// allows and no other, and makes no device node, on every hierarchy this
// host has: v2 (the unified one, also where v1 is mounted beside it)
// through the BPF program, v1 through the devices controller.
func TestDeviceFilter(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	// Majors 120-127 are for local use (Documentation/admin-guide/devices.txt):
	// no driver serves them, so an allowed open fails with ENXIO there,
	// past the filter, while a denied one fails with EPERM at it.
	allowed, denied, null := filepath.Join(dir, "allowed"), filepath.Join(dir, "denied"), filepath.Join(dir, "null")
	cgrouptest.Mknod(t, allowed, 120, 0)
	cgrouptest.Mknod(t, denied, 120, 1)
	cgrouptest.Mknod(t, null, 1, 3)
	m, err := New("test-devices")
	if err != nil {
		t.Skipf("cgroups unusable here: %v", err)
	}
	defer m.Close()
	hierarchies := map[string]*Manager{fmt.Sprintf("v%d", m.Version()): m}
	if unified := filepath.Join(m.root, "unified"); !m.v2 {
		if _, err := os.Stat(filepath.Join(unified, "cgroup.procs")); err == nil {
			u := &Manager{root: unified, parent: m.parent, v2: true}
			if err := u.mkParents(); err != nil {
				t.Fatal(err)
			}
			defer u.Close()
			hierarchies["v2 beside v1"] = u
		}
	}
	for name, m := range hierarchies {
		t.Run(name, func(t *testing.T) {
			g, err := m.Create("sandbox", Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Destroy()
			if err := g.AllowDevices([]Device{{Major: 1, Minor: 3}, {Major: 120, Minor: 0}}); err != nil {
				t.Fatal(err)
			}
			got := probe(t, g, "open:"+null, "open:"+allowed, "open:"+denied, "mknod:"+filepath.Join(dir, "made-"+strings.ReplaceAll(name, " ", "-")))
			if want := "ok ENXIO EPERM EPERM"; got != want {
				t.Fatalf("open null, allowed, denied; mknod allowed: %q, want %q", got, want)
			}
		})
	}
}

// probe runs the probe in g and returns its outcomes, space-separated.
func probe(t *testing.T, g *Group, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), probeEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	in, err := g.StartIn(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if !in {
		if err := g.Adopt(cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal(err)
		}
	}
	stdin.Write([]byte("\n"))
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("probe: %v: %s", err, out.String())
	}
	return strings.Join(strings.Fields(out.String()), " ")
}
