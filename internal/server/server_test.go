package server_test

import (
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"ecode/internal/httpx"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// public lists the routes anyone may call with success, and the routes that
// act only on the caller's own account.
var public = map[string]bool{
	"GET /api/monitoring/health":     true,
	"GET /metrics":                   true,
	"GET /api/templates":             true,
	"POST /api/auth/logout":          true,
	"GET /api/tokens":                true, // the caller's own
	"GET /api/projects":              true, // the caller's own
	"GET /api/auth/providers":        true, // the login page lists them
	"GET /api/auth/passkey":          true, // whether and where the sign-in page offers passkeys
	"POST /api/auth/passkey/begin":   true, // a login starts anonymous
	"OPTIONS /api/monitoring/event":  true, // CORS preflights of the keyed ingest routes
	"OPTIONS /api/monitoring/replay": true,
	"GET /lti/jwks":                  true, // the tool's public keys, which LMSs fetch
	"GET /.well-known/jwks.json":     true,
}

// TestEveryRouteAsksAccess walks the route table: no route lets a stranger
// or an anonymous caller see or change another user's private project.
func TestEveryRouteAsksAccess(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		checkSpec(t, s)
		victim := s.SignUp(t, "victim")
		p := victim.CreateProject(t, "Private Thing")
		victim.Put(t, "/api/projects/"+p.ID+"/files/a.txt", "precious").WantStatus(t, 204)
		var tok struct{ ID string }
		victim.Post(t, "/api/tokens", map[string]string{"name": "t"}).WantStatus(t, 201).Decode(t, &tok)

		callers := map[string]*testserver.Client{"anonymous": s.Anonymous(), "stranger": s.SignUp(t, "stranger")}
		for _, route := range s.App.Router.Routes() {
			method, path := httpx.SplitPattern(route)
			scoped := strings.Contains(path, "{")
			path = strings.NewReplacer("{id}", p.ID, "{path...}", "a.txt", "{owner}", "victim", "{slug}", p.Slug).Replace(path)
			if strings.HasPrefix(route, "DELETE /api/tokens/") {
				path = "/api/tokens/" + tok.ID
			}
			for who, c := range callers {
				res := c.Do(t, method, path, map[string]string{"path": "b.txt", "from": "a.txt", "to": "b.txt", "name": "x"})
				switch {
				case scoped && needs[route] != platform && res.StatusCode != 404 && res.StatusCode != 401 && res.StatusCode != 400:
					t.Errorf("%s %s as %s: status %d; want 404 (or 401) for another user's private project", method, path, who, res.StatusCode)
				case !scoped && !public[route] && who == "anonymous" && res.StatusCode != 401 && res.StatusCode/100 == 2:
					t.Errorf("%s as anonymous: status %d; routes that are not public need an account", route, res.StatusCode)
				}
			}
		}
		if got := victim.Get(t, "/api/projects/"+p.ID+"/files/a.txt").WantStatus(t, 200).Body; string(got) != "precious" {
			t.Fatalf("victim's file is now %q", got)
		}
		victim.Get(t, "/api/projects/"+p.ID).WantStatus(t, 200)
		var toks struct{ Tokens []struct{ ID string } }
		victim.Get(t, "/api/tokens").Decode(t, &toks)
		if len(toks.Tokens) != 1 {
			t.Fatal("victim's token was revoked by someone else")
		}
	})
}

// TestOpenAPIMatchesRoutes keeps docs/openapi.yaml and the router in step.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	raw, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, v := range ops {
			if method == "parameters" {
				continue
			}
			op, _ := v.(map[string]any)
			if op["summary"] == nil || op["responses"] == nil {
				t.Errorf("%s %s lacks a summary or responses", method, path)
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	s := testserver.New(t, testdb.Engines(t)[0])
	registered := map[string]bool{}
	for _, r := range s.App.Router.Routes() {
		registered[strings.ReplaceAll(r, "{path...}", "{path}")] = true
	}
	var missing, stale []string
	for r := range registered {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !registered[r] {
			stale = append(stale, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("openapi.yaml is out of step with the router:\n  undocumented: %v\n  documented but not served: %v", missing, stale)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		checkSpec(t, s)
		var h struct {
			Status string
			Checks map[string]struct{ Status, Error string }
		}
		res := s.Anonymous().Get(t, "/api/monitoring/health")
		res.Decode(t, &h)
		for _, name := range []string{"db", "disk", "runtime"} {
			if _, ok := h.Checks[name]; !ok {
				t.Fatalf("health lacks check %q: %s", name, res.Body)
			}
		}
		if h.Checks["db"].Status != "ok" || h.Checks["disk"].Status != "ok" {
			t.Fatalf("health: %s", res.Body)
		}
		if (res.StatusCode == 200) != (h.Status == "ok") || (h.Status == "ok") != (h.Checks["runtime"].Status == "ok") {
			t.Fatalf("health status %d with body %s", res.StatusCode, res.Body)
		}

		s.SignUp(t, "metro").Get(t, "/api/projects").WantStatus(t, 200)
		m := string(s.Anonymous().Get(t, "/metrics").WantStatus(t, 200).Body)
		for _, want := range []string{
			`ecode_http_requests_total{code="200",method="GET",route="GET /api/projects"} 1`,
			`ecode_http_request_duration_seconds_bucket{method="GET",route="GET /api/projects"`,
			"go_goroutines", "process_resident_memory_bytes",
		} {
			if !strings.Contains(m, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

func TestHealthNamesFailingCheck(t *testing.T) {
	s := testserver.New(t, testdb.Engines(t)[0])
	s.App.DB.Close()
	var h struct {
		Status  string
		Failing []string
	}
	s.Anonymous().Get(t, "/api/monitoring/health").WantStatus(t, http.StatusServiceUnavailable).Decode(t, &h)
	if h.Status != "fail" || len(h.Failing) == 0 || h.Failing[0] != "db" {
		t.Fatalf("health = %+v, want db failing", h)
	}
}

func TestUIRoutes(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		checkSpec(t, s)
		kim := s.SignUp(t, "kim")
		kim.CreateProject(t, "Hidden")
		for path, want := range map[string]int{"/": 200, "/login": 200, "/signup": 200, "/settings": 200, "/@kim/hidden": 200, "/nowhere": 404, "/@kim/none": 404} {
			res := kim.Get(t, path)
			if res.StatusCode != want || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("kim GET %s: %d %s, want %d html", path, res.StatusCode, res.Header.Get("Content-Type"), want)
			}
		}
		// A stranger is told the private project's page does not exist.
		s.SignUp(t, "lee").Get(t, "/@kim/hidden").WantStatus(t, 404)
		s.Anonymous().Get(t, "/@kim/hidden").WantStatus(t, 404)
		s.Anonymous().Get(t, "/api/nothing-here").WantError(t, 404, "not_found")
	})
}
