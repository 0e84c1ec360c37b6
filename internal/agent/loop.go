package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"ecode/internal/project"
	"ecode/internal/projectdb"
	"ecode/internal/snapshot"
)

const systemPrompt = `You are E-Code's agent. You build and change software projects for a person, working in their project through tools: the project's files, and a Linux sandbox where Node.js, npm, Python 3 and Go are installed.

How to work:
- Look before you change: list and read the files that matter. Keep changes focused on what the person asked.
- Write complete files that run. Prefer few, well-known dependencies; install them with install_packages.
- The app must listen on the port in the PORT environment variable (3000) on 0.0.0.0. Choose how it starts with ecode.toml at the project root, for example:
  run = "node server.js"
  (add install = "npm install" when it has dependencies). Then start_app, and check_app to see what a visitor sees; fix what is broken and check again.
- When a command fails, read its output and change something before trying again: never repeat the same failing call.
- When the app works, call finish with a short summary for the person and the list of features.`

// loop works on the run until the model is done, the person stops it, a
// budget runs out, or the guard sees it going round in circles.
func (s *Service) loop(ctx context.Context, l *live, w *workspace) {
	r := l.header()
	if cp := s.checkpoint(ctx, l, w, 0, "Before the agent: "+clipPrompt(r.Prompt, 60)); cp != "" {
		if _, _, err := s.snaps.TakeIfData(context.WithoutCancel(ctx), w.p.ID, snapshot.Env, cp, w.actor.ID, snapshot.ReasonAgent); err != nil {
			s.log.Error("agent data snapshot", "project_id", w.p.ID, "err", err)
		}
	}
	msgs := []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(s.firstMessage(ctx, w, r.Prompt)))}
	guard := map[string]int{}
	var finished bool
	steps := 0
	for !finished {
		if s.overBudget(l, steps) {
			break
		}
		textStep := 0
		msg, err := s.model.turn(ctx, systemPrompt, msgs, func(delta string) {
			if textStep == 0 {
				textStep = s.addStep(l, Step{Kind: "text", StartedAt: time.Now().UnixMilli()})
			}
			s.appendText(l, textStep, delta)
		})
		if err != nil {
			s.end(ctx, l, w, err)
			return
		}
		s.addTokens(ctx, l, msg.Usage.InputTokens, msg.Usage.OutputTokens)
		if err := s.meterTurn(ctx, l, msg.Usage.InputTokens, msg.Usage.OutputTokens); err != nil {
			s.outOfCredits(ctx, l, w, err)
			return
		}
		if textStep != 0 {
			s.publishStep(l, textStep)
		}
		msgs = append(msgs, msg.ToParam())
		var results []anthropic.ContentBlockParamUnion
		for _, block := range msg.Content {
			if block.Type != "tool_use" {
				continue
			}
			steps++
			out, isErr, stop := s.callTool(ctx, l, w, block, guard, &finished)
			results = append(results, anthropic.NewToolResultBlock(block.ID, out, isErr))
			if stop != "" {
				l.mu.Lock()
				l.guarded = true
				l.mu.Unlock()
				s.askPerson(ctx, l, w, stop)
				return
			}
			if ctx.Err() != nil {
				s.end(ctx, l, w, ctx.Err())
				return
			}
		}
		if len(results) == 0 {
			break // the model answered without tools: its words are the end
		}
		msgs = append(msgs, anthropic.NewUserMessage(results...))
	}
	if !finished && s.overBudget(l, steps) {
		s.askPerson(ctx, l, w, fmt.Sprintf("I used this run's budget (%d tool calls or %d tokens) before finishing. Shall I go on? Tell me what matters most next.", s.budgets.Steps, s.budgets.Tokens))
		return
	}
	l.mu.Lock()
	if l.run.Summary == "" {
		l.run.Summary = lastText(l.run.Steps)
	}
	l.mu.Unlock()
	s.end(ctx, l, w, nil)
}

func (s *Service) overBudget(l *live, steps int) bool {
	r := l.header()
	return steps >= s.budgets.Steps || r.TokensIn+r.TokensOut >= s.budgets.Tokens
}

// firstMessage is the prompt with what the model should know of the
// project: its instructions file and its files.
func (s *Service) firstMessage(ctx context.Context, w *workspace, prompt string) string {
	var b strings.Builder
	if f, err := w.projects.Tree(w.p).Open("ECODE.md"); err == nil {
		instructions, _ := io.ReadAll(io.LimitReader(f, 32<<10))
		f.Close()
		fmt.Fprintf(&b, "The project's instructions (ECODE.md):\n<instructions>\n%s\n</instructions>\n\n", instructions)
	}
	if has, err := w.dbs.Has(ctx, w.p.ID, projectdb.Dev); err == nil && has {
		b.WriteString("The project has a PostgreSQL database: DATABASE_URL and PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE are set in every command and in the app (psql works in run_command). Keep the app's data there.\n\n")
	} else if err == nil {
		b.WriteString("The project has no database yet; when the app must keep data, create_database gives it PostgreSQL.\n\n")
	}
	files, _ := listFiles(ctx, w, nil)
	fmt.Fprintf(&b, "The project's files:\n%s\n\nThe person asks:\n%s", files, prompt)
	return b.String()
}

// callTool runs one tool call as a step. It returns what the model is
// told, whether that is an error, and why to stop and ask the person, if so.
func (s *Service) callTool(ctx context.Context, l *live, w *workspace, block anthropic.ContentBlockUnion, guard map[string]int, finished *bool) (string, bool, string) {
	var in map[string]any
	if err := json.Unmarshal(block.Input, &in); err != nil || in == nil {
		in = map[string]any{}
	}
	start := time.Now()
	n := s.addStep(l, Step{Kind: "tool", Tool: block.Name, Input: in, Status: "running", StartedAt: start.UnixMilli()})
	s.publishStep(l, n)

	t := toolByName(block.Name)
	var out string
	var err error
	switch {
	case t == nil:
		err = fmt.Errorf("there is no tool %q", block.Name)
	case t.name == "finish":
		out = s.finish(l, in)
		*finished = true
	default:
		out, err = t.run(ctx, w, in)
		if err == nil && t.name == "check_app" {
			l.mu.Lock()
			l.checked = true
			l.mu.Unlock()
		}
	}
	isErr := err != nil
	if isErr {
		out = describe(err)
	}
	var stop string
	if isErr && ctx.Err() == nil {
		key := inputKey(block.Name, in)
		guard[key]++
		if guard[key] >= s.budgets.Repeats {
			stop = fmt.Sprintf("I tried %s %d times with the same input and it failed the same way each time:\n%s\nHow would you like me to proceed?",
				block.Name, guard[key], clip(out, 1500))
		}
	}
	files, cp := s.afterStep(ctx, l, w, n, block.Name, in)
	l.mu.Lock()
	st := &l.run.Steps[n-1]
	st.Output, st.Files, st.Checkpoint, st.DurationMs = out, files, cp, time.Since(start).Milliseconds()
	st.Status = "ok"
	if isErr {
		st.Status = "error"
	}
	l.mu.Unlock()
	s.publishStep(l, n)
	s.save(l)
	return out, isErr, stop
}

// afterStep checkpoints the project when the step changed files, and
// returns the changes.
func (s *Service) afterStep(ctx context.Context, l *live, w *workspace, n int, tool string, in map[string]any) ([]project.FileChange, string) {
	switch tool {
	case "list_files", "read_file", "check_app", "finish":
		return nil, ""
	}
	label := tool
	for _, k := range []string{"path", "command", "from"} {
		if v, ok := in[k].(string); ok {
			label += " " + clipPrompt(v, 60)
			break
		}
	}
	cp := s.checkpoint(ctx, l, w, n, fmt.Sprintf("Agent step %d: %s", n, label))
	if cp == "" {
		return nil, ""
	}
	cps := l.header().Checkpoints
	prev := cps[len(cps)-2].Hash
	files, err := w.projects.Changes(context.WithoutCancel(ctx), w.actor, w.p.ID, prev, cp)
	if err != nil {
		s.log.Error("agent step changes", "project_id", w.p.ID, "err", err)
	}
	w.projects.Touched(context.WithoutCancel(ctx), w.p)
	return files, cp
}

// checkpoint commits the project, and records the checkpoint when
// something changed (always for step 0). It returns the new hash or "".
func (s *Service) checkpoint(ctx context.Context, l *live, w *workspace, step int, message string) string {
	cp, changed, err := w.projects.Checkpoint(context.WithoutCancel(ctx), w.actor, w.p.ID, message)
	if err != nil {
		s.log.Error("agent checkpoint", "project_id", w.p.ID, "err", err)
		return ""
	}
	if !changed && step != 0 {
		return ""
	}
	l.mu.Lock()
	l.run.Checkpoints = append(l.run.Checkpoints, Checkpoint{Hash: cp.ID, Message: cp.Message, Step: step})
	l.mu.Unlock()
	s.publish(w.p.ID, Event{Kind: "run", Run: l.header()})
	return cp.ID
}

func (s *Service) finish(l *live, in map[string]any) string {
	summary, _ := in["summary"].(string)
	var features []string
	if list, ok := in["features"].([]any); ok {
		for _, f := range list {
			if f, ok := f.(string); ok && strings.TrimSpace(f) != "" {
				features = append(features, strings.TrimSpace(f))
			}
		}
	}
	l.mu.Lock()
	l.run.Summary = strings.TrimSpace(summary)
	if features != nil {
		l.run.Features = features
	}
	l.mu.Unlock()
	return "Done."
}

// askPerson ends the run to hand the next move to the person.
func (s *Service) askPerson(ctx context.Context, l *live, w *workspace, question string) {
	l.mu.Lock()
	l.run.NeedsInput = question
	l.mu.Unlock()
	s.end(ctx, l, w, errNeedsInput)
}

var errNeedsInput = errors.New("needs input")

// end records how the run ended and tells every tab.
func (s *Service) end(ctx context.Context, l *live, w *workspace, err error) {
	now := time.Now().UnixMilli()
	l.mu.Lock()
	l.run.FinishedAt = &now
	// No progress: nothing changed in the project and nothing was seen working.
	l.run.NoProgress = len(l.run.Checkpoints) <= 1 && !l.checked
	var re *RunError
	switch {
	case errors.Is(err, errNeedsInput):
		l.run.Status = StatusNeedsInput
	case s.ctx.Err() != nil:
		l.run.Status, l.run.Error = StatusFailed, &RunError{Code: "interrupted", Message: "The server stopped while the agent was working.", Retryable: true}
	case ctx.Err() != nil:
		l.run.Status = StatusStopped
	case errors.As(err, &re):
		l.run.Status, l.run.Error = StatusFailed, re
	case err != nil:
		l.run.Status, l.run.Error = StatusFailed, &RunError{Code: "agent_failed", Message: "The agent hit an error on our side; it has been logged. Retry."}
		s.log.Error("agent run failed", "run_id", l.run.ID, "err", err)
	default:
		l.run.Status = StatusDone
	}
	for i := range l.run.Steps {
		if l.run.Steps[i].Status == "running" {
			l.run.Steps[i].Status = "error"
			l.run.Steps[i].Output = "Stopped."
		}
	}
	l.mu.Unlock()
	s.save(l)
	s.settle(ctx, l)
	s.release(l)
	s.publish(w.p.ID, Event{Kind: "run", Run: l.header()})
}

func (s *Service) addStep(l *live, st Step) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	st.N = len(l.run.Steps) + 1
	l.run.Steps = append(l.run.Steps, st)
	return st.N
}

func (s *Service) appendText(l *live, n int, delta string) {
	l.mu.Lock()
	l.run.Steps[n-1].Text += delta
	id, projectID := l.run.ID, l.run.ProjectID
	l.mu.Unlock()
	s.publish(projectID, Event{Kind: "text", RunID: id, N: n, Delta: delta})
}

func (s *Service) publishStep(l *live, n int) {
	l.mu.Lock()
	st := l.run.Steps[n-1]
	id, projectID := l.run.ID, l.run.ProjectID
	l.mu.Unlock()
	s.publish(projectID, Event{Kind: "step", RunID: id, Step: &st})
}

func (s *Service) addTokens(ctx context.Context, l *live, in, out int64) {
	l.mu.Lock()
	l.run.TokensIn += in
	l.run.TokensOut += out
	userID := l.run.UserID
	l.mu.Unlock()
	if err := addUsage(context.WithoutCancel(ctx), s.db, userID, "agent", in, out); err != nil {
		s.log.Error("agent usage", "err", err)
	}
	s.publish(l.header().ProjectID, Event{Kind: "run", Run: l.header()})
}

func lastText(steps []Step) string {
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].Kind == "text" && strings.TrimSpace(steps[i].Text) != "" {
			return strings.TrimSpace(steps[i].Text)
		}
	}
	return ""
}
