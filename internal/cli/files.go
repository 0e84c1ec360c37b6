package cli

import (
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
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	projects "ecode/internal/project" // its path rules, which the server applies too
)

func (a *app) filesCmd() *cobra.Command {
	c := group(&cobra.Command{
		Use:   "files",
		Short: "Sync a local folder with a project's files",
		Example: `  ecode files pull -p alice/blog blog/
  cd blog && ecode files push --delete`,
	})
	c.AddCommand(a.pushCmd(), a.pullCmd())
	return c
}

// entry is a file or folder of a project as GET /api/projects/{id}/files lists it.
type entry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Dir    bool   `json:"dir"`
	SHA256 string `json:"sha256"` // hex; empty where the server gave none
}

// transfers is how many files push and pull send or fetch at once.
const transfers = 8

// listRemote lists a project's files and folders with their hashes;
// truncated says the server stopped listing before the end.
func listRemote(ctx context.Context, c *Client, id string) (entries []entry, truncated bool, err error) {
	var out struct {
		Files     []entry
		Truncated bool
	}
	if err := c.JSON(ctx, "GET", projectPath(id, "/files?hash=sha256"), nil, &out); err != nil {
		return nil, false, err
	}
	return out.Files, out.Truncated, nil
}

// unsynced names are never pushed, pulled or deleted: the folders the
// server does not list the contents of (installed dependencies and its own
// staging), and git's own folder, which the platform manages.
func unsynced(name string) bool {
	switch name {
	case ".git", ".ecode-staging", "node_modules", "__pycache__", ".venv":
		return true
	}
	return false
}

// anyUnsynced reports whether a segment of slash path p is unsynced.
func anyUnsynced(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if unsynced(seg) {
			return true
		}
	}
	return false
}

// syncResult is what a push or pull did, as --json prints it.
type syncResult struct {
	Project    string   `json:"project"`
	Uploaded   []string `json:"uploaded,omitempty"`
	Downloaded []string `json:"downloaded,omitempty"`
	Unchanged  int      `json:"unchanged"`
	Deleted    []string `json:"deleted,omitempty"`
	Skipped    []string `json:"skipped,omitempty"` // with why, as "path: reason"
}

func (a *app) report(r *syncResult, verb string, done []string) error {
	if a.json {
		return a.printJSON(r)
	}
	for _, s := range r.Skipped {
		fmt.Fprintln(a.env.Stderr, "skipped", s)
	}
	line := fmt.Sprintf("%d %s, %d unchanged", len(done), verb, r.Unchanged)
	if r.Deleted != nil {
		line += fmt.Sprintf(", %d deleted", len(r.Deleted))
	}
	fmt.Fprintln(a.env.Stdout, line)
	return nil
}

// folder is the DIR argument of push and pull, "." when absent.
func folder(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

func (a *app) pushCmd() *cobra.Command {
	var ref string
	var del bool
	c := &cobra.Command{
		Use:   "push [DIR] [-p PROJECT] [--delete]",
		Short: "Upload a folder's new and changed files to a project",
		Long: `Upload the new and changed files of DIR (the current folder by default) to
the project. Files .gitignore ignores are left out, as are .git/, the link
file ` + LinkFile + `, symbolic links and installed dependencies (node_modules,
__pycache__, .venv). With --delete, the project's files that DIR no longer
has are deleted (ignored ones are kept).

With --project, DIR is linked to the project, so later pushes and pulls
there need no --project.`,
		Example: `  ecode files push -p alice/blog
  ecode files push site/ --delete`,
		Args: args(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.push(cmd.Context(), folder(args), ref, del)
		},
	}
	a.projectFlag(c, &ref)
	c.Flags().BoolVar(&del, "delete", false, "delete the project's files that the folder does not have")
	return c
}

func (a *app) push(ctx context.Context, dir, ref string, del bool) error {
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return usageErrorf("%s is not a folder", dir)
	}
	c, p, root, err := a.folderProject(ctx, dir, ref)
	if err != nil {
		return err
	}
	defer root.Close()
	local, err := scan(dir)
	if err != nil {
		return err
	}
	remote, truncated, err := listRemote(ctx, c, p.ID)
	if err != nil {
		return err
	}
	if del && truncated {
		return &exitError{code: ExitRefused, err: errors.New("the project has more files than the server lists at once; not deleting anything (push without --delete)")}
	}
	res := &syncResult{Project: p.ID, Skipped: local.skipped}
	remoteFiles := map[string]entry{}
	for _, e := range remote {
		if !e.Dir {
			remoteFiles[e.Path] = e
		}
	}
	var mu sync.Mutex
	err = eachFile(ctx, local.files, func(ctx context.Context, f localFile) error {
		if e, ok := remoteFiles[f.path]; ok && e.Size == f.size {
			same, err := sameContent(ctx, c, p.ID, root, e)
			if err != nil {
				return err
			}
			if same {
				mu.Lock()
				res.Unchanged++
				mu.Unlock()
				return nil
			}
		}
		if err := upload(ctx, c, p.ID, root, f.path); err != nil {
			return fmt.Errorf("upload %s: %w", f.path, err)
		}
		mu.Lock()
		res.Uploaded = append(res.Uploaded, f.path)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(res.Uploaded)
	if del {
		res.Deleted = []string{}
		gone := ""
		for _, e := range remote { // sorted: a folder comes before its contents
			if gone != "" && strings.HasPrefix(e.Path, gone+"/") {
				continue
			}
			if local.has[e.Path] || anyUnsynced(e.Path) || e.Path == LinkFile || local.ignored(e.Path, e.Dir) {
				continue
			}
			if err := c.JSON(ctx, "DELETE", filePath(p.ID, e.Path), nil, nil); err != nil {
				return fmt.Errorf("delete %s: %w", e.Path, err)
			}
			res.Deleted = append(res.Deleted, e.Path)
			if e.Dir {
				gone = e.Path
			}
		}
	}
	if ref != "" {
		if err := writeLink(root, Link{Host: c.Host, Project: p.ID}); err != nil {
			return err
		}
	}
	return a.report(res, "uploaded", res.Uploaded)
}

// folderProject resolves the project of push or pull and opens the
// folder they work in, which all their file operations stay inside.
func (a *app) folderProject(ctx context.Context, dir, ref string) (*Client, *project, *os.Root, error) {
	if ref == "" {
		// A folder inside a linked one is a part of the project, not all
		// of it: syncing it as the whole would delete or misplace files.
		here, err := readLink(dir)
		if err != nil {
			return nil, nil, nil, err
		}
		if _, at, err := findLink(dir); here == nil && err == nil && at != "" {
			return nil, nil, nil, usageErrorf("%s is inside %s, which is linked to a project: sync from there, or pass --project", dir, at)
		}
	}
	c, p, err := a.project(ctx, ref, dir)
	if err != nil {
		return nil, nil, nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return c, p, root, nil
}

// localTree is what push sends of a folder.
type localTree struct {
	files   []localFile
	has     map[string]bool // every file and folder pushed, by slash path
	skipped []string
	ignore  []gitignore.Pattern
}

type localFile struct {
	path string // slash-separated, relative to the folder
	size int64
}

// ignored reports whether .gitignore rules leave slash path p out,
// itself or through a folder above it.
func (t *localTree) ignored(p string, dir bool) bool {
	m := gitignore.NewMatcher(t.ignore)
	parts := strings.Split(p, "/")
	for i := 1; i < len(parts); i++ {
		if m.Match(parts[:i], true) {
			return true
		}
	}
	return m.Match(parts, dir)
}

// scan walks dir as git would see it: .gitignore files at every level
// (and .git/info/exclude), never entering an ignored folder or following a
// link.
func scan(dir string) (*localTree, error) {
	t := &localTree{has: map[string]bool{}}
	for _, f := range []string{filepath.Join(dir, ".git", "info", "exclude"), filepath.Join(dir, ".gitignore")} {
		if err := t.readIgnore(f, nil); err != nil {
			return nil, err
		}
	}
	err := filepath.WalkDir(dir, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, full)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		p := filepath.ToSlash(rel)
		skip := func(why string) error {
			t.skipped = append(t.skipped, p+": "+why)
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case unsynced(d.Name()) || p == LinkFile:
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case t.ignored(p, d.IsDir()):
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			return skip("a symbolic link")
		case !d.IsDir() && !d.Type().IsRegular():
			return skip("not a regular file")
		}
		if _, err := projects.CleanPath(p); err != nil {
			return skip("the server does not allow this name")
		}
		t.has[p] = true
		if d.IsDir() {
			return t.readIgnore(filepath.Join(full, ".gitignore"), strings.Split(p, "/"))
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		t.files = append(t.files, localFile{path: p, size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return t, nil
}

// readIgnore adds the patterns of ignore file f, which applies to the
// folder domain; a missing file adds none.
func (t *localTree) readIgnore(f string, domain []string) error {
	raw, err := os.ReadFile(f)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", f, err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t.ignore = append(t.ignore, gitignore.ParsePattern(line, domain))
	}
	return nil
}

// hashReader is the SHA-256 of what r holds.
func hashReader(r io.Reader) ([]byte, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// eachFile calls fn for each of files, transfers at a time, and returns
// the first error, which stops the rest.
func eachFile[F any](ctx context.Context, files []F, fn func(context.Context, F) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(transfers)
	for _, f := range files {
		g.Go(func() error { return fn(ctx, f) })
	}
	return g.Wait()
}

// sameContent reports whether the project's file e holds what the local
// one does: by its hash, or by its bytes where the server gave no hash.
func sameContent(ctx context.Context, c *Client, id string, root *os.Root, e entry) (bool, error) {
	p := e.Path
	f, err := root.Open(filepath.FromSlash(p))
	if err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	defer f.Close()
	local, err := hashReader(f)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	if e.SHA256 != "" {
		return hex.EncodeToString(local) == e.SHA256, nil
	}
	res, err := c.Do(ctx, "GET", filePath(id, p), nil, "")
	if err != nil {
		return false, fmt.Errorf("compare %s: %w", p, err)
	}
	defer res.Body.Close()
	remote, err := hashReader(res.Body)
	if err != nil {
		return false, fmt.Errorf("compare %s: %w", p, err)
	}
	return bytes.Equal(local, remote), nil
}

// upload writes local file p to the project's file p.
func upload(ctx context.Context, c *Client, id string, root *os.Root, p string) error {
	f, err := root.Open(filepath.FromSlash(p))
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	req, err := c.NewRequest(ctx, "PUT", filePath(id, p), f)
	if err != nil {
		return err
	}
	// A known length lets the server refuse a file over its limit before
	// it is sent.
	req.ContentLength = info.Size()
	if info.Size() == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := c.Send(req)
	if err != nil {
		return err
	}
	return res.Body.Close()
}

func (a *app) pullCmd() *cobra.Command {
	var ref string
	c := &cobra.Command{
		Use:   "pull [DIR] [-p PROJECT]",
		Short: "Download a project's files into a folder",
		Long: `Download the project's files into DIR (the current folder by default,
created if missing). Files already the same are left alone; local files
the project does not have are kept. Nothing is written through a symbolic
link in DIR, and a path from the server that would leave DIR is refused.

With --project, DIR is linked to the project, so later pushes and pulls
there need no --project.`,
		Example: `  ecode files pull -p alice/blog blog/
  cd blog && ecode files pull`,
		Args: args(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.pull(cmd.Context(), folder(args), ref)
		},
	}
	a.projectFlag(c, &ref)
	return c
}

func (a *app) pull(ctx context.Context, dir, ref string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	c, p, root, err := a.folderProject(ctx, dir, ref)
	if err != nil {
		return err
	}
	defer root.Close()
	remote, truncated, err := listRemote(ctx, c, p.ID)
	if err != nil {
		return err
	}
	if truncated {
		fmt.Fprintf(a.env.Stderr, "ecode: the server listed only the first %d entries of the project; the rest are not pulled\n", len(remote))
	}
	for _, e := range remote {
		if err := localPath(e.Path); err != nil {
			return err
		}
	}
	res := &syncResult{Project: p.ID}
	var files []entry
	for _, e := range remote {
		switch {
		case anyUnsynced(e.Path) || e.Path == LinkFile:
		case e.Dir: // folders first, sorted: a parent before its contents
			if err := mkdirs(root, e.Path); err != nil {
				return err
			}
		default:
			files = append(files, e)
		}
	}
	var mu sync.Mutex
	err = eachFile(ctx, files, func(ctx context.Context, e entry) error {
		changed, err := download(ctx, c, p.ID, root, e)
		mu.Lock()
		defer mu.Unlock()
		var ae *APIError
		switch {
		case errors.As(err, &ae) && (ae.Code == "invalid_path" || ae.Code == "not_a_file"):
			// A link or a pipe in the project: the server serves only files.
			res.Skipped = append(res.Skipped, e.Path+": "+ae.Message)
		case err != nil:
			return fmt.Errorf("download %s: %w", e.Path, err)
		case changed:
			res.Downloaded = append(res.Downloaded, e.Path)
		default:
			res.Unchanged++
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(res.Downloaded)
	slices.Sort(res.Skipped)
	if ref != "" {
		if err := writeLink(root, Link{Host: c.Host, Project: p.ID}); err != nil {
			return err
		}
	}
	return a.report(res, "downloaded", res.Downloaded)
}

// localPath refuses a path from the server that could write outside the
// folder, or into .git (a hook there would run on the next git command):
// it must be what the server itself accepts, local on this system, and
// free of .git in any case.
func localPath(p string) error {
	if _, err := projects.CleanPath(p); err != nil || p != strings.TrimSuffix(p, "/") || !filepath.IsLocal(filepath.FromSlash(p)) {
		return fmt.Errorf("the server sent the path %q, which is not a safe relative path; nothing was written", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if strings.EqualFold(seg, ".git") {
			return fmt.Errorf("the server sent the path %q, inside .git; nothing was written", p)
		}
	}
	return nil
}

// mkdirs creates folder p and those above it in root, refusing to pass
// through a symbolic link even one that stays inside root.
func mkdirs(root *os.Root, p string) error {
	parts := strings.Split(p, "/")
	for i := range parts {
		q := filepath.Join(parts[:i+1]...)
		info, err := root.Lstat(q)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := root.Mkdir(q, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("create %s: %w", q, err)
			}
		case err != nil:
			return fmt.Errorf("create %s: %w", q, err)
		case info.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link here; not writing through it", filepath.ToSlash(q))
		case !info.IsDir():
			return fmt.Errorf("%s is a file here and a folder in the project", filepath.ToSlash(q))
		}
	}
	return nil
}

// download writes the project's file e into root, unless the local file
// already holds the same bytes (fetching nothing when the hash says so);
// changed says whether it wrote.
func download(ctx context.Context, c *Client, id string, root *os.Root, e entry) (changed bool, err error) {
	if e.SHA256 != "" && sameLocal(root, e) {
		return false, nil
	}
	res, err := c.Do(ctx, "GET", filePath(id, e.Path), nil, "")
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	return writeFile(root, e.Path, res.Body)
}

// sameLocal reports whether root's regular file at e.Path has e's size
// and hash; a link there is never read.
func sameLocal(root *os.Root, e entry) bool {
	name := filepath.FromSlash(e.Path)
	if info, err := root.Lstat(name); err != nil || !info.Mode().IsRegular() || info.Size() != e.Size {
		return false
	}
	f, err := root.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	sum, err := hashReader(f)
	return err == nil && hex.EncodeToString(sum) == e.SHA256
}

// writeFile replaces slash path p in root with what r holds, through a
// temporary file renamed into place: a reader never sees half a file, and
// a link at p is replaced rather than written through. changed is false
// when p already held the same bytes.
func writeFile(root *os.Root, p string, r io.Reader) (changed bool, err error) {
	if dir := path.Dir(p); dir != "." {
		if err := mkdirs(root, dir); err != nil {
			return false, err
		}
	}
	name := filepath.FromSlash(p)
	mode := fs.FileMode(0o644)
	var old []byte // the current file's hash, when there is one
	switch info, err := root.Lstat(name); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, err
	case info.Mode()&fs.ModeSymlink != 0:
		return false, fmt.Errorf("%s is a symbolic link here; not replacing it", p)
	case !info.Mode().IsRegular():
		return false, fmt.Errorf("%s is not a regular file here", p)
	default:
		mode = info.Mode().Perm()
		f, err := root.Open(name)
		if err != nil {
			return false, err
		}
		old, err = hashReader(f)
		f.Close()
		if err != nil {
			return false, fmt.Errorf("read %s: %w", p, err)
		}
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(name), ".ecode-pull-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return false, err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && bytes.Equal(old, h.Sum(nil)) {
		return false, root.Remove(tmp)
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		root.Remove(tmp)
		return false, err
	}
	return true, nil
}
