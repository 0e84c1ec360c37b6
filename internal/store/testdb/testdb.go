// Package testdb gives tests a fresh, migrated database on every engine the
// machine offers: SQLite always, PostgreSQL when ECODE_TEST_POSTGRES_URL (or
// the default local server) answers. Set ECODE_TEST_REQUIRE_POSTGRES=1 to
// make a missing PostgreSQL a failure rather than a skip, as CI does.
package testdb

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"ecode/internal/store"
)

// DefaultPostgresURL is used when ECODE_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Engine is one database engine a test can run on.
type Engine struct {
	Name string
	// URL is the database URL to hand to the server: empty for SQLite in its
	// data dir, or a PostgreSQL URL whose search_path is a fresh schema.
	URL func(t testing.TB) string
}

var (
	pgOnce sync.Once
	pgURL  string
	pgErr  error
)

func postgresBase() (string, error) {
	pgOnce.Do(func() {
		pgURL = os.Getenv("ECODE_TEST_POSTGRES_URL")
		if pgURL == "" {
			pgURL = DefaultPostgresURL
		}
		db, err := sql.Open("pgx", pgURL)
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		pgErr = db.PingContext(ctx)
	})
	return pgURL, pgErr
}

// Engines lists SQLite and, when it answers, PostgreSQL.
func Engines(t testing.TB) []Engine {
	engines := []Engine{{Name: "sqlite", URL: func(testing.TB) string { return "" }}}
	base, err := postgresBase()
	if err != nil {
		if os.Getenv("ECODE_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL required but unreachable at %s: %v", base, err)
		}
		t.Logf("PostgreSQL unreachable (%v); running on SQLite only", err)
		return engines
	}
	return append(engines, Engine{Name: "postgres", URL: func(t testing.TB) string { return freshSchema(t, base) }})
}

// freshSchema creates a schema of its own for one test and returns base with
// search_path pointing at it; the schema is dropped when the test ends.
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := "t_" + store.NewID()
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated store.DB on engine e, closed when the test ends.
func Open(t testing.TB, e Engine) *store.DB {
	t.Helper()
	db, err := store.OpenMigrated(context.Background(), e.URL(t), t.TempDir())
	if err != nil {
		t.Fatalf("open %s: %v", e.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Provisioner answers the URL of a new role on the test PostgreSQL server
// with CREATEDB and CREATEROLE and no more: an external server for
// projects' databases (ECODE_PROJECT_POSTGRES_URL). When the test ends, the
// roles it was granted (the projects' roles), their databases and the role
// itself are dropped. The test is skipped without PostgreSQL.
func Provisioner(t testing.TB) string {
	t.Helper()
	base, err := postgresBase()
	if err != nil {
		if os.Getenv("ECODE_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL required but unreachable at %s: %v", base, err)
		}
		t.Skipf("PostgreSQL unreachable: %v", err)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	role := "prov_" + store.NewID()
	if _, err := db.Exec("CREATE ROLE " + role + " LOGIN CREATEDB CREATEROLE PASSWORD 'provisioner'"); err != nil {
		db.Close()
		t.Fatalf("create role: %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		var granted []string
		rows, err := db.Query(`SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
			JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1`, role)
		if err == nil {
			for rows.Next() {
				var name string
				if rows.Scan(&name) == nil {
					granted = append(granted, name)
				}
			}
			rows.Close()
		}
		for _, name := range granted {
			if _, err := db.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`); err != nil {
				t.Logf("drop database %s: %v", name, err)
			}
			if _, err := db.Exec(`DROP ROLE IF EXISTS "` + name + `"`); err != nil {
				t.Logf("drop role %s: %v", name, err)
			}
		}
		if _, err := db.Exec("DROP ROLE IF EXISTS " + role); err != nil {
			t.Logf("drop role %s: %v", role, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, "provisioner")
	return u.String()
}
