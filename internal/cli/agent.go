package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) agentCmd() *cobra.Command {
	var ref string
	c := &cobra.Command{
		Use:   "agent [-p PROJECT] PROMPT",
		Short: "Ask the AI agent to build or change a project",
		Long: `Ask the project's AI agent to build or change something, and follow its
work as it happens: what it says, each tool it calls (files written, commands
run) once that call is done, then its summary and the tokens it used. The
project's checkpoints keep the state before each change.

It exits 0 when the agent finished, 1 when it failed, stopped or ended to ask
you something (the question is printed). Ctrl-C stops the agent and exits
130. --json prints JSON lines: the agent's events as the server sends them
({"kind":"run"|"step"|"text",...}), then {"kind":"end","run":{...}}, the whole
run with its steps.`,
		Example: `  ecode agent -p alice/blog "add a dark mode toggle"
  ecode agent "make the tests pass" --json | jq -c 'select(.kind=="step")'`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.project(cmd.Context(), ref, ".")
			if err != nil {
				return err
			}
			return a.agent(cmd.Context(), c, p.ID, args[0])
		},
	}
	a.projectFlag(c, &ref)
	return c
}

// agentRun is what the command reads of an agent run.
type agentRun struct {
	ID         string      `json:"id"`
	Status     string      `json:"status"`
	Summary    string      `json:"summary"`
	Features   []string    `json:"features"`
	NeedsInput string      `json:"needsInput"`
	Steps      []agentStep `json:"steps"`
	TokensIn   int64       `json:"tokensIn"`
	TokensOut  int64       `json:"tokensOut"`
	Error      *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// agentStep is one thing the agent did: said something (text) or called
// a tool, which is running, ok or error. raw keeps the API's object
// whole, for --json.
type agentStep struct {
	N          int            `json:"n"`
	Kind       string         `json:"kind"`
	Text       string         `json:"text"`
	Tool       string         `json:"tool"`
	Input      map[string]any `json:"input"`
	Status     string         `json:"status"`
	Output     string         `json:"output"`
	DurationMs int64          `json:"durationMs"`
	raw        json.RawMessage
}

func (st *agentStep) UnmarshalJSON(b []byte) error {
	type plain agentStep
	if err := json.Unmarshal(b, (*plain)(st)); err != nil {
		return err
	}
	st.raw = append(json.RawMessage(nil), b...)
	return nil
}

// agentEvent is a change of a run, as agent.event carries it.
type agentEvent struct {
	Kind  string     `json:"kind"`
	Run   *agentRun  `json:"run"`
	RunID string     `json:"runId"`
	Step  *agentStep `json:"step"`
}

// agent starts a run of project id's agent and follows it over the
// workspace socket to its end.
func (a *app) agent(ctx context.Context, c *Client, id, prompt string) error {
	base := projectPath(id, "/agent/runs")
	var started struct{ Run agentRun }
	if err := c.JSON(ctx, "POST", base, map[string]string{"prompt": prompt}, &started); err != nil {
		return err
	}
	runPath := base + "/" + url.PathEscape(started.Run.ID)
	sock, err := dialWorkspace(ctx, c, id)
	if err != nil {
		if ctx.Err() != nil {
			return a.interrupted(ctx, c, runPath+"/stop", "the agent")
		}
		return fmt.Errorf("follow the agent (it goes on; see the workspace): %w", err)
	}
	defer sock.Close()
	f := &agentFollower{a: a, runID: started.Run.ID, seen: map[int]string{}}
	if err := f.follow(ctx, sock); err != nil {
		if ctx.Err() != nil {
			return a.interrupted(ctx, c, runPath+"/stop", "the agent")
		}
		return err
	}
	var out struct{ Run json.RawMessage }
	if err := c.JSON(ctx, "GET", runPath, nil, &out); err != nil {
		return err
	}
	var r agentRun
	if err := json.Unmarshal(out.Run, &r); err != nil {
		return fmt.Errorf("decode the agent's run: %w", err)
	}
	if err := f.steps(r.Steps, true); err != nil {
		return err
	}
	if a.json {
		if err := f.line(map[string]any{"kind": "end", "run": out.Run}); err != nil {
			return err
		}
	} else {
		a.agentEnd(&r)
	}
	switch {
	case r.Status == "done":
		return nil
	case r.Status == "failed" && r.Error != nil:
		return &exitError{code: ExitFailure, err: &APIError{Code: r.Error.Code, Message: r.Error.Message}}
	case r.Status == "failed":
		return &exitError{code: ExitFailure, err: errors.New("the agent failed")}
	}
	return &exitError{code: ExitFailure} // agentEnd said how it ended
}

// agentFollower prints a run's steps from the socket, each once per
// change that matters.
type agentFollower struct {
	a     *app
	runID string
	seen  map[int]string // the status each step was last printed with
}

// follow reads the socket until the run has ended.
func (f *agentFollower) follow(ctx context.Context, sock *socket) error {
	if err := sock.Send(wsMsg{Type: "agent.subscribe"}); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m, ok := <-sock.In:
			if !ok {
				return fmt.Errorf("%w; the agent goes on: see the workspace", sock.Err())
			}
			switch m.Type {
			case "error":
				return m.apiError()
			case "agent.snapshot":
				// The run so far: at the start, and again after this end fell
				// behind.
				var snap struct{ Run *agentRun }
				if err := json.Unmarshal(m.Agent, &snap); err != nil {
					return fmt.Errorf("decode agent.snapshot: %w", err)
				}
				if snap.Run == nil || snap.Run.ID != f.runID {
					return nil // over, and another run since: the run is read whole next
				}
				over := snap.Run.Status != "running"
				if err := f.steps(snap.Run.Steps, over); err != nil || over {
					return err
				}
			case "agent.event":
				var e agentEvent
				if err := json.Unmarshal(m.Agent, &e); err != nil {
					return fmt.Errorf("decode agent.event: %w", err)
				}
				over, err := f.event(e, m.Agent)
				if err != nil || over {
					return err
				}
			}
		}
	}
}

// event prints one event of the project's agent; it reports whether the
// run is over.
func (f *agentFollower) event(e agentEvent, raw json.RawMessage) (bool, error) {
	switch {
	case e.Run != nil && e.Run.ID == f.runID:
		if f.a.json {
			if err := f.line(raw); err != nil {
				return false, err
			}
		}
		return e.Run.Status != "running", nil
	case e.RunID != f.runID:
		return false, nil
	case e.Kind == "text":
		if f.a.json {
			return false, f.line(raw)
		}
	case e.Step != nil:
		return false, f.steps([]agentStep{*e.Step}, true)
	}
	return false, nil
}

// steps prints the steps not yet printed as they are now. settled says
// the last one is complete if it is text: it came in a step event, or
// the run is over; in a snapshot of a run going on, the model may still
// be saying it.
func (f *agentFollower) steps(steps []agentStep, settled bool) error {
	for i, st := range steps {
		if st.Kind == "tool" && st.Status == "running" && !f.a.json {
			continue // printed once done
		}
		if st.Kind == "text" && i == len(steps)-1 && !settled {
			continue
		}
		if prev, ok := f.seen[st.N]; ok && prev == st.Status {
			continue
		}
		f.seen[st.N] = st.Status
		if f.a.json {
			if err := f.line(map[string]any{"kind": "step", "runId": f.runID, "step": st.raw}); err != nil {
				return err
			}
			continue
		}
		f.a.printStep(st)
	}
	return nil
}

// line prints v as one JSON line.
func (f *agentFollower) line(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode a JSON line: %w", err)
	}
	_, err = fmt.Fprintf(f.a.env.Stdout, "%s\n", raw)
	return err
}

// printStep prints a step for people.
func (a *app) printStep(st agentStep) {
	w := a.env.Stdout
	switch {
	case st.Kind == "text":
		if text := strings.TrimSpace(st.Text); text != "" {
			fmt.Fprintf(w, "%s\n\n", text)
		}
	case st.Tool == "finish":
		// Its summary is printed at the end.
	case st.Status == "error":
		fmt.Fprintf(w, "✗ %s%s (%s)\n    %s\n", st.Tool, toolInput(st.Input), millis(st.DurationMs), firstLine(st.Output))
	default:
		fmt.Fprintf(w, "✓ %s%s (%s)\n", st.Tool, toolInput(st.Input), millis(st.DurationMs))
	}
}

// agentEnd prints how the run ended: its summary, or why it stopped,
// and the tokens it used.
func (a *app) agentEnd(r *agentRun) {
	w := a.env.Stdout
	switch r.Status {
	case "done":
		if r.Summary != "" {
			fmt.Fprintf(w, "Done: %s\n", strings.TrimSpace(r.Summary))
		} else {
			fmt.Fprintln(w, "Done.")
		}
		for _, f := range r.Features {
			fmt.Fprintf(w, "  - %s\n", f)
		}
	case "needs_input":
		fmt.Fprintf(w, "The agent asks: %s\n", strings.TrimSpace(r.NeedsInput))
	case "stopped":
		fmt.Fprintln(w, "The agent was stopped.")
	}
	fmt.Fprintf(w, "Tokens: %d in, %d out\n", r.TokensIn, r.TokensOut)
}

// toolInput summarises a tool call's input on one line: the fields that
// name what it acts on, else every field, shortened.
func toolInput(in map[string]any) string {
	keys := []string{"path", "from", "to", "command", "manager", "packages"}
	if !slices.ContainsFunc(keys, func(k string) bool { _, ok := in[k]; return ok }) {
		keys = keys[:0]
		for k := range in {
			keys = append(keys, k)
		}
		slices.Sort(keys)
	}
	var b strings.Builder
	for _, k := range keys {
		v, ok := in[k]
		if !ok {
			continue
		}
		s, isString := v.(string)
		if !isString {
			raw, _ := json.Marshal(v)
			s = string(raw)
		}
		fmt.Fprintf(&b, " %s", shorten(oneLine(s), 60))
	}
	return b.String()
}

// shorten cuts s to at most n characters, marking the cut.
func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// firstLine is the first non-empty line of s, shortened for a summary.
func firstLine(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return shorten(oneLine(line), 120)
		}
	}
	return ""
}

// millis says a duration in milliseconds as people read it.
func millis(d int64) string {
	return (time.Duration(d) * time.Millisecond).Round(time.Millisecond).String()
}
