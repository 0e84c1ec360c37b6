// Package store opens the platform database (SQLite by default, PostgreSQL by
// URL), applies the embedded goose migrations for its dialect, and offers the
// few helpers every capability's store.go shares: Q, the one way to run a
// query alone or inside a unit of work (Tx), ids, times and portable
// error checks.
package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/jmoiron/sqlx"
	"github.com/oklog/ulid/v2"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// sqliteParams: temp_store(MEMORY) keeps statement journals (which every
// multi-row write in a transaction opens) off the disk, where they took a
// third of monitoring ingest's CPU in write calls (the platform's queries
// are indexed and sort little); a 16 MiB page cache per connection, not
// 2, spares ingest most of its page reads.
const sqliteParams = "?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-16384)"

// DB is the platform database. Queries are written with ? placeholders and
// rebound for the engine by the helpers below.
type DB struct {
	*sqlx.DB
	Dialect Dialect
	dsn     string
}

// Open connects to databaseURL, or to SQLite at dataDir/ecode.db when it is
// empty, and checks that the database answers.
func Open(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	var (
		db  *sqlx.DB
		err error
		d   Dialect
	)
	if databaseURL == "" {
		d = SQLite
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		path := filepath.Join(dataDir, "ecode.db")
		db, err = sqlx.Open("sqlite", "file:"+path+sqliteParams)
		if err == nil {
			db.SetMaxOpenConns(max(4, 2*runtime.NumCPU()))
			db.SetMaxIdleConns(max(4, 2*runtime.NumCPU()))
			db.SetConnMaxIdleTime(0)
		}
	} else {
		d = Postgres
		db, err = sqlx.Open("pgx", databaseURL)
		if err == nil {
			db.SetMaxOpenConns(20)
			db.SetMaxIdleConns(20)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", d, err)
	}
	dsn := databaseURL
	if d == SQLite {
		dsn = "file:" + filepath.Join(dataDir, "ecode.db") + sqliteParams
	}
	return &DB{DB: db, Dialect: d, dsn: dsn}, nil
}

// Pool opens another pool of at most conns connections to the same
// database, for a library that manages its own (the job queue: SQLite
// writers wait less on one connection of their own than on the busy
// handler). The caller closes it.
func (db *DB) Pool(conns int) (*sql.DB, error) {
	driver := "pgx"
	if db.Dialect == SQLite {
		driver = "sqlite"
	}
	p, err := sql.Open(driver, db.dsn)
	if err != nil {
		return nil, fmt.Errorf("open a %s pool: %w", db.Dialect, err)
	}
	p.SetMaxOpenConns(conns)
	p.SetMaxIdleConns(conns)
	return p, nil
}

// OpenMigrated is Open followed by Migrate: a database ready for use.
func OpenMigrated(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	db, err := Open(ctx, databaseURL, dataDir)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Migrate applies every pending migration of the database's dialect.
func (db *DB) Migrate(ctx context.Context) error {
	dir, gd := "migrations/sqlite", goose.DialectSQLite3
	if db.Dialect == Postgres {
		dir, gd = "migrations/postgres", goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(gd, db.DB.DB, sub)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", db.Dialect, err)
	}
	return nil
}

// Q runs queries written with ? placeholders: the database itself, or one
// unit of work in it. Store functions take a Q, so each runs alone (given
// the DB) or as part of a transaction (given what Tx hands out), and a
// unit of work never needs a second connection.
type Q interface {
	// Get runs a one-row query into dst; no row is an error NoRows knows.
	Get(ctx context.Context, dst any, query string, args ...any) error
	// Select runs a query into the slice dst.
	Select(ctx context.Context, dst any, query string, args ...any) error
	// Exec runs a statement and returns the rows it touched.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
}

// queryer is what both *sqlx.DB and *sqlx.Tx offer.
type queryer interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dst any, query string, args ...any) error
	SelectContext(ctx context.Context, dst any, query string, args ...any) error
}

// rebound is a Q over a connection pool or a transaction.
type rebound struct{ q queryer }

func (r rebound) Get(ctx context.Context, dst any, query string, args ...any) error {
	return r.q.GetContext(ctx, dst, r.q.Rebind(query), args...)
}

func (r rebound) Select(ctx context.Context, dst any, query string, args ...any) error {
	return r.q.SelectContext(ctx, dst, r.q.Rebind(query), args...)
}

func (r rebound) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := r.q.ExecContext(ctx, r.q.Rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Get runs a one-row query with ? placeholders into dst.
func (db *DB) Get(ctx context.Context, dst any, query string, args ...any) error {
	return rebound{db.DB}.Get(ctx, dst, query, args...)
}

// Select runs a query with ? placeholders into the slice dst.
func (db *DB) Select(ctx context.Context, dst any, query string, args ...any) error {
	return rebound{db.DB}.Select(ctx, dst, query, args...)
}

// Exec runs a statement with ? placeholders and returns the rows it touched.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return rebound{db.DB}.Exec(ctx, query, args...)
}

// Tx runs fn as one unit of work: everything it does through q commits
// when it returns nil and none of it when it fails or panics. fn must use
// q, not db: on SQLite the transaction holds the write lock, so a write
// through db would wait on it.
func (db *DB) Tx(ctx context.Context, fn func(q Q) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// After Commit this does nothing; otherwise it undoes fn's work, a panic's too.
	defer func() { _ = tx.Rollback() }()
	if err := fn(rebound{tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// NewID returns a new lowercase ULID: sortable by creation, safe in URLs.
func NewID() string {
	return strings.ToLower(ulid.MustNew(ulid.Now(), rand.Reader).String())
}

// IDAt is the id of something that happened at t and that key names
// uniquely: the same for the same two, wherever it is made, so that
// servers that each see it record it once.
func IDAt(t time.Time, key string) string {
	sum := sha256.Sum256([]byte(key))
	return strings.ToLower(ulid.MustNew(ulid.Timestamp(t), bytes.NewReader(sum[:])).String())
}

// IsID reports whether s could be an id NewID made.
func IsID(s string) bool {
	if len(s) != ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(s)
	return err == nil
}

// Now is the current time as stored: unix milliseconds.
func Now() int64 { return time.Now().UnixMilli() }

// IsUnique reports whether err is a unique-constraint violation.
func IsUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// NoRows reports whether err says a one-row query found nothing.
func NoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

var _ Q = (*DB)(nil)
