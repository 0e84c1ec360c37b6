package events_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"ecode/internal/events"
)

type deleted struct{ ID string }
type moved struct{ From, To string }

func TestDeliversByTypeInOrder(t *testing.T) {
	b := events.New()
	var got []string
	events.Subscribe(b, func(_ context.Context, e deleted) { got = append(got, "first "+e.ID) })
	events.Subscribe(b, func(_ context.Context, e moved) { got = append(got, "moved "+e.From+">"+e.To) })
	events.Subscribe(b, func(_ context.Context, e deleted) { got = append(got, "second "+e.ID) })

	events.Publish(t.Context(), b, deleted{"p1"})
	events.Publish(t.Context(), b, moved{"a", "b"})
	events.Publish(t.Context(), b, struct{}{}) // nobody listens: nothing happens
	want := []string{"first p1", "second p1", "moved a>b"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestConcurrentUse(t *testing.T) {
	b := events.New()
	var mu sync.Mutex
	n := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			events.Subscribe(b, func(context.Context, deleted) { mu.Lock(); n++; mu.Unlock() })
			events.Publish(t.Context(), b, deleted{"x"})
		})
	}
	wg.Wait()
	events.Publish(t.Context(), b, deleted{"y"})
	if n < 8+8 {
		t.Fatalf("%d deliveries, want at least 16", n)
	}
}
