package pgcluster

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ecode/internal/errs"
)

// Limits are what one project's role may use of the cluster.
type Limits struct {
	Connections       int           // sessions at once, for the role and for its database
	StatementTimeout  time.Duration // a statement running longer is cancelled
	IdleInTransaction time.Duration // a session idle inside a transaction longer is ended
	TempFileBytes     int64         // temporary files of one session, at most
}

// DefaultLimits are the limits of a project that asks for nothing else.
func DefaultLimits() Limits {
	return Limits{
		Connections:       10,
		StatementTimeout:  time.Minute,
		IdleInTransaction: 5 * time.Minute,
		TempFileBytes:     1 << 30,
	}
}

var projectIDPattern = regexp.MustCompile(`^[a-z0-9]{1,40}$`)

// Name is the name of both the role and the database of a project's
// environment: one name, so pg_hba's `sameuser` confines the role to it.
func Name(projectID, env string) (string, error) {
	if !projectIDPattern.MatchString(projectID) {
		return "", errs.Invalid("database_project_invalid", "A project id of lowercase letters and digits is needed to name its database.")
	}
	if env != "dev" && env != "prod" {
		return "", errs.Invalid("database_env_invalid", "The environment must be dev or prod, not %q.", env)
	}
	return "p_" + projectID + "_" + env, nil
}

// NewPassword answers a random password for a project's role.
func NewPassword() string {
	key := make([]byte, 32)
	rand.Read(key)
	return base64.RawURLEncoding.EncodeToString(key)
}

// Provision makes the role and database called name, or brings them to the
// cluster's limits, and gives the role password. The caller keeps the
// password; the cluster holds only its SCRAM verifier.
func (c *Cluster) Provision(ctx context.Context, name, password string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	pool, err := c.conn()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		exists, err := roleExists(ctx, tx, name)
		if err != nil {
			return err
		}
		if !exists {
			if _, err := tx.Exec(ctx, "CREATE ROLE "+ident(name)+" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"); err != nil {
				return err
			}
		}
		if c.external {
			// Not a superuser: creating a database owned by the role, and
			// dropping it later, needs membership in it.
			if _, err := tx.Exec(ctx, "GRANT "+ident(name)+" TO CURRENT_USER"); err != nil {
				return err
			}
		}
		if err := setPassword(ctx, tx, name, password); err != nil {
			return err
		}
		return c.applyLimits(ctx, tx, name)
	})
	if err != nil {
		return fmt.Errorf("provision %s: %w", name, err)
	}
	if err := c.ensureDatabase(ctx, pool, name); err != nil {
		return fmt.Errorf("provision %s: %w", name, err)
	}
	return nil
}

func roleExists(ctx context.Context, tx pgx.Tx, name string) (bool, error) {
	var exists bool
	err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists)
	return exists, err
}

func (c *Cluster) applyLimits(ctx context.Context, tx pgx.Tx, name string) error {
	l := c.limits
	role := ident(name)
	qs := []string{
		fmt.Sprintf("ALTER ROLE %s CONNECTION LIMIT %d", role, l.Connections),
		fmt.Sprintf("ALTER ROLE %s SET statement_timeout = %d", role, l.StatementTimeout.Milliseconds()),
		fmt.Sprintf("ALTER ROLE %s SET idle_in_transaction_session_timeout = %d", role, l.IdleInTransaction.Milliseconds()),
	}
	if !c.external { // only a superuser may set it
		qs = append(qs, fmt.Sprintf("ALTER ROLE %s SET temp_file_limit = %d", role, l.TempFileBytes/1024)) // kB
	}
	for _, q := range qs {
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// ensureDatabase creates the role's database (CREATE DATABASE cannot run in
// a transaction) and takes PUBLIC's default CONNECT and TEMPORARY away,
// again on every call, so a call interrupted in between is finished later.
func (c *Cluster) ensureDatabase(ctx context.Context, pool *pgxpool.Pool, name string) error {
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	db := ident(name)
	if !exists {
		if _, err := pool.Exec(ctx, "CREATE DATABASE "+db+" OWNER "+db+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
			return err
		}
	}
	for _, q := range []string{
		"REVOKE ALL ON DATABASE " + db + " FROM PUBLIC",
		fmt.Sprintf("ALTER DATABASE %s CONNECTION LIMIT %d", db, c.limits.Connections),
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// SetPassword gives the role name a new password; sessions already open
// stay open.
func (c *Cluster) SetPassword(ctx context.Context, name, password string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	pool, err := c.conn()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		exists, err := roleExists(ctx, tx, name)
		if err != nil {
			return err
		}
		if !exists {
			return errs.NotFound("database_not_found", "There is no database %s.", name)
		}
		return setPassword(ctx, tx, name, password)
	})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	return nil
}

// Drop removes the database name, ending its sessions, and then its role.
// Dropping what is not there is not an error.
func (c *Cluster) Drop(ctx context.Context, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	pool, err := c.conn()
	if err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	if _, err := pool.Exec(ctx, "DROP ROLE IF EXISTS "+ident(name)); err != nil {
		return fmt.Errorf("drop role %s: %w", name, err)
	}
	return nil
}

// Size answers the bytes the database name takes on disk.
func (c *Cluster) Size(ctx context.Context, name string) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pool, err := c.conn()
	if err != nil {
		return 0, err
	}
	var n int64
	if err := pool.QueryRow(ctx, "SELECT pg_database_size($1)", name).Scan(&n); err != nil {
		return 0, fmt.Errorf("size of %s: %w", name, err)
	}
	return n, nil
}

// SetReadOnly makes the database name read-only, or writable again, for
// every session that starts from now on; the role's sessions already open
// are ended so that none goes on writing. A role can still lift it for one
// transaction on purpose: it guards against growth by accident.
func (c *Cluster) SetReadOnly(ctx context.Context, name string, on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	pool, err := c.conn()
	if err != nil {
		return err
	}
	q := "ALTER DATABASE " + ident(name) + " SET default_transaction_read_only = on"
	if !on {
		q = "ALTER DATABASE " + ident(name) + " RESET default_transaction_read_only"
	}
	if _, err := pool.Exec(ctx, q); err != nil {
		return fmt.Errorf("read-only %s: %w", name, err)
	}
	if on {
		if _, err := pool.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
			return fmt.Errorf("end sessions of %s: %w", name, err)
		}
	}
	return nil
}

// setPassword gives the role password. The server is sent only its SCRAM
// verifier, so the password itself never appears in a statement the server
// could log.
func setPassword(ctx context.Context, tx pgx.Tx, name, password string) error {
	verifier, err := scramVerifier(password)
	if err != nil {
		return err
	}
	// The verifier is base64 and '$', ':' only: safe inside a literal.
	_, err = tx.Exec(ctx, "ALTER ROLE "+ident(name)+" PASSWORD '"+verifier+"'")
	return err
}

// scramIterations is PostgreSQL's own default (scram_iterations).
const scramIterations = 4096

// scramVerifier computes the SCRAM-SHA-256 verifier PostgreSQL stores for a
// password (RFC 5802 and 7677), in the form it accepts in ALTER ROLE.
func scramVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", err
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", scramIterations, b64(salt), b64(storedKey[:]), b64(serverKey)), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
