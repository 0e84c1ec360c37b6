package evals

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"ecode/internal/agent/agenttest"
)

// matches is the scripted model's rule for choosing a script.
func matches(prompt, match string) bool {
	return strings.Contains(strings.ToLower(prompt), strings.ToLower(match))
}

func TestCasesAreWellFormed(t *testing.T) {
	cases := All()
	if len(cases) < 20 {
		t.Fatalf("%d cases, want at least 20", len(cases))
	}
	names := map[string]bool{}
	network := 0
	for _, c := range cases {
		if c.Name == "" || names[c.Name] || strings.ContainsAny(c.Name, ", ") {
			t.Errorf("case name %q is empty, repeated or not a single word", c.Name)
		}
		names[c.Name] = true
		if c.Network {
			network++
		}
		if len(c.Checks) == 0 {
			t.Errorf("%s: no checks", c.Name)
		}
		for i, ch := range c.Checks {
			if !strings.HasPrefix(ch.Path, "/") {
				t.Errorf("%s: check %d: path %q does not start with /", c.Name, i+1, ch.Path)
			}
		}
		s := c.Solution
		if s.Match == "" || s.Run == "" || len(s.Files) == 0 || s.Summary == "" {
			t.Errorf("%s: incomplete solution %+v", c.Name, s)
		}
		if (len(s.Packages) > 0) != c.Network {
			t.Errorf("%s: installs %v but Network is %v", c.Name, s.Packages, c.Network)
		}
	}
	if network > 3 {
		t.Errorf("%d cases need the network, want at most 3", network)
	}
}

// Each prompt must lead the scripted model to its own script: no other
// script of the scripted model matches it.
func TestEachPromptSelectsItsOwnScript(t *testing.T) {
	for _, c := range All() {
		for _, s := range agenttest.All() {
			if matches(c.Prompt, s.Match) {
				t.Errorf("%s: agenttest's script %q matches its prompt", c.Name, s.Match)
			}
		}
		var selected []string
		for _, other := range All() {
			if matches(c.Prompt, other.Solution.Match) {
				selected = append(selected, other.Name)
			}
		}
		if len(selected) != 1 || selected[0] != c.Name {
			t.Errorf("%s: its prompt selects %v", c.Name, selected)
		}
	}
}

// Each script writes the solution's run command to ecode.toml, then
// starts the app, checks it and finishes.
func TestScriptsBuildAndFinish(t *testing.T) {
	for _, c := range All() {
		var tools []string
		var config struct{ Run string }
		for _, turn := range c.Solution.Script().Turns {
			for _, call := range turn.Tools {
				tools = append(tools, call.Name)
				if call.Name == "write_file" && call.Input["path"] == "ecode.toml" {
					if _, err := toml.Decode(call.Input["content"].(string), &config); err != nil {
						t.Errorf("%s: ecode.toml: %v", c.Name, err)
					}
				}
			}
		}
		if config.Run != c.Solution.Run {
			t.Errorf("%s: ecode.toml runs %q, want %q", c.Name, config.Run, c.Solution.Run)
		}
		if got := strings.Join(tools, ","); !strings.HasSuffix(got, "write_file,start_app,check_app,finish") {
			t.Errorf("%s: the script calls %s", c.Name, got)
		}
	}
}
