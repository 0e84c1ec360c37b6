package auth

import (
	"context"
	"fmt"

	"ecode/internal/errs"
	"ecode/internal/store"
)

const userCols = `id, username, email, created_at, password_hash <> '' AS has_password, require_key, disabled_at, is_admin`

func insertUser(ctx context.Context, db *store.DB, u *User, hash string) error {
	// The first account administers the platform.
	_, err := db.Exec(ctx, `INSERT INTO users (id, username, email, password_hash, created_at, updated_at, is_admin)
		SELECT ?, ?, ?, ?, ?, ?, NOT EXISTS (SELECT 1 FROM users)`, u.ID, u.Username, u.Email, hash, u.CreatedAt, u.CreatedAt)
	if store.IsUnique(err) {
		return uniqueUserError(ctx, db, u)
	}
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// uniqueUserError says which of username and email is taken.
func uniqueUserError(ctx context.Context, db *store.DB, u *User) error {
	var n int
	if err := db.Get(ctx, &n, `SELECT COUNT(*) FROM users WHERE username = ?`, u.Username); err == nil && n > 0 {
		return errNameTaken(u.Username)
	}
	return errs.Conflict("email_taken", "An account with this email already exists; log in instead.")
}

// errNameTaken is for a name a person or a team already has.
func errNameTaken(name string) error {
	return errs.Conflict("username_taken", "The name %q is taken; choose another.", name)
}

func userByID(ctx context.Context, db *store.DB, id string) (*User, error) {
	var u User
	err := db.Get(ctx, &u, `SELECT `+userCols+` FROM users WHERE id = ? AND kind = 'user'`, id)
	return found(&u, err, "user")
}

func userByUsername(ctx context.Context, db *store.DB, username string) (*User, error) {
	var u User
	err := db.Get(ctx, &u, `SELECT `+userCols+` FROM users WHERE username = ? AND kind = 'user'`, username)
	return found(&u, err, "user")
}

// credentials finds the account for a login (username or email) and its hash.
func credentials(ctx context.Context, db *store.DB, login string) (*User, string, error) {
	var row struct {
		User
		Hash string `db:"password_hash"`
	}
	err := db.Get(ctx, &row, `SELECT `+userCols+`, password_hash FROM users WHERE (username = ? OR email = ?) AND kind = 'user'`, login, login)
	if store.NoRows(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("find credentials: %w", err)
	}
	return &row.User, row.Hash, nil
}

func found[T any](v *T, err error, what string) (*T, error) {
	if store.NoRows(err) {
		return nil, errs.NotFound("not_found", "No such %s.", what)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", what, err)
	}
	return v, nil
}

// Token is a personal API token as listed; its secret is never stored.
type Token struct {
	ID         string `json:"id" db:"id"`
	Name       string `json:"name" db:"name"`
	CreatedAt  int64  `json:"createdAt" db:"created_at"`
	LastUsedAt *int64 `json:"lastUsedAt" db:"last_used_at"`
	ExpiresAt  *int64 `json:"expiresAt" db:"expires_at"`
}

const tokenCols = `id, name, created_at, last_used_at, expires_at`

func insertToken(ctx context.Context, db *store.DB, userID, hash string, t *Token) error {
	_, err := db.Exec(ctx, `INSERT INTO api_tokens (id, user_id, name, hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, t.ID, userID, t.Name, hash, t.CreatedAt, t.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	return nil
}

func listTokens(ctx context.Context, db *store.DB, userID string) ([]Token, error) {
	out := []Token{}
	if err := db.Select(ctx, &out, `SELECT `+tokenCols+` FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC`, userID); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

func deleteToken(ctx context.Context, db *store.DB, userID, id string) error {
	n, err := db.Exec(ctx, `DELETE FROM api_tokens WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	if n == 0 {
		return errs.NotFound("not_found", "No such token.")
	}
	return nil
}

type tokenOwner struct {
	Token
	UserID string `db:"user_id"`
}

func tokenByHash(ctx context.Context, db *store.DB, hash string) (*tokenOwner, error) {
	var t tokenOwner
	err := db.Get(ctx, &t, `SELECT `+tokenCols+`, user_id FROM api_tokens WHERE hash = ?`, hash)
	return found(&t, err, "token")
}

func touchToken(ctx context.Context, db *store.DB, id string, now int64) error {
	_, err := db.Exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, id)
	return err
}
