package project

import (
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/go-git/go-billy/v5"

	"ecode/internal/safefs"
)

// worktreeFS shows git the project's files through safefs, read-only: the
// platform's history reads the tree as sandbox code left it, so it follows
// no link out of the project, opens no FIFO, and never looks inside a .git
// folder the project holds (that is the person's own repository, not the
// platform's history). Restores write through Tree instead.
type worktreeFS struct {
	d      *safefs.Dir
	prefix string
}

var _ billy.Filesystem = worktreeFS{}

// name turns a billy path into a safefs name, "." for the top. Any path
// through a .git folder reads as missing.
func (w worktreeFS) name(p string) (string, error) {
	p = path.Clean("/" + path.Join(w.prefix, p))[1:]
	if p == "" {
		return ".", nil
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".git" {
			return "", &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
	}
	return p, nil
}

func (w worktreeFS) Open(filename string) (billy.File, error) {
	n, err := w.name(filename)
	if err != nil {
		return nil, err
	}
	f, _, err := w.d.Open(n)
	if err != nil {
		return nil, err
	}
	return readOnlyFile{f}, nil
}

func (w worktreeFS) OpenFile(filename string, flag int, _ os.FileMode) (billy.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		return nil, billy.ErrReadOnly
	}
	return w.Open(filename)
}

func (w worktreeFS) Lstat(filename string) (os.FileInfo, error) {
	n, err := w.name(filename)
	if err != nil {
		return nil, err
	}
	if n == "." {
		return w.d.Stat(n)
	}
	return w.d.Lstat(n)
}

func (w worktreeFS) Stat(filename string) (os.FileInfo, error) {
	n, err := w.name(filename)
	if err != nil {
		return nil, err
	}
	return w.d.Stat(n)
}

// ReadDir lists folders, regular files and links: FIFOs, sockets and
// devices are not part of a project's history.
func (w worktreeFS) ReadDir(p string) ([]os.FileInfo, error) {
	n, err := w.name(p)
	if err != nil {
		return nil, err
	}
	all, err := w.d.ReadDir(n)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, fi := range all {
		if m := fi.Mode(); m.IsDir() || m.IsRegular() || m&fs.ModeSymlink != 0 {
			out = append(out, fi)
		}
	}
	return out, nil
}

func (w worktreeFS) Readlink(link string) (string, error) {
	n, err := w.name(link)
	if err != nil {
		return "", err
	}
	return w.d.Readlink(n)
}

func (w worktreeFS) Join(elem ...string) string { return path.Join(elem...) }

func (w worktreeFS) Chroot(p string) (billy.Filesystem, error) {
	n, err := w.name(p)
	if err != nil {
		return nil, err
	}
	if n == "." {
		n = ""
	}
	return worktreeFS{d: w.d, prefix: n}, nil
}

func (w worktreeFS) Root() string { return "/" + w.prefix }

func (w worktreeFS) Create(string) (billy.File, error)           { return nil, billy.ErrReadOnly }
func (w worktreeFS) Rename(string, string) error                 { return billy.ErrReadOnly }
func (w worktreeFS) Remove(string) error                         { return billy.ErrReadOnly }
func (w worktreeFS) TempFile(string, string) (billy.File, error) { return nil, billy.ErrReadOnly }
func (w worktreeFS) MkdirAll(string, os.FileMode) error          { return billy.ErrReadOnly }
func (w worktreeFS) Symlink(string, string) error                { return billy.ErrReadOnly }
func (w worktreeFS) Capabilities() billy.Capability {
	return billy.ReadCapability | billy.SeekCapability
}

// readOnlyFile is an open project file as billy wants one.
type readOnlyFile struct{ *os.File }

func (readOnlyFile) Lock() error   { return nil }
func (readOnlyFile) Unlock() error { return nil }
