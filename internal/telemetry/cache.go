package telemetry

import (
	"sync"
	"time"
)

// cacheTTL is how long a key's scope or a project's snippet is reused
// before the database is asked again.
const cacheTTL = 10 * time.Second

// cacheMax bounds a cache: past it, the cache starts over.
const cacheMax = 10000

// cache keeps values for a short while, bounded.
type cache[V any] struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]cached[V]
}

type cached[V any] struct {
	v   V
	exp time.Time
}

func newCache[V any](ttl time.Duration, now func() time.Time) *cache[V] {
	return &cache[V]{ttl: ttl, now: now, m: map[string]cached[V]{}}
}

func (c *cache[V]) get(k string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || c.now().After(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *cache[V]) put(k string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= cacheMax {
		c.m = map[string]cached[V]{}
	}
	c.m[k] = cached[V]{v: v, exp: c.now().Add(c.ttl)}
}

func (c *cache[V]) drop(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}
