package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps one token bucket per key (an IP, an account) and forgets
// keys that have been quiet for a while, so memory stays bounded.
type limiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	sweptAt time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perMinute float64, burst int) *limiter {
	return &limiter{every: rate.Limit(perMinute / 60), burst: burst, buckets: map[string]*bucket{}}
}

func (l *limiter) get(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweptAt) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 15*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.sweptAt = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim
}

// allow spends one token for key and reports whether there was one.
func (l *limiter) allow(key string) bool {
	now := time.Now()
	return l.get(key, now).AllowN(now, 1)
}

// blocked reports whether key has no token left, without spending one.
func (l *limiter) blocked(key string) bool {
	now := time.Now()
	return l.get(key, now).TokensAt(now) < 1
}
