package deploy

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
)

func TestInsertSnippet(t *testing.T) {
	for _, c := range []struct{ page, want string }{
		{"<html><HEAD><title>x</title></HEAD><body>b</body>", "<html><HEAD><title>x</title>S</HEAD><body>b</body>"},
		{"<body class=a>b</body>", "<body class=a>Sb</body>"},
		{"plain", "Splain"},
	} {
		if got := string(insertSnippet([]byte(c.page), []byte("S"))); got != c.want {
			t.Errorf("insertSnippet(%q) = %q, want %q", c.page, got, c.want)
		}
	}
}

// The edge's injector in front of a reverse proxy, as an app deployment
// has it: a streamed (chunked) page gets the script and a right length;
// a compressed one too, once the transport has undone it; another type
// passes untouched.
func TestInjectorThroughProxy(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			if r.Header.Get("If-None-Match") != "" {
				t.Errorf("the app was asked with %v", r.Header)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("ETag", `"v1"`)
			io.WriteString(w, "<html><head><title>t</title></head>")
			w.(http.Flusher).Flush()
			io.WriteString(w, "<body>hello</body></html>")
		case "/data":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"a":1}`)
		case "/gz":
			// The edge's transport asks for gzip itself and undoes it.
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			io.WriteString(zw, "<head></head>zipped")
			zw.Close()
		}
	}))
	defer app.Close()
	target, _ := url.Parse(app.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !injectable(r) {
			proxy.ServeHTTP(w, r)
			return
		}
		inj := &injector{ResponseWriter: w, snippet: []byte(`<script src="/sdk/monitor.js"></script>`)}
		proxy.ServeHTTP(inj, forInjection(r))
		inj.finish()
	}))
	defer edge.Close()
	get := func(path string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, edge.URL+path, nil)
		req.Header.Set("Accept", "text/html,*/*")
		req.Header.Set("If-None-Match", `"v1"`)
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get("/page")
	want := `<html><head><title>t</title><script src="/sdk/monitor.js"></script></head><body>hello</body></html>`
	if res.StatusCode != http.StatusOK || body != want {
		t.Fatalf("page: %d %q, want %q", res.StatusCode, body, want)
	}
	if res.ContentLength != int64(len(want)) || res.Header.Get("ETag") != "" {
		t.Errorf("page headers: length %d, etag %q", res.ContentLength, res.Header.Get("ETag"))
	}
	if _, body := get("/data"); body != `{"a":1}` {
		t.Errorf("json changed: %q", body)
	}
	if _, body := get("/gz"); body != `<head><script src="/sdk/monitor.js"></script></head>zipped` {
		t.Errorf("a compressed page: %q", body)
	}
}
