package replay

import (
	"context"
	"fmt"

	"ecode/internal/store"
)

// chunkRow is one stored chunk.
type chunkRow struct {
	Scope        string `db:"scope"`
	Session      string `db:"session"`
	Seq          int64  `db:"seq"`
	FirstTs      int64  `db:"first_ts"`
	LastTs       int64  `db:"last_ts"`
	Bytes        int64  `db:"bytes"`
	FullSnapshot bool   `db:"full_snapshot"`
	URL          string `db:"url"`
	ReceivedAt   int64  `db:"received_at"`
}

// usage is what a session holds.
type usage struct {
	Chunks int64 `db:"chunks"`
	Bytes  int64 `db:"bytes"`
}

// sessionUsage counts a session's chunks and bytes, leaving out seq.
func sessionUsage(ctx context.Context, q store.Q, scope, session string, seq int64) (usage, error) {
	var u usage
	err := q.Get(ctx, &u, `SELECT COUNT(*) AS chunks, CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS bytes
		FROM replay_chunks WHERE scope = ? AND session = ? AND seq <> ?`, scope, session, seq)
	if err != nil {
		return usage{}, fmt.Errorf("count replay chunks: %w", err)
	}
	return u, nil
}

// saveChunk writes c's row, replacing the same seq's, and brings its
// session's sums up to date; hadError marks the session for good.
func saveChunk(ctx context.Context, q store.Q, c chunkRow, hadError bool) error {
	_, err := q.Exec(ctx, `INSERT INTO replay_chunks (scope, session, seq, first_ts, last_ts, bytes, full_snapshot, url, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (scope, session, seq) DO UPDATE SET first_ts = excluded.first_ts, last_ts = excluded.last_ts,
			bytes = excluded.bytes, full_snapshot = excluded.full_snapshot, url = excluded.url, received_at = excluded.received_at`,
		c.Scope, c.Session, c.Seq, c.FirstTs, c.LastTs, c.Bytes, c.FullSnapshot, c.URL, c.ReceivedAt)
	if err != nil {
		return fmt.Errorf("save replay chunk: %w", err)
	}
	var sum struct {
		Started int64 `db:"started"`
		Last    int64 `db:"last"`
		usage
	}
	err = q.Get(ctx, &sum, `SELECT MIN(first_ts) AS started, MAX(last_ts) AS last, COUNT(*) AS chunks,
		CAST(SUM(bytes) AS BIGINT) AS bytes FROM replay_chunks WHERE scope = ? AND session = ?`, c.Scope, c.Session)
	if err != nil {
		return fmt.Errorf("sum replay chunks: %w", err)
	}
	// The session's address is its earliest chunk's that has one.
	var urls []string
	if err := q.Select(ctx, &urls, `SELECT url FROM replay_chunks WHERE scope = ? AND session = ? AND url <> ''
		ORDER BY seq LIMIT 1`, c.Scope, c.Session); err != nil {
		return fmt.Errorf("read replay url: %w", err)
	}
	url := ""
	if len(urls) == 1 {
		url = urls[0]
	}
	_, err = q.Exec(ctx, `INSERT INTO replay_sessions (scope, session, started_at, last_at, chunks, bytes, url, has_error, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (scope, session) DO UPDATE SET started_at = excluded.started_at, last_at = excluded.last_at,
			chunks = excluded.chunks, bytes = excluded.bytes, url = excluded.url,
			has_error = replay_sessions.has_error OR excluded.has_error, updated_at = excluded.updated_at`,
		c.Scope, c.Session, sum.Started, sum.Last, sum.Chunks, sum.Bytes, url, hadError, c.ReceivedAt, c.ReceivedAt)
	if err != nil {
		return fmt.Errorf("save replay session: %w", err)
	}
	return nil
}

const sessionCols = `session, started_at, last_at, chunks, bytes, url, has_error`

// listSessions answers a scope's sessions with uploads since since (unix
// ms, the server's clock), the newest first.
func listSessions(ctx context.Context, q store.Q, scope string, since int64, onlyErrors bool, limit int) ([]Replay, error) {
	query := `SELECT ` + sessionCols + ` FROM replay_sessions WHERE scope = ? AND updated_at >= ?`
	args := []any{scope, since}
	if onlyErrors {
		query += ` AND has_error = ?`
		args = append(args, true)
	}
	out := []Replay{}
	if err := q.Select(ctx, &out, query+` ORDER BY created_at DESC, session DESC LIMIT ?`, append(args, limit)...); err != nil {
		return nil, fmt.Errorf("list replays: %w", err)
	}
	for i := range out {
		out[i].DurationMs = max(0, out[i].LastAt-out[i].StartedAt)
	}
	return out, nil
}

// getSession answers one session of a scope.
func getSession(ctx context.Context, q store.Q, scope, session string) (Replay, error) {
	var r Replay
	err := q.Get(ctx, &r, `SELECT `+sessionCols+` FROM replay_sessions WHERE scope = ? AND session = ?`, scope, session)
	if store.NoRows(err) {
		return Replay{}, errNoSession
	}
	if err != nil {
		return Replay{}, fmt.Errorf("read replay: %w", err)
	}
	r.DurationMs = max(0, r.LastAt-r.StartedAt)
	return r, nil
}

// listChunks answers a session's chunks in seq order.
func listChunks(ctx context.Context, q store.Q, scope, session string) ([]Item, error) {
	items := []Item{}
	if err := q.Select(ctx, &items, `SELECT seq, first_ts, last_ts, bytes, full_snapshot FROM replay_chunks
		WHERE scope = ? AND session = ? ORDER BY seq`, scope, session); err != nil {
		return nil, fmt.Errorf("list replay chunks: %w", err)
	}
	return items, nil
}

// chunkSize answers the stored size of one chunk.
func chunkSize(ctx context.Context, q store.Q, scope, session string, seq int64) (int64, error) {
	var n int64
	err := q.Get(ctx, &n, `SELECT bytes FROM replay_chunks WHERE scope = ? AND session = ? AND seq = ?`, scope, session, seq)
	if store.NoRows(err) {
		return 0, errNoChunk
	}
	if err != nil {
		return 0, fmt.Errorf("read replay chunk: %w", err)
	}
	return n, nil
}

// staleSession names a session past the retention.
type staleSession struct {
	Scope   string `db:"scope"`
	Session string `db:"session"`
}

// staleSessions answers up to limit sessions whose last upload was before cutoff.
func staleSessions(ctx context.Context, q store.Q, cutoff int64, limit int) ([]staleSession, error) {
	var out []staleSession
	if err := q.Select(ctx, &out, `SELECT scope, session FROM replay_sessions WHERE updated_at < ? ORDER BY updated_at LIMIT ?`,
		cutoff, limit); err != nil {
		return nil, fmt.Errorf("list old replays: %w", err)
	}
	return out, nil
}

// deleteRows deletes a session's rows, or with session "" all of a scope's.
func deleteRows(ctx context.Context, db *store.DB, scope, session string) error {
	where, args := `scope = ?`, []any{scope}
	if session != "" {
		where, args = where+` AND session = ?`, append(args, session)
	}
	return db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `DELETE FROM replay_chunks WHERE `+where, args...); err != nil {
			return fmt.Errorf("delete replay chunks: %w", err)
		}
		if _, err := q.Exec(ctx, `DELETE FROM replay_sessions WHERE `+where, args...); err != nil {
			return fmt.Errorf("delete replay sessions: %w", err)
		}
		return nil
	})
}
