package grade

import (
	"context"
	"fmt"
	"strings"
	"time"

	"ecode/internal/runtime"
)

// runCases runs the phase's input/output cases, each a command of its own
// with its own CPU and wall limits, in a fresh sandbox.
func (g *Grader) runCases(ctx context.Context, p phase) ([]Test, string, error) {
	wall := time.Duration(p.lim.WallSeconds) * time.Second
	var (
		sb   runtime.Sandbox
		stop func()
		idle int // the sandbox's process count between cases
	)
	// fresh starts a sandbox with the submission copied in: at first, and
	// again after a case that left it dirty (processes still running, the
	// memory limit hit), so no case pays for the one before.
	// A copy that does not fit the limits (a submission larger than the
	// memory) answers why.
	fresh := func() (string, error) {
		if stop != nil {
			stop()
		}
		var err error
		if sb, stop, err = g.sandbox(ctx, p); err != nil {
			stop = nil
			return "", err
		}
		setup, err := run(ctx, sb, copyScript, nil, nil, wall)
		if err != nil {
			return "", err
		}
		if why := limitReason(setup, p.lim); why != "" {
			return why, nil
		}
		if setup.exit.Code != 0 || setup.exit.Signal != "" {
			return "", fmt.Errorf("copy the submission in its grading sandbox: %s", firstLines(string(setup.out)+string(setup.errOut), 4))
		}
		idle = pidsNow(sb)
		return "", nil
	}
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	setupFailed, err := fresh()
	if err != nil {
		return nil, "", err
	}
	// The command comes in the environment, so no quoting of it matters.
	script := "cd " + workDir + " || exit 1\n" + ulimits(p.lim) + `exec bash -c "$ECODE_GRADE_COMMAND"` + "\n"
	env := []string{"ECODE_GRADE_COMMAND=" + p.job.Command}
	var (
		tests  []Test
		reason string
	)
	for i, c := range p.cases {
		name, points := caseName(c, i), casePoints(c)
		if setupFailed != "" {
			tests = append(tests, Test{Name: name, Hidden: p.hidden, MaxPoints: points, Message: generic(false, setupFailed)})
			reason = cmp(reason, setupFailed)
			if !p.hidden {
				tests[len(tests)-1].Message = setupFailed
			}
			continue
		}
		r, err := run(ctx, sb, script, env, []byte(c.Stdin), wall)
		if err != nil {
			return nil, "", err
		}
		t := Test{Name: name, Hidden: p.hidden, MaxPoints: points, Output: clip(string(r.out)+string(r.errOut), p.lim.OutputBytes)}
		why := limitReason(r, p.lim)
		switch {
		case why != "":
			t.Message = why
			reason = cmp(reason, why)
		case r.exit.Code != 0 || r.exit.Signal != "":
			t.Message = fmt.Sprintf("The program exited with code %d", r.exit.Code)
			if r.exit.Signal != "" {
				t.Message = "The program was killed (" + r.exit.Signal + ")"
			}
			if tail := lastLines(strings.TrimSpace(string(r.errOut)), 4); tail != "" {
				t.Message += ":\n" + tail
			}
		default:
			t.Message = compare(c.Stdout, string(r.out))
			t.Passed = t.Message == ""
		}
		if t.Passed {
			t.Points = points
			t.Message = "Passed"
		}
		if p.hidden {
			t.Output = clip(fmt.Sprintf("%s\n--- stdin\n%s\n--- expected\n%s\n--- output\n%s%s", t.Message, c.Stdin, c.Stdout, r.out, r.errOut), p.lim.OutputBytes)
			t.Message = generic(t.Passed, why)
		}
		tests = append(tests, t)
		if i+1 < len(p.cases) && (r.oom || pidsNow(sb) > idle+2) {
			if setupFailed, err = fresh(); err != nil {
				return nil, "", err
			}
		}
	}
	return tests, reason, nil
}

func caseName(c IOCase, i int) string { return cmp(c.Name, fmt.Sprintf("Case %d", i+1)) }

// casePoints is what a case is worth: its points, 1 by default.
func casePoints(c IOCase) int {
	if c.Points <= 0 {
		return 1
	}
	return c.Points
}

// compare answers "" when got is want, line by line, trailing spaces of
// lines, CRLF and final newlines aside; else the first difference in
// words.
func compare(want, got string) string {
	w, g := normalize(want), normalize(got)
	for i := range max(len(w), len(g)) {
		switch {
		case i >= len(g):
			return fmt.Sprintf("Expected %q on line %d, got nothing more", short(w[i]), i+1)
		case i >= len(w):
			return fmt.Sprintf("Expected nothing more, got %q on line %d", short(g[i]), i+1)
		case w[i] != g[i]:
			return fmt.Sprintf("Expected %q on line %d, got %q", short(w[i]), i+1, short(g[i]))
		}
	}
	return ""
}

func normalize(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func short(s string) string {
	if len(s) > 120 {
		return clip(s, 120)
	}
	return s
}
