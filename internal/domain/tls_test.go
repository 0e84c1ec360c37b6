package domain_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ecode/internal/config"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// tlsPlatform is a test server with the platform's two listeners as
// production has them: plain HTTP (which answers HTTP-01) and HTTPS for
// custom domains (which answers TLS-ALPN-01), both the same handler.
type tlsPlatform struct {
	*testserver.Server
	httpAddr, tlsAddr string
}

func startTLSPlatform(t *testing.T, e testdb.Engine, ca, caRoot string) *tlsPlatform {
	t.Helper()
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := testserver.New(t, e, func(c *config.Config) {
		c.Addr, c.TLSAddr, c.ACMECA, c.ACMECARoot = httpLn.Addr().String(), tlsLn.Addr().String(), ca, caRoot
	})
	cfg := s.App.Domains.TLSConfig()
	if cfg == nil {
		t.Fatal("TLS is on but the domains have no TLS config")
	}
	plain := &http.Server{Handler: s.App.Handler()}
	secure := &http.Server{Handler: s.App.Handler(), TLSConfig: cfg}
	go plain.Serve(httpLn)
	go secure.ServeTLS(tlsLn, "", "")
	t.Cleanup(func() { plain.Close(); secure.Close() })
	return &tlsPlatform{Server: s, httpAddr: httpLn.Addr().String(), tlsAddr: tlsLn.Addr().String()}
}

// handshake opens a TLS connection to the platform for name.
func (p *tlsPlatform) handshake(name string, roots *x509.CertPool) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 20 * time.Second}
	return tls.DialWithDialer(d, "tcp", p.tlsAddr, &tls.Config{ServerName: name, RootCAs: roots, InsecureSkipVerify: roots == nil})
}

// TestDecisionIsLocal asks for certificates of names that may not have
// one: each handshake fails, and the ACME server hears nothing.
func TestDecisionIsLocal(t *testing.T) {
	var asked atomic.Int64
	acme := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer acme.Close()
	root := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: acme.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startTLSPlatform(t, testdb.Engines(t)[0], acme.URL+"/directory", root)
	alice := p.SignUp(t, "alice")
	pr := alice.CreateProject(t, "Shop")
	addDomain(t, alice, pr.ID, "unverified.example.test")

	for _, name := range []string{"unknown.example.test", "unverified.example.test", "127.0.0.1", ""} {
		start := time.Now()
		if c, err := p.handshake(name, nil); err == nil {
			c.Close()
			t.Fatalf("handshake for %q succeeded", name)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("refusing %q took %s", name, d)
		}
	}
	if n := asked.Load(); n != 0 {
		t.Fatalf("the ACME server was asked %d times", n)
	}
}

const pebbleVersion = "v2.10.3"

// pebble installs Pebble and pebble-challtestsrv once per machine, under
// the user's cache, and returns their folder and the module's source
// (test certificates). It skips the test when the module proxy is out of reach.
func pebble(t *testing.T) (bin, src string) {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(cache, "ecode-test", "pebble-"+pebbleVersion)
	gocmd := func(args ...string) ([]byte, error) {
		cmd := exec.Command("go", args...)
		cmd.Dir = t.TempDir() // outside this module: its go.mod does not list Pebble
		cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-mod=mod", "GOWORK=off")
		return cmd.CombinedOutput()
	}
	unreachable := func(out []byte) bool {
		return bytes.Contains(out, []byte("dial tcp")) || bytes.Contains(out, []byte("proxy.golang.org")) ||
			bytes.Contains(out, []byte("no such host")) || bytes.Contains(out, []byte("i/o timeout"))
	}
	out, err := gocmd("mod", "download", "-json", "github.com/letsencrypt/pebble/v2@"+pebbleVersion)
	if err != nil {
		if unreachable(out) {
			t.Skipf("Pebble %s cannot be fetched (module proxy unreachable): %s", pebbleVersion, out)
		}
		t.Fatalf("go mod download pebble: %v\n%s", err, out)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download pebble: %v\n%s", err, out)
	}
	for _, name := range []string{"pebble", "pebble-challtestsrv"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err == nil {
			continue
		}
		if out, err := gocmd("install", "github.com/letsencrypt/pebble/v2/cmd/"+name+"@"+pebbleVersion); err != nil {
			if unreachable(out) {
				t.Skipf("Pebble %s cannot be built (module proxy unreachable): %s", pebbleVersion, out)
			}
			t.Fatalf("go install %s: %v\n%s", name, err, out)
		}
	}
	return bin, mod.Dir
}

// freePort returns a port nothing listens on now, over network tcp or udp.
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lockedBuffer is a process's output, read when a test fails.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs a program until the test ends, then kills it; its output is
// logged if the test failed.
func start(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	var out lockedBuffer
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
}

// waitListening waits until something accepts connections at addr.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// TestPebble obtains a real certificate: Pebble, a real ACME server,
// validates the challenge against the platform's own listeners, reached
// through DNS served by pebble-challtestsrv; then a browser's handshake
// for the verified domain of a live static deployment gets Pebble's
// certificate and the page. An unverified name's handshake fails.
func TestPebble(t *testing.T) {
	testserver.NeedSandbox(t)
	bin, src := pebble(t)
	dir := t.TempDir()
	acmePort, mgmtPort, dnsPort, chalMgmt := freePort(t, "tcp"), freePort(t, "tcp"), freePort(t, "udp"), freePort(t, "tcp")

	start(t, nil, filepath.Join(bin, "pebble-challtestsrv"),
		"-dnsserver", fmt.Sprintf("127.0.0.1:%d", dnsPort), "-management", fmt.Sprintf("127.0.0.1:%d", chalMgmt),
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-defaultIPv4", "", "-defaultIPv6", "")
	waitListening(t, fmt.Sprintf("127.0.0.1:%d", chalMgmt))

	minica := filepath.Join(src, "test", "certs", "pebble.minica.pem")
	p := startTLSPlatform(t, testdb.Engines(t)[0], fmt.Sprintf("https://127.0.0.1:%d/dir", acmePort), minica)
	_, httpPort, _ := net.SplitHostPort(p.httpAddr)
	_, tlsPort, _ := net.SplitHostPort(p.tlsAddr)

	conf := fmt.Sprintf(`{"pebble": {
		"listenAddress": "127.0.0.1:%d", "managementListenAddress": "127.0.0.1:%d",
		"certificate": %q, "privateKey": %q, "httpPort": %s, "tlsPort": %s,
		"ocspResponderURL": "", "externalAccountBindingRequired": false,
		"retryAfter": {"authz": 1, "order": 1}, "keyAlgorithm": "ecdsa",
		"profiles": {"default": {"description": "default", "validityPeriod": 7776000}}}}`,
		acmePort, mgmtPort, filepath.Join(src, "test/certs/localhost/cert.pem"), filepath.Join(src, "test/certs/localhost/key.pem"),
		httpPort, tlsPort)
	if err := os.WriteFile(filepath.Join(dir, "pebble.json"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}, filepath.Join(bin, "pebble"),
		"-config", filepath.Join(dir, "pebble.json"), "-dnsserver", fmt.Sprintf("127.0.0.1:%d", dnsPort))
	waitListening(t, fmt.Sprintf("127.0.0.1:%d", acmePort))

	// DNS: both names point here.
	for _, name := range []string{"shop.example.test", "unverified.example.test"} {
		body := fmt.Sprintf(`{"host":%q,"addresses":["127.0.0.1"]}`, name)
		res, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/add-a", chalMgmt), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("add A record: %s", res.Status)
		}
	}

	// A live static deployment with a verified domain, and an unverified one.
	alice := p.SignUp(t, "alice")
	page := "<!doctype html><title>Shop</title><h1>over https</h1>\n"
	pr := alice.CreateProject(t, "Shop")
	for path, body := range map[string]string{
		"ecode.toml":     "run = \"python3 -m http.server $PORT\"\n\n[deployment]\nbuild = \"mkdir -p dist && cp web/index.html dist/\"\npublicDir = \"dist\"\n",
		"web/index.html": page,
	} {
		alice.Put(t, "/api/projects/"+pr.ID+"/files/"+path, body).WantStatus(t, http.StatusNoContent)
	}
	alice.Post(t, "/api/projects/"+pr.ID+"/deployments", map[string]any{}).WantStatus(t, http.StatusAccepted)
	waitLive(t, alice, pr.ID)
	d := addDomain(t, alice, pr.ID, "shop.example.test")
	addDomain(t, alice, pr.ID, "unverified.example.test")
	v := verifier(t, p.Server)
	if _, err := v.Verify(context.Background(), actor(alice), pr.ID, d.ID); err != nil {
		t.Fatal(err)
	}

	// Pebble's roots, to check the chain as a browser would.
	mgmt := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool(t, minica)}}}
	res, err := mgmt.Get(fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmtPort))
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := io.ReadAll(res.Body)
	res.Body.Close()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("Pebble's root: %s", rootPEM)
	}

	// The platform's memory of the name lapses within two seconds of the verify made beside it.
	var conn *tls.Conn
	eventually(t, func() bool {
		conn, err = p.handshake("shop.example.test", roots)
		return err == nil
	})
	leaf := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	if !strings.Contains(leaf.Issuer.CommonName, "Pebble") || leaf.VerifyHostname("shop.example.test") != nil {
		t.Fatalf("certificate: issuer %q, names %v", leaf.Issuer.CommonName, leaf.DNSNames)
	}
	browser := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, p.tlsAddr)
		},
	}}
	res, err = browser.Get("https://shop.example.test/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != page {
		t.Fatalf("page over https: %d %q", res.StatusCode, body)
	}
	// Plain HTTP now sends browsers to HTTPS; the proof stays on HTTP.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.httpAddr+"/shop?x=1", nil)
	req.Host = "shop.example.test"
	res, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != "https://shop.example.test/shop?x=1" {
		t.Fatalf("plain HTTP with a certificate: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	req, _ = http.NewRequest(http.MethodGet, "http://"+p.httpAddr+"/.well-known/ecode-domain/"+d.Token, nil)
	req.Host = "shop.example.test"
	if res, err = noFollow.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("proof over plain HTTP: %v %v", res, err)
	}
	res.Body.Close()

	var listed []domainView
	eventually(t, func() bool {
		listed = listDomains(t, alice, pr.ID)
		return len(listed) == 2 && listed[0].Certificate.Status == "issued"
	})
	if na := listed[0].Certificate.NotAfter; na == nil || *na != leaf.NotAfter.UnixMilli() || listed[0].URL != "https://shop.example.test/" {
		t.Fatalf("listed: %+v", listed[0])
	}
	if listed[1].Certificate.Status != "none" {
		t.Fatalf("unverified domain's certificate: %+v", listed[1].Certificate)
	}

	if c, err := p.handshake("unverified.example.test", nil); err == nil {
		c.Close()
		t.Fatal("an unverified domain got a certificate")
	}

	// Removed, the name has no certificate any more, in memory or on disk.
	stored := filepath.Join(p.App.Config.DataDir, "certs", "certificates", "*", "shop.example.test")
	if certs, _ := filepath.Glob(stored); len(certs) != 1 {
		t.Fatalf("the certificate is not stored under %s: %v", stored, certs)
	}
	alice.Delete(t, "/api/projects/"+pr.ID+"/domains/"+d.ID).WantStatus(t, http.StatusNoContent)
	if c, err := p.handshake("shop.example.test", roots); err == nil {
		c.Close()
		t.Fatal("a removed domain still has its certificate")
	}
	if certs, _ := filepath.Glob(stored); len(certs) != 0 {
		t.Fatalf("a removed domain's certificate stayed: %v", certs)
	}
}

func pool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(b)
	return p
}

// waitLive waits until the project's first release is live.
func waitLive(t *testing.T, c *testserver.Client, projectID string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var o struct {
			Deployment *struct {
				LiveReleaseID string `json:"liveReleaseId"`
			} `json:"deployment"`
			Releases []struct {
				Status string  `json:"status"`
				Error  *string `json:"error"`
			} `json:"releases"`
		}
		c.Get(t, "/api/projects/"+projectID+"/deployment").WantStatus(t, http.StatusOK).Decode(t, &o)
		if o.Deployment != nil && o.Deployment.LiveReleaseID != "" {
			return
		}
		if len(o.Releases) > 0 && o.Releases[0].Status == "failed" {
			t.Fatalf("deploy failed: %v", *o.Releases[0].Error)
		}
		if time.Now().After(deadline) {
			t.Fatal("no live deployment after 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
