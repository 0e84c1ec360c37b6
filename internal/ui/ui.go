// Package ui serves the built single-page front end: hashed assets with
// long caching, and index.html for every UI route, with a 404 status where
// the route names nothing the visitor may see and 403 where the visitor
// may not see it from where they are (a team's allowlist).
package ui

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"ecode/internal/errs"
)

// Visible says whether the visitor of r may see owner's project slug, or
// with slug "" the team owner, as an error: nil when they may.
type Visible func(r *http.Request, owner, slug string) error

type handler struct {
	app     fs.FS
	index   []byte
	visible Visible
	static  http.Handler
}

// New serves the app under dist/app, or a how-to-build page without it.
func New(dist fs.FS, visible Visible) http.Handler {
	app, err := fs.Sub(dist, "dist/app")
	if err != nil {
		return notBuilt()
	}
	index, err := fs.ReadFile(app, "index.html")
	if err != nil {
		return notBuilt()
	}
	return &handler{app: app, index: index, visible: visible, static: http.FileServerFS(app)}
}

// routes are the UI's own top-level paths; anything else is a 404 page.
var routes = map[string]bool{"": true, "login": true, "signup": true, "settings": true, "invite": true, "team-invite": true, "device": true,
	"courses": true, "lti": true}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if p != "" && p != "index.html" {
		if info, err := fs.Stat(h.app, p); err == nil && !info.IsDir() {
			if strings.HasPrefix(p, "assets/") {
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			}
			h.static.ServeHTTP(w, r)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(h.status(r, p))
	_, _ = w.Write(h.index)
}

func (h *handler) status(r *http.Request, p string) int {
	first, rest, _ := strings.Cut(p, "/")
	if owner, ok := strings.CutPrefix(first, "@"); ok {
		slug, _, _ := strings.Cut(rest, "/")
		if owner == "" {
			return http.StatusNotFound
		}
		err := h.visible(r, owner, slug)
		switch {
		case err == nil:
			return http.StatusOK
		case errs.Is(err, errs.KindForbidden):
			return http.StatusForbidden
		}
		return http.StatusNotFound
	}
	if routes[first] {
		return http.StatusOK
	}
	return http.StatusNotFound
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>E-Code: web UI not built</title>
<style>body{font:15px system-ui,sans-serif;background:#0b0d12;color:#e6e8ee;display:grid;place-items:center;min-height:100vh;margin:0}
main{max-width:36rem;padding:2rem}code{background:#1b1f2a;padding:.15rem .4rem;border-radius:.25rem}</style></head>
<body><main><h1>The web UI is not built</h1>
<p>This server binary was compiled without the front end. The API works; to get the IDE, build the UI and the binary again:</p>
<p><code>make build</code> &nbsp;or&nbsp; <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build &amp;&amp; cd .. &amp;&amp; go build ./cmd/ecode</code></p>
</main></body></html>`

func notBuilt() http.Handler {
	page := []byte(notBuiltPage)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(page))
	})
}
