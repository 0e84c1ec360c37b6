// Package server is the composition root: it builds every capability from
// the config and mounts their routes behind one middleware chain. Nothing
// else lives here.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // ECODE_OBJECTS_URL azblob://
	_ "gocloud.dev/blob/fileblob"  // file://, the default
	_ "gocloud.dev/blob/gcsblob"   // gs://
	_ "gocloud.dev/blob/s3blob"    // s3://

	"ecode/internal/access"
	"ecode/internal/agent"
	"ecode/internal/alert"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/billing"
	"ecode/internal/billing/stripebill"
	"ecode/internal/cluster"
	"ecode/internal/collab"
	"ecode/internal/config"
	"ecode/internal/course"
	"ecode/internal/deploy"
	"ecode/internal/deploy/docker"
	kubedeploy "ecode/internal/deploy/kube"
	"ecode/internal/domain"
	"ecode/internal/events"
	"ecode/internal/grade"
	"ecode/internal/httpx"
	"ecode/internal/jobs"
	"ecode/internal/kv"
	"ecode/internal/lti"
	"ecode/internal/mail"
	"ecode/internal/membership"
	"ecode/internal/monitor"
	"ecode/internal/notify"
	"ecode/internal/oauth"
	"ecode/internal/objstore"
	"ecode/internal/passkey"
	"ecode/internal/pgcluster"
	"ecode/internal/project"
	"ecode/internal/projectdb"
	"ecode/internal/replay"
	"ecode/internal/run"
	"ecode/internal/runtime"
	"ecode/internal/runtime/bwrap"
	"ecode/internal/runtime/egress"
	"ecode/internal/runtime/kube"
	"ecode/internal/seal"
	"ecode/internal/secrets"
	"ecode/internal/snapshot"
	"ecode/internal/sshkey"
	"ecode/internal/store"
	"ecode/internal/team"
	"ecode/internal/telemetry"
	"ecode/internal/tracing"
	"ecode/internal/ui"
	"ecode/internal/ws"
	"ecode/templates"
)

// Server is the whole platform, ready to serve.
type Server struct {
	Config   config.Config
	DB       *store.DB
	Bus      *events.Bus
	Auth     *auth.Service
	Projects *project.Service
	Runs     *run.Service
	Deploys  *deploy.Service
	Domains  *domain.Service
	Billing  *billing.Service
	Router   *httpx.Router
	handler  http.Handler
	driver   sandboxDriver
	apps     func() error // closes the deploy driver's watch
	queue    *jobs.Queue
	blobs    *blob.Bucket
	tracer   *tracing.Tracer
	peers    *cluster.Cluster // nil: the only server
	fanout   *cluster.Fanout
	bg       sync.WaitGroup
	stop     context.CancelFunc
}

// Core is the platform's services that need no sandbox: what the server
// builds first, and what every admin command acts through, so none of
// them holds a service built by half.
type Core struct {
	Bus      *events.Bus
	Keyring  *seal.Keyring
	Audit    *audit.Log
	Roles    *access.Resolver
	Accounts *auth.Service
	Projects *project.Service
	Secrets  *secrets.Service
	SSHKeys  *sshkey.Service
	Teams    *team.Service
	Notes    *notify.Service
	Billing  *billing.Service
	Mail     *mail.Sender // nil without an SMTP server
}

// NewCore builds the core services over db, in the order they depend on
// each other: the audit log they all record to first, the accounts that
// the others hook into before those (see auth.Service.BeforeDelete).
func NewCore(ctx context.Context, db *store.DB, cfg config.Config) (*Core, error) {
	catalog, err := project.NewCatalog(templates.FS)
	if err != nil {
		return nil, err
	}
	keyring, err := seal.Load(cfg.MasterKey, filepath.Join(cfg.DataDir, "master.key"), cfg.PreviousKeys)
	if err != nil {
		return nil, err
	}
	audits, err := audit.OpenInstall(ctx, db, keyring, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	c := &Core{Bus: events.New(), Keyring: keyring, Audit: audits, Roles: access.NewResolver(db)}
	c.Accounts = auth.NewService(db, audits, auth.Options{SecureCookies: cfg.SecureCookies(), AllowSignup: cfg.AllowSignup,
		DeviceKey: keyring.Derive("ecode device cookie v1")[keyring.Current()], PublicURL: cfg.PublicURL})
	var uid func(string) int
	if os.Geteuid() == 0 {
		uid = runtime.SandboxUID
	}
	c.Projects, err = project.NewService(db, c.Bus, c.Roles, c.Accounts, audits, project.Options{
		DataDir: cfg.DataDir, Limits: project.Limits{MaxFile: cfg.MaxFileBytes, MaxProject: cfg.MaxProjectBytes}, Templates: catalog,
		SandboxUID: uid, Auto: project.AutoCheckpoints{Quiet: cfg.AutoCheckpoint, Gap: cfg.AutoCheckpointGap},
	})
	if err != nil {
		return nil, err
	}
	c.Secrets = secrets.NewService(db, keyring, c.Projects, c.Roles, audits)
	c.SSHKeys = sshkey.NewService(db, keyring, audits)
	c.Teams = team.NewService(db, c.Bus, c.Roles, c.Accounts, c.Projects, c.Secrets, audits)
	if c.Mail, err = mailer(cfg); err != nil {
		return nil, err
	}
	c.Notes = notify.New(db)
	c.Accounts.BeforeDelete(func(ctx context.Context, u *auth.User) error { return c.Notes.DropUser(ctx, u.ID) })
	if c.Billing, err = billingOf(db, cfg, c.Projects, people{accounts: c.Accounts, roles: c.Roles, teams: c.Teams}, c.Notes, c.Mail); err != nil {
		return nil, err
	}
	return c, nil
}

// New opens and migrates the database and builds every service. dist is
// the embedded front end.
func New(ctx context.Context, cfg config.Config, dist fs.FS) (*Server, error) {
	db, err := store.OpenMigrated(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	bgctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	fail := func(err error) (*Server, error) {
		cancel()
		db.Close()
		return nil, err
	}
	if err := prepareDataDir(cfg.DataDir); err != nil {
		return fail(err)
	}
	key, err := loadKey(filepath.Join(cfg.DataDir, "secret.key"))
	if err != nil {
		return fail(err)
	}
	core, err := NewCore(ctx, db, cfg)
	if err != nil {
		return fail(err)
	}
	bus, roles, audits, accounts, projects, vault, teams := core.Bus, core.Roles, core.Audit, core.Accounts, core.Projects, core.Secrets, core.Teams
	peers, fanout, err := joinCluster(ctx, db, bus, core.Keyring, cfg)
	if err != nil {
		return fail(err)
	}
	if fanout != nil {
		fail = func(err error) (*Server, error) {
			fanout.Close()
			cancel()
			db.Close()
			return nil, err
		}
	}
	sl := cfg.Sandbox
	if err := projects.SetResourcePolicy(ctx, project.ResourcePolicy{
		Default: project.Resources{MemoryBytes: sl.Memory, CPUs: sl.CPUs, Pids: int(sl.Pids)},
		Max:     project.Resources{MemoryBytes: sl.MaxMemory, CPUs: sl.MaxCPUs, Pids: int(sl.MaxPids), DiskBytes: sl.MaxDisk},
	}); err != nil {
		return fail(err)
	}
	private, err := cfg.PrivateNets()
	if err != nil {
		return fail(err)
	}
	reachable := egress.Reachable(private)
	proxy := egress.New(egress.Policy{Allow: egress.DefaultAllow, AllowedAddr: reachable}, slog.Default())
	driver, err := newSandboxDriver(ctx, bgctx, cfg, proxy)
	if err != nil {
		return fail(err)
	}
	bill := core.Billing
	found := findGPUs(ctx, cfg, driver)
	projects.UseGPUs(found.pool, found.off, bill.AllowGPU)
	dbOpts := databaseOptions(cfg)
	dbOpts.Meter = bill
	dbs := projectdb.New(bgctx, db, bus, core.Keyring, projects, audits, dbOpts)
	kvs := kv.New(db, core.Keyring.Derive("ecode kv token v1")[core.Keyring.Current()])
	blobs, err := blob.OpenBucket(ctx, cfg.ObjectsURL)
	if err != nil {
		return fail(fmt.Errorf("open the object storage bucket (ECODE_OBJECTS_URL): %w", err))
	}
	objects := objstore.New(db, blobs, core.Keyring.Derive("ecode objstore key v1")[core.Keyring.Current()], objstore.Options{
		Quota: cfg.StorageQuota, TempDir: filepath.Join(cfg.DataDir, "uploads"), Meter: bill,
	})
	dbs.Start(ctx)
	runs := run.NewService(bus, projects, driver, run.Options{
		IdleTimeout: cfg.SandboxIdle, ShellIdle: cfg.ShellIdle, PreviewDomain: cfg.PreviewDomain, PublicURL: cfg.PublicURL,
		StateDir: filepath.Join(cfg.DataDir, "runs"), PreviewKey: key, Egress: proxy,
		DiskCheck: cfg.DiskCheck, GitImportRoots: cfg.ImportRoots(),
		CacheRoot: filepath.Join(cfg.DataDir, "caches"), MaxCacheBytes: cfg.MaxCacheBytes,
		ToolCacheRoot: filepath.Join(cfg.DataDir, "toolcache"),
		Reachable:     reachable, SSHKey: core.SSHKeys.Private, Access: roles,
		Secrets: withData(vault.Env, dataEnv(dbs, kvs, objects, projectdb.Dev)),
		Relays:  dataRelays(dbs, kvs, objects, projectdb.Dev),
		Meter:   bill, MeterInterval: cfg.MeterInterval, GPUs: found.pool,
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	hookNets, err := cfg.WebhookNets()
	if err != nil {
		return fail(err)
	}
	snapshots := snapshot.New(db, bus, projects, dbs, kvs, objects, audits)
	tel := telemetry.New(db, projects, telemetry.Options{PublicURL: cfg.PublicURL, EventsPerSecond: cfg.MonitorRate, Burst: int(cfg.MonitorRate * 10)})
	replays := replay.New(db, blobs, tel, projects, replay.Options{})
	notes := core.Notes
	alerts := alerting(db, projects, roles, tel, notes, cfg, core.Keyring, egress.Reachable(hookNets), core.Mail)
	pay := payments(db, cfg, bill)
	prodRelays := dataRelays(dbs, kvs, objects, projectdb.Prod)
	local := deploy.NewLocal(driver, proxy, prodRelays)
	var builder deploy.Driver = local
	closeApps := func() error { return nil }
	switch cfg.DeployDriver {
	case "docker":
		if builder, err = docker.New(ctx, cfg.DockerHost, slog.Default()); err != nil {
			return fail(err)
		}
	case "kube":
		// Apps as Deployments and Services, scheduled deployments as
		// CronJobs, on the runtime's cluster; builds stay sandbox pods.
		apps, err := kubedeploy.New(ctx, kubedeploy.Config{Runtime: driver.(*kube.Driver), Local: local, Relays: prodRelays, Log: slog.Default()})
		if err != nil {
			return fail(fmt.Errorf("kube deploy driver: %w", err))
		}
		builder, closeApps = apps, apps.Close
		failed := fail
		fail = func(err error) (*Server, error) {
			_ = apps.Close()
			return failed(err)
		}
	}
	var holds func(context.Context, string) bool
	if peers != nil {
		holds = peers.Holds
	}
	deploys := deploy.NewService(bgctx, db, bus, projects, builder, deploy.Options{
		Holds:   holds,
		DataDir: cfg.DataDir, Domain: cfg.DeployDomain, PublicURL: cfg.PublicURL, Secrets: vault.DeploymentEnv, DataEnv: dataEnv(dbs, kvs, objects, projectdb.Prod), Prepare: dbs.PrepareProd, KeepData: snapshots.BeforeDeploy,
		Policy: deploy.Policy{MinInterval: cfg.MinSchedule, WebhookAddr: egress.Reachable(hookNets), Keys: core.Keyring},
		Scale:  deploy.ScaleOptions{StableWindow: cfg.DeployIdle}, Registerer: reg,
		ImageRegistry: cfg.ImageRegistry,
		Observe: func(projectID string, r *http.Request, status int, d time.Duration) {
			tel.ObserveRequest(projectID, r.Method, telemetry.NormalizePath(r.URL.Path), status, d)
		},
		Snippet: tel.Snippet,
		Meter:   bill, MeterInterval: cfg.MeterInterval, GPUs: found.pool,
	})
	if err := deploys.Recover(ctx); err != nil {
		return fail(err)
	}
	bill.Govern(runs, deploys)
	ai := aiConfig(cfg.AI())
	ai.Meter = bill
	agents := agent.NewService(bgctx, db, projects, runs, dbs, snapshots, ai, agent.DefaultBudgets)
	events.Subscribe(bus, func(_ context.Context, e project.Gone) { agents.LetGo(e.ProjectID) })
	events.Subscribe(bus, func(_ context.Context, e project.HandedOver) { agents.LetGo(e.ProjectID) })
	if peers == nil {
		if err := agents.Recover(ctx, ""); err != nil {
			return fail(err)
		}
	} else {
		// The others may be running agents: only those of a dead server's
		// projects ended with it.
		events.Subscribe(bus, func(ctx context.Context, e project.Adopted) {
			if err := agents.Recover(ctx, e.ProjectID); err != nil {
				slog.Error("fail an adopted project's agent runs", "project_id", e.ProjectID, "err", err)
			}
		})
	}
	queue, err := jobs.New(ctx, db, jobs.Options{Workers: map[string]int{course.GradingQueue: int(cfg.GradingWorkers)}})
	if err != nil {
		return fail(err)
	}
	courses, err := course.New(bgctx, db, bus, projects, accounts, grade.New(driver, grade.Options{
		TempDir: filepath.Join(cfg.DataDir, "grading"), ToolCacheDir: filepath.Join(cfg.DataDir, "toolcache"),
	}), queue, audits,
		course.Options{DataDir: cfg.DataDir})
	if err != nil {
		return fail(err)
	}
	tool, err := lti.New(bgctx, db, bus, core.Keyring, accounts, courses, queue, audits, lti.Options{PublicURL: cfg.PublicURL})
	if err != nil {
		return fail(err)
	}
	if err := queue.Start(bgctx); err != nil {
		return fail(err)
	}
	members := membership.New(db, roles, accounts, audits, projects.Roster(), teams.Roster())
	logins := oauth.NewService(db, accounts, audits, oauthOptions(cfg))
	passkeys := passkey.NewService(db, accounts, audits, cfg.PasskeyOrigin)
	live := collab.NewService(bus, projects, collab.Options{MaxFile: cfg.MaxFileBytes})
	domainOpts, err := domainOptions(cfg)
	if err != nil {
		return fail(err)
	}
	domainOpts.Reachable = reachable
	domains, err := domain.NewService(db, bus, projects, deploys, audits, domainOpts)
	if err != nil {
		return fail(err)
	}
	var tracer *tracing.Tracer
	if cfg.OTLPEndpoint != "" {
		if tracer, err = tracing.New(cfg.OTLPEndpoint, 5*time.Second); err != nil {
			return fail(err)
		}
	}
	s := &Server{
		Config:   cfg,
		DB:       db,
		Bus:      bus,
		Auth:     accounts,
		Projects: projects,
		Runs:     runs,
		Deploys:  deploys,
		Domains:  domains,
		Billing:  bill,
		Router:   httpx.NewRouter(),
		driver:   driver,
		apps:     closeApps,
		queue:    queue,
		blobs:    blobs,
		tracer:   tracer,
		stop:     cancel,
	}
	events.Subscribe(bus, func(ctx context.Context, e project.Deleted) {
		// A project's objects and replays go with it, in the background:
		// one blob each.
		s.bg.Go(func() {
			ctx := context.WithoutCancel(ctx)
			if err := objects.DropProject(ctx, e.ProjectID); err != nil {
				slog.Error("drop a deleted project's objects", "project", e.ProjectID, "err", err)
			}
			if err := replays.DropScope(ctx, e.ProjectID); err != nil {
				slog.Error("drop a deleted project's replays", "project", e.ProjectID, "err", err)
			}
			if err := tel.DropScope(ctx, e.ProjectID); err != nil {
				slog.Error("drop a deleted project's monitoring", "project", e.ProjectID, "err", err)
			}
			if err := alerts.DropProject(ctx, e.ProjectID); err != nil {
				slog.Error("drop a deleted project's alerts", "project", e.ProjectID, "err", err)
			}
		})
	})

	checks := []monitor.Check{
		{Name: "db", Run: db.PingContext},
		monitor.DiskCheck(cfg.DataDir, 100<<20),
		{Name: "runtime", Run: driver.Check},
		{Name: "project_databases", Run: dbs.Check},
		found.check(),
	}
	if peers != nil {
		checks = append(checks, monitor.Check{Name: "cluster", Run: peers.Check}, monitor.Check{Name: "events", Run: fanout.Check})
	}
	health := monitor.NewHealth(reg, checks...)

	health.Routes(s.Router)
	found.routes(s.Router)
	s.Auth.Routes(s.Router)
	logins.Routes(s.Router)
	passkeys.Routes(s.Router)
	s.Projects.Routes(s.Router)
	s.Runs.Routes(s.Router)
	deploys.Routes(s.Router)
	domains.Routes(s.Router)
	dbs.Routes(s.Router)
	kv.NewManager(kvs, projects, audits).Routes(s.Router)
	objstore.NewManager(objects, projects, audits).Routes(s.Router)
	snapshots.Routes(s.Router)
	tel.Routes(s.Router)
	replays.Routes(s.Router)
	alerts.Routes(s.Router)
	notes.Routes(s.Router)
	bill.Routes(s.Router)
	pay.Routes(s.Router)
	core.SSHKeys.Routes(s.Router)
	vault.Routes(s.Router)
	teams.Routes(s.Router)
	members.Routes(s.Router)
	audits.Routes(s.Router, func(r *http.Request) (string, bool) {
		u := auth.Actor(r)
		if u == nil {
			return "", false
		}
		return u.ID, true
	}, func(w http.ResponseWriter, r *http.Request) bool { return auth.RequireAdmin(w, r) != nil })
	agents.Routes(s.Router)
	courses.Routes(s.Router)
	tool.Routes(s.Router)
	(&ws.Handler{Projects: projects, Runs: runs, Agents: agents, Collab: live}).Routes(s.Router)
	s.Router.Fallback(ui.New(dist, func(r *http.Request, owner, slug string) error {
		if slug == "" {
			_, err := teams.Get(r.Context(), auth.Actor(r), owner)
			return err
		}
		_, err := projects.BySlug(r.Context(), auth.Actor(r), owner, slug)
		return err
	}))

	var h http.Handler = s.Router
	h = s.Auth.Middleware(h)
	// Keyed or signed, from any site; an LMS's login and launch are form
	// posts from its own site, the launch proved by its signed id_token.
	h = httpx.CrossOrigin(h, "POST /api/monitoring/event", "POST /api/monitoring/replay", "POST /api/billing/stripe/webhook",
		"POST /lti/login", "POST /lti/launch")
	h = tool.FormTarget(h)
	h = httpx.SecurityHeaders(httpx.Security{HTTPS: cfg.SecureCookies(), PreviewOrigin: cfg.PreviewOrigin()})(h)
	h = previews(runs, h)
	// Previews too: they share the listener.
	h = httpx.BodyTimeout(cfg.ReadTimeout, h)
	proxies, _ := cfg.Proxies() // checked by cfg.Validate
	metrics := httpx.NewMetrics(reg)
	metrics.OnRequest(func(method, route string, status int, d time.Duration) {
		tel.ObserveRequest(telemetry.Platform, method, route, status, d)
	})
	h = tracer.Handler(httpx.Observe(metrics, slog.Default(), proxies, h))
	// Deployments ahead of the platform's own middleware: the edge counts
	// and logs what it serves itself, per deployment.
	h = sites(deploys, domains, httpx.BodyTimeout(cfg.ReadTimeout, http.HandlerFunc(deploys.ServeSite)), h)
	h = domains.Challenges(h) // ACME asks on the domain's name, before it serves anything
	if peers != nil {
		h = peers.Forward(projectOf(bus, projects, runs, deploys, domains), proxies, h)
		s.bg.Go(func() { peers.Run(bgctx) })
		s.peers, s.fanout = peers, fanout
	}
	s.handler = h

	s.bg.Go(func() { s.Auth.Run(bgctx) })
	s.bg.Go(func() { s.Runs.Run(bgctx) })
	s.bg.Go(func() { projects.Run(bgctx) })
	s.bg.Go(agents.Wait)
	s.bg.Go(deploys.Wait)
	s.bg.Go(dbs.Wait)
	s.bg.Go(func() { tel.Run(bgctx) })
	s.bg.Go(func() { replays.Run(bgctx) })
	s.bg.Go(func() { alerts.Run(bgctx) })
	s.bg.Go(func() { bill.Run(bgctx) })
	s.bg.Go(func() { objects.RunMeter(bgctx) })
	s.bg.Go(func() { projects.RunMeter(bgctx, bill) })
	s.bg.Go(func() { pay.Run(bgctx) })
	s.bg.Go(func() { _ = driver.Check(bgctx) }) // warm the probe before the first health check
	if cfg.GoCachePrewarm {
		s.bg.Go(func() { runs.PrewarmGoCache(bgctx) })
	}
	return s, nil
}

// dataEnv is what commands of env are given to reach their project's data:
// its database (when it has one), the URL of its key-value store and the
// credentials of its object storage.
func dataEnv(dbs *projectdb.Service, kvs *kv.Store, objects *objstore.Store, env string) func(context.Context, string) ([]string, error) {
	return func(ctx context.Context, projectID string) ([]string, error) {
		db, err := dbs.Env(ctx, projectID, env)
		if err != nil {
			return nil, err
		}
		db = append(db, "REPLIT_DB_URL="+kvs.URL(kv.Scope{ProjectID: projectID, Env: env}))
		return append(db, objects.S3Env(objstore.Scope{ProjectID: projectID, Env: env})...), nil
	}
}

// withData puts data's variables before the secrets, so a secret of the
// same name (a database of the person's own elsewhere) wins.
func withData(secrets, data func(context.Context, string) ([]string, error)) func(context.Context, string) ([]string, error) {
	return func(ctx context.Context, projectID string) ([]string, error) {
		own, err := secrets(ctx, projectID)
		if err != nil {
			return nil, err
		}
		d, err := data(ctx, projectID)
		if err != nil {
			return nil, err
		}
		return append(d, own...), nil
	}
}

// dataRelays are the ports a sandbox of env reaches its project's data on:
// the database, the key-value store and object storage's APIs.
func dataRelays(dbs *projectdb.Service, kvs *kv.Store, objects *objstore.Store, env string) func(string) []runtime.Relay {
	return func(projectID string) []runtime.Relay {
		sc := objstore.Scope{ProjectID: projectID, Env: env}
		return []runtime.Relay{
			dbs.Relay(projectID, env),
			kvs.Relay(kv.Scope{ProjectID: projectID, Env: env}),
			objects.S3Relay(sc),  // S3 on :9000
			objects.GCSRelay(sc), // GCS JSON API and Replit's sidecar on :1106
		}
	}
}

// alerting is the alerts over tel's data and where they are told: in the
// app, to signed webhooks where the operator lets webhooks go, and by
// email when an SMTP server is configured (mailer not nil).
func alerting(db *store.DB, projects *project.Service, roles *access.Resolver, tel *telemetry.Service, notes *notify.Service, cfg config.Config, keys *seal.Keyring, hookAddr func(netip.Addr) bool, mailer *mail.Sender) *alert.Service {
	return alert.New(db, projects, tel, notes, roles, alert.Options{
		Interval: cfg.AlertInterval, WebhookAddr: hookAddr, Keys: keys, Mail: mailer, PublicURL: cfg.PublicURL,
	})
}

// mailer is the platform's email, nil without an SMTP server.
func mailer(cfg config.Config) (*mail.Sender, error) {
	if cfg.SMTPURL == "" {
		return nil, nil
	}
	return mail.New(mail.Config{URL: cfg.SMTPURL, From: cfg.SMTPFrom})
}

// billingOf is the credits of people and teams: plans and prices from
// ECODE_PLANS_FILE or the built-in ones.
func billingOf(db *store.DB, cfg config.Config, projects *project.Service, who people, notes *notify.Service, m *mail.Sender) (*billing.Service, error) {
	cat := billing.DefaultCatalog()
	if cfg.PlansFile != "" {
		var err error
		if cat, err = billing.LoadCatalog(cfg.PlansFile); err != nil {
			return nil, err
		}
	}
	var email billing.Mailer // a nil interface, not a typed nil, without SMTP
	if m != nil {
		email = m
	}
	return billing.New(db, projects, who, notes, email, billing.Options{
		Enforce: cfg.Billing, Catalog: cat, Grace: cfg.BillingGrace, RatingInterval: cfg.RatingInterval,
		PublicURL: cfg.PublicURL, Stripe: cfg.StripeKey != "",
	}), nil
}

// payments is Stripe's way of paying for credits, when the operator
// configured it (else its routes say so).
func payments(db *store.DB, cfg config.Config, bill *billing.Service) *stripebill.Service {
	cat := bill.Catalog()
	plans := make([]stripebill.Plan, 0, len(cat.Plans))
	for _, p := range cat.Plans {
		plans = append(plans, stripebill.Plan{ID: p.ID, StripePrice: p.StripePrice})
	}
	return stripebill.New(db, bill, bill, stripebill.Options{
		SecretKey: cfg.StripeKey, WebhookSecret: cfg.StripeWebhookKey, APIURL: cfg.StripeURL, PublicURL: cfg.PublicURL,
		Plans: plans, DefaultPlan: cat.DefaultPlan, DefaultTeamPlan: cat.DefaultTeamPlan,
		CentsPerCredit: cat.TopUps.CentsPerCredit, MinCredits: cat.TopUps.MinCredits,
	})
}

// databaseOptions are where projects' databases live: the external server
// the operator named, else the platform's own cluster under the data dir,
// started on first need. Without PostgreSQL's binaries they are not offered.
func databaseOptions(cfg config.Config) projectdb.Options {
	opts := projectdb.Options{DataDir: cfg.DataDir, QuotaBytes: cfg.DatabaseQuota}
	limits := pgcluster.DefaultLimits()
	if cfg.ProjectPostgres != "" {
		opts.Open = func(ctx context.Context) (*pgcluster.Cluster, error) {
			return pgcluster.Open(ctx, cfg.ProjectPostgres, limits)
		}
		return opts
	}
	c, err := pgcluster.New(pgcluster.Config{Dir: filepath.Join(cfg.DataDir, "postgres"), Limits: limits})
	if err != nil {
		slog.Warn("project databases are off", "err", err)
		opts.Unavailable = "PostgreSQL's server programs are not installed on it (Debian's postgresql package)."
		return opts
	}
	opts.Open = func(ctx context.Context) (*pgcluster.Cluster, error) {
		if err := c.Start(ctx); err != nil {
			return nil, err
		}
		return c, nil
	}
	return opts
}

// previews sends requests for a preview host to the app running there;
// they never reach the platform's routes or its session.
func previews(runs *run.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := runs.PreviewTarget(r.Host); ok {
			runs.ServePreview(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sites sends requests for a deployment host, or a project's custom
// domain, to its live release, served by the platform without its routes
// or session.
func sites(deploys *deploy.Service, domains *domain.Service, site, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := deploys.Target(r.Host); ok {
			site.ServeHTTP(w, r)
			return
		}
		if domains.Claims(r) {
			domains.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Peers is this server's place in a cluster; nil when it runs alone.
func (s *Server) Peers() *cluster.Cluster { return s.peers }

// Handler is the platform's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops every sandbox and background work, and closes the database.
func (s *Server) Close() error {
	drain, cancelDrain := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelDrain()
	if err := s.queue.Stop(drain); err != nil {
		slog.Warn("stop the job queue", "err", err)
	}
	s.stop()
	s.bg.Wait()
	if s.fanout != nil {
		s.fanout.Close()
	}
	s.Domains.Close()
	if err := s.apps(); err != nil {
		slog.Warn("close deploy driver", "err", err)
	}
	if err := s.driver.Close(); err != nil {
		slog.Warn("close sandbox driver", "err", err)
	}
	flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.tracer.Close(flush); err != nil {
		slog.Warn("close tracing", "err", err)
	}
	if err := s.blobs.Close(); err != nil {
		slog.Warn("close object storage bucket", "err", err)
	}
	return s.DB.Close()
}

// Configure sets the timeouts every listener of the platform needs. Headers
// must arrive within the read timeout (a slowloris holds nothing longer);
// bodies are timed per pause by httpx.BodyTimeout in the handler, not by
// ReadTimeout, which would end long uploads and WebSockets; an idle
// keep-alive connection is closed after IdleTimeout.
func (s *Server) Configure(hs *http.Server) {
	hs.ReadHeaderTimeout = s.Config.ReadTimeout
	hs.IdleTimeout = 2 * time.Minute
	hs.ErrorLog = slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn)
}

// Serve listens on the configured address until ctx ends, then shuts down
// gracefully. ready, if set, is called with the bound address.
func (s *Server) Serve(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Config.Addr, err)
	}
	hs := &http.Server{Handler: s.handler}
	s.Configure(hs)
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	stopTLS, err := s.serveTLS(errc)
	if err != nil {
		_ = hs.Close()
		return err
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := stopTLS(shutdown); err != nil {
		return fmt.Errorf("shutdown https: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func aiConfig(e config.AIEndpoint) agent.Config {
	return agent.Config{API: e.API, BaseURL: e.BaseURL, APIKey: e.APIKey, Model: e.Model}
}

func oauthOptions(cfg config.Config) oauth.Options {
	o := oauth.Options{PublicURL: cfg.PublicURL, AzureTenant: cfg.OAuth.AzureADTenant, Clients: map[string]oauth.Client{}}
	for _, p := range config.OAuthProviders {
		if c := cfg.OAuth.Client(p); c.Enabled() {
			o.Clients[p] = oauth.Client{ID: c.ClientID, Secret: c.ClientSecret, BaseURL: c.BaseURL}
		}
	}
	return o
}

// sandboxDriver is the runtime sandboxes start on, which the server stops
// last.
type sandboxDriver interface {
	runtime.Runtime
	Close() error
}

// newSandboxDriver starts the runtime cfg names: bwrap on this machine, or
// pods on a Kubernetes cluster.
func newSandboxDriver(ctx, bgctx context.Context, cfg config.Config, proxy *egress.Proxy) (sandboxDriver, error) {
	if cfg.Runtime != "kube" {
		return bwrap.New(bgctx, bwrap.Config{
			StateDir: ownDir(cfg, "sandboxes"), Limits: bwrap.DefaultLimits(), Egress: proxy,
		})
	}
	agentBinary, err := runtime.AgentOnHost()
	if err != nil {
		return nil, err
	}
	d, err := kube.New(ctx, kube.Config{
		Kubeconfig: cfg.Kubeconfig, Namespace: cfg.KubeNamespace, ServerID: cfg.ServerID,
		Image: cfg.SandboxImage, Registry: cfg.ImageRegistry, AgentBinary: agentBinary,
		RuntimeClass: cfg.KubeRuntimeClass, DataClaim: cfg.KubeDataClaim, DataDir: cfg.DataDir, Egress: proxy,
		NodePool: cfg.KubeNodePool, NodeLost: cfg.KubeNodeLost,
	})
	if err != nil {
		return nil, fmt.Errorf("kube runtime: %w", err)
	}
	return d, nil
}
