package passkey

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/go-webauthn/webauthn/webauthn"

	"ecode/internal/errs"
	"ecode/internal/store"
)

const recordCols = `id, user_id, name, credential, sign_count, created_at, last_used_at`

func (r *record) decode() error {
	if err := json.Unmarshal([]byte(r.Credential), &r.cred); err != nil {
		return fmt.Errorf("decode credential %s: %w", r.ID, err)
	}
	return nil
}

func encode(c *webauthn.Credential) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode credential: %w", err)
	}
	return string(b), nil
}

// records lists a user's credentials, oldest first.
func (s *Service) records(ctx context.Context, userID string) ([]record, error) {
	var out []record
	if err := s.db.Select(ctx, &out, `SELECT `+recordCols+` FROM webauthn_credentials WHERE user_id = ? ORDER BY created_at, id`, userID); err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	for i := range out {
		if err := out[i].decode(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// recordByID finds a credential by its id, whoever owns it.
func (s *Service) recordByID(ctx context.Context, id string) (*record, error) {
	var r record
	err := s.db.Get(ctx, &r, `SELECT `+recordCols+` FROM webauthn_credentials WHERE id = ?`, id)
	if store.NoRows(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find passkey: %w", err)
	}
	return &r, r.decode()
}

func (s *Service) insert(ctx context.Context, r *record) error {
	raw, err := encode(&r.cred)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `INSERT INTO webauthn_credentials (id, user_id, name, credential, sign_count, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, r.ID, r.UserID, r.Name, raw, r.SignCount, r.CreatedAt)
	if store.IsUnique(err) {
		return errs.Conflict("passkey_exists", "This security key is registered already.")
	}
	if err != nil {
		return fmt.Errorf("insert passkey: %w", err)
	}
	return nil
}

func (s *Service) rename(ctx context.Context, userID, id, name string) error {
	n, err := s.db.Exec(ctx, `UPDATE webauthn_credentials SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
	if err != nil {
		return fmt.Errorf("rename passkey: %w", err)
	}
	if n == 0 {
		return errNotFound
	}
	return nil
}

func (s *Service) remove(ctx context.Context, userID, id string) error {
	n, err := s.db.Exec(ctx, `DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return fmt.Errorf("delete passkey: %w", err)
	}
	if n == 0 {
		return errNotFound
	}
	return nil
}

// advance stores the credential after a login, but only while the stored
// counter is still below count (or both are zero: an authenticator that
// keeps no counter), so two logins racing with one counter value cannot
// both pass. It reports whether the row moved.
func (s *Service) advance(ctx context.Context, r *record, c *webauthn.Credential, count uint32, now int64) (bool, error) {
	raw, err := encode(c)
	if err != nil {
		return false, err
	}
	q, args := `UPDATE webauthn_credentials SET credential = ?, sign_count = ?, last_used_at = ?
		WHERE id = ? AND user_id = ? AND sign_count < ?`, []any{raw, int64(count), now, r.ID, r.UserID, int64(count)}
	if count == 0 {
		q, args = strings.Replace(q, "sign_count < ?", "sign_count = 0", 1), args[:5]
	}
	n, err := s.db.Exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("record passkey use: %w", err)
	}
	return n == 1, nil
}

// markCloned keeps the clone warning on the stored credential, its counter unchanged.
func (s *Service) markCloned(ctx context.Context, r *record) error {
	c := r.cred
	c.Authenticator.CloneWarning = true
	raw, err := encode(&c)
	if err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `UPDATE webauthn_credentials SET credential = ? WHERE id = ?`, raw, r.ID); err != nil {
		return fmt.Errorf("mark passkey cloned: %w", err)
	}
	return nil
}
