// Package rootfs makes the root file systems of the images the platform
// runs (sandbox pods, app releases) from the host's own toolchain: the
// programs sandboxes find on their PATH, what they load and read, and a
// generated /etc and home. Nothing is pulled from a registry; an image is
// made once per content, which its hash names.
package rootfs

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"ecode/internal/runtime"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// programs are what the base image carries of the host, found on the
// sandboxes' PATH: a shell, the commands build scripts expect, and the
// runtimes apps are written for. One the host lacks is left out.
var programs = []string{
	"sh", "bash", "env", "cat", "ls", "cp", "mv", "rm", "mkdir", "rmdir", "ln", "chmod", "touch",
	"echo", "printf", "test", "true", "false", "sleep", "id", "pwd", "dirname", "basename",
	"head", "tail", "wc", "sort", "uniq", "tr", "cut", "tee", "sed", "grep", "find", "xargs",
	"tar", "gzip", "date", "uname",
	"node", "npm", "npx", "python3",
}

// hostFiles are host paths the image carries as they are: the
// certificates TLS clients read.
var hostFiles = []string{"/etc/ssl/certs", "/etc/nsswitch.conf"}

// Users of the image: the instances run as runner, as sandboxes do.
const (
	passwd = "root:x:0:0:root:/root:/usr/sbin/nologin\nrunner:x:1000:1000:runner:" + runtime.HomeDir + ":/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	group  = "root:x:0:\nrunner:x:1000:\nnogroup:x:65534:\n"
)

// FS is a root file system in the making: each absolute path and what is
// there.
type FS map[string]node

type node struct {
	hdr  tar.Header // Name unset; Size for regular files
	host string     // a regular file's content on the host
	data []byte     // or its content here
}

// pythonBinary matches a versioned Python interpreter, whose standard
// library lies beside it in ../lib/pythonX.Y.
var pythonBinary = regexp.MustCompile(`^python(\d+\.\d+)$`)

// Host collects an image's root file system: the programs, the files and the
// libraries they load (through ldd), the folders they read their own code
// from (an npm package's, Python's standard library), and a generated
// /etc and home.
// more are programs to carry besides the usual ones, or absolute host
// paths to carry as they are.
func Host(more ...string) (FS, error) {
	r := FS{}
	for _, name := range append(slices.Clone(programs), more...) {
		if filepath.IsAbs(name) {
			if _, err := os.Lstat(name); err != nil {
				continue
			}
			if _, err := r.add(name, 0); err != nil {
				return nil, fmt.Errorf("add %s: %w", name, err)
			}
			continue
		}
		p, err := LookPath(name)
		if err != nil {
			continue
		}
		real, err := r.add(p, 0)
		if err != nil {
			return nil, fmt.Errorf("add %s: %w", p, err)
		}
		if pkg := nodePackage(real); pkg != "" {
			if _, err := r.add(pkg, 0); err != nil {
				return nil, fmt.Errorf("add %s: %w", pkg, err)
			}
		}
		if m := pythonBinary.FindStringSubmatch(filepath.Base(real)); m != nil {
			lib := filepath.Join(filepath.Dir(filepath.Dir(real)), "lib", "python"+m[1])
			if _, err := r.add(lib, 0); err != nil {
				return nil, fmt.Errorf("add %s: %w", lib, err)
			}
		}
	}
	for _, p := range hostFiles {
		if _, err := os.Lstat(p); err == nil {
			if _, err := r.add(p, 0); err != nil {
				return nil, fmt.Errorf("add %s: %w", p, err)
			}
		}
	}
	if err := r.addLibraries(); err != nil {
		return nil, err
	}
	dir := r.Dir
	for _, p := range []string{"/etc", "/home", "/proc", "/sys", "/dev", "/run"} {
		dir(p, 0o755, 0)
	}
	dir("/tmp", 0o1777, 0)
	dir(runtime.HomeDir, 0o755, 1000)
	dir(runtime.HomeDir+"/.cache", 0o755, 1000)
	dir(runtime.ProjectDir, 0o755, 1000)
	for name, content := range map[string]string{"/etc/passwd": passwd, "/etc/group": group} {
		r.File(name, []byte(content), 0o644, 0)
	}
	return r, nil
}

// File puts content at p, owned by uid.
func (r FS) File(p string, content []byte, mode int64, uid int) {
	r[p] = node{hdr: tar.Header{Typeflag: tar.TypeReg, Mode: mode, Uid: uid, Size: int64(len(content))}, data: content}
}

// Copy puts the host file src at p, as a regular file of mode.
func (r FS) Copy(p, src string, mode int64) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	r[p] = node{hdr: tar.Header{Typeflag: tar.TypeReg, Mode: mode, Size: info.Size(), ModTime: info.ModTime()}, host: src}
	return nil
}

// Dir puts a folder at p, owned by uid.
func (r FS) Dir(p string, mode int64, uid int) {
	r[p] = node{hdr: tar.Header{Typeflag: tar.TypeDir, Mode: mode, Uid: uid, Gid: uid}}
}

// LookPath finds a program as a sandbox's PATH does, not the server's.
func LookPath(name string) (string, error) {
	for _, kv := range runtime.BaseEnv(false) {
		if path, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(path) {
				p := filepath.Join(dir, name)
				if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
					return p, nil
				}
			}
		}
	}
	return "", fs.ErrNotExist
}

// nodePackage is the npm package folder holding file p, or "".
func nodePackage(p string) string {
	parts := strings.Split(p, "/")
	i := slices.Index(parts, "node_modules")
	if i < 0 || i+1 >= len(parts) {
		return ""
	}
	end := i + 2
	if strings.HasPrefix(parts[i+1], "@") && end < len(parts) {
		end++ // a scoped package: @scope/name
	}
	return strings.Join(parts[:end], "/")
}

// add adds host path p, every link on the way to it, and its target: a
// file, or a folder with everything in it. It returns where p leads.
func (r FS) add(p string, depth int) (string, error) {
	if depth > 40 {
		return "", fmt.Errorf("%s: too many links", p)
	}
	parts := strings.Split(strings.TrimPrefix(filepath.Clean(p), "/"), "/")
	cur := "/"
	for i, part := range parts {
		next := filepath.Join(cur, part)
		info, err := os.Lstat(next)
		if err != nil {
			return "", err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(next)
			if err != nil {
				return "", err
			}
			r[next] = node{hdr: tar.Header{Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777, ModTime: info.ModTime()}}
			if !filepath.IsAbs(target) {
				target = filepath.Join(cur, target)
			}
			return r.add(filepath.Join(append([]string{target}, parts[i+1:]...)...), depth+1)
		case info.IsDir() && i < len(parts)-1:
			r.addInfo(next, info)
			cur = next
		case info.IsDir():
			return next, r.addTree(next, depth)
		default:
			r.addInfo(next, info)
			return next, nil
		}
	}
	return cur, nil
}

// addTree adds folder dir whole, and the targets of the links in it.
func (r FS) addTree(dir string, depth int) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			if _, err := r.add(p, depth+1); err != nil && !os.IsNotExist(err) {
				return err
			}
			return nil
		}
		r.addInfo(p, info)
		return nil
	})
}

// addInfo adds a folder or a regular file; anything else (a socket, a
// device) is no part of a toolchain.
func (r FS) addInfo(p string, info fs.FileInfo) {
	switch {
	case info.IsDir():
		r[p] = node{hdr: tar.Header{Typeflag: tar.TypeDir, Mode: int64(info.Mode().Perm()), ModTime: info.ModTime()}}
	case info.Mode().IsRegular():
		r[p] = node{hdr: tar.Header{Typeflag: tar.TypeReg, Mode: int64(info.Mode().Perm()), Size: info.Size(), ModTime: info.ModTime()}, host: p}
	}
}

// addLibraries adds the shared libraries every ELF file loads, as ldd
// lists them (all of them, not only the direct ones).
func (r FS) addLibraries() error {
	var elves []string
	for p, n := range r {
		if n.host != "" && isELF(p) {
			elves = append(elves, p)
		}
	}
	slices.Sort(elves)
	for _, p := range elves {
		out, err := exec.Command("ldd", p).Output()
		if err != nil {
			continue // static, or not for this machine
		}
		for _, lib := range lddPaths(out) {
			if _, err := r.add(lib, 0); errors.Is(err, fs.ErrNotExist) {
				continue // ldd's word on a file that is only data (a test fixture)
			} else if err != nil {
				return fmt.Errorf("add %s (loaded by %s): %w", lib, p, err)
			}
		}
	}
	return nil
}

func isELF(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	return err == nil && bytes.Equal(magic, []byte("\x7fELF"))
}

// lddPaths reads ldd's output: "libc.so.6 => /lib/.../libc.so.6 (0x...)"
// and "/lib64/ld-linux-x86-64.so.2 (0x...)".
func lddPaths(out []byte) []string {
	var paths []string
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		for i, w := range f {
			if strings.HasPrefix(w, "/") && (i == 0 || f[i-1] == "=>") {
				paths = append(paths, w)
			}
		}
	}
	return paths
}

// Hash identifies the root file system by what is in it: names, types,
// modes, owners, sizes, times and links, and generated contents.
func (r FS) Hash() string {
	h := sha256.New()
	for _, p := range slices.Sorted(maps.Keys(r)) {
		n := r[p]
		fmt.Fprintf(h, "%s\x00%c\x00%o\x00%d\x00%d\x00%d\x00%s\x00", p, n.hdr.Typeflag, n.hdr.Mode, n.hdr.Uid, n.hdr.Size, n.hdr.ModTime.UnixNano(), n.hdr.Linkname)
		h.Write(n.data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Write writes the root file system as a tar, parents before children.
func (r FS) Write(w io.Writer) error {
	tw := tar.NewWriter(w)
	for _, p := range slices.Sorted(maps.Keys(r)) {
		n := r[p]
		hdr := n.hdr
		hdr.Name = strings.TrimPrefix(p, "/")
		hdr.Gid = hdr.Uid
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			return err
		}
		switch {
		case n.data != nil:
			if _, err := tw.Write(n.data); err != nil {
				return err
			}
		case n.host != "":
			if err := copyFile(tw, n.host, hdr.Size); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// copyFile copies size bytes of host file p: a file that changed since
// it was listed is an error, not a torn image.
func copyFile(w io.Writer, p string, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, size))
	if err == nil && n != size {
		err = fmt.Errorf("%s changed while the image was made", p)
	}
	return err
}
