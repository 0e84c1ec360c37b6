package telemetry

import (
	"context"
	"testing"
	"time"
)

// seed observes a known traffic: 100 requests 2 h ago (95 fast, 5 slow),
// 10 failing ones 30 min ago and 7 more than a day ago.
func seed(t *testing.T, e *env) {
	t.Helper()
	observe := func(ago time.Duration, n int, method, route string, status int, d time.Duration) {
		e.clock.Add(-ago)
		for range n {
			e.svc.ObserveRequest(e.p1, method, route, status, d)
		}
		e.clock.Add(ago)
	}
	observe(2*time.Hour, 95, "GET", "/items/:id", 200, 10*time.Millisecond)
	observe(2*time.Hour, 5, "GET", "/items/:id", 200, time.Second)
	observe(30*time.Minute, 10, "POST", "POST /login", 500, 300*time.Millisecond)
	observe(25*time.Hour, 7, "GET", "/old", 200, time.Millisecond)
	e.flush(t)
}

// near checks a percentile read from buckets: at or above the truth, within
// one bucket.
func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || *got < want*0.999 || *got > want*growth*1.001 {
		t.Errorf("%s = %v, want within a bucket above %v", what, deref(got), want)
	}
}

func TestOverview(t *testing.T) {
	engines(t, Options{}, func(t *testing.T, e *env) {
		seed(t, e)
		var o Overview
		e.do(t, "viewer", "GET", "/api/projects/"+e.p1+"/monitoring/overview?range=24h", nil).want(t, 200).decode(t, &o)
		if o.Range != "24h" || o.StepMs != 600000 || len(o.Traffic) != 144 || len(o.Browser) != 144 || o.To-o.From != 24*hour {
			t.Fatalf("range %s step %d, %d steps, %d..%d", o.Range, o.StepMs, len(o.Traffic), o.From, o.To)
		}
		if o.To != start.Add(10*time.Minute).UnixMilli() {
			t.Errorf("to = %d, want the end of the step holding now", o.To)
		}
		if o.Totals.Requests != 110 || o.Totals.Errors != 10 {
			t.Errorf("totals = %+v", o.Totals)
		}
		items := o.Traffic[(start.Add(-2*time.Hour).UnixMilli()-o.From)/o.StepMs]
		if items.Requests != 100 || items.Errors != 0 {
			t.Errorf("step of the items = %+v", items)
		}
		near(t, "items p50", items.P50Ms, 10)
		near(t, "items p95", items.P95Ms, 10)
		near(t, "items p99", items.P99Ms, 1000)
		var empty int
		for _, p := range o.Traffic {
			if p.Requests == 0 && p.P95Ms == nil {
				empty++
			}
		}
		if empty != 142 {
			t.Errorf("%d empty steps, want 142 with null latencies", empty)
		}
		if len(o.Routes) != 2 || o.Routes[0].Route != "POST /login" || o.Routes[0].Errors != 10 || o.Routes[0].Requests != 10 ||
			o.Routes[1].Route != "GET /items/:id" || o.Routes[1].Requests != 100 {
			t.Fatalf("routes = %+v", o.Routes)
		}
		near(t, "login p95", o.Routes[0].P95Ms, 300)

		e.do(t, "viewer", "GET", "/api/projects/"+e.p1+"/monitoring/overview?range=2d", nil).wantError(t, 400, "bad_range")
		e.do(t, "", "GET", "/api/projects/"+e.p1+"/monitoring/overview", nil).wantError(t, 404, "not_found")
		e.do(t, "viewer", "GET", "/api/projects/"+e.p1+"/monitoring/overview?range=30d", nil).want(t, 200).decode(t, &o)
		if len(o.Traffic) != 120 || o.Totals.Requests != 117 {
			t.Errorf("30d: %d steps, totals %+v", len(o.Traffic), o.Totals)
		}
	})
}

func TestWindowAndSeries(t *testing.T) {
	engines(t, Options{}, func(t *testing.T, e *env) {
		seed(t, e)
		e.send(t, e.key(t, e.p1), pageview(e.at(-time.Hour), "https://app.test/"),
			map[string]any{"type": "vital", "t": e.at(-time.Hour), "session": sess, "url": "https://app.test/", "name": "LCP", "value": 2000, "rating": "good"})
		e.flush(t)
		ctx := context.Background()
		// 09:30 to 12:30: the hour rows of 10:00 and 11:00, minute rows at the edges.
		w, err := e.svc.Window(ctx, e.p1, start.Add(-3*time.Hour), start)
		if err != nil {
			t.Fatal(err)
		}
		if w.Requests != 110 || w.Errors != 10 || w.PageViews != 1 || w.BrowserErrors != 0 {
			t.Errorf("window = %+v", w)
		}
		if lcp := w.Vitals["LCP"]; lcp < 2000 || lcp > 2000*growth || len(w.Vitals) != 1 {
			t.Errorf("vitals = %v", w.Vitals)
		}
		w, err = e.svc.Window(ctx, e.p1, start.Add(-31*time.Minute), start)
		if err != nil {
			t.Fatal(err)
		}
		if w.Requests != 10 || w.Errors != 10 || w.P95Ms < 300 || w.P95Ms > 300*growth {
			t.Errorf("last half hour = %+v", w)
		}

		for _, c := range []struct {
			from, to time.Time
			want     []int64
		}{
			{start.Add(-3 * time.Hour), start, []int64{0, 100, 10}},                           // minutes
			{start.Add(-150 * time.Minute), start.Add(30 * time.Minute), []int64{100, 0, 10}}, // whole hours
		} {
			pts, err := e.svc.Series(ctx, e.p1, c.from, c.to, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if len(pts) != len(c.want) {
				t.Fatalf("%d points, want %d", len(pts), len(c.want))
			}
			for i, p := range pts {
				if p.Requests != c.want[i] || !p.T.Equal(c.from.Add(time.Duration(i)*time.Hour)) {
					t.Errorf("point %d = %v %+v, want %d requests", i, p.T, p.Window, c.want[i])
				}
			}
		}
		if _, err := e.svc.Series(ctx, e.p1, start.Add(-time.Hour), start, time.Second); err == nil {
			t.Error("a step under a minute was taken")
		}
	})
}

func TestRetention(t *testing.T) {
	engines(t, Options{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.send(t, e.key(t, e.p1), pageview(e.at(0), "https://app.test/"), jsError(e.at(0), "boom", ""),
			map[string]any{"type": "request", "t": e.at(0), "session": sess, "url": "https://app.test/", "method": "GET", "target": "/x", "status": 500, "durationMs": 1})
		e.svc.ObserveRequest(e.p1, "GET", "/", 200, time.Millisecond)
		e.flush(t)
		rollups := func(grain int64) int {
			var n int
			if err := e.db.Get(ctx, &n, `SELECT COUNT(*) FROM telemetry_rollups WHERE grain = ?`, grain); err != nil {
				t.Fatal(err)
			}
			return n
		}
		minutes, hours := rollups(minute), rollups(hour)
		if minutes == 0 || hours != minutes {
			t.Fatalf("rollups: %d minute rows, %d hour rows", minutes, hours)
		}
		e.clock.Add(9 * 24 * time.Hour)
		if err := e.svc.Retain(ctx); err != nil {
			t.Fatal(err)
		}
		if rollups(minute) != 0 || rollups(hour) != hours || e.count(t, "telemetry_events", e.p1) != 1 {
			t.Errorf("after 9 days: %d minute rows, %d hour rows, %d events", rollups(minute), rollups(hour), e.count(t, "telemetry_events", e.p1))
		}
		e.clock.Add(22 * 24 * time.Hour)
		if err := e.svc.Retain(ctx); err != nil {
			t.Fatal(err)
		}
		for _, table := range append([]string{"telemetry_error_groups"}, rawTables...) {
			if n := e.count(t, table, e.p1); n != 0 {
				t.Errorf("after 31 days %s keeps %d rows", table, n)
			}
		}
		if rollups(hour) != hours {
			t.Error("hour rollups went before their time")
		}
		e.clock.Add(400 * 24 * time.Hour)
		if err := e.svc.Retain(ctx); err != nil {
			t.Fatal(err)
		}
		if rollups(hour) != 0 {
			t.Errorf("after 431 days %d hour rows remain", rollups(hour))
		}
	})
}

func TestRunFlushesOnExit(t *testing.T) {
	engines(t, Options{FlushEvery: time.Hour}, func(t *testing.T, e *env) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.svc.Run(ctx); close(done) }()
		e.svc.ObserveRequest(e.p1, "GET", "/", 200, time.Millisecond)
		cancel()
		<-done
		w, err := e.svc.Window(context.Background(), e.p1, start.Add(-time.Minute), start.Add(time.Minute))
		if err != nil || w.Requests != 1 {
			t.Errorf("after Run ended: %+v %v", w, err)
		}
	})
}
