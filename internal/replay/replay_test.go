package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"ecode/internal/clocktest"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/project"
	"ecode/internal/store/testdb"
)

// keys maps ingest keys to projects.
type keys map[string]string

func (k keys) Resolve(_ context.Context, key string) (string, bool, error) {
	scope, ok := k[key]
	return scope, ok, nil
}

// projects lets everyone read the projects it holds; others are not found,
// as they are to a stranger.
type projects map[string]bool

func (p projects) Get(_ context.Context, _ *auth.User, id string, _ access.Action) (*project.Project, error) {
	if !p[id] {
		return nil, errs.NotFound("project_not_found", "No such project.")
	}
	return &project.Project{ID: id}, nil
}

// env is a replay service behind a real HTTP server, over a fresh database
// and blob folder. Projects p1 (key pk_one) and p2 (key pk_two) exist.
type env struct {
	t      *testing.T
	svc    *Service
	bucket *blob.Bucket
	clock  *clocktest.Clock
	url    string
}

func each(t *testing.T, opts Options, fn func(t *testing.T, e *env)) {
	for _, eng := range testdb.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			bucket, err := fileblob.OpenBucket(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { bucket.Close() })
			c := clocktest.New(time.Now())
			o := opts // each engine's own clock
			o.Now = c.Now
			svc := New(testdb.Open(t, eng), bucket, keys{"pk_one": "p1", "pk_two": "p2"}, projects{"p1": true, "p2": true}, o)
			rt := httpx.NewRouter()
			svc.Routes(rt)
			srv := httptest.NewServer(rt)
			t.Cleanup(srv.Close)
			fn(t, &env{t: t, svc: svc, bucket: bucket, clock: c, url: srv.URL})
		})
	}
}

// ev is one rrweb event.
type ev map[string]any

// page is a chunk's events as the recorder starts a page: meta, full
// snapshot, then an incremental event.
func page(ts int64, href string) []ev {
	return []ev{
		{"type": 4, "timestamp": ts, "data": ev{"href": href, "width": 800, "height": 600}},
		{"type": 2, "timestamp": ts + 1, "data": ev{"node": ev{"type": 0, "childNodes": []any{}}}},
		{"type": 3, "timestamp": ts + 50, "data": ev{"source": 2, "type": 2, "id": 5}},
	}
}

// later is a chunk of incremental events only.
func later(ts int64) []ev {
	return []ev{{"type": 3, "timestamp": ts, "data": ev{"source": 0}}, {"type": 3, "timestamp": ts + 900, "data": ev{"source": 1}}}
}

func gz(t *testing.T, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return gz(t, raw)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) code() string {
	var b httpx.ErrorBody
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code
}

func (e *env) do(method, path string, body []byte, client *http.Client) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

// upload posts a chunk with query (key, session, seq, ...) and checks the status.
func (e *env) upload(query string, body []byte, want int) response {
	e.t.Helper()
	res := e.do("POST", "/api/monitoring/replay?"+query, body, http.DefaultClient)
	if res.status != want {
		e.t.Fatalf("upload %s: status %d, want %d: %s", query, res.status, want, res.body)
	}
	return res
}

func (e *env) detail(project, session string) Detail {
	e.t.Helper()
	res := e.do("GET", "/api/projects/"+project+"/monitoring/replays/"+session, nil, http.DefaultClient)
	if res.status != http.StatusOK {
		e.t.Fatalf("detail: status %d: %s", res.status, res.body)
	}
	var d Detail
	if err := json.Unmarshal(res.body, &d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) list(project, query string) []Replay {
	e.t.Helper()
	res := e.do("GET", "/api/projects/"+project+"/monitoring/replays?"+query, nil, http.DefaultClient)
	if res.status != http.StatusOK {
		e.t.Fatalf("list: status %d: %s", res.status, res.body)
	}
	var out struct{ Replays []Replay }
	if err := json.Unmarshal(res.body, &out); err != nil {
		e.t.Fatal(err)
	}
	return out.Replays
}

// blobs lists the bucket's keys under prefix.
func (e *env) blobs(prefix string) []string {
	e.t.Helper()
	var out []string
	it := e.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(context.Background())
		if err == io.EOF {
			return out
		}
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, obj.Key)
	}
}

// noise is n letters that gzip cannot shrink much.
func noise(n int) string {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = 'a' + byte(x%26)
	}
	return string(b)
}

// raw fetches a chunk without letting the client decompress it.
var raw = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func TestChunksOutOfOrderAndMissing(t *testing.T) {
	each(t, Options{}, func(t *testing.T, e *env) {
		const s = "sess-aaaaaaaa"
		t0 := e.clock.Now().UnixMilli()
		c0 := gzJSON(t, page(t0, "https://app.example/items/7?token=secret#x"))
		c2 := gzJSON(t, later(t0+20_000))
		c3 := gzJSON(t, later(t0+30_000))
		e.upload("key=pk_one&session="+s+"&seq=2", c2, http.StatusAccepted)
		e.upload("key=pk_one&session="+s+"&seq=3", c3, http.StatusAccepted)
		e.upload("key=pk_one&session="+s+"&seq=0", c0, http.StatusAccepted)

		d := e.detail("p1", s)
		if !slices.Equal(d.Missing, []int64{1}) {
			t.Fatalf("missing = %v, want [1]", d.Missing)
		}
		want := []Item{
			{Seq: 0, FirstTs: t0, LastTs: t0 + 50, Bytes: int64(len(c0)), FullSnapshot: true},
			{Seq: 2, FirstTs: t0 + 20_000, LastTs: t0 + 20_900, Bytes: int64(len(c2))},
			{Seq: 3, FirstTs: t0 + 30_000, LastTs: t0 + 30_900, Bytes: int64(len(c3))},
		}
		if !slices.Equal(d.Items, want) {
			t.Fatalf("items = %+v, want %+v", d.Items, want)
		}
		r := d.Replay
		if r.ID != s || r.StartedAt != t0 || r.LastAt != t0+30_900 || r.DurationMs != 30_900 || r.Chunks != 3 ||
			r.Bytes != int64(len(c0)+len(c2)+len(c3)) || r.URL != "https://app.example/items/7" || r.HasError {
			t.Fatalf("replay = %+v", r)
		}
		if got := e.list("p1", "errors=1"); len(got) != 0 {
			t.Fatalf("errors=1 lists %+v before any error", got)
		}

		// The gap arrives late, from the page that had an error.
		e.upload("key=pk_one&session="+s+"&seq=1&error=1", gzJSON(t, later(t0+10_000)), http.StatusAccepted)
		d = e.detail("p1", s)
		if len(d.Missing) != 0 || d.Chunks != 4 || !d.HasError {
			t.Fatalf("after the gap: %+v", d)
		}
		// A later chunk without the flag leaves it set.
		e.upload("key=pk_one&session="+s+"&seq=4", gzJSON(t, later(t0+40_000)), http.StatusAccepted)
		if got := e.list("p1", "errors=1&range=1h"); len(got) != 1 || got[0].ID != s || !got[0].HasError || got[0].Chunks != 5 {
			t.Fatalf("errors=1 lists %+v", got)
		}
		if got := e.list("p2", ""); len(got) != 0 {
			t.Fatalf("another project lists %+v", got)
		}
	})
}

func TestRepeatedSeqReplaces(t *testing.T) {
	each(t, Options{}, func(t *testing.T, e *env) {
		const s = "sess-bbbbbbbb"
		t0 := e.clock.Now().UnixMilli()
		first := gzJSON(t, page(t0, "https://app.example/"))
		second := gzJSON(t, append(page(t0, "https://app.example/"), later(t0+100)...))
		e.upload("key=pk_one&session="+s+"&seq=0", first, http.StatusAccepted)
		e.upload("key=pk_one&session="+s+"&seq=0", second, http.StatusAccepted)
		e.upload("key=pk_one&session="+s+"&seq=0", second, http.StatusAccepted)

		d := e.detail("p1", s)
		if d.Chunks != 1 || d.Bytes != int64(len(second)) || len(d.Items) != 1 || d.Items[0].LastTs != t0+1000 {
			t.Fatalf("after repeats: %+v", d)
		}
		res := e.do("GET", "/api/projects/p1/monitoring/replays/"+s+"/chunks/0", nil, raw)
		if res.status != http.StatusOK || !bytes.Equal(res.body, second) {
			t.Fatalf("chunk: status %d, %d bytes, want the second upload's %d", res.status, len(res.body), len(second))
		}
		if got := e.blobs("replays/p1/" + s + "/"); !slices.Equal(got, []string{"replays/p1/" + s + "/000000.json.gz"}) {
			t.Fatalf("blobs = %v", got)
		}
	})
}

func TestChunkIsServedAsGzip(t *testing.T) {
	each(t, Options{}, func(t *testing.T, e *env) {
		const s = "sess-cccccccc"
		t0 := e.clock.Now().UnixMilli()
		events := page(t0, "https://app.example/")
		body := gzJSON(t, events)
		e.upload("key=pk_one&session="+s+"&seq=0", body, http.StatusAccepted)

		res := e.do("GET", "/api/projects/p1/monitoring/replays/"+s+"/chunks/0", nil, raw)
		if res.status != http.StatusOK || res.header.Get("Content-Encoding") != "gzip" ||
			res.header.Get("Content-Type") != "application/json" || !bytes.Equal(res.body, body) {
			t.Fatalf("raw chunk: %d %v, %d bytes", res.status, res.header, len(res.body))
		}
		// A client that asked for gzip reads the events, as a browser does.
		res = e.do("GET", "/api/projects/p1/monitoring/replays/"+s+"/chunks/0", nil, http.DefaultClient)
		var got []ev
		if err := json.Unmarshal(res.body, &got); err != nil || len(got) != len(events) {
			t.Fatalf("decoded chunk: %v, %d events: %s", err, len(got), res.body)
		}

		for _, path := range []string{
			"/api/projects/p1/monitoring/replays/" + s + "/chunks/1",
			"/api/projects/p1/monitoring/replays/" + s + "/chunks/x",
			"/api/projects/p1/monitoring/replays/sess-nothere",
			"/api/projects/p2/monitoring/replays/" + s,
			"/api/projects/p2/monitoring/replays/" + s + "/chunks/0",
			"/api/projects/p3/monitoring/replays/" + s, // no such project, or not yours
			"/api/projects/p3/monitoring/replays",
		} {
			if res := e.do("GET", path, nil, http.DefaultClient); res.status != http.StatusNotFound {
				t.Errorf("GET %s: %d %s, want 404", path, res.status, res.body)
			}
		}
	})
}

func TestBadChunksAreRefused(t *testing.T) {
	each(t, Options{MaxChunkBytes: 64 << 10, MaxDecodedBytes: 256 << 10}, func(t *testing.T, e *env) {
		const s = "sess-dddddddd"
		t0 := e.clock.Now().UnixMilli()
		good := gzJSON(t, page(t0, "https://app.example/"))
		e.upload("key=pk_one&session="+s+"&seq=0", good, http.StatusAccepted)

		huge := gz(t, []byte(`[{"type":3,"timestamp":1,"data":{"text":"`+strings.Repeat("a", 300<<10)+`"}}]`))
		noisy := []byte(noise(70 << 10))
		cases := []struct {
			name   string
			body   []byte
			status int
			code   string
		}{
			{"not gzip", []byte(`[{"type":2,"timestamp":1}]`), 400, "bad_chunk"},
			{"empty body", nil, 400, "bad_chunk"},
			{"not JSON", gz(t, []byte("hello")), 400, "bad_chunk"},
			{"an object", gzJSON(t, ev{"type": 2, "timestamp": 1}), 400, "bad_chunk"},
			{"no events", gz(t, []byte("[]")), 400, "bad_chunk"},
			{"not objects", gz(t, []byte("[1,2]")), 400, "bad_chunk"},
			{"no timestamp", gz(t, []byte(`[{"type":2}]`)), 400, "bad_chunk"},
			{"type a string", gz(t, []byte(`[{"type":"2","timestamp":1}]`)), 400, "bad_chunk"},
			{"type a fraction", gz(t, []byte(`[{"type":2.5,"timestamp":1}]`)), 400, "bad_chunk"},
			{"unclosed array", gz(t, []byte(`[{"type":2,"timestamp":1}`)), 400, "bad_chunk"},
			{"two arrays", gz(t, []byte(`[{"type":2,"timestamp":1}][]`)), 400, "bad_chunk"},
			{"cut gzip", good[:len(good)-6], 400, "bad_chunk"},
			{"decodes too large", huge, 400, "bad_chunk"},
			{"too large", noisy, 413, "payload_too_large"},
		}
		for _, c := range cases {
			res := e.upload("key=pk_one&session="+s+"&seq=1", c.body, c.status)
			if res.code() != c.code {
				t.Errorf("%s: code %q, want %q", c.name, res.code(), c.code)
			}
		}
		// A damaged checksum is caught at the stream's end.
		bad := bytes.Clone(good)
		bad[len(bad)-8] ^= 0xff
		if res := e.upload("key=pk_one&session="+s+"&seq=0", bad, 400); res.code() != "bad_chunk" {
			t.Errorf("bad checksum: %s", res.body)
		}

		d := e.detail("p1", s)
		if d.Chunks != 1 || d.Bytes != int64(len(good)) || len(d.Items) != 1 || len(d.Missing) != 0 {
			t.Fatalf("after refusals: %+v", d)
		}
		res := e.do("GET", "/api/projects/p1/monitoring/replays/"+s+"/chunks/0", nil, raw)
		if !bytes.Equal(res.body, good) {
			t.Fatal("the good chunk changed")
		}
	})
}

func TestUploadRequests(t *testing.T) {
	each(t, Options{}, func(t *testing.T, e *env) {
		body := gzJSON(t, page(e.clock.Now().UnixMilli(), "https://app.example/"))
		cases := []struct {
			query  string
			status int
			code   string
		}{
			{"session=sess-eeeeeeee&seq=0", 401, "unknown_key"},
			{"key=pk_nope&session=sess-eeeeeeee&seq=0", 401, "unknown_key"},
			{"scope=platform&session=sess-eeeeeeee&seq=0", 400, "replay_off"},
			{"key=pk_one&session=short&seq=0", 400, "bad_session"},
			{"key=pk_one&session=sess-eeee/eeee&seq=0", 400, "bad_session"},
			{"key=pk_one&session=sess-eeeeeeee", 400, "bad_seq"},
			{"key=pk_one&session=sess-eeeeeeee&seq=-1", 413, "replay_full"},
			{"key=pk_one&session=sess-eeeeeeee&seq=2000", 413, "replay_full"},
		}
		for _, c := range cases {
			if res := e.upload(c.query, body, c.status); res.code() != c.code {
				t.Errorf("%s: code %q, want %q", c.query, res.code(), c.code)
			}
		}
		if got := e.list("p1", "range=30d"); len(got) != 0 {
			t.Fatalf("refused uploads listed: %+v", got)
		}
		if res := e.do("GET", "/api/projects/p1/monitoring/replays?range=2h", nil, http.DefaultClient); res.status != 400 || res.code() != "bad_range" {
			t.Fatalf("range=2h: %d %s", res.status, res.body)
		}

		// Deployed apps post from their own origin.
		req, _ := http.NewRequest("OPTIONS", e.url+"/api/monitoring/replay?key=pk_one", nil)
		req.Header.Set("Origin", "https://app.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		pre, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		pre.Body.Close()
		if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Fatalf("preflight: %d %v", pre.StatusCode, pre.Header)
		}
		res := e.upload("key=pk_one&session=sess-eeeeeeee&seq=0", body, http.StatusAccepted)
		if res.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("upload answer without CORS: %v", res.header)
		}
	})
}

func TestSessionLimits(t *testing.T) {
	each(t, Options{MaxSessionChunks: 3, MaxSessionBytes: 2000}, func(t *testing.T, e *env) {
		t0 := e.clock.Now().UnixMilli()
		for seq := range 3 {
			e.upload(fmt.Sprintf("key=pk_one&session=sess-ffffffff&seq=%d", seq), gzJSON(t, later(t0+int64(seq))), http.StatusAccepted)
		}
		if res := e.upload("key=pk_one&session=sess-ffffffff&seq=3", gzJSON(t, later(t0)), 413); res.code() != "replay_full" {
			t.Fatalf("a fourth chunk: %s", res.body)
		}
		// A full session still takes a retried upload of a seq it holds.
		e.upload("key=pk_one&session=sess-ffffffff&seq=1", gzJSON(t, later(t0+5)), http.StatusAccepted)

		big := gzJSON(t, page(t0, "https://app.example/"+noise(1500)))
		e.upload("key=pk_one&session=sess-gggggggg&seq=0", big, http.StatusAccepted)
		if res := e.upload("key=pk_one&session=sess-gggggggg&seq=1", big, 413); res.code() != "replay_full" {
			t.Fatalf("over the bytes: %s", res.body)
		}
		if d := e.detail("p1", "sess-gggggggg"); d.Chunks != 1 || d.Bytes != int64(len(big)) {
			t.Fatalf("after a full refusal: %+v", d)
		}
	})
}

func TestRateLimit(t *testing.T) {
	each(t, Options{ChunksPerSecond: 0.01, Burst: 2}, func(t *testing.T, e *env) {
		body := gzJSON(t, later(e.clock.Now().UnixMilli()))
		e.upload("key=pk_one&session=sess-hhhhhhhh&seq=0", body, http.StatusAccepted)
		e.upload("key=pk_one&session=sess-hhhhhhhh&seq=1", body, http.StatusAccepted)
		res := e.upload("key=pk_one&session=sess-hhhhhhhh&seq=2", body, http.StatusTooManyRequests)
		if res.code() != "rate_limited" || res.header.Get("Retry-After") == "" || res.header.Get("Retry-After") == "0" {
			t.Fatalf("over the limit: %v %s", res.header, res.body)
		}
		// Another project has its own budget.
		e.upload("key=pk_two&session=sess-hhhhhhhh&seq=0", body, http.StatusAccepted)
		if d := e.detail("p1", "sess-hhhhhhhh"); d.Chunks != 2 {
			t.Fatalf("the refused chunk was kept: %+v", d)
		}
	})
}

func TestRetentionAndDropScope(t *testing.T) {
	each(t, Options{Retention: 48 * time.Hour}, func(t *testing.T, e *env) {
		t0 := e.clock.Now().UnixMilli()
		for seq := range 2 {
			e.upload(fmt.Sprintf("key=pk_one&session=sess-old00000&seq=%d", seq), gzJSON(t, later(t0)), http.StatusAccepted)
		}
		e.clock.Add(36 * time.Hour)
		e.upload("key=pk_one&session=sess-new00000&seq=0", gzJSON(t, later(t0)), http.StatusAccepted)
		e.upload("key=pk_two&session=sess-two00000&seq=0", gzJSON(t, later(t0)), http.StatusAccepted)
		e.clock.Add(24 * time.Hour)

		if err := e.svc.Retain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if res := e.do("GET", "/api/projects/p1/monitoring/replays/sess-old00000", nil, http.DefaultClient); res.status != 404 {
			t.Fatalf("old session after retention: %d %s", res.status, res.body)
		}
		if got := e.blobs("replays/p1/sess-old00000/"); len(got) != 0 {
			t.Fatalf("old blobs after retention: %v", got)
		}
		if got := e.list("p1", "range=30d"); len(got) != 1 || got[0].ID != "sess-new00000" {
			t.Fatalf("after retention p1 lists %+v", got)
		}
		if got := e.list("p1", "range=1h"); len(got) != 0 {
			t.Fatalf("range=1h lists a session a day quiet: %+v", got)
		}

		if err := e.svc.DropScope(context.Background(), "p1"); err != nil {
			t.Fatal(err)
		}
		if got := e.blobs("replays/"); !slices.Equal(got, []string{"replays/p2/sess-two00000/000000.json.gz"}) {
			t.Fatalf("blobs after dropping p1: %v", got)
		}
		if got := e.list("p1", "range=30d"); len(got) != 0 {
			t.Fatalf("p1 after its drop lists %+v", got)
		}
		if got := e.list("p2", "range=30d"); len(got) != 1 {
			t.Fatalf("p2 after p1's drop lists %+v", got)
		}
	})
}

func TestRunEndsWithContext(t *testing.T) {
	each(t, Options{}, func(t *testing.T, e *env) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.svc.Run(ctx); close(done) }()
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	})
}

func FuzzInspect(f *testing.F) {
	for _, s := range []string{`[{"type":4,"timestamp":1,"data":{"href":"https://a.b/c?d"}},{"type":2,"timestamp":2}]`,
		`[]`, `[{"type":2}]`, `{"a":1}`, `[{"type":1e400,"timestamp":1}]`, `[{"type":3,"timestamp":-1}]`} {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		info, err := inspect(in, 1<<20)
		if err == nil && (info.first > info.last || info.first < 0) {
			t.Fatalf("accepted with times %d..%d", info.first, info.last)
		}
		if err != nil && !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("refused with %v, want bad_chunk", err)
		}
	})
}
