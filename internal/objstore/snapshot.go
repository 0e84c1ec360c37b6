package objstore

import (
	"context"
	"fmt"

	"ecode/internal/store"
)

// Snapshot records the scope's buckets and objects as snapshotID: rows
// only, the blobs are shared.
func (s *Store) Snapshot(ctx context.Context, sc Scope, snapshotID string) error {
	s.refs.RLock()
	defer s.refs.RUnlock()
	return s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO storage_snapshot_buckets (snapshot_id, name, created_at)
			SELECT ?, name, created_at FROM storage_buckets WHERE project_id = ? AND env = ?`, snapshotID, sc.ProjectID, sc.Env); err != nil {
			return fmt.Errorf("snapshot buckets: %w", err)
		}
		if _, err := q.Exec(ctx, `INSERT INTO storage_snapshot_objects (snapshot_id, `+objectCols+`)
			SELECT ?, `+objectCols+` FROM storage_objects WHERE project_id = ? AND env = ?`, snapshotID, sc.ProjectID, sc.Env); err != nil {
			return fmt.Errorf("snapshot objects: %w", err)
		}
		return nil
	})
}

// RestoreSnapshot makes the scope's buckets and objects those snapshotID
// recorded, releasing the blobs only the replaced objects named.
func (s *Store) RestoreSnapshot(ctx context.Context, sc Scope, snapshotID string) error {
	var old []string
	err := func() error {
		s.refs.RLock()
		defer s.refs.RUnlock()
		return s.db.Tx(ctx, func(q store.Q) error {
			if err := q.Select(ctx, &old, `SELECT blob FROM storage_objects WHERE project_id = ? AND env = ?`, sc.ProjectID, sc.Env); err != nil {
				return fmt.Errorf("find objects: %w", err)
			}
			for _, stmt := range []string{
				`DELETE FROM storage_objects WHERE project_id = ? AND env = ?`,
				`DELETE FROM storage_buckets WHERE project_id = ? AND env = ?`,
			} {
				if _, err := q.Exec(ctx, stmt, sc.ProjectID, sc.Env); err != nil {
					return fmt.Errorf("clear storage: %w", err)
				}
			}
			if _, err := q.Exec(ctx, `INSERT INTO storage_buckets (project_id, env, name, created_at)
				SELECT ?, ?, name, created_at FROM storage_snapshot_buckets WHERE snapshot_id = ?`, sc.ProjectID, sc.Env, snapshotID); err != nil {
				return fmt.Errorf("restore buckets: %w", err)
			}
			if _, err := q.Exec(ctx, `INSERT INTO storage_objects (project_id, env, `+objectCols+`)
				SELECT ?, ?, `+objectCols+` FROM storage_snapshot_objects WHERE snapshot_id = ?`, sc.ProjectID, sc.Env, snapshotID); err != nil {
				return fmt.Errorf("restore objects: %w", err)
			}
			return nil
		})
	}()
	if err != nil {
		return err
	}
	s.release(ctx, old)
	return nil
}

// DropSnapshot forgets snapshotID and deletes the blobs nothing else names.
func (s *Store) DropSnapshot(ctx context.Context, snapshotID string) error {
	return s.removeRows(ctx, `SELECT blob FROM storage_snapshot_objects WHERE snapshot_id = ?`, []string{
		`DELETE FROM storage_snapshot_objects WHERE snapshot_id = ?`,
		`DELETE FROM storage_snapshot_buckets WHERE snapshot_id = ?`,
	}, snapshotID)
}

// DropProject deletes every object and bucket of a deleted project, both
// environments, and the blobs no snapshot still names.
func (s *Store) DropProject(ctx context.Context, projectID string) error {
	return s.removeRows(ctx, `SELECT blob FROM storage_objects WHERE project_id = ?`, []string{
		`DELETE FROM storage_objects WHERE project_id = ?`,
		`DELETE FROM storage_buckets WHERE project_id = ?`,
	}, projectID)
}

// removeRows runs find (the blobs of the rows about to go) and then each
// statement of drop, in one transaction with the same args, and releases
// the blobs found once it has committed.
func (s *Store) removeRows(ctx context.Context, find string, drop []string, args ...any) error {
	var old []string
	err := s.db.Tx(ctx, func(q store.Q) error {
		if err := q.Select(ctx, &old, find, args...); err != nil {
			return fmt.Errorf("find blobs: %w", err)
		}
		for _, stmt := range drop {
			if _, err := q.Exec(ctx, stmt, args...); err != nil {
				return fmt.Errorf("remove rows: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.release(ctx, old)
	return nil
}
