// Package stripebill connects billing to Stripe: Checkout for credit
// top-ups and plan subscriptions, the customer portal, webhooks that turn
// payments into credits and subscriptions into plans, and Billing Meters that
// mirror each finished hour's charges.
//
// Guarantees: a webhook is verified (signing secret, timestamp tolerance, the
// API release train of the pinned stripe-go) before anything is read from it;
// each event id takes effect once (stripe_events), and each effect is also
// idempotent on its own (a top-up's ledger key is the Checkout session), so
// a replay, a concurrent duplicate or a second event about the same payment
// credits nothing twice. Subscription events apply in the order Stripe made
// them, whatever order they arrive in. The ledger stays the source of truth:
// Stripe only receives copies of what was charged.
package stripebill

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"ecode/internal/billing"
	"ecode/internal/errs"
	"ecode/internal/ledger"
	"ecode/internal/store"
)

// Credits is the part of billing that Stripe moves: paid top-ups, plan
// changes, and the hourly charges mirrored to Billing Meters.
// *billing.Service is one.
type Credits interface {
	// TopUp credits a payer amount µcr; the same key credits once, ever.
	TopUp(ctx context.Context, payer string, amount int64, key, memo string) (ledger.Transfer, error)
	// SetPlan moves a payer to plan as of at; a change older than the last
	// one applied is ignored.
	SetPlan(ctx context.Context, payer, plan string, at time.Time) error
	// HourlyCharges lists the µcr charged per whole hour in [from, to).
	HourlyCharges(ctx context.Context, payer string, from, to time.Time) ([]billing.HourCharge, error)
}

// Payers names who pays for a request: the caller ("user:<id>") or, with
// team set, the team ("team:<id>") when the caller administers it; email is
// where Stripe sends receipts.
type Payers interface {
	Payer(r *http.Request, team string) (payer string, email string, err error)
}

// Plan is a plan that can be bought as a Stripe subscription.
type Plan struct {
	ID          string
	StripePrice string // a recurring Price id ("price_..."); "" = not for sale
}

// Options configure Stripe. Without SecretKey, checkout and the portal
// answer 503 stripe_not_configured; without WebhookSecret, so does the
// webhook.
type Options struct {
	SecretKey     string
	WebhookSecret string
	// APIURL replaces https://api.stripe.com (stripe-mock in tests).
	APIURL string
	// PublicURL is this server's address, for Checkout's return pages.
	PublicURL string
	Plans     []Plan
	// DefaultPlan is where a person goes when their subscription ends,
	// DefaultTeamPlan a team (default: DefaultPlan).
	DefaultPlan     string
	DefaultTeamPlan string
	CentsPerCredit  int64 // US cents per credit; default 1
	MinCredits      int64 // smallest top-up in credits; default 1
	// MeterEvent is the Billing Meter's event name; default "ecode_credits".
	MeterEvent string
	// Interval between meter reports; default 1 h.
	Interval time.Duration
	// MeterDelay is how long after an hour ends its charges are taken as
	// final and reported; default 5 min.
	MeterDelay time.Duration
	// Tolerance is how old a webhook's signature may be; default 300 s.
	Tolerance time.Duration
	// HTTPClient carries the API calls; default one with a 30 s timeout.
	HTTPClient *http.Client
	Now        func() time.Time
}

// maxCents is the largest amount a Checkout session may charge
// (Stripe: eight digits in USD).
const maxCents = 99_999_999

// Service is Stripe billing for one server.
type Service struct {
	db      *store.DB
	credits Credits
	payers  Payers
	opts    Options
	sc      *stripe.Client // nil without a secret key
	log     *slog.Logger

	inFlightWait time.Duration
}

// New returns the Stripe service. db, credits and payers are required.
func New(db *store.DB, credits Credits, payers Payers, opts Options) *Service {
	if db == nil || credits == nil || payers == nil {
		panic("stripebill.New: db, credits and payers are required")
	}
	if opts.CentsPerCredit <= 0 {
		opts.CentsPerCredit = 1
	}
	if opts.MinCredits <= 0 {
		opts.MinCredits = 1
	}
	if opts.DefaultPlan == "" {
		opts.DefaultPlan = "free"
	}
	if opts.DefaultTeamPlan == "" {
		opts.DefaultTeamPlan = opts.DefaultPlan
	}
	if opts.MeterEvent == "" {
		opts.MeterEvent = "ecode_credits"
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Hour
	}
	if opts.MeterDelay <= 0 {
		opts.MeterDelay = 5 * time.Minute
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = webhook.DefaultTolerance
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	s := &Service{db: db, credits: credits, payers: payers, opts: opts,
		log: slog.Default().With("component", "stripe"), inFlightWait: inFlightWait}
	if opts.SecretKey != "" {
		s.sc = newClient(opts, s.log)
	}
	return s
}

// newClient builds a client of its own (no package-level backend), pointed
// at APIURL when set.
func newClient(opts Options, log *slog.Logger) *stripe.Client {
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	cfg := &stripe.BackendConfig{HTTPClient: hc, LeveledLogger: stripeLog{log}}
	if opts.APIURL != "" {
		cfg.URL = stripe.String(opts.APIURL)
	}
	return stripe.NewClient(opts.SecretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(cfg)))
}

// Configured reports whether payments through Stripe are set up.
func (s *Service) Configured() bool { return s.sc != nil }

func notConfigured() error {
	return errs.Unavailable("stripe_not_configured", "Payments are not set up on this server; an administrator can grant credits.")
}

// stripeUnavailable is what a person sees when a Stripe call fails; the
// cause is logged.
func stripeUnavailable(op string, err error) error {
	return errs.Unavailable("stripe_unavailable", "Stripe could not be reached; try again in a minute.").
		With(fmt.Errorf("stripe %s: %w", op, err))
}

func (s *Service) plan(id string) (Plan, bool) {
	for _, p := range s.opts.Plans {
		if p.ID == id {
			return p, true
		}
	}
	return Plan{}, false
}

// defaultPlan is where payer goes without a subscription.
func (s *Service) defaultPlan(payer string) string {
	if strings.HasPrefix(payer, "team:") {
		return s.opts.DefaultTeamPlan
	}
	return s.opts.DefaultPlan
}

func (s *Service) planOfPrice(price string) (Plan, bool) {
	for _, p := range s.opts.Plans {
		if price != "" && p.StripePrice == price {
			return p, true
		}
	}
	return Plan{}, false
}

// stripeLog sends stripe-go's own logging to slog. Its per-request info
// lines are debug here; its errors come back to us as values too.
type stripeLog struct{ l *slog.Logger }

func (s stripeLog) Debugf(f string, v ...any) { s.l.Debug(fmt.Sprintf(f, v...)) }
func (s stripeLog) Infof(f string, v ...any)  { s.l.Debug(fmt.Sprintf(f, v...)) }
func (s stripeLog) Warnf(f string, v ...any)  { s.l.Warn(fmt.Sprintf(f, v...)) }
func (s stripeLog) Errorf(f string, v ...any) { s.l.Warn(fmt.Sprintf(f, v...)) }
