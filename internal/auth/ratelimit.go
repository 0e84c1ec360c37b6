package auth

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"ecode/internal/errs"
)

// How password logins are limited. Refusals (429) fall only on an
// address: one trying too often, or failing too often against one
// account. An account being guessed at from many addresses is slowed
// down, never shut: each attempt on it waits a little longer, up to
// maxSlowdown, whoever makes it, except from a browser that logged in to
// it before (a known device, see device.go). So an attacker can neither
// lock the owner out nor make the owner's own browser wait.
const (
	perIPPerMinute, perIPBurst     = 30, 30 // every login and sign-up attempt from one address
	perPairPerMinute, perPairBurst = 6, 10  // failed logins against one account from one address
	strikesPerMinute, strikesMax   = 6, 64  // failed logins against one account: forgiven one per 10 s
	freeStrikes                    = 5      // failures an account takes before attempts on it slow down
	firstSlowdown                  = 50 * time.Millisecond
	maxSlowdown                    = 2 * time.Second
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

// take spends one token for key. It returns 0 when there was one, else
// how long until there is.
func (l *limiter) take(key string) time.Duration {
	now := time.Now()
	lim := l.get(key, now)
	if lim.AllowN(now, 1) {
		return 0
	}
	return l.until(lim, now)
}

// wait reports how long until key has a token, without spending one.
func (l *limiter) wait(key string) time.Duration {
	now := time.Now()
	return l.until(l.get(key, now), now)
}

func (l *limiter) until(lim *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(l.every) * float64(time.Second))
}

// spent is how many of key's tokens are used: with a bucket that refills
// slowly, a count of recent events that fades by itself.
func (l *limiter) spent(key string) float64 {
	now := time.Now()
	return float64(l.burst) - l.get(key, now).TokensAt(now)
}

// slowdown is how long an attempt on an account waits after strikes
// recent failures against it: nothing for the first few, then doubling
// from firstSlowdown up to maxSlowdown.
func slowdown(strikes float64) time.Duration {
	over := math.Floor(strikes) - freeStrikes
	if over < 0 {
		return 0
	}
	if over > 10 {
		return maxSlowdown
	}
	return min(maxSlowdown, firstSlowdown<<int(over))
}

// limited is a refusal that says when to try again.
type limited struct {
	err   *errs.Error
	after time.Duration
}

func (e *limited) Error() string { return e.err.Error() }
func (e *limited) Unwrap() error { return e.err }

// RetryAfter is the Retry-After header's value: whole seconds, at least 1.
func (e *limited) RetryAfter() string {
	return strconv.Itoa(max(1, int(math.Ceil(e.after.Seconds()))))
}

func rateLimited(after time.Duration) error {
	return &limited{err: errRateLimited, after: after}
}
