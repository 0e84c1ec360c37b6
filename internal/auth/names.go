package auth

import (
	"context"
	"fmt"
	"strings"
)

// Usernames maps each of ids that names an account, a person's or a
// team's, to its username; ids of accounts that are gone are left out.
func (s *Service) Usernames(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct{ ID, Username string }
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := `SELECT id, username FROM users WHERE id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
	if err := s.db.Select(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("usernames: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Username
	}
	return out, nil
}
