// Package safefs is the one way the server, running as root, reads and
// copies folders that code in a sandbox can change at any instant: project
// trees and anything inside them.
//
// Every name is resolved against an open folder descriptor, never as a host
// path: resolution cannot leave that folder (openat2 with RESOLVE_BENEATH and
// no magic links; where the kernel lacks openat2, one component at a time
// with O_NOFOLLOW), the last name is never a link, and opening never blocks
// (a FIFO answers at once). What was opened is then checked on the
// descriptor itself, type and size, never on a name looked at earlier, so
// swapping a name for a link or a pipe between a check and a use gains
// nothing.
package safefs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

var (
	// ErrLink is returned for a name that is, or passes through, a link the
	// resolution may not follow.
	ErrLink = errors.New("is a link")
	// ErrNotRegular is returned for a name that is not a regular file (a
	// folder, FIFO, socket or device) where a file's bytes were asked for.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is returned when a file holds more bytes than asked for.
	ErrTooLarge = errors.New("file too large")
	// ErrInvalid is returned for a name that is not a clean relative path.
	ErrInvalid = errors.New("invalid name")
)

// Dir is an open folder that names are resolved below.
type Dir struct {
	f    *os.File
	name string // for messages only
}

// OpenDir opens the folder at a host path the server itself chose (a
// project's root, never a name from inside a project).
func OpenDir(dir string) (*Dir, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return &Dir{f: os.NewFile(uintptr(fd), dir), name: dir}, nil
}

// Close releases the folder's descriptor.
func (d *Dir) Close() error { return d.f.Close() }

func (d *Dir) fd() int { return int(d.f.Fd()) }

// Open opens the regular file name (slash-separated, relative to d) for
// reading. The returned info comes from the open descriptor.
func (d *Dir) Open(name string) (*os.File, fs.FileInfo, error) {
	f, err := d.open(name, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, nil, err
	}
	info, err := regular(f, name)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// ReadFile reads the regular file name, refusing one over max bytes.
func (d *Dir) ReadFile(name string, max int64) ([]byte, error) {
	f, info, err := d.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, info, name, max)
}

// Sub opens the folder name below d; "." opens d afresh.
func (d *Dir) Sub(name string) (*Dir, error) {
	if name == "." {
		fd, err := unix.Openat(d.fd(), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: d.name, Err: err}
		}
		return &Dir{f: os.NewFile(uintptr(fd), d.name), name: d.name}, nil
	}
	f, err := d.open(name, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	return &Dir{f: f, name: path.Join(d.name, name)}, nil
}

// ReadDir describes the entries of folder name ("." for d), sorted by
// name, links described rather than followed.
func (d *Dir) ReadDir(name string) ([]fs.FileInfo, error) {
	sub, err := d.Sub(name)
	if err != nil {
		return nil, err
	}
	defer sub.Close()
	names, err := sub.f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", name, err)
	}
	slices.Sort(names)
	out := make([]fs.FileInfo, 0, len(names))
	for _, n := range names {
		if info, err := sub.lstat(n); err == nil {
			out = append(out, info)
		}
	}
	return out, nil
}

// Readlink reads the target of the link name.
func (d *Dir) Readlink(name string) (string, error) {
	dir, base, err := d.parent(name)
	if err != nil {
		return "", err
	}
	if dir != d {
		defer dir.Close()
	}
	return dir.readlink(base)
}

func (d *Dir) readlink(base string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(d.fd(), base, buf)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: base, Err: err}
	}
	return string(buf[:n]), nil
}

// Stat describes name, following links that stay below d.
func (d *Dir) Stat(name string) (fs.FileInfo, error) {
	if name == "." {
		return d.f.Stat()
	}
	if err := check(name); err != nil {
		return nil, err
	}
	fd, err := openat2(d.fd(), name, unix.O_PATH|unix.O_CLOEXEC)
	if errors.Is(err, unix.ENOSYS) {
		fd, err = walkOpen(d.fd(), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: linkErr(err)}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return statInfo(name, &st), nil
}

// Lstat describes name itself (a link is described, not followed).
func (d *Dir) Lstat(name string) (fs.FileInfo, error) {
	dir, base, err := d.parent(name)
	if err != nil {
		return nil, err
	}
	if dir != d {
		defer dir.Close()
	}
	return dir.lstat(base)
}

// parent opens the folder holding name and returns it with name's last
// component. It is d itself for a name at the top.
func (d *Dir) parent(name string) (*Dir, string, error) {
	if err := check(name); err != nil {
		return nil, "", err
	}
	dir, base := path.Split(name)
	if dir == "" {
		return d, base, nil
	}
	sub, err := d.Sub(strings.TrimSuffix(dir, "/"))
	return sub, base, err
}

func (d *Dir) lstat(base string) (fs.FileInfo, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd(), base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: base, Err: err}
	}
	return statInfo(base, &st), nil
}

// open resolves name below d with flags, never following a final link.
func (d *Dir) open(name string, flags int) (*os.File, error) {
	if err := check(name); err != nil {
		return nil, err
	}
	flags |= unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := openat2(d.fd(), name, flags)
	if errors.Is(err, unix.ENOSYS) {
		fd, err = walkOpen(d.fd(), name, flags)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: linkErr(err)}
	}
	return os.NewFile(uintptr(fd), path.Join(d.name, name)), nil
}

func openat2(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat2(dirfd, name, &unix.OpenHow{
			Flags:   uint64(flags),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
		})
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
}

// walkOpen is the resolution where openat2 is missing: one component at a
// time, each opened with O_NOFOLLOW relative to the one before, so no link is
// followed at all.
func walkOpen(dirfd int, name string, flags int) (int, error) {
	parts := strings.Split(name, "/")
	cur := dirfd
	for i, part := range parts {
		f := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
		if i == len(parts)-1 {
			f = flags
		}
		fd, err := unix.Openat(cur, part, f, 0)
		if cur != dirfd {
			unix.Close(cur)
		}
		if err != nil {
			return -1, err
		}
		cur = fd
	}
	return cur, nil
}

// linkErr names the errors the kernel gives for a link in the way.
func linkErr(err error) error {
	switch {
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV):
		return ErrLink
	case errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("%w: %w", ErrNotRegular, err)
	}
	return err
}

// check refuses names that are not clean, slash-separated and relative.
func check(name string) error {
	if name == "" || name == "." || strings.HasPrefix(name, "/") || strings.ContainsRune(name, 0) || path.Clean(name) != name {
		return fmt.Errorf("%w: %q", ErrInvalid, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return fmt.Errorf("%w: %q", ErrInvalid, name)
		}
	}
	return nil
}

// regular checks, on the descriptor, that f is a regular file.
func regular(f *os.File, name string) (fs.FileInfo, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case info.IsDir():
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: %w", ErrNotRegular, unix.EISDIR)}
	case !info.Mode().IsRegular():
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	return info, nil
}

// readAll reads f whole, never more than max bytes (max < 0: no limit),
// even if the file grows while it is read.
func readAll(f *os.File, info fs.FileInfo, name string, max int64) ([]byte, error) {
	if max >= 0 && info.Size() > max {
		return nil, &fs.PathError{Op: "read", Path: name, Err: ErrTooLarge}
	}
	limit := max
	if limit < 0 {
		limit = 1<<63 - 2
	}
	buf := make([]byte, 0, min(info.Size(), limit)+1)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &fs.PathError{Op: "read", Path: name, Err: ErrTooLarge}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// fileInfo describes a file from its stat buffer; Sys is the *unix.Stat_t.
type fileInfo struct {
	name string
	st   unix.Stat_t
}

func statInfo(name string, st *unix.Stat_t) fs.FileInfo { return &fileInfo{name: name, st: *st} }

func (i *fileInfo) Name() string { return path.Base(i.name) }
func (i *fileInfo) Size() int64  { return i.st.Size }
func (i *fileInfo) Mode() fs.FileMode {
	m := fs.FileMode(i.st.Mode & 0o777)
	switch i.st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	}
	return m
}
func (i *fileInfo) ModTime() time.Time { return time.Unix(i.st.Mtim.Unix()) }
func (i *fileInfo) IsDir() bool        { return i.Mode().IsDir() }
func (i *fileInfo) Sys() any           { return &i.st }
