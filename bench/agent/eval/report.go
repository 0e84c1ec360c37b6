package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// result is one case's outcome.
type result struct {
	Name    string `json:"name"`
	Pass    bool   `json:"pass"`
	Failure string `json:"failure,omitempty"` // the first failed check, or what went wrong
	// Status is the agent run's: done, needs_input, failed, stopped;
	// timeout when the harness stopped it; error when the harness could not
	// run it.
	Status     string `json:"agentStatus"`
	AgentError string `json:"agentError,omitempty"`
	TokensIn   int64  `json:"tokensIn"`
	TokensOut  int64  `json:"tokensOut"`
	Steps      int    `json:"steps"`
	AgentMs    int64  `json:"agentMs"`
	// InstallMs sums the agent's install steps: install_packages, and
	// run_command with "install" in the command.
	InstallMs int64  `json:"installMs"`
	TotalMs   int64  `json:"totalMs"` // project created to checks done
	ProjectID string `json:"projectId,omitempty"`
	RunID     string `json:"runId,omitempty"`
	Preview   string `json:"preview,omitempty"`
}

// record takes what the harness reports of the agent's run.
func (r *result) record(a agentRun, start time.Time) {
	r.RunID, r.Status, r.TokensIn, r.TokensOut, r.Steps = a.ID, a.Status, a.TokensIn, a.TokensOut, len(a.Steps)
	if a.Error != nil {
		r.AgentError = a.Error.Code + ": " + a.Error.Message
	} else if a.NeedsInput != "" {
		r.AgentError = "asks: " + a.NeedsInput
	}
	if a.FinishedAt != nil {
		r.AgentMs = *a.FinishedAt - a.CreatedAt
	} else {
		r.AgentMs = time.Since(start).Milliseconds()
	}
	for _, s := range a.Steps {
		cmd, _ := s.Input["command"].(string)
		if s.Tool == "install_packages" || (s.Tool == "run_command" && strings.Contains(cmd, "install")) {
			r.InstallMs += s.DurationMs
		}
	}
}

func (r result) verdict() string {
	if r.Pass {
		return "pass"
	}
	return "FAIL: " + r.Failure
}

// report is a whole run of the harness.
type report struct {
	Server    string    `json:"server"`
	Model     string    `json:"model"`
	User      string    `json:"user"`
	StartedAt time.Time `json:"startedAt"`
	Cases     []result  `json:"cases"`
	Passed    int       `json:"passed"`
	PassRate  float64   `json:"passRate"`
	TokensIn  int64     `json:"tokensIn"`
	TokensOut int64     `json:"tokensOut"`
	AgentMs   int64     `json:"agentMs"`
	InstallMs int64     `json:"installMs"`
	TotalMs   int64     `json:"totalMs"`
}

func (rep *report) add(r result) {
	rep.Cases = append(rep.Cases, r)
	if r.Pass {
		rep.Passed++
	}
	rep.PassRate = float64(rep.Passed) / float64(len(rep.Cases))
	rep.TokensIn += r.TokensIn
	rep.TokensOut += r.TokensOut
	rep.AgentMs += r.AgentMs
	rep.InstallMs += r.InstallMs
	rep.TotalMs += r.TotalMs
}

// print writes the table, the failures in full, and the totals.
func (rep *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\tresult\tagent\ttokens in\ttokens out\tagent time\tinstall\ttotal\t")
	var failures []string
	for _, r := range rep.Cases {
		verdict := "pass"
		if !r.Pass {
			what, _, _ := strings.Cut(r.Failure, ": ") // "check 3, GET /x", or what went wrong
			verdict = "FAIL " + clip(what, 48)
			f := r.Name + ": " + r.Failure
			if r.AgentError != "" {
				f += " (agent: " + r.AgentError + ")"
			}
			failures = append(failures, f)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t\n",
			r.Name, verdict, r.Status, r.TokensIn, r.TokensOut, seconds(r.AgentMs), seconds(r.InstallMs), seconds(r.TotalMs))
	}
	fmt.Fprintf(tw, "total\t%d/%d\t\t%d\t%d\t%s\t%s\t%s\t\n",
		rep.Passed, len(rep.Cases), rep.TokensIn, rep.TokensOut, seconds(rep.AgentMs), seconds(rep.InstallMs), seconds(rep.TotalMs))
	tw.Flush()
	for _, f := range failures {
		fmt.Fprintln(w, "  FAIL", f)
	}
	if len(rep.Cases) > 0 {
		fmt.Fprintf(w, "pass rate %.0f%% (%d of %d), model %s\n", 100*rep.PassRate, rep.Passed, len(rep.Cases), rep.Model)
	}
}

func seconds(ms int64) string { return fmt.Sprintf("%.2fs", float64(ms)/1000) }
