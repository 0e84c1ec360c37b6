package projectdb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/pgcluster"
	"ecode/internal/project"
	"ecode/internal/seal"
	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

// backupProjects answers no project: the tests here call the service's own
// methods, below authorization.
type backupProjects struct{}

func (backupProjects) Get(context.Context, *auth.User, string, access.Action) (*project.Project, error) {
	return nil, errors.New("no projects here")
}

// backupService builds the service over a fresh platform database and a
// cluster of its own, and a project to give databases to.
func backupService(t *testing.T, quota int64) (*Service, string) {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o711) // the cluster's uid walks down to its folder
	}
	c, err := pgcluster.New(pgcluster.Config{Dir: filepath.Join(dir, "postgres"), Limits: pgcluster.DefaultLimits()})
	if err != nil {
		t.Skip(err)
	}
	db := testdb.Open(t, testdb.Engines(t)[0])
	keys, err := seal.NewKeyring(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := New(ctx, db, events.New(), keys, backupProjects{}, nil, Options{
		Open:       func(ctx context.Context) (*pgcluster.Cluster, error) { return c, c.Start(ctx) },
		DataDir:    dir,
		QuotaBytes: quota,
	})
	t.Cleanup(func() {
		cancel()
		s.Wait()
	})
	projectID := store.NewID()
	now := store.Now()
	if _, err := db.Exec(ctx, `INSERT INTO users (id, username, email, password_hash, created_at, updated_at) VALUES (?, 'alice', 'alice@example.com', '', ?, ?)`,
		"u"+projectID, now, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO projects (id, owner_id, slug, name, created_at, updated_at) VALUES (?, ?, 'shop', 'Shop', ?, ?)`,
		projectID, "u"+projectID, now, now); err != nil {
		t.Fatal(err)
	}
	return s, projectID
}

// execAs runs sql on the database of env as its role.
func execAs(t *testing.T, s *Service, projectID, env, sql string) error {
	t.Helper()
	ctx := context.Background()
	tg, err := s.open(ctx, projectID, env)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := s.connect(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func countAs(t *testing.T, s *Service, projectID, env, sql string) int {
	t.Helper()
	ctx := context.Background()
	tg, err := s.open(ctx, projectID, env)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := s.connect(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func mustExecAs(t *testing.T, s *Service, projectID, env, sql string) {
	t.Helper()
	if err := execAs(t, s, projectID, env, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestQuotaBothWays(t *testing.T) {
	s, pid := backupService(t, 1)
	ctx := context.Background()
	if _, _, err := s.ensure(ctx, pid, Dev, ""); err != nil {
		t.Fatal(err)
	}
	mustExecAs(t, s, pid, Dev, "CREATE TABLE items (name text)")

	s.checkSizes(ctx)
	r, err := getRow(ctx, s.db, pid, Dev)
	if err != nil {
		t.Fatal(err)
	}
	if !r.ReadOnly || r.SizeBytes <= 1 || r.SizeAt == 0 {
		t.Fatalf("over the quota: %+v", r)
	}
	var pgErr *pgconn.PgError
	if err := execAs(t, s, pid, Dev, "INSERT INTO items VALUES ('a')"); !errors.As(err, &pgErr) || pgErr.Code != "25006" {
		t.Fatalf("a write over the quota: %v, want read_only_sql_transaction", err)
	}

	// Restoring a smaller backup is one way back under: it works read-only.
	tg, err := s.open(ctx, pid, Dev)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.backUp(ctx, tg, kindManual, "")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(s.dumpPath(pid, b.ID))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := s.restore(ctx, tg, f, true); err != nil {
		t.Fatalf("restore into a read-only database: %v", err)
	}

	s.opts.QuotaBytes = 1 << 40
	s.checkSizes(ctx)
	if r, _ := getRow(ctx, s.db, pid, Dev); r.ReadOnly {
		t.Fatal("still read-only under the quota")
	}
	mustExecAs(t, s, pid, Dev, "INSERT INTO items VALUES ('a')")
}

func TestPrepareProd(t *testing.T) {
	s, pid := backupService(t, 1<<30)
	ctx := context.Background()
	var log strings.Builder
	if err := s.PrepareProd(ctx, pid, &log); err != nil || log.Len() != 0 {
		t.Fatalf("without a dev database: %v, %q", err, log.String())
	}
	if _, err := getRow(ctx, s.db, pid, Prod); !errors.Is(err, errNoDatabase) {
		t.Fatalf("prod made without dev: %v", err)
	}

	if _, _, err := s.ensure(ctx, pid, Dev, ""); err != nil {
		t.Fatal(err)
	}
	mustExecAs(t, s, pid, Dev, "CREATE TABLE items (name text PRIMARY KEY); INSERT INTO items VALUES ('dev data')")
	if err := s.PrepareProd(ctx, pid, &log); err != nil {
		t.Fatal(err)
	}
	if log.String() != "Created the production database from the development schema.\n" {
		t.Fatalf("log %q", log.String())
	}
	if n := countAs(t, s, pid, Prod, "SELECT count(*) FROM items"); n != 0 {
		t.Fatalf("prod has %d rows of dev's, want the schema alone", n)
	}

	mustExecAs(t, s, pid, Prod, "INSERT INTO items VALUES ('prod data')")
	log.Reset()
	if err := s.PrepareProd(ctx, pid, &log); err != nil || log.Len() != 0 {
		t.Fatalf("again: %v, %q", err, log.String())
	}
	if n := countAs(t, s, pid, Prod, "SELECT count(*) FROM items"); n != 1 {
		t.Fatalf("prod has %d rows after a second prepare, want its own 1", n)
	}
}

func TestDailyBackups(t *testing.T) {
	s, pid := backupService(t, 1<<30)
	ctx := context.Background()
	if _, _, err := s.ensure(ctx, pid, Dev, ""); err != nil {
		t.Fatal(err)
	}
	dailies := func() []string {
		t.Helper()
		ids, err := backupIDs(ctx, s.db, pid, Dev, kindDaily, statusDone)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}

	s.backUpDaily(ctx)
	s.backUpDaily(ctx)
	if n := len(dailies()); n != 1 {
		t.Fatalf("%d daily backups after two passes in a day, want 1", n)
	}
	// Each day older: a pass backs up again, keeping the newest seven.
	for range keepDaily + 2 {
		if _, err := s.db.Exec(ctx, `UPDATE database_backups SET created_at = created_at - ?`, dailyEvery.Milliseconds()); err != nil {
			t.Fatal(err)
		}
		s.backUpDaily(ctx)
	}
	ids := dailies()
	if len(ids) != keepDaily {
		t.Fatalf("%d daily backups kept, want %d", len(ids), keepDaily)
	}
	files, _ := filepath.Glob(filepath.Join(s.backupDir(pid), "*"))
	if len(files) != keepDaily {
		t.Fatalf("%d files in the backup folder, want %d: %v", len(files), keepDaily, files)
	}
	if newest, _ := lastDaily(ctx, s.db, pid, Dev); time.Since(time.UnixMilli(newest)) > time.Minute {
		t.Fatal("the newest daily backup is not today's")
	}
}

func TestInterruptedBackup(t *testing.T) {
	s, pid := backupService(t, 1<<30)
	ctx := context.Background()
	b := Backup{ID: store.NewID(), ProjectID: pid, Env: Dev, Kind: kindManual, Status: statusRunning, CreatedAt: store.Now() - 1000}
	if err := insertBackup(ctx, s.db, b); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.backupDir(pid), 0o700); err != nil {
		t.Fatal(err)
	}
	partial := s.dumpPath(pid, b.ID) + ".tmp"
	if err := os.WriteFile(partial, []byte("PGDMP"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.failInterrupted(ctx, store.Now())
	got, err := getBackup(ctx, s.db, pid, Dev, b.ID)
	if err != nil || got.Status != statusFailed || got.Error == "" {
		t.Fatalf("interrupted backup %+v, %v", got, err)
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial file left: %v", err)
	}
}

func TestOneAtATime(t *testing.T) {
	s, pid := backupService(t, 1<<30)
	ctx := context.Background()
	if _, _, err := s.ensure(ctx, pid, Dev, ""); err != nil {
		t.Fatal(err)
	}
	tg, err := s.open(ctx, pid, Dev)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := s.lock(tg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.lock(tg); !errs.Is(err, errs.KindConflict) || !strings.Contains(err.Error(), "database_busy") {
		t.Fatalf("a second claim: %v, want database_busy", err)
	}
	s.backUpDaily(ctx) // skips the busy database
	if ids, _ := backupIDs(ctx, s.db, pid, Dev, kindDaily, statusDone); len(ids) != 0 {
		t.Fatalf("a daily backup of a busy database: %v", ids)
	}
	unlock()
	s.backUpDaily(ctx)
	if ids, _ := backupIDs(ctx, s.db, pid, Dev, kindDaily, statusDone); len(ids) != 1 {
		t.Fatalf("%d daily backups once free, want 1", len(ids))
	}
}
