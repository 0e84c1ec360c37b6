// Package events is the platform's in-process bus: a capability publishes
// what happened as a typed event, and any number of others subscribe to
// that type in their own constructors, so no service holds another's
// callback and no caller wires hooks by hand.
//
// Delivery is synchronous, in subscription order, on the publisher's
// goroutine: a subscriber that has slow work to do starts it itself. The
// bus is the seam where a NATS-backed one can stand in later.
package events

import (
	"context"
	"reflect"
	"sync"
)

// Bus delivers each published event to the subscribers of its type.
type Bus struct {
	mu   sync.RWMutex
	subs map[reflect.Type][]func(context.Context, any)
}

// New returns an empty bus.
func New() *Bus { return &Bus{subs: map[reflect.Type][]func(context.Context, any){}} }

// Subscribe calls fn with every event of type E published on b from now on.
func Subscribe[E any](b *Bus, fn func(ctx context.Context, e E)) {
	t := reflect.TypeFor[E]()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[t] = append(b.subs[t], func(ctx context.Context, e any) { fn(ctx, e.(E)) })
}

// Publish hands e to every subscriber of its type, in the order they
// subscribed, and returns when all have.
func Publish[E any](ctx context.Context, b *Bus, e E) {
	b.mu.RLock()
	subs := b.subs[reflect.TypeFor[E]()]
	b.mu.RUnlock()
	for _, fn := range subs {
		fn(ctx, e)
	}
}
