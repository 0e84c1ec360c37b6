package grade

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"ecode/internal/runtime"
	"ecode/internal/safefs"
)

// Inside a grading sandbox: the submission is mounted read-only at
// runtime.ProjectDir and copied to work, in the home tmpfs (whose pages
// count against the memory limit: a disk filler fills memory, never the
// host's disk); reports go to reports, out of the work tree.
const (
	workDir    = runtime.HomeDir + "/w"
	reportsDir = runtime.HomeDir + "/.r"
)

func localPath(p string) bool {
	return p != "" && !strings.Contains(p, "\\") && filepath.IsLocal(p) && path.Clean(p) == p
}

// prepare copies the submission into a new host folder, with the phase's
// test files written over it (the teacher's copies replace a student's
// file of the same path), and returns it with its removal. The
// submission is read through safefs only: links, FIFOs and devices are
// left out.
func (g *Grader) prepare(p phase, uid int) (string, func(), error) {
	base, err := os.MkdirTemp(g.opts.TempDir, "grade-")
	if err != nil {
		return "", nil, fmt.Errorf("grading folder: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(base) }
	fail := func(err error) (string, func(), error) {
		cleanup()
		return "", nil, err
	}
	// Others may pass through the folder but not list it: the tree below
	// belongs to the sandbox's uid alone.
	if err := os.Chmod(base, 0o711); err != nil {
		return fail(err)
	}
	dir := filepath.Join(base, "p")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fail(err)
	}
	dst, err := os.OpenRoot(dir)
	if err != nil {
		return fail(err)
	}
	defer dst.Close()
	if p.job.Dir != "" {
		src, err := safefs.OpenDir(p.job.Dir)
		if err != nil {
			return fail(fmt.Errorf("open the submission: %w", err))
		}
		err = safefs.Copy(src, dst, safefs.CopyOptions{MaxBytes: g.opts.MaxTreeBytes, Skip: func(e safefs.Entry) bool {
			if e.Path == ".git" {
				return true
			}
			// Only the teacher's Go tests count: a student's own would
			// run beside them.
			return p.job.Runner == GoTest && !e.IsDir() && strings.HasSuffix(e.Name(), "_test.go")
		}})
		src.Close()
		if errors.Is(err, safefs.ErrTooLarge) {
			return fail(fmt.Errorf("%w: the submission is larger than %d MiB", ErrInvalid, g.opts.MaxTreeBytes>>20))
		}
		if err != nil {
			return fail(fmt.Errorf("copy the submission: %w", err))
		}
	}
	for _, f := range p.files {
		if d := path.Dir(f.Path); d != "." {
			if err := dst.MkdirAll(d, 0o755); err != nil {
				return fail(fmt.Errorf("write test %s: %w", f.Path, err))
			}
		}
		if err := dst.RemoveAll(f.Path); err != nil {
			return fail(fmt.Errorf("write test %s: %w", f.Path, err))
		}
		if err := dst.WriteFile(f.Path, []byte(f.Content), 0o600); err != nil {
			return fail(fmt.Errorf("write test %s: %w", f.Path, err))
		}
	}
	if uid >= 0 {
		if err := safefs.ChownTree(dir, uid, uid); err != nil {
			return fail(fmt.Errorf("hand the grading copy to its sandbox: %w", err))
		}
	}
	return dir, cleanup, nil
}

// sandbox starts the phase's fresh sandbox over a prepared copy: read-only,
// no network, the phase's limits. stop ends it and removes the copy.
func (g *Grader) sandbox(ctx context.Context, p phase) (runtime.Sandbox, func(), error) {
	id := p.sandboxID()
	uid := -1
	if g.root {
		uid = runtime.SandboxUID(id)
	}
	dir, cleanup, err := g.prepare(p, uid)
	if err != nil {
		return nil, nil, err
	}
	spec := runtime.Spec{ID: id, ProjectDir: dir, ReadOnly: true, Egress: false,
		Env:    []string{"GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=-mod=mod", "CI=true", "NO_COLOR=1", "FORCE_COLOR=0"},
		Limits: runtime.Limits{MemoryBytes: p.lim.MemoryBytes, Pids: p.lim.Pids, CPUs: 1}}
	if p.job.Runner == GoTest && g.opts.ToolCacheDir != "" {
		// The run capability builds it on first need; until then go test
		// compiles the standard library itself.
		if info, err := os.Stat(g.opts.ToolCacheDir); err == nil && info.IsDir() {
			spec.ToolCacheDir = g.opts.ToolCacheDir
		}
	}
	sb, err := g.rt.Start(ctx, spec)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("start the grading sandbox: %w", err)
	}
	return sb, func() {
		_ = sb.Stop()
		select {
		case <-sb.Done():
		case <-time.After(10 * time.Second):
			slog.Warn("a grading sandbox did not end", "sandbox", id)
		}
		cleanup()
	}, nil
}

// copyScript copies the submission into the work folder. node_modules is
// linked, not copied: it is large, and only read.
const copyScript = `P=` + runtime.ProjectDir + `; W=` + workDir + `; R=` + reportsDir + `
mkdir -p "$W" "$R"
for f in "$P"/* "$P"/.[!.]* "$P"/..?*; do
  [ -e "$f" ] || continue
  if [ "${f##*/}" = node_modules ]; then ln -s "$f" "$W/node_modules"; else cp -R "$f" "$W/" 2>/dev/null; fi
done
cd "$W" || exit 1
`

// ulimits is the shell line that holds the commands after it to the CPU
// time (plus Judge0's extra second) and file size limits. The hard CPU
// limit is a second above the soft one: at the soft limit the kernel
// sends SIGXCPU, which says why; at the hard one, only SIGKILL.
func ulimits(l Limits) string {
	cpu := l.CPUSeconds + cpuExtra
	return fmt.Sprintf("ulimit -S -t %d && ulimit -H -t %d && ulimit -f %d || exit 1\n", cpu, cpu+1, max(1, l.FileBytes/1024))
}

// ran is how one command in a grading sandbox ended.
type ran struct {
	exit     runtime.Exit
	out      []byte // stdout
	errOut   []byte // stderr
	timedOut bool   // the wall limit killed it
	overflow bool   // it printed more than maxOutput and was killed
	peakPids int
	oom      bool
}

// run runs script with bash in sb, stdin fed from stdin when not nil,
// killed at wall or when it prints past maxOutput on either stream. The
// error is the platform's (lost sandbox, ended ctx), never the script's.
func run(ctx context.Context, sb runtime.Sandbox, script string, env []string, stdin []byte, wall time.Duration) (ran, error) {
	cctx, cancel := context.WithTimeout(ctx, wall)
	defer cancel()
	before := pidsNow(sb)
	proc, err := sb.Exec(cctx, runtime.Command{Argv: []string{"bash", "-c", script}, Env: env})
	if err != nil {
		if ctx.Err() != nil {
			return ran{}, ctx.Err()
		}
		return ran{}, fmt.Errorf("start a grading command: %w", err)
	}
	if stdin != nil {
		go func() {
			_, _ = proc.Write(stdin)
			_ = proc.CloseStdin()
		}()
	} else {
		_ = proc.CloseStdin()
	}
	stdout, stderr := &capped{max: maxOutput, over: cancel}, &capped{max: maxOutput, over: cancel}
	peak := watchPids(sb)
	exit, err := proc.Wait(cctx, stdout, stderr)
	lingerWatch(sb, before)
	r := ran{exit: exit, out: stdout.bytes(), errOut: stderr.bytes(), overflow: stdout.overflowed() || stderr.overflowed(),
		peakPids: peak(), oom: sb.OOMKilled()}
	if ctx.Err() != nil {
		return ran{}, ctx.Err()
	}
	r.timedOut = errors.Is(cctx.Err(), context.DeadlineExceeded) && !r.overflow
	if err != nil && cctx.Err() == nil && !r.oom {
		// Filling the home tmpfs charges memory no process owns: the
		// memory limit's kill may take the sandbox's agent, which is the
		// submission's doing, not the platform's.
		return ran{}, fmt.Errorf("grading command: %w", err)
	}
	return r, nil
}

// readReport reads a report the runner left in the sandbox; nil when
// there is none (the runner died before writing it).
func readReport(ctx context.Context, sb runtime.Sandbox, name string) []byte {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	proc, err := sb.Exec(cctx, runtime.Command{Argv: []string{"cat", reportsDir + "/" + name}})
	if err != nil {
		return nil
	}
	_ = proc.CloseStdin()
	out := &capped{max: 16 << 20}
	exit, err := proc.Wait(cctx, out, io.Discard)
	if err != nil || exit.Code != 0 || out.overflowed() {
		return nil
	}
	return out.bytes()
}

// watchPids samples the sandbox's process count until the returned
// function is called, which answers the highest count seen: a fork bomb
// is known by reaching the limit.
func watchPids(sb runtime.Sandbox) func() int {
	done := make(chan struct{})
	var (
		mu   sync.Mutex
		peak int
		wg   sync.WaitGroup
	)
	sample := func() {
		if res, ok := sb.Resources(); ok {
			mu.Lock()
			peak = max(peak, res.PidsUsed)
			mu.Unlock()
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() int {
		sample()
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// lingerWatch waits a little while processes the command left behind
// multiply (a fork bomb's parent exits at once), so that watchPids sees
// them reach the limit.
func lingerWatch(sb runtime.Sandbox, before int) {
	for range 10 {
		res, ok := sb.Resources()
		if !ok || res.PidsUsed <= before+1 || res.PidsUsed >= res.Pids {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pidsNow is the number of processes and threads in sb now.
func pidsNow(sb runtime.Sandbox) int {
	res, _ := sb.Resources()
	return res.PidsUsed
}

// capped keeps the first max bytes written to it and calls over once
// when more come.
type capped struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	max  int
	over func()
	hit  bool
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.max - c.buf.Len()
	if len(p) > room {
		c.buf.Write(p[:max(room, 0)])
		if !c.hit {
			c.hit = true
			if c.over != nil {
				c.over()
			}
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

func (c *capped) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

func (c *capped) overflowed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hit
}

// limitReason says in words which limit ended r, or "".
func limitReason(r ran, l Limits) string {
	switch {
	case l.Pids > 0 && r.peakPids >= l.Pids, forkFailed(r.errOut), forkFailed(r.out):
		return "Too many processes"
	case r.oom:
		return fmt.Sprintf("Memory limit exceeded (%d MB)", l.MemoryBytes>>20)
	case r.overflow:
		return "Output limit exceeded"
	case r.timedOut:
		return fmt.Sprintf("Time limit exceeded (%d s)", l.WallSeconds)
	case r.exit.Signal == "cpu time limit exceeded" || r.exit.Code == 128+24:
		return fmt.Sprintf("Time limit exceeded (%d s of CPU time)", l.CPUSeconds)
	case r.exit.Signal == "file size limit exceeded" || r.exit.Code == 128+25:
		return fmt.Sprintf("File size limit exceeded (%d MB)", max(1, l.FileBytes>>20))
	}
	return ""
}

// forkFailed tells whether out holds a shell's or Python's words for a
// fork refused at the process limit: the sampling of the process count
// can miss a bomb that reached the limit between samples.
func forkFailed(out []byte) bool {
	return bytes.Contains(out, []byte("fork: retry: Resource temporarily unavailable")) ||
		bytes.Contains(out, []byte("fork: Resource temporarily unavailable")) ||
		bytes.Contains(out, []byte("BlockingIOError: [Errno 11] Resource temporarily unavailable"))
}

// generic is the only message a student sees of a hidden test.
func generic(passed bool, reason string) string {
	switch {
	case passed:
		return "Passed"
	case strings.HasPrefix(reason, "Time limit"):
		return "Time limit exceeded"
	case strings.HasPrefix(reason, "Memory limit"):
		return "Memory limit exceeded"
	case reason != "":
		return "Error"
	}
	return "Failed"
}

// clip cuts s to n bytes at a rune boundary, saying so.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "\n… (cut)"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// firstLines is s's first n non-empty lines.
func firstLines(s string, n int) string {
	var lines []string
	for l := range strings.Lines(s) {
		if l = strings.TrimRight(l, " \t\r\n"); l != "" {
			lines = append(lines, l)
			if len(lines) == n {
				break
			}
		}
	}
	return strings.Join(lines, "\n")
}
