package collab_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
	owner.Put(b, "/api/projects/"+p.ID+"/files/doc.txt", "").WantStatus(b, 204)
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/projects/" + p.ID + "/ws"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	const clients = 50
	type receipt struct {
		version int
		at      time.Time
	}
	got := make(chan receipt, 1<<16)
	conns := make([]*websocket.Conn, clients)
	var ready sync.WaitGroup
	for i := range clients {
		conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: map[string][]string{"Cookie": {owner.CookieHeader(b)}}})
		if err != nil {
			b.Fatal(err)
		}
		conn.SetReadLimit(1 << 24)
		conns[i] = conn
		conn.Write(ctx, websocket.MessageText, []byte(`{"type":"doc.open","path":"doc.txt"}`))
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
		changes, _ := json.Marshal([]any{[]any{0, "x"}, version})
		push, _ := json.Marshal(map[string]any{"type": "doc.push", "path": "doc.txt", "version": version,
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
