package auth

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"ecode/internal/store"
)

// sessionStore keeps scs sessions in the platform database, so sessions
// survive restarts and work the same on SQLite and PostgreSQL.
type sessionStore struct{ db *store.DB }

func (s sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var data []byte
	err := s.db.Get(ctx, &data, `SELECT data FROM sessions WHERE token = ? AND expiry > ?`, token, store.Now())
	if store.NoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	return data, true, nil
}

func (s sessionStore) CommitCtx(ctx context.Context, token string, data []byte, expiry time.Time) error {
	_, err := s.db.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES (?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		token, data, expiry.UnixMilli())
	if err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	return nil
}

func (s sessionStore) DeleteCtx(ctx context.Context, token string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE token = ?`, token); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// The context-free methods complete scs.Store; scs calls the Ctx ones.
func (s sessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s sessionStore) Commit(token string, data []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, data, expiry)
}

func (s sessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// sweep deletes expired sessions every interval until ctx ends.
func (s sessionStore) sweep(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE expiry <= ?`, store.Now()); err != nil && ctx.Err() == nil {
				slog.Warn("sweep sessions", "err", err)
			} else if n > 0 {
				slog.Debug("swept expired sessions", "count", n)
			}
		}
	}
}
