package testserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ecode/internal/config"
	"ecode/internal/store/testdb"
)

// Cluster is what the servers of one test's cluster share: a PostgreSQL
// schema, a data dir and a NATS stream of their own.
type Cluster struct {
	engine  testdb.Engine
	dbURL   string
	pgURL   string // projects' databases
	dataDir string
	natsURL string
	stream  string
}

// NewCluster prepares a cluster; it skips the test without PostgreSQL,
// and without NATS as NATS does.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	engines := testdb.Engines(t)
	if len(engines) < 2 {
		t.Skip("several servers need PostgreSQL")
	}
	url, stream := NATS(t)
	pg := engines[1]
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o711)
	}
	return &Cluster{engine: pg, dbURL: pg.URL(t), pgURL: testdb.Provisioner(t), dataDir: dir, natsURL: url, stream: stream}
}

// NATS returns the URL of the tests' NATS server (ECODE_TEST_NATS_URL,
// default nats://127.0.0.1:4222) and a JetStream stream name of the
// test's own, dropped when it ends. It skips the test when NATS does not
// answer, unless ECODE_TEST_REQUIRE_NATS=1, when it fails.
func NATS(t testing.TB) (url, stream string) {
	t.Helper()
	url = os.Getenv("ECODE_TEST_NATS_URL")
	if url == "" {
		url = nats.DefaultURL
	}
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		if os.Getenv("ECODE_TEST_REQUIRE_NATS") == "1" {
			t.Fatalf("NATS required but unreachable at %s: %v", url, err)
		}
		t.Skipf("NATS unreachable at %s (%v): start nats-server -js", url, err)
	}
	nc.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	stream = "ECODE_TEST_" + strings.ToUpper(hex.EncodeToString(b))
	t.Cleanup(func() { dropStream(url, stream) })
	return url, stream
}

// Join starts a server of the cluster named id; a server unseen for a
// second counts as dead.
func (c *Cluster) Join(t testing.TB, id string, opts ...Option) *Server {
	t.Helper()
	return New(t, c.engine, append([]Option{func(cfg *config.Config) {
		cfg.DatabaseURL, cfg.DataDir, cfg.ProjectPostgres = c.dbURL, c.dataDir, c.pgURL
		cfg.ServerID, cfg.NATSURL, cfg.NATSStream, cfg.ClusterLease = id, c.natsURL, c.stream, time.Second
	}}, opts...)...)
}

func dropStream(url, stream string) {
	nc, err := nats.Connect(url)
	if err != nil {
		return
	}
	defer nc.Close()
	if js, err := jetstream.New(nc); err == nil {
		_ = js.DeleteStream(context.Background(), stream)
	}
}

// Crash stops s as a dying process would: every connection drops,
// WebSockets included, nothing answers, and it stops beating in its
// cluster while still holding its projects.
func (s *Server) Crash() {
	if p := s.App.Peers(); p != nil {
		p.Halt()
	}
	s.conns.closeAll()
}

// tracked is a listener that can drop every connection it accepted,
// including those a handler took over (WebSockets), which
// httptest.Server.CloseClientConnections leaves alone.
type tracked struct {
	net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func (l *tracked) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	l.conns = append(l.conns, c)
	return c, nil
}

func (l *tracked) closeAll() {
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = nil
	l.mu.Unlock()
	_ = l.Listener.Close()
	for _, c := range conns {
		_ = c.Close()
	}
}
