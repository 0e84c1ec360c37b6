// Package events is the platform's in-process bus: a capability publishes
// what happened as a typed event, and any number of others subscribe to
// that type in their own constructors, so no service holds another's
// callback and no caller wires hooks by hand.
//
// Delivery is synchronous, in subscription order, on the publisher's
// goroutine: a subscriber that has slow work to do starts it itself.
//
// In a cluster, the types marked with Share also travel to the other
// servers' buses through a Remote (NATS), for what a server must hear of
// whichever server it happened on.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
)

// Bus delivers each published event to the subscribers of its type.
type Bus struct {
	mu     sync.RWMutex
	subs   map[reflect.Type][]func(context.Context, any)
	shared map[reflect.Type]string                        // type -> name on the wire
	decode map[string]func(context.Context, []byte) error // name -> local delivery
	remote Remote
}

// Remote carries shared events to the other servers of a cluster.
type Remote interface {
	Send(ctx context.Context, name string, data []byte) error
}

// New returns an empty bus.
func New() *Bus {
	return &Bus{
		subs:   map[reflect.Type][]func(context.Context, any){},
		shared: map[reflect.Type]string{},
		decode: map[string]func(context.Context, []byte) error{},
	}
}

// Share makes events of type E, as JSON named name, reach the buses of
// the other servers once b is connected to a Remote, and theirs reach b.
func Share[E any](b *Bus, name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.shared[reflect.TypeFor[E]()] = name
	b.decode[name] = func(ctx context.Context, data []byte) error {
		var e E
		if err := json.Unmarshal(data, &e); err != nil {
			return fmt.Errorf("decode shared event %s: %w", name, err)
		}
		deliver(ctx, b, e)
		return nil
	}
}

// Connect sends the shared events published on b from now on through r.
func (b *Bus) Connect(r Remote) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.remote = r
}

// Deliver hands a shared event another server published to b's own
// subscribers; it travels no further.
func (b *Bus) Deliver(ctx context.Context, name string, data []byte) error {
	b.mu.RLock()
	fn, ok := b.decode[name]
	b.mu.RUnlock()
	if !ok {
		return fmt.Errorf("shared event %s: not known here", name)
	}
	return fn(ctx, data)
}

// Subscribe calls fn with every event of type E published on b from now on.
func Subscribe[E any](b *Bus, fn func(ctx context.Context, e E)) {
	t := reflect.TypeFor[E]()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[t] = append(b.subs[t], func(ctx context.Context, e any) { fn(ctx, e.(E)) })
}

// Publish hands e to every subscriber of its type, in the order they
// subscribed, and returns when all have; a shared type is then sent to
// the other servers (a failure is logged: the event happened here).
func Publish[E any](ctx context.Context, b *Bus, e E) {
	deliver(ctx, b, e)
	b.mu.RLock()
	name, shared := b.shared[reflect.TypeFor[E]()]
	remote := b.remote
	b.mu.RUnlock()
	if !shared || remote == nil {
		return
	}
	data, err := json.Marshal(e)
	if err == nil {
		err = remote.Send(ctx, name, data)
	}
	if err != nil {
		slog.Error("send a shared event to the other servers", "event", name, "err", err)
	}
}

func deliver[E any](ctx context.Context, b *Bus, e E) {
	b.mu.RLock()
	subs := b.subs[reflect.TypeFor[E]()]
	b.mu.RUnlock()
	for _, fn := range subs {
		fn(ctx, e)
	}
}
