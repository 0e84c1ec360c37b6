package project

import (
	"context"
	"fmt"
	"time"

	"ecode/internal/billing"
)

// RunMeter records every project's files as byte-seconds of each hour,
// until ctx ends (billing.Hourly).
func (s *Service) RunMeter(ctx context.Context, m billing.Recorder) {
	billing.Hourly(ctx, "project files", func(ctx context.Context, at time.Time) error { return s.MeterFiles(ctx, m, at) })
}

// MeterFiles records, for the hour that holds at, each project's size on
// disk (what its quota is checked against; measured again when older than
// usageTTL) as bytes × 3600, under "storage.files:<project>:<hour unix>".
func (s *Service) MeterFiles(ctx context.Context, m billing.Recorder, at time.Time) error {
	var ids []string
	if err := s.db.Select(ctx, &ids, `SELECT id FROM projects`); err != nil {
		return fmt.Errorf("list projects to meter: %w", err)
	}
	var us []billing.Usage
	flush := func() error {
		if len(us) == 0 {
			return nil
		}
		err := m.Record(ctx, us...)
		us = us[:0]
		if err != nil {
			return fmt.Errorf("record project files: %w", err)
		}
		return nil
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		u := s.usages[id]
		if u == nil {
			u = &usage{}
			s.usages[id] = u
		}
		s.mu.Unlock()
		if n := u.get(s.Dir(id)); n > 0 {
			us = append(us, billing.Stored(billing.MeterFiles, id, n, at))
		}
		if len(us) >= 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
