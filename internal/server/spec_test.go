package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"ecode/internal/testserver"
)

// spec checks exchanges with the server against docs/openapi.yaml, so that
// the document clients are generated from (web/src/lib/schema.gen.ts) says
// what the server really answers.
type spec struct {
	router  routers.Router
	errBody *openapi3.Schema // {"error":{"code","message"}}
}

func loadSpec(t testing.TB) *spec {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	doc.Servers = nil // match any host: a test server listens on a port of its own
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route openapi.yaml: %v", err)
	}
	return &spec{router: router, errBody: doc.Components.Schemas["Error"].Value}
}

// check returns what in one exchange disagrees with the spec: a request the
// spec refuses that the server accepted, a status the operation does not
// document, a JSON body where it documents none, or one that does not match
// its schema. Paths outside the spec (the UI, previews) are not its business.
func (sp *spec) check(ctx context.Context, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	route, params, err := sp.router.FindRoute(req)
	if err != nil {
		return nil
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && status < 400 {
		return fmt.Errorf("answered %d to a request the spec refuses: %w", status, err)
	}
	ctype, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	isJSON := ctype == "application/json" && len(body) > 0
	if status == http.StatusInternalServerError {
		return fmt.Errorf("answered 500: %s", trim(body))
	}
	if status >= 400 && route.Operation.Responses.Status(status) == nil {
		// The one error table may refuse any request (401 before anything,
		// 400 for a malformed body, 413, 429...), as the spec's description
		// says once: the body must be the error shape.
		var v any
		if err := json.Unmarshal(body, &v); !isJSON || err != nil {
			return fmt.Errorf("answered %d without a JSON error: %s", status, trim(body))
		}
		if err := sp.errBody.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			return fmt.Errorf("answered %d with a body that is not the error shape: %w", status, err)
		}
		return nil
	}
	if doc := route.Operation.Responses.Status(status); isJSON && doc != nil && len(doc.Value.Content) == 0 {
		return fmt.Errorf("answered %d with a JSON body the spec does not describe: %s", status, trim(body))
	}
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: !isJSON},
	})
	if err != nil {
		return fmt.Errorf("answer %d does not match the spec: %w; body: %s", status, err, trim(body))
	}
	return nil
}

// checkSpec checks every exchange with s against the spec until t ends,
// failing t once per operation and status that disagrees. Call it before
// the first request. Socket upgrades pass unchecked.
func checkSpec(t *testing.T, s *testserver.Server) {
	t.Helper()
	sp := loadSpec(t)
	var mu sync.Mutex
	reported := map[string]bool{}
	next := s.Config.Handler
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		reqBody, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		asSent := r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		err = sp.check(r.Context(), asSent, reqBody, rec.status, w.Header(), rec.body.Bytes())
		if err == nil {
			return
		}
		key := fmt.Sprintf("%s %s %d", r.Method, pathPattern(sp, asSent), rec.status)
		mu.Lock()
		defer mu.Unlock()
		if !reported[key] {
			reported[key] = true
			t.Errorf("%s %s: %v", r.Method, r.URL.RequestURI(), err)
		}
	})
}

// pathPattern is the spec's path the request matched, to report each
// disagreement once however many ids it is met with.
func pathPattern(sp *spec, r *http.Request) string {
	if route, _, err := sp.router.FindRoute(r); err == nil {
		return route.Path
	}
	return r.URL.Path
}

// recorder passes a response on while keeping a copy of it.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach flushing and deadlines.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestSpecCheck shows the check catches what it is for, so that the route
// tests passing through it mean something.
func TestSpecCheck(t *testing.T) {
	sp := loadSpec(t)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		name, method, path, reqBody string
		status                      int
		body                        string
		wantErr                     string
	}{
		{"a matching answer", "GET", "/api/auth/me", "", 200,
			`{"user":{"id":"u1","username":"ann","email":"ann@example.com","createdAt":1,"hasPassword":true,"requireKey":false,"isAdmin":false}}`, ""},
		{"an error body", "GET", "/api/auth/me", "", 401, `{"error":{"code":"unauthenticated","message":"Log in."}}`, ""},
		{"a field of the wrong type", "GET", "/api/auth/me", "", 200,
			`{"user":{"id":7,"username":"ann","email":"ann@example.com","createdAt":1,"hasPassword":true,"requireKey":false,"isAdmin":false}}`, "does not match"},
		{"a required field missing", "GET", "/api/auth/me", "", 200, `{"user":{"id":"u1"}}`, "does not match"},
		{"an error without its code", "GET", "/api/auth/me", "", 401, `{"error":{"message":"Log in."}}`, "does not match"},
		{"an error any route may answer", "GET", "/api/auth/me", "", 429, `{"error":{"code":"rate_limited","message":"Wait."}}`, ""},
		{"an error of another shape", "GET", "/api/auth/me", "", 429, `{"message":"Wait."}`, "not the error shape"},
		{"an undocumented success", "GET", "/api/auth/me", "", 201, `{"user":null}`, "does not match"},
		{"a server error", "GET", "/api/auth/me", "", 500, `{"error":{"code":"internal","message":"Oops."}}`, "answered 500"},
		{"a body where none is documented", "POST", "/api/auth/logout", "", 204, `{"ok":true}`, "does not describe"},
		{"an unknown field accepted", "POST", "/api/tokens", `{"nam":"x"}`, 201, `{"id":"t","token":"ecode_x"}`, "refuses"},
		{"an unknown field refused", "POST", "/api/tokens", `{"nam":"x"}`, 400, `{"error":{"code":"invalid_json","message":"Unknown field."}}`, ""},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.reqBody))
		if c.reqBody != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		err := sp.check(context.Background(), req, []byte(c.reqBody), c.status, jsonHeader, []byte(c.body))
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.wantErr)
		}
	}
	if err := sp.check(context.Background(), httptest.NewRequest("GET", "/@ann/blog", nil), nil, 200, http.Header{}, nil); err != nil {
		t.Errorf("a UI route was checked: %v", err)
	}
}

// TestAccountRoutesMatchSpec calls, as one person with something to show,
// the routes on their own account and the links they open, which the route
// tests call only as anonymous: their answers must match the spec too.
func TestAccountRoutesMatchSpec(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		checkSpec(t, s)
		ann := s.SignUp(t, "ann")
		bob := s.SignUp(t, "bob")
		s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "ann", "password": "password-ann"}).WantStatus(t, 200)
		p := ann.CreateProject(t, "Shown")
		ann.Put(t, "/api/projects/"+p.ID+"/files/src/main.js", "console.log('shown')\n").WantStatus(t, 204)
		ann.Get(t, "/api/projects/"+p.ID+"/search?q=shown").WantStatus(t, 200)
		ann.Post(t, "/api/projects/"+p.ID+"/checkpoints", map[string]string{"message": "first"}).WantStatus(t, 201)
		ann.Post(t, "/api/tokens", map[string]any{"name": "ci", "expiresInDays": 30}).WantStatus(t, 201)
		ann.Post(t, "/api/user/ssh-key", nil).WantStatus(t, 201)
		ann.Post(t, "/api/teams", map[string]string{"name": "crew", "displayName": "The Crew"}).WantStatus(t, 201)

		var inv struct{ Invite struct{ URL string } }
		ann.Post(t, "/api/projects/"+p.ID+"/invites", map[string]any{"role": "viewer", "expiresInHours": 1}).WantStatus(t, 201).Decode(t, &inv)
		token := strings.TrimPrefix(inv.Invite.URL, "/invite/")
		bob.Get(t, "/api/invites/"+token).WantStatus(t, 200)
		bob.Post(t, "/api/invites/"+token+"/accept", nil).WantStatus(t, 200)
		ann.Post(t, "/api/teams/crew/invites", map[string]any{"role": "member", "expiresInHours": 1}).WantStatus(t, 201).Decode(t, &inv)
		token = strings.TrimPrefix(inv.Invite.URL, "/team-invite/")
		bob.Get(t, "/api/team-invites/"+token).WantStatus(t, 200)
		bob.Post(t, "/api/team-invites/"+token+"/accept", nil).WantStatus(t, 200)

		for _, path := range []string{
			"/api/auth/me", "/api/auth/sessions", "/api/auth/identities", "/api/auth/providers", "/api/passkeys",
			"/api/tokens", "/api/user/ssh-key", "/api/user/audit", "/api/user/ai-usage", "/api/ai/status",
			"/api/templates", "/api/projects", "/api/teams", "/api/teams/crew/members", "/api/admin/audit",
			"/api/projects/" + p.ID + "/history", "/api/projects/" + p.ID + "/members",
		} {
			ann.Get(t, path).WantStatus(t, 200)
		}
		ann.Patch(t, "/api/auth/me", map[string]string{"username": "anne"}).WantStatus(t, 200)
		ann.Post(t, "/api/admin/audit/verify", nil).WantStatus(t, 200)
	})
}
