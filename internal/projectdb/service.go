// Package projectdb is each project's own PostgreSQL: a database per
// environment (dev for the workspace, prod for deployments), created with one
// click in the platform's cluster (internal/pgcluster), reached from the
// sandbox at 127.0.0.1:5432 through a relay that admits only the project's
// own role and database, and given to every command as DATABASE_URL and the
// PG* variables. Around it: the SQL console, the table browser, backups and
// restores, and the size quota.
//
// The role's password is the platform's: sealed under the master key in the
// platform's database, rotated on demand; the cluster holds only its SCRAM
// verifier.
package projectdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/billing"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/pgcluster"
	"ecode/internal/project"
	"ecode/internal/seal"
	"ecode/internal/store"
)

// Env names: the workspace's database and the deployments'.
const (
	Dev  = "dev"
	Prod = "prod"
)

// SandboxPort is where a sandbox reaches its database, on its own loopback.
const SandboxPort = 5432

// Projects is what project databases need of the project capability.
type Projects interface {
	Get(ctx context.Context, actor *auth.User, id string, a access.Action) (*project.Project, error)
}

// Options of the service.
type Options struct {
	// Open starts or connects to the cluster; it is called on first need,
	// not at construction, so a platform whose projects have no database
	// runs no PostgreSQL. Nil: project databases are not offered.
	Open func(ctx context.Context) (*pgcluster.Cluster, error)
	// Unavailable says why Open is nil, for the person who asks.
	Unavailable string
	// DataDir holds the backups, under backups/<project>/.
	DataDir string
	// QuotaBytes is the size a database may reach before it turns
	// read-only; 0 is 1 GiB.
	QuotaBytes int64
	// Meter, when set, is told every hour what databases and backups hold
	// (meter.go).
	Meter billing.Recorder
}

// Service manages projects' databases.
type Service struct {
	ctx      context.Context // background work ends with it
	db       *store.DB
	keys     *seal.Keyring
	projects Projects
	audit    *audit.Log
	opts     Options
	log      *slog.Logger

	mu       sync.Mutex
	cluster  *pgcluster.Cluster // under mu; set once it runs
	starting sync.Mutex         // held while the cluster starts
	warming  atomic.Bool
	wg       sync.WaitGroup
	busy     sync.Map // databases a backup, restore or copy works on: one at a time
}

// New builds the service; its background work ends with ctx (Wait waits for
// it, then closes the cluster). It follows projects on bus: a deleted
// project's databases and backups go with it.
func New(ctx context.Context, db *store.DB, bus *events.Bus, keys *seal.Keyring, projects Projects, audits *audit.Log, opts Options) *Service {
	if db == nil || bus == nil || keys == nil || projects == nil {
		panic("projectdb.New: nil db, bus, keys or projects")
	}
	if opts.QuotaBytes == 0 {
		opts.QuotaBytes = 1 << 30
	}
	s := &Service{ctx: ctx, db: db, keys: keys, projects: projects, audit: audits, opts: opts, log: slog.Default()}
	events.Subscribe(bus, func(ctx context.Context, e project.Deleted) {
		// The rows went with the project; the databases and dumps are dropped
		// here. The cluster is asked only where there were any.
		s.wg.Go(func() { s.dropProject(context.WithoutCancel(ctx), e.ProjectID) })
	})
	return s
}

// Info is a project environment's database as the pane shows it.
type Info struct {
	Env        string `json:"env"`
	Name       string `json:"name"` // of both the database and its role
	CreatedAt  int64  `json:"createdAt"`
	CreatedBy  string `json:"createdBy"`
	SizeBytes  int64  `json:"sizeBytes"`
	SizeAt     int64  `json:"sizeAt"`
	QuotaBytes int64  `json:"quotaBytes"`
	ReadOnly   bool   `json:"readOnly"`
	Limits     Limits `json:"limits"`
	// What a command in the sandbox connects to.
	Host string `json:"host"`
	Port int    `json:"port"`
}

// Limits are a database's limits as the pane shows them.
type Limits struct {
	Connections         int   `json:"connections"`
	StatementTimeoutMs  int64 `json:"statementTimeoutMs"`
	IdleInTransactionMs int64 `json:"idleInTransactionMs"`
	TempFileBytes       int64 `json:"tempFileBytes"`
}

// Status says whether project databases can be had here, and why not.
type Status struct {
	Available bool   `json:"available"`
	Message   string `json:"message,omitempty"`
	External  bool   `json:"external"` // on an external server (ECODE_PROJECT_POSTGRES_URL)
}

// Credentials are how a person connects to a database from the sandbox.
type Credentials struct {
	Env      string `json:"env"`
	URL      string `json:"url"` // postgresql://role:password@127.0.0.1:5432/name
	User     string `json:"user"`
	Password string `json:"password"`
	Database string `json:"database"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
}

// row is a project_databases row.
type row struct {
	ProjectID string `db:"project_id"`
	Env       string `db:"env"`
	Name      string `db:"name"`
	Password  string `db:"password"` // sealed
	CreatedBy string `db:"created_by"`
	CreatedAt int64  `db:"created_at"`
	SizeBytes int64  `db:"size_bytes"`
	SizeAt    int64  `db:"size_at"`
	ReadOnly  bool   `db:"read_only"`
}

// target is one environment's database, opened: what the console, the
// browser and backups work on.
type target struct {
	row
	password string
	cluster  *pgcluster.Cluster
}

// DSN is the platform's way in as the project's own role (never as the
// cluster's superuser): what a project may do, the platform does for it.
func (t *target) DSN() string { return t.cluster.DSN(t.Name, t.password) }

func checkEnv(env string) error {
	if env != Dev && env != Prod {
		return errs.Invalid("database_env_invalid", "The environment must be dev or prod, not %q.", env)
	}
	return nil
}

// Status answers whether databases are offered here.
func (s *Service) Status() Status {
	if s.opts.Open == nil {
		return Status{Message: s.opts.Unavailable}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{Available: true, External: s.cluster != nil && s.cluster.External()}
}

// clusterFor answers the cluster, starting it on first need.
func (s *Service) clusterFor(ctx context.Context) (*pgcluster.Cluster, error) {
	if s.opts.Open == nil {
		return nil, errs.Unavailable("databases_unavailable", "Project databases are not available on this server: %s", s.opts.Unavailable)
	}
	if c := s.started(); c != nil {
		return c, nil
	}
	// One start at a time; those who come meanwhile wait for it, while
	// what only reads the state (Status, Check) does not.
	s.starting.Lock()
	defer s.starting.Unlock()
	if c := s.started(); c != nil {
		return c, nil
	}
	if s.ctx.Err() != nil {
		return nil, errs.Unavailable("server_stopping", "The server is stopping.")
	}
	c, err := s.opts.Open(ctx)
	if err != nil {
		return nil, &errs.Error{Kind: errs.KindUnavailable, Code: "databases_unavailable",
			Message: "The database server did not start; the server's log says why.", Cause: err}
	}
	s.mu.Lock()
	s.cluster = c
	s.mu.Unlock()
	return c, nil
}

// started answers the cluster once it runs, else nil.
func (s *Service) started() *pgcluster.Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cluster
}

// warm starts the cluster in the background, once: a person who opened the
// Database pane is about to ask for it, and a first start (initdb on a
// fresh data dir) takes a second or two.
func (s *Service) warm() {
	if s.opts.Open == nil || s.started() != nil || !s.warming.CompareAndSwap(false, true) {
		return
	}
	s.wg.Go(func() {
		if _, err := s.clusterFor(s.ctx); err != nil && s.ctx.Err() == nil {
			s.log.Error("start the project database server", "err", err)
		}
	})
}

// Start begins the upkeep (sizes against the quota, daily backups) and
// brings the cluster up at server start when some project has a database,
// so sandboxes and deployments reach theirs without waiting.
func (s *Service) Start(ctx context.Context) {
	if s.opts.Open == nil {
		return
	}
	s.wg.Go(func() { s.runMaintenance(s.ctx) })
	var orphans []string
	if err := s.db.Select(ctx, &orphans, `SELECT DISTINCT project_id FROM project_databases
		WHERE project_id NOT IN (SELECT id FROM projects)`); err != nil {
		s.log.Error("find the databases of deleted projects", "err", err)
	}
	for _, id := range orphans {
		s.wg.Go(func() { s.dropProject(s.ctx, id) })
	}
	var n int
	if err := s.db.Get(ctx, &n, `SELECT count(*) FROM project_databases`); err != nil || n == 0 {
		return
	}
	s.wg.Go(func() {
		if _, err := s.clusterFor(s.ctx); err != nil {
			s.log.Error("start the project database server", "err", err)
		}
	})
}

// Check is the health check: fine while no cluster was needed yet.
func (s *Service) Check(ctx context.Context) error {
	if c := s.started(); c != nil {
		return c.Ping(ctx)
	}
	return nil
}

// Wait waits for background work to end (the service's context ended) and
// shuts the cluster down.
func (s *Service) Wait() {
	<-s.ctx.Done()
	s.wg.Wait()
	// A start under way for a request ends first; none begins after.
	s.starting.Lock()
	defer s.starting.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cluster != nil {
		if err := s.cluster.Close(); err != nil {
			s.log.Warn("close the project database server", "err", err)
		}
		s.cluster = nil
	}
}

func (s *Service) info(r row) Info {
	l := pgcluster.DefaultLimits()
	if c := s.started(); c != nil {
		l = c.Limits()
	}
	return Info{Env: r.Env, Name: r.Name, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, SizeBytes: r.SizeBytes, SizeAt: r.SizeAt,
		QuotaBytes: s.opts.QuotaBytes, ReadOnly: r.ReadOnly, Host: "127.0.0.1", Port: SandboxPort,
		Limits: Limits{Connections: l.Connections, StatementTimeoutMs: l.StatementTimeout.Milliseconds(),
			IdleInTransactionMs: l.IdleInTransaction.Milliseconds(), TempFileBytes: l.TempFileBytes}}
}

// List answers the project's databases, to anyone who may read it.
func (s *Service) List(ctx context.Context, actor *auth.User, projectID string) ([]Info, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	rows, err := listRows(ctx, s.db, p.ID)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 && p.CanEdit {
		s.warm() // the next click may well be Create
	}
	out := make([]Info, 0, len(rows))
	for _, r := range rows {
		out = append(out, s.info(r))
	}
	return out, nil
}

// Has tells whether the project has a database of env.
func (s *Service) Has(ctx context.Context, projectID, env string) (bool, error) {
	_, err := getRow(ctx, s.db, projectID, env)
	if errors.Is(err, errNoDatabase) {
		return false, nil
	}
	return err == nil, err
}

// Create makes the project's database of env. It answers the database
// already there when there is one.
func (s *Service) Create(ctx context.Context, actor *auth.User, projectID, env string) (Info, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return Info{}, err
	}
	r, _, err := s.ensure(ctx, p.ID, env, actor.ID)
	if err != nil {
		return Info{}, err
	}
	if t, err := s.open(ctx, p.ID, env); err == nil {
		r = s.remeasure(ctx, t) // the pane shows its size from the start
	}
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "database.create", audit.Target("project", p.ID), map[string]any{"env": env})
	return s.info(r), nil
}

// ensure answers the database of env, provisioning it when the project has
// none; created says whether it was made now.
func (s *Service) ensure(ctx context.Context, projectID, env, by string) (r row, created bool, err error) {
	if err := checkEnv(env); err != nil {
		return row{}, false, err
	}
	c, err := s.clusterFor(ctx)
	if err != nil {
		return row{}, false, err
	}
	if r, err := getRow(ctx, s.db, projectID, env); err == nil {
		return r, false, nil
	} else if !errors.Is(err, errNoDatabase) {
		return row{}, false, err
	}
	name, err := pgcluster.Name(projectID, env)
	if err != nil {
		return row{}, false, err
	}
	password := pgcluster.NewPassword()
	// The row first: a crash after it leaves a database that Provision
	// finishes next time, never a database whose password nobody kept.
	r = row{ProjectID: projectID, Env: env, Name: name, Password: s.keys.Seal([]byte(password), aad(projectID, env)),
		CreatedBy: by, CreatedAt: store.Now()}
	if err := insertRow(ctx, s.db, r); err != nil {
		if errors.Is(err, errDuplicate) { // made meanwhile by another request
			r, err := getRow(ctx, s.db, projectID, env)
			return r, false, err
		}
		return row{}, false, err
	}
	if err := c.Provision(ctx, name, password); err != nil {
		_ = deleteRow(context.WithoutCancel(ctx), s.db, projectID, env)
		return row{}, false, fmt.Errorf("create the %s database: %w", env, err)
	}
	return r, true, nil
}

// aad binds a sealed password to its project and environment.
func aad(projectID, env string) []byte { return []byte("database:" + projectID + "/" + env) }

// open answers the database of env, its password unsealed and the cluster
// started; errs.NotFound when the project has none.
func (s *Service) open(ctx context.Context, projectID, env string) (*target, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	r, err := getRow(ctx, s.db, projectID, env)
	if errors.Is(err, errNoDatabase) {
		return nil, errs.NotFound("database_not_found", "This project has no %s database yet; create it in the Database pane.", env)
	}
	if err != nil {
		return nil, err
	}
	plain, err := s.keys.Open(r.Password, aad(projectID, env))
	if err != nil {
		return nil, fmt.Errorf("open the %s database's password: %w", env, err)
	}
	c, err := s.clusterFor(ctx)
	if err != nil {
		return nil, err
	}
	return &target{row: r, password: string(plain), cluster: c}, nil
}

// connect opens a session on t as the project's role; configure, when
// given, adjusts the connection first (to collect notices, say).
func (s *Service) connect(ctx context.Context, t *target, configure ...func(*pgconn.Config)) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(t.DSN())
	if err != nil {
		return nil, fmt.Errorf("address of %s: %w", t.Name, err)
	}
	for _, c := range configure {
		c(&cfg.Config)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, &errs.Error{Kind: errs.KindUnavailable, Code: "database_unreachable",
			Message: "The database did not accept a connection; try again in a moment.", Cause: err}
	}
	return conn, nil
}

// Credentials answers how to connect to the database of env, to people who
// may change the project (they run its code, which holds them anyway).
func (s *Service) Credentials(ctx context.Context, actor *auth.User, projectID, env string) (Credentials, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return Credentials{}, err
	}
	t, err := s.open(ctx, p.ID, env)
	if err != nil {
		return Credentials{}, err
	}
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "database.reveal", audit.Target("project", p.ID), map[string]any{"env": env})
	return credentialsOf(t), nil
}

func credentialsOf(t *target) Credentials {
	u := url.URL{Scheme: "postgresql", User: url.UserPassword(t.Name, t.password),
		Host: "127.0.0.1:" + strconv.Itoa(SandboxPort), Path: "/" + t.Name}
	return Credentials{Env: t.Env, URL: u.String(), User: t.Name, Password: t.password, Database: t.Name,
		Host: "127.0.0.1", Port: SandboxPort}
}

// Rotate gives the database of env a new password. Sessions already open
// stay open; commands started from now on get the new one.
func (s *Service) Rotate(ctx context.Context, actor *auth.User, projectID, env string) (Info, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return Info{}, err
	}
	t, err := s.open(ctx, p.ID, env)
	if err != nil {
		return Info{}, err
	}
	password := pgcluster.NewPassword()
	sealed := s.keys.Seal([]byte(password), aad(p.ID, env))
	// The cluster first: should the row's update fail, the old password
	// fails too, and Rotate again mends both.
	if err := t.cluster.SetPassword(ctx, t.Name, password); err != nil {
		return Info{}, err
	}
	if err := setPassword(ctx, s.db, p.ID, env, sealed); err != nil {
		return Info{}, err
	}
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "database.rotate", audit.Target("project", p.ID), map[string]any{"env": env})
	return s.info(t.row), nil
}

// Drop removes the database of env and its backups, for whoever
// administers the project.
func (s *Service) Drop(ctx context.Context, actor *auth.User, projectID, env string) error {
	p, err := s.projects.Get(ctx, actor, projectID, access.Admin)
	if err != nil {
		return err
	}
	t, err := s.open(ctx, p.ID, env)
	if err != nil {
		return err
	}
	if err := t.cluster.Drop(ctx, t.Name); err != nil {
		return err
	}
	if err := deleteRow(ctx, s.db, p.ID, env); err != nil {
		return err
	}
	s.removeBackups(ctx, p.ID, env)
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "database.drop", audit.Target("project", p.ID), map[string]any{"env": env})
	return nil
}

// dropProject drops a deleted project's databases and its backups' files.
// A database the cluster could not drop keeps its row, and the next start
// tries again.
func (s *Service) dropProject(ctx context.Context, projectID string) {
	defer os.RemoveAll(s.backupDir(projectID))
	rows, err := listRows(ctx, s.db, projectID)
	if err != nil || len(rows) == 0 {
		if err != nil {
			s.log.Error("drop a deleted project's databases", "project", projectID, "err", err)
		}
		return
	}
	c, err := s.clusterFor(ctx)
	if err != nil {
		s.log.Error("drop a deleted project's databases", "project", projectID, "err", err)
		return
	}
	for _, r := range rows {
		if err := c.Drop(ctx, r.Name); err != nil {
			s.log.Error("drop a deleted project's database", "project", projectID, "env", r.Env, "err", err)
			continue
		}
		if err := deleteRow(ctx, s.db, projectID, r.Env); err != nil {
			s.log.Error("forget a deleted project's database", "project", projectID, "env", r.Env, "err", err)
		}
	}
}

// backupDir is where a project's dumps are kept.
func (s *Service) backupDir(projectID string) string {
	return filepath.Join(s.opts.DataDir, "backups", projectID)
}

// Env is the secret part of what commands of a project's environment are
// given to reach its database (nothing when it has none): DATABASE_URL and
// PGPASSWORD, masked in output like secrets. The rest is the relay's.
func (s *Service) Env(ctx context.Context, projectID, env string) ([]string, error) {
	r, err := getRow(ctx, s.db, projectID, env)
	if errors.Is(err, errNoDatabase) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	plain, err := s.keys.Open(r.Password, aad(projectID, env))
	if err != nil {
		return nil, fmt.Errorf("open the %s database's password: %w", env, err)
	}
	c := credentialsOf(&target{row: r, password: string(plain)})
	return []string{"DATABASE_URL=" + c.URL, "PGPASSWORD=" + c.Password}, nil
}

// timeout bounds the platform's own statements on a project database.
const timeout = 30 * time.Second

// ResealPasswords seals every database password again under the keyring's
// current key (after the master key changed) and answers how many.
func ResealPasswords(ctx context.Context, db *store.DB, keys *seal.Keyring) (int, error) {
	var rows []row
	if err := db.Select(ctx, &rows, `SELECT `+rowColumns+` FROM project_databases`); err != nil {
		return 0, fmt.Errorf("read database passwords: %w", err)
	}
	for _, r := range rows {
		plain, err := keys.Open(r.Password, aad(r.ProjectID, r.Env))
		if err != nil {
			return 0, fmt.Errorf("password of %s: %w", r.Name, err)
		}
		if err := setPassword(ctx, db, r.ProjectID, r.Env, keys.Seal(plain, aad(r.ProjectID, r.Env))); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}
