package pgcluster

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

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

// Database is one project environment's database and how to reach it.
type Database struct {
	Name     string
	Role     string
	Password string
	DSN      string // over the cluster's unix socket, for the platform's own use
}

var projectIDPattern = regexp.MustCompile(`^[a-z0-9]{1,40}$`)

// nameOf is the name of both the role and the database of a project's
// environment: one name, so pg_hba's `sameuser` confines the role to it.
func nameOf(projectID, env string) (string, error) {
	if !projectIDPattern.MatchString(projectID) {
		return "", errs.Invalid("database_project_invalid", "A project id of lowercase letters and digits is needed to name its database.")
	}
	if env != "dev" && env != "prod" {
		return "", errs.Invalid("database_env_invalid", "The environment must be dev or prod, not %q.", env)
	}
	return "p_" + projectID + "_" + env, nil
}

// Provision answers the database of a project's environment, creating its
// role and database the first time. A later call answers the same database
// and password, and applies the cluster's current limits again.
func (c *Cluster) Provision(ctx context.Context, projectID, env string) (Database, error) {
	name, err := nameOf(projectID, env)
	if err != nil {
		return Database{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	password, err := c.ensureRole(ctx, name)
	if err != nil {
		return Database{}, fmt.Errorf("provision %s: %w", name, err)
	}
	if err := c.ensureDatabase(ctx, name); err != nil {
		return Database{}, fmt.Errorf("provision %s: %w", name, err)
	}
	return c.database(name, password), nil
}

// ensureRole creates the role or brings it to the cluster's limits, and
// answers its password. Role and credential change in one transaction, so
// neither is ever left without the other.
func (c *Cluster) ensureRole(ctx context.Context, name string) (string, error) {
	var password string
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, "SELECT password FROM ecode.credentials WHERE role = $1", name).Scan(&password)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if !exists {
			if _, err := tx.Exec(ctx, "CREATE ROLE "+ident(name)+" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"); err != nil {
				return err
			}
		}
		if !exists || password == "" {
			var err error
			if password, err = setPassword(ctx, tx, name); err != nil {
				return err
			}
		}
		return c.applyLimits(ctx, tx, name)
	})
	return password, err
}

func (c *Cluster) applyLimits(ctx context.Context, tx pgx.Tx, name string) error {
	l := c.limits
	role := ident(name)
	for _, q := range []string{
		fmt.Sprintf("ALTER ROLE %s CONNECTION LIMIT %d", role, l.Connections),
		fmt.Sprintf("ALTER ROLE %s SET statement_timeout = %d", role, l.StatementTimeout.Milliseconds()),
		fmt.Sprintf("ALTER ROLE %s SET idle_in_transaction_session_timeout = %d", role, l.IdleInTransaction.Milliseconds()),
		fmt.Sprintf("ALTER ROLE %s SET temp_file_limit = %d", role, l.TempFileBytes/1024), // kB
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// ensureDatabase creates the role's database (CREATE DATABASE cannot run in
// a transaction) and takes PUBLIC's default CONNECT and TEMPORARY away,
// again on every call, so a call interrupted in between is finished later.
func (c *Cluster) ensureDatabase(ctx context.Context, name string) error {
	var exists bool
	if err := c.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	db := ident(name)
	if !exists {
		if _, err := c.pool.Exec(ctx, "CREATE DATABASE "+db+" OWNER "+db+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
			return err
		}
	}
	for _, q := range []string{
		"REVOKE ALL ON DATABASE " + db + " FROM PUBLIC",
		fmt.Sprintf("ALTER DATABASE %s CONNECTION LIMIT %d", db, c.limits.Connections),
	} {
		if _, err := c.pool.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// Rotate gives the role of a project's environment a new password; sessions
// already open stay open.
func (c *Cluster) Rotate(ctx context.Context, projectID, env string) (Database, error) {
	name, err := nameOf(projectID, env)
	if err != nil {
		return Database{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var password string
	err = pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return errs.NotFound("database_not_found", "This project has no %s database.", env)
		}
		password, err = setPassword(ctx, tx, name)
		return err
	})
	if err != nil {
		return Database{}, fmt.Errorf("rotate %s: %w", name, err)
	}
	return c.database(name, password), nil
}

// Drop removes the database of a project's environment, ending its sessions,
// and then its role. Dropping what is not there is not an error.
func (c *Cluster) Drop(ctx context.Context, projectID, env string) error {
	name, err := nameOf(projectID, env)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.pool.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	err = pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DROP ROLE IF EXISTS "+ident(name)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM ecode.credentials WHERE role = $1", name)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop role %s: %w", name, err)
	}
	return nil
}

func (c *Cluster) database(name, password string) Database {
	return Database{Name: name, Role: name, Password: password, DSN: dsn(c.sock, name, password, name)}
}

// setPassword gives the role a new random password and records it. The
// server is sent only its SCRAM verifier, so the password itself never
// appears in a statement the server could log.
func setPassword(ctx context.Context, tx pgx.Tx, name string) (string, error) {
	key := make([]byte, 32)
	rand.Read(key)
	password := base64.RawURLEncoding.EncodeToString(key)
	verifier, err := scramVerifier(password)
	if err != nil {
		return "", err
	}
	// The verifier is base64 and '$', ':' only: safe inside a literal.
	if _, err := tx.Exec(ctx, "ALTER ROLE "+ident(name)+" PASSWORD '"+verifier+"'"); err != nil {
		return "", err
	}
	_, err = tx.Exec(ctx, `INSERT INTO ecode.credentials (role, password) VALUES ($1, $2)
		ON CONFLICT (role) DO UPDATE SET password = excluded.password`, name, password)
	return password, err
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
