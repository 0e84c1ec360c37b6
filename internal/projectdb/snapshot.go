package projectdb

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// kindSnapshot backs up a database for a checkpoint's data snapshot
// (internal/snapshot), which decides how long it is kept.
const kindSnapshot = "snapshot"

// SnapshotDatabase backs up the database of env for a data snapshot taken
// by by (a person's id, or "" for the platform) and answers the backup's
// id, or "" when the project has no such database.
func (s *Service) SnapshotDatabase(ctx context.Context, projectID, env, by string) (string, error) {
	if _, err := getRow(ctx, s.db, projectID, env); errors.Is(err, errNoDatabase) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	t, err := s.open(ctx, projectID, env)
	if err != nil {
		return "", err
	}
	unlock, err := s.lock(t)
	if err != nil {
		return "", err
	}
	defer unlock()
	b, err := s.backUp(ctx, t, kindSnapshot, by)
	if err != nil {
		return "", err
	}
	return b.ID, nil
}

// RestoreDatabase replaces the database of env with backup id's contents.
// Should that fail and undo name a backup (taken just before by the
// caller), the database is loaded from undo again, as it was.
func (s *Service) RestoreDatabase(ctx context.Context, projectID, env, id, undo string) error {
	t, err := s.open(ctx, projectID, env)
	if err != nil {
		return err
	}
	b, err := s.usableBackup(ctx, projectID, env, id)
	if err != nil {
		return err
	}
	f, err := os.Open(s.dumpPath(projectID, b.ID))
	if err != nil {
		return fmt.Errorf("open backup: %w", err)
	}
	defer f.Close()
	unlock, err := s.lock(t)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.restore(ctx, t, f, true); err != nil {
		if undo == "" {
			return err
		}
		return s.putBack(ctx, t, Backup{ID: undo}, err)
	}
	s.remeasure(ctx, t)
	return nil
}

// DropDatabaseSnapshot forgets a backup taken by SnapshotDatabase.
func (s *Service) DropDatabaseSnapshot(ctx context.Context, projectID, id string) error {
	return s.forget(ctx, projectID, id)
}
