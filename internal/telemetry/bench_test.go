package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"ecode/internal/store/testdb"
)

// BenchmarkIngest posts batches of 250 mixed events through the ingest
// handler: parse, validate, scrub, one transaction per batch.
func BenchmarkIngest(b *testing.B) {
	for _, eng := range testdb.Engines(b) {
		b.Run(eng.Name, func(b *testing.B) {
			e := newEnv(b, eng, Options{EventsPerSecond: 1e9, Burst: 1e9})
			key := e.key(b, e.p1)
			handler := Ingest(http.HandlerFunc(e.svc.handleEvent))
			const size = 250
			now := e.at(0)
			batch := make([]map[string]any, size)
			for i := range batch {
				switch i % 10 {
				case 0:
					batch[i] = jsError(now, fmt.Sprintf("item %d failed", i), "TypeError: x\n    at f (https://app.test/a.js:1:2)")
				case 1, 2:
					batch[i] = map[string]any{"type": "vital", "t": now, "session": sess, "url": "https://app.test/a", "name": "LCP", "value": 1000 + i, "rating": "good"}
				case 3:
					batch[i] = map[string]any{"type": "request", "t": now, "session": sess, "url": "https://app.test/a", "method": "GET", "target": "https://api.test/x", "status": 503, "durationMs": 40}
				default:
					batch[i] = pageview(now, fmt.Sprintf("https://app.test/page/%d?q=1", i))
				}
			}
			body, err := json.Marshal(batch)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/api/monitoring/event?key="+key, strings.NewReader(string(body)))
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusAccepted {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkOverview24h answers the 24 h dashboard over the rollups of 10
// million requests on 20 routes, counted by ObserveRequest and flushed as
// Run does.
func BenchmarkOverview24h(b *testing.B) {
	for _, eng := range testdb.Engines(b) {
		b.Run(eng.Name, func(b *testing.B) {
			e := newEnv(b, eng, Options{})
			ctx := context.Background()
			const total = 10_000_000
			rng := rand.New(rand.NewPCG(1, 2))
			end := e.clock.Now()
			e.clock.Add(-24 * time.Hour)
			perMinute := total / (24 * 60)
			for m := range 24 * 60 {
				for range perMinute {
					route := fmt.Sprintf("/api/r%d/:id", rng.IntN(20))
					d := time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond))
					status := 200
					if rng.IntN(100) == 0 {
						status = 503
					}
					e.svc.ObserveRequest(e.p1, "GET", route, status, d)
				}
				e.clock.Add(time.Minute)
				if m%10 == 9 {
					e.flush(b)
				}
			}
			e.clock.Set(end)
			e.flush(b)
			name, from, to, step, err := e.svc.rangeOf(httptest.NewRequest("GET", "/?range=24h", nil))
			if err != nil {
				b.Fatal(err)
			}
			cpu0 := cpuTime(b)
			var took []time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				o, err := e.svc.Overview(ctx, e.p1, name, from, to, step)
				if err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				if o.Totals.Requests < total*9/10 {
					b.Fatalf("only %d requests", o.Totals.Requests)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/overview")
			slices.Sort(took)
			b.ReportMetric(float64(took[(len(took)*95+99)/100-1].Microseconds())/1000, "p95-ms")
			// On a shared machine wall time says little; the process's CPU
			// time per answer is the query's own cost (all of it on SQLite,
			// the client's part on PostgreSQL).
			b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/float64(b.N), "cpu-ms/overview")
		})
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
