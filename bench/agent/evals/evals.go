// Package evals is the agent's eval set: small app prompts, each with
// machine checks of the app the agent builds (HTTP requests through the
// preview, files that must exist), and for each a solution the scripted
// model plays, so the harness measures the platform without a model and a
// real model against the same checks.
//
// The prompts state their HTTP contract exactly (paths, status codes, JSON
// fields), because the checks hold a real model to it.
package evals

import (
	"strconv"

	"ecode/internal/agent/agenttest"
)

// Case is one prompt and how to tell whether the agent built it.
type Case struct {
	Name   string
	Prompt string
	// Network cases install packages from a registry; -offline skips them.
	Network bool
	// Checks run in order against the running app; a check's captures are
	// available to the checks after it.
	Checks []Check
	// Files must exist in the project once the checks have run (an app may
	// create its data file on the first write).
	Files    []string
	Solution Solution
}

// Check is one HTTP request to the app through its preview.
type Check struct {
	Method string // GET when empty
	Path   string // may hold {name} placeholders of earlier captures
	Body   string // sent as application/json when set; placeholders too
	Status int    // 200 when zero
	// Contains are substrings of the body, compared case-insensitively; a
	// JSON body also matches in its compact form ({"a": 1.0} as {"a":1}), so
	// a check does not depend on how an app spaces its JSON.
	Contains []string
	Excludes []string // substrings the body must not hold, compared the same way
	// Headers maps a response header to a substring of its value
	// (case-insensitive).
	Headers map[string]string
	// Capture names JSON fields of the response (found at any depth, first
	// match) whose values later checks use as {name}.
	Capture []string
}

// Solution is what the scripted model does for the case: a Match phrase of
// the prompt, then the app's files, its run command, a check and finish.
type Solution struct {
	Match    string
	Intro    string   // what the model says before it writes
	Packages []string // npm packages to install first
	Files    []File
	Run      string // ecode.toml's run command
	Check    string // the path check_app looks at
	Summary  string
	Features []string
}

// File is a file of a solution.
type File struct{ Path, Content string }

// All returns every case, in the order the harness runs them: the quick
// ones first.
func All() []Case {
	var all []Case
	for _, group := range [][]Case{staticCases(), nodeCases(), pythonCases(), goCases(), npmCases()} {
		all = append(all, group...)
	}
	return all
}

// Scripts are the scripted model's solutions to every case.
func Scripts() []agenttest.Script {
	var out []agenttest.Script
	for _, c := range All() {
		out = append(out, c.Solution.Script())
	}
	return out
}

// Script is the solution as the scripted model plays it: install, write
// the files and ecode.toml, start the app, check it, finish.
func (s Solution) Script() agenttest.Script {
	var turns []agenttest.Turn
	var writes []agenttest.ToolCall
	config := "run = " + strconv.Quote(s.Run) + "\n" // TOML's basic strings escape as Go's do
	intro := s.Intro
	if len(s.Packages) > 0 {
		turns = append(turns, agenttest.Turn{Text: intro, Tools: []agenttest.ToolCall{
			{Name: "install_packages", Input: map[string]any{"manager": "npm", "packages": s.Packages}},
		}})
		intro = ""
		config += "install = \"npm install\"\n"
		writes = append(writes, write(".gitignore", "node_modules/\n"))
	}
	for _, f := range s.Files {
		writes = append(writes, write(f.Path, f.Content))
	}
	writes = append(writes, write("ecode.toml", config))
	turns = append(turns,
		agenttest.Turn{Text: intro, Tools: writes},
		agenttest.Turn{Tools: []agenttest.ToolCall{{Name: "start_app", Input: map[string]any{}}}},
		agenttest.Turn{Tools: []agenttest.ToolCall{{Name: "check_app", Input: map[string]any{"path": s.Check}}}},
		agenttest.Turn{Text: "It answers as it should.", Tools: []agenttest.ToolCall{{Name: "finish", Input: map[string]any{
			"summary": s.Summary, "features": s.Features,
		}}}},
	)
	return agenttest.Script{Match: s.Match, Turns: turns}
}

func write(path, content string) agenttest.ToolCall {
	return agenttest.ToolCall{Name: "write_file", Input: map[string]any{"path": path, "content": content}}
}

// oneFile is how the scripted model writes an app of one file in a
// language: the language's kit at the top, then the app's own code.
type oneFile struct{ file, kit, run, intro string }

var (
	plainNode    = oneFile{"server.js", nodeKit, "node server.js", "One server.js on Node's http module does it; no packages needed."}
	stdlibPython = oneFile{"main.py", pyKit, "python3 main.py", "Python's http.server is enough here; everything goes in main.py."}
)

// solution is the app whose code follows the kit.
func (l oneFile) solution(match, code, check, summary string, features ...string) Solution {
	return Solution{Match: match, Intro: l.intro, Files: []File{{l.file, l.kit + code}}, Run: l.run, Check: check, Summary: summary, Features: features}
}

// staticServer serves a folder of files; Python is in every sandbox.
const staticServer = "python3 -m http.server $PORT --bind 0.0.0.0"
