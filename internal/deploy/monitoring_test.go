package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"ecode/internal/testserver"
)

// A deployment with monitoring on: the edge writes the monitoring script
// into its pages (and nothing else), counts what it serves per route, and
// what its visitors' browsers send with its ingest key shows on its
// dashboard.
func TestMonitoredDeployment(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		p := project(t, alice, "Shop", map[string]string{
			"ecode.toml":       "run = \"python3 -m http.server $PORT\"\n\n[deployment]\npublicDir = \"web\"\n",
			"web/index.html":   "<!doctype html><html><head><title>Shop</title></head><body><h1>shop</h1></body></html>",
			"web/items/1.json": `[]`,
		})
		if r, log := finish(t, alice, p.ID, deploy(t, alice, p.ID).ID); r.Status != "ready" {
			t.Fatalf("release: %+v\n%s", r, log)
		}
		host := host(p)
		page := map[string]string{"Accept": "text/html", "Accept-Encoding": "gzip, br"}

		if _, body := visit(t, s, host, "/", page); !strings.Contains(string(body), "<h1>shop</h1>") || strings.Contains(string(body), "monitor.js") {
			t.Fatalf("monitoring is off by default, yet the page is %s", body)
		}
		var set struct {
			IngestKey, Snippet string
			Inject             bool
		}
		alice.Put(t, "/api/projects/"+p.ID+"/monitoring", map[string]any{"inject": true}).WantStatus(t, http.StatusOK).Decode(t, &set)
		if !set.Inject || !strings.HasPrefix(set.IngestKey, "pk_") || !strings.Contains(set.Snippet, set.IngestKey) {
			t.Fatalf("settings: %+v", set)
		}
		res, body := visit(t, s, host, "/", page)
		want := "<title>Shop</title>" + set.Snippet + "</head>"
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) || res.Header.Get("Content-Encoding") != "" {
			t.Fatalf("page with monitoring on: %d %s %q", res.StatusCode, res.Header.Get("Content-Encoding"), body)
		}
		if _, body := visit(t, s, host, "/items/1.json", map[string]string{"Accept": "application/json"}); string(body) != "[]" {
			t.Fatalf("a JSON file was changed: %q", body)
		}
		visit(t, s, host, "/items/1.json", nil)

		// What the SDK sends from a visitor's browser, cross-origin.
		now := time.Now().UnixMilli()
		batch, _ := json.Marshal([]map[string]any{
			{"type": "pageview", "t": now, "session": "visitor-0001", "url": "http://" + host + "/?email=a@b.c"},
			{"type": "error", "t": now, "session": "visitor-0001", "url": "http://" + host + "/", "name": "TypeError",
				"message": "x is undefined", "stack": "TypeError: x is undefined\n    at buy (http://" + host + "/app.js:3:7)", "source": "error"},
			{"type": "vital", "t": now, "session": "visitor-0001", "url": "http://" + host + "/", "name": "LCP", "value": 1200, "rating": "good"},
			{"type": "nonsense", "t": now, "session": "visitor-0001", "url": "http://" + host + "/"},
		})
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/monitoring/event?key="+set.IngestKey, bytes.NewReader(batch))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		req.Header.Set("Origin", "http://"+host)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		ingest, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Accepted int
			Rejected []struct{ Index int }
		}
		json.NewDecoder(ingest.Body).Decode(&got)
		ingest.Body.Close()
		if ingest.StatusCode != http.StatusAccepted || got.Accepted != 3 || len(got.Rejected) != 1 || got.Rejected[0].Index != 3 ||
			ingest.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("ingest: %d %+v %v", ingest.StatusCode, got, ingest.Header)
		}

		// The dashboard: the edge's counts reach it once flushed.
		var o struct {
			Totals struct{ Requests, Pageviews, BrowserErrors int }
			Routes []struct {
				Route    string
				Requests int
			}
			Vitals []struct {
				Name string
				Good int
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			alice.Get(t, "/api/projects/"+p.ID+"/monitoring/overview?range=1h").WantStatus(t, http.StatusOK).Decode(t, &o)
			if o.Totals.Requests >= 4 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		routes := fmt.Sprint(o.Routes)
		if o.Totals.Requests != 4 || o.Totals.Pageviews != 1 || o.Totals.BrowserErrors != 1 ||
			!strings.Contains(routes, "{GET / 2}") || !strings.Contains(routes, "{GET /items/1.json 2}") || o.Vitals[0].Good != 1 {
			t.Fatalf("overview: %+v", o)
		}
		var groups struct {
			Groups []struct {
				Message, URL string
				Count        int
			}
		}
		alice.Get(t, "/api/projects/"+p.ID+"/monitoring/errors?range=1h").WantStatus(t, http.StatusOK).Decode(t, &groups)
		if len(groups.Groups) != 1 || groups.Groups[0].Count != 1 || groups.Groups[0].Message != "x is undefined" {
			t.Fatalf("errors: %+v", groups)
		}
	})
}
