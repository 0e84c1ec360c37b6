package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/store"
)

// Limits of one batch and of its events' strings.
const (
	MaxBatchBytes  = 1 << 20
	MaxBatchEvents = 500
	maxMessage     = 2 << 10
	maxStack       = 16 << 10
	maxURL         = 2 << 10
	maxName        = 128
	maxProps       = 32
	maxPropValue   = 256
	maxPast        = 24 * time.Hour
	maxFuture      = 5 * time.Minute
)

var reSession = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// Ingest answers the CORS questions of an ingest route: deployed apps post
// from their own origin, without credentials. Preflights end here.
func Ingest(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Origin", "*")
		hdr.Set("Access-Control-Expose-Headers", "Retry-After")
		if r.Method == http.MethodOptions {
			hdr.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			hdr.Set("Access-Control-Allow-Headers", "Content-Type")
			hdr.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Source is the scope an ingest request is for, and who may send it how
// fast: the limiter's key is the scope and the client address.
type Source struct {
	Scope string
	// Anonymous is a platform event without a session: limited harder.
	Anonymous bool
}

// Authorize answers the scope of an ingest request: ?key=pk_... resolved
// to its project, or ?scope=platform.
func (s *Service) Authorize(r *http.Request) (Source, error) {
	q := r.URL.Query()
	if key := q.Get("key"); key != "" {
		scope, ok, err := s.Resolve(r.Context(), key)
		if err != nil {
			return Source{}, err
		}
		if !ok {
			return Source{}, errUnknownKey
		}
		return Source{Scope: scope}, nil
	}
	if q.Get("scope") == Platform {
		return Source{Scope: Platform, Anonymous: auth.Actor(r) == nil}, nil
	}
	return Source{}, errUnknownKey
}

var errUnknownKey = errs.Unauthenticated("unknown_key", "The ingest key is missing or no project holds it; copy the snippet again from the project's Monitoring settings.")

// Allow takes n events from the source's budget for the request's client,
// or answers 429 rate_limited with Retry-After and returns false.
func (s *Service) Allow(w http.ResponseWriter, r *http.Request, src Source, n int) bool {
	lim := s.limits
	if src.Anonymous {
		lim = s.anon
	}
	ok, after := lim.Allow(src.Scope+"|"+clientIP(r), n)
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int((after+time.Second-1)/time.Second))))
		httpx.Error(w, r, errs.RateLimited("rate_limited", "Too many events from this address; wait %s and send again.", after.Round(time.Second)))
	}
	return ok
}

// clientIP is the address Observe found (proxies trusted), or the peer's.
func clientIP(r *http.Request) string {
	if ip := httpx.ClientFrom(r.Context()).IP; ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Rejected says why one event of a batch was not kept.
type Rejected struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// event is the union of the SDK's event shapes.
type event struct {
	Type       string         `json:"type"`
	T          float64        `json:"t"`
	Session    string         `json:"session"`
	URL        string         `json:"url"`
	Referrer   string         `json:"referrer"`
	Name       string         `json:"name"`
	Message    string         `json:"message"`
	Stack      string         `json:"stack"`
	Source     string         `json:"source"`
	Value      *float64       `json:"value"`
	Rating     string         `json:"rating"`
	Method     string         `json:"method"`
	Target     string         `json:"target"`
	Status     *int           `json:"status"`
	DurationMs *float64       `json:"durationMs"`
	Props      map[string]any `json:"props"`
}

var (
	vitalNames = map[string]bool{"LCP": true, "INP": true, "CLS": true, "FCP": true, "TTFB": true}
	ratings    = map[string]int{"good": 0, "needs-improvement": 1, "poor": 2}
	sources    = map[string]bool{"error": true, "unhandledrejection": true, "manual": true}
)

func bad(code, format string, args ...any) *Rejected {
	return &Rejected{Code: code, Message: fmt.Sprintf(format, args...)}
}

// check validates e and scrubs and bounds its strings in place.
func (e *event) check(now time.Time) *Rejected {
	t := time.UnixMilli(int64(e.T))
	if t.Before(now.Add(-maxPast)) || t.After(now.Add(maxFuture)) {
		return bad("bad_time", "t must be unix milliseconds within the last 24 hours.")
	}
	if !reSession.MatchString(e.Session) {
		return bad("bad_session", "session must be 8 to 64 letters, digits, '_' or '-'.")
	}
	if e.URL == "" {
		return bad("bad_event", "url is required.")
	}
	e.URL = clip(scrubURL(e.URL), maxURL)
	e.Name = clip(scrub(e.Name), maxName)
	switch e.Type {
	case "pageview":
		e.Referrer = clip(scrubURL(e.Referrer), maxURL)
	case "error":
		if e.Message == "" && e.Name == "" {
			return bad("bad_event", "An error needs a message.")
		}
		if !sources[e.Source] {
			e.Source = "manual"
		}
		e.Message = clip(scrub(e.Message), maxMessage)
		e.Stack = clip(scrub(e.Stack), maxStack)
	case "vital":
		if !vitalNames[e.Name] {
			return bad("bad_event", "name must be one of LCP, INP, CLS, FCP, TTFB.")
		}
		if e.Value == nil || *e.Value < 0 || *e.Value > 1e7 {
			return bad("bad_event", "value must be a number from 0.")
		}
		if _, ok := ratings[e.Rating]; !ok {
			return bad("bad_event", "rating must be good, needs-improvement or poor.")
		}
	case "request":
		if e.Status == nil || *e.Status < 0 || *e.Status > 999 {
			return bad("bad_event", "status must be an HTTP status, or 0 for a network failure.")
		}
		if e.DurationMs == nil || *e.DurationMs < 0 {
			return bad("bad_event", "durationMs must be a number from 0.")
		}
		e.Method = clip(strings.ToUpper(e.Method), 16)
		e.Target = clip(scrubURL(e.Target), maxURL)
	case "event":
		if e.Name == "" {
			return bad("bad_event", "A custom event needs a name.")
		}
		if len(e.Props) > maxProps {
			return bad("bad_event", "At most %d props.", maxProps)
		}
		for k, v := range e.Props {
			switch x := v.(type) {
			case string:
				e.Props[k] = clip(scrub(x), maxPropValue)
			case float64, bool:
			default:
				return bad("bad_event", "props.%s must be a string, number or boolean.", clip(k, maxName))
			}
		}
	default:
		return bad("bad_type", "type must be pageview, error, vital, request or event.")
	}
	return nil
}

// clip cuts s to at most n bytes, on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Batch is the outcome of one ingest request.
type Batch struct {
	Accepted int        `json:"accepted"`
	Rejected []Rejected `json:"rejected"`
}

func (s *Service) handleEvent(w http.ResponseWriter, r *http.Request) {
	src, err := s.Authorize(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	raws, err := readBatch(w, r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if !s.Allow(w, r, src, len(raws)) {
		return
	}
	b, err := s.ingest(r.Context(), src.Scope, browser(r.UserAgent()), raws)
	httpx.Reply(w, r, http.StatusAccepted, b, err)
}

// readBatch reads the body as a JSON array of at most MaxBatchEvents
// values, whatever its Content-Type (sendBeacon sends text/plain).
func readBatch(w http.ResponseWriter, r *http.Request) ([]json.RawMessage, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBatchBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errs.TooLarge("payload_too_large", "A batch is at most %d bytes; send fewer events at once.", MaxBatchBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("read batch: %w", err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil || raws == nil {
		return nil, errs.Invalid("bad_batch", "The body must be a JSON array of events.")
	}
	if len(raws) > MaxBatchEvents {
		return nil, errs.TooLarge("too_many_events", "A batch holds at most %d events, not %d.", MaxBatchEvents, len(raws))
	}
	return raws, nil
}

// ingest validates each event on its own and stores the good ones in one
// transaction; counters go to the aggregator once the rows are in.
func (s *Service) ingest(ctx context.Context, scope, browserName string, raws []json.RawMessage) (Batch, error) {
	now := s.opts.Now()
	b := Batch{Rejected: []Rejected{}}
	var (
		events, vitals, requests, occurrences [][]any
		groups                                = map[string]*groupDelta{}
		order                                 []string
		tally                                 []rollKey
	)
	for i, raw := range raws {
		var e event
		if err := json.Unmarshal(raw, &e); err != nil {
			b.Rejected = append(b.Rejected, Rejected{Index: i, Code: "bad_event", Message: "An event must be a JSON object of the documented shape."})
			continue
		}
		if rej := e.check(now); rej != nil {
			rej.Index = i
			b.Rejected = append(b.Rejected, *rej)
			continue
		}
		b.Accepted++
		t := int64(e.T)
		switch e.Type {
		case "pageview":
			events = append(events, []any{scope, t, "pageview", e.Session, e.URL, "", jsonText(map[string]any{"referrer": e.Referrer})})
			tally = append(tally, rollKey{scope, mPageviews, t, "", 0})
		case "event":
			events = append(events, []any{scope, t, "event", e.Session, e.URL, e.Name, jsonText(e.Props)})
		case "vital":
			v, name, rating := *e.Value, e.Name, ratings[e.Rating]
			vitals = append(vitals, []any{scope, t, e.Session, e.URL, name, v, e.Rating})
			tally = append(tally, rollKey{scope, mVital, t, name, bucketOf(v * scaleOf(name))}, rollKey{scope, mRating, t, name, rating})
		case "request":
			status := *e.Status
			requests = append(requests, []any{scope, t, e.Session, e.URL, e.Method, e.Target, status, *e.DurationMs})
			if status == 0 || status >= 400 {
				tally = append(tally, rollKey{scope, mFailedReqs, t, "", 0})
			}
		case "error":
			fp := fingerprint(e.Name, e.Message, e.Stack)
			occurrences = append(occurrences, []any{scope, fp, t, e.Session, e.URL, e.Message, e.Stack, browserName})
			g := groups[fp]
			if g == nil {
				g = &groupDelta{fingerprint: fp, firstSession: e.Session, first: t}
				groups[fp] = g
				order = append(order, fp)
			}
			g.add(e, t)
			tally = append(tally, rollKey{scope, mBrowserErrs, t, "", 0})
		}
	}
	err := s.writes.do(ctx, func(q store.Q) error {
		for _, ins := range []struct {
			table string
			rows  [][]any
		}{
			{`telemetry_events (scope, t, kind, session, url, name, props)`, events},
			{`telemetry_vitals (scope, t, session, url, name, value, rating)`, vitals},
			{`telemetry_requests (scope, t, session, url, method, target, status, duration_ms)`, requests},
			{`telemetry_errors (scope, fingerprint, t, session, url, message, stack, browser)`, occurrences},
		} {
			if err := insertRows(ctx, q, ins.table, ins.rows, ""); err != nil {
				return err
			}
		}
		for _, fp := range order {
			if err := groups[fp].upsert(ctx, q, scope); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Batch{}, fmt.Errorf("store batch: %w", err)
	}
	s.agg.count(tally)
	return b, nil
}

func jsonText(v any) string {
	if v == nil {
		return "{}"
	}
	b, _ := json.Marshal(v) // maps of strings, numbers and booleans always encode
	return string(b)
}
