package snapshot

import (
	"context"
	"database/sql"
	"fmt"

	"ecode/internal/store"
)

const columns = `id, project_id, env, commit_hash, COALESCE(db_backup, '') AS db_backup, db_backup IS NOT NULL AS database,
	kv_keys, object_count, object_bytes, created_at, created_by, reason`

func insertSnapshot(ctx context.Context, q store.Q, s Snapshot) error {
	_, err := q.Exec(ctx, `INSERT INTO data_snapshots (id, project_id, env, commit_hash, db_backup, kv_keys, object_count, object_bytes, created_at, created_by, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.ProjectID, s.Env, s.Commit, sql.NullString{String: s.DBBackup, Valid: s.DBBackup != ""},
		s.KVKeys, s.ObjectCount, s.ObjectBytes, s.CreatedAt, s.CreatedBy, s.Reason)
	if err != nil {
		return fmt.Errorf("record data snapshot: %w", err)
	}
	return nil
}

func setCommit(ctx context.Context, q store.Q, id, commit string) error {
	if _, err := q.Exec(ctx, `UPDATE data_snapshots SET commit_hash = ? WHERE id = ?`, commit, id); err != nil {
		return fmt.Errorf("attach data snapshot: %w", err)
	}
	return nil
}

// listSnapshots answers the snapshots of a project environment, newest first.
func listSnapshots(ctx context.Context, q store.Q, projectID, env string) ([]Snapshot, error) {
	var list []Snapshot
	err := q.Select(ctx, &list, `SELECT `+columns+` FROM data_snapshots WHERE project_id = ? AND env = ? ORDER BY created_at DESC, id DESC`, projectID, env)
	if err != nil {
		return nil, fmt.Errorf("list data snapshots: %w", err)
	}
	return list, nil
}

// projectSnapshots answers every snapshot of a project.
func projectSnapshots(ctx context.Context, q store.Q, projectID string) ([]Snapshot, error) {
	var list []Snapshot
	if err := q.Select(ctx, &list, `SELECT `+columns+` FROM data_snapshots WHERE project_id = ?`, projectID); err != nil {
		return nil, fmt.Errorf("list data snapshots: %w", err)
	}
	return list, nil
}

// snapshotOf answers the newest snapshot attached to commit.
func snapshotOf(ctx context.Context, q store.Q, projectID, env, commit string) (Snapshot, error) {
	var s Snapshot
	err := q.Get(ctx, &s, `SELECT `+columns+` FROM data_snapshots WHERE project_id = ? AND env = ? AND commit_hash = ?
		ORDER BY created_at DESC, id DESC LIMIT 1`, projectID, env, commit)
	return s, err
}

// snapshotByID answers a project's snapshot id.
func snapshotByID(ctx context.Context, q store.Q, projectID, id string) (Snapshot, error) {
	var s Snapshot
	err := q.Get(ctx, &s, `SELECT `+columns+` FROM data_snapshots WHERE project_id = ? AND id = ?`, projectID, id)
	return s, err
}

func deleteSnapshot(ctx context.Context, q store.Q, id string) error {
	if _, err := q.Exec(ctx, `DELETE FROM data_snapshots WHERE id = ?`, id); err != nil {
		return fmt.Errorf("forget data snapshot: %w", err)
	}
	return nil
}
