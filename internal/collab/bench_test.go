package collab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/coder/websocket"

	"ecode/internal/collab"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// BenchmarkApplyOps is the document authority's throughput: one-character
// insertions pushed one by one into one 20 KB document, each checked,
// applied and logged, with the file written and fsync'd as fast as the
// group commit goes.
func BenchmarkApplyOps(b *testing.B) {
	text := strings.Repeat("const answer = 42; // a line of code\n", 540)
	dir, err := os.MkdirTemp("", "applyops")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "doc.js")
	d := collab.NewDocForBench("doc.js", text, func(_, text string) error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.WriteString(text); err != nil {
			return err
		}
		return f.Sync()
	})
	n := len([]rune(text)) // ASCII: runes are UTF-16 units
	version := 0
	for b.Loop() {
		pos := version % n
		changes, _ := json.Marshal([]any{pos, []any{0, "x"}, n - pos})
		if err := d.Push(version, []collab.Update{{ClientID: "bench", Changes: changes}}); err != nil {
			b.Fatal(err)
		}
		version++
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	d.Settle()
}

// BenchmarkBroadcast50 is the time from one client's push to the other 49
// clients' receipt of it, over WebSockets on loopback through the real
// server: p50 and p99 of every receipt.
func BenchmarkBroadcast50(b *testing.B) {
	s := testserver.New(b, testdb.Engines(b)[0])
	owner := s.SignUp(b, "bench")
	p := owner.CreateProject(b, "Bench")
	broadcast(b, owner, slices.Repeat([]string{wsURL(s, p.ID)}, 50))
}

// BenchmarkBroadcastAcrossServers is BenchmarkBroadcast50 on two servers
// of a cluster (PostgreSQL, NATS): all 50 tabs on the server holding the
// project, then the writer and half the tabs on the other one, forwarded.
func BenchmarkBroadcastAcrossServers(b *testing.B) {
	cl := testserver.NewCluster(b)
	one, two := cl.Join(b, "one"), cl.Join(b, "two")
	owner := one.SignUp(b, "bench")
	p := owner.CreateProject(b, "Bench")
	b.Run("one-server", func(b *testing.B) { broadcast(b, owner, slices.Repeat([]string{wsURL(one, p.ID)}, 50)) })
	b.Run("two-servers", func(b *testing.B) {
		urls := make([]string, 50)
		for i := range urls {
			urls[i] = wsURL([]*testserver.Server{two, one}[i%2], p.ID)
		}
		broadcast(b, owner, urls)
	})
}

func wsURL(s *testserver.Server, projectID string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + "/api/projects/" + projectID + "/ws"
}

// broadcast opens a new empty file in a tab at each of urls (project
// URLs ending in /ws); the first pushes one insertion an iteration, and
// every other tab's receipt of it is timed.
func broadcast(b *testing.B, owner *testserver.Client, urls []string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := fmt.Sprintf("doc-%d.txt", time.Now().UnixNano())
	api := strings.TrimSuffix(strings.Replace(urls[0], "ws", "http", 1), "/ws")
	owner.Put(b, api[strings.Index(api, "/api/"):]+"/files/"+path, "").WantStatus(b, 204)
	clients := len(urls)
	type receipt struct {
		version int
		at      time.Time
	}
	got := make(chan receipt, 1<<16)
	conns := make([]*websocket.Conn, clients)
	var ready sync.WaitGroup
	for i, url := range urls {
		conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: map[string][]string{"Cookie": {owner.CookieHeader(b)}}})
		if err != nil {
			b.Fatal(err)
		}
		defer conn.CloseNow()
		conn.SetReadLimit(1 << 24)
		conns[i] = conn
		conn.Write(ctx, websocket.MessageText, []byte(`{"type":"doc.open","path":"`+path+`"}`))
		ready.Add(1)
		go func(i int) {
			opened := false
			for {
				_, msg, err := conn.Read(ctx)
				if err != nil {
					return
				}
				var m struct {
					Type    string
					Version int
				}
				json.Unmarshal(msg, &m)
				switch {
				case m.Type == "doc.opened" && !opened:
					opened = true
					ready.Done()
				case m.Type == "doc.update" && i > 0:
					got <- receipt{m.Version, time.Now()}
				case m.Type == "doc.update":
					got <- receipt{-1 - m.Version, time.Now()} // the author's confirmation
				}
			}
		}(i)
	}
	ready.Wait()
	var lat []time.Duration
	version := 0
	for b.Loop() {
		sections := []any{[]any{0, "x"}} // insert "x" at the start, keep the rest
		if version > 0 {
			sections = append(sections, version)
		}
		changes, _ := json.Marshal(sections)
		push, _ := json.Marshal(map[string]any{"type": "doc.push", "path": path, "version": version,
			"updates": []collab.Update{{ClientID: "writer", Changes: changes}}})
		sent := time.Now()
		conns[0].Write(ctx, websocket.MessageText, push)
		for seen := 0; seen < clients; {
			r := <-got
			if r.version == version {
				lat = append(lat, r.at.Sub(sent))
			}
			if r.version == version || r.version == -1-version {
				seen++
			}
		}
		version++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkContention3 is three people typing into one document at once,
// over WebSockets on loopback through the real server, each tab behaving
// as @codemirror/collab does: at most one push in flight (all its
// unconfirmed keystrokes, at the version it has synced to), the rest
// queued until the confirmation. A keystroke every interval per typist;
// an iteration is one keystroke of each. It reports p50 and p99 of push
// to receipt (a keystroke's first push to another tab's receipt of it)
// and how many pushes the server rejected or rebased.
func BenchmarkContention3(b *testing.B) {
	const typists, interval = 3, 5 * time.Millisecond
	s := testserver.New(b, testdb.Engines(b)[0])
	owner := s.SignUp(b, "bench")
	p := owner.CreateProject(b, "Bench")
	owner.Put(b, "/api/projects/"+p.ID+"/files/doc.txt", strings.Repeat("a line of text\n", 100)).WantStatus(b, 204)
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/projects/" + p.ID + "/ws"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	ts := make([]*typist, typists)
	for i := range ts {
		ts[i] = newTypist(b, ctx, url, owner.CookieHeader(b), fmt.Sprintf("t%d", i), i)
	}
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Go(func() { t.run(ctx, typists) })
	}
	next := time.Now()
	for b.Loop() {
		for _, t := range ts {
			t.keys <- struct{}{}
		}
		next = next.Add(interval)
		time.Sleep(time.Until(next))
	}
	for _, t := range ts {
		close(t.keys)
	}
	wg.Wait()
	b.StopTimer()

	var lat []time.Duration
	rejected, rebased, pushes := 0, 0, 0
	for _, t := range ts {
		rejected, rebased, pushes = rejected+t.rejected, rebased+t.rebased, pushes+t.pushes
		for _, r := range t.receipts {
			lat = append(lat, r.at.Sub(ts[r.from].firstPush[r.key]))
		}
		if string(utf16.Decode(t.doc)) != string(utf16.Decode(ts[0].doc)) {
			b.Fatalf("%s and %s hold different texts", t.id, ts[0].id)
		}
	}
	if want := (typists - 1) * typists * b.N; len(lat) != want {
		b.Fatalf("%d receipts, want %d", len(lat), want)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(pushes), "pushes")
	b.ReportMetric(float64(rejected), "rejected")
	b.ReportMetric(float64(rebased), "rebased")
}

// typist is one tab of BenchmarkContention3. Its unconfirmed keystrokes
// are one run of text at its cursor: the part in flight, then the part
// queued behind it.
type typist struct {
	b        *testing.B
	id       string
	index    int
	conn     *websocket.Conn
	in       chan wire
	keys     chan struct{}
	doc      []uint16 // the confirmed text
	version  int
	cursor   int // where the unconfirmed text goes in the confirmed text
	inflight []uint16
	pushedAt int // the version the push in flight was made at
	queued   []uint16
	waitFor  int // after a rejection: push again once synced to this version

	typed, confirmed  int         // keystrokes typed, and confirmed by the server
	firstPush         []time.Time // by keystroke: when it was first pushed
	pushedKeys        int         // keystrokes pushed at least once
	pushes            int
	rejected, rebased int
	receivedFrom      map[string]int // keystrokes of each other typist received
	receipts          []receipt
}

type receipt struct {
	from, key int
	at        time.Time
}

func newTypist(b *testing.B, ctx context.Context, url, cookie, id string, index int) *typist {
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: map[string][]string{"Cookie": {cookie}}})
	if err != nil {
		b.Fatal(err)
	}
	conn.SetReadLimit(1 << 24)
	t := &typist{b: b, id: id, index: index, conn: conn, in: make(chan wire, 1024), keys: make(chan struct{}, 1<<16), receivedFrom: map[string]int{}}
	go func() {
		defer close(t.in)
		for {
			_, msg, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var m wire
			if json.Unmarshal(msg, &m) == nil {
				t.in <- m
			}
		}
	}()
	conn.Write(ctx, websocket.MessageText, []byte(`{"type":"doc.open","path":"doc.txt"}`))
	for m := range t.in {
		if m.Type == "doc.opened" {
			t.doc, t.version = utf16.Encode([]rune(*m.Text)), *m.Version
			t.cursor = len(t.doc) * index / 3
			return t
		}
	}
	b.Fatalf("%s: no doc.opened", id)
	return nil
}

// run types until keys closes, then waits until its keystrokes are
// confirmed and it has received every other typist's.
func (t *typist) run(ctx context.Context, typists int) {
	keys := t.keys
	for {
		if keys == nil && t.typed == t.confirmed && t.allReceived(typists) {
			t.conn.CloseNow()
			return
		}
		select {
		case _, ok := <-keys:
			if !ok {
				keys = nil
				continue
			}
			t.queued = append(t.queued, uint16('a'+t.index))
			t.firstPush = append(t.firstPush, time.Time{})
			t.typed++
		case m, ok := <-t.in:
			if !ok {
				t.b.Errorf("%s: connection closed", t.id)
				return
			}
			t.handle(m)
		case <-ctx.Done():
			t.b.Errorf("%s: timed out", t.id)
			return
		}
		t.push(ctx)
	}
}

func (t *typist) allReceived(typists int) bool {
	if len(t.receivedFrom) < typists-1 {
		return false
	}
	for _, n := range t.receivedFrom {
		if n < t.typed { // every typist types as many keystrokes
			return false
		}
	}
	return true
}

func (t *typist) handle(m wire) {
	switch m.Type {
	case "doc.update":
		now := time.Now()
		for i, u := range m.Updates {
			if *m.Version+i < t.version {
				continue
			}
			cs, err := collab.ParseChangeSet(u.Changes)
			if err != nil {
				t.b.Fatalf("%s: %v", t.id, err)
			}
			next, err := cs.Apply(t.doc)
			if err != nil {
				t.b.Fatalf("%s: %v", t.id, err)
			}
			inserted := cs.NewLen() - cs.Len()
			if u.ClientID == t.id {
				if *m.Version+i > t.pushedAt {
					t.rebased++
				}
				t.cursor = insertedAt(cs) + inserted // the cursor follows our text, wherever the server put it
				t.confirmed += len(t.inflight)
				t.inflight = nil
			} else {
				t.cursor = cs.MapPos(t.cursor, 1)
				from := int(u.ClientID[1] - '0')
				for k := range inserted {
					t.receipts = append(t.receipts, receipt{from, t.receivedFrom[u.ClientID] + k, now})
				}
				t.receivedFrom[u.ClientID] += inserted
			}
			t.doc = next
			t.version++
		}
	case "doc.rejected":
		t.rejected++
		t.queued = append(t.inflight, t.queued...)
		t.inflight, t.waitFor = nil, *m.Version
	case "error":
		t.b.Fatalf("%s: error %s", t.id, m.Code)
	}
}

// insertedAt is where cs, one insertion, inserts.
func insertedAt(cs collab.ChangeSet) int {
	raw, _ := json.Marshal(cs)
	var parts []json.RawMessage
	_ = json.Unmarshal(raw, &parts)
	pos := 0
	for _, p := range parts {
		var n int
		if json.Unmarshal(p, &n) != nil {
			break
		}
		pos += n
	}
	return pos
}

func (t *typist) push(ctx context.Context) {
	if t.inflight != nil || len(t.queued) == 0 || t.version < t.waitFor {
		return
	}
	t.inflight, t.queued, t.pushedAt = t.queued, nil, t.version
	now := time.Now()
	for ; t.pushedKeys < t.confirmed+len(t.inflight); t.pushedKeys++ {
		t.firstPush[t.pushedKeys] = now
	}
	var changes []any
	if t.cursor > 0 {
		changes = append(changes, t.cursor)
	}
	changes = append(changes, []any{0, string(utf16.Decode(t.inflight))})
	if rest := len(t.doc) - t.cursor; rest > 0 {
		changes = append(changes, rest)
	}
	c, _ := json.Marshal(changes)
	msg, _ := json.Marshal(map[string]any{"type": "doc.push", "path": "doc.txt", "version": t.version,
		"updates": []collab.Update{{ClientID: t.id, Changes: c}}})
	t.pushes++
	t.conn.Write(ctx, websocket.MessageText, msg)
}
