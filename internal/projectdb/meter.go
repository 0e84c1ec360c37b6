package projectdb

import (
	"context"
	"fmt"
	"time"

	"ecode/internal/billing"
)

// runMeter records what databases and their backups hold, as byte-seconds
// of each hour, until ctx ends (billing.Hourly).
func (s *Service) runMeter(ctx context.Context) {
	if s.opts.Meter != nil {
		billing.Hourly(ctx, "database storage", s.MeterStorage)
	}
}

// MeterStorage records, for the hour that holds at, each project's
// databases (their size as last measured, every minute) and database
// backups, as bytes × 3600.
func (s *Service) MeterStorage(ctx context.Context, at time.Time) error {
	if s.opts.Meter == nil {
		return nil
	}
	var us []billing.Usage
	for _, src := range []struct{ meter, query string }{
		{billing.MeterDatabase, `SELECT project_id, SUM(size_bytes) AS bytes FROM project_databases GROUP BY project_id`},
		{billing.MeterBackups, `SELECT project_id, SUM(size_bytes) AS bytes FROM database_backups WHERE status = '` + statusDone + `' GROUP BY project_id`},
	} {
		var rows []struct {
			ProjectID string `db:"project_id"`
			Bytes     int64  `db:"bytes"`
		}
		if err := s.db.Select(ctx, &rows, src.query); err != nil {
			return fmt.Errorf("measure %s: %w", src.meter, err)
		}
		for _, r := range rows {
			if r.Bytes > 0 {
				us = append(us, billing.Stored(src.meter, r.ProjectID, r.Bytes, at))
			}
		}
	}
	if len(us) == 0 {
		return nil
	}
	if err := s.opts.Meter.Record(ctx, us...); err != nil {
		return fmt.Errorf("record database storage: %w", err)
	}
	return nil
}
