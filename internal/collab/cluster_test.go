package collab_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"ecode/internal/testserver"
)

// TestAcrossServers: two servers share PostgreSQL, the data dir and NATS.
// Tabs on each edit one document, held by the server the project was
// opened on, the other forwarding; that server dies, and the other takes
// the project over with every confirmed edit, where the tabs go on.
func TestAcrossServers(t *testing.T) {
	cl := testserver.NewCluster(t)
	a, b := cl.Join(t, "a"), cl.Join(t, "b")
	owner := a.SignUp(t, "olga")
	p := owner.CreateProject(t, "Pad")
	owner.Put(t, "/api/projects/"+p.ID+"/files/notes.txt", "start\n").WantStatus(t, 204)
	ws := func(s *testserver.Server) string {
		return "ws" + strings.TrimPrefix(s.URL, "http") + "/api/projects/" + p.ID + "/ws"
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	clients := make([]*client, 4)
	for i := range clients {
		clients[i] = &client{t: t, id: fmt.Sprintf("c%d", i), url: ws([]*testserver.Server{a, b}[i%2]), cookie: owner.CookieHeader(t),
			path: "notes.txt", rng: rand.New(rand.NewPCG(uint64(i), 7))}
	}
	play := func(edits int) {
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Go(func() {
				if c.conn == nil {
					c.connect(ctx)
				}
				c.play(ctx, c.made+edits, 0)
			})
		}
		wg.Wait()
	}
	play(25)
	before := caughtUp(t, ctx, clients)
	if before == "start\n" {
		t.Fatalf("the text after 100 edits is %q", before)
	}
	var holder string
	if err := a.App.DB.Get(ctx, &holder, `SELECT server_id FROM project_holders WHERE project_id = ?`, p.ID); err != nil || holder != "a" {
		t.Fatalf("project held by %q (%v), want a: the tabs on b were forwarded to it", holder, err)
	}

	a.Crash()
	// Every tab drops, those through b too; on b, each comes back once
	// a's lease has run out and finds the text every tab had confirmed.
	for _, c := range clients {
		for range c.in {
		}
		c.url = ws(b)
		c.connect(ctx)
		m := c.next("doc.opened")
		if m.Text == nil || *m.Text != before {
			t.Fatalf("%s came back to %v, want every confirmed edit: %q", c.id, m.Text, before)
		}
		c.handle(ctx, m)
	}
	play(15)
	final := caughtUp(t, ctx, clients)
	if disk := string(owner.On(b).Get(t, "/api/projects/"+p.ID+"/files/notes.txt").WantStatus(t, 200).Body); disk != final {
		t.Fatalf("disk %q, editors %q", disk, final)
	}
	if err := b.App.DB.Get(ctx, &holder, `SELECT server_id FROM project_holders WHERE project_id = ?`, p.ID); err != nil || holder != "b" {
		t.Fatalf("project held by %q (%v), want b", holder, err)
	}
}
