package safefs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ecode/internal/safefs"
)

const secret = "HOST-SECRET"

// layout makes a root with a file, a folder, links inside and out, a FIFO,
// and beside the root a host file the root must never reach.
func layout(t testing.TB) (root string, d *safefs.Dir) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	must(t, os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(base, "host.txt"), []byte(secret), 0o600))
	must(t, os.WriteFile(filepath.Join(root, "a.txt"), []byte("inside"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "sub", "b.txt"), []byte("deeper"), 0o644))
	must(t, os.Symlink("../host.txt", filepath.Join(root, "out")))
	must(t, os.Symlink(filepath.Join(base, "host.txt"), filepath.Join(root, "abs")))
	must(t, os.Symlink("/dev/zero", filepath.Join(root, "zero")))
	must(t, os.Symlink("a.txt", filepath.Join(root, "in")))
	must(t, os.Symlink("sub", filepath.Join(root, "subdir")))
	must(t, os.Symlink("..", filepath.Join(root, "up")))
	must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	d, err := safefs.OpenDir(root)
	must(t, err)
	t.Cleanup(func() { d.Close() })
	return root, d
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadFile(t *testing.T) {
	_, d := layout(t)
	if b, err := d.ReadFile("a.txt", 100); err != nil || string(b) != "inside" {
		t.Fatalf("a.txt = %q, %v", b, err)
	}
	if b, err := d.ReadFile("sub/b.txt", -1); err != nil || string(b) != "deeper" {
		t.Fatalf("sub/b.txt = %q, %v", b, err)
	}
	for name, want := range map[string]error{
		"out": safefs.ErrLink, "abs": safefs.ErrLink, "zero": safefs.ErrLink, "in": safefs.ErrLink,
		"up/host.txt": safefs.ErrLink, "subdir/b.txt": nil, "fifo": safefs.ErrNotRegular, "sub": safefs.ErrNotRegular,
		"../host.txt": safefs.ErrInvalid, "/etc/passwd": safefs.ErrInvalid, "a.txt/x": safefs.ErrNotRegular,
		"sub/../a.txt": safefs.ErrInvalid, "": safefs.ErrInvalid,
	} {
		b, err := d.ReadFile(name, 1<<20)
		if strings.Contains(string(b), secret) {
			t.Fatalf("%s read the host file", name)
		}
		if want == nil {
			if err != nil {
				t.Errorf("%s: %v, want it read through a link inside the root", name, err)
			}
			continue
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	if _, err := d.ReadFile("a.txt", 3); !errors.Is(err, safefs.ErrTooLarge) {
		t.Errorf("a.txt with max 3: %v", err)
	}
}

func TestFIFODoesNotBlock(t *testing.T) {
	_, d := layout(t)
	done := make(chan error, 1)
	go func() { _, err := d.ReadFile("fifo", 10); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, safefs.ErrNotRegular) {
			t.Fatalf("fifo: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("opening a FIFO blocked")
	}
}

func TestWalkFollowsNoLink(t *testing.T) {
	_, d := layout(t)
	var seen []string
	must(t, d.Walk(func(e safefs.Entry) error {
		seen = append(seen, e.Path)
		return nil
	}))
	want := "a.txt abs fifo in out sub sub/b.txt subdir up zero"
	if got := strings.Join(seen, " "); got != want {
		t.Fatalf("walk = %s\nwant   %s", got, want)
	}
}

func TestCopy(t *testing.T) {
	_, d := layout(t)
	dst := t.TempDir()
	r, err := os.OpenRoot(dst)
	must(t, err)
	defer r.Close()
	must(t, safefs.Copy(d, r, safefs.CopyOptions{Links: true}))
	if b, _ := os.ReadFile(filepath.Join(dst, "sub", "b.txt")); string(b) != "deeper" {
		t.Fatalf("sub/b.txt = %q", b)
	}
	if l, _ := os.Readlink(filepath.Join(dst, "out")); l != "../host.txt" {
		t.Fatalf("link copied as %q", l)
	}
	if _, err := os.Lstat(filepath.Join(dst, "fifo")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("fifo copied: %v", err)
	}
	small := t.TempDir()
	rs, err := os.OpenRoot(small)
	must(t, err)
	defer rs.Close()
	if err := safefs.Copy(d, rs, safefs.CopyOptions{MaxBytes: 8}); !errors.Is(err, safefs.ErrTooLarge) {
		t.Fatalf("copy over its budget: %v", err)
	}
}

// TestSwapRace swaps a folder of files for a link to the host, as fast as
// it can, while the copy and reads run: no byte of the host file may come
// through.
func TestSwapRace(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	hostDir := filepath.Join(base, "host")
	must(t, os.MkdirAll(filepath.Join(root, "d"), 0o755))
	must(t, os.MkdirAll(hostDir, 0o755))
	for i := range 200 {
		name := "f" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		must(t, os.WriteFile(filepath.Join(root, "d", name), []byte("ok"), 0o644))
		must(t, os.WriteFile(filepath.Join(hostDir, name), []byte(secret), 0o600))
	}
	d, err := safefs.OpenDir(root)
	must(t, err)
	defer d.Close()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		real, link := filepath.Join(root, "d"), filepath.Join(root, "d.link")
		aside := filepath.Join(root, "d.real")
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = os.Symlink(hostDir, link)
			_ = os.Rename(real, aside)
			_ = os.Rename(link, real)
			_ = os.Rename(real, link)
			_ = os.Rename(aside, real)
			_ = os.Remove(link)
		}
	}()
	deadline := time.Now().Add(2 * time.Second)
	for tries := 0; time.Now().Before(deadline); tries++ {
		dst := filepath.Join(base, "copy"+string(rune('0'+tries%10)))
		os.RemoveAll(dst)
		must(t, os.Mkdir(dst, 0o755))
		r, err := os.OpenRoot(dst)
		must(t, err)
		err = safefs.Copy(d, r, safefs.CopyOptions{})
		r.Close()
		if err != nil {
			t.Fatalf("copy: %v", err)
		}
		_ = filepath.WalkDir(dst, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				if b, _ := os.ReadFile(p); string(b) == secret {
					t.Fatalf("try %d copied the host file %s", tries, p)
				}
			}
			return nil
		})
		if b, _ := d.ReadFile("d/fa", 100); string(b) == secret {
			t.Fatalf("try %d read the host file", tries)
		}
	}
	close(stop)
	wg.Wait()
}

// FuzzOpen resolves any name: nothing outside the root is ever read.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{"a.txt", "sub/b.txt", "out", "up/host.txt", "../host.txt", "subdir/b.txt",
		"sub/../../host.txt", "/etc/passwd", "fifo", "zero", "sub//b.txt", "./a.txt", "a.txt/", "up/root/a.txt", "\x00"} {
		f.Add(s)
	}
	_, d := layout(f)
	f.Fuzz(func(t *testing.T, name string) {
		b, err := d.ReadFile(name, 1<<10)
		if strings.Contains(string(b), secret) {
			t.Fatalf("%q read the host file", name)
		}
		if err == nil && string(b) != "inside" && string(b) != "deeper" {
			t.Fatalf("%q read %q", name, b)
		}
	})
}
