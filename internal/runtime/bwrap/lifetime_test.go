package bwrap

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"ecode/internal/runtime"
)

// TestSandboxEndsWithTheDriver: bwrap is told to die with the thread that
// started it, and a closed driver (a server shutting down, a test ending)
// ends its sandboxes and starts no more, with or without cgroups.
func TestSandboxEndsWithTheDriver(t *testing.T) {
	a := args(runtime.Spec{ID: "p", ProjectDir: "/p"}, gpuSetup{}, DefaultLimits(), 0, "/agent", "/etc", "/run/p")
	if !slices.Contains(a, "--die-with-parent") {
		t.Fatalf("bwrap runs without --die-with-parent: %v", a)
	}
	d := newDriver(t)
	s, proj := startSandbox(t, d, "closing")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a sandbox outlived its closed driver")
	}
	other := filepath.Join(filepath.Dir(proj), "other")
	os.MkdirAll(other, 0o755)
	if s, err := d.Start(context.Background(), runtime.Spec{ID: "late", ProjectDir: other}); err == nil {
		s.Stop()
		t.Fatal("a closed driver started a sandbox")
	}
}
