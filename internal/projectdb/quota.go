package projectdb

import (
	"context"
	"sync"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/pgcluster"
	"ecode/internal/store"
)

// runMaintenance runs the service's upkeep until ctx ends: each database's
// size against the quota every minute, daily backups every hour. It first
// fails the backups a stopped server left running.
func (s *Service) runMaintenance(ctx context.Context) {
	s.failInterrupted(ctx, store.Now())
	var wg sync.WaitGroup
	wg.Go(func() { s.runDaily(ctx) })
	wg.Go(func() { s.runSizes(ctx) })
	wg.Go(func() { s.runMeter(ctx) })
	wg.Wait()
}

func (s *Service) runSizes(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		s.checkSizes(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// checkSizes measures every database, records its size, and turns those
// over the quota read-only and those back under it writable again.
func (s *Service) checkSizes(ctx context.Context) {
	rows, err := allRows(ctx, s.db)
	if err != nil || len(rows) == 0 {
		if err != nil && ctx.Err() == nil {
			s.log.Error("check database sizes", "err", err)
		}
		return
	}
	c, err := s.clusterFor(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("check database sizes", "err", err)
		}
		return
	}
	for _, r := range rows {
		if ctx.Err() != nil {
			return
		}
		if _, err := s.checkSize(ctx, c, r); err != nil {
			s.log.Error("check a database's size", "project", r.ProjectID, "env", r.Env, "err", err)
		}
	}
}

// checkSize measures r's database and applies the quota to it; it answers
// the row as recorded now. The cluster is changed before the row, so a row
// that failed to record is mended by the next check.
func (s *Service) checkSize(ctx context.Context, c *pgcluster.Cluster, r row) (row, error) {
	size, err := c.Size(ctx, r.Name)
	if err != nil {
		return r, err
	}
	over := size > s.opts.QuotaBytes
	if over != r.ReadOnly {
		if err := c.SetReadOnly(ctx, r.Name, over); err != nil {
			return r, err
		}
		s.log.Info("database quota", "project", r.ProjectID, "env", r.Env, "size", size, "quota", s.opts.QuotaBytes, "read_only", over)
	}
	r.SizeBytes, r.SizeAt, r.ReadOnly = size, store.Now(), over
	return r, recordSize(ctx, s.db, r.ProjectID, r.Env, r.SizeBytes, r.SizeAt, r.ReadOnly)
}

// remeasure applies the quota to t's database after its contents were
// replaced, and answers its row; a failure is logged, for the minute's
// check mends it.
func (s *Service) remeasure(ctx context.Context, t *target) row {
	r, err := s.checkSize(ctx, t.cluster, t.row)
	if err != nil {
		s.log.Error("check a database's size", "project", t.ProjectID, "env", t.Env, "err", err)
	}
	return r
}

// RefreshSize measures the database of env now, applying the quota, for
// the pane.
func (s *Service) RefreshSize(ctx context.Context, actor *auth.User, projectID, env string) (Info, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return Info{}, err
	}
	t, err := s.open(ctx, p.ID, env)
	if err != nil {
		return Info{}, err
	}
	r, err := s.checkSize(ctx, t.cluster, t.row)
	if err != nil {
		return Info{}, err
	}
	return s.info(r), nil
}
