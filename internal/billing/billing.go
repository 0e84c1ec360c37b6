// Package billing is what the platform charges for: plans and prices (the
// Catalog), each payer's billing account and monthly period, usage metered
// by the sources (Record) and rated into ledger transfers exactly once,
// holds for agent runs, quotas (out of credits: new runs wait, deployments
// stop after a grace period, nothing is deleted), budget alerts, the usage
// page, statements and administrators' grants. Money is integer µcr in
// internal/ledger, which proves the sums.
package billing

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"ecode/internal/errs"
	"ecode/internal/ledger"
	"ecode/internal/notify"
	"ecode/internal/store"
)

// Usage is one metered event. Key is unique for ever: sending it again
// (a retry) changes nothing.
type Usage struct {
	Key       string    // e.g. "sbx:<sandboxID>:<seq>:cpu"
	Meter     string    // one of the Meter* constants
	Attr      string    // model for ai.*, size for deploy.instance, else ""
	Quantity  int64     // in the meter's base unit
	ProjectID string    // whose owner pays
	UserID    string    // the person it is for; "" = nobody in particular
	At        time.Time // when it happened; zero = now
	Hold      string    // the hold key that settles it (an agent run's), else ""
}

// Recorder is what a source of usage needs of billing: Record ignores a
// Key it has seen, so a batch may be sent again after a failure.
type Recorder interface {
	Record(ctx context.Context, us ...Usage) error
}

// Stored is storage's usage of meter for the hour that holds at: bytes
// held for the hour, under a key naming the hour.
func Stored(meter, projectID string, bytes int64, at time.Time) Usage {
	hour := at.Truncate(time.Hour)
	return Usage{Key: meter + ":" + projectID + ":" + strconv.FormatInt(hour.Unix(), 10), Meter: meter,
		Quantity: bytes * 3600, ProjectID: projectID, At: hour}
}

// Workloads are the running sandboxes, stopped when their payer is out of
// credits.
type Workloads interface {
	RunningProjects() []string
	StopProject(ctx context.Context, projectID, reason string)
}

// Deployments are the live deployments, suspended after the grace period
// of a payer out of credits and resumed after a top-up.
type Deployments interface {
	LiveProjects(ctx context.Context) ([]string, error)
	Suspend(ctx context.Context, projectID, reason string) error
	Resume(ctx context.Context, projectID string) error
}

// Projects names a project's owner: kind "user" or "team", the owner's
// id, and a name to show ("owner/slug").
type Projects interface {
	Owner(ctx context.Context, projectID string) (kind, ownerID, name string, err error)
}

// People answers who people and teams are, for the routes and alerts.
type People interface {
	Emails(ctx context.Context, userIDs []string) (map[string]string, error)
	Username(ctx context.Context, id string) (string, error)
	UserByName(ctx context.Context, username string) (id string, err error)
	TeamAdmins(ctx context.Context, teamID string) ([]string, error) // its admins and owners
	TeamRole(ctx context.Context, teamID, userID string) (string, error)
	TeamByName(ctx context.Context, name string) (id string, err error)
	TeamName(ctx context.Context, id string) (string, error)
}

// Notifier tells people in the app (notify.Service).
type Notifier interface {
	Send(ctx context.Context, users []string, n notify.Notification) error
}

// Mailer sends email (mail.Sender).
type Mailer interface {
	Send(ctx context.Context, to []string, subject, body string) error
}

// Options configure the Service.
type Options struct {
	Enforce        bool          // ECODE_BILLING: quotas are enforced
	Catalog        Catalog       // plans, prices, top-ups; zero = DefaultCatalog()
	Grace          time.Duration // how long deployments run on once credits are out
	RatingInterval time.Duration // how often usage is rated; zero = a minute
	PublicURL      string        // for the top-up link: PublicURL + "/usage"
	Stripe         bool          // Stripe is configured (checkout and portal offered)
	Workloads      Workloads     // may be nil
	Deployments    Deployments   // may be nil
	Now            func() time.Time
}

// Service is billing.
type Service struct {
	db       *store.DB
	ledger   *ledger.Ledger
	projects Projects
	people   People
	notes    Notifier
	mailer   Mailer
	opts     Options
	cat      *Catalog

	// failPost, set by tests, fails rating or settling after its ledger
	// post, so a crash inside the transaction can be played.
	failPost func() error
}

// Govern hands billing what it stops when a payer runs out of credits: the
// running sandboxes and the deployments. They are built after billing,
// since they meter through it, so the composition root joins them here,
// once, before Run.
func (s *Service) Govern(w Workloads, d Deployments) {
	if s.opts.Workloads != nil || s.opts.Deployments != nil {
		panic("billing: Govern wants the workloads and deployments once")
	}
	s.opts.Workloads, s.opts.Deployments = w, d
}

// Rating takes at most this many events per transaction.
const rateBatch = 1000

// holdTTL is how long a hold reserves credits before it lapses.
const holdTTL = 24 * time.Hour

// New builds billing over db. projects and people are required; notes and
// mailer may be nil (no alerts that way).
func New(db *store.DB, projects Projects, people People, notes Notifier, mailer Mailer, opts Options) *Service {
	if db == nil || projects == nil || people == nil {
		panic("billing.New: nil db, projects or people")
	}
	if opts.Catalog.Plans == nil {
		opts.Catalog = DefaultCatalog()
	}
	if opts.RatingInterval <= 0 {
		opts.RatingInterval = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	cat := opts.Catalog
	return &Service{db: db, ledger: ledger.New(db), projects: projects, people: people,
		notes: notes, mailer: mailer, opts: opts, cat: &cat}
}

// UserPayer is the payer of a person's own projects.
func UserPayer(id string) string { return "user:" + id }

// TeamPayer is the payer of a team's projects.
func TeamPayer(id string) string { return "team:" + id }

// payerOf is the payer of projectID: its owner.
func (s *Service) payerOf(ctx context.Context, projectID string) (string, error) {
	kind, id, _, err := s.projects.Owner(ctx, projectID)
	if err != nil {
		return "", fmt.Errorf("owner of project %s: %w", projectID, err)
	}
	if kind == "team" {
		return TeamPayer(id), nil
	}
	return UserPayer(id), nil
}

func (s *Service) now() time.Time { return s.opts.Now() }

// topUpURL is where a person out of credits goes.
func (s *Service) topUpURL() string { return s.opts.PublicURL + "/usage" }

func (s *Service) errOutOfCredits() error {
	return errs.PaymentRequired("out_of_credits", "Out of credits: top up at %s to start new runs.", s.topUpURL())
}

// Catalog is what the service sells.
func (s *Service) Catalog() Catalog { return *s.cat }

// Reconcile checks the ledger's sums and that every rated event has its
// charge.
func (s *Service) Reconcile(ctx context.Context) (ledger.Report, error) {
	r, err := s.ledger.Reconcile(ctx)
	if err != nil {
		return r, err
	}
	var orphans int
	if err := s.db.Get(ctx, &orphans, `SELECT COUNT(*) FROM usage_events e WHERE e.charge_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM usage_charges c WHERE c.id = e.charge_id)`); err != nil {
		return r, fmt.Errorf("reconcile usage: %w", err)
	}
	if orphans > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d usage events name a charge that does not exist", orphans))
	}
	return r, nil
}

// Hourly runs measure for the hour under way at once, then as each hour
// begins, until ctx ends: how the storage sources record what they hold
// (bytes × 3600 under a key naming the hour, so a restart within the hour
// records nothing twice).
func Hourly(ctx context.Context, what string, measure func(ctx context.Context, at time.Time) error) {
	for {
		if err := measure(ctx, time.Now()); err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "meter "+what, "err", err)
		}
		next := time.Now().Truncate(time.Hour).Add(time.Hour)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
	}
}
