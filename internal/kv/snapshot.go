package kv

import (
	"context"
	"fmt"

	"ecode/internal/store"
)

// Snapshot copies the scope's entries under snapshot id; it answers how
// many keys it took.
func (s *Store) Snapshot(ctx context.Context, sc Scope, id string) (keys int, err error) {
	n, err := s.db.Exec(ctx, `INSERT INTO kv_snapshot_entries (snapshot_id, project_id, key, value, size, updated_at)
		SELECT ?, project_id, key, value, size, updated_at FROM kv_entries WHERE project_id = ? AND env = ?`, id, sc.ProjectID, sc.Env)
	if err != nil {
		return 0, fmt.Errorf("kv snapshot: %w", err)
	}
	return int(n), nil
}

// RestoreSnapshot makes the scope's entries those of snapshot id, in one
// transaction: a failure leaves them as they were.
func (s *Store) RestoreSnapshot(ctx context.Context, sc Scope, id string) error {
	return s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `DELETE FROM kv_entries WHERE project_id = ? AND env = ?`, sc.ProjectID, sc.Env); err != nil {
			return fmt.Errorf("kv restore: clear: %w", err)
		}
		if _, err := q.Exec(ctx, `INSERT INTO kv_entries (project_id, env, key, value, size, updated_at)
			SELECT ?, ?, key, value, size, updated_at FROM kv_snapshot_entries WHERE snapshot_id = ? AND project_id = ?`,
			sc.ProjectID, sc.Env, id, sc.ProjectID); err != nil {
			return fmt.Errorf("kv restore: %w", err)
		}
		if _, err := q.Exec(ctx, `DELETE FROM kv_usage WHERE project_id = ? AND env = ?`, sc.ProjectID, sc.Env); err != nil {
			return fmt.Errorf("kv restore: usage: %w", err)
		}
		if _, err := q.Exec(ctx, `INSERT INTO kv_usage (project_id, env, keys, bytes)
			SELECT project_id, env, count(*), SUM(size) FROM kv_entries WHERE project_id = ? AND env = ? GROUP BY project_id, env`,
			sc.ProjectID, sc.Env); err != nil {
			return fmt.Errorf("kv restore: usage: %w", err)
		}
		return nil
	})
}

// DropSnapshot forgets snapshot id's entries.
func (s *Store) DropSnapshot(ctx context.Context, id string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM kv_snapshot_entries WHERE snapshot_id = ?`, id); err != nil {
		return fmt.Errorf("kv drop snapshot: %w", err)
	}
	return nil
}
