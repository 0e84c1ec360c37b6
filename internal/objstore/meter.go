package objstore

import (
	"context"
	"fmt"
	"time"

	"ecode/internal/billing"
)

// RunMeter records what each project's objects hold, as byte-seconds of
// each hour, until ctx ends (billing.Hourly). Without Options.Meter it
// returns at once.
func (s *Store) RunMeter(ctx context.Context) {
	if s.opts.Meter != nil {
		billing.Hourly(ctx, "object storage", s.MeterStorage)
	}
}

// MeterStorage records each project's live objects (dev and prod
// together) for the hour that holds at, as bytes × 3600.
func (s *Store) MeterStorage(ctx context.Context, at time.Time) error {
	if s.opts.Meter == nil {
		return nil
	}
	var rows []struct {
		ProjectID string `db:"project_id"`
		Bytes     int64  `db:"bytes"`
	}
	if err := s.db.Select(ctx, &rows, `SELECT project_id, COALESCE(SUM(size), 0) AS bytes FROM storage_objects GROUP BY project_id`); err != nil {
		return fmt.Errorf("measure object storage: %w", err)
	}
	var us []billing.Usage
	for _, r := range rows {
		if r.Bytes > 0 {
			us = append(us, billing.Stored(billing.MeterObjects, r.ProjectID, r.Bytes, at))
		}
	}
	if len(us) == 0 {
		return nil
	}
	if err := s.opts.Meter.Record(ctx, us...); err != nil {
		return fmt.Errorf("record object storage: %w", err)
	}
	return nil
}
