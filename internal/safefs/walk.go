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

	"golang.org/x/sys/unix"
)

// MaxDepth bounds how deep Walk descends: each level holds a descriptor,
// and no project needs folders nested deeper.
const MaxDepth = 128

// Entry is one name met by Walk.
type Entry struct {
	Path string      // slash-separated, relative to the walked folder
	Type fs.FileMode // type bits, as the folder listed them
	dir  *Dir        // the folder holding it
	name string
}

// Name is the entry's last path component.
func (e Entry) Name() string { return e.name }

// IsDir reports whether the listing named a folder.
func (e Entry) IsDir() bool { return e.Type.IsDir() }

// Info describes the entry now, without following a link.
func (e Entry) Info() (fs.FileInfo, error) { return e.dir.lstat(e.name) }

// Open opens the entry for reading if it is, on the descriptor, a regular file.
func (e Entry) Open() (*os.File, fs.FileInfo, error) { return e.dir.Open(e.name) }

// Lchown changes the entry's owner, a link's own and never its target's,
// relative to the folder's descriptor.
func (e Entry) Lchown(uid, gid int) error {
	if err := unix.Fchownat(e.dir.fd(), e.name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "lchown", Path: e.Path, Err: err}
	}
	return nil
}

// Readlink reads the target of the entry, a link.
func (e Entry) Readlink() (string, error) { return e.dir.readlink(e.name) }

// Walk calls fn for every name below d, folders before their contents, in
// lexical order. No link is followed: each folder is opened relative to its
// parent's descriptor with O_NOFOLLOW, so a folder swapped for a link while
// the walk runs is skipped, not entered. fn may return fs.SkipDir for a
// folder (or for a file, skipping the rest of its folder) and fs.SkipAll to
// stop. Names that vanish or change type under the walk are skipped.
// An Entry is valid only during the call of fn that it is passed to.
func (d *Dir) Walk(fn func(e Entry) error) error {
	top, err := d.Sub(".")
	if err != nil {
		return err
	}
	defer top.Close()
	err = top.walk("", 0, fn)
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

func (d *Dir) walk(prefix string, depth int, fn func(e Entry) error) error {
	entries, err := d.f.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("list %s: %w", d.name, err)
	}
	slices.SortFunc(entries, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, de := range entries {
		e := Entry{Path: path.Join(prefix, de.Name()), Type: de.Type(), dir: d, name: de.Name()}
		err := fn(e)
		if errors.Is(err, fs.SkipDir) {
			if !e.IsDir() {
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
		if !e.IsDir() || depth+1 >= MaxDepth {
			continue
		}
		sub, err := d.Sub(de.Name())
		if gone(err) {
			continue
		}
		if err != nil {
			return err
		}
		err = sub.walk(e.Path, depth+1, fn)
		sub.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// gone reports an error that means a name changed under a walk: it vanished,
// or became a link or a file.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrLink) || errors.Is(err, ErrNotRegular) || errors.Is(err, unix.ENOTDIR)
}

// CopyOptions bound and filter a Copy.
type CopyOptions struct {
	// Skip leaves an entry (and a folder's contents) out.
	Skip func(e Entry) bool
	// MaxBytes stops the copy with ErrTooLarge past this many bytes of
	// files; 0 means no limit.
	MaxBytes int64
	// Links copies links as links (they are never followed); without it
	// links are left out.
	Links bool
}

// Copy copies the folders, regular files and (with opts.Links) links below
// src into the folder dst, which must exist and is the server's own (a new
// fork or the platform's history store). Files are read from descriptors
// opened with Open; FIFOs, sockets and devices are left out; permissions
// keep only the rwx bits.
func Copy(src *Dir, dst *os.Root, opts CopyOptions) error {
	var total int64
	return src.Walk(func(e Entry) error {
		if opts.Skip != nil && opts.Skip(e) {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case e.IsDir():
			if err := dst.Mkdir(e.Path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("copy %s: %w", e.Path, err)
			}
			return nil
		case e.Type&fs.ModeSymlink != 0:
			if !opts.Links {
				return nil
			}
			target, err := e.Readlink()
			if err != nil {
				return nil // gone since it was listed
			}
			return dst.Symlink(target, e.Path)
		case !e.Type.IsRegular():
			return nil
		}
		n, err := copyFile(e, dst, opts.MaxBytes-total, opts.MaxBytes > 0)
		if gone(err) {
			return nil
		}
		total += n
		return err
	})
}

func copyFile(e Entry, dst *os.Root, room int64, bounded bool) (int64, error) {
	in, info, err := e.Open()
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := dst.OpenFile(e.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", e.Path, err)
	}
	var r io.Reader = in
	if bounded {
		r = io.LimitReader(in, room+1)
	}
	n, err := io.Copy(out, r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && bounded && n > room {
		err = &fs.PathError{Op: "copy", Path: e.Path, Err: ErrTooLarge}
	}
	if err != nil {
		return n, fmt.Errorf("copy %s: %w", e.Path, err)
	}
	return n, nil
}

// ChownTree gives dir and everything below it to uid:gid, skipping what
// already belongs to them, so a second pass costs one stat per file. The
// tree may be sandbox-written: each name is changed relative to its
// folder's descriptor, never followed through a link.
func ChownTree(dir string, uid, gid int) error {
	d, err := OpenDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := os.Chown(dir, uid, gid); err != nil {
		return err
	}
	return d.Walk(func(e Entry) error {
		info, err := e.Info()
		if err != nil {
			return nil // gone since it was listed
		}
		if st, ok := info.Sys().(*unix.Stat_t); ok && int(st.Uid) == uid && int(st.Gid) == gid {
			return nil
		}
		return e.Lchown(uid, gid)
	})
}
