// Package telemetry is monitoring's backend: browser events posted by the
// SDK (page views, errors, web vitals, failed requests, custom events), the
// platform's and deployments' server traffic (APM), each project's ingest
// key and settings, rollups per minute and per hour, retention, and the
// dashboards' and alerts' queries over them.
//
// Everything is kept per scope: a project id, or "platform". Raw events are
// written in one transaction per batch; counters are aggregated in memory
// and added to the rollups every FlushEvery, so ingest never updates a hot
// row per event. Client addresses are used for rate limits only, never stored.
package telemetry

import (
	"context"
	"log/slog"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/project"
	"ecode/internal/store"
)

// Platform is the scope of the platform's own UI and API.
const Platform = "platform"

// Projects is what the monitoring routes need of the project capability:
// the project, once access is granted.
type Projects interface {
	Get(ctx context.Context, actor *auth.User, id string, a access.Action) (*project.Project, error)
}

// Options tune the service; zero values take the defaults.
type Options struct {
	// PublicURL is the platform's address as browsers reach it, for the
	// SDK's script tag.
	PublicURL string
	// EventsPerSecond and Burst bound what one (scope, client address) may
	// send, counted in events (default 300/s, burst 3000).
	EventsPerSecond float64
	Burst           int
	// RawRetention keeps raw events (30 days), MinuteRetention minute
	// rollups (8 days), HourRetention hour rollups (400 days).
	RawRetention, MinuteRetention, HourRetention time.Duration
	// FlushEvery is how often counters reach the rollups (10 s).
	FlushEvery time.Duration
	// Now is the clock (time.Now); tests set it.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.EventsPerSecond <= 0 {
		o.EventsPerSecond = 300
	}
	if o.Burst <= 0 {
		o.Burst = 3000
	}
	if o.RawRetention <= 0 {
		o.RawRetention = 30 * 24 * time.Hour
	}
	if o.MinuteRetention <= 0 {
		o.MinuteRetention = 8 * 24 * time.Hour
	}
	if o.HourRetention <= 0 {
		o.HourRetention = 400 * 24 * time.Hour
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Service is the monitoring capability.
type Service struct {
	db       *store.DB
	projects Projects
	opts     Options
	// limits counts events per (scope, client address); anonymous platform
	// events share a tenth of that.
	limits, anon *Limiter
	keys         *cache[resolved]
	snippets     *cache[snippet]
	agg          *aggregator
	// writes commits the batches and the rollups' flushes.
	writes *committer
}

// New builds the service over db.
func New(db *store.DB, projects Projects, opts Options) *Service {
	if db == nil || projects == nil {
		panic("telemetry.New: nil db or projects")
	}
	opts.defaults()
	return &Service{
		db:       db,
		projects: projects,
		opts:     opts,
		limits:   NewLimiter(opts.EventsPerSecond, opts.Burst),
		anon:     NewLimiter(opts.EventsPerSecond/10, max(1, opts.Burst/10)),
		keys:     newCache[resolved](cacheTTL, opts.Now),
		snippets: newCache[snippet](cacheTTL, opts.Now),
		agg:      newAggregator(),
		writes:   &committer{db: db},
	}
}

// Run adds the counters to the rollups every FlushEvery and applies the
// retention every hour, until ctx ends; then it flushes one last time.
func (s *Service) Run(ctx context.Context) {
	flush := time.NewTicker(s.opts.FlushEvery)
	defer flush.Stop()
	retain := time.NewTicker(time.Hour)
	defer retain.Stop()
	for {
		select {
		case <-ctx.Done():
			// The request context is gone; the last counters still deserve a write.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := s.Flush(fctx); err != nil {
				slog.Error("telemetry final flush", "err", err)
			}
			cancel()
			return
		case <-flush.C:
			if err := s.Flush(ctx); err != nil {
				slog.Error("telemetry flush", "err", err)
			}
		case <-retain.C:
			if err := s.Retain(ctx); err != nil {
				slog.Error("telemetry retention", "err", err)
			}
		}
	}
}
