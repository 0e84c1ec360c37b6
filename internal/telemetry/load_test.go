package telemetry_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// A flood of batches from one address for a bounded time, on the real
// server: it is held to its budget with 429s, every event answered as
// accepted is kept (none twice, none lost), another deployment's visitors
// still get through, and the platform keeps answering its health check.
func TestIngestFlood(t *testing.T) {
	s := testserver.New(t, testdb.Engines(t)[0])
	alice := s.SignUp(t, "alice")
	var keys, ids [2]string
	for i := range keys {
		p := alice.CreateProject(t, fmt.Sprintf("Flooded %d", i))
		var set struct{ IngestKey string }
		alice.Get(t, "/api/projects/"+p.ID+"/monitoring").WantStatus(t, http.StatusOK).Decode(t, &set)
		keys[i], ids[i] = set.IngestKey, p.ID
	}
	batch := func(n int) []byte {
		now := time.Now().UnixMilli()
		events := make([]map[string]any, n)
		for i := range events {
			events[i] = map[string]any{"type": "error", "t": now, "session": "flood-session", "url": "https://app.test/",
				"name": "Error", "message": "boom", "stack": "Error: boom\n    at f (https://app.test/a.js:1:1)", "source": "error"}
		}
		b, _ := json.Marshal(events)
		return b
	}
	post := func(key string, body []byte) (int, int) {
		res, err := http.Post(s.URL+"/api/monitoring/event?key="+key, "text/plain", bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return 0, 0
		}
		defer res.Body.Close()
		var out struct{ Accepted int }
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out.Accepted
	}

	body := batch(200)
	var accepted, limited atomic.Int64
	var wg sync.WaitGroup
	// At least 2 s, until refused; 20 s at most on the slowest machine.
	start := time.Now()
	flooding := func() bool {
		d := time.Since(start)
		return d < 20*time.Second && (d < 2*time.Second || limited.Load() == 0)
	}
	for range 4 {
		wg.Go(func() {
			for flooding() {
				switch code, n := post(keys[0], body); code {
				case http.StatusAccepted:
					accepted.Add(int64(n))
				case http.StatusTooManyRequests:
					limited.Add(1)
				default:
					t.Errorf("flood answered %d", code)
					return
				}
			}
		})
	}
	// Meanwhile: another deployment's visitor, and the health check.
	for range 5 {
		if code, n := post(keys[1], batch(10)); code != http.StatusAccepted || n != 10 {
			t.Errorf("another deployment's batch during the flood: %d, %d accepted", code, n)
		}
		start := time.Now()
		alice.Get(t, "/api/monitoring/health").WantStatus(t, http.StatusOK)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("health took %v during the flood", d)
		}
	}
	wg.Wait()
	// 300 events/s with a burst of 3,000: the burst and the refill are
	// taken (with the batches in flight at the end), the rest refused.
	most := 3000 + int64(300*time.Since(start).Seconds()) + 4*200
	if limited.Load() == 0 || accepted.Load() < 3000 || accepted.Load() > most {
		t.Fatalf("accepted %d events, %d batches refused", accepted.Load(), limited.Load())
	}
	var groups struct{ Groups []struct{ Count int64 } }
	alice.Get(t, "/api/projects/"+ids[0]+"/monitoring/errors?range=1h").WantStatus(t, http.StatusOK).Decode(t, &groups)
	if len(groups.Groups) != 1 || groups.Groups[0].Count != accepted.Load() {
		t.Fatalf("kept %+v, answered as accepted %d", groups.Groups, accepted.Load())
	}
}
