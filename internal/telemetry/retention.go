package telemetry

import (
	"context"
	"fmt"

	"ecode/internal/store"
)

// rawTables hold raw events, each with scope and t.
var rawTables = []string{"telemetry_events", "telemetry_errors", "telemetry_vitals", "telemetry_requests"}

// Retain deletes raw events and error groups older than RawRetention, and
// rollups older than their grain's retention.
func (s *Service) Retain(ctx context.Context) error {
	now := s.now()
	raw := now - s.opts.RawRetention.Milliseconds()
	for _, t := range rawTables {
		if _, err := s.db.Exec(ctx, `DELETE FROM `+t+` WHERE t < ?`, raw); err != nil {
			return fmt.Errorf("retain %s: %w", t, err)
		}
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM telemetry_error_groups WHERE last_seen < ?`, raw); err != nil {
		return fmt.Errorf("retain error groups: %w", err)
	}
	for grain, keep := range map[int64]int64{minute: s.opts.MinuteRetention.Milliseconds(), hour: s.opts.HourRetention.Milliseconds()} {
		if _, err := s.db.Exec(ctx, `DELETE FROM telemetry_rollups WHERE grain = ? AND t < ?`, grain, now-keep); err != nil {
			return fmt.Errorf("retain rollups: %w", err)
		}
	}
	return nil
}

// DropScope deletes everything kept for scope (a deleted project's data),
// counters not yet flushed included.
func (s *Service) DropScope(ctx context.Context, scope string) error {
	s.agg.mu.Lock()
	for k := range s.agg.counts {
		if k.scope == scope {
			delete(s.agg.counts, k)
		}
	}
	s.agg.mu.Unlock()
	s.snippets.drop(scope)
	var keys []string
	err := s.db.Tx(ctx, func(q store.Q) error {
		if err := q.Select(ctx, &keys, `SELECT ingest_key FROM monitoring_settings WHERE project_id = ?`, scope); err != nil {
			return fmt.Errorf("read ingest key: %w", err)
		}
		for _, t := range append([]string{"telemetry_error_groups", "telemetry_rollups"}, rawTables...) {
			if _, err := q.Exec(ctx, `DELETE FROM `+t+` WHERE scope = ?`, scope); err != nil {
				return fmt.Errorf("drop %s: %w", t, err)
			}
		}
		_, err := q.Exec(ctx, `DELETE FROM monitoring_settings WHERE project_id = ?`, scope)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop telemetry of %s: %w", scope, err)
	}
	for _, k := range keys {
		s.keys.drop(k)
	}
	return nil
}
