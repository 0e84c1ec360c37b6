// Package cgrouptest helps tests of device filtering make device nodes.
package cgrouptest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Mknod makes the character device node major:minor at path, readable and
// writable by anyone, skipping the test where nodes cannot be opened there.
func Mknod(t *testing.T, path string, major, minor uint32) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(filepath.Dir(path), &st); err != nil {
		t.Fatal(err)
	}
	if st.Flags&unix.ST_NODEV != 0 {
		t.Skipf("%s is mounted nodev: no device node there can be opened", filepath.Dir(path))
	}
	if err := unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(major, minor))); err != nil {
		t.Fatalf("mknod %s: %v", path, err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
}
