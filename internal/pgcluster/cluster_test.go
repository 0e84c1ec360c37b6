package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// clusterDir answers a folder for a cluster that the server's uid, when it
// is not the test's, can walk down to.
func clusterDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o711)
	}
	return filepath.Join(dir, "postgres")
}

func start(t testing.TB, dir string, limits Limits) *Cluster {
	t.Helper()
	c, err := New(Config{Dir: dir, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func count(t *testing.T, conn *pgx.Conn, sql string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func refused(t *testing.T, dsn, why string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err == nil {
		conn.Close(context.Background())
		t.Fatalf("%s: connected", why)
	}
}

// testDB is a provisioned database as the platform holds it.
type testDB struct{ Name, Role, Password, DSN string }

func provision(t testing.TB, c *Cluster, projectID, env, password string) testDB {
	t.Helper()
	name, err := Name(projectID, env)
	if err != nil {
		t.Fatal(err)
	}
	if password == "" {
		password = NewPassword()
	}
	if err := c.Provision(context.Background(), name, password); err != nil {
		t.Fatal(err)
	}
	return testDB{Name: name, Role: name, Password: password, DSN: c.DSN(name, password)}
}

func TestProjectDatabases(t *testing.T) {
	ctx := context.Background()
	dir := clusterDir(t)
	limits := DefaultLimits()
	limits.StatementTimeout = 300 * time.Millisecond
	c := start(t, dir, limits)

	a := provision(t, c, "aaaa1111", "dev", "")
	b := provision(t, c, "bbbb2222", "dev", "")
	if a.Name != "p_aaaa1111_dev" || a.Role != a.Name || len(a.Password) < 40 {
		t.Fatalf("database %+v", a)
	}

	// Each project owns its database and can build in it.
	connA := connect(t, a.DSN)
	mustExec(t, connA, "CREATE TABLE notes (id serial PRIMARY KEY, body text)")
	mustExec(t, connA, "INSERT INTO notes (body) VALUES ('from a')")
	connB := connect(t, b.DSN)
	mustExec(t, connB, "CREATE TABLE notes (id serial PRIMARY KEY, body text)")

	t.Run("isolation", func(t *testing.T) {
		other := dsn(c.SocketDir(), a.Role, a.Password, b.Name)
		refused(t, other, "A's role into B's database")
		refused(t, dsn(c.SocketDir(), a.Role, a.Password, "postgres"), "A's role into the platform's database")
		refused(t, dsn(c.SocketDir(), a.Role, a.Password, "template1"), "A's role into template1")
		refused(t, dsn(c.SocketDir(), b.Role, a.Password, b.Name), "B's role with A's password")
		// Past pg_hba, privileges refuse too.
		if n := count(t, connA, "SELECT has_database_privilege('"+b.Name+"', 'CONNECT')::int"); n != 0 {
			t.Fatal("A holds CONNECT on B's database")
		}
		if n := count(t, connA, "SELECT has_database_privilege('postgres', 'CONNECT')::int"); n != 0 {
			t.Fatal("A holds CONNECT on the platform's database")
		}
	})

	t.Run("idempotent", func(t *testing.T) {
		provision(t, c, "aaaa1111", "dev", a.Password)
		mustExec(t, connect(t, a.DSN), "SELECT 1 FROM notes")
	})

	t.Run("statement timeout", func(t *testing.T) {
		began := time.Now()
		_, err := connA.Exec(ctx, "SELECT pg_sleep(10)")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "57014" || !strings.Contains(pgErr.Message, "statement timeout") {
			t.Fatalf("pg_sleep(10) answered %v", err)
		}
		if d := time.Since(began); d > 5*time.Second {
			t.Fatalf("cancelled after %s", d)
		}
	})

	t.Run("limits", func(t *testing.T) {
		var timeout, idle, temp string
		err := connA.QueryRow(ctx, "SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout'), current_setting('temp_file_limit')").Scan(&timeout, &idle, &temp)
		if err != nil {
			t.Fatal(err)
		}
		if timeout != "300ms" || idle != "5min" || temp != "1GB" {
			t.Fatalf("limits %s %s %s", timeout, idle, temp)
		}
		if _, err := connA.Exec(ctx, "SET temp_file_limit = -1"); err == nil {
			t.Fatal("a project lifted its temp_file_limit")
		}
		if n := count(t, connA, "SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user"); n != 10 {
			t.Fatalf("connection limit %d", n)
		}
	})

	t.Run("rotate", func(t *testing.T) {
		rotated := b
		rotated.Password = NewPassword()
		rotated.DSN = c.DSN(b.Name, rotated.Password)
		if err := c.SetPassword(ctx, b.Name, rotated.Password); err != nil {
			t.Fatal(err)
		}
		refused(t, b.DSN, "the old password")
		conn := connect(t, rotated.DSN)
		mustExec(t, conn, "SELECT 1 FROM notes")
		b = rotated
		if err := c.SetPassword(ctx, "p_cccc3333_dev", "x"); err == nil {
			t.Fatal("rotated a database that does not exist")
		}
	})

	t.Run("bad names", func(t *testing.T) {
		for _, id := range []string{"", "A", "x; DROP", `a"b`, "a_b", strings.Repeat("a", 41)} {
			if _, err := Name(id, "dev"); err == nil {
				t.Errorf("named project %q", id)
			}
		}
		if _, err := Name("aaaa1111", "test"); err == nil {
			t.Error("named environment test")
		}
	})

	// A restart keeps every database and its credentials.
	connA.Close(ctx)
	connB.Close(ctx)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = start(t, dir, limits)
	if n := count(t, connect(t, a.DSN), "SELECT count(*) FROM notes WHERE body = 'from a'"); n != 1 {
		t.Fatalf("after restart %d notes", n)
	}

	// Drop ends the sessions and removes database and role.
	held := connect(t, b.DSN)
	if err := c.Drop(ctx, b.Name); err != nil {
		t.Fatal(err)
	}
	if err := held.Ping(ctx); err == nil {
		t.Fatal("a session survived its database")
	}
	refused(t, b.DSN, "a dropped database")
	admin := connect(t, c.superDSN("postgres"))
	if n := count(t, admin, "SELECT count(*) FROM pg_database WHERE datname = '"+b.Name+"'"); n != 0 {
		t.Fatal("the database is still there")
	}
	if n := count(t, admin, "SELECT count(*) FROM pg_roles WHERE rolname = '"+b.Name+"'"); n != 0 {
		t.Fatal("the role is still there")
	}
	if err := c.Drop(ctx, b.Name); err != nil {
		t.Fatalf("second drop: %v", err)
	}
}

// A server killed without closing its cluster leaves either a postmaster
// still running or, when that was killed too, a stale postmaster.pid; the
// next start copes with both and keeps the data.
func TestStartAfterKill(t *testing.T) {
	ctx := context.Background()
	dir := clusterDir(t)
	first := start(t, dir, DefaultLimits())
	db := provision(t, first, "kkkk", "prod", "")
	conn := connect(t, db.DSN)
	mustExec(t, conn, "CREATE TABLE kept (n int)")
	mustExec(t, conn, "INSERT INTO kept VALUES (1)")
	conn.Close(ctx)

	// The first cluster is forgotten, its postmaster left running.
	second := start(t, dir, DefaultLimits())
	select {
	case <-first.done:
	default:
		t.Fatal("the leftover postmaster still runs")
	}

	// Now the postmaster dies without a word.
	if err := syscall.Kill(second.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-second.done
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); err != nil {
		t.Fatalf("no stale pid file to test with: %v", err)
	}
	start(t, dir, DefaultLimits())
	if n := count(t, connect(t, db.DSN), "SELECT count(*) FROM kept"); n != 1 {
		t.Fatalf("%d rows kept", n)
	}
}

func TestNoTCP(t *testing.T) {
	c := start(t, clusterDir(t), DefaultLimits())
	conn := connect(t, c.superDSN("postgres"))
	var listen string
	if err := conn.QueryRow(context.Background(), "SHOW listen_addresses").Scan(&listen); err != nil {
		t.Fatal(err)
	}
	if listen != "" {
		t.Fatalf("listening on %q", listen)
	}
	fi, err := os.Stat(c.SocketDir())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket folder mode %v", fi.Mode().Perm())
	}
}

func BenchmarkProvision(b *testing.B) {
	c := start(b, clusterDir(b), DefaultLimits())
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if err := c.Provision(ctx, fmt.Sprintf("p_bench%d_dev", i), NewPassword()); err != nil {
			b.Fatal(err)
		}
	}
}

// A root server runs PostgreSQL as another user, who must be able to reach
// the cluster's folder; a closed parent is named rather than left to initdb.
func TestClosedParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only a root server runs PostgreSQL as another user")
	}
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Dir: filepath.Join(parent, "postgres"), Limits: DefaultLimits()})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), parent+" is closed to the postgres user") {
		t.Fatalf("start answered %v", err)
	}
}
