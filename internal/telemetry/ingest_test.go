package telemetry

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestIngestMixedBatch(t *testing.T) {
	engines(t, Options{}, func(t *testing.T, e *env) {
		key := e.key(t, e.p1)
		now := e.at(0)
		b := e.send(t, key,
			pageview(now, "https://app.test/a?email=x@y.z#top"),
			jsError(now, "x is undefined", "TypeError: x\n    at f (https://app.test/a.js:1:2)"),
			map[string]any{"type": "vital", "t": now, "session": sess, "url": "https://app.test/a", "name": "LCP", "value": 1800, "rating": "good"},
			map[string]any{"type": "vital", "t": now, "session": sess, "url": "https://app.test/a", "name": "CLS", "value": 0.3, "rating": "poor"},
			map[string]any{"type": "request", "t": now, "session": sess, "url": "https://app.test/a", "method": "get", "target": "https://api.test/items?token=1", "status": 0, "durationMs": 12},
			map[string]any{"type": "request", "t": now, "session": sess, "url": "https://app.test/a", "method": "GET", "target": "https://api.test/slow", "status": 200, "durationMs": 3000},
			map[string]any{"type": "event", "t": now, "session": sess, "url": "https://app.test/a", "name": "signup", "props": map[string]any{"plan": "pro", "n": 2}},
			pageview(e.at(-25*time.Hour), "https://app.test/old"),                                        // 7 bad_time
			map[string]any{"type": "nope", "t": now, "session": sess, "url": "https://app.test/"},        // 8 bad_type
			map[string]any{"type": "pageview", "t": now, "session": "short", "url": "https://app.test/"}, // 9 bad_session
			map[string]any{"type": "vital", "t": now, "session": sess, "url": "https://app.test/", "name": "XYZ", "value": 1, "rating": "good"},
			map[string]any{"type": "event", "t": now, "session": sess, "url": "https://app.test/", "name": "x", "props": map[string]any{"o": map[string]any{}}},
		)
		if b.Accepted != 7 || len(b.Rejected) != 5 {
			t.Fatalf("batch = %+v", b)
		}
		want := map[int]string{7: "bad_time", 8: "bad_type", 9: "bad_session", 10: "bad_event", 11: "bad_event"}
		for _, r := range b.Rejected {
			if want[r.Index] != r.Code || r.Message == "" {
				t.Errorf("rejected %+v, want code %q", r, want[r.Index])
			}
		}
		if n := e.count(t, "telemetry_events", e.p1); n != 2 {
			t.Errorf("events = %d, want 2 (a page view, a custom event)", n)
		}
		var url string
		if err := e.db.Get(context.Background(), &url, `SELECT url FROM telemetry_events WHERE kind = 'pageview'`); err != nil || url != "https://app.test/a" {
			t.Errorf("stored url %q (%v), want the query and fragment gone", url, err)
		}

		e.flush(t)
		var o Overview
		e.do(t, "viewer", "GET", "/api/projects/"+e.p1+"/monitoring/overview?range=24h", nil).want(t, 200).decode(t, &o)
		tot := o.Totals
		if tot.PageViews != 1 || tot.BrowserErrors != 1 || tot.Sessions != 1 || tot.Requests != 0 {
			t.Errorf("totals = %+v", tot)
		}
		var failed int64
		for _, p := range o.Browser {
			failed += p.FailedRequests
		}
		if failed != 1 || len(o.FailedRequests) != 1 || o.FailedRequests[0] != (FailedRequest{Method: "GET", Target: "https://api.test/items", Status: 0, Count: 1}) {
			t.Errorf("failed requests %d, %+v", failed, o.FailedRequests)
		}
		for _, v := range o.Vitals {
			switch v.Name {
			case "LCP":
				if v.Good != 1 || v.P75 == nil || *v.P75 < 1800 || *v.P75 > 1800*growth || v.Unit != "ms" || len(v.Histogram) != 1 {
					t.Errorf("LCP = %+v", v)
				}
			case "CLS":
				if v.Poor != 1 || v.P75 == nil || *v.P75 < 0.3 || *v.P75 > 0.3*growth || v.Unit != "" {
					t.Errorf("CLS = %+v", v)
				}
			default:
				if v.P75 != nil || v.Good+v.Poor+v.NeedsImprovement != 0 {
					t.Errorf("%s = %+v, want empty", v.Name, v)
				}
			}
		}
	})
}

func TestIngestRefusals(t *testing.T) {
	engines(t, Options{}, func(t *testing.T, e *env) {
		key := e.key(t, e.p1)
		ev := pageview(e.at(0), "https://app.test/")
		big := `[` + strings.Repeat(`"`+strings.Repeat("x", 1000)+`",`, 1100) + `1]`
		e.do(t, "", "POST", "/api/monitoring/event?key="+key, big).wantError(t, 413, "payload_too_large")
		many := make([]map[string]any, MaxBatchEvents+1)
		for i := range many {
			many[i] = ev
		}
		e.do(t, "", "POST", "/api/monitoring/event?key="+key, many).wantError(t, 413, "too_many_events")
		e.do(t, "", "POST", "/api/monitoring/event?key="+key, `{"type":"pageview"}`).wantError(t, 400, "bad_batch")
		e.do(t, "", "POST", "/api/monitoring/event?key="+key, `[1,`).wantError(t, 400, "bad_batch")
		e.do(t, "", "POST", "/api/monitoring/event?key=pk_nope", []any{ev}).wantError(t, 401, "unknown_key")
		e.do(t, "", "POST", "/api/monitoring/event", []any{ev}).wantError(t, 401, "unknown_key")
		// sendBeacon's text/plain is as good as JSON.
		e.do(t, "", "POST", "/api/monitoring/event?key="+key, `[{"type":"pageview","t":`+itoa(e.at(0))+`,"session":"`+sess+`","url":"/"}]`,
			"Content-Type", "text/plain;charset=UTF-8").want(t, 202)
		if n := e.count(t, "telemetry_events", e.p1); n != 1 {
			t.Errorf("events = %d, want only the good batch's one", n)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestIngestRateLimit(t *testing.T) {
	engines(t, Options{EventsPerSecond: 1, Burst: 50}, func(t *testing.T, e *env) {
		k1, k2 := e.key(t, e.p1), e.key(t, e.p2)
		batch := make([]map[string]any, 20)
		for i := range batch {
			batch[i] = pageview(e.at(0), "https://app.test/")
		}
		var limited reply
		for range 4 {
			r := e.do(t, "", "POST", "/api/monitoring/event?key="+k1, batch, "X-IP", "203.0.113.7")
			if r.status == 429 {
				limited = r
				break
			}
			r.want(t, 202)
		}
		limited.wantError(t, 429, "rate_limited")
		if ra := limited.header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After = %q", ra)
		}
		if n := e.count(t, "telemetry_events", e.p1); n != 40 {
			t.Errorf("events = %d, want the two batches that passed", n)
		}
		// Another key, and the same key from another address, still pass.
		e.do(t, "", "POST", "/api/monitoring/event?key="+k2, batch, "X-IP", "203.0.113.7").want(t, 202)
		e.do(t, "", "POST", "/api/monitoring/event?key="+k1, batch, "X-IP", "203.0.113.8").want(t, 202)
	})
}

func TestIngestPlatform(t *testing.T) {
	engines(t, Options{EventsPerSecond: 10, Burst: 100}, func(t *testing.T, e *env) {
		batch := make([]map[string]any, 20)
		for i := range batch {
			batch[i] = pageview(e.at(0), "https://ecode.test/")
		}
		// Without a session the platform scope gets a tenth of the budget.
		e.do(t, "", "POST", "/api/monitoring/event?scope=platform", batch).wantError(t, 429, "rate_limited")
		e.do(t, "someone", "POST", "/api/monitoring/event?scope=platform", batch).want(t, 202)
		if n := e.count(t, "telemetry_events", Platform); n != 20 {
			t.Errorf("platform events = %d", n)
		}
		e.flush(t)
		e.do(t, "someone", "GET", "/api/monitoring/platform/overview", nil).wantError(t, 403, "forbidden")
		e.do(t, "", "GET", "/api/monitoring/platform/overview", nil).want(t, 401)
		var o Overview
		e.do(t, "admin", "GET", "/api/monitoring/platform/overview?range=1h", nil).want(t, 200).decode(t, &o)
		if o.Totals.PageViews != 20 || len(o.Traffic) != 60 || o.StepMs != 60000 {
			t.Errorf("platform overview: totals %+v, %d steps of %d", o.Totals, len(o.Traffic), o.StepMs)
		}
	})
}

func TestIngestScrubs(t *testing.T) {
	engines(t, Options{}, func(t *testing.T, e *env) {
		key := e.key(t, e.p1)
		e.send(t, key, jsError(e.at(0), "no user ann@example.com card 4111 1111 1111 1111 auth Bearer abc.def token=s3cr3t",
			"Error\n    at f (https://app.test/u/123456789012/a.js?token=x:1:2)"))
		var row struct {
			Message string `db:"message"`
			Stack   string `db:"stack"`
		}
		if err := e.db.Get(context.Background(), &row, `SELECT message, stack FROM telemetry_errors`); err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{"ann@", "4111", "abc.def", "s3cr3t", "123456789012"} {
			if strings.Contains(row.Message+row.Stack, leak) {
				t.Errorf("%q kept in %+v", leak, row)
			}
		}
		want := "no user [email] card [number] auth Bearer [redacted] token=[redacted]"
		if row.Message != want {
			t.Errorf("message %q, want %q", row.Message, want)
		}
	})
}

func TestCORS(t *testing.T) {
	engines(t, Options{}, func(t *testing.T, e *env) {
		r := e.do(t, "", "OPTIONS", "/api/monitoring/event?key=x", nil,
			"Origin", "https://app.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type").want(t, 204)
		for h, v := range map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, OPTIONS", "Access-Control-Allow-Headers": "Content-Type"} {
			if got := r.header.Get(h); got != v {
				t.Errorf("%s = %q, want %q", h, got, v)
			}
		}
		if r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Error("credentials allowed")
		}
		r = e.do(t, "", "POST", "/api/monitoring/event?key=pk_nope", "[]", "Origin", "https://app.example")
		if r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Error("an answer to a post lacks Access-Control-Allow-Origin, the page could not read it")
		}
	})
}

func TestScrub(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":                           "plain text",
		"call 555-123-4567 or +1 555 123 4567": "call [number] or +[number]",
		"id 12345678 stays":                    "id 12345678 stays",
		"BEARER eyJ.abc":                       "Bearer [redacted]",
		"?api_key=k1&x=2":                      "?api_key=[redacted]&x=2",
		"from A.B@mail.example.org":            "from [email]",
	} {
		if got := scrub(in); got != want {
			t.Errorf("scrub(%q) = %q, want %q", in, got, want)
		}
	}
	if got := scrubURL("https://a.test/p/ann@x.io?q=1#f"); got != "https://a.test/p/[email]" {
		t.Errorf("scrubURL = %q", got)
	}
}
