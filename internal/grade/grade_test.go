package grade_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"ecode/internal/grade"
	"ecode/internal/runtime/bwrap"
	"ecode/internal/store"
	"ecode/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// grader is a Grader over a real bwrap driver, and the folder its
// gradings copy submissions into, which the test checks is left empty.
type grader struct {
	*grade.Grader
	tmp string
}

func newGrader(t testing.TB) grader {
	t.Helper()
	testserver.NeedSandbox(t)
	dir := t.TempDir()
	// Sandbox uids must reach the copies.
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o711)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	driver, err := bwrap.New(ctx, bwrap.Config{StateDir: filepath.Join(dir, "sb"), Limits: bwrap.DefaultLimits()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { driver.Close() })
	if err := driver.Check(ctx); err != nil {
		t.Skipf("bubblewrap cannot run here: %v", err)
	}
	tmp := filepath.Join(dir, "grading")
	if err := os.Mkdir(tmp, 0o711); err != nil {
		t.Fatal(err)
	}
	if _, ok := t.(*testing.T); ok {
		t.Cleanup(func() {
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("grading left %d folders behind", len(left))
			}
		})
	}
	return grader{Grader: grade.New(driver, grade.Options{TempDir: tmp}), tmp: tmp}
}

// submission writes files (path → content) into a new folder.
func submission(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (g grader) grade(t testing.TB, job grade.Job) grade.Result {
	t.Helper()
	if job.ID == "" {
		job.ID = store.NewID()
	}
	res, err := g.Grade(context.Background(), job)
	if err != nil {
		t.Fatalf("grade: %v", err)
	}
	return res
}

// want is what a test's result should be; message is a substring.
type want struct {
	passed  bool
	hidden  bool
	message string
}

func check(t *testing.T, res grade.Result, wants map[string]want) {
	t.Helper()
	if len(res.Tests) != len(wants) {
		t.Errorf("%d tests, want %d: %+v", len(res.Tests), len(wants), res.Tests)
	}
	points, maxPoints := 0, 0
	for _, tt := range res.Tests {
		points += tt.Points
		maxPoints += tt.MaxPoints
		w, ok := wants[tt.Name]
		if !ok {
			t.Errorf("unexpected test %q: %+v", tt.Name, tt)
			continue
		}
		if tt.Passed != w.passed || tt.Hidden != w.hidden || !strings.Contains(tt.Message, w.message) {
			t.Errorf("test %q: passed %v hidden %v message %q; want passed %v hidden %v message with %q (output %q)",
				tt.Name, tt.Passed, tt.Hidden, tt.Message, w.passed, w.hidden, w.message, tt.Output)
		}
		if tt.Passed != (tt.Points == tt.MaxPoints) {
			t.Errorf("test %q: %d of %d points, passed %v", tt.Name, tt.Points, tt.MaxPoints, tt.Passed)
		}
	}
	if res.Points != points || res.Max != maxPoints {
		t.Errorf("result %d/%d, tests add up to %d/%d", res.Points, res.Max, points, maxPoints)
	}
}

const calc = "def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    return a + b  # wrong\n"

func TestPytest(t *testing.T) {
	g := newGrader(t)
	dir := submission(t, map[string]string{
		"calc.py": calc,
		// The student's own test, and their version of the teacher's:
		// neither counts.
		"test_mine.py": "def test_free():\n    assert True\n",
		"test_calc.py": "def test_add():\n    assert True\n\ndef test_mul():\n    assert True\n",
		"conftest.py":  "import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n    out = yield\n    out.get_result().outcome = 'passed'\n",
	})
	job := grade.Job{Dir: dir, Runner: grade.Pytest, Tests: []grade.TestFile{
		{Path: "test_calc.py", Content: "from calc import add, mul\n\ndef test_add():\n    assert add(2, 3) == 5\n\ndef test_mul():\n    print('checking mul')\n    assert mul(2, 3) == 6, 'mul(2, 3) should be 6'\n"},
		{Path: "tests/test_more.py", Content: "from calc import add\n\nclass TestMore:\n    def test_neg(self):\n        assert add(-1, -1) == -2\n"},
		// A support file, visible, which the hidden tests read too.
		{Path: "fixtures/five.txt", Content: "5\n"},
		{Path: "test_secret.py", Hidden: true, Content: "from calc import add, mul\n\ndef test_big():\n    assert add(int(open('fixtures/five.txt').read()), 1) == 6\n\ndef test_mul_zero():\n    assert mul(0, 7) == 0, 'SECRET expectation'\n"},
	}}
	res := g.grade(t, job)
	check(t, res, map[string]want{
		"test_calc::test_add":                {passed: true, message: "Passed"},
		"test_calc::test_mul":                {message: "mul(2, 3) should be 6"},
		"tests.test_more.TestMore::test_neg": {passed: true, message: "Passed"},
		"test_secret::test_big":              {passed: true, hidden: true, message: "Passed"},
		"test_secret::test_mul_zero":         {hidden: true, message: "Failed"},
	})
	for _, tt := range res.Tests {
		if tt.Name == "test_secret::test_mul_zero" && !strings.Contains(tt.Output, "SECRET expectation") {
			t.Errorf("the teacher's detail of a hidden failure: %q", tt.Output)
		}
		if tt.Hidden && strings.Contains(tt.Message, "SECRET") {
			t.Errorf("hidden test's message leaks: %q", tt.Message)
		}
		if tt.Name == "test_calc::test_mul" && !strings.Contains(tt.Output, "checking mul") {
			t.Errorf("a test's printed output is kept: %q", tt.Output)
		}
	}
	if res.Reason != "" {
		t.Errorf("reason %q", res.Reason)
	}

	t.Run("visible only", func(t *testing.T) {
		job.VisibleOnly = true
		res := g.grade(t, job)
		for _, tt := range res.Tests {
			if tt.Hidden {
				t.Fatalf("a check ran the hidden test %q", tt.Name)
			}
		}
		if len(res.Tests) != 3 {
			t.Fatalf("%d tests, want the 3 visible ones", len(res.Tests))
		}
	})

	t.Run("does not import", func(t *testing.T) {
		dir := submission(t, map[string]string{"calc.py": "def add(a, b:\n"})
		res := g.grade(t, grade.Job{Dir: dir, Runner: grade.Pytest, Tests: job.Tests[:1]})
		if res.Points != 0 || len(res.Tests) == 0 {
			t.Fatalf("a submission with a syntax error: %+v", res)
		}
		if !strings.Contains(res.Tests[0].Message, "SyntaxError") {
			t.Errorf("message %q does not say why", res.Tests[0].Message)
		}
	})
}

func TestUnittest(t *testing.T) {
	g := newGrader(t)
	dir := submission(t, map[string]string{"calc.py": calc})
	res := g.grade(t, grade.Job{Dir: dir, Runner: grade.Unittest, Tests: []grade.TestFile{
		{Path: "test_calc.py", Content: `import unittest
from calc import add, mul

class TestCalc(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 3), 5)

    def test_mul(self):
        print("trying mul")
        self.assertEqual(mul(2, 3), 6)

    def test_cases(self):
        for a, b in [(1, 1), (2, 2)]:
            with self.subTest(a=a, b=b):
                self.assertEqual(mul(a, b), a * b)
`},
		{Path: "tests/test_hidden.py", Hidden: true, Content: `import unittest
from calc import add

class TestHidden(unittest.TestCase):
    def test_zero(self):
        self.assertEqual(add(0, 0), 0)

    def test_broken(self):
        raise RuntimeError("hidden detail")
`},
	}})
	check(t, res, map[string]want{
		"test_calc.TestCalc.test_add":              {passed: true, message: "Passed"},
		"test_calc.TestCalc.test_mul":              {message: "5 != 6"},
		"test_calc.TestCalc.test_cases":            {message: "(a=1, b=1): AssertionError: 2 != 1"},
		"tests.test_hidden.TestHidden.test_zero":   {passed: true, hidden: true, message: "Passed"},
		"tests.test_hidden.TestHidden.test_broken": {hidden: true, message: "Failed"},
	})
}

func TestNode(t *testing.T) {
	g := newGrader(t)
	dir := submission(t, map[string]string{"calc.js": "exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a + b;\n"})
	res := g.grade(t, grade.Job{Dir: dir, Runner: grade.Node, Tests: []grade.TestFile{
		{Path: "test/calc.test.js", Content: `const test = require('node:test');
const assert = require('node:assert');
const { add, mul } = require('../calc');
test('adds', () => { assert.strictEqual(add(2, 3), 5); });
test('multiplies', () => { assert.strictEqual(mul(2, 3), 6); });
test.describe('more', () => { test.it('adds zero', () => { assert.strictEqual(add(0, 0), 0); }); });
`},
		{Path: "test/hidden.test.js", Hidden: true, Content: `const test = require('node:test');
const assert = require('node:assert');
const { mul } = require('../calc');
test('mul by one', () => { assert.strictEqual(mul(5, 1), 5, 'SECRET'); });
`},
	}})
	check(t, res, map[string]want{
		"adds":             {passed: true, message: "Passed"},
		"multiplies":       {message: "5 !== 6"},
		"more > adds zero": {passed: true, message: "Passed"},
		"mul by one":       {hidden: true, message: "Failed"},
	})
}

func TestGo(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the standard library in a sandbox")
	}
	g := newGrader(t)
	dir := submission(t, map[string]string{
		"go.mod":       "module calc\n\ngo 1.22\n",
		"calc.go":      "package calc\n\nfunc Add(a, b int) int { return a + b }\n\nfunc Mul(a, b int) int { return a + b }\n",
		"mine_test.go": "package calc\n\nimport \"testing\"\n\nfunc TestFree(t *testing.T) {}\n",
	})
	res := g.grade(t, grade.Job{Dir: dir, Runner: grade.GoTest, Tests: []grade.TestFile{
		{Path: "hidden_test.go", Hidden: true, Content: "package calc\n\nimport \"testing\"\n\nfunc TestZero(t *testing.T) {\n\tif Add(0, 0) != 0 {\n\t\tt.Fatal(\"zero\")\n\t}\n}\n"},
		{Path: "calc_test.go", Content: "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal(\"add\")\n\t}\n}\n\nfunc TestMul(t *testing.T) {\n\tt.Run(\"small\", func(t *testing.T) {\n\t\tif got := Mul(2, 3); got != 6 {\n\t\t\tt.Fatalf(\"Mul(2, 3) = %d, want 6\", got)\n\t\t}\n\t})\n}\n"},
	}})
	check(t, res, map[string]want{
		"TestAdd": {passed: true, message: "Passed"},
		"TestMul": {message: "Mul(2, 3) = 5, want 6"},
		// The visible tests are not run again with the hidden ones.
		"TestZero": {passed: true, hidden: true, message: "Passed"},
	})
}

func TestIO(t *testing.T) {
	g := newGrader(t)
	dir := submission(t, map[string]string{"main.py": "import sys\nn = int(sys.stdin.readline())\nprint(n * 2, end='  \\r\\n')\nprint()\n"})
	res := g.grade(t, grade.Job{Dir: dir, Runner: grade.IO, Command: "python3 main.py", Cases: []grade.IOCase{
		{Name: "doubles", Stdin: "2\n", Stdout: "4\n"},
		{Name: "large", Stdin: "21\n", Stdout: "43", Points: 3},
		{Name: "secret", Stdin: "5\n", Stdout: "10", Hidden: true, Points: 2},
		{Name: "secret wrong", Stdin: "7\n", Stdout: "15", Hidden: true},
		{Name: "crash", Stdin: "x\n", Stdout: "0"},
	}})
	check(t, res, map[string]want{
		"doubles":      {passed: true, message: "Passed"},
		"large":        {message: `Expected "43" on line 1, got "42"`},
		"crash":        {message: "ValueError"},
		"secret":       {passed: true, hidden: true, message: "Passed"},
		"secret wrong": {hidden: true, message: "Failed"},
	})
	if res.Points != 3 || res.Max != 8 {
		t.Errorf("points %d/%d, want 3/8", res.Points, res.Max)
	}
}

// TestHiddenNeverSeen: code run with the visible tests searches the whole
// filesystem for the hidden test by name and by a string only it holds.
func TestHiddenNeverSeen(t *testing.T) {
	g := newGrader(t)
	// The marker is put together when it runs, so that no binary or
	// bytecode holds it whole.
	dir := submission(t, map[string]string{"snoop.py": `import subprocess
def snoop():
    marker = "ZEBRA_" + "quokka_71".upper()
    cmd = ("find / -path /proc -prune -o -path /sys -prune -o -name '*hidden_one*' -print 2>/dev/null; "
           "grep -rl --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr " + marker + " / 2>/dev/null")
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
`})
	hidden := "from snoop import snoop\n\ndef test_hidden_one():\n    assert '" + "ZEBRA_" + strings.ToUpper("quokka_71") + "'\n    assert snoop() != ''  # here it exists\n"
	res := g.grade(t, grade.Job{Dir: dir, Runner: grade.Pytest, Tests: []grade.TestFile{
		{Path: "test_visible.py", Content: "from snoop import snoop\n\ndef test_search():\n    found = snoop()\n    assert found == '', 'found: ' + found\n"},
		{Path: "tests/test_hidden_one.py", Hidden: true, Content: hidden},
	}})
	check(t, res, map[string]want{
		"test_visible::test_search":              {passed: true, message: "Passed"},
		"tests.test_hidden_one::test_hidden_one": {passed: true, hidden: true, message: "Passed"},
	})
}

// TestUntrustedTree: links and FIFOs in a submission are not followed.
func TestUntrustedTree(t *testing.T) {
	g := newGrader(t)
	dir := submission(t, map[string]string{"main.sh": "ls -a; cat data.txt 2>&1; cat pipe 2>&1; echo done\n"})
	if err := os.Symlink("/etc/shadow", filepath.Join(dir, "data.txt")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := g.grade(t, grade.Job{Dir: dir, Runner: grade.IO, Command: "bash main.sh", Cases: []grade.IOCase{{Name: "run", Stdout: "x"}}})
	out := res.Tests[0].Output
	if strings.Contains(out, "root:") || strings.Contains(out, "data.txt\n") || strings.Contains(out, "pipe\n") || !strings.Contains(out, "done") {
		t.Fatalf("the link or FIFO reached the sandbox:\n%s", out)
	}
}

func TestRunaways(t *testing.T) {
	g := newGrader(t)
	lim := grade.Limits{CPUSeconds: 2, WallSeconds: 4}
	for _, tc := range []struct {
		name, command, reason string
		limits                grade.Limits
		files                 map[string]string
	}{
		// The CPU limit, or the wall limit on a busy machine.
		{"infinite loop", "python3 -c 'while True: pass'", "Time limit exceeded", grade.Limits{CPUSeconds: 1, WallSeconds: 6}, nil},
		{"sleeps", "sleep 60", "Time limit exceeded (4 s)", lim, nil},
		{"fork bomb", "bomb() { bomb | bomb; }; bomb", "Too many processes", lim, nil},
		{"memory hog", "python3 -c 'x = bytearray(1 << 30); print(len(x))'", "Memory limit exceeded (128 MB)", lim, nil},
		{"fills the disk", "head -c 4000000000 /dev/zero > big", "File size limit exceeded (1 MB)", lim, nil},
		{"fills the disk in many files", "for i in $(seq 1000); do head -c 1000000 /dev/zero > f$i || break; done; df -h . 2>/dev/null", "Memory limit exceeded", lim, nil},
		{"floods the output", "yes flood", "Output limit exceeded", lim, nil},
		{"too large to copy in", "cat big.bin", "Memory limit exceeded (32 MB)", grade.Limits{MemoryBytes: 32 << 20},
			map[string]string{"big.bin": strings.Repeat("x", 48<<20)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := g.grade(t, grade.Job{Dir: submission(t, tc.files), Runner: grade.IO, Command: tc.command, Limits: tc.limits,
				Cases: []grade.IOCase{{Name: "visible", Stdout: "x"}, {Name: "hidden", Stdout: "x", Hidden: true}}})
			if !strings.HasPrefix(res.Reason, tc.reason) {
				t.Fatalf("reason %q, want %q (%+v)", res.Reason, tc.reason, res.Tests)
			}
			if res.Points != 0 || len(res.Tests) != 2 {
				t.Fatalf("%d points, %d tests", res.Points, len(res.Tests))
			}
			if h := res.Tests[1]; h.Message != "Time limit exceeded" && h.Message != "Memory limit exceeded" && h.Message != "Error" {
				t.Errorf("hidden message %q", h.Message)
			}
		})
	}
}

// TestNoNetwork: neither the internet nor the host's own services answer.
func TestNoNetwork(t *testing.T) {
	g := newGrader(t)
	probe := `import socket
for host, port in [("1.1.1.1", 53), ("127.0.0.1", 5432), ("10.0.0.1", 80)]:
    try:
        socket.create_connection((host, port), timeout=1).close()
        print("reached", host, port)
    except OSError:
        print("blocked")
`
	res := g.grade(t, grade.Job{Dir: submission(t, map[string]string{"probe.py": probe}), Runner: grade.IO,
		Command: "python3 probe.py; curl -s -m 2 http://1.1.1.1 >/dev/null 2>&1 || echo blocked",
		Cases:   []grade.IOCase{{Name: "offline", Stdout: "blocked\nblocked\nblocked\nblocked\n"}}})
	if !res.Tests[0].Passed {
		t.Fatalf("the sandbox reached the network: %s\n%s", res.Tests[0].Message, res.Tests[0].Output)
	}
}

func TestInvalidJob(t *testing.T) {
	g := newGrader(t)
	for _, job := range []grade.Job{
		{ID: "a", Runner: "cobol"},
		{ID: "b", Runner: grade.Pytest, Tests: []grade.TestFile{{Path: "../escape.py"}}},
		{ID: "c", Runner: grade.IO},
	} {
		if _, err := g.Grade(context.Background(), job); !errors.Is(err, grade.ErrInvalid) {
			t.Errorf("job %s: %v, want ErrInvalid", job.ID, err)
		}
	}
}

// TestRunawayTests: a submission that loops under the hidden tests keeps
// what the visible ones earned; each hidden test fails with the reason.
func TestRunawayTests(t *testing.T) {
	g := newGrader(t)
	dir := submission(t, map[string]string{"calc.py": "def add(a, b):\n    while a == 0:\n        pass\n    return a + b\n"})
	res := g.grade(t, grade.Job{Dir: dir, Runner: grade.Pytest, Limits: grade.Limits{CPUSeconds: 1, WallSeconds: 5}, Tests: []grade.TestFile{
		{Path: "test_add.py", Content: "from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"},
		{Path: "test_zero.py", Hidden: true, Content: "from calc import add\n\ndef test_zero():\n    assert add(0, 0) == 0\n"},
	}})
	check(t, res, map[string]want{
		"test_add::test_add": {passed: true, message: "Passed"},
		"test_zero.py":       {hidden: true, message: "Time limit exceeded"},
	})
	if !strings.HasPrefix(res.Reason, "Time limit exceeded") {
		t.Errorf("reason %q", res.Reason)
	}
}
