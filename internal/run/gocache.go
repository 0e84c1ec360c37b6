package run

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"ecode/internal/project"
	"ecode/internal/runtime"
	"ecode/internal/runtime/agent"
	"ecode/templates"
)

// The shared Go build cache. A project's first `go run` used to compile
// the standard library for half a minute or more, in silence. Now the
// platform compiles it once per server and toolchain, in a sandbox of its
// own from the Go template (no project's input), into
// Options.ToolCacheRoot/go. Every sandbox sees that folder read-only and
// its go command reads it through the cache program (agent.GoCache,
// GOCACHEPROG), which writes only to the project's own cache: no project
// can change what another one builds with, whatever it writes wherever it
// can.
//
// Why a cache program rather than a copy, links or an overlay of the cache:
// a copy costs ~100 MB and a second per project; hard links or shared
// files would be writable by a sandbox that runs as the server's uid; an
// overlay needs kernel and bwrap support this platform does not require.
// The price: the go command caches executables only in its own disk cache,
// so `go run` links again each time (~0.4 s); the Go template builds with
// `go build -o`, which leaves an up-to-date program alone, and runs that.
//
// The server builds the cache soon after it starts (PrewarmGoCache); the
// first Go run builds it only when that is turned off or has failed.

// goCacheBuildTimeout bounds the one-time compile of the standard library.
const goCacheBuildTimeout = 10 * time.Minute

// goSeedPackages are compiled into the shared cache beside the Go
// template's own imports: what tests and small programs commonly add. They
// are 16 packages beyond the template's 194 (go list -deps), a few percent
// of the build, and spare a project's first test or slog line a compile.
var goSeedPackages = []string{"testing", "net/http/httptest", "log/slog", "flag", "regexp", "os/exec", "os/signal",
	"math/rand/v2", "encoding/csv", "database/sql", "embed", "crypto/rand"}

// toolCache is the single build of the shared Go cache.
type toolCache struct {
	mu       sync.Mutex
	building chan struct{} // closed when the build under way ends; nil when none is
}

// goCacheKey names the sandbox's go command: found on the sandbox's PATH
// (its /usr is the host's) and known by its path, size and time. A cache
// built by another toolchain is useless, not harmful: action ids name the
// compiler, so it would only miss. "" when there is no go command.
func goCacheKey() string {
	var path string
	for _, kv := range runtime.BaseEnv(false) {
		if dirs, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(dirs) {
				if p := filepath.Join(dir, "go"); isExecutable(p) {
					path = p
					break
				}
			}
		}
	}
	if path == "" {
		return ""
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return ""
	}
	info, err := os.Stat(real)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", real, info.Size(), info.ModTime().UnixNano()))
	return hex.EncodeToString(sum[:8])
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0
}

// goCacheDir is the shared cache as the host sees it.
func (s *Service) goCacheDir() string { return filepath.Join(s.opts.ToolCacheRoot, "go") }

// goCacheReady reports whether the shared cache was built by the go
// command sandboxes use now.
func (s *Service) goCacheReady(key string) bool {
	b, err := os.ReadFile(filepath.Join(s.goCacheDir(), "toolchain"))
	return err == nil && string(b) == key
}

// toolCacheRoot makes the folder every sandbox mounts read-only: the
// server's, readable by sandbox uids.
func (s *Service) toolCacheRoot() (string, error) {
	root := s.opts.ToolCacheRoot
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("tool cache: %w", err)
	}
	return root, os.Chmod(root, 0o755)
}

// PrewarmGoCache builds the shared Go cache soon after the server starts,
// at low priority, so that the first Go project's Run finds it ready
// rather than waiting for it. A Run that arrives meanwhile waits for this
// build as for one it started. It returns once the build has ended, ready
// or failed (ctx ending ends it, as the server's end ends every sandbox),
// so that a server that closes leaves no build behind; without a go
// command, a tool cache or working sandboxes there is nothing to do.
func (s *Service) PrewarmGoCache(ctx context.Context) {
	if s.opts.ToolCacheRoot == "" || goCacheKey() == "" {
		return
	}
	if err := s.rt.Check(ctx); err != nil {
		slog.Info("shared Go cache not prewarmed: sandboxes cannot run here", "err", err)
		return
	}
	if done := s.goCacheBuilding(ctx, true); done != nil {
		<-done
	}
}

// goCacheBuilding returns a channel closed once the shared Go cache is
// ready (or its build has failed), starting the build under ctx when none
// is under way, niced when low; nil when there is nothing to wait for.
func (s *Service) goCacheBuilding(ctx context.Context, low bool) <-chan struct{} {
	key := goCacheKey()
	if s.opts.ToolCacheRoot == "" || key == "" || s.goCacheReady(key) {
		return nil
	}
	s.tools.mu.Lock()
	defer s.tools.mu.Unlock()
	if s.tools.building == nil {
		done := make(chan struct{})
		s.tools.building = done
		go func() {
			start := time.Now()
			bctx, cancel := context.WithTimeout(ctx, goCacheBuildTimeout)
			err := s.buildGoCache(bctx, key, low)
			cancel()
			switch {
			case err != nil && ctx.Err() != nil:
				slog.Info("shared Go cache build stopped with the server", "err", err)
			case err != nil:
				slog.Error("build the shared Go cache; projects compile the standard library themselves", "err", err)
			default:
				slog.Info("shared Go cache built", "key", key, "prewarm", low, "took", time.Since(start).Round(time.Millisecond))
			}
			s.tools.mu.Lock()
			s.tools.building = nil
			s.tools.mu.Unlock()
			close(done)
		}()
	}
	return s.tools.building
}

// buildGoCache compiles the Go template and goSeedPackages with a plain
// GOCACHE in a sandbox of the platform's own, then puts that cache in
// place read-only, whole or not at all. A low build runs at the lowest
// CPU priority: it must not slow the projects running beside it.
func (s *Service) buildGoCache(ctx context.Context, key string, low bool) error {
	root, err := s.toolCacheRoot()
	if err != nil {
		return err
	}
	staging, err := os.MkdirTemp(root, ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	if err := os.Chmod(staging, 0o755); err != nil {
		return err
	}
	projectDir, cacheDir := filepath.Join(staging, "project"), filepath.Join(staging, "cache")
	catalog, err := project.NewCatalog(templates.FS)
	if err != nil {
		return err
	}
	if err := catalog.CopyTo("go", projectDir); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := os.Mkdir(cacheDir, 0o700); err != nil {
		return err
	}
	// Built with the sandbox's own environment, so that the action ids are
	// those every project's go command asks for; no network is needed.
	sb, err := s.rt.Start(ctx, runtime.Spec{ID: "toolcache-go", ProjectDir: projectDir, CacheDir: cacheDir})
	if err != nil {
		return fmt.Errorf("start the build sandbox: %w", err)
	}
	defer sb.Stop()
	cmd := "go build -o /dev/null . && go build " + strings.Join(goSeedPackages, " ")
	argv := []string{"sh", "-c", cmd}
	if low {
		argv = append([]string{"nice", "-n", "19"}, argv...)
	}
	proc, err := sb.Exec(ctx, runtime.Command{Argv: argv, Env: []string{"GOTOOLCHAIN=local"}})
	if err != nil {
		return err
	}
	out := &capped{max: 64 << 10}
	e, err := proc.Wait(ctx, out, out)
	if err != nil || e.Code != 0 || e.Signal != "" {
		return fmt.Errorf("%s: exit %d %s %v: %s", cmd, e.Code, e.Signal, err, out.String())
	}
	_ = sb.Stop()
	<-sb.Done()

	built := filepath.Join(cacheDir, "go-build")
	if err := sealTree(built); err != nil {
		return fmt.Errorf("seal the cache: %w", err)
	}
	if err := os.WriteFile(filepath.Join(built, "toolchain"), []byte(key), 0o444); err != nil {
		return err
	}
	// Swap in the new cache; a go command reading the old one at this
	// instant misses and compiles for itself.
	final := s.goCacheDir()
	old := filepath.Join(staging, "old")
	if err := os.Rename(final, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Rename(built, final)
}

// sealTree makes a cache the build sandbox wrote the server's and
// read-only, keeping only folders and regular files: no link leads out.
func sealTree(dir string) error {
	root := os.Geteuid() == 0
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o444)
		switch {
		case d.IsDir():
			mode = 0o755
		case !d.Type().IsRegular():
			return os.Remove(path)
		}
		if root {
			if err := os.Lchown(path, 0, 0); err != nil {
				return err
			}
		}
		return os.Chmod(path, mode)
	})
}

// awaitGoCache holds a Go project's run until the shared cache is built,
// when it is being built (the first Go run on a server starts it), and
// shows the run as building meanwhile.
func (s *Service) awaitGoCache(ctx context.Context, p *project.Project, c *console, r *Run, out io.Writer) {
	if s.opts.ToolCacheRoot == "" || !s.projects.Tree(p).Exists("go.mod") {
		return
	}
	done := s.goCacheBuilding(context.WithoutCancel(ctx), false)
	if done == nil {
		return
	}
	fmt.Fprintf(out, "%sCompiling Go's standard library, once for every project on this server…%s\r\n", dim, reset)
	r.set(func(r *Run) { r.status = Building })
	c.changed(r)
	select {
	case <-done:
	case <-ctx.Done():
	}
	r.set(func(r *Run) { r.status = Starting })
	c.changed(r)
}

// buildNotices passes a command's output on and shows the run as building
// between the cache program's two notices (agent.GoCompiling,
// agent.GoCompiled). Code in the sandbox can print them too: it then only
// changes how its own run looks.
type buildNotices struct {
	w    io.Writer
	c    *console
	r    *Run
	base string // the run's status outside a build
	tail []byte // the end of the last write, for a notice split across writes
}

var (
	noticeCompiling = []byte(agent.GoCompiling)
	noticeCompiled  = []byte(agent.GoCompiled)
)

func (b *buildNotices) Write(p []byte) (int, error) {
	buf := append(b.tail, p...)
	start, end := bytes.LastIndex(buf, noticeCompiling), bytes.LastIndex(buf, noticeCompiled)
	if start >= 0 || end >= 0 {
		status := b.base
		if start > end {
			status = Building
		}
		changed := false
		b.r.set(func(r *Run) {
			if (r.status == b.base || r.status == Building) && r.status != status {
				r.status, changed = status, true
			}
		})
		if changed {
			b.c.changed(b.r)
		}
	}
	keep := max(len(noticeCompiling), len(noticeCompiled)) - 1
	b.tail = append(b.tail[:0], buf[max(0, len(buf)-keep):]...)
	return b.w.Write(p)
}
