package grade

import (
	"strings"
	"testing"
)

// Jest is not installed on the machines that run these tests: its report,
// as jest --json writes it, is read here.
func TestParseJest(t *testing.T) {
	report := `{"numFailedTests":1,"testResults":[
{"name":"/home/runner/w/sum.test.js","status":"failed","message":"","assertionResults":[
 {"ancestorTitles":["sum"],"title":"adds","status":"passed","failureMessages":[]},
 {"ancestorTitles":["sum"],"title":"subtracts","status":"failed","failureMessages":["Error: \u001b[2mexpect(\u001b[22mreceived).toBe(expected)\n\nExpected: 1\nReceived: 3\n    at Object.<anonymous> (sum.test.js:5:3)"]},
 {"ancestorTitles":[],"title":"later","status":"todo","failureMessages":[]}]},
{"name":"/home/runner/w/broken.test.js","status":"failed","message":"  ● Test suite failed to run\n\n    SyntaxError: Unexpected token (1:8)","assertionResults":[]}]}`
	got, problem := parseJest([]byte(report))
	if problem != "" {
		t.Fatal(problem)
	}
	want := []result{
		{name: "sum > adds", passed: true},
		{name: "sum > subtracts", message: "Error: expect(received).toBe(expected)\nExpected: 1\nReceived: 3\nat Object.<anonymous> (sum.test.js:5:3)"},
		{name: "later", message: "Not run: todo"},
		{name: "broken.test.js", message: "● Test suite failed to run\nSyntaxError: Unexpected token (1:8)"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.name != w.name || g.passed != w.passed || normalizeSpace(g.message) != normalizeSpace(w.message) {
			t.Errorf("result %d: %+v, want %+v", i, g, w)
		}
	}
}

func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestCompare(t *testing.T) {
	for _, tc := range []struct{ want, got, msg string }{
		{"4\n", "4", ""},
		{"a\nb", "a  \r\nb\r\n\n\n", ""},
		{"a\nb", "a\nc", `Expected "b" on line 2, got "c"`},
		{"a\nb", "a", `Expected "b" on line 2, got nothing more`},
		{"a", "a\nextra", `Expected nothing more, got "extra" on line 2`},
		{"", "", ""},
	} {
		if got := compare(tc.want, tc.got); got != tc.msg {
			t.Errorf("compare(%q, %q) = %q, want %q", tc.want, tc.got, got, tc.msg)
		}
	}
}
