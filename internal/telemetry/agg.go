package telemetry

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"ecode/internal/store"
)

// Rollup grains, in ms.
const (
	minute = int64(60_000)
	hour   = int64(3_600_000)
)

// Metrics of the rollups. Keys are "" for the scope's total, the route for
// the per-route ones and the vital's name for vitals.
const (
	mLatency      = "lat"   // bucket: latency bucket; the sum is requests
	mErrors       = "5xx"   // answers with status >= 500
	mRouteLatency = "rlat"  // as lat, per route
	mRouteErrors  = "r5xx"  // as 5xx, per route
	mPageviews    = "pv"    //
	mBrowserErrs  = "berr"  //
	mFailedReqs   = "freq"  // fetch/XHR with status 0 or >= 400
	mVital        = "vital" // bucket: value bucket
	mRating       = "rate"  // bucket: 0 good, 1 needs improvement, 2 poor
)

// maxRoutes bounds the distinct routes counted per scope per minute; the
// rest are counted under otherRoute.
const (
	maxRoutes  = 200
	otherRoute = "other"
)

type rollKey struct {
	scope, metric string
	t             int64 // the minute
	key           string
	bucket        int
}

type scopeMinute struct {
	scope string
	t     int64
}

// aggregator counts in memory what Flush adds to the rollups.
type aggregator struct {
	mu     sync.Mutex
	counts map[rollKey]int64
	routes map[scopeMinute]map[string]struct{}
}

func newAggregator() *aggregator {
	return &aggregator{counts: map[rollKey]int64{}, routes: map[scopeMinute]map[string]struct{}{}}
}

// count adds one to each key, its t (unix ms) taken to its minute.
func (a *aggregator) count(keys []rollKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range keys {
		k.t -= k.t % minute
		a.counts[k]++
	}
}

// route answers the route to count r under in its scope's minute.
func (a *aggregator) route(scope string, t int64, r string) string {
	sm := scopeMinute{scope, t - t%minute}
	set := a.routes[sm]
	if set == nil {
		set = map[string]struct{}{}
		a.routes[sm] = set
	}
	if _, ok := set[r]; ok {
		return r
	}
	if len(set) >= maxRoutes {
		return otherRoute
	}
	set[r] = struct{}{}
	return r
}

// ObserveRequest counts one answer of scope's server: its route (the
// method and the normalised path, or a router pattern), status and
// duration. It only touches memory; Flush writes.
func (s *Service) ObserveRequest(scope, method, route string, status int, d time.Duration) {
	if !strings.HasPrefix(route, method+" ") {
		route = method + " " + route
	}
	t := s.now()
	b := bucketOf(float64(d.Microseconds()) / 1000)
	a := s.agg
	a.mu.Lock()
	defer a.mu.Unlock()
	route = a.route(scope, t, route)
	m := t - t%minute
	a.counts[rollKey{scope, mLatency, m, "", b}]++
	a.counts[rollKey{scope, mRouteLatency, m, route, b}]++
	if status >= 500 {
		a.counts[rollKey{scope, mErrors, m, "", 0}]++
		a.counts[rollKey{scope, mRouteErrors, m, route, 0}]++
	}
}

// Flush adds what was counted since the last flush to the minute and hour
// rollups, in one transaction; on failure the counts are kept for the next.
func (s *Service) Flush(ctx context.Context) error {
	a := s.agg
	a.mu.Lock()
	counts := a.counts
	a.counts = map[rollKey]int64{}
	now := s.now()
	for sm := range a.routes {
		if sm.t < now-now%minute-minute {
			delete(a.routes, sm)
		}
	}
	a.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	hours := map[rollKey]int64{}
	for k, n := range counts {
		k.t -= k.t % hour
		hours[k] += n
	}
	err := s.writes.do(ctx, func(q store.Q) error {
		if err := upsertRollups(ctx, q, minute, counts); err != nil {
			return err
		}
		return upsertRollups(ctx, q, hour, hours)
	})
	if err != nil {
		a.mu.Lock()
		for k, n := range counts {
			a.counts[k] += n
		}
		a.mu.Unlock()
		return fmt.Errorf("flush rollups: %w", err)
	}
	return nil
}

func upsertRollups(ctx context.Context, q store.Q, grain int64, counts map[rollKey]int64) error {
	rows := make([][]any, 0, len(counts))
	for k, n := range counts {
		rows = append(rows, []any{k.scope, grain, k.metric, k.t, k.key, k.bucket, n})
	}
	return insertRows(ctx, q, `telemetry_rollups (scope, grain, metric, t, key, bucket, n)`, rows,
		` ON CONFLICT (scope, grain, metric, t, key, bucket) DO UPDATE SET n = telemetry_rollups.n + excluded.n`)
}

// maxParams keeps a multi-row statement under both engines' limits on
// bound parameters.
const maxParams = 30000

// insertRows inserts rows (all of one width) into table with as few
// multi-row statements as the parameter limit allows; suffix follows each.
func insertRows(ctx context.Context, q store.Q, table string, rows [][]any, suffix string) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	per := maxParams / width
	for len(rows) > 0 {
		chunk := rows[:min(per, len(rows))]
		rows = rows[len(chunk):]
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " VALUES ")
		args := make([]any, 0, len(chunk)*width)
		for i, r := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(tuple)
			args = append(args, r...)
		}
		sb.WriteString(suffix)
		if _, err := q.Exec(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", strings.Fields(table)[0], err)
		}
	}
	return nil
}
