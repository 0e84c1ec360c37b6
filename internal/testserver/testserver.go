// Package testserver starts the real platform in-process for tests, over a
// fresh database of the engine asked for, and gives each test user a client
// with its own cookie jar.
package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"ecode/internal/config"
	"ecode/internal/server"
	"ecode/internal/store/testdb"
)

// Server is a running platform.
type Server struct {
	*httptest.Server
	App   *server.Server
	conns *tracked
}

// Option changes the config of a test server.
type Option func(*config.Config)

// WithoutSignup closes sign-up, as an operator may.
func WithoutSignup(c *config.Config) { c.AllowSignup = false }

// WithSandboxIdle stops sandboxes after d unused.
func WithSandboxIdle(d time.Duration) Option { return func(c *config.Config) { c.SandboxIdle = d } }

// WithShellIdle closes shells nobody has watched for d.
func WithShellIdle(d time.Duration) Option { return func(c *config.Config) { c.ShellIdle = d } }

// WithAutoCheckpoint checkpoints projects by themselves after quiet, at
// most once per gap.
func WithAutoCheckpoint(quiet, gap time.Duration) Option {
	return func(c *config.Config) { c.AutoCheckpoint, c.AutoCheckpointGap = quiet, gap }
}

// WithReadTimeout gives clients d to send headers, and lets a body pause no longer.
func WithReadTimeout(d time.Duration) Option { return func(c *config.Config) { c.ReadTimeout = d } }

// WithDiskCheck measures running projects' size every d.
func WithDiskCheck(d time.Duration) Option { return func(c *config.Config) { c.DiskCheck = d } }

// WithCacheLimit holds each project's ~/.cache to n bytes.
func WithCacheLimit(n int64) Option { return func(c *config.Config) { c.MaxCacheBytes = n } }

// WithGitImportRoots lets file:// imports clone from below dirs.
func WithGitImportRoots(dirs ...string) Option {
	return func(c *config.Config) { c.GitImportRoots = strings.Join(dirs, ",") }
}

// WithEgressPrivate lets sandboxes and imports reach the private networks cidrs.
func WithEgressPrivate(cidrs ...string) Option {
	return func(c *config.Config) { c.EgressPrivate = strings.Join(cidrs, ",") }
}

// WithAI points the agent at a model server (agenttest's scripted model).
func WithAI(baseURL string) Option {
	return func(c *config.Config) { c.AnthropicURL, c.AnthropicKey = baseURL, "test-key" }
}

// WithOpenAI points the agent at an OpenAI-compatible server instead.
func WithOpenAI(baseURL, model string) Option {
	return func(c *config.Config) { c.OpenAIURL, c.AIModel = baseURL, model }
}

// WithDeployIdle stops an idle autoscale instance after d.
func WithDeployIdle(d time.Duration) Option { return func(c *config.Config) { c.DeployIdle = d } }

// WithMinSchedule sets the shortest interval a schedule may ask for
// (test servers allow 1s).
func WithMinSchedule(d time.Duration) Option { return func(c *config.Config) { c.MinSchedule = d } }

// WithWebhookPrivate lets failure webhooks reach the CIDRs (such as
// 127.0.0.1/32, for a receiver the test starts).
func WithWebhookPrivate(cidrs ...string) Option {
	return func(c *config.Config) { c.WebhookPrivate = strings.Join(cidrs, ",") }
}

// WithOTLP exports traces to endpoint.
func WithOTLP(endpoint string) Option { return func(c *config.Config) { c.OTLPEndpoint = endpoint } }

// WithSMTP sends email through the SMTP server at url, from from.
func WithSMTP(url, from string) Option {
	return func(c *config.Config) { c.SMTPURL, c.SMTPFrom = url, from }
}

// WithAlertInterval evaluates alert rules every d.
func WithAlertInterval(d time.Duration) Option { return func(c *config.Config) { c.AlertInterval = d } }

// WithMasterKey seals with key (base64 of 32 bytes).
func WithMasterKey(key string) Option { return func(c *config.Config) { c.MasterKey = key } }

// WithTrustedProxies believes X-Forwarded-For from the CIDRs.
func WithTrustedProxies(cidrs ...string) Option {
	return func(c *config.Config) { c.TrustedProxies = strings.Join(cidrs, ",") }
}

// WithKube runs sandboxes as pods in namespace of the cluster of
// kubeconfig, their image pushed to registry.
func WithKube(kubeconfig, namespace, registry string) Option {
	return func(c *config.Config) {
		c.Runtime, c.Kubeconfig, c.KubeNamespace, c.ImageRegistry = "kube", kubeconfig, namespace, registry
	}
}

// WithLimits sets the per-file and per-project size limits.
func WithLimits(file, project int64) Option {
	return func(c *config.Config) { c.MaxFileBytes, c.MaxProjectBytes = file, project }
}

// WithOAuth offers log in with provider (github, google, ...; see
// config.OAuthProviders), registered as clientID and secret at a server
// that plays it at baseURL (oauthtest's fakes).
func WithOAuth(provider, baseURL, clientID, secret string) Option {
	return func(c *config.Config) {
		*c.OAuth.Client(provider) = config.OAuthClient{ClientID: clientID, ClientSecret: secret, BaseURL: baseURL}
	}
}

// UI is a tiny stand-in for the built front end, so UI routes answer HTML.
var UI = fstest.MapFS{"dist/app/index.html": {Data: []byte("<!doctype html><title>E-Code</title><div id=root></div>")}}

var quietLogs sync.Once

// New starts a server on engine e; it stops when the test ends. Only
// warnings and errors are logged, so a failing test's output stays readable.
func New(t testing.TB, e testdb.Engine, opts ...Option) *Server {
	t.Helper()
	quietLogs.Do(func() {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	})
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	// Sandbox uids must be able to pass through to their project.
	for d := cfg.DataDir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o711)
	}
	cfg.DatabaseURL = e.URL(t)
	cfg.GoCachePrewarm = false // minutes of compiling: only the tests that want it ask for it
	// Scheduled deployments are tested on schedules of seconds.
	cfg.MinSchedule = time.Second
	for _, o := range opts {
		o(&cfg)
	}
	onKube(t, &cfg)
	hs := httptest.NewUnstartedServer(nil)
	conns := &tracked{Listener: hs.Listener}
	hs.Listener = conns
	cfg.PublicURL = "http://" + hs.Listener.Addr().String()
	if cfg.NATSURL != "" && cfg.PeerURL == "" {
		cfg.PeerURL = cfg.PublicURL // one of a cluster's servers (cluster.go)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	app, err := server.New(context.Background(), cfg, UI)
	if err != nil {
		hs.Close()
		t.Fatalf("start server on %s: %v", e.Name, err)
	}
	hs.Config.Handler = app.Handler()
	app.Configure(hs.Config)
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		app.Close()
	})
	return &Server{Server: hs, App: app, conns: conns}
}

// Each runs fn as a parallel subtest on every engine, each with its own server.
func Each(t *testing.T, fn func(t *testing.T, s *Server), opts ...Option) {
	t.Helper()
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, New(t, e, opts...))
		})
	}
}

// Client calls the server as one user (or anonymously).
type Client struct {
	s      *Server
	http   *http.Client
	Token  string // when set, sent as a Bearer token instead of cookies
	Header http.Header
	User   User
}

// User is the account a client signed up as.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

// Anonymous returns a client with an empty cookie jar.
func (s *Server) Anonymous() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{s: s, http: &http.Client{Jar: jar}, Header: http.Header{}}
}

// SignUp creates an account name with password "password-"+name.
func (s *Server) SignUp(t testing.TB, name string) *Client {
	t.Helper()
	c := s.Anonymous()
	res := c.Post(t, "/api/auth/signup", map[string]string{
		"username": name, "email": name + "@example.com", "password": "password-" + name,
	}).WantStatus(t, http.StatusCreated)
	var out struct{ User User }
	res.Decode(t, &out)
	c.User = out.User
	return c
}

// Project is what tests need of a project.
type Project struct {
	ID         string `json:"id"`
	Owner      string `json:"owner"`
	Slug       string `json:"slug"`
	Name       string `json:"name"`
	URL        string `json:"url"`
	Visibility string `json:"visibility"`
	CanEdit    bool   `json:"canEdit"`
}

// CreateProject creates a project from the blank template.
func (c *Client) CreateProject(t testing.TB, name string) Project {
	t.Helper()
	var out struct{ Project Project }
	c.Post(t, "/api/projects", map[string]string{"name": name}).WantStatus(t, http.StatusCreated).Decode(t, &out)
	return out.Project
}

// CookieHeader is the Cookie header the client's jar sends to the server.
func (c *Client) CookieHeader(t testing.TB) string {
	u, err := url.Parse(c.s.URL)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, ck := range c.http.Jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// From returns the client connecting from local address ip, such as a
// loopback alias (127.0.0.2): the server sees that address as the peer.
// It shares c's cookies and token.
func (c *Client) From(ip string) *Client {
	nc := *c
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	nc.http = &http.Client{Jar: c.http.Jar, Transport: &http.Transport{DialContext: d.DialContext}}
	return &nc
}

// On returns c calling server s as the same person: the servers of a
// cluster share sessions.
func (c *Client) On(s *Server) *Client {
	nc := *c
	nc.s = s
	return &nc
}

// DoNoRedirect is a GET-style request that returns a redirect instead of
// following it.
func (c *Client) DoNoRedirect(t testing.TB, method, path string) *Response {
	t.Helper()
	nc := *c
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	nc.http = &hc
	return nc.Do(t, method, path, nil)
}

// Response is a finished response with its body read.
type Response struct {
	*http.Response
	Body []byte
}

// Do sends a request. body may be nil, a string or []byte (sent raw), an
// io.Reader, or anything else (sent as JSON).
func (c *Client) Do(t testing.TB, method, path string, body any) *Response {
	t.Helper()
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	case io.Reader:
		r = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r, ctype = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, c.s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.http
	if c.Token != "" {
		hc = &http.Client{Transport: c.http.Transport} // no cookies
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &Response{Response: res, Body: data}
}

func (c *Client) Get(t testing.TB, path string) *Response {
	t.Helper()
	return c.Do(t, "GET", path, nil)
}
func (c *Client) Post(t testing.TB, path string, body any) *Response {
	t.Helper()
	return c.Do(t, "POST", path, body)
}
func (c *Client) Put(t testing.TB, path string, body any) *Response {
	t.Helper()
	return c.Do(t, "PUT", path, body)
}
func (c *Client) Patch(t testing.TB, path string, body any) *Response {
	t.Helper()
	return c.Do(t, "PATCH", path, body)
}
func (c *Client) Delete(t testing.TB, path string) *Response {
	t.Helper()
	return c.Do(t, "DELETE", path, nil)
}

// WantStatus fails the test unless the response has status code.
func (r *Response) WantStatus(t testing.TB, code int) *Response {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d; body: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, code, truncate(r.Body))
	}
	return r
}

// WantError fails the test unless the response is the error shape with
// status and code.
func (r *Response) WantError(t testing.TB, status int, code string) *Response {
	t.Helper()
	r.WantStatus(t, status)
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("%s %s: body %s, want error code %q with a message", r.Request.Method, r.Request.URL.Path, truncate(r.Body), code)
	}
	return r
}

// Decode parses the JSON body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", truncate(r.Body), err)
	}
}

func truncate(b []byte) string {
	if len(b) > 400 {
		return fmt.Sprintf("%s… (%d bytes)", b[:400], len(b))
	}
	return string(b)
}
