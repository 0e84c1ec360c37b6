package bwrap

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecode/internal/runtime"
	"ecode/internal/runtime/egress"
)

func egressDriver(t *testing.T, policy egress.Policy) *Driver {
	t.Helper()
	newDriver(t) // skips where bwrap cannot run
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	proxy := egress.New(policy, slog.New(slog.NewTextHandler(io.Discard, nil)))
	d, err := New(ctx, Config{StateDir: filepath.Join(reachableTempDir(t), "sandboxes"), Limits: DefaultLimits(), Egress: proxy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func startWithEgress(t *testing.T, d *Driver, id string) runtime.Sandbox {
	t.Helper()
	proj := filepath.Join(reachableTempDir(t), "project")
	os.MkdirAll(proj, 0o755)
	s, err := d.Start(context.Background(), runtime.Spec{ID: id, ProjectDir: proj, Egress: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func TestEgressRefusesInwardAddresses(t *testing.T) {
	hostSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "host service") }))
	defer hostSrv.Close()
	port := hostSrv.Listener.Addr().(*net.TCPAddr).Port
	// Even a host on the allow list is refused when it resolves inward.
	d := egressDriver(t, egress.Policy{Allow: []string{"localhost"}, AnyPublic: false})
	s := startWithEgress(t, d, "egress-default")
	for _, target := range []string{
		"http://localhost:" + itoa(port) + "/", "https://localhost:" + itoa(port) + "/",
		"http://127.0.0.1:" + itoa(port) + "/", "http://169.254.169.254/latest/meta-data/", "https://example.com/",
	} {
		out, _ := sh(t, s, `curl --noproxy '' -sS -m 5 -o /dev/null -w '%{http_code}' `+target+` 2>&1`)
		if strings.Contains(out, "host service") || strings.HasPrefix(out, "200") {
			t.Errorf("%s reached through the proxy: %s", target, out)
		}
		if !strings.Contains(out, "403") {
			t.Errorf("%s: want a 403 from the egress proxy, got %q", target, out)
		}
	}
}

func TestEgressAllowsWhatPolicyAllows(t *testing.T) {
	hostSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello via proxy") }))
	defer hostSrv.Close()
	port := hostSrv.Listener.Addr().(*net.TCPAddr).Port
	// A test stand-in for "public": loopback counts, so a local server plays the internet.
	d := egressDriver(t, egress.Policy{AnyPublic: true, AllowedAddr: func(a netip.Addr) bool { return a.IsLoopback() }})
	s := startWithEgress(t, d, "egress-open")
	out, e := sh(t, s, `curl --noproxy '' -sS -m 5 http://127.0.0.1:`+itoa(port)+`/`)
	if e.Code != 0 || out != "hello via proxy" {
		t.Fatalf("through the proxy: %+v %q", e, out)
	}
}

func TestEgressNpmInstall(t *testing.T) {
	c, err := net.DialTimeout("tcp", "registry.npmjs.org:443", 3*time.Second)
	if err != nil {
		t.Skipf("the npm registry is not reachable from this host: %v", err)
	}
	c.Close()
	d := egressDriver(t, egress.Policy{Allow: egress.DefaultAllow})
	s := startWithEgress(t, d, "npm")
	out, e := sh(t, s, `npm init -y >/dev/null && npm install --no-audit is-number@7.0.0 2>&1 && node -e 'console.log(require("is-number")(5))'`)
	if e.Code != 0 || !strings.HasSuffix(out, "true\n") {
		t.Fatalf("npm install through the egress proxy: %+v\n%s", e, out)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
