// Package grade runs a submission's tests in fresh sandboxes with strict
// limits and reads each test's result.
package grade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"ecode/internal/runtime"
)

// Runner names how tests run.
type Runner string

const (
	Pytest   Runner = "pytest"
	Unittest Runner = "unittest"
	Node     Runner = "node" // node --test
	Jest     Runner = "jest"
	GoTest   Runner = "go"
	IO       Runner = "io" // input and expected output
)

// TestFile is a test file put into the submission's tree for grading.
type TestFile struct {
	Path    string `json:"path"`
	Content string `json:"content"`
	Hidden  bool   `json:"hidden"`
}

// IOCase is one input/output test: Command's stdout for Stdin must be
// Stdout (trailing whitespace of lines and final newlines aside).
type IOCase struct {
	Name   string `json:"name"`
	Stdin  string `json:"stdin"`
	Stdout string `json:"stdout"`
	Hidden bool   `json:"hidden"`
	Points int    `json:"points"`
}

// Limits bound one grading sandbox; zero fields take Judge0's defaults.
type Limits struct {
	CPUSeconds  int   `json:"cpuSeconds"`
	WallSeconds int   `json:"wallSeconds"`
	MemoryBytes int64 `json:"memoryBytes"`
	Pids        int   `json:"pids"`
	FileBytes   int64 `json:"fileBytes"`
	OutputBytes int   `json:"outputBytes"`
}

// Job is one grading.
type Job struct {
	ID      string // unique among gradings running now (the submission's id)
	Dir     string // the submission's files on the host, read through safefs
	Runner  Runner
	Command string // IO: how to run the program
	Tests   []TestFile
	Cases   []IOCase
	Limits  Limits
	// VisibleOnly grades the visible tests alone: a student's check.
	VisibleOnly bool
}

// Test is one test's result.
type Test struct {
	Name      string `json:"name"`
	Hidden    bool   `json:"hidden"`
	Passed    bool   `json:"passed"`
	Points    int    `json:"points"`
	MaxPoints int    `json:"maxPoints"`
	Message   string `json:"message"`          // what the student may see
	Output    string `json:"output,omitempty"` // the teacher's detail
}

// Result is a grading's outcome.
type Result struct {
	Tests    []Test        `json:"tests"`
	Points   int           `json:"points"`
	Max      int           `json:"maxPoints"`
	Reason   string        `json:"reason,omitempty"` // why it ended early, in words
	Duration time.Duration `json:"-"`
}

// Options configure a Grader.
type Options struct {
	// Defaults replace Judge0's defaults.
	Defaults Limits
	// TempDir holds each phase's copy of a submission while it is graded
	// (default os.TempDir()); every folder above it must be searchable by
	// others, as sandbox users read the copy.
	TempDir string
	// ToolCacheDir, when set, is the platform's shared Go build cache
	// (runtime.Spec.ToolCacheDir): go test then compiles only the
	// submission, not the standard library.
	ToolCacheDir string
	// MaxTreeBytes bounds the files of a submission copied for grading
	// (default 256 MiB).
	MaxTreeBytes int64
}

// Grader grades jobs in sandboxes of rt.
type Grader struct {
	rt   runtime.Runtime
	opts Options
	root bool // the server is root: each copy is given to its sandbox's uid
}

// New returns a Grader over rt.
func New(rt runtime.Runtime, opts Options) *Grader {
	if rt == nil {
		panic("grade.New: nil runtime")
	}
	if opts.TempDir == "" {
		opts.TempDir = os.TempDir()
	}
	if opts.MaxTreeBytes <= 0 {
		opts.MaxTreeBytes = 256 << 20
	}
	return &Grader{rt: rt, opts: opts, root: os.Geteuid() == 0}
}

// Judge0's defaults (CPU 5 s plus 1 extra, wall 10 s, 128 MB, 60
// processes, files of 1 MB), with 64 KiB of detail kept per test.
const (
	defaultCPU    = 5
	cpuExtra      = 1
	defaultWall   = 10
	defaultMemory = 128 << 20
	defaultPids   = 60
	defaultFile   = 1 << 20
	defaultOutput = 64 << 10
	// maxOutput bounds what one command may print in all; past it the
	// command is killed.
	maxOutput = 1 << 20
)

// limits are job's own, then the grader's defaults, then the runner's
// (go test compiles: more memory, time and threads), then Judge0's.
func (g *Grader) limits(job Job) Limits {
	base := Limits{CPUSeconds: defaultCPU, WallSeconds: defaultWall, MemoryBytes: defaultMemory,
		Pids: defaultPids, FileBytes: defaultFile, OutputBytes: defaultOutput}
	switch job.Runner {
	case GoTest:
		base.CPUSeconds, base.WallSeconds, base.MemoryBytes, base.Pids = 60, 60, 1<<30, 256
		base.FileBytes = 64 << 20 // the compiled test binary
	case Jest:
		base.MemoryBytes, base.WallSeconds = 512<<20, 30
	}
	return overlay(overlay(base, g.opts.Defaults), job.Limits)
}

// overlay returns l with each field top sets in its place.
func overlay(l, top Limits) Limits {
	if top.CPUSeconds > 0 {
		l.CPUSeconds = top.CPUSeconds
	}
	if top.WallSeconds > 0 {
		l.WallSeconds = top.WallSeconds
	}
	if top.MemoryBytes > 0 {
		l.MemoryBytes = top.MemoryBytes
	}
	if top.Pids > 0 {
		l.Pids = top.Pids
	}
	if top.FileBytes > 0 {
		l.FileBytes = top.FileBytes
	}
	if top.OutputBytes > 0 {
		l.OutputBytes = top.OutputBytes
	}
	return l
}

// phase is one sandbox's share of a grading: the visible tests, or the
// hidden ones.
type phase struct {
	job    Job
	lim    Limits
	hidden bool
	files  []TestFile // written over the submission
	tests  []string   // the test files run, among files
	cases  []IOCase
}

// isTestFile tells whether the runner runs the file name; the others
// of an assignment's files support the tests.
func isTestFile(r Runner, name string) bool {
	base, ext := path.Base(name), path.Ext(name)
	switch r {
	case Pytest, Unittest:
		return ext == ".py" && base != "conftest.py" && base != "__init__.py"
	case Node:
		return ext == ".js" || ext == ".mjs" || ext == ".cjs"
	case Jest:
		return slices.Contains([]string{".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx"}, ext)
	case GoTest:
		return strings.HasSuffix(base, "_test.go")
	}
	return false
}

func (p phase) sandboxID() string {
	if p.hidden {
		return "grade-" + p.job.ID + "-h"
	}
	return "grade-" + p.job.ID + "-v"
}

// ErrInvalid marks a job the grader cannot run as given: a runner it does
// not know, a test path outside the tree. Retrying does not help.
var ErrInvalid = errors.New("invalid grading job")

// Grade runs job's tests. A failing, crashing or runaway submission is a
// Result; the error is for the platform's own faults (a sandbox that
// could not start), which a queue retries, and for jobs that are
// ErrInvalid.
func (g *Grader) Grade(ctx context.Context, job Job) (Result, error) {
	start := time.Now()
	if err := validate(job); err != nil {
		return Result{}, err
	}
	lim := g.limits(job)
	// Hidden tests never share a sandbox with a student's view: the
	// visible ones run first in a sandbox that has no hidden file, the
	// hidden ones in another.
	var phases []phase
	for _, hidden := range []bool{false, true} {
		if hidden && job.VisibleOnly {
			break
		}
		p := phase{job: job, lim: lim, hidden: hidden}
		for _, f := range job.Tests {
			runnable := isTestFile(job.Runner, f.Path)
			switch {
			case f.Hidden == hidden && runnable:
				p.files = append(p.files, f)
				p.tests = append(p.tests, f.Path)
			case !runnable && (f.Hidden == hidden || !f.Hidden):
				// Support files (fixtures, helpers) of the phase, and the
				// visible ones in both, which the hidden tests may use.
				p.files = append(p.files, f)
			}
		}
		for _, c := range job.Cases {
			if c.Hidden == hidden {
				p.cases = append(p.cases, c)
			}
		}
		if (job.Runner == IO && len(p.cases) > 0) || (job.Runner != IO && len(p.tests) > 0) {
			phases = append(phases, p)
		}
	}
	var res Result
	for _, p := range phases {
		var (
			tests  []Test
			reason string
			err    error
		)
		if job.Runner == IO {
			tests, reason, err = g.runCases(ctx, p)
		} else {
			tests, reason, err = g.runFiles(ctx, p)
		}
		if err != nil {
			return Result{}, err
		}
		res.Tests = append(res.Tests, tests...)
		if reason != "" && res.Reason == "" {
			res.Reason = reason
		}
	}
	for _, t := range res.Tests {
		res.Points += t.Points
		res.Max += t.MaxPoints
	}
	res.Duration = time.Since(start)
	return res, nil
}

func validate(job Job) error {
	switch job.Runner {
	case Pytest, Unittest, Node, Jest, GoTest:
	case IO:
		if job.Command == "" {
			return fmt.Errorf("%w: an input/output assignment needs a command", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: unknown runner %q", ErrInvalid, job.Runner)
	}
	if job.ID == "" {
		return fmt.Errorf("%w: no id", ErrInvalid)
	}
	for _, f := range job.Tests {
		if !localPath(f.Path) {
			return fmt.Errorf("%w: test path %q must be relative, inside the project", ErrInvalid, f.Path)
		}
	}
	return nil
}
