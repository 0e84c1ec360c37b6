package cluster_test

import (
	"context"
	"testing"
	"time"

	"ecode/internal/cluster"
	"ecode/internal/events"
	"ecode/internal/project"
	"ecode/internal/testserver"
)

// Shared events travel between the buses of two servers over a real
// NATS JetStream stream, once each; others stay where they happened.
func TestFanoutOverNATS(t *testing.T) {
	url, stream := testserver.NATS(t)
	ctx := t.Context()
	type heard struct {
		server string
		event  any
	}
	got := make(chan heard, 16)
	buses := map[string]*events.Bus{}
	for _, id := range []string{"a", "b"} {
		bus := events.New()
		events.Share[project.AccessChanged](bus, "project.access")
		events.Subscribe(bus, func(_ context.Context, e project.AccessChanged) { got <- heard{id, e} })
		events.Subscribe(bus, func(_ context.Context, e project.Deleted) { got <- heard{id, e} })
		f, err := cluster.NewFanout(ctx, url, stream, id, bus)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(f.Close)
		if err := f.Check(ctx); err != nil {
			t.Fatalf("a connected fanout's health: %v", err)
		}
		bus.Connect(f)
		buses[id] = bus
	}
	events.Publish(ctx, buses["a"], project.Deleted{ProjectID: "p0"}) // not shared
	events.Publish(ctx, buses["a"], project.AccessChanged{ProjectID: "p1", UserID: "u1"})
	want := []heard{
		{"a", project.Deleted{ProjectID: "p0"}},
		{"a", project.AccessChanged{ProjectID: "p1", UserID: "u1"}},
		{"b", project.AccessChanged{ProjectID: "p1", UserID: "u1"}},
	}
	for _, w := range want {
		select {
		case h := <-got:
			if h != w {
				t.Fatalf("heard %+v, want %+v", h, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("never heard %+v", w)
		}
	}
	select {
	case h := <-got:
		t.Fatalf("heard %+v more: an event came back to its server or went twice", h)
	case <-time.After(300 * time.Millisecond):
	}
}
