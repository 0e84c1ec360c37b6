package domain

import (
	"context"
	"fmt"

	"ecode/internal/store"
)

// row is one domains row.
type row struct {
	ID         string  `db:"id"`
	ProjectID  string  `db:"project_id"`
	Name       string  `db:"name"`
	Token      string  `db:"token"`
	VerifiedAt *int64  `db:"verified_at"`
	CreatedBy  *string `db:"created_by"`
	CreatedAt  int64   `db:"created_at"`
}

const cols = `id, project_id, name, token, verified_at, created_by, created_at`

func listDomains(ctx context.Context, q store.Q, projectID string) ([]row, error) {
	out := []row{}
	if err := q.Select(ctx, &out, `SELECT `+cols+` FROM domains WHERE project_id = ? ORDER BY created_at, id`, projectID); err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return out, nil
}

func getDomain(ctx context.Context, q store.Q, projectID, id string) (*row, error) {
	var r row
	if err := q.Get(ctx, &r, `SELECT `+cols+` FROM domains WHERE project_id = ? AND id = ?`, projectID, id); err != nil {
		return nil, err
	}
	return &r, nil
}

func domainByName(ctx context.Context, q store.Q, name string) (*row, error) {
	var r row
	if err := q.Get(ctx, &r, `SELECT `+cols+` FROM domains WHERE name = ?`, name); err != nil {
		return nil, err
	}
	return &r, nil
}

func insertDomain(ctx context.Context, q store.Q, r *row) error {
	_, err := q.Exec(ctx, `INSERT INTO domains (`+cols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.ProjectID, r.Name, r.Token, r.VerifiedAt, r.CreatedBy, r.CreatedAt)
	return err
}

func setVerified(ctx context.Context, q store.Q, id string, at int64) error {
	if _, err := q.Exec(ctx, `UPDATE domains SET verified_at = ? WHERE id = ?`, at, id); err != nil {
		return fmt.Errorf("mark domain verified: %w", err)
	}
	return nil
}

func deleteDomain(ctx context.Context, q store.Q, id string) error {
	if _, err := q.Exec(ctx, `DELETE FROM domains WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete domain: %w", err)
	}
	return nil
}

func deleteProjectDomains(ctx context.Context, q store.Q, projectID string) ([]string, error) {
	var names []string
	if err := q.Select(ctx, &names, `SELECT name FROM domains WHERE project_id = ?`, projectID); err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	if _, err := q.Exec(ctx, `DELETE FROM domains WHERE project_id = ?`, projectID); err != nil {
		return nil, fmt.Errorf("delete domains: %w", err)
	}
	return names, nil
}
