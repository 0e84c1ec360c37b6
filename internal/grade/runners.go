package grade

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// result is one test as a runner reported it.
type result struct {
	name    string
	passed  bool
	message string // why it failed, short
	detail  string // the failure in full and the test's output
}

// runFiles runs a file-based runner over the phase's test files in a
// fresh sandbox and reads each test's result from the runner's report.
func (g *Grader) runFiles(ctx context.Context, p phase) ([]Test, string, error) {
	sb, stop, err := g.sandbox(ctx, p)
	if err != nil {
		return nil, "", err
	}
	defer stop()
	conftest := slices.ContainsFunc(p.files, func(f TestFile) bool { return path.Base(f.Path) == "conftest.py" })
	cmd, report := command(p.job.Runner, p.tests, conftest)
	script := copyScript + ulimits(p.lim) + cmd
	r, err := run(ctx, sb, script, nil, nil, time.Duration(p.lim.WallSeconds)*time.Second)
	if err != nil {
		return nil, "", err
	}
	results, problem := parse(p.job.Runner, readReport(ctx, sb, report))
	reason := limitReason(r, p.lim)
	output := string(r.out) + string(r.errOut)
	if reason == "" && len(results) == 0 {
		// The runner found nothing to run, or the code does not load.
		detail := firstLines(problem+"\n"+output, 12)
		if p.hidden {
			// The error may quote the hidden tests: the student only
			// learns that they could not run.
			reason = "The hidden tests could not run"
		} else {
			reason = "The tests did not run: " + detail
		}
		if detail == "" {
			reason = strings.TrimSuffix(reason, ": ")
		}
	}
	if len(results) == 0 {
		for _, file := range p.tests {
			results = append(results, result{name: file, message: cmp(reason, "No tests found"), detail: output})
		}
	}
	tests := make([]Test, len(results))
	for i, res := range results {
		t := Test{Name: res.name, Hidden: p.hidden, Passed: res.passed, MaxPoints: 1,
			Message: clip(res.message, 2048), Output: clip(res.detail, p.lim.OutputBytes)}
		if t.Passed {
			t.Points = 1
			t.Message = cmp(t.Message, "Passed")
		} else if t.Message == "" {
			t.Message = generic(false, reason)
		}
		if p.hidden {
			t.Output = clip(strings.TrimSpace(res.message+"\n"+res.detail), p.lim.OutputBytes)
			t.Message = generic(t.Passed, reason)
		}
		tests[i] = t
	}
	return tests, reason, nil
}

func cmp(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// quote is s as one shell word.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func quoteAll(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = quote(p)
	}
	return strings.Join(q, " ")
}

// command is the shell line that runs runner over paths, and the name of
// the report it leaves in reportsDir.
func command(runner Runner, paths []string, teacherConftest bool) (string, string) {
	files := quoteAll(paths)
	switch runner {
	case Pytest:
		// An empty ini and --noconftest: a submission's pytest.ini or
		// conftest.py does not get to change how the teacher's tests run
		// or report, unless the teacher ships a conftest.py. Installed
		// plugins are not loaded either, which also starts pytest faster.
		noconf := "--noconftest "
		if teacherConftest {
			noconf = ""
		}
		return `: > "$R/pytest.ini"
export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
exec python3 -m pytest -c "$R/pytest.ini" --rootdir="$W" ` + noconf + `-p no:cacheprovider -q -o junit_logging=out-err --junitxml="$R/report.xml" -- ` + files + "\n", "report.xml"
	case Unittest:
		return "cat > \"$R/ut.py\" <<'ECODE_EOF'\n" + unittestRunner + "ECODE_EOF\n" +
			`exec python3 "$R/ut.py" "$R/report.json" ` + files + "\n", "report.json"
	case Node:
		return `exec node --test --test-concurrency=1 --test-reporter=junit --test-reporter-destination="$R/report.xml" --test-reporter=spec --test-reporter-destination=stdout ` + files + "\n", "report.xml"
	case Jest:
		return `if [ ! -x node_modules/.bin/jest ]; then echo "Jest is not installed in this project (node_modules/.bin/jest is missing)."; exit 1; fi
exec node_modules/.bin/jest --ci --runInBand --watchman=false --colors=false --json --outputFile="$R/report.json" --runTestsByPath ` + files + "\n", "report.json"
	case GoTest:
		return `[ -f go.mod ] || go mod init submission >/dev/null 2>&1
exec go test -json -p 1 ./... > "$R/report.json"
`, "report.json"
	}
	panic("grade: no command for runner " + string(runner))
}

// parse reads a runner's report: the tests, or what kept it from making
// one.
func parse(runner Runner, report []byte) ([]result, string) {
	if len(report) == 0 {
		return nil, ""
	}
	switch runner {
	case Pytest:
		return parseJUnit(report, true)
	case Node:
		return parseJUnit(report, false)
	case Unittest:
		return parseUnittest(report)
	case Jest:
		return parseJest(report)
	case GoTest:
		return parseGo(report)
	}
	return nil, ""
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitProblem `xml:"skipped"`
	SystemOut string        `xml:"system-out"`
	SystemErr string        `xml:"system-err"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

type junitSuite struct {
	Name   string       `xml:"name,attr"`
	Cases  []junitCase  `xml:"testcase"`
	Suites []junitSuite `xml:"testsuite"`
}

// parseJUnit reads JUnit XML (pytest's, node's). pytest names a test
// by its classname (module and class); node by its suites.
func parseJUnit(report []byte, classnames bool) ([]result, string) {
	var root junitSuite
	if err := xml.Unmarshal(report, &root); err != nil {
		return nil, "unreadable test report: " + err.Error()
	}
	var out []result
	var walk func(s junitSuite, prefix []string)
	walk = func(s junitSuite, prefix []string) {
		for _, c := range s.Cases {
			name := c.Name
			if classnames && c.Classname != "" {
				name = c.Classname + "::" + c.Name
			} else if len(prefix) > 0 {
				name = strings.Join(append(slices.Clone(prefix), c.Name), " > ")
			}
			// node names a file that failed to load by its full path.
			name = strings.TrimPrefix(name, workDir+"/")
			r := result{name: name, passed: true, detail: strings.TrimSpace(c.SystemOut + "\n" + c.SystemErr)}
			for _, p := range []*junitProblem{c.Failure, c.Error, c.Skipped} {
				if p == nil {
					continue
				}
				r.passed = false
				r.message = p.Message
				if c.Skipped != nil {
					r.message = "Skipped: " + p.Message
				}
				text := strings.TrimSpace(p.Text)
				// A short message ("collection failure") says little: the
				// lines that follow in the report say what went wrong.
				if len(r.message) < 40 && text != "" {
					r.message = strings.TrimSpace(r.message + "\n" + lastLines(text, 6))
				}
				r.detail = strings.TrimSpace(text + "\n" + r.detail)
				break
			}
			out = append(out, r)
		}
		for _, sub := range s.Suites {
			next := prefix
			// pytest's one suite is named "pytest"; node's are describe blocks.
			if !classnames {
				next = append(slices.Clone(prefix), sub.Name)
			}
			walk(sub, next)
		}
	}
	walk(root, nil)
	return out, ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// unittestRunner runs unittest modules by path and writes one JSON report;
// a subtest failure fails its test, which stays one test.
const unittestRunner = `import json, sys, traceback, unittest
out, files = sys.argv[1], sys.argv[2:]
sys.path.insert(0, '.')
results, seen, subfail = [], set(), {}
def rec(name, passed, message='', detail=''):
    seen.add(name)
    results.append({'name': name, 'passed': passed, 'message': message, 'detail': detail})
def last(err):
    return traceback.format_exception_only(err[0], err[1])[-1].strip()
class Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.buffer = True
    def addSuccess(self, test):
        super().addSuccess(test)
        if test.id() not in subfail:
            rec(test.id(), True)
    def addFailure(self, test, err):
        super().addFailure(test, err)
        rec(test.id(), False, last(err), self.failures[-1][1])
    def addError(self, test, err):
        super().addError(test, err)
        rec(test.id(), False, last(err), self.errors[-1][1])
    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        rec(test.id(), False, 'Skipped: ' + str(reason))
    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        rec(test.id(), True)
    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        rec(test.id(), False, 'Unexpected success')
    def addSubTest(self, test, sub, err):
        super().addSubTest(test, sub, err)
        if err is not None and test.id() not in subfail:
            subfail[test.id()] = (sub.id() + ': ' + last(err), self._exc_info_to_string(err, test))
    def stopTest(self, test):
        super().stopTest(test)
        if test.id() in subfail and test.id() not in seen:
            rec(test.id(), False, *subfail[test.id()])
suite = unittest.TestSuite()
for f in files:
    try:
        suite.addTests(unittest.defaultTestLoader.loadTestsFromName(f[:-3].replace('/', '.')))
    except Exception as e:
        rec(f, False, 'Could not load ' + f + ': ' + last(sys.exc_info()), traceback.format_exc())
suite.run(Result())
with open(out, 'w') as fh:
    json.dump(results, fh)
`

func parseUnittest(report []byte) ([]result, string) {
	var rs []struct {
		Name    string `json:"name"`
		Passed  bool   `json:"passed"`
		Message string `json:"message"`
		Detail  string `json:"detail"`
	}
	if err := json.Unmarshal(report, &rs); err != nil {
		return nil, "unreadable test report: " + err.Error()
	}
	out := make([]result, len(rs))
	for i, r := range rs {
		out[i] = result{name: r.Name, passed: r.Passed, message: r.Message, detail: r.Detail}
	}
	return out, ""
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func parseJest(report []byte) ([]result, string) {
	var rep struct {
		TestResults []struct {
			Name             string `json:"name"`
			Status           string `json:"status"`
			Message          string `json:"message"`
			AssertionResults []struct {
				AncestorTitles  []string `json:"ancestorTitles"`
				Title           string   `json:"title"`
				Status          string   `json:"status"`
				FailureMessages []string `json:"failureMessages"`
			} `json:"assertionResults"`
		} `json:"testResults"`
	}
	if err := json.Unmarshal(report, &rep); err != nil {
		return nil, "unreadable test report: " + err.Error()
	}
	var out []result
	for _, file := range rep.TestResults {
		if len(file.AssertionResults) == 0 && file.Status == "failed" {
			msg := ansi.ReplaceAllString(file.Message, "")
			out = append(out, result{name: strings.TrimPrefix(file.Name, workDir+"/"), message: firstLines(msg, 6), detail: msg})
			continue
		}
		for _, a := range file.AssertionResults {
			r := result{name: strings.Join(append(slices.Clone(a.AncestorTitles), a.Title), " > "), passed: a.Status == "passed"}
			if !r.passed {
				detail := ansi.ReplaceAllString(strings.Join(a.FailureMessages, "\n"), "")
				r.message, r.detail = firstLines(detail, 6), detail
				if a.Status != "failed" {
					r.message = cmp(r.message, "Not run: "+a.Status)
				}
			}
			out = append(out, r)
		}
	}
	return out, ""
}

// parseGo reads go test -json: each top-level test is one test (its
// subtests' output is its own); a package that does not build is the
// problem.
func parseGo(report []byte) ([]result, string) {
	type goTest struct {
		pkg, name string
		done      bool
		passed    bool
		output    strings.Builder
	}
	var (
		tests    []*goTest
		byKey    = map[string]*goTest{}
		problems strings.Builder
		packages = map[string]bool{}
	)
	for line := range strings.Lines(string(report)) {
		var e struct {
			Action, Package, Test, Output, ImportPath string
		}
		if json.Unmarshal([]byte(line), &e) != nil {
			problems.WriteString(line) // go's own errors, printed as text
			continue
		}
		if e.Test == "" {
			if e.Action == "build-output" || (e.Action == "output" && !strings.HasPrefix(e.Output, "ok ") &&
				!strings.HasPrefix(e.Output, "PASS") && !strings.HasPrefix(e.Output, "FAIL\t") && !strings.HasPrefix(e.Output, "?")) {
				problems.WriteString(e.Output)
			}
			continue
		}
		top, _, _ := strings.Cut(e.Test, "/")
		key := e.Package + "\x00" + top
		t := byKey[key]
		if t == nil {
			t = &goTest{pkg: e.Package, name: top}
			byKey[key] = t
			tests = append(tests, t)
			packages[e.Package] = true
		}
		switch {
		case e.Action == "output":
			if !strings.HasPrefix(strings.TrimSpace(e.Output), "=== ") {
				t.output.WriteString(e.Output)
			}
		case e.Test == top && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
			t.done, t.passed = true, e.Action == "pass"
		}
	}
	var out []result
	for _, t := range tests {
		name := t.name
		if len(packages) > 1 {
			name = t.pkg + "." + t.name
		}
		r := result{name: name, passed: t.done && t.passed, detail: t.output.String()}
		if !r.passed {
			var msg []string
			for l := range strings.Lines(r.detail) {
				if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "--- ") {
					msg = append(msg, s)
				}
			}
			r.message = strings.Join(msg[:min(len(msg), 8)], "\n")
			if !t.done {
				r.message = cmp(r.message, "Did not finish")
			}
		}
		out = append(out, r)
	}
	return out, strings.TrimSpace(problems.String())
}
