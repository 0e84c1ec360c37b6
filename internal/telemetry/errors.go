package telemetry

import (
	"context"
	"fmt"

	"ecode/internal/store"
)

// groupDelta is what one batch adds to an error group.
type groupDelta struct {
	fingerprint               string
	name, message, url        string
	count, sessions           int64
	first, last               int64
	firstSession, lastSession string
}

func (g *groupDelta) add(e event, t int64) {
	if g.count == 0 || e.Session != g.lastSession {
		g.sessions++
	}
	g.count++
	g.lastSession = e.Session
	g.first = min(g.first, t)
	if t >= g.last {
		g.last, g.name, g.message, g.url = t, e.Name, e.Message, e.URL
	}
}

// upsert adds the delta to the group, made open on first sight; a resolved
// group seen again is open again (it regressed), an ignored one stays so.
// The session count is approximate: a new session is one other than the
// group's previous occurrence's.
func (g *groupDelta) upsert(ctx context.Context, q store.Q, scope string) error {
	_, err := q.Exec(ctx, `INSERT INTO telemetry_error_groups
		(scope, fingerprint, name, message, url, count, sessions, last_session, first_seen, last_seen, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')
		ON CONFLICT (scope, fingerprint) DO UPDATE SET
			count = telemetry_error_groups.count + excluded.count,
			sessions = telemetry_error_groups.sessions + excluded.sessions
				- CASE WHEN telemetry_error_groups.last_session = ? THEN 1 ELSE 0 END,
			first_seen = CASE WHEN excluded.first_seen < telemetry_error_groups.first_seen
				THEN excluded.first_seen ELSE telemetry_error_groups.first_seen END,
			name = CASE WHEN excluded.last_seen >= telemetry_error_groups.last_seen THEN excluded.name ELSE telemetry_error_groups.name END,
			message = CASE WHEN excluded.last_seen >= telemetry_error_groups.last_seen THEN excluded.message ELSE telemetry_error_groups.message END,
			url = CASE WHEN excluded.last_seen >= telemetry_error_groups.last_seen THEN excluded.url ELSE telemetry_error_groups.url END,
			last_session = excluded.last_session,
			last_seen = CASE WHEN excluded.last_seen > telemetry_error_groups.last_seen
				THEN excluded.last_seen ELSE telemetry_error_groups.last_seen END,
			status = CASE WHEN telemetry_error_groups.status = 'resolved' THEN 'open' ELSE telemetry_error_groups.status END`,
		scope, g.fingerprint, g.name, g.message, g.url, g.count, g.sessions, g.lastSession, g.first, g.last, g.firstSession)
	if err != nil {
		return fmt.Errorf("upsert error group: %w", err)
	}
	return nil
}
