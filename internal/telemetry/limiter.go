package telemetry

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a token bucket per key (a scope and a client address), counted
// in events. A bucket left idle long enough to be full again is forgotten,
// so memory follows the keys active lately, not all keys ever seen.
type Limiter struct {
	perSecond float64
	burst     int
	// idle is how long a bucket takes to fill up from empty: past it, a
	// forgotten bucket and a fresh one are the same.
	idle time.Duration
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter allows each key perSecond events on average, burst at once.
func NewLimiter(perSecond float64, burst int) *Limiter {
	return &Limiter{
		perSecond: perSecond,
		burst:     burst,
		idle:      time.Duration(float64(burst)/perSecond*float64(time.Second)) + time.Second,
		now:       time.Now,
		buckets:   map[string]*bucket{},
	}
}

// Allow takes n events from key's bucket, or none and says how long to wait
// before the same n would pass.
func (l *Limiter) Allow(key string, n int) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.perSecond), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, n)
	if !r.OK() { // more than a full bucket: it would never pass
		return false, l.idle
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets buckets idle long enough to be full, at most once per idle span.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < l.idle {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		if now.Sub(b.seen) >= l.idle {
			delete(l.buckets, k)
		}
	}
}
