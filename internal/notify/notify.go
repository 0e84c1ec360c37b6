// Package notify keeps in-app notifications: a row per person told, read
// from the bell in the UI (GET /api/notifications) and marked read there.
package notify

import (
	"context"
	"fmt"
	"net/http"

	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/store"
)

const (
	listMax = 100
	keepMax = 500 // per person; older ones go
	maxIDs  = 500
)

// Notification is one as its reader sees it.
type Notification struct {
	ID        string `json:"id" db:"id"`
	Kind      string `json:"kind" db:"kind"`
	Title     string `json:"title" db:"title"`
	Body      string `json:"body" db:"body"`
	Link      string `json:"link" db:"link"`
	CreatedAt int64  `json:"createdAt" db:"created_at"`
	Read      bool   `json:"read" db:"read"`
}

// Service stores and lists notifications.
type Service struct{ db *store.DB }

// New keeps notifications in db.
func New(db *store.DB) *Service {
	if db == nil {
		panic("notify.New: nil db")
	}
	return &Service{db: db}
}

// Send gives each of users a notification n (its ID and CreatedAt are
// set here) and trims each one's oldest beyond keepMax.
func (s *Service) Send(ctx context.Context, users []string, n Notification) error {
	now := store.Now()
	return s.db.Tx(ctx, func(q store.Q) error {
		for _, u := range users {
			if _, err := q.Exec(ctx, `INSERT INTO notifications (id, user_id, kind, title, body, link, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				store.NewID(), u, n.Kind, n.Title, n.Body, n.Link, now); err != nil {
				return fmt.Errorf("add notification: %w", err)
			}
			if _, err := q.Exec(ctx, `DELETE FROM notifications WHERE user_id = ? AND id NOT IN
				(SELECT id FROM notifications WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?)`, u, u, keepMax); err != nil {
				return fmt.Errorf("trim notifications: %w", err)
			}
		}
		return nil
	})
}

// List returns actor's newest notifications (only unread ones when
// unread) and how many are unread.
func (s *Service) List(ctx context.Context, actor *auth.User, unread bool) ([]Notification, int, error) {
	if actor == nil {
		return nil, 0, auth.ErrUnauthenticated
	}
	out := []Notification{}
	q := `SELECT id, kind, title, body, link, created_at, read_at IS NOT NULL AS read FROM notifications WHERE user_id = ?`
	if unread {
		q += ` AND read_at IS NULL`
	}
	if err := s.db.Select(ctx, &out, q+` ORDER BY created_at DESC, id DESC LIMIT ?`, actor.ID, listMax); err != nil {
		return nil, 0, fmt.Errorf("list notifications: %w", err)
	}
	var n int
	if err := s.db.Get(ctx, &n, `SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL`, actor.ID); err != nil {
		return nil, 0, fmt.Errorf("count notifications: %w", err)
	}
	return out, n, nil
}

// MarkRead marks actor's notifications ids, or all of them, read.
func (s *Service) MarkRead(ctx context.Context, actor *auth.User, ids []string, all bool) error {
	if actor == nil {
		return auth.ErrUnauthenticated
	}
	if !all && len(ids) == 0 || len(ids) > maxIDs {
		return errs.Invalid("invalid_notifications", "Give the ids of up to %d notifications, or \"all\": true.", maxIDs)
	}
	now := store.Now()
	if all {
		_, err := s.db.Exec(ctx, `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`, now, actor.ID)
		if err != nil {
			return fmt.Errorf("mark notifications read: %w", err)
		}
		return nil
	}
	return s.db.Tx(ctx, func(q store.Q) error {
		for _, id := range ids {
			if _, err := q.Exec(ctx, `UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL`, now, id, actor.ID); err != nil {
				return fmt.Errorf("mark notification read: %w", err)
			}
		}
		return nil
	})
}

// DropUser forgets a deleted account's notifications.
func (s *Service) DropUser(ctx context.Context, userID string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM notifications WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("drop notifications of %s: %w", userID, err)
	}
	return nil
}

// Routes registers the notification routes.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/notifications", s.list)
	rt.HandleFunc("POST /api/notifications/read", s.read)
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	list, unread, err := s.List(r.Context(), auth.Actor(r), r.URL.Query().Get("unread") == "1")
	httpx.Reply(w, r, http.StatusOK, map[string]any{"notifications": list, "unread": unread}, err)
}

func (s *Service) read(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDs []string `json:"ids"`
		All bool     `json:"all"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.NoContent(w, r, s.MarkRead(r.Context(), auth.Actor(r), in.IDs, in.All))
}
