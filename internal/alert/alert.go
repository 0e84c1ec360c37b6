// Package alert watches a project's deployment: rules on its metrics (a
// threshold, an SLO's error-budget burn rate, or an anomaly against the
// same time last week) are evaluated every interval; a rule whose
// condition holds opens an alert, which resolves itself when the
// condition clears. Opening and resolving are told in the app to the
// project's editors, to a signed webhook and by email, unless silenced.
// What is open lives in the database, so a restart neither repeats nor
// loses an alert.
package alert

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/mail"
	"ecode/internal/notify"
	"ecode/internal/project"
	"ecode/internal/seal"
	"ecode/internal/store"
	"ecode/internal/telemetry"
	"ecode/internal/webhook"
)

// Source is what the alerts read of a scope's telemetry.
type Source interface {
	Window(ctx context.Context, scope string, from, to time.Time) (telemetry.Window, error)
	Series(ctx context.Context, scope string, from, to time.Time, step time.Duration) ([]telemetry.Point, error)
}

// Projects is what the routes need of the project capability: the
// project, once access is granted.
type Projects interface {
	Get(ctx context.Context, actor *auth.User, id string, a access.Action) (*project.Project, error)
}

// Notifier tells people in the app.
type Notifier interface {
	Send(ctx context.Context, users []string, n notify.Notification) error
}

// Audience knows who may change a project: those told of its alerts.
type Audience interface {
	Editors(ctx context.Context, projectID string) ([]string, error)
}

// Options are the evaluator's and the channels' settings.
type Options struct {
	// Interval between two evaluations; 0: a minute.
	Interval time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// WebhookAddr says which addresses a webhook may reach; nil:
	// egress.Reachable(nil), as deployment webhooks.
	WebhookAddr func(netip.Addr) bool
	// WebhookBackoff is the pause before a webhook's second try; 0:
	// webhook.Backoff.
	WebhookBackoff time.Duration
	// Keys seals the webhook secrets; nil: no webhook can be set.
	Keys *seal.Keyring
	// Mail sends the email channel; nil: rules with emails are refused.
	Mail *mail.Sender
	// PublicURL is the platform's address, for links in emails.
	PublicURL string
	Log       *slog.Logger
}

// Service keeps rules and alerts and evaluates them.
type Service struct {
	db       *store.DB
	projects Projects
	source   Source
	notifier Notifier
	audience Audience
	opts     Options
	hooks    *webhook.Sender
	log      *slog.Logger
	// deliveries is the context of deliveries in the background, which
	// outlive the request or evaluation that started them; Run cancels it
	// when it ends, and waits for them (wg).
	deliveries context.Context
	stop       context.CancelFunc
	wg         sync.WaitGroup
}

// New builds the service; Run evaluates.
func New(db *store.DB, projects Projects, source Source, notifier Notifier, audience Audience, opts Options) *Service {
	if db == nil || projects == nil || source == nil || notifier == nil || audience == nil {
		panic("alert.New: nil dependency")
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: db, projects: projects, source: source, notifier: notifier, audience: audience, opts: opts,
		hooks: webhook.New(opts.WebhookAddr, opts.WebhookBackoff), log: log.With("component", "alert")}
	s.deliveries, s.stop = context.WithCancel(context.Background())
	return s
}

// Run evaluates every rule each interval until ctx ends, then stops the
// deliveries under way and waits for them.
func (s *Service) Run(ctx context.Context) {
	defer s.wg.Wait()
	defer s.stop()
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		if err := s.Evaluate(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("evaluate alert rules", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DropProject forgets a deleted project's rules, alerts and webhook
// secret.
func (s *Service) DropProject(ctx context.Context, projectID string) error {
	return s.db.Tx(ctx, func(q store.Q) error {
		for _, table := range []string{"alert_rules", "alerts", "alert_webhook_secrets"} {
			if _, err := q.Exec(ctx, `DELETE FROM `+table+` WHERE project_id = ?`, projectID); err != nil {
				return fmt.Errorf("drop %s of project %s: %w", table, projectID, err)
			}
		}
		return nil
	})
}
