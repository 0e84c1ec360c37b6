package project

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/safefs"
)

// FileEntry is one file or folder in a project's tree.
type FileEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Dir    bool   `json:"dir"`
	SHA256 string `json:"sha256,omitempty"` // hex, when asked for (see Hash)
}

// Tree is a project's working tree on disk, which code in the project's
// sandbox may change at any instant. Reads go through safefs (descriptors,
// no link followed out, no FIFO opened, type and size checked on what was
// opened); changes go through an os.Root, so neither "..", nor a link
// planted by code the project runs, can lead a file operation outside the
// project.
type Tree struct {
	projectID string
	dir       string
	limits    Limits
	usage     *usage
	uid       int // host uid that owns the project's files; -1 leaves ownership alone
	bus       *events.Bus
}

// own hands p, and the folders above it that the platform just created, to
// the project's sandbox uid, so code in the sandbox can change them.
func (t *Tree) own(r *os.Root, p string) {
	if t.uid < 0 {
		return
	}
	for q := p; q != "." && q != "/"; q = path.Dir(q) {
		info, err := r.Lstat(q)
		if err != nil {
			return
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) == t.uid && q != p {
			return // the rest of the way up is already the sandbox's
		}
		_ = r.Lchown(q, t.uid, t.uid)
	}
}

// Limits bound what a project may hold.
type Limits struct {
	MaxFile    int64
	MaxProject int64
}

const (
	maxListed    = 20000   // tree entries answered at most
	maxSearchHit = 1000    // search matches answered at most
	maxSearched  = 1 << 20 // larger files are not searched
	stagingDir   = ".ecode-staging"
)

// skipped folders are left out of listings' recursion, search and zips:
// history and installed dependencies, which the platform or a package
// manager own.
func skipped(name string) bool { return name == ".git" || name == stagingDir }

func heavy(name string) bool {
	return name == "node_modules" || name == "__pycache__" || name == ".venv"
}

// Dir is the tree's folder on the host.
func (t *Tree) Dir() string { return t.dir }

func (t *Tree) root() (*os.Root, error) {
	r, err := os.OpenRoot(t.dir)
	if err != nil {
		return nil, fmt.Errorf("open project tree: %w", err)
	}
	return r, nil
}

func (t *Tree) safe() (*safefs.Dir, error) {
	d, err := safefs.OpenDir(t.dir)
	if err != nil {
		return nil, fmt.Errorf("open project tree: %w", err)
	}
	return d, nil
}

// List returns every file and folder, sorted by path. The contents of
// dependency folders such as node_modules are not listed, only the folder.
func (t *Tree) List() (entries []FileEntry, truncated bool, err error) {
	d, err := t.safe()
	if err != nil {
		return nil, false, err
	}
	defer d.Close()
	entries = []FileEntry{}
	err = d.Walk(func(e safefs.Entry) error {
		if skipped(e.Name()) {
			return skipDir(e)
		}
		if len(entries) >= maxListed {
			truncated = true
			return fs.SkipAll
		}
		fe := FileEntry{Path: e.Path, Dir: e.IsDir()}
		if !fe.Dir {
			if info, err := e.Info(); err == nil {
				fe.Size = info.Size()
			}
		}
		entries = append(entries, fe)
		if fe.Dir && heavy(e.Name()) {
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("list files: %w", err)
	}
	return entries, truncated, nil
}

// maxHashed bounds the bytes one listing reads to hash its files; the
// files past it are listed without a hash.
const maxHashed = 512 << 20

// Hash fills in the SHA-256 of entries' regular files, so a client can
// tell which of its files differ without downloading them. Links and
// other non-files get none, as do files once maxHashed bytes were read.
func (t *Tree) Hash(entries []FileEntry) error {
	d, err := t.safe()
	if err != nil {
		return err
	}
	defer d.Close()
	var read int64
	for i := range entries {
		e := &entries[i]
		if e.Dir || read+e.Size > maxHashed {
			continue
		}
		f, _, err := d.Open(e.Path)
		if err != nil {
			continue // changed since it was listed, or not a regular file
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		read += n
		if err == nil {
			e.SHA256 = hex.EncodeToString(h.Sum(nil))
		}
	}
	return nil
}

// skipDir leaves a folder out of a walk; a file of the same name is just
// passed over.
func skipDir(e safefs.Entry) error {
	if e.IsDir() {
		return fs.SkipDir
	}
	return nil
}

// Open opens a regular file for reading. The file is checked on its
// descriptor: a link, FIFO, socket or device is refused, and reading
// never blocks.
func (t *Tree) Open(p string) (*os.File, error) {
	d, err := t.safe()
	if err != nil {
		return nil, err
	}
	defer d.Close()
	f, _, err := d.Open(p)
	if err != nil {
		return nil, fileError(err, p)
	}
	return f, nil
}

// Exists reports whether p names anything in the tree (a link is not
// followed).
func (t *Tree) Exists(p string) bool {
	d, err := t.safe()
	if err != nil {
		return false
	}
	defer d.Close()
	_, err = d.Lstat(p)
	return err == nil
}

// ReadFile reads a regular file of at most max bytes, as Open does.
func (t *Tree) ReadFile(p string, max int64) ([]byte, error) {
	d, err := t.safe()
	if err != nil {
		return nil, err
	}
	defer d.Close()
	b, err := d.ReadFile(p, max)
	if errors.Is(err, safefs.ErrTooLarge) {
		return nil, errs.TooLarge("file_too_large", "%q is larger than %s.", p, human(max))
	}
	return b, fileError(err, p)
}

// Write replaces (or creates) p with body's bytes, creating parent folders.
// The bytes go to a temporary file that is synced and renamed into place, so
// a failed or oversized write leaves the old file as it was.
func (t *Tree) Write(p string, body io.Reader) (int64, error) {
	r, err := t.root()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if err := prepareTarget(r, p); err != nil {
		return 0, err
	}
	old := regularSize(r, p)
	tmp, n, err := t.stage(r, path.Dir(p), body, old)
	if err != nil {
		return 0, err
	}
	if err := r.Rename(tmp, p); err != nil {
		_ = r.Remove(tmp)
		return 0, fileError(err, p)
	}
	t.own(r, p)
	t.usage.add(n - old)
	t.changed()
	return n, nil
}

// changed tells the bus the files changed (automatic checkpoints follow).
func (t *Tree) changed() {
	events.Publish(context.Background(), t.bus, FilesChanged{ProjectID: t.projectID})
}

// SetExecutable marks p executable (0755) or not (0644).
func (t *Tree) SetExecutable(p string, exec bool) error {
	r, err := t.root()
	if err != nil {
		return err
	}
	defer r.Close()
	mode := os.FileMode(0o644)
	if exec {
		mode = 0o755
	}
	if err := r.Chmod(p, mode); err != nil {
		return fileError(err, p)
	}
	t.changed()
	return nil
}

// prepareTarget refuses to overwrite a folder and creates p's parents.
func prepareTarget(r *os.Root, p string) error {
	if info, err := r.Lstat(p); err == nil && info.IsDir() {
		return errs.Conflict("is_directory", "%q is a folder.", p)
	}
	return mkParents(r, p)
}

// mkParents creates the folders that lead to p.
func mkParents(r *os.Root, p string) error {
	dir := path.Dir(p)
	if dir == "." {
		return nil
	}
	err := r.MkdirAll(dir, 0o755)
	if errors.Is(err, fs.ErrExist) {
		return errs.Invalid("invalid_path", "A part of %q is a file, not a folder.", dir)
	}
	return fileError(err, dir)
}

// regularSize is the size of the regular file at p, 0 when there is none.
func regularSize(r *os.Root, p string) int64 {
	if info, err := r.Lstat(p); err == nil && info.Mode().IsRegular() {
		return info.Size()
	}
	return 0
}

// stage copies body into a new hidden file in dir and returns its name. It
// stops with 413 as soon as the bytes exceed the file limit or the room left
// in the project (counting the replaced file's old size as free).
func (t *Tree) stage(r *os.Root, dir string, body io.Reader, replaced int64) (string, int64, error) {
	room := t.limits.MaxProject - t.usage.get(t.dir) + replaced
	limit, tooLarge := t.limits.MaxFile, errs.TooLarge("file_too_large", "A file may be at most %s.", human(t.limits.MaxFile))
	if room < limit {
		limit = max(room, 0)
		tooLarge = errs.TooLarge("project_too_large", "The project would exceed its %s limit; delete files to make room.", human(t.limits.MaxProject))
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, ".ecode-tmp-"+hex.EncodeToString(rnd[:]))
	f, err := r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", 0, fileError(err, dir)
	}
	n, err := io.Copy(f, io.LimitReader(body, limit+1))
	if err == nil && n > limit {
		err = tooLarge
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = r.Remove(tmp)
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			err = tooLarge
		}
		return "", 0, err
	}
	return tmp, n, nil
}

func human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Delete removes a file, or a folder with everything in it.
func (t *Tree) Delete(p string) error {
	r, err := t.root()
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := r.Lstat(p); err != nil {
		return fileError(err, p)
	}
	if err := r.RemoveAll(p); err != nil {
		return fileError(err, p)
	}
	t.usage.invalidate()
	t.changed()
	return nil
}

// Mkdir creates folder p and any missing parents; p itself must be new.
func (t *Tree) Mkdir(p string) error {
	r, err := t.root()
	if err != nil {
		return err
	}
	defer r.Close()
	if err := mkParents(r, p); err != nil {
		return err
	}
	if err := r.Mkdir(p, 0o755); err != nil {
		return fileError(err, p)
	}
	t.own(r, p)
	return nil
}

// Move renames or moves a file or folder; the target must not exist.
// Editors that have it open follow it (FileMoved).
func (t *Tree) Move(ctx context.Context, from, to string) error {
	if to == from || strings.HasPrefix(to, from+"/") {
		return errs.Invalid("invalid_move", "Cannot move %q into itself.", from)
	}
	r, err := t.root()
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := r.Lstat(from); err != nil {
		return fileError(err, from)
	}
	if _, err := r.Lstat(to); err == nil {
		return errs.Conflict("exists", "%q already exists.", to)
	}
	if err := mkParents(r, to); err != nil {
		return err
	}
	if err := r.Rename(from, to); err != nil {
		return fileError(err, to)
	}
	t.own(r, to)
	events.Publish(ctx, t.bus, FileMoved{ProjectID: t.projectID, From: from, To: to})
	t.changed()
	return nil
}

// Upload is one file of an upload: its project-relative path and bytes.
type Upload struct {
	Path string
	Body io.Reader
}

// WriteAll writes uploads all or nothing: each is staged first, and only
// when every one fits are they renamed into place.
func (t *Tree) WriteAll(next func() (*Upload, error)) ([]FileEntry, error) {
	r, err := t.root()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	stage := path.Join(stagingDir, hex.EncodeToString(rnd[:]))
	if err := r.MkdirAll(stage, 0o755); err != nil {
		return nil, fmt.Errorf("create staging folder: %w", err)
	}
	defer func() { _ = r.RemoveAll(stage) }()
	type staged struct {
		tmp, dst string
		n, old   int64
	}
	var files []staged
	var pending int64 // bytes staged so far count against the room left
	for {
		u, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		old := regularSize(r, u.Path)
		tmp, n, err := t.stage(r, stage, u.Body, old-pending)
		if err != nil {
			return nil, err
		}
		pending += n - old
		files = append(files, staged{tmp: tmp, dst: u.Path, n: n, old: old})
	}
	out := make([]FileEntry, 0, len(files))
	if len(files) > 0 {
		defer t.changed()
	}
	for _, f := range files {
		if err := prepareTarget(r, f.dst); err != nil {
			return out, err
		}
		if err := r.Rename(f.tmp, f.dst); err != nil {
			return out, fileError(err, f.dst)
		}
		t.own(r, f.dst)
		t.usage.add(f.n - f.old)
		out = append(out, FileEntry{Path: f.dst, Size: f.n})
	}
	return out, nil
}

// Match is one line that a search found.
type Match struct {
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Text   string `json:"text"`
}

// Search finds q in the project's text files, line by line.
func (t *Tree) Search(q string, caseSensitive bool) (matches []Match, truncated bool, err error) {
	d, err := t.safe()
	if err != nil {
		return nil, false, err
	}
	defer d.Close()
	needle := q
	if !caseSensitive {
		needle = strings.ToLower(q)
	}
	matches = []Match{}
	err = d.Walk(func(e safefs.Entry) error {
		if e.IsDir() {
			if skipped(e.Name()) || heavy(e.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type.IsRegular() {
			return nil
		}
		data, err := readEntry(e, maxSearched)
		if err != nil || bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			return nil // unreadable, too large or binary
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, maxSearched+1)
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			hay := text
			if !caseSensitive {
				hay = strings.ToLower(text)
			}
			col := strings.Index(hay, needle)
			if col < 0 {
				continue
			}
			if len(matches) >= maxSearchHit {
				truncated = true
				return fs.SkipAll
			}
			matches = append(matches, Match{Path: e.Path, Line: line, Column: len([]rune(hay[:col])) + 1, Text: truncate(text, 240)})
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("search: %w", err)
	}
	return matches, truncated, nil
}

// readEntry reads a regular file met in a walk, refusing one over max bytes.
func readEntry(e safefs.Entry, max int64) ([]byte, error) {
	f, info, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > max {
		return nil, safefs.ErrTooLarge
	}
	return io.ReadAll(io.LimitReader(f, max))
}

// Zip writes the project as a zip archive, without its history, installed
// dependencies or links.
func (t *Tree) Zip(w io.Writer) error {
	d, err := t.safe()
	if err != nil {
		return err
	}
	defer d.Close()
	zw := zip.NewWriter(w)
	err = d.Walk(func(e safefs.Entry) error {
		if e.IsDir() {
			if skipped(e.Name()) || heavy(e.Name()) {
				return fs.SkipDir
			}
			_, err := zw.Create(e.Path + "/")
			return err
		}
		if !e.Type.IsRegular() {
			return nil
		}
		f, info, err := e.Open()
		if err != nil {
			return nil // no longer a regular file
		}
		defer f.Close()
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Method = e.Path, zip.Deflate
		dst, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		// A file that grows while it is zipped is cut at its opened size.
		_, err = io.Copy(dst, io.LimitReader(f, info.Size()))
		return err
	})
	if err != nil {
		return fmt.Errorf("zip project: %w", err)
	}
	return zw.Close()
}

// Usage measures the project's size on disk now.
func (t *Tree) Usage() (used, limit int64, err error) {
	d, err := t.safe()
	if err != nil {
		return 0, 0, err
	}
	defer d.Close()
	n := measure(d)
	t.usage.mu.Lock()
	t.usage.bytes, t.usage.at = n, time.Now()
	t.usage.mu.Unlock()
	return n, t.limits.MaxProject, nil
}

// Human formats a byte count for messages.
func Human(n int64) string { return human(n) }

// usage tracks a project's size on disk. Writes through the API adjust it;
// it is measured again when older than usageTTL, which catches what runs
// and shells change behind the API's back.
type usage struct {
	mu    sync.Mutex
	bytes int64
	at    time.Time
}

const usageTTL = 30 * time.Second

func (u *usage) get(dir string) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	if time.Since(u.at) > usageTTL {
		if d, err := safefs.OpenDir(dir); err == nil {
			u.bytes, u.at = measure(d), time.Now()
			d.Close()
		}
	}
	return u.bytes
}

func (u *usage) add(delta int64) {
	u.mu.Lock()
	u.bytes += delta
	u.mu.Unlock()
}

func (u *usage) invalidate() {
	u.mu.Lock()
	u.at = time.Time{}
	u.mu.Unlock()
}

// measure adds up the sizes of the project's regular files, a .git of the
// person's own included: it is their disk.
func measure(d *safefs.Dir) int64 {
	var total int64
	_ = d.Walk(func(e safefs.Entry) error {
		if e.Type.IsRegular() {
			if info, err := e.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}
