package run_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// TestTemplates creates a project from each runnable template, runs it in
// the sandbox (installing its dependencies from the registry) and checks
// that its preview shows what the template's page really shows.
func TestTemplates(t *testing.T) {
	testserver.NeedSandbox(t)
	if testing.Short() {
		t.Skip("installs dependencies from the registry")
	}
	s := testserver.New(t, testdb.Engines(t)[0])

	for _, tc := range []struct {
		template string
		wait     time.Duration // for the preview to answer, install included
		check    func(t *testing.T, app *previewClient)
		after    func(t *testing.T, c *testserver.Client, projectID string)
	}{
		{
			template: "go", wait: 4 * time.Minute, // the first build compiles the standard library
			check: func(t *testing.T, app *previewClient) {
				app.want(t, "/", 200, "<h1>Hello from Go</h1>")
				app.want(t, "/api/hello?name=E-Code", 200, `{"message":"Hello, E-Code!"}`)
				app.want(t, "/health", 200, `"status":"ok"`)
			},
		},
		{
			template: "node", wait: time.Minute,
			check: func(t *testing.T, app *previewClient) {
				app.want(t, "/hi", 200, "<h1>Hello from Node.js</h1>", "You asked for /hi")
			},
		},
		{
			template: "python", wait: time.Minute,
			check: func(t *testing.T, app *previewClient) {
				app.want(t, "/hi", 200, "<h1>Hello from Python</h1>", "You asked for /hi")
			},
		},
		{
			template: "html", wait: time.Minute,
			check: func(t *testing.T, app *previewClient) {
				app.want(t, "/", 200, "<h1>Hello from E-Code</h1>", `src="script.js"`)
				app.want(t, "/style.css", 200, "background")
			},
		},
		{
			template: "express-api", wait: 3 * time.Minute,
			check: func(t *testing.T, app *previewClient) {
				app.want(t, "/health", 200, `"status":"ok"`)
				app.want(t, "/api/notes", 200, `{"notes":[],"count":0}`)
				app.want(t, "/api/notes/missing", 404, `"code":"not_found"`)
			},
			after: func(t *testing.T, c *testserver.Client, projectID string) {
				start := time.Now()
				res := execIn(t, c, projectID, map[string]any{"command": "npm test", "timeoutSec": 300})
				if res.ExitCode != 0 || !strings.Contains(res.Stdout, "# fail 0") {
					t.Fatalf("npm test: %+v", res)
				}
				t.Logf("npm test passed in %s", time.Since(start).Round(time.Millisecond))
			},
		},
		{
			template: "react-dashboard", wait: 3 * time.Minute,
			check: func(t *testing.T, app *previewClient) {
				app.want(t, "/", 200, "<title>React Dashboard</title>", `src="/src/main.tsx"`)
				// Vite compiles the TypeScript and serves the pre-bundled chart library.
				app.want(t, "/src/App.tsx", 200, "Revenue vs. expenses", "react-chartjs-2")
				body := app.want(t, "/src/chartSetup.ts", 200, "ChartJS.register(")
				dep := regexp.MustCompile(`/node_modules/\.vite/deps/chart_+js\.js[^"']*`).FindString(body)
				if dep == "" {
					t.Fatalf("chartSetup.ts does not import the optimized chart.js: %s", body)
				}
				app.want(t, dep, 200, "Chart")
			},
		},
		{
			template: "nextjs-blog", wait: 5 * time.Minute,
			check: func(t *testing.T, app *previewClient) {
				home := app.want(t, "/", 200, "Welcome to my blog", "A tour of Markdown", "Hello, world", `href="/posts/markdown-tour"`)
				app.want(t, "/posts/markdown-tour", 200, "<blockquote>", "Simplicity is prerequisite for reliability", "<h2>Lists</h2>")
				app.want(t, "/posts/no-such-post", 404, "There is no such post")
				// The page's own scripts load from the preview host (allowedDevOrigins).
				script := regexp.MustCompile(`/_next/static/[^"']+\.js`).FindString(home)
				if script == "" {
					t.Fatalf("no script on the home page: %s", home)
				}
				app.header = http.Header{"Origin": {"http://" + app.host}, "Sec-Fetch-Mode": {"cors"}, "Sec-Fetch-Site": {"same-origin"}}
				app.want(t, script, 200)
			},
		},
	} {
		t.Run(tc.template, func(t *testing.T) {
			t.Parallel()
			c := s.SignUp(t, "user-"+tc.template)
			var out struct{ Project testserver.Project }
			c.Post(t, "/api/projects", map[string]string{"name": "My " + tc.template, "template": tc.template, "visibility": "public"}).
				WantStatus(t, http.StatusCreated).Decode(t, &out)
			p := out.Project
			if p.Visibility != "public" {
				t.Fatalf("project %+v", p)
			}

			start := time.Now()
			r := startRun(t, c, p.ID)
			app := waitPreview(t, s, c, p.ID, r.ID, tc.wait)
			t.Logf("preview up in %s", time.Since(start).Round(time.Millisecond))
			tc.check(t, app)
			t.Logf("pages checked in %s", time.Since(start).Round(time.Millisecond))
			if tc.after != nil {
				tc.after(t, c, p.ID)
			}
			c.Post(t, "/api/projects/"+p.ID+"/stop", nil).WantStatus(t, 204)
		})
	}
}

// previewClient fetches pages of a running app through the platform's
// preview proxy, by Host header.
type previewClient struct {
	s      *testserver.Server
	c      *testserver.Client
	host   string
	header http.Header
	// until: how long a page may keep failing (dev servers compile on the
	// first request; the proxy answers 502 until the app listens).
	until time.Time
	// for the console output when something fails
	projectID, runID string
}

func (a *previewClient) get(path string) (int, string, error) {
	req, _ := http.NewRequest("GET", a.s.URL+path, nil)
	req.Host = a.host
	for k, v := range a.header {
		req.Header[k] = v
	}
	client := &http.Client{Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

// want fetches path until it answers status, then checks that the body
// holds every one of texts. It returns the body.
func (a *previewClient) want(t *testing.T, path string, status int, texts ...string) string {
	t.Helper()
	for {
		code, body, err := a.get(path)
		if err == nil && code == status {
			for _, want := range texts {
				if !strings.Contains(body, want) {
					t.Fatalf("GET %s: no %q in %s", path, want, clip(body))
				}
			}
			return body
		}
		if time.Now().After(a.until) {
			t.Fatalf("GET %s: %d %v %s\nconsole:\n%s", path, code, err, clip(body), runOutput(t, a.s, a.c, a.projectID, a.runID))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitPreview waits for the run to have a preview URL, failing with the
// console output if it stops first or takes longer than wait.
func waitPreview(t *testing.T, s *testserver.Server, c *testserver.Client, projectID, runID string, wait time.Duration) *previewClient {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		r := getRun(t, c, projectID, runID)
		if r.PreviewURL != nil {
			u, err := url.Parse(*r.PreviewURL)
			if err != nil {
				t.Fatal(err)
			}
			return &previewClient{s: s, c: c, host: u.Host, until: deadline, projectID: projectID, runID: runID}
		}
		if r.Status != "starting" && r.Status != "building" && r.Status != "running" || time.Now().After(deadline) {
			t.Fatalf("run %+v never got a preview\nconsole:\n%s", r, runOutput(t, s, c, projectID, runID))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// runOutput is what the run has written to its console so far.
func runOutput(t *testing.T, s *testserver.Server, c *testserver.Client, projectID, runID string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/projects/"+projectID+"/runs/"+runID+"/output", nil)
	req.Header.Set("Cookie", c.CookieHeader(t))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body) // a live run streams until the timeout
	return clip(string(b))
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:1000] + "\n…\n" + s[len(s)-3000:]
	}
	return s
}
