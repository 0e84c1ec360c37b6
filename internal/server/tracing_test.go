package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// A collector's OTLP/HTTP receiver gets a span per request, named by the
// route, in the trace the caller's traceparent started.
func TestTracesExportedOverOTLP(t *testing.T) {
	type span struct {
		name  string
		trace []byte
	}
	spans := make(chan span, 1000)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || err != nil || proto.Unmarshal(body, &req) != nil {
			t.Errorf("collector got %s %s (%s), %v", r.Method, r.URL.Path, r.Header.Get("Content-Type"), err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					spans <- span{sp.Name, sp.TraceId}
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	s := testserver.New(t, testdb.Engines(t)[0], testserver.WithOTLP(collector.URL))
	alice := s.SignUp(t, "alice")
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/projects/nope", nil)
	req.Header.Set("Cookie", alice.CookieHeader(t))
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	want := []byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case sp := <-spans:
			if sp.name == "GET /api/projects/{id}" && string(sp.trace) == string(want) {
				return
			}
		case <-deadline:
			t.Fatal("no span GET /api/projects/{id} in the caller's trace reached the collector")
		}
	}
}
