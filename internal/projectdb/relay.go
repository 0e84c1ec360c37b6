package projectdb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"ecode/internal/pgcluster"
	"ecode/internal/runtime"
	"ecode/internal/runtime/agent"
)

// startupTimeout bounds how long a relayed connection may take to say
// whom it connects as.
const startupTimeout = 10 * time.Second

// Relay is the sandbox port SandboxPort of a project's environment: each
// connection reaches the cluster only after its startup message names the
// environment's own role and database. The password is checked by the
// cluster itself; the relay only never lets a sandbox ask for another
// database, another role, or the platform's own.
// Its environment is libpq's: PGHOST, PGPORT, PGUSER, PGDATABASE (the
// password and DATABASE_URL are secrets: Env).
func (s *Service) Relay(projectID, env string) runtime.Relay {
	name, _ := pgcluster.Name(projectID, env)
	vars := []string{"PGHOST=127.0.0.1", "PGPORT=" + strconv.Itoa(SandboxPort), "PGUSER=" + name, "PGDATABASE=" + name}
	return runtime.Relay{Port: SandboxPort, Env: vars, Serve: func(ln net.Listener) {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the sandbox stopped
			}
			go s.relay(c, projectID, env)
		}
	}}
}

// relay serves one connection from a sandbox.
func (s *Service) relay(c net.Conn, projectID, env string) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(startupTimeout))
	be := pgproto3.NewBackend(c, c)
	refuse := func(code, format string, args ...any) {
		be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: fmt.Sprintf(format, args...)})
		_ = be.Flush()
	}
	for {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			// The sandbox's loopback needs no encryption; clients that
			// prefer it go on in the clear.
			if _, err := c.Write([]byte{'N'}); err != nil {
				return
			}
		case *pgproto3.CancelRequest:
			// Only the cancelled session's secret key makes it do anything.
			_ = s.forward(c, m)
			return
		case *pgproto3.StartupMessage:
			name, err := pgcluster.Name(projectID, env)
			if err != nil {
				return
			}
			user, database := m.Parameters["user"], m.Parameters["database"]
			if database == "" {
				database = user
			}
			if user != name || database != name {
				refuse("28000", "This sandbox reaches only its project's %s database: connect as %s to database %s (DATABASE_URL has it).", env, name, name)
				return
			}
			if _, err := getRow(context.Background(), s.db, projectID, env); err != nil {
				if errors.Is(err, errNoDatabase) {
					refuse("3D000", "This project has no %s database yet; create it in the Database pane.", env)
				} else {
					refuse("58000", "The platform could not look the database up; try again.")
				}
				return
			}
			_ = c.SetDeadline(time.Time{})
			if err := s.forward(c, m); err != nil {
				s.log.Warn("database relay", "project", projectID, "env", env, "err", err)
				refuse("57P03", "The database server is not answering; try again in a moment.")
			}
			return
		default:
			return
		}
	}
}

// forward sends the startup (or cancel) message on to the cluster and then
// copies both ways until either side ends. An error means the cluster was
// never reached.
func (s *Service) forward(c net.Conn, first pgproto3.FrontendMessage) error {
	ctx, cancel := context.WithTimeout(s.ctx, startupTimeout)
	defer cancel()
	cl, err := s.clusterFor(ctx)
	if err != nil {
		return err
	}
	up, err := cl.Dial(ctx)
	if err != nil {
		return fmt.Errorf("dial the cluster: %w", err)
	}
	defer up.Close()
	b, err := first.Encode(nil)
	if err != nil {
		return err
	}
	if _, err := up.Write(b); err != nil {
		return fmt.Errorf("write to the cluster: %w", err)
	}
	// The session is now the project's own role's on its own database, and
	// no message can change that: the agent may carry it on by itself.
	if uc, ok := c.(*net.UnixConn); ok && agent.HandOver(uc, up) {
		return nil
	}
	agent.Splice(c, up)
	return nil
}
