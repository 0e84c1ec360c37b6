package rootfs

import (
	"os/exec"
	"path/filepath"
	"testing"

	"ecode/internal/runtime"
)

func TestHost(t *testing.T) {
	fsys, err := Host()
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, n := range fsys {
		size += n.hdr.Size
	}
	t.Logf("%d entries, %d MiB", len(fsys), size>>20)
	node, err := LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	real, err := filepath.EvalSymlinks(node)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ldd", real).Output()
	if err != nil {
		t.Fatal(err)
	}
	// The program, every library it loads (where its links lead), and the
	// generated users.
	want := []string{node, real, "/etc/passwd", runtime.ProjectDir}
	for _, lib := range lddPaths(out) {
		p, err := filepath.EvalSymlinks(lib)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, p)
	}
	for _, p := range want {
		if _, ok := fsys[p]; !ok {
			t.Errorf("the base image lacks %s", p)
		}
	}
	if fsys.Hash() != fsys.Hash() {
		t.Error("the hash is not stable")
	}
}
