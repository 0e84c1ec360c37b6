package httpx

import (
	"net/http"
	"sort"
	"strings"
)

// Router is a ServeMux that remembers its routes, so tests can walk the
// route table (every route asks access; the OpenAPI document lists them all).
type Router struct {
	mux    *http.ServeMux
	routes []string
}

func NewRouter() *Router {
	rt := &Router{mux: http.NewServeMux()}
	// Unmatched API paths answer in the error shape, not the UI's HTML.
	rt.mux.HandleFunc("/api/", notFound)
	return rt
}

// Handle registers h for a "METHOD /path" pattern.
func (rt *Router) Handle(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Middleware above may have copied the request, so r.Pattern set
		// by the mux would not reach Observe; hand it up through ctx.
		if slot, ok := r.Context().Value(patternKey).(*string); ok {
			*slot = r.Pattern
		}
		h.ServeHTTP(w, r)
	}))
	rt.routes = append(rt.routes, pattern)
}

// HandleFunc registers f for a "METHOD /path" pattern.
func (rt *Router) HandleFunc(pattern string, f http.HandlerFunc) { rt.Handle(pattern, f) }

// Fallback registers the handler for everything no route claims (the UI).
func (rt *Router) Fallback(h http.Handler) { rt.mux.Handle("/", h) }

// Routes lists the registered "METHOD /path" patterns, sorted.
func (rt *Router) Routes() []string {
	out := append([]string(nil), rt.routes...)
	sort.Strings(out)
	return out
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.mux.ServeHTTP(w, r) }

// SplitPattern splits "GET /api/x" into method and path.
func SplitPattern(p string) (method, path string) {
	method, path, _ = strings.Cut(p, " ")
	return method, path
}
