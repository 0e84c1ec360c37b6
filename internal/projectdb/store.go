package projectdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"ecode/internal/store"
)

var (
	errNoDatabase = errors.New("no such database")
	errDuplicate  = errors.New("database already recorded")
)

const rowColumns = `project_id, env, name, password, created_by, created_at, size_bytes, size_at, read_only`

func listRows(ctx context.Context, q store.Q, projectID string) ([]row, error) {
	var rows []row
	if err := q.Select(ctx, &rows, `SELECT `+rowColumns+` FROM project_databases WHERE project_id = ? ORDER BY env`, projectID); err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	return rows, nil
}

func getRow(ctx context.Context, q store.Q, projectID, env string) (row, error) {
	var r row
	err := q.Get(ctx, &r, `SELECT `+rowColumns+` FROM project_databases WHERE project_id = ? AND env = ?`, projectID, env)
	if store.NoRows(err) {
		return row{}, errNoDatabase
	}
	if err != nil {
		return row{}, fmt.Errorf("read database: %w", err)
	}
	return r, nil
}

func insertRow(ctx context.Context, q store.Q, r row) error {
	_, err := q.Exec(ctx, `INSERT INTO project_databases (project_id, env, name, password, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, r.ProjectID, r.Env, r.Name, r.Password, r.CreatedBy, r.CreatedAt)
	if store.IsUnique(err) {
		return errDuplicate
	}
	if err != nil {
		return fmt.Errorf("record database: %w", err)
	}
	return nil
}

func deleteRow(ctx context.Context, q store.Q, projectID, env string) error {
	if _, err := q.Exec(ctx, `DELETE FROM project_databases WHERE project_id = ? AND env = ?`, projectID, env); err != nil {
		return fmt.Errorf("forget database: %w", err)
	}
	return nil
}

func setPassword(ctx context.Context, q store.Q, projectID, env, sealed string) error {
	if _, err := q.Exec(ctx, `UPDATE project_databases SET password = ? WHERE project_id = ? AND env = ?`, sealed, projectID, env); err != nil {
		return fmt.Errorf("record password: %w", err)
	}
	return nil
}

// removeBackups forgets the dumps of a project's environment and removes
// their files.
func (s *Service) removeBackups(ctx context.Context, projectID, env string) {
	var ids []string
	if err := s.db.Select(ctx, &ids, `SELECT id FROM database_backups WHERE project_id = ? AND env = ?`, projectID, env); err != nil {
		s.log.Error("list backups to remove", "project", projectID, "err", err)
		return
	}
	for _, id := range ids {
		if err := os.Remove(filepath.Join(s.backupDir(projectID), id+".dump")); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Error("remove a backup", "project", projectID, "backup", id, "err", err)
		}
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM database_backups WHERE project_id = ? AND env = ?`, projectID, env); err != nil {
		s.log.Error("forget backups", "project", projectID, "err", err)
	}
}

func allRows(ctx context.Context, q store.Q) ([]row, error) {
	var rows []row
	if err := q.Select(ctx, &rows, `SELECT `+rowColumns+` FROM project_databases ORDER BY project_id, env`); err != nil {
		return nil, fmt.Errorf("list all databases: %w", err)
	}
	return rows, nil
}

func recordSize(ctx context.Context, q store.Q, projectID, env string, size, at int64, readOnly bool) error {
	ro := 0
	if readOnly {
		ro = 1
	}
	if _, err := q.Exec(ctx, `UPDATE project_databases SET size_bytes = ?, size_at = ?, read_only = ? WHERE project_id = ? AND env = ?`,
		size, at, ro, projectID, env); err != nil {
		return fmt.Errorf("record database size: %w", err)
	}
	return nil
}

func insertBackup(ctx context.Context, q store.Q, b Backup) error {
	if _, err := q.Exec(ctx, `INSERT INTO database_backups (id, project_id, env, kind, status, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, b.ID, b.ProjectID, b.Env, b.Kind, b.Status, b.CreatedBy, b.CreatedAt); err != nil {
		return fmt.Errorf("record backup: %w", err)
	}
	return nil
}

func finishBackup(ctx context.Context, q store.Q, b Backup) error {
	if _, err := q.Exec(ctx, `UPDATE database_backups SET status = ?, error = ?, size_bytes = ?, took_ms = ? WHERE id = ?`,
		b.Status, b.Error, b.SizeBytes, b.TookMs, b.ID); err != nil {
		return fmt.Errorf("record backup's end: %w", err)
	}
	return nil
}

func listBackups(ctx context.Context, q store.Q, projectID, env string) ([]Backup, error) {
	var out []Backup
	if err := q.Select(ctx, &out, `SELECT `+backupColumns+` FROM database_backups WHERE project_id = ? AND env = ?
		ORDER BY created_at DESC, id DESC`, projectID, env); err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	return out, nil
}

// getBackup answers an error that store.NoRows recognises when there is no
// such backup of the project's environment.
func getBackup(ctx context.Context, q store.Q, projectID, env, id string) (Backup, error) {
	var b Backup
	if err := q.Get(ctx, &b, `SELECT `+backupColumns+` FROM database_backups WHERE id = ? AND project_id = ? AND env = ?`, id, projectID, env); err != nil {
		return Backup{}, fmt.Errorf("read backup: %w", err)
	}
	return b, nil
}

func deleteBackup(ctx context.Context, q store.Q, id string) error {
	if _, err := q.Exec(ctx, `DELETE FROM database_backups WHERE id = ?`, id); err != nil {
		return fmt.Errorf("forget backup: %w", err)
	}
	return nil
}

// backupIDs answers the ids of a database's backups of kind and status,
// newest first.
func backupIDs(ctx context.Context, q store.Q, projectID, env, kind, status string) ([]string, error) {
	var ids []string
	if err := q.Select(ctx, &ids, `SELECT id FROM database_backups WHERE project_id = ? AND env = ? AND kind = ? AND status = ?
		ORDER BY created_at DESC, id DESC`, projectID, env, kind, status); err != nil {
		return nil, fmt.Errorf("list %s backups: %w", kind, err)
	}
	return ids, nil
}

// lastDaily answers when the newest complete daily backup of a database was
// made, 0 when there is none.
func lastDaily(ctx context.Context, q store.Q, projectID, env string) (int64, error) {
	var at int64
	if err := q.Get(ctx, &at, `SELECT COALESCE(MAX(created_at), 0) FROM database_backups WHERE project_id = ? AND env = ? AND kind = ? AND status = ?`,
		projectID, env, kindDaily, statusDone); err != nil {
		return 0, fmt.Errorf("newest daily backup: %w", err)
	}
	return at, nil
}

// runningBackups answers the backups still marked running that were begun
// before at.
func runningBackups(ctx context.Context, q store.Q, before int64) ([]Backup, error) {
	var out []Backup
	if err := q.Select(ctx, &out, `SELECT `+backupColumns+` FROM database_backups WHERE status = ? AND created_at < ?`,
		statusRunning, before); err != nil {
		return nil, fmt.Errorf("list running backups: %w", err)
	}
	return out, nil
}
