package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"ecode/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

// BenchmarkHold is two servers of a cluster holding 200 workspace tabs (10
// on each of 20 projects, every other one through the server that does not
// hold the project) and 20 sandboxes, each running a program. An iteration
// is one edit in each project, pushed by one of its tabs and received by
// the other nine; it reports the receipts' p50 and p99 and the process's
// heap, and fails on any error.
func BenchmarkHold(b *testing.B) {
	testserver.NeedSandbox(b)
	const projects, tabs = 20, 10
	cl := testserver.NewCluster(b)
	servers := []*testserver.Server{cl.Join(b, "a"), cl.Join(b, "b")}
	owner := servers[0].SignUp(b, "bench")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type receipt struct {
		project, version int
		at               time.Time
	}
	got := make(chan receipt, 1<<16)
	errs := make(chan string, 1024)
	writers := make([]*websocket.Conn, projects)
	var ready sync.WaitGroup
	for i := range projects {
		// Each project is held by the server it was made through.
		c := owner.On(servers[i%2])
		p := c.CreateProject(b, fmt.Sprintf("Hold %d", i))
		c.Put(b, "/api/projects/"+p.ID+"/files/ecode.toml", "run = \"sleep 3600\"\n").WantStatus(b, 204)
		c.Put(b, "/api/projects/"+p.ID+"/files/doc.txt", "").WantStatus(b, 204)
		var run struct {
			Run struct{ ID, Status, Error string }
		}
		c.Post(b, "/api/projects/"+p.ID+"/run", nil).WantStatus(b, 202).Decode(b, &run)
		for deadline := time.Now().Add(time.Minute); run.Run.Status != "running"; time.Sleep(20 * time.Millisecond) {
			if run.Run.Status == "failed" || run.Run.Status == "exited" {
				b.Fatalf("project %d's run: %+v", i, run.Run)
			}
			if time.Now().After(deadline) {
				b.Fatalf("project %d's run: %+v", i, run.Run)
			}
			c.Get(b, "/api/projects/"+p.ID+"/runs/"+run.Run.ID).WantStatus(b, 200).Decode(b, &run)
		}
		for tab := range tabs {
			s := servers[(i+tab)%2]
			url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/projects/" + p.ID + "/ws"
			conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: map[string][]string{"Cookie": {owner.CookieHeader(b)}}})
			if err != nil {
				b.Fatal(err)
			}
			defer conn.CloseNow()
			if tab == 0 {
				writers[i] = conn
			}
			conn.Write(ctx, websocket.MessageText, []byte(`{"type":"doc.open","path":"doc.txt"}`))
			ready.Add(1)
			go func() {
				opened := false
				for {
					_, msg, err := conn.Read(ctx)
					if err != nil {
						if ctx.Err() == nil {
							errs <- err.Error()
						}
						return
					}
					var m struct{ Type, Code string }
					var v struct{ Version int }
					_ = json.Unmarshal(msg, &m)
					_ = json.Unmarshal(msg, &v)
					switch {
					case m.Type == "doc.opened" && !opened:
						opened = true
						ready.Done()
					case m.Type == "doc.update" && tab > 0:
						got <- receipt{i, v.Version, time.Now()}
					case m.Type == "error" || m.Type == "doc.rejected":
						errs <- string(msg)
					}
				}
			}()
		}
	}
	ready.Wait()
	var lat []time.Duration
	version := 0
	for b.Loop() {
		sections := []any{[]any{0, "x"}}
		if version > 0 {
			sections = append(sections, version)
		}
		changes, _ := json.Marshal(sections)
		push, _ := json.Marshal(map[string]any{"type": "doc.push", "path": "doc.txt", "version": version,
			"updates": []map[string]any{{"clientID": "writer", "changes": json.RawMessage(changes)}}})
		sent := time.Now()
		for _, w := range writers {
			w.Write(ctx, websocket.MessageText, push)
		}
		for seen := 0; seen < projects*(tabs-1); {
			select {
			case r := <-got:
				if r.version == version {
					lat = append(lat, r.at.Sub(sent))
					seen++
				}
			case e := <-errs:
				b.Fatalf("a tab failed: %s", e)
			case <-time.After(10 * time.Second):
				b.Fatalf("%d of %d receipts of edit %d", seen, projects*(tabs-1), version)
			}
		}
		version++
	}
	select {
	case e := <-errs:
		b.Fatalf("a tab failed: %s", e)
	default:
	}
	slices.Sort(lat)
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(mem.HeapInuse)/(1<<20), "heap-MiB")
}
