package gpu

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeHost lays out a host's /dev and /proc under a temporary root: the
// given device nodes (as plain files) and the driver's MIG minors table.
func fakeHost(t *testing.T, nodes ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, n := range nodes {
		touch(t, root, n)
	}
	// The driver lists every capability that could exist, numbered in this
	// order: config, monitor, then per GPU and GPU instance its access and
	// those of its eight compute instances.
	var b strings.Builder
	b.WriteString("config 1\nmonitor 2\n")
	minor := 3
	for gpu := range 4 {
		for gi := range 15 {
			fmt.Fprintf(&b, "gpu%d/gi%d/access %d\n", gpu, gi, minor)
			minor++
			for ci := range 8 {
				fmt.Fprintf(&b, "gpu%d/gi%d/ci%d/access %d\n", gpu, gi, ci, minor)
				minor++
			}
		}
	}
	touch(t, root, migMinorsPath)
	if err := os.WriteFile(filepath.Join(root, migMinorsPath), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func touch(t *testing.T, root, path string) {
	t.Helper()
	p := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// capMinor is the minor fakeHost gives a capability.
func capMinor(gpu, gi, ci int) int {
	base := 3 + (gpu*15+gi)*9
	if ci < 0 {
		return base
	}
	return base + 1 + ci
}

func TestDeviceNodes(t *testing.T) {
	root := fakeHost(t, "/dev/nvidia2", "/dev/nvidiactl", "/dev/nvidia-uvm")
	got := Device{Index: 0, Minor: 2}.Nodes(root)
	// nvidia-uvm-tools is not there, so it is not asked for.
	want := []string{"/dev/nvidia2", "/dev/nvidiactl", "/dev/nvidia-uvm"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Nodes = %q, want %q", got, want)
	}
}

func TestSliceNodes(t *testing.T) {
	gi := fmt.Sprintf("/dev/nvidia-caps/nvidia-cap%d", capMinor(1, 5, -1))
	ci := fmt.Sprintf("/dev/nvidia-caps/nvidia-cap%d", capMinor(1, 5, 0))
	root := fakeHost(t, "/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", gi, ci)
	s := Slice{UUID: "MIG-x", Name: "2g.20gb", GPUIndex: 1, GPUMinor: 1, GI: 5, CI: 0}
	got, err := s.Nodes(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", gi, ci}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Nodes = %q\nwant %q", got, want)
	}

	for _, tc := range []struct {
		name  string
		slice Slice
		root  string
		err   string
	}{
		{"unknown instance ids", Slice{UUID: "MIG-x", GI: -1, CI: -1}, root, "instance ids are unknown"},
		{"a driver without MIG", s, t.TempDir(), "does not support MIG"},
		{"no such instance", Slice{UUID: "MIG-x", GPUMinor: 9, GI: 1, CI: 0}, root, "has no gpu9/gi1/access"},
		{"capability node not made yet", Slice{UUID: "MIG-x", GPUMinor: 1, GI: 6, CI: 0}, root,
			"nvidia-modprobe -f /proc/driver/nvidia/capabilities/gpu1/mig/gi6/access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.slice.Nodes(tc.root); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error = %v, want %q", err, tc.err)
			}
		})
	}
}
