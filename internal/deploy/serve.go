package deploy

import (
	"context"
	"ecode/internal/project"
	"fmt"
	"html"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Deployments are served on their own origin, {slug}--{owner}.{domain},
// by the platform itself from the live release's folder: no sandbox runs
// for a static site, and nothing of the platform's session reaches it.

// Target parses a deployment host into owner and slug.
func (s *Service) Target(host string) (owner, slug string, ok bool) {
	return project.ParseSiteHost(host, s.opts.Domain)
}

// site is a live release ready to serve: its folder and manifest.
type site struct {
	releaseID string
	dir       string
	files     manifest
}

type cachedHost struct {
	projectID string // empty: no such project
	at        time.Time
}

// siteTTL bounds how long a host's project and a project's live release
// are remembered; a change in this process forgets at once.
const siteTTL = 2 * time.Second

// hostProject returns the id of the project a deployment host names, or "".
func (s *Service) hostProject(ctx context.Context, owner, slug string) string {
	key := owner + "/" + slug
	s.mu.Lock()
	c, ok := s.hosts[key]
	s.mu.Unlock()
	if ok && time.Since(c.at) < siteTTL {
		return c.projectID
	}
	id := ""
	if p, err := s.projects.Lookup(ctx, owner, slug); err == nil {
		id = p.ID
	}
	s.mu.Lock()
	if len(s.hosts) > 10000 {
		clear(s.hosts)
	}
	s.hosts[key] = cachedHost{projectID: id, at: time.Now()}
	s.mu.Unlock()
	return id
}

// loadSite reads a static release's manifest, once per release.
func (s *Service) loadSite(projectID, releaseID string) (*site, error) {
	s.mu.Lock()
	st := s.sites[releaseID]
	s.mu.Unlock()
	if st != nil {
		return st, nil
	}
	dir := s.releaseDir(projectID, releaseID)
	m, err := readManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("read live release %s: %w", releaseID, err)
	}
	st = &site{releaseID: releaseID, dir: dir, files: m}
	s.mu.Lock()
	if len(s.sites) > 1000 {
		clear(s.sites)
	}
	s.sites[releaseID] = st
	s.mu.Unlock()
	return st, nil
}

// forgetHosts drops what is remembered of hosts and live releases, so the
// next request reads which release is live.
func (s *Service) forgetHosts() {
	s.mu.Lock()
	clear(s.hosts)
	clear(s.lives)
	s.mu.Unlock()
}

// hashed matches a name with a content hash in it (index-3f9a1b2c.js,
// app.5d41402abc4b.css): such a file never changes under its name.
var hashed = regexp.MustCompile(`[.-][A-Za-z0-9_]*[0-9][A-Za-z0-9_]*\.[A-Za-z0-9]+$`)

func immutable(name string) bool {
	m := hashed.FindString(path.Base(name))
	if m == "" {
		return false
	}
	hash := m[1:strings.LastIndexByte(m, '.')]
	return len(hash) >= 8
}

// ServeSite answers every request to a deployment host.
func (s *Service) ServeSite(w http.ResponseWriter, r *http.Request) {
	owner, slug, _ := s.Target(r.Host)
	id := s.hostProject(r.Context(), owner, slug)
	if id == "" {
		sitePage(w, http.StatusNotFound, "Nothing deployed here", "There is no deployment at this address.")
		return
	}
	s.ServeDeployment(w, r, id)
}

// serveRequest answers one request from a static release.
func (st *site) serveRequest(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		sitePage(w, http.StatusMethodNotAllowed, "Method not allowed", "A static site answers GET and HEAD.")
		return
	}
	name, redirect := st.resolve(r.URL.Path)
	switch {
	case redirect:
		u := *r.URL
		u.Path += "/"
		http.Redirect(w, r, u.RequestURI(), http.StatusMovedPermanently)
		return
	case name != "":
		st.serve(w, r, name, http.StatusOK)
		return
	case strings.Contains(r.Header.Get("Accept"), "text/html") && st.has("index.html"):
		// A single-page app routes in the browser: its paths are its index.
		st.serve(w, r, "index.html", http.StatusOK)
		return
	case st.has("404.html"):
		st.serve(w, r, "404.html", http.StatusNotFound)
		return
	}
	sitePage(w, http.StatusNotFound, "Not found", "There is no page at this address.")
}

func (st *site) has(name string) bool { _, ok := st.files[name]; return ok }

// resolve maps a URL path to a file of the release: the file itself, a
// folder's index.html (after a redirect to the folder's slash), or
// name.html. Dot names are never there to find.
func (st *site) resolve(urlPath string) (name string, redirect bool) {
	clean := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if clean == "" || clean == "." {
		return st.pick("index.html"), false
	}
	if strings.HasSuffix(urlPath, "/") {
		return st.pick(clean + "/index.html"), false
	}
	if st.has(clean) {
		return clean, false
	}
	if st.has(clean + "/index.html") {
		return "", true
	}
	return st.pick(clean + ".html"), false
}

func (st *site) pick(name string) string {
	if st.has(name) {
		return name
	}
	return ""
}

// serve sends one file: the smallest encoding the client accepts, with
// its ETag, caching by kind, and ranges through http.ServeContent.
func (st *site) serve(w http.ResponseWriter, r *http.Request, name string, status int) {
	a := st.files[name]
	h := w.Header()
	h.Set("Content-Type", a.Type)
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case strings.HasPrefix(a.Type, "text/html"):
		h.Set("Cache-Control", "no-cache")
	case immutable(name):
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		h.Set("Cache-Control", "no-cache")
	}
	file, etag := filepath.Join(st.dir, siteDir, filepath.FromSlash(name)), a.ETag
	if a.Gzip || a.Br {
		h.Add("Vary", "Accept-Encoding")
		accept := r.Header.Get("Accept-Encoding")
		enc := filepath.Join(st.dir, encDir, filepath.FromSlash(name))
		switch {
		case a.Br && accepts(accept, "br"):
			file, etag = enc+".br", etag+"-br"
			h.Set("Content-Encoding", "br")
		case a.Gzip && accepts(accept, "gzip"):
			file, etag = enc+".gz", etag+"-gz"
			h.Set("Content-Encoding", "gzip")
		}
	}
	f, err := os.Open(file)
	if err != nil {
		sitePage(w, http.StatusNotFound, "Not found", "There is no page at this address.")
		return
	}
	defer f.Close()
	if status != http.StatusOK {
		// An error page is the answer to this URL, not a resource of its
		// own: no validators, no ranges.
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = f.WriteTo(w)
		}
		return
	}
	h.Set("ETag", `"`+etag+`"`)
	info, err := f.Stat()
	if err != nil {
		return
	}
	http.ServeContent(w, r, "", info.ModTime(), f)
}

// accepts reports whether an Accept-Encoding value admits enc (q=0 refuses).
func accepts(header, enc string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), enc) {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// sitePage answers with a small page of the platform's own.
func sitePage(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>%s</title><body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;color:#333\"><h1 style=\"font-size:1.25rem\">%s</h1><p>%s</p>",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(msg))
}
