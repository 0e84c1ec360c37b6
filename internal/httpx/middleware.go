package httpx

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	patternKey
	clientKey
)

// Client is who sent a request, as far as the network tells: for the
// audit log.
type Client struct {
	IP        string
	UserAgent string
}

// WithClient returns ctx carrying c as the client: for work done later on
// behalf of a request, asked again whether that client may.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey, c)
}

// ClientFrom returns the request's client, set by Observe.
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey).(Client)
	return c
}

// RequestID returns the id given to the request by Observe.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Metrics counts requests and their latency by route pattern.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	observe  func(method, route string, status int, d time.Duration)
}

// OnRequest has f told of every request once answered, with its route
// pattern without the method ("unmatched" for none): the platform's own
// monitoring. Set it before serving.
func (m *Metrics) OnRequest(f func(method, route string, status int, d time.Duration)) { m.observe = f }

func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecode_http_requests_total",
			Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ecode_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// StatusWriter remembers the status a handler answered and the bytes it
// wrote, for whoever counts requests.
type StatusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *StatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack underneath.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status is the status answered: 200 when the handler wrote nothing.
func (w *StatusWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// ClientIP is the address a request comes from. X-Forwarded-For is read
// only when the peer is one of the trusted proxies, from the right: the
// first address that is not a trusted proxy is the client (what is left of
// it, anyone could have written).
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	isTrusted := func(s string) bool {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return false
		}
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	if !isTrusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			break // not an address: stop trusting what follows
		}
		if !isTrusted(hop) {
			return hop
		}
	}
	return host
}

// Observe gives each request an id, recovers panics, logs the request and
// records metrics under the matched route pattern, which the Router reports
// back through the context. The client's address honours X-Forwarded-For
// from the trusted proxies only.
func Observe(m *Metrics, log *slog.Logger, trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		route := "unmatched"
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = WithClient(ctx, Client{IP: ClientIP(r, trusted), UserAgent: r.UserAgent()})
		r = r.WithContext(context.WithValue(ctx, patternKey, &route))
		sw := &StatusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic", "request_id", id, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					WriteError(sw, http.StatusInternalServerError, "internal", "Something went wrong on our side; it has been logged.")
				}
			}
			d := time.Since(start)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			m.requests.WithLabelValues(r.Method, route, strconv.Itoa(sw.status)).Inc()
			m.latency.WithLabelValues(r.Method, route).Observe(d.Seconds())
			_, path, found := strings.Cut(route, " ")
			if !found {
				path = route
			}
			if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
				span.SetName(r.Method + " " + path)
				span.SetAttributes(attribute.String("http.route", path))
			}
			if m.observe != nil {
				m.observe(r.Method, path, sw.status, d)
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "http",
				slog.String("request_id", id), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Int("status", sw.status),
				slog.Int64("bytes", sw.bytes), slog.Duration("dur", d))
		}()
		next.ServeHTTP(sw, r)
	})
}

// Security says what the platform's pages may load, for their headers.
type Security struct {
	HTTPS         bool   // served over TLS: browsers are told to stay on it
	PreviewOrigin string // where previews live, framed by the workspace: "http://*.localhost:*"
}

// SecurityHeaders sets the headers every platform response carries: a
// content security policy that runs only the platform's own scripts (no
// inline script, no eval), frames only previews, and lets no other site
// frame the platform.
func SecurityHeaders(sec Security) func(http.Handler) http.Handler {
	csp := strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'", // CodeMirror and Radix set styles at run time
		"img-src 'self' data: blob:",
		"font-src 'self' data:",
		"connect-src 'self'",
		"worker-src 'self' blob:",
		"frame-src 'self' " + sec.PreviewOrigin, // a private preview passes through the platform for its pass
		"frame-ancestors 'self'",
		"form-action 'self'",
		"base-uri 'self'",
		"object-src 'none'",
	}, "; ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
			h.Set("X-Frame-Options", "SAMEORIGIN")
			if sec.HTTPS {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// CrossOrigin refuses cross-origin state-changing browser requests, in the
// error shape.
func CrossOrigin(next http.Handler, public ...string) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusForbidden, "cross_origin", "Cross-origin requests that change state are refused.")
	}))
	for _, pattern := range public {
		cop.AddInsecureBypassPattern(pattern)
	}
	return cop.Handler(next)
}
