package telemetry

import (
	"fmt"
	"testing"
	"time"
)

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"/items/42":       "/items/:id",
		"/items/42?x=1#y": "/items/:id",
		"/u/0b6c1a3e-8f0e-4a3b-9c4e-2f1b7d9e6a51/edit": "/u/:id/edit",
		"/blob/deadbeefdeadbeef00":                     "/blob/:id",
		"/t/AbCdEfGhIjKlMnOpQrSt12":                    "/t/:id",
		"/docs/getting-started-with-the-platform":      "/docs/getting-started-with-the-platform",
		"/v2/users": "/v2/users",
		"":          "/",
		"/":         "/",
	} {
		if got := NormalizePath(in); got != want {
			t.Errorf("NormalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRouteCap(t *testing.T) {
	engines(t, Options{}, func(t *testing.T, e *env) {
		for i := range maxRoutes + 50 {
			e.svc.ObserveRequest(e.p1, "GET", fmt.Sprintf("/r%d", i), 200, time.Millisecond)
		}
		e.svc.ObserveRequest(e.p1, "GET", "/r0", 200, time.Millisecond) // a known route is still itself
		e.flush(t)
		var routes []struct {
			Key string `db:"key"`
			N   int64  `db:"n"`
		}
		if err := e.db.Select(t.Context(), &routes, `SELECT key, SUM(n) AS n FROM telemetry_rollups WHERE grain = ? AND metric = ? GROUP BY key`, minute, mRouteLatency); err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, r := range routes {
			got[r.Key] = r.N
		}
		if len(got) != maxRoutes+1 || got[otherRoute] != 50 || got["GET /r0"] != 2 {
			t.Errorf("%d routes, other %d, /r0 %d", len(got), got[otherRoute], got["GET /r0"])
		}
	})
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(10, 20)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	if ok, _ := l.Allow("a", 20); !ok {
		t.Fatal("a full bucket refused its burst")
	}
	ok, after := l.Allow("a", 5)
	if ok || after < 400*time.Millisecond || after > 600*time.Millisecond {
		t.Errorf("over the burst: ok %v, retry after %v (want about 0.5 s)", ok, after)
	}
	if ok, _ := l.Allow("b", 5); !ok {
		t.Error("another key was refused")
	}
	if ok, _ := l.Allow("c", 21); ok {
		t.Error("more than a bucket passed")
	}
	now = now.Add(time.Hour)
	if ok, _ := l.Allow("d", 1); !ok || l.size() != 1 {
		t.Errorf("idle buckets kept: %d", l.size())
	}
}

// size is how many buckets are held.
func (l *Limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
