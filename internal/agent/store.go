package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"ecode/internal/errs"
	"ecode/internal/store"
)

const runCols = `id, project_id, user_id, prompt, status, summary, features, error, needs_input, steps, checkpoints,
	tokens_in, tokens_out, no_progress, model, created_at, finished_at`

// row is a run as stored: its lists as JSON text.
type row struct {
	Run
	FeaturesJSON    string `db:"features"`
	ErrorJSON       string `db:"error"`
	StepsJSON       string `db:"steps"`
	CheckpointsJSON string `db:"checkpoints"`
}

func toRow(r *Run) row {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	out := row{Run: *r, FeaturesJSON: enc(r.Features), StepsJSON: enc(r.Steps), CheckpointsJSON: enc(r.Checkpoints)}
	if r.Error != nil {
		out.ErrorJSON = enc(r.Error)
	}
	return out
}

func (w *row) run() *Run {
	r := w.Run
	_ = json.Unmarshal([]byte(w.FeaturesJSON), &r.Features)
	_ = json.Unmarshal([]byte(w.StepsJSON), &r.Steps)
	_ = json.Unmarshal([]byte(w.CheckpointsJSON), &r.Checkpoints)
	if w.ErrorJSON != "" {
		r.Error = &RunError{}
		_ = json.Unmarshal([]byte(w.ErrorJSON), r.Error)
	}
	return &r
}

func insertRun(ctx context.Context, db *store.DB, r *Run) error {
	w := toRow(r)
	_, err := db.Exec(ctx, `INSERT INTO agent_runs (`+runCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.ProjectID, w.UserID, w.Prompt, w.Status, w.Summary, w.FeaturesJSON, w.ErrorJSON, w.NeedsInput, w.StepsJSON,
		w.CheckpointsJSON, w.TokensIn, w.TokensOut, w.NoProgress, w.Model, w.CreatedAt, w.FinishedAt)
	if err != nil {
		return fmt.Errorf("insert agent run: %w", err)
	}
	return nil
}

func saveRun(ctx context.Context, db *store.DB, r *Run) error {
	w := toRow(r)
	_, err := db.Exec(ctx, `UPDATE agent_runs SET status = ?, summary = ?, features = ?, error = ?, needs_input = ?, steps = ?,
		checkpoints = ?, tokens_in = ?, tokens_out = ?, no_progress = ?, finished_at = ? WHERE id = ?`,
		w.Status, w.Summary, w.FeaturesJSON, w.ErrorJSON, w.NeedsInput, w.StepsJSON, w.CheckpointsJSON,
		w.TokensIn, w.TokensOut, w.NoProgress, w.FinishedAt, w.ID)
	if err != nil {
		return fmt.Errorf("save agent run: %w", err)
	}
	return nil
}

func getRun(ctx context.Context, db *store.DB, projectID, id string) (*Run, error) {
	var w row
	err := db.Get(ctx, &w, `SELECT `+runCols+` FROM agent_runs WHERE id = ? AND project_id = ?`, id, projectID)
	if store.NoRows(err) {
		return nil, errs.NotFound("not_found", "No such agent run in this project.")
	}
	if err != nil {
		return nil, fmt.Errorf("get agent run: %w", err)
	}
	return w.run(), nil
}

func listRuns(ctx context.Context, db *store.DB, projectID string, limit int) ([]*Run, error) {
	var rows []row
	err := db.Select(ctx, &rows, `SELECT `+runCols+` FROM agent_runs WHERE project_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, projectID, limit)
	if err != nil {
		return nil, fmt.Errorf("list agent runs: %w", err)
	}
	out := make([]*Run, len(rows))
	for i := range rows {
		out[i] = rows[i].run()
	}
	return out, nil
}

// failInterrupted marks runs a previous server left running: their loop is gone.
func failInterrupted(ctx context.Context, db *store.DB, projectID string) error {
	e, _ := json.Marshal(RunError{Code: "interrupted", Message: "The server restarted while the agent was working.", Retryable: true})
	_, err := db.Exec(ctx, `UPDATE agent_runs SET status = ?, error = ?, finished_at = ? WHERE status = ? AND (? = '' OR project_id = ?)`,
		StatusFailed, string(e), time.Now().UnixMilli(), StatusRunning, projectID, projectID)
	if err != nil {
		return fmt.Errorf("fail interrupted agent runs: %w", err)
	}
	return nil
}

// Usage is the tokens one person used on one day for one kind of request.
type Usage struct {
	Day       string `json:"day" db:"day"`
	Kind      string `json:"kind" db:"kind"`
	Requests  int64  `json:"requests" db:"requests"`
	TokensIn  int64  `json:"tokensIn" db:"tokens_in"`
	TokensOut int64  `json:"tokensOut" db:"tokens_out"`
}

func addUsage(ctx context.Context, db *store.DB, userID, kind string, in, out int64) error {
	day := time.Now().UTC().Format(time.DateOnly)
	_, err := db.Exec(ctx, `INSERT INTO ai_usage (user_id, day, kind, requests, tokens_in, tokens_out) VALUES (?, ?, ?, 1, ?, ?)
		ON CONFLICT (user_id, day, kind) DO UPDATE SET requests = ai_usage.requests + 1,
		tokens_in = ai_usage.tokens_in + excluded.tokens_in, tokens_out = ai_usage.tokens_out + excluded.tokens_out`,
		userID, day, kind, in, out)
	if err != nil {
		return fmt.Errorf("record ai usage: %w", err)
	}
	return nil
}

func usageOf(ctx context.Context, db *store.DB, userID string) ([]Usage, error) {
	out := []Usage{}
	err := db.Select(ctx, &out, `SELECT day, kind, requests, tokens_in, tokens_out FROM ai_usage WHERE user_id = ? ORDER BY day DESC, kind LIMIT 366`, userID)
	if err != nil {
		return nil, fmt.Errorf("read ai usage: %w", err)
	}
	return out, nil
}
