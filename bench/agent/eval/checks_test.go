package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ecode/bench/agent/evals"
)

// app is a stand-in for a built app: a link shortener that spaces its JSON
// the way Python does.
func app(t *testing.T) string {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/links", func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "app--amy.localhost:1" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "wrong host or type", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"link": {"code": 7, "url": "https://example.com/"}, "ratio": 2.0}`))
	})
	mux.HandleFunc("GET /r/7", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://example.com/", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRunChecks(t *testing.T) {
	p := newPreview(app(t), "app--amy.localhost:1")
	ctx := context.Background()
	create := evals.Check{Method: "POST", Path: "/api/links", Body: `{}`, Status: 201, Contains: []string{`"ratio":2`, `"URL": "https`}, Capture: []string{"code"}}
	redirect := evals.Check{Path: "/r/{code}", Status: 302, Headers: map[string]string{"location": "EXAMPLE.com"}}
	if why := runChecks(ctx, p, []evals.Check{create, redirect}, 0); why != "" {
		t.Fatalf("checks that hold failed: %s", why)
	}
	for _, tc := range []struct {
		check evals.Check
		want  string
	}{
		{evals.Check{Path: "/api/links"}, "check 1, GET /api/links: status 405, want 200"},
		{evals.Check{Method: "POST", Path: "/api/links", Body: `{}`, Status: 201, Contains: []string{"missing"}}, `the body lacks "missing"`},
		{evals.Check{Method: "POST", Path: "/api/links", Body: `{}`, Status: 201, Excludes: []string{"EXAMPLE"}}, `the body holds "EXAMPLE"`},
		{evals.Check{Method: "POST", Path: "/api/links", Body: `{}`, Status: 201, Capture: []string{"id"}}, `no "id" in the JSON body`},
		{evals.Check{Path: "/r/7", Status: 302, Headers: map[string]string{"Location": "go.dev"}}, `header Location is "https://example.com/"`},
	} {
		start := time.Now()
		if why := runChecks(ctx, p, []evals.Check{tc.check}, 100*time.Millisecond); !strings.Contains(why, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.check, why, tc.want)
		}
		if time.Since(start) < 400*time.Millisecond {
			t.Errorf("%+v failed without trying again", tc.check)
		}
	}
}
