// Package pgcluster runs the platform's own PostgreSQL cluster and provisions
// one database per project and environment in it.
//
// The cluster is the machine's PostgreSQL server binaries run under a folder
// of the data directory. It listens on a unix socket in a folder only its uid
// (and root) can enter, and on no TCP port. The platform reaches it as the
// superuser by peer authentication; a project's role reaches only the
// database of the same name, by password (pg_hba `sameuser`), and PUBLIC
// holds no privilege on any database. What it does not isolate: a project
// can list the names of other databases and roles in the shared catalogs,
// and the per-role timeouts are defaults the role may lower or raise for its
// own sessions (temp_file_limit excepted, which only a superuser may set).
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// superuser is the cluster's bootstrap role, the one the platform uses.
const superuser = "ecode"

// minVersion is the oldest server accepted: from 15 on PUBLIC has no CREATE
// on the public schema and the schema belongs to the database's owner, which
// the isolation of project databases relies on.
const minVersion = 150000

// Config says where the cluster lives and what each project gets.
type Config struct {
	Dir    string // the cluster's folder, e.g. <data>/postgres
	Limits Limits // applied to every role Provision creates or answers
}

// Cluster is one PostgreSQL server where projects' databases live: the
// platform's own (New, Start) or an external one it is given a role on
// (Open).
type Cluster struct {
	external bool
	upstream upstream // where the relay and the projects' roles connect

	dir    string // cfg.Dir: owned by the server's uid, 0700
	pgdata string // dir/data
	sock   string // dir/run: the socket folder
	log    string // dir/postgres.log: the server's stderr
	bin    string // the folder of initdb and postgres
	cred   *syscall.Credential
	osUser string // the OS user the server runs as
	limits Limits

	mu   sync.Mutex // serialises provisioning, so two calls never race on one name
	pool *pgxpool.Pool
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// New finds the server binaries and the uid to run them as; Start runs them.
func New(cfg Config) (*Cluster, error) {
	if !filepath.IsAbs(cfg.Dir) {
		return nil, fmt.Errorf("pgcluster: folder %q is not absolute", cfg.Dir)
	}
	if strings.ContainsAny(cfg.Dir, `",'\`) {
		return nil, fmt.Errorf("pgcluster: folder %q has a character PostgreSQL settings cannot hold", cfg.Dir)
	}
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		dir:    cfg.Dir,
		pgdata: filepath.Join(cfg.Dir, "data"),
		sock:   filepath.Join(cfg.Dir, "run"),
		log:    filepath.Join(cfg.Dir, "postgres.log"),
		bin:    bin,
		limits: cfg.Limits,
	}
	if c.cred, c.osUser, err = runAs(); err != nil {
		return nil, err
	}
	return c, nil
}

// runAs answers the OS user PostgreSQL's programs run as: postgres when the
// server is root, for PostgreSQL refuses root (and the client programs need
// no more), else the server's own.
func runAs() (*syscall.Credential, string, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return nil, "", fmt.Errorf("pgcluster: look up the current user: %w", err)
		}
		return nil, u.Username, nil
	}
	// initdb and postgres look their own uid up by name, so it must be a
	// real account, not a bare uid.
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, "", fmt.Errorf("pgcluster: the server runs as root and PostgreSQL must not; create a \"postgres\" system user (Debian's postgresql package does): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, u.Username, nil
}

// findBinaries answers the folder holding initdb and postgres: Debian's
// newest /usr/lib/postgresql/<major>/bin, else the PATH.
func findBinaries() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		return majorOf(b) - majorOf(a)
	})
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		d := filepath.Dir(p)
		if isExecutable(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", errors.New("pgcluster: no PostgreSQL server binaries (initdb and postgres) in /usr/lib/postgresql/*/bin or PATH; install PostgreSQL 15 or newer (Debian: apt-get install postgresql)")
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Start initialises the cluster on first use, then runs the server and waits
// until it answers. A cluster left running by a server that was killed is
// stopped first, and every database it held is kept.
func (c *Cluster) Start(ctx context.Context) error {
	if c.cmd != nil {
		return errors.New("pgcluster: already started")
	}
	if err := c.prepare(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(c.pgdata, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return err
		}
	}
	if err := c.writeAuth(); err != nil {
		return err
	}
	if err := c.stopLeftover(); err != nil {
		return err
	}
	if err := c.launch(); err != nil {
		return err
	}
	if err := c.connect(ctx); err != nil {
		c.Close()
		return err
	}
	if err := c.setup(ctx); err != nil {
		c.Close()
		return err
	}
	slog.Info("postgres cluster started", "dir", c.dir, "bin", c.bin, "user", c.osUser)
	return nil
}

// prepare makes the cluster's folder and socket folder, owned by the
// server's uid and closed to everyone else.
func (c *Cluster) prepare() error {
	for _, d := range []string{c.dir, c.sock} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err := c.own(d, 0o700); err != nil {
			return err
		}
	}
	if c.cred == nil {
		return nil
	}
	// The server's uid must be able to walk down to its folder.
	for d := filepath.Dir(c.dir); d != "/"; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm()&0o001 == 0 && st.Uid != c.cred.Uid && !(st.Gid == c.cred.Gid && fi.Mode().Perm()&0o010 != 0) {
			return fmt.Errorf("pgcluster: %s is closed to the %s user; allow it to pass (chmod o+x)", d, c.osUser)
		}
	}
	return nil
}

// own hands path to the server's uid with the given mode.
func (c *Cluster) own(path string, mode fs.FileMode) error {
	if c.cred != nil {
		if err := os.Chown(path, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// initdb creates the cluster in a scratch folder and renames it into place,
// so a start interrupted half way leaves nothing that looks initialised.
func (c *Cluster) initdb(ctx context.Context) error {
	scratch := c.pgdata + ".init"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	cmd := c.command(ctx, "initdb", "-D", scratch, "-U", superuser,
		"--auth-local=peer", "--auth-host=reject", "--encoding=UTF8", "--locale=C.UTF-8")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgcluster: initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(scratch, c.pgdata); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// writeAuth rewrites the authentication rules at every start, so they are
// the platform's whatever was edited by hand: the superuser only by peer (the
// socket folder admits only root and the server's uid), a project's role
// only into its own database, and nothing else.
func (c *Cluster) writeAuth() error {
	hba := "# Written by E-Code at every start.\n" +
		"local all " + superuser + " peer map=platform\n" +
		"local sameuser all scram-sha-256\n"
	users := []string{c.osUser}
	if c.cred != nil {
		users = append(users, "root")
	}
	var ident strings.Builder
	ident.WriteString("# Written by E-Code at every start.\n")
	for _, u := range users {
		fmt.Fprintf(&ident, "platform %s %s\n", u, superuser)
	}
	for name, text := range map[string]string{"pg_hba.conf": hba, "pg_ident.conf": ident.String()} {
		path := filepath.Join(c.pgdata, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err := c.own(path, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// stopLeftover clears what a killed server left in the data folder. Every
// postgres process works in its data folder, so those are found by their
// working directory: a postmaster still running is asked for a fast
// shutdown; backends that outlived a killed postmaster (they hold its shared
// memory, which PostgreSQL would refuse to start beside) are told to quit.
// A postmaster.pid naming any other process is stale and removed.
func (c *Cluster) stopLeftover() error {
	pidFile := filepath.Join(c.pgdata, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	postmaster, _ := strconv.Atoi(strings.TrimSpace(first))
	for _, pid := range c.leftovers() {
		// A pidfd handle: the signals cannot reach another process that
		// reuses the pid once this one is gone.
		p, err := os.FindProcess(pid)
		if err != nil {
			continue
		}
		if !c.worksHere(pid) { // gone meanwhile, its pid perhaps reused
			p.Release()
			continue
		}
		sig := syscall.SIGQUIT
		if pid == postmaster {
			sig = syscall.SIGINT
			slog.Warn("postgres cluster left running by an earlier server; stopping it", "pid", pid)
		}
		err = stop(p, sig, func(d time.Duration) bool { return waitGone(p, d) })
		p.Release()
		if err != nil {
			return err
		}
	}
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pgcluster: remove stale %s: %w", pidFile, err)
	}
	return nil
}

// leftovers answers the live processes working in this cluster's data
// folder, the postmaster (when there is one) first, since stopping it stops
// the rest.
func (c *Cluster) leftovers() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && c.worksHere(pid) {
			pids = append(pids, pid)
		}
	}
	// The postmaster is the parent of the others, so it has the lowest pid
	// unless pids wrapped; ordering is only an economy.
	slices.Sort(pids)
	return pids
}

func (c *Cluster) launch() error {
	logFile, err := c.openLog()
	if err != nil {
		return err
	}
	defer logFile.Close() // the child holds its own copy
	cmd := c.command(context.Background(), "postgres", "-D", c.pgdata,
		"-c", "listen_addresses=",
		"-c", `unix_socket_directories="`+c.sock+`"`,
		"-c", "password_encryption=scram-sha-256",
		// Statements are the projects' data: not for the platform's log.
		"-c", "log_min_error_statement=panic",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: a terminal's ^C reaches the platform, which
	// then shuts the cluster down in order.
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	c.cmd, c.done = cmd, make(chan struct{})
	go func() {
		err := cmd.Wait()
		close(c.done)
		slog.Info("postgres cluster exited", "dir", c.dir, "err", err)
	}()
	return nil
}

// openLog opens the server's log for appending, setting the previous one
// aside once it has grown, so it stays bounded across restarts.
func (c *Cluster) openLog() (*os.File, error) {
	if fi, err := os.Stat(c.log); err == nil && fi.Size() > 16<<20 {
		if err := os.Rename(c.log, c.log+".1"); err != nil {
			return nil, fmt.Errorf("pgcluster: %w", err)
		}
	}
	f, err := os.OpenFile(c.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	return f, nil
}

// logTail answers the end of the server's log, to say why it would not start.
func (c *Cluster) logTail() string {
	f, err := os.Open(c.log)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 2048 {
		f.Seek(-2048, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}

// command prepares one of the server binaries to run as the server's uid,
// with an environment of its own (none of the platform's secrets).
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	return cmd
}

// connect waits until the server accepts the platform's connection.
func (c *Cluster) connect(ctx context.Context) error {
	cfg, err := pgxpool.ParseConfig(c.superDSN("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	cfg.MaxConns = 4
	for {
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err == nil {
			if err = pool.Ping(ctx); err == nil {
				c.pool = pool
				return nil
			}
			pool.Close()
		}
		select {
		case <-c.done:
			return fmt.Errorf("pgcluster: postgres exited while starting: %s", c.logTail())
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: postgres did not answer: %w (last: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// setup checks the server's version and closes the platform's own
// databases to PUBLIC.
func (c *Cluster) setup(ctx context.Context) error {
	if err := checkVersion(ctx, c.pool); err != nil {
		return err
	}
	if _, err := c.pool.Exec(ctx, "REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC"); err != nil {
		return fmt.Errorf("pgcluster: setup: %w", err)
	}
	return nil
}

func checkVersion(ctx context.Context, pool *pgxpool.Pool) error {
	var version int
	if err := pool.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return fmt.Errorf("pgcluster: version: %w", err)
	}
	if version < minVersion {
		return fmt.Errorf("pgcluster: PostgreSQL %d.%d is too old; 15 or newer is needed", version/10000, version%10000)
	}
	return nil
}

// Close shuts the server down (fast: sessions are ended, data is flushed)
// and waits for it to exit.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pool != nil {
		c.pool.Close()
		c.pool = nil
	}
	if c.cmd == nil {
		return nil
	}
	done := c.done
	err := stop(c.cmd.Process, syscall.SIGINT, func(d time.Duration) bool {
		select {
		case <-done:
			return true
		case <-time.After(d):
			return false
		}
	})
	c.cmd = nil
	return err
}

// stop sends a postgres process first (SIGINT asks a postmaster for a
// fast shutdown, SIGQUIT any process for an immediate one), then SIGQUIT,
// then SIGKILL, waiting for it to be gone after each.
func stop(p *os.Process, first syscall.Signal, gone func(time.Duration) bool) error {
	for _, s := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{first, 30 * time.Second}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}} {
		if err := p.Signal(s.sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("pgcluster: signal postgres: %w", err)
		}
		if gone(s.wait) {
			return nil
		}
		slog.Warn("postgres did not stop; insisting", "pid", p.Pid, "signal", s.sig)
	}
	return fmt.Errorf("pgcluster: postgres %d did not exit", p.Pid)
}

// waitGone waits for a process that is not our child to exit.
func waitGone(p *os.Process, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if p.Signal(syscall.Signal(0)) != nil || zombie(p.Pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// worksHere tells whether pid is a live process whose working directory is
// the cluster's data folder.
func (c *Cluster) worksHere(pid int) bool {
	want, err := filepath.EvalSymlinks(c.pgdata)
	if err != nil {
		return false
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	return err == nil && cwd == want && !zombie(pid)
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	_, after, ok := strings.Cut(string(b), ") ")
	return ok && strings.HasPrefix(after, "Z")
}

// SocketDir is the folder of the server's unix socket.
func (c *Cluster) SocketDir() string { return c.sock }

// superDSN is the platform's own connection to database db.
func (c *Cluster) superDSN(db string) string {
	return dsn(c.sock, superuser, "", db)
}

// DSN is how the platform connects as role name, with password, to its
// database.
func (c *Cluster) DSN(name, password string) string {
	if c.external {
		return c.upstream.dsn(name, password, name)
	}
	return dsn(c.sock, name, password, name)
}

func dsn(sock, role, password, db string) string {
	u := url.URL{Scheme: "postgres", Path: "/" + db, RawQuery: url.Values{"host": {sock}}.Encode()}
	if password == "" {
		u.User = url.User(role)
	} else {
		u.User = url.UserPassword(role, password)
	}
	return u.String()
}

// conn answers the platform's connections; under c.mu.
func (c *Cluster) conn() (*pgxpool.Pool, error) {
	if c.pool == nil {
		return nil, errors.New("pgcluster: not started")
	}
	return c.pool, nil
}

// Ping tells whether the server answers.
func (c *Cluster) Ping(ctx context.Context) error {
	c.mu.Lock()
	pool, err := c.conn()
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return pool.Ping(ctx)
}

// Limits are what each project's role is held to.
func (c *Cluster) Limits() Limits { return c.limits }

// External tells whether the cluster is another's (ECODE_PROJECT_POSTGRES_URL).
func (c *Cluster) External() bool { return c.external }

// Tool prepares one of PostgreSQL's client programs (pg_dump, pg_restore,
// psql) of the cluster's version, run as the cluster's uid when the server is
// root, with an environment of its own plus env.
func (c *Cluster) Tool(ctx context.Context, env []string, name string, args ...string) *exec.Cmd {
	cmd := c.command(ctx, name, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = "/"
	return cmd
}

// ident quotes a name for SQL.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
