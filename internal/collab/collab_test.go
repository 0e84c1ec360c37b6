package collab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/coder/websocket"

	"ecode/internal/collab"
	"ecode/internal/testserver"
)

// wire is every message a test client reads.
type wire struct {
	Type     string
	Path     string
	Version  *int
	Epoch    string
	Text     *string
	Updates  []collab.Update
	ReadOnly *bool
	Code     string
	Peers    []collab.Presence
	ID       string
}

// edit is a client's one unconfirmed change: an insertion, or a deletion
// of [from, to), in UTF-16 units.
type edit struct {
	from, to int
	insert   []uint16
}

func (e edit) changes(docLen int) json.RawMessage {
	var out []any
	if e.from > 0 {
		out = append(out, e.from)
	}
	item := []any{e.to - e.from}
	if len(e.insert) > 0 {
		for _, l := range strings.Split(string(utf16.Decode(e.insert)), "\n") {
			item = append(item, l)
		}
	}
	out = append(out, item)
	if rest := docLen - e.to; rest > 0 {
		out = append(out, rest)
	}
	b, _ := json.Marshal(out)
	return b
}

func (e edit) apply(doc []uint16) []uint16 {
	out := append([]uint16{}, doc[:e.from]...)
	out = append(out, e.insert...)
	return append(out, doc[e.to:]...)
}

// client is a simulated editor: it keeps the confirmed text and version
// and at most one unconfirmed edit, which it moves over others' changes;
// the server rebases it when it arrives late.
type client struct {
	t       *testing.T
	id      string
	url     string
	cookie  string
	path    string
	conn    *websocket.Conn
	in      chan wire
	doc     []uint16
	version int
	epoch   string
	pending *edit
	sent    bool
	rng     *rand.Rand
	made    int
}

func (c *client) connect(ctx context.Context) {
	var conn *websocket.Conn
	for {
		var res *http.Response
		var err error
		conn, res, err = websocket.Dial(ctx, c.url, &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {c.cookie}}})
		if err == nil {
			break
		}
		// A cluster's server that died: another takes its projects over.
		if res == nil || res.StatusCode != http.StatusServiceUnavailable || ctx.Err() != nil {
			c.t.Fatalf("%s: dial: %v", c.id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn.SetReadLimit(16 << 20)
	c.conn, c.in = conn, make(chan wire, 1024)
	go func(in chan wire) {
		defer close(in)
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var m wire
			if json.Unmarshal(b, &m) == nil {
				in <- m
			}
		}
	}(c.in)
	open := map[string]any{"type": "doc.open", "path": c.path}
	if c.epoch != "" {
		open["version"], open["epoch"] = c.version, c.epoch
	}
	c.write(ctx, open)
}

func (c *client) write(ctx context.Context, m any) {
	b, _ := json.Marshal(m)
	_ = c.conn.Write(ctx, websocket.MessageText, b) // a dropped connection shows on read
}

func (c *client) handle(ctx context.Context, m wire) {
	if m.Path != "" && m.Path != c.path {
		return // another document's
	}
	switch m.Type {
	case "doc.opened":
		c.epoch = m.Epoch
		if m.Text != nil {
			if c.pending != nil && c.version != 0 {
				c.t.Errorf("%s: lost its place in the document: an unconfirmed edit would be dropped", c.id)
			}
			c.doc, c.version, c.pending = utf16.Encode([]rune(*m.Text)), *m.Version, nil
		} else {
			c.receive(*m.Version, m.Updates)
		}
		c.sent = false
	case "doc.update":
		c.receive(*m.Version, m.Updates)
	case "doc.rejected":
		// Every push here is made at a version the server still keeps: it is rebased.
		c.t.Errorf("%s: push rejected, the server at version %d", c.id, *m.Version)
	case "error":
		c.t.Errorf("%s: error %s", c.id, m.Code)
	}
	c.maybePush(ctx)
}

// receive applies updates starting at version base, skipping those seen.
func (c *client) receive(base int, updates []collab.Update) {
	for i, u := range updates {
		if base+i < c.version {
			continue
		}
		if base+i > c.version {
			c.t.Fatalf("%s: update %d arrived at version %d: a gap", c.id, base+i, c.version)
		}
		cs, err := collab.ParseChangeSet(u.Changes)
		if err != nil {
			c.t.Fatalf("%s: %v", c.id, err)
		}
		if u.ClientID == c.id {
			// Our edit, confirmed: it was pushed as it stands now.
			c.pending, c.sent = nil, false
		} else if c.pending != nil {
			e := c.pending
			if e.from == e.to {
				e.from = cs.MapPos(e.from, -1)
				e.to = e.from
			} else {
				e.from, e.to = cs.MapPos(e.from, 1), cs.MapPos(e.to, -1)
				if e.to < e.from {
					e.to = e.from // someone deleted it already
				}
			}
		}
		next, err := cs.Apply(c.doc)
		if err != nil {
			c.t.Fatalf("%s: the server sent a change that does not fit: %v", c.id, err)
		}
		c.doc = next
		c.version++
	}
}

func (c *client) maybePush(ctx context.Context) {
	if c.pending == nil || c.sent {
		return
	}
	if c.pending.from == c.pending.to && len(c.pending.insert) == 0 {
		c.pending = nil // nothing left of it
		return
	}
	c.sent = true
	c.write(ctx, map[string]any{"type": "doc.push", "path": c.path, "version": c.version,
		"updates": []collab.Update{{ClientID: c.id, Changes: c.pending.changes(len(c.doc))}}})
}

var pieces = []string{"a", "bc", "😀", "\n", "é", "🎉x", "\n\n", "wörd "}

// boundary moves pos off the middle of a surrogate pair.
func boundary(doc []uint16, pos int) int {
	if pos > 0 && pos < len(doc) && doc[pos] >= 0xdc00 && doc[pos] <= 0xdfff {
		return pos - 1
	}
	return pos
}

// newEdit makes a random edit of the text as the client sees it (its
// confirmed text: it has no other unconfirmed edit).
func (c *client) newEdit() {
	n := len(c.doc)
	if n > 0 && c.rng.IntN(3) == 0 {
		from := boundary(c.doc, c.rng.IntN(n))
		to := boundary(c.doc, min(n, from+1+c.rng.IntN(4)))
		if to <= from {
			to = min(n, from+2)
		}
		c.pending = &edit{from: from, to: to}
	} else {
		pos := boundary(c.doc, c.rng.IntN(n+1))
		c.pending = &edit{from: pos, to: pos, insert: utf16.Encode([]rune(pieces[c.rng.IntN(len(pieces))]))}
	}
	c.made++
}

// TestConvergence is the property test: clients make random concurrent
// insertions and deletions (emoji and newlines among them) at random
// moments, drop their connections at random and come back; in the end
// every client holds the server's text, which is the file on disk.
func TestConvergence(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		owner := s.SignUp(t, "olga")
		p := owner.CreateProject(t, "Pad")
		owner.Put(t, "/api/projects/"+p.ID+"/files/notes.txt", "start 😀\n").WantStatus(t, 204)
		url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/projects/" + p.ID + "/ws"
		const clients, edits = 6, 40
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		results := make([]*client, clients)
		for i := range clients {
			c := &client{t: t, id: fmt.Sprintf("c%d", i), url: url, cookie: owner.CookieHeader(t), path: "notes.txt",
				rng: rand.New(rand.NewPCG(uint64(i), 42))}
			results[i] = c
			wg.Go(func() {
				c.connect(ctx)
				c.play(ctx, edits, 25)
			})
		}
		wg.Wait()
		// Everyone is confirmed; catch each up with what others did last.
		final := caughtUp(t, ctx, results)
		for _, c := range results {
			c.conn.CloseNow()
		}
		t.Logf("final text: %d UTF-16 units, version %d", len(utf16.Encode([]rune(final))), results[0].version)
		if strings.Count(final, "start 😀") > 1 || len(final) == 0 {
			t.Fatalf("final text %q", final)
		}
		// The file on disk is the text: every confirmed edit was flushed before it was confirmed.
		if disk := string(owner.Get(t, "/api/projects/"+p.ID+"/files/notes.txt").WantStatus(t, 200).Body); disk != final {
			t.Fatalf("disk %q, editors %q", disk, final)
		}
	})
}

// play makes edits at random moments until each is confirmed, dropping
// the connection one time in dropOneIn (0: never) and coming back.
func (c *client) play(ctx context.Context, edits, dropOneIn int) {
	for c.made < edits || c.pending != nil {
		timer := time.NewTimer(time.Duration(c.rng.IntN(3000)) * time.Microsecond)
		select {
		case m, ok := <-c.in:
			timer.Stop()
			if !ok { // dropped: come back where we were
				c.connect(ctx)
				continue
			}
			c.handle(ctx, m)
		case <-timer.C:
			if c.epoch == "" {
				continue
			}
			switch {
			case dropOneIn > 0 && c.rng.IntN(dropOneIn) == 0:
				c.conn.CloseNow()
			case c.pending == nil && c.made < edits:
				c.newEdit()
				c.maybePush(ctx)
			}
		case <-ctx.Done():
			c.t.Errorf("%s: timed out with %d edits made, pending %v", c.id, c.made, c.pending)
			return
		}
	}
}

// open connects a client of c to the project and opens path.
func open(t *testing.T, s *testserver.Server, c *testserver.Client, projectID, path string) *client {
	t.Helper()
	cl := &client{t: t, id: c.User.Username, url: "ws" + strings.TrimPrefix(s.URL, "http") + "/api/projects/" + projectID + "/ws",
		cookie: c.CookieHeader(t), path: path, rng: rand.New(rand.NewPCG(1, 2))}
	cl.connect(t.Context())
	t.Cleanup(func() { cl.conn.CloseNow() })
	return cl
}

// next returns the client's next message of one of types.
func (c *client) next(types ...string) wire {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				c.t.Fatalf("%s: connection closed", c.id)
			}
			for _, typ := range types {
				if m.Type == typ {
					return m
				}
			}
		case <-timeout:
			c.t.Fatalf("%s: no %v", c.id, types)
		}
	}
}

func TestRolesAndFileEvents(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		owner := s.SignUp(t, "otto")
		p := owner.CreateProject(t, "Shared")
		base := "/api/projects/" + p.ID
		owner.Put(t, base+"/files/a.txt", "hello").WantStatus(t, 204)
		vic := s.SignUp(t, "vic")
		owner.Post(t, base+"/members", map[string]string{"username": "vic", "role": "viewer"}).WantStatus(t, 201)

		ed := open(t, s, owner, p.ID, "a.txt")
		opened := ed.next("doc.opened")
		ed.handle(t.Context(), opened)
		if *opened.ReadOnly || *opened.Text != "hello" {
			t.Fatalf("owner opened %+v", opened)
		}
		view := open(t, s, vic, p.ID, "a.txt")
		vo := view.next("doc.opened")
		if !*vo.ReadOnly {
			t.Fatal("a viewer's document is not read-only")
		}
		view.handle(t.Context(), vo)

		// The viewer's push is refused; the owner's reaches the viewer.
		view.write(t.Context(), map[string]any{"type": "doc.push", "path": "a.txt", "version": 0,
			"updates": []collab.Update{{ClientID: "vic", Changes: json.RawMessage(`[5,[0,"!"]]`)}}})
		if m := view.next("error"); m.Code != "forbidden" {
			t.Fatalf("viewer push: %+v", m)
		}
		ed.pending = &edit{from: 5, to: 5, insert: utf16.Encode([]rune(" world"))}
		ed.maybePush(t.Context())
		// The author's confirmation comes once the text is on disk.
		ed.handle(t.Context(), ed.next("doc.update"))
		if ed.pending != nil {
			t.Fatal("the author's edit was not confirmed")
		}
		if disk, err := os.ReadFile(filepath.Join(s.App.Config.DataDir, "projects", p.ID, "a.txt")); err != nil || string(disk) != "hello world" {
			t.Fatalf("confirmed, but the file holds %q (%v)", disk, err)
		}
		view.handle(t.Context(), view.next("doc.update"))
		if got := string(utf16.Decode(view.doc)); got != "hello world" {
			t.Fatalf("viewer sees %q", got)
		}
		// An invalid change is refused to its sender only.
		ed.write(t.Context(), map[string]any{"type": "doc.push", "path": "a.txt", "version": 1,
			"updates": []collab.Update{{ClientID: "otto", Changes: json.RawMessage(`[99,[0,"x"]]`)}}})
		if m := ed.next("error"); m.Code != "invalid_changes" {
			t.Fatalf("invalid push: %+v", m)
		}

		// A change on disk (a run, the agent) reaches open editors as an update from the server.
		owner.Put(t, base+"/files/a.txt", "hello brave world").WantStatus(t, 204)
		m := view.next("doc.update")
		if m.Updates[0].ClientID != collab.ServerClient {
			t.Fatalf("disk change came as %+v", m)
		}
		view.handle(t.Context(), m)
		if got := string(utf16.Decode(view.doc)); got != "hello brave world" {
			t.Fatalf("after the disk change: %q", got)
		}
		view.next("files.changed")
		// Back to a text the document once wrote itself (a checkpoint restore): still a change.
		owner.Put(t, base+"/files/a.txt", "hello world").WantStatus(t, 204)
		view.handle(t.Context(), view.next("doc.update"))
		if got := string(utf16.Decode(view.doc)); got != "hello world" {
			t.Fatalf("after the restore: %q", got)
		}

		// A move takes the open document along; a deletion closes it.
		owner.Post(t, base+"/move", map[string]string{"from": "a.txt", "to": "b.txt"}).WantStatus(t, 204)
		view.path = "b.txt"
		if m := view.next("doc.renamed"); m.Path != "a.txt" {
			t.Fatalf("rename: %+v", m)
		}
		owner.Delete(t, base+"/files/b.txt").WantStatus(t, 204)
		view.next("doc.deleted")

		// Losing access closes the tab.
		owner.Delete(t, base+"/members/"+vic.User.ID).WantStatus(t, 204)
		for range view.in {
		}
		s.Anonymous().Get(t, base+"/members").WantError(t, 404, "not_found")
	})
}

// A team's admin edits the team's projects live, as their owner would;
// a team viewer watches.
func TestTeamRolesLive(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		tom := s.SignUp(t, "tom")
		tom.Post(t, "/api/teams", map[string]string{"name": "live"}).WantStatus(t, 201)
		ada, val := s.SignUp(t, "ada"), s.SignUp(t, "val")
		tom.Post(t, "/api/teams/live/members", map[string]string{"username": "ada", "role": "admin"}).WantStatus(t, 201)
		tom.Post(t, "/api/teams/live/members", map[string]string{"username": "val", "role": "viewer"}).WantStatus(t, 201)
		var created struct{ Project struct{ ID string } }
		tom.Post(t, "/api/projects", map[string]string{"name": "Docs", "owner": "live"}).WantStatus(t, 201).Decode(t, &created)
		id := created.Project.ID
		tom.Put(t, "/api/projects/"+id+"/files/a.txt", "hi").WantStatus(t, 204)

		if vo := open(t, s, val, id, "a.txt").next("doc.opened"); !*vo.ReadOnly {
			t.Fatal("a team viewer's document is not read-only")
		}
		ed := open(t, s, ada, id, "a.txt")
		opened := ed.next("doc.opened")
		if *opened.ReadOnly {
			t.Fatal("a team admin's document is read-only")
		}
		ed.handle(t.Context(), opened)
		ed.pending = &edit{from: 2, to: 2, insert: utf16.Encode([]rune("!"))}
		ed.maybePush(t.Context())
		ed.handle(t.Context(), ed.next("doc.update"))
		if disk, err := os.ReadFile(filepath.Join(s.App.Config.DataDir, "projects", id, "a.txt")); err != nil || string(disk) != "hi!" {
			t.Fatalf("the admin's edit left %q (%v)", disk, err)
		}

		// An allowlist that leaves out where a tab connected from closes
		// it, saying why.
		ada.From("127.0.0.2").Put(t, "/api/teams/live/allowlist", map[string]any{"allowlist": []string{"127.0.0.2"}, "confirm": true}).WantStatus(t, 200)
		if m := ed.next("error"); m.Code != "ip_not_allowed" {
			t.Fatalf("after the allowlist: %+v", m)
		}
	})
}

// A tab that drops right after a push, while the document is still being
// written, finds the document where it left it on coming back: it
// catches up instead of starting over (which would lose its edits).
func TestDropDuringSaveRejoins(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		owen := s.SignUp(t, "owen")
		p := owen.CreateProject(t, "Drops")
		for i := range 30 {
			path := fmt.Sprintf("f%d.txt", i)
			owen.Put(t, "/api/projects/"+p.ID+"/files/"+path, "").WantStatus(t, 204)
			c := open(t, s, owen, p.ID, path)
			c.handle(t.Context(), c.next("doc.opened"))
			c.pending = &edit{from: 0, to: 0, insert: utf16.Encode([]rune("h"))}
			c.maybePush(t.Context())
			c.conn.CloseNow() // the push is on its way; its write and fsync are not done
			for range c.in {
			}
			c.connect(t.Context())
			m := c.next("doc.opened")
			if m.Text != nil {
				t.Fatalf("%s: back after a drop during a save, the document had started over", path)
			}
			c.handle(t.Context(), m)
		}
	})
}
