package server

import (
	"fmt"
	"testing"
	"time"

	"ecode/internal/clocktest"
	"ecode/internal/events"
	"ecode/internal/project"
)

// The hosts Forward resolves are remembered for siteTTL, and forgotten at
// once when their project is deleted, renamed or given away.
func TestSiteHosts(t *testing.T) {
	bus := events.New()
	clock := clocktest.New(time.Unix(1e9, 0))
	c := newSiteHosts(bus, clock.Now)
	want := func(key, id string) {
		t.Helper()
		got, ok := c.get(key)
		if id == "" && ok {
			t.Fatalf("%s: remembered as %s, want it looked up", key, got)
		}
		if id != "" && (!ok || got != id) {
			t.Fatalf("%s: %q %v, want %s", key, got, ok, id)
		}
	}
	c.put("ann/blog", "p1")
	clock.Add(siteTTL - time.Millisecond)
	want("ann/blog", "p1")
	clock.Add(time.Millisecond)
	want("ann/blog", "")

	c.put("ann/blog", "p1")
	c.put("ann/shop", "p2")
	c.put("bo/blog", "p3")
	c.put("bo/notes", "p4")
	events.Publish(t.Context(), bus, project.Gone{ProjectID: "p1"})
	events.Publish(t.Context(), bus, project.Updated{Project: &project.Project{ID: "p2"}})
	events.Publish(t.Context(), bus, project.Transferred{Project: &project.Project{ID: "p3"}})
	want("ann/blog", "")
	want("ann/shop", "")
	want("bo/blog", "")
	want("bo/notes", "p4")

	for i := range 2 * maxSiteHosts {
		c.put(fmt.Sprint("u/", i), "p")
	}
	if n := len(c.ids); n > maxSiteHosts {
		t.Fatalf("%d hosts remembered, want at most %d", n, maxSiteHosts)
	}
}
