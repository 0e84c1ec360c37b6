package deploy

import (
	"context"
	"fmt"

	"ecode/internal/store"
)

// Release statuses.
const (
	Queued   = "queued"
	Building = "building"
	Ready    = "ready"
	Failed   = "failed"
)

// releaseRow is a row of releases, with its author's name.
type releaseRow struct {
	ID         string `db:"id"`
	ProjectID  string `db:"project_id"`
	Number     int    `db:"number"`
	Commit     string `db:"commit_id"`
	Target     string `db:"target"`
	Status     string `db:"status"`
	Error      string `db:"error"`
	CreatedBy  string `db:"created_by"`
	Username   string `db:"username"`
	CreatedAt  int64  `db:"created_at"`
	StartedAt  *int64 `db:"started_at"`
	FinishedAt *int64 `db:"finished_at"`
}

type deploymentRow struct {
	ProjectID string  `db:"project_id"`
	Live      *string `db:"live_release_id"`
	Previous  *string `db:"previous_release_id"`
	Target    string  `db:"target"`
}

const releaseCols = `r.id, r.project_id, r.number, r.commit_id, r.target, r.status, r.error,
	COALESCE(r.created_by, '') AS created_by, COALESCE(u.username, '') AS username,
	r.created_at, r.started_at, r.finished_at`

func listReleases(ctx context.Context, q store.Q, projectID string) ([]releaseRow, error) {
	var rows []releaseRow
	err := q.Select(ctx, &rows, `SELECT `+releaseCols+` FROM releases r LEFT JOIN users u ON u.id = r.created_by
		WHERE r.project_id = ? ORDER BY r.number DESC`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	return rows, nil
}

func getRelease(ctx context.Context, q store.Q, projectID, id string) (*releaseRow, error) {
	var r releaseRow
	err := q.Get(ctx, &r, `SELECT `+releaseCols+` FROM releases r LEFT JOIN users u ON u.id = r.created_by
		WHERE r.project_id = ? AND r.id = ?`, projectID, id)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// insertRelease adds a queued release numbered after the project's last.
func insertRelease(ctx context.Context, q store.Q, r *releaseRow) error {
	var last int
	if err := q.Get(ctx, &last, `SELECT COALESCE(MAX(number), 0) FROM releases WHERE project_id = ?`, r.ProjectID); err != nil {
		return fmt.Errorf("number release: %w", err)
	}
	r.Number = last + 1
	_, err := q.Exec(ctx, `INSERT INTO releases (id, project_id, number, target, status, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.ID, r.ProjectID, r.Number, r.Target, r.Status, r.CreatedBy, r.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert release: %w", err)
	}
	return nil
}

func startRelease(ctx context.Context, q store.Q, id, commit string, at int64) error {
	_, err := q.Exec(ctx, `UPDATE releases SET status = ?, commit_id = ?, started_at = ? WHERE id = ?`, Building, commit, at, id)
	return err
}

func finishRelease(ctx context.Context, q store.Q, id, status, msg, log string, at int64) error {
	_, err := q.Exec(ctx, `UPDATE releases SET status = ?, error = ?, log = ?, finished_at = ? WHERE id = ?`, status, msg, log, at, id)
	return err
}

func releaseLog(ctx context.Context, q store.Q, id string) (string, error) {
	var log string
	err := q.Get(ctx, &log, `SELECT log FROM releases WHERE id = ?`, id)
	return log, err
}

func getDeployment(ctx context.Context, q store.Q, projectID string) (*deploymentRow, error) {
	var d deploymentRow
	err := q.Get(ctx, &d, `SELECT project_id, live_release_id, previous_release_id, target FROM deployments WHERE project_id = ?`, projectID)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// setLive makes release id the project's live one, the one live before it
// becoming the previous: the one switch of traffic, a single row.
func setLive(ctx context.Context, q store.Q, projectID, id, target string, at int64) error {
	n, err := q.Exec(ctx, `UPDATE deployments SET previous_release_id = CASE WHEN live_release_id = ? THEN previous_release_id ELSE live_release_id END,
		live_release_id = ?, target = ?, updated_at = ? WHERE project_id = ?`, id, id, target, at, projectID)
	if err != nil {
		return fmt.Errorf("switch live release: %w", err)
	}
	if n == 0 {
		_, err = q.Exec(ctx, `INSERT INTO deployments (project_id, live_release_id, target, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			projectID, id, target, at, at)
	}
	return err
}

// interrupt fails every release a stopped server left queued or building.
func interrupt(ctx context.Context, q store.Q, projectID, msg string, at int64) (int64, error) {
	return q.Exec(ctx, `UPDATE releases SET status = ?, error = ?, finished_at = ? WHERE status IN (?, ?) AND (? = '' OR project_id = ?)`,
		Failed, msg, at, Queued, Building, projectID, projectID)
}

func deleteRelease(ctx context.Context, q store.Q, id string) error {
	_, err := q.Exec(ctx, `DELETE FROM releases WHERE id = ?`, id)
	return err
}
