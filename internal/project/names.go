package project

import (
	"context"
	"fmt"
	"strings"
)

// Names maps each of ids that is a project to its name; ids of projects
// that are gone are left out. For the audit log, which any administrator
// reads: no access is asked.
func (s *Service) Names(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct{ ID, Name string }
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := `SELECT id, name FROM projects WHERE id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
	if err := s.db.Select(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("project names: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}
