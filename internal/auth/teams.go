package auth

import (
	"context"
	"fmt"

	"ecode/internal/store"
)

// NewTeamAccount makes the account a team owns projects through: a name in
// the same namespace as usernames, with no way to log in. It returns the
// account's id. It runs through q, so that the team's creation is one
// unit of work.
func (s *Service) NewTeamAccount(ctx context.Context, q store.Q, name string) (string, error) {
	name, err := NormalizeUsername(name)
	if err != nil {
		return "", err
	}
	id, now := store.NewID(), store.Now()
	// The email column is unique and required; a team's can never be mailed
	// or typed at a login form (the .invalid TLD is reserved).
	_, err = q.Exec(ctx, `INSERT INTO users (id, username, email, password_hash, created_at, updated_at, kind)
		VALUES (?, ?, ?, '', ?, ?, 'team')`, id, name, id+"@teams.invalid", now, now)
	if store.IsUnique(err) {
		return "", errNameTaken(name)
	}
	if err != nil {
		return "", fmt.Errorf("create team account: %w", err)
	}
	return id, nil
}

// DeleteTeamAccount removes a team's account and, through the database,
// everything hanging off it; its projects' files are the caller's to
// remove first.
func (s *Service) DeleteTeamAccount(ctx context.Context, id string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM users WHERE id = ? AND kind = 'team'`, id); err != nil {
		return fmt.Errorf("delete team account: %w", err)
	}
	return nil
}
