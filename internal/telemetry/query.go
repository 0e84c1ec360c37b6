package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"ecode/internal/errs"
	"ecode/internal/store"
)

// Window is what happened in one scope over a span of time.
type Window struct {
	Requests, Errors         int64              // server side (edge): answers, of them 5xx
	P95Ms                    float64            // 0 without requests
	PageViews, BrowserErrors int64              //
	Vitals                   map[string]float64 // p75 per vital name, only those seen
}

// Point is a Window starting at T.
type Point struct {
	T time.Time
	Window
}

// span is a stretch of time read at one grain.
type span struct{ grain, from, to int64 }

// spans covers [from, to) with hour rollups for the whole hours inside and
// minute rollups for the edges, so long ranges read few rows.
func spans(from, to int64) []span {
	h0, h1 := (from+hour-1)/hour*hour, to/hour*hour
	if h0 >= h1 {
		return []span{{minute, from, to}}
	}
	out := []span{{hour, h0, h1}}
	if from < h0 {
		out = append(out, span{minute, from, h0})
	}
	if h1 < to {
		out = append(out, span{minute, h1, to})
	}
	return out
}

// stepSpan reads [from, to) at the finest grain the steps need: hours when
// they are whole hours from a whole hour, minutes otherwise.
func stepSpan(from, to, step int64) span {
	if step%hour == 0 && from%hour == 0 {
		return span{hour, from, to}
	}
	return span{minute, from, to}
}

// rollRow is a sum of rollup rows: I is the step it falls in.
type rollRow struct {
	Metric string `db:"metric"`
	I      int64  `db:"i"`
	Key    string `db:"key"`
	Bucket int    `db:"bucket"`
	N      int64  `db:"n"`
}

// rollups sums the rows of metrics in sp per step (the database adds up,
// so a day of minutes answers in few rows). One query per metric keeps
// each an exact range of the primary key on either engine.
func (s *Service) rollups(ctx context.Context, scope string, sp span, step int64, metrics ...string) ([]rollRow, error) {
	var out []rollRow
	for _, m := range metrics {
		var rows []rollRow
		err := s.db.Select(ctx, &rows, `SELECT metric, (t - ?) / ? AS i, key, bucket, SUM(n) AS n FROM telemetry_rollups
			WHERE scope = ? AND grain = ? AND metric = ? AND t >= ? AND t < ?
			GROUP BY metric, i, key, bucket`, sp.from, step, scope, sp.grain, m, sp.from, sp.to)
		if err != nil {
			return nil, fmt.Errorf("read rollups: %w", err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

// total sums metrics over [from, to), whatever the grains.
func (s *Service) total(ctx context.Context, scope string, from, to int64, metrics ...string) (*tally, error) {
	t := newTally()
	for _, sp := range spans(from, to) {
		rows, err := s.rollups(ctx, scope, sp, max(1, sp.to-sp.from), metrics...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			t.add(r)
		}
	}
	return t, nil
}

// tally sums rollup rows.
type tally struct {
	lat                  hist
	errors, pv, berr, fr int64
	vitals               map[string]*hist
	ratings              map[string]*[3]int64
	routes               map[string]*routeTally
}

type routeTally struct {
	lat    hist
	errors int64
}

func newTally() *tally {
	return &tally{vitals: map[string]*hist{}, ratings: map[string]*[3]int64{}, routes: map[string]*routeTally{}}
}

func (t *tally) add(r rollRow) {
	switch r.Metric {
	case mLatency:
		t.lat[r.Bucket] += r.N
	case mErrors:
		t.errors += r.N
	case mPageviews:
		t.pv += r.N
	case mBrowserErrs:
		t.berr += r.N
	case mFailedReqs:
		t.fr += r.N
	case mVital:
		h := t.vitals[r.Key]
		if h == nil {
			h = &hist{}
			t.vitals[r.Key] = h
		}
		h[r.Bucket] += r.N
	case mRating:
		c := t.ratings[r.Key]
		if c == nil {
			c = &[3]int64{}
			t.ratings[r.Key] = c
		}
		c[r.Bucket] += r.N
	case mRouteLatency, mRouteErrors:
		rt := t.routes[r.Key]
		if rt == nil {
			rt = &routeTally{}
			t.routes[r.Key] = rt
		}
		if r.Metric == mRouteErrors {
			rt.errors += r.N
		} else {
			rt.lat[r.Bucket] += r.N
		}
	}
}

func (t *tally) window() Window {
	w := Window{Requests: t.lat.total(), Errors: t.errors, PageViews: t.pv, BrowserErrors: t.berr}
	if p := t.lat.quantile(0.95); p != nil {
		w.P95Ms = *p
	}
	for name, h := range t.vitals {
		if p := h.quantile(0.75); p != nil {
			if w.Vitals == nil {
				w.Vitals = map[string]float64{}
			}
			w.Vitals[name] = *p / scaleOf(name)
		}
	}
	return w
}

// windowMetrics are what a Window counts.
var windowMetrics = []string{mLatency, mErrors, mPageviews, mBrowserErrs, mVital}

// Window sums what scope's rollups hold in [from, to).
func (s *Service) Window(ctx context.Context, scope string, from, to time.Time) (Window, error) {
	t, err := s.total(ctx, scope, from.UnixMilli(), to.UnixMilli(), windowMetrics...)
	if err != nil {
		return Window{}, err
	}
	return t.window(), nil
}

// Series answers a Window per step from from to to, every step present.
func (s *Service) Series(ctx context.Context, scope string, from, to time.Time, step time.Duration) ([]Point, error) {
	if step < time.Minute {
		return nil, errs.Invalid("bad_step", "The step must be at least a minute.")
	}
	f, st := from.UnixMilli(), step.Milliseconds()
	tallies, err := s.steps(ctx, scope, f, to.UnixMilli(), st, windowMetrics...)
	if err != nil {
		return nil, err
	}
	out := make([]Point, len(tallies))
	for i, t := range tallies {
		out[i] = Point{T: time.UnixMilli(f + int64(i)*st), Window: t.window()}
	}
	return out, nil
}

// steps tallies metrics per step over [from, to).
func (s *Service) steps(ctx context.Context, scope string, from, to, step int64, metrics ...string) ([]*tally, error) {
	n := max(0, (to-from+step-1)/step)
	out := make([]*tally, n)
	for i := range out {
		out[i] = newTally()
	}
	rows, err := s.rollups(ctx, scope, stepSpan(from, to, step), step, metrics...)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.I].add(r)
	}
	return out, nil
}

// ranges are the dashboards' spans and their steps.
var ranges = map[string]struct{ span, step time.Duration }{
	"1h":  {time.Hour, time.Minute},
	"24h": {24 * time.Hour, 10 * time.Minute},
	"7d":  {7 * 24 * time.Hour, time.Hour},
	"30d": {30 * 24 * time.Hour, 6 * time.Hour},
}

// rangeOf reads ?range= (24h by default): its name, step and the steps'
// bounds in unix ms, the last step holding now.
func (s *Service) rangeOf(r *http.Request) (name string, from, to, step int64, err error) {
	name = r.URL.Query().Get("range")
	if name == "" {
		name = "24h"
	}
	rg, ok := ranges[name]
	if !ok {
		return "", 0, 0, 0, errs.Invalid("bad_range", "range must be 1h, 24h, 7d or 30d.")
	}
	step = rg.step.Milliseconds()
	now := s.now()
	to = now - now%step + step
	return name, to - rg.span.Milliseconds(), to, step, nil
}

// Overview is the dashboard of one scope over a range.
type Overview struct {
	Range          string          `json:"range"`
	StepMs         int64           `json:"stepMs"`
	From           int64           `json:"from"`
	To             int64           `json:"to"`
	Traffic        []TrafficPoint  `json:"traffic"`
	Routes         []RouteStats    `json:"routes"`
	Browser        []BrowserPoint  `json:"browser"`
	Vitals         []VitalStats    `json:"vitals"`
	FailedRequests []FailedRequest `json:"failedRequests"`
	Totals         Totals          `json:"totals"`
}

type Latency struct {
	P50Ms *float64 `json:"p50Ms"`
	P95Ms *float64 `json:"p95Ms"`
	P99Ms *float64 `json:"p99Ms"`
}

func latencyOf(h *hist) Latency {
	return Latency{P50Ms: h.quantile(0.5), P95Ms: h.quantile(0.95), P99Ms: h.quantile(0.99)}
}

type TrafficPoint struct {
	T        int64 `json:"t"`
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
	Latency
}

type RouteStats struct {
	Route    string `json:"route"`
	Requests int64  `json:"requests"`
	Errors   int64  `json:"errors"`
	Latency
}

type BrowserPoint struct {
	T              int64 `json:"t"`
	PageViews      int64 `json:"pageviews"`
	Errors         int64 `json:"errors"`
	FailedRequests int64 `json:"failedRequests"`
}

type VitalStats struct {
	Name             string      `json:"name"`
	Unit             string      `json:"unit"`
	P75              *float64    `json:"p75"`
	Good             int64       `json:"good"`
	NeedsImprovement int64       `json:"needsImprovement"`
	Poor             int64       `json:"poor"`
	Thresholds       [2]float64  `json:"thresholds"`
	Histogram        []HistPoint `json:"histogram"`
}

type HistPoint struct {
	Le    float64 `json:"le"`
	Count int64   `json:"count"`
}

type FailedRequest struct {
	Method string `json:"method" db:"method"`
	Target string `json:"target" db:"target"`
	Status int    `json:"status" db:"status"`
	Count  int64  `json:"count" db:"n"`
}

type Totals struct {
	Requests      int64 `json:"requests"`
	Errors        int64 `json:"errors"`
	PageViews     int64 `json:"pageviews"`
	BrowserErrors int64 `json:"browserErrors"`
	Sessions      int64 `json:"sessions"`
}

// vitalInfo is each vital's unit and the web-vitals thresholds between
// good, needs improvement and poor.
var vitalInfo = []struct {
	name, unit string
	thresholds [2]float64
}{
	{"LCP", "ms", [2]float64{2500, 4000}},
	{"INP", "ms", [2]float64{200, 500}},
	{"CLS", "", [2]float64{0.1, 0.25}},
	{"FCP", "ms", [2]float64{1800, 3000}},
	{"TTFB", "ms", [2]float64{800, 1800}},
}

// Shown rows of the overview's tables.
const (
	topRoutes = 20
	topFailed = 10
)

func (s *Service) overviewOf(_ http.ResponseWriter, r *http.Request, scope string) (any, error) {
	name, from, to, step, err := s.rangeOf(r)
	if err != nil {
		return nil, err
	}
	return s.Overview(r.Context(), scope, name, from, to, step)
}

// Overview answers the dashboard of scope over [from, to) in steps. Its
// four reads are independent and run at once: on PostgreSQL each is a
// backend of its own, so the answer waits for the slowest, not the sum.
func (s *Service) Overview(ctx context.Context, scope, name string, from, to, step int64) (*Overview, error) {
	o := &Overview{Range: name, StepMs: step, From: from, To: to, Routes: []RouteStats{}, FailedRequests: []FailedRequest{}}
	var (
		steps []*tally
		all   *tally
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		steps, err = s.steps(gctx, scope, from, to, step, mLatency, mErrors, mPageviews, mBrowserErrs, mFailedReqs)
		return err
	})
	g.Go(func() (err error) {
		all, err = s.total(gctx, scope, from, to, mRouteLatency, mRouteErrors, mVital, mRating)
		return err
	})
	g.Go(func() error {
		if err := s.db.Select(gctx, &o.FailedRequests, `SELECT method, target, status, COUNT(*) AS n FROM telemetry_requests
		WHERE scope = ? AND t >= ? AND t < ? AND (status = 0 OR status >= 400)
		GROUP BY method, target, status ORDER BY n DESC, target LIMIT ?`, scope, from, to, topFailed); err != nil {
			return fmt.Errorf("failed requests: %w", err)
		}
		return nil
	})
	var sessions int64
	g.Go(func() error {
		if err := s.db.Get(gctx, &sessions, `SELECT COUNT(*) FROM (
		SELECT session FROM telemetry_events WHERE scope = ? AND t >= ? AND t < ?
		UNION SELECT session FROM telemetry_errors WHERE scope = ? AND t >= ? AND t < ?) s`,
			scope, from, to, scope, from, to); err != nil {
			return fmt.Errorf("count sessions: %w", err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, t := range steps {
		at := from + int64(i)*step
		o.Traffic = append(o.Traffic, TrafficPoint{T: at, Requests: t.lat.total(), Errors: t.errors, Latency: latencyOf(&t.lat)})
		o.Browser = append(o.Browser, BrowserPoint{T: at, PageViews: t.pv, Errors: t.berr, FailedRequests: t.fr})
		o.Totals.Requests += t.lat.total()
		o.Totals.Errors += t.errors
		o.Totals.PageViews += t.pv
		o.Totals.BrowserErrors += t.berr
	}

	for route, rt := range all.routes {
		o.Routes = append(o.Routes, RouteStats{Route: route, Requests: rt.lat.total(), Errors: rt.errors, Latency: latencyOf(&rt.lat)})
	}
	sort.Slice(o.Routes, func(i, j int) bool {
		a, b := o.Routes[i], o.Routes[j]
		if pa, pb := deref(a.P95Ms), deref(b.P95Ms); pa != pb {
			return pa > pb
		}
		if a.Requests != b.Requests {
			return a.Requests > b.Requests
		}
		return a.Route < b.Route
	})
	o.Routes = o.Routes[:min(topRoutes, len(o.Routes))]
	for _, v := range vitalInfo {
		vs := VitalStats{Name: v.name, Unit: v.unit, Thresholds: v.thresholds, Histogram: []HistPoint{}}
		scale := scaleOf(v.name)
		if h := all.vitals[v.name]; h != nil {
			if p := h.quantile(0.75); p != nil {
				x := *p / scale
				vs.P75 = &x
			}
			for i, c := range h {
				if c > 0 {
					vs.Histogram = append(vs.Histogram, HistPoint{Le: upper(i) / scale, Count: c})
				}
			}
		}
		if c := all.ratings[v.name]; c != nil {
			vs.Good, vs.NeedsImprovement, vs.Poor = c[0], c[1], c[2]
		}
		o.Vitals = append(o.Vitals, vs)
	}

	o.Totals.Sessions = sessions
	return o, nil
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// Group is an error group as the dashboards list it.
type Group struct {
	Fingerprint string  `json:"fingerprint" db:"fingerprint"`
	Name        string  `json:"name" db:"name"`
	Message     string  `json:"message" db:"message"`
	Count       int64   `json:"count" db:"count"`
	Sessions    int64   `json:"sessions" db:"sessions"`
	FirstSeen   int64   `json:"firstSeen" db:"first_seen"`
	LastSeen    int64   `json:"lastSeen" db:"last_seen"`
	Status      string  `json:"status" db:"status"`
	URL         string  `json:"url" db:"url"`
	Spark       []int64 `json:"spark" db:"-"`
}

// Occurrence is one time an error happened.
type Occurrence struct {
	T       int64  `json:"t" db:"t"`
	URL     string `json:"url" db:"url"`
	Message string `json:"message" db:"message"`
	Stack   string `json:"stack" db:"stack"`
	Session string `json:"session" db:"session"`
	Browser string `json:"browser" db:"browser"`
}

const (
	groupCols       = `fingerprint, name, message, count, sessions, first_seen, last_seen, status, url`
	sparkSteps      = 24
	maxGroups       = 100
	lastOccurrences = 50
)

var statuses = map[string]bool{"open": true, "resolved": true, "ignored": true}

func (s *Service) groupsOf(_ http.ResponseWriter, r *http.Request, scope string) (any, error) {
	_, from, to, _, err := s.rangeOf(r)
	if err != nil {
		return nil, err
	}
	status := r.URL.Query().Get("status")
	if status == "" {
		status = "all"
	}
	if status != "all" && !statuses[status] {
		return nil, errs.Invalid("bad_status", "status must be open, resolved, ignored or all.")
	}
	groups := []Group{}
	err = s.db.Select(r.Context(), &groups, `SELECT `+groupCols+` FROM telemetry_error_groups
		WHERE scope = ? AND last_seen >= ? AND (? = 'all' OR status = ?) ORDER BY last_seen DESC LIMIT ?`,
		scope, from, status, status, maxGroups)
	if err != nil {
		return nil, fmt.Errorf("list error groups: %w", err)
	}
	if err := s.sparks(r.Context(), scope, groups, from, to); err != nil {
		return nil, err
	}
	return map[string]any{"groups": groups}, nil
}

func ctx(r *http.Request) context.Context { return r.Context() }

// sparks fills each group's occurrences per 24th of [from, to).
func (s *Service) sparks(c context.Context, scope string, groups []Group, from, to int64) error {
	width := max(1, (to-from)/sparkSteps)
	var rows []struct {
		Fingerprint string `db:"fingerprint"`
		B           int64  `db:"b"`
		N           int64  `db:"n"`
	}
	if err := s.db.Select(c, &rows, `SELECT fingerprint, (t - ?) / ? AS b, COUNT(*) AS n FROM telemetry_errors
		WHERE scope = ? AND t >= ? AND t < ? GROUP BY fingerprint, b`,
		from, width, scope, from, to); err != nil {
		return fmt.Errorf("error sparklines: %w", err)
	}
	at := map[string]int{}
	for i := range groups {
		groups[i].Spark = make([]int64, sparkSteps)
		at[groups[i].Fingerprint] = i
	}
	for _, r := range rows {
		if i, ok := at[r.Fingerprint]; ok && r.B >= 0 && r.B < sparkSteps {
			groups[i].Spark[r.B] += r.N
		}
	}
	return nil
}

// group reads one group with its last day's sparkline.
func (s *Service) group(c context.Context, scope, fp string) (*Group, error) {
	var g Group
	err := s.db.Get(c, &g, `SELECT `+groupCols+` FROM telemetry_error_groups WHERE scope = ? AND fingerprint = ?`, scope, fp)
	if store.NoRows(err) {
		return nil, errs.NotFound("not_found", "No error group %s.", fp)
	}
	if err != nil {
		return nil, fmt.Errorf("read error group: %w", err)
	}
	now := s.now()
	to := now - now%hour + hour
	gs := []Group{g}
	if err := s.sparks(c, scope, gs, to-24*hour, to); err != nil {
		return nil, err
	}
	return &gs[0], nil
}

func (s *Service) groupOf(_ http.ResponseWriter, r *http.Request, scope string) (any, error) {
	fp := r.PathValue("fingerprint")
	g, err := s.group(r.Context(), scope, fp)
	if err != nil {
		return nil, err
	}
	occ := []Occurrence{}
	if err := s.db.Select(r.Context(), &occ, `SELECT t, url, message, stack, session, browser FROM telemetry_errors
		WHERE scope = ? AND fingerprint = ? ORDER BY t DESC LIMIT ?`, scope, fp, lastOccurrences); err != nil {
		return nil, fmt.Errorf("list occurrences: %w", err)
	}
	return map[string]any{"group": g, "occurrences": occ}, nil
}

// SetStatus marks an error group open, resolved or ignored.
func (s *Service) SetStatus(c context.Context, scope, fp, status string) (*Group, error) {
	if !statuses[status] {
		return nil, errs.Invalid("bad_status", "status must be open, resolved or ignored.")
	}
	n, err := s.db.Exec(c, `UPDATE telemetry_error_groups SET status = ? WHERE scope = ? AND fingerprint = ?`, status, scope, fp)
	if err != nil {
		return nil, fmt.Errorf("set error group status: %w", err)
	}
	if n == 0 {
		return nil, errs.NotFound("not_found", "No error group %s.", fp)
	}
	return s.group(c, scope, fp)
}
