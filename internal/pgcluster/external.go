package pgcluster

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// upstream is where connections to an external server go.
type upstream struct {
	network, addr string      // unix and a socket path, or tcp and host:port
	tls           *tls.Config // set when the URL's sslmode requires TLS
	host          string      // as the URL names it, for DSNs
	port          uint16
	sslmode       string
}

// Open uses an external PostgreSQL server for projects' databases, through
// rawURL: a role with CREATEDB and CREATEROLE (a superuser is not needed and
// should not be given). The server's own pg_hba decides who may connect from
// where; each project's database is still closed to PUBLIC and owned by the
// project's role alone.
func Open(ctx context.Context, rawURL string, limits Limits) (*Cluster, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: project database URL: %w", err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: project database URL: %w", err)
	}
	cc := cfg.ConnConfig
	up := upstream{host: cc.Host, port: cc.Port, sslmode: u.Query().Get("sslmode")}
	if strings.HasPrefix(cc.Host, "/") {
		up.network, up.addr = "unix", filepath.Join(cc.Host, ".s.PGSQL."+strconv.Itoa(int(cc.Port)))
	} else {
		up.network, up.addr = "tcp", net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
	}
	switch up.sslmode {
	case "require", "verify-ca", "verify-full":
		up.tls = cc.TLSConfig
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: project database server: %w", err)
	}
	fail := func(err error) (*Cluster, error) {
		pool.Close()
		return nil, err
	}
	if err := checkVersion(ctx, pool); err != nil {
		return fail(err)
	}
	var createDB, createRole bool
	if err := pool.QueryRow(ctx, "SELECT rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user").Scan(&createDB, &createRole); err != nil {
		return fail(fmt.Errorf("pgcluster: project database server: %w", err))
	}
	if !createDB || !createRole {
		return fail(fmt.Errorf("pgcluster: the role of the project database URL needs CREATEDB and CREATEROLE"))
	}
	c := &Cluster{external: true, upstream: up, limits: limits, pool: pool}
	c.bin, _ = findBinaries() // pg_dump and pg_restore, when the machine has them
	if c.cred, c.osUser, err = runAs(); err != nil {
		return fail(err)
	}
	return c, nil
}

func (u upstream) dsn(role, password, db string) string {
	q := url.Values{}
	host := net.JoinHostPort(u.host, strconv.Itoa(int(u.port)))
	if u.network == "unix" {
		q.Set("host", u.host)
		q.Set("port", strconv.Itoa(int(u.port)))
		host = ""
	}
	if u.sslmode != "" {
		q.Set("sslmode", u.sslmode)
	}
	return (&url.URL{Scheme: "postgres", User: url.UserPassword(role, password), Host: host, Path: "/" + db, RawQuery: q.Encode()}).String()
}

// Dial opens a connection to the server for a client that speaks the
// protocol itself, from its startup message on (the relay of sandboxes).
// Over TLS when the external server's URL requires it.
func (c *Cluster) Dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	if !c.external {
		return d.DialContext(ctx, "unix", filepath.Join(c.sock, ".s.PGSQL.5432"))
	}
	conn, err := d.DialContext(ctx, c.upstream.network, c.upstream.addr)
	if err != nil || c.upstream.tls == nil {
		return conn, err
	}
	// SSLRequest: length 8, code 80877103; the server answers one byte.
	req := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), 80877103)
	if _, err := conn.Write(req); err != nil {
		conn.Close()
		return nil, err
	}
	var answer [1]byte
	if _, err := conn.Read(answer[:]); err != nil {
		conn.Close()
		return nil, err
	}
	if answer[0] != 'S' {
		conn.Close()
		return nil, errors.New("pgcluster: the project database server refused TLS")
	}
	tc := tls.Client(conn, c.upstream.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("pgcluster: TLS to the project database server: %w", err)
	}
	return tc, nil
}
