package billing

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"ecode/internal/errs"
	"ecode/internal/ledger"
	"ecode/internal/mail"
	"ecode/internal/mail/mailtest"
	"ecode/internal/notify"
	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

// The outside of billing as the tests set it: who owns which project, who
// people and teams are, a clock, running sandboxes and deployments.

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type owners map[string][3]string // project → kind, owner id, name

func (o owners) Owner(_ context.Context, id string) (string, string, string, error) {
	p, ok := o[id]
	if !ok {
		return "", "", "", errs.NotFound("project_not_found", "No such project.")
	}
	return p[0], p[1], p[2], nil
}

type person struct{ name, email string }

type team struct {
	name  string
	roles map[string]string
}

type directory struct {
	users map[string]person
	teams map[string]team
}

func (d directory) Emails(_ context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		out[id] = d.users[id].email
	}
	return out, nil
}

func (d directory) Username(_ context.Context, id string) (string, error) {
	if p, ok := d.users[id]; ok {
		return p.name, nil
	}
	return "", errs.NotFound("user_not_found", "No such user.")
}

func (d directory) UserByName(_ context.Context, name string) (string, error) {
	for id, p := range d.users {
		if p.name == name {
			return id, nil
		}
	}
	return "", errs.NotFound("user_not_found", "No user %s.", name)
}

func (d directory) TeamAdmins(_ context.Context, id string) ([]string, error) {
	var out []string
	for u, r := range d.teams[id].roles {
		if r == "admin" || r == "owner" {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (d directory) TeamRole(_ context.Context, id, user string) (string, error) {
	return d.teams[id].roles[user], nil
}

func (d directory) TeamByName(_ context.Context, name string) (string, error) {
	for id, t := range d.teams {
		if t.name == name {
			return id, nil
		}
	}
	return "", errs.NotFound("team_not_found", "No team %s.", name)
}

func (d directory) TeamName(_ context.Context, id string) (string, error) {
	return d.teams[id].name, nil
}

type workloads struct {
	mu      sync.Mutex
	running []string
	stopped []string
}

func (w *workloads) RunningProjects() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.running)
}

func (w *workloads) StopProject(_ context.Context, id, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running = slices.DeleteFunc(w.running, func(p string) bool { return p == id })
	w.stopped = append(w.stopped, id+": "+reason)
}

type deployments struct {
	mu        sync.Mutex
	live      []string
	suspended []string
	resumed   []string
}

func (d *deployments) LiveProjects(context.Context) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.live), nil
}

func (d *deployments) Suspend(_ context.Context, id, _ string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.suspended = append(d.suspended, id)
	return nil
}

func (d *deployments) Resume(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.resumed = append(d.resumed, id)
	return nil
}

const (
	alice, bob, carol = "u-alice", "u-bob", "u-carol"
	acme              = "t-acme"
	blog, site        = "p-blog", "p-site" // alice's, acme's
)

var start = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

type world struct {
	db    *store.DB
	svc   *Service
	clock *clock
	dir   directory
	notes *notify.Service
	mail  *mailtest.Server
	opts  Options
}

// each runs fn on a fresh world on every engine; opts' Now is the world's
// clock, starting at start.
func each(t *testing.T, opts Options, fn func(t *testing.T, w *world)) {
	t.Helper()
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := testdb.Open(t, e)
			w := &world{db: db, clock: &clock{t: start}, notes: notify.New(db), mail: mailtest.New(t, "", "")}
			w.dir = directory{
				users: map[string]person{alice: {"alice", "alice@example.com"}, bob: {"bob", "bob@example.com"},
					carol: {"carol", "carol@example.com"}},
				teams: map[string]team{acme: {"acme", map[string]string{alice: "owner", bob: "member"}}},
			}
			sender, err := mail.New(mail.Config{URL: w.mail.URL(), From: "billing@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			opts.Now = w.clock.Now
			if opts.PublicURL == "" {
				opts.PublicURL = "https://ecode.example"
			}
			w.opts = opts
			w.svc = New(db, w.owners(), w.dir, w.notes, sender, opts)
			fn(t, w)
		})
	}
}

func (w *world) owners() owners {
	return owners{blog: {"user", alice, "alice/blog"}, site: {"team", acme, "acme/site"}}
}

// fresh is a new Service over the same database: a restarted server.
func (w *world) fresh() *Service {
	return New(w.db, w.owners(), w.dir, w.notes, nil, w.opts)
}

func (w *world) balance(t *testing.T, payer string) ledger.Balance {
	t.Helper()
	b, err := ledger.New(w.db).Balance(context.Background(), ledger.Account(payer))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (w *world) reconciled(t *testing.T) {
	t.Helper()
	r, err := w.svc.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("reconcile: %+v", r)
	}
}

func (w *world) record(t *testing.T, us ...Usage) {
	t.Helper()
	if err := w.svc.Record(context.Background(), us...); err != nil {
		t.Fatalf("record: %v", err)
	}
}

func (w *world) rate(t *testing.T) int {
	t.Helper()
	n, err := w.svc.RateNow(context.Background())
	if err != nil {
		t.Fatalf("rate: %v", err)
	}
	return n
}

// charged is the sum and count of payer's usage_charges.
func (w *world) charged(t *testing.T, payer string) (sum int64, rows int) {
	t.Helper()
	var r struct {
		Sum int64 `db:"s"`
		N   int   `db:"n"`
	}
	if err := w.db.Get(context.Background(), &r, `SELECT COALESCE(CAST(SUM(amount) AS BIGINT), 0) AS s, COUNT(*) AS n
		FROM usage_charges WHERE payer = ?`, payer); err != nil {
		t.Fatal(err)
	}
	return r.Sum, r.N
}

func (w *world) unrated(t *testing.T) int {
	t.Helper()
	var n int
	if err := w.db.Get(context.Background(), &n, `SELECT COUNT(*) FROM usage_events WHERE charge_id IS NULL`); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantPosted(t *testing.T, b ledger.Balance, want int64) {
	t.Helper()
	if b.Posted() != want {
		t.Fatalf("balance of %s = %d µcr, want %d", b.Account, b.Posted(), want)
	}
}

func wantKind(t *testing.T, err error, k errs.Kind, code string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != k || e.Code != code {
		t.Fatalf("err = %v, want kind %d code %s", err, k, code)
	}
}

// cpu is usage of seconds CPU-seconds on project p.
func cpu(key, p string, seconds int64) Usage {
	return Usage{Key: key, Meter: MeterCPU, Quantity: seconds * 1_000_000, ProjectID: p, UserID: alice}
}

const free = 500 * ledger.Micro // the Free plan's grant
