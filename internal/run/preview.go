package run

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/project"
)

// Previews are served on their own origin, {slug}--{owner}.{domain}, so a
// running app never sees the platform's session cookie. A private
// project's preview asks the platform, once, for a signed pass that it
// keeps in a cookie of the preview origin.

const (
	previewCookie = "ecode_preview"
	previewAuth   = "/__ecode/auth"
	passTTL       = 12 * time.Hour
)

// PreviewTarget parses a preview host into owner and slug.
func (s *Service) PreviewTarget(host string) (owner, slug string, ok bool) {
	return project.ParseSiteHost(host, s.opts.PreviewDomain)
}

// sign and verify a pass: "projectID.userID.expiry.mac".
func (s *Service) sign(projectID, userID string, exp time.Time) string {
	payload := projectID + "." + userID + "." + strconv.FormatInt(exp.Unix(), 10)
	m := hmac.New(sha256.New, s.opts.PreviewKey)
	m.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Service) verify(pass, projectID string) (userID string, ok bool) {
	i := strings.LastIndexByte(pass, '.')
	if i < 0 {
		return "", false
	}
	payload, mac := pass[:i], pass[i+1:]
	m := hmac.New(sha256.New, s.opts.PreviewKey)
	m.Write([]byte(payload))
	want := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(mac), []byte(want)) {
		return "", false
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 || parts[0] != projectID {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || time.Now().Unix() > exp {
		return "", false
	}
	return parts[1], true
}

// PassRoute is the platform-side step of the handshake: it checks that the
// logged-in caller may see the preview and sends them back with a pass.
func (s *Service) pass(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Query().Get("host")
	owner, slug, ok := s.PreviewTarget(host)
	if !ok {
		httpx.Error(w, r, errs.Invalid("invalid_host", "Not a preview host."))
		return
	}
	actor := auth.Actor(r)
	if actor == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
		return
	}
	p, err := s.projects.BySlug(r.Context(), actor, owner, slug)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	next := httpx.LocalPath(r.URL.Query().Get("next"), "/")
	target := url.URL{Scheme: s.previewScheme(), Host: host, Path: previewAuth,
		RawQuery: url.Values{"pass": {s.sign(p.ID, actor.ID, time.Now().Add(passTTL))}, "next": {next}}.Encode()}
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func (s *Service) previewScheme() string {
	if u, err := url.Parse(s.opts.PublicURL); err == nil && u.Scheme == "https" {
		return "https"
	}
	return "http"
}

// ServePreview answers every request to a preview host.
func (s *Service) ServePreview(w http.ResponseWriter, r *http.Request) {
	owner, slug, _ := s.PreviewTarget(r.Host)
	p, err := s.previewProject(r.Context(), owner, slug)
	if err != nil {
		previewPage(w, http.StatusNotFound, "No such project", "There is no project at this address.")
		return
	}
	if err := s.opts.Access.Admit(r.Context(), p.Access()); err != nil {
		msg := "This project can't be reached from your network."
		if e, ok := errs.As(err); ok {
			msg = e.Message
		}
		previewPage(w, http.StatusForbidden, "Your network address isn't allowed", msg)
		return
	}
	if r.URL.Path == previewAuth {
		pass := r.URL.Query().Get("pass")
		if _, ok := s.verify(pass, p.ID); !ok {
			previewPage(w, http.StatusForbidden, "Preview link expired", "Open the preview again from the workspace.")
			return
		}
		http.SetCookie(w, s.passCookie(r, pass))
		http.Redirect(w, r, httpx.LocalPath(r.URL.Query().Get("next"), "/"), http.StatusFound)
		return
	}
	// Access is asked on every request, as of every other route: a pass
	// names a person, and outlives nobody's rights.
	if _, err := s.opts.Access.Project(r.Context(), s.passHolder(r, p), access.Read, p.Access()); err != nil {
		back := s.opts.PublicURL + "/api/preview/pass?" + url.Values{"host": {r.Host}, "next": {r.URL.RequestURI()}}.Encode()
		http.Redirect(w, r, back, http.StatusFound)
		return
	}
	port, ok := s.previewPort(r.Context(), p)
	if !ok {
		previewPage(w, http.StatusBadGateway, "Nothing is running",
			fmt.Sprintf("Press Run in the workspace. The app should listen on $PORT (%d).", s.opts.DefaultPort))
		return
	}
	s.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, target{projectID: p.ID, port: port})))
}

// passHolder is the person whose pass for p the request carries, or nil.
func (s *Service) passHolder(r *http.Request, p *project.Project) *auth.User {
	c, err := r.Cookie(previewCookie)
	if err != nil {
		return nil
	}
	if uid, ok := s.verify(c.Value, p.ID); ok {
		return &auth.User{ID: uid}
	}
	return nil
}

func (s *Service) passCookie(r *http.Request, pass string) *http.Cookie {
	c := &http.Cookie{Name: previewCookie, Value: pass, Path: "/", HttpOnly: true, MaxAge: int(passTTL.Seconds())}
	// The preview lives in an iframe of another site (the platform), where
	// only a partitioned SameSite=None cookie is kept; those need Secure,
	// which browsers grant to https and to *.localhost.
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if s.previewScheme() == "https" || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		c.Secure, c.SameSite, c.Partitioned = true, http.SameSiteNoneMode, true
	} else {
		c.SameSite = http.SameSiteLaxMode
	}
	return c
}

// previewProject looks a preview's project up, remembering it for a
// moment: an app's page pulls many assets, and each would cost a query.
// A change of name or visibility reaches previews within previewCacheTTL.
func (s *Service) previewProject(ctx context.Context, owner, slug string) (*project.Project, error) {
	key := owner + "/" + slug
	s.mu.Lock()
	e, ok := s.previewCache[key]
	s.mu.Unlock()
	if ok && time.Since(e.at) < previewCacheTTL {
		return e.p, nil
	}
	p, err := s.projects.Lookup(ctx, owner, slug)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.previewCache) > 10000 {
		clear(s.previewCache)
	}
	s.previewCache[key] = cachedProject{p: p, at: time.Now()}
	s.mu.Unlock()
	return p, nil
}

const previewCacheTTL = 2 * time.Second

type cachedProject struct {
	p  *project.Project
	at time.Time
}

// previewPort is the port to show: the current run's, else the first one
// anything in the running sandbox listens on.
func (s *Service) previewPort(ctx context.Context, p *project.Project) (int, bool) {
	c := s.console(p.ID)
	c.mu.Lock()
	r := c.current
	c.mu.Unlock()
	if r != nil && r.active() {
		r.mu.Lock()
		port := r.port
		r.mu.Unlock()
		if port > 0 {
			return port, true
		}
	}
	sb := s.pool.running(p.ID)
	if sb == nil {
		return 0, false
	}
	ports, err := sb.Ports(ctx)
	if err != nil || len(ports) == 0 {
		return 0, false
	}
	return ports[0], true
}

type targetKey struct{}

// upstream names the app for the transport: one connection pool per app.
func (t target) upstream() string { return t.projectID + "-" + strconv.Itoa(t.port) + ".sandbox" }

type target struct {
	projectID string
	port      int
}

// newProxy forwards to the sandbox through its agent. The upstream host
// names the project and port, so connections are pooled per app.
func (s *Service) newProxy() *httputil.ReverseProxy {
	transport := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			t, ok := ctx.Value(targetKey{}).(target)
			if !ok {
				return nil, fmt.Errorf("no preview target for %s", addr)
			}
			sb := s.pool.running(t.projectID)
			if sb == nil {
				return nil, fmt.Errorf("the sandbox has stopped")
			}
			return sb.Dial(ctx, t.port)
		},
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
	}
	return &httputil.ReverseProxy{
		BufferPool: &httpx.ProxyBuffers{},
		Transport:  transport,
		// Streams (server-sent events, chunked hot-reload channels) are
		// flushed as they come by ReverseProxy itself; others are buffered.
		Rewrite: func(pr *httputil.ProxyRequest) {
			t := pr.In.Context().Value(targetKey{}).(target)
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = t.upstream()
			// Dev servers accept requests for localhost; the public name
			// travels in X-Forwarded-Host.
			pr.Out.Host = "localhost:" + strconv.Itoa(t.port)
			pr.SetXForwarded()
			removeCookie(pr.Out, previewCookie)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			previewPage(w, http.StatusBadGateway, "The app did not answer", "Check the console for errors. ("+err.Error()+")")
		},
	}
}

func removeCookie(r *http.Request, name string) {
	cs := r.Cookies()
	r.Header.Del("Cookie")
	for _, c := range cs {
		if c.Name != name {
			r.AddCookie(c)
		}
	}
}

func previewPage(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%[1]s</title>
<style>body{font:15px system-ui,sans-serif;background:#0b0d12;color:#c9ced8;display:grid;place-items:center;min-height:100vh;margin:0}
main{max-width:28rem;padding:2rem;text-align:center}h1{font-size:1.1rem;color:#e6e8ee}</style></head>
<body><main><h1>%[1]s</h1><p>%[2]s</p></main></body></html>`, html.EscapeString(title), html.EscapeString(msg))
}
