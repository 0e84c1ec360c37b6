package deploy_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"ecode/internal/store"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

type release struct {
	ID        string  `json:"id"`
	Number    int     `json:"number"`
	Commit    string  `json:"commit"`
	Target    string  `json:"target"`
	Status    string  `json:"status"`
	Error     *string `json:"error"`
	CreatedBy struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"createdBy"`
	BuildMs *int64 `json:"buildMs"`
	Live    bool   `json:"live"`
}

type overview struct {
	Deployment *struct {
		Target            string  `json:"target"`
		URL               string  `json:"url"`
		LiveReleaseID     string  `json:"liveReleaseId"`
		PreviousReleaseID *string `json:"previousReleaseId"`
	} `json:"deployment"`
	Releases []release `json:"releases"`
	Config   *struct {
		Target    string `json:"target"`
		Build     string `json:"build"`
		PublicDir string `json:"publicDir"`
		Serves    string `json:"serves"`
	} `json:"config"`
	ConfigError *string `json:"configError"`
}

// project makes a project of c's holding files.
func project(t testing.TB, c *testserver.Client, name string, files map[string]string) testserver.Project {
	t.Helper()
	p := c.CreateProject(t, name)
	for path, body := range files {
		c.Put(t, "/api/projects/"+p.ID+"/files/"+path, body).WantStatus(t, http.StatusNoContent)
	}
	return p
}

func deploy(t testing.TB, c *testserver.Client, projectID string) release {
	t.Helper()
	var out struct{ Release release }
	c.Post(t, "/api/projects/"+projectID+"/deployments", map[string]any{}).WantStatus(t, http.StatusAccepted).Decode(t, &out)
	return out.Release
}

// finish follows a release's log until it ends and returns the release
// and its log.
func finish(t testing.TB, c *testserver.Client, projectID, releaseID string) (release, string) {
	t.Helper()
	res := c.Get(t, "/api/projects/"+projectID+"/releases/"+releaseID+"/log").WantStatus(t, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("log content type %q", ct)
	}
	var log strings.Builder
	var rel release
	for ev := range strings.SplitSeq(string(res.Body), "\n\n") {
		if ev == "" {
			continue
		}
		lines := strings.Split(ev, "\n")
		var data []string
		for _, l := range lines[1:] {
			data = append(data, strings.TrimPrefix(l, "data: "))
		}
		switch lines[0] {
		case "event: log":
			log.WriteString(strings.Join(data, "\n"))
		case "event: status":
			if err := json.Unmarshal([]byte(strings.Join(data, "\n")), &rel); err != nil {
				t.Fatalf("status event %q: %v", data, err)
			}
		default:
			t.Fatalf("unexpected event %q", ev)
		}
	}
	if rel.ID != releaseID {
		t.Fatalf("log of %s ended without its status: %s", releaseID, res.Body)
	}
	return rel, log.String()
}

func state(t testing.TB, c *testserver.Client, projectID string) overview {
	t.Helper()
	var o overview
	c.Get(t, "/api/projects/"+projectID+"/deployment").WantStatus(t, http.StatusOK).Decode(t, &o)
	return o
}

// visit requests path of the deployment at host, as a browser would.
func visit(t testing.TB, s *testserver.Server, host, path string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// Ask for encodings ourselves, so the transport hands back the bytes.
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func host(p testserver.Project) string { return p.Slug + "--" + p.Owner + ".app.localhost" }

var bundle = "console.log('" + strings.Repeat("hello deployments ", 100) + "');\n"

// TestStaticDeploy deploys a built site and checks how it is served:
// ETag and 304, encodings, ranges, caching by kind, the SPA fallback, the
// custom 404, and what is never served.
func TestStaticDeploy(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		p := project(t, alice, "Site", map[string]string{
			"ecode.toml":                   "run = \"python3 -m http.server $PORT\"\n\n[deployment]\nbuild = \"mkdir -p dist && cp -r web/. dist/ && echo built > dist/built.txt && echo token=$API_TOKEN && echo ${#API_TOKEN} > dist/len.txt\"\npublicDir = \"dist\"\n",
			"web/index.html":               "<!doctype html><title>Hi</title><h1>hi</h1>",
			"web/404.html":                 "<h1>custom missing</h1>",
			"web/about.html":               "<h1>about</h1>",
			"web/assets/app-3f9a1b2c.js":   bundle,
			"web/assets/logo.svg":          "<svg xmlns='http://www.w3.org/2000/svg'></svg>",
			"web/.env":                     "TOKEN=never-served",
			"web/docs/index.html":          "<h1>docs</h1>",
			"web/assets/sub/notes.txt":     "plain",
			"web/assets/sub/big-index.txt": strings.Repeat("x", 10),
		})
		alice.Put(t, "/api/projects/"+p.ID+"/secrets/API_TOKEN", map[string]string{"value": "tok-1234567890abcdef"}).WantStatus(t, http.StatusNoContent)
		o := state(t, alice, p.ID)
		if o.Deployment != nil || len(o.Releases) != 0 || o.Config == nil || o.Config.Target != "static" || o.Config.PublicDir != "dist" {
			t.Fatalf("before the first deploy: %+v", o)
		}

		r := deploy(t, alice, p.ID)
		if r.Number != 1 || (r.Status != "queued" && r.Status != "building") || r.CreatedBy.Username != "alice" {
			t.Fatalf("new release: %+v", r)
		}
		r, log := finish(t, alice, p.ID, r.ID)
		if r.Status != "ready" || !r.Live || r.BuildMs == nil || len(r.Commit) != 40 {
			t.Fatalf("release: %+v\n%s", r, log)
		}
		if !strings.Contains(log, "$ mkdir -p dist") || !strings.Contains(log, "Release in place") ||
			strings.Contains(log, "tok-1234567890abcdef") || !strings.Contains(log, "token=*") {
			t.Fatalf("log: %q", log)
		}
		o = state(t, alice, p.ID)
		if o.Deployment == nil || o.Deployment.LiveReleaseID != r.ID || !strings.HasPrefix(o.Deployment.URL, "http://site--alice.app.localhost:") {
			t.Fatalf("deployment: %+v", o.Deployment)
		}

		// The release is the server's, read-only.
		dir := filepath.Join(s.App.Config.DataDir, "releases", p.ID, r.ID)
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if err == nil && (info.Mode() != 0o444 || info.Sys().(*syscall.Stat_t).Uid != uint32(os.Geteuid())) {
				t.Errorf("%s: %v owned by %d", path, info.Mode(), info.Sys().(*syscall.Stat_t).Uid)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		h := host(p)
		res, body := visit(t, s, h, "/", nil)
		if res.StatusCode != 200 || !strings.Contains(string(body), "<h1>hi</h1>") || res.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("/: %d %v %s", res.StatusCode, res.Header, body)
		}
		etag := res.Header.Get("ETag")
		if res, _ := visit(t, s, h, "/", map[string]string{"If-None-Match": etag}); etag == "" || res.StatusCode != 304 {
			t.Fatalf("revalidation with %q: %d", etag, res.StatusCode)
		}

		res, body = visit(t, s, h, "/assets/app-3f9a1b2c.js", nil)
		if res.StatusCode != 200 || string(body) != bundle || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			res.Header.Get("Vary") != "Accept-Encoding" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
			t.Fatalf("hashed asset: %d %v", res.StatusCode, res.Header)
		}
		res, body = visit(t, s, h, "/assets/app-3f9a1b2c.js", map[string]string{"Accept-Encoding": "gzip"})
		if res.Header.Get("Content-Encoding") != "gzip" || len(body) >= len(bundle) || unzip(t, body) != bundle {
			t.Fatalf("gzip: %v, %d bytes", res.Header, len(body))
		}
		res, body = visit(t, s, h, "/assets/app-3f9a1b2c.js", map[string]string{"Accept-Encoding": "gzip, br"})
		if res.Header.Get("Content-Encoding") != "br" || unbrotli(t, body) != bundle {
			t.Fatalf("brotli: %v", res.Header)
		}
		res, body = visit(t, s, h, "/assets/app-3f9a1b2c.js", map[string]string{"Range": "bytes=0-10"})
		if res.StatusCode != 206 || string(body) != bundle[:11] {
			t.Fatalf("range: %d %q", res.StatusCode, body)
		}
		if res, _ := visit(t, s, h, "/assets/logo.svg", nil); res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("unhashed asset: %v", res.Header)
		}

		// A page is found by its folder or by its name without .html.
		if res, body := visit(t, s, h, "/about", nil); res.StatusCode != 200 || !strings.Contains(string(body), "about") {
			t.Fatalf("/about: %d %s", res.StatusCode, body)
		}
		if res, _ := visit(t, s, h, "/docs", nil); res.StatusCode != 301 || res.Header.Get("Location") != "/docs/" {
			t.Fatalf("/docs: %d %v", res.StatusCode, res.Header)
		}
		// The single-page app gets its index for a page it routes itself...
		if res, body := visit(t, s, h, "/dashboard/42", map[string]string{"Accept": "text/html,*/*"}); res.StatusCode != 200 || !strings.Contains(string(body), "<h1>hi</h1>") {
			t.Fatalf("SPA fallback: %d %s", res.StatusCode, body)
		}
		// ... but a missing file is the site's own 404.
		if res, body := visit(t, s, h, "/missing.js", nil); res.StatusCode != 404 || !strings.Contains(string(body), "custom missing") {
			t.Fatalf("404.html: %d %s", res.StatusCode, body)
		}
		for _, path := range []string{"/.env", "/assets/", "/assets/sub", "/../ecode.toml", "/web/index.html"} {
			if res, body := visit(t, s, h, path, nil); res.StatusCode != 404 || strings.Contains(string(body), "never-served") {
				t.Errorf("%s: %d %s", path, res.StatusCode, body)
			}
		}
		if res, body := visit(t, s, h, "/built.txt", nil); res.StatusCode != 200 || !strings.HasPrefix(string(body), "built") {
			t.Errorf("what the build made: %d %s", res.StatusCode, body)
		}
		if _, body := visit(t, s, h, "/len.txt", nil); strings.TrimSpace(string(body)) != "20" {
			t.Errorf("the build's secret was %s bytes long, want 20", body)
		}
		if res, _ := visit(t, s, "nothing--alice.app.localhost", "/", nil); res.StatusCode != 404 {
			t.Errorf("unknown deployment: %d", res.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/", nil)
		req.Host = h
		if res, err := http.DefaultTransport.RoundTrip(req); err != nil || res.StatusCode != 405 {
			t.Errorf("POST to a static site: %v %v", res, err)
		}

		// A build that fails leaves the live release serving.
		cfg := map[string]any{"target": "static", "build": "echo boom && exit 3", "publicDir": "dist"}
		alice.Put(t, "/api/projects/"+p.ID+"/deployment/config", cfg).WantStatus(t, http.StatusOK)
		bad, log := finish(t, alice, p.ID, deploy(t, alice, p.ID).ID)
		if bad.Status != "failed" || bad.Error == nil || !strings.Contains(*bad.Error, "exited with code 3") || !strings.Contains(log, "boom") || bad.Live {
			t.Fatalf("failed build: %+v\n%s", bad, log)
		}
		if o := state(t, alice, p.ID); o.Deployment.LiveReleaseID != r.ID {
			t.Fatalf("a failed build went live: %+v", o.Deployment)
		}
		if res, body := visit(t, s, h, "/", nil); res.StatusCode != 200 || !strings.Contains(string(body), "<h1>hi</h1>") {
			t.Fatalf("after a failed build: %d %s", res.StatusCode, body)
		}
		alice.Post(t, "/api/projects/"+p.ID+"/releases/"+bad.ID+"/promote", nil).WantError(t, http.StatusConflict, "release_not_ready")
	})
}

// TestPromote rolls back to an older release and undoes it.
func TestPromote(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		bob := s.SignUp(t, "bob")
		p := project(t, bob, "Pages", map[string]string{"index.html": "v1"})
		v1, _ := finish(t, bob, p.ID, deploy(t, bob, p.ID).ID)
		bob.Put(t, "/api/projects/"+p.ID+"/files/index.html", "v2").WantStatus(t, http.StatusNoContent)
		v2, _ := finish(t, bob, p.ID, deploy(t, bob, p.ID).ID)
		if v1.Status != "ready" || v2.Status != "ready" || v1.Commit == v2.Commit {
			t.Fatalf("releases: %+v %+v", v1, v2)
		}
		serves := func(want string) {
			t.Helper()
			if _, body := visit(t, s, host(p), "/", nil); string(body) != want {
				t.Fatalf("serves %q, want %q", body, want)
			}
		}
		serves("v2")

		vera := s.SignUp(t, "vera")
		bob.Post(t, "/api/projects/"+p.ID+"/members", map[string]string{"username": "vera", "role": "viewer"}).WantStatus(t, http.StatusCreated)
		vera.Post(t, "/api/projects/"+p.ID+"/releases/"+v1.ID+"/promote", nil).WantStatus(t, http.StatusForbidden)
		if o := state(t, vera, p.ID); len(o.Releases) != 2 || o.Releases[0].ID != v2.ID || !o.Releases[0].Live {
			t.Fatalf("a viewer's view: %+v", o)
		}

		var out struct {
			Deployment struct {
				LiveReleaseID     string  `json:"liveReleaseId"`
				PreviousReleaseID *string `json:"previousReleaseId"`
			}
		}
		start := time.Now()
		bob.Post(t, "/api/projects/"+p.ID+"/releases/"+v1.ID+"/promote", nil).WantStatus(t, http.StatusOK).Decode(t, &out)
		serves("v1")
		if took := time.Since(start); took > time.Second || out.Deployment.LiveReleaseID != v1.ID || out.Deployment.PreviousReleaseID == nil || *out.Deployment.PreviousReleaseID != v2.ID {
			t.Fatalf("rollback in %s: %+v", took, out)
		}
		bob.Post(t, "/api/projects/"+p.ID+"/releases/"+*out.Deployment.PreviousReleaseID+"/promote", nil).WantStatus(t, http.StatusOK).Decode(t, &out)
		serves("v2")
		if out.Deployment.LiveReleaseID != v2.ID || *out.Deployment.PreviousReleaseID != v1.ID {
			t.Fatalf("undo: %+v", out)
		}
		bob.Post(t, "/api/projects/"+p.ID+"/releases/no-such/promote", nil).WantError(t, http.StatusNotFound, "release_not_found")
	})
}

// TestKeepReleases: the newest ten releases are kept, and the live one
// and the one before it whatever their age; older ones go with their
// folders.
func TestKeepReleases(t *testing.T) {
	s := testserver.New(t, testdb.Engines(t)[0])
	c := s.SignUp(t, "gus")
	p := project(t, c, "Many", nil)
	var all []release
	for i := range 12 {
		c.Put(t, "/api/projects/"+p.ID+"/files/index.html", fmt.Sprint("v", i+1)).WantStatus(t, http.StatusNoContent)
		r, log := finish(t, c, p.ID, deploy(t, c, p.ID).ID)
		if r.Status != "ready" {
			t.Fatalf("%+v\n%s", r, log)
		}
		all = append(all, r)
	}
	kept := func(want int) []release {
		t.Helper()
		o := state(t, c, p.ID)
		dirs, err := os.ReadDir(filepath.Join(s.App.Config.DataDir, "releases", p.ID))
		if len(o.Releases) != want || err != nil || len(dirs) != want {
			t.Fatalf("kept %d releases and %d folders (%v), want %d", len(o.Releases), len(dirs), err, want)
		}
		return o.Releases
	}
	if rs := kept(10); rs[9].Number != 3 {
		t.Fatalf("oldest kept: %+v", rs[9])
	}
	c.Post(t, "/api/projects/"+p.ID+"/releases/"+all[0].ID+"/promote", nil).WantError(t, http.StatusNotFound, "release_not_found")
	// The oldest kept goes live; a new deploy makes it the previous one,
	// which is kept for the undo though it is the eleventh.
	c.Post(t, "/api/projects/"+p.ID+"/releases/"+all[2].ID+"/promote", nil).WantStatus(t, http.StatusOK)
	if _, body := visit(t, s, host(p), "/", nil); string(body) != "v3" {
		t.Fatalf("serves %q", body)
	}
	finish(t, c, p.ID, deploy(t, c, p.ID).ID)
	if rs := kept(11); rs[10].ID != all[2].ID || rs[9].Number != 4 {
		t.Fatalf("kept: %+v", rs)
	}
}

// TestDeployQueue: deploys of one project build one at a time; asking
// again while one waits answers the waiting one.
func TestDeployQueue(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	c := s.SignUp(t, "carol")
	p := project(t, c, "Queue", map[string]string{
		"ecode.toml": "run = \"true\"\n[deployment]\nbuild = \"sleep 1 && mkdir -p dist && date +%s%N > dist/index.html\"\n",
	})
	first := deploy(t, c, p.ID)
	second := deploy(t, c, p.ID)
	third := deploy(t, c, p.ID)
	if second.ID == first.ID || third.ID != second.ID || second.Status != "queued" || second.Number != 2 {
		t.Fatalf("queue: %+v %+v %+v", first, second, third)
	}
	one, _ := finish(t, c, p.ID, first.ID)
	two, _ := finish(t, c, p.ID, second.ID)
	if one.Status != "ready" || two.Status != "ready" {
		t.Fatalf("after the queue: %+v %+v", one, two)
	}
	if o := state(t, c, p.ID); len(o.Releases) != 2 || !o.Releases[0].Live || o.Releases[1].Live || o.Deployment.LiveReleaseID != second.ID {
		t.Fatalf("releases: %+v", o.Releases)
	}
}

// TestLogStreams: a build's output reaches whoever follows the log as
// it comes, before the build ends.
func TestLogStreams(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	c := s.SignUp(t, "hana")
	p := project(t, c, "Slow", map[string]string{
		"ecode.toml": "run = \"true\"\n[deployment]\nbuild = \"echo first-line && sleep 2 && mkdir dist && echo x > dist/index.html\"\n",
	})
	r := deploy(t, c, p.ID)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/api/projects/"+p.ID+"/releases/"+r.ID+"/log", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", c.CookieHeader(t))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	start := time.Now()
	var seen strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), "data: first-line") {
		n, err := res.Body.Read(buf)
		if err != nil {
			t.Fatalf("stream ended before the first line: %v %q", err, seen.String())
		}
		seen.Write(buf[:n])
	}
	if strings.Contains(seen.String(), "event: status") || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("the first line came with the end, after %s: %q", time.Since(start), seen.String())
	}
	rest, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(rest), "event: status\ndata: {") || !strings.Contains(string(rest), `"status":"ready"`) {
		t.Fatalf("end of the stream: %q", rest)
	}
}

// TestDeployLinks: what a build links to outside its output is never
// served, whether the output folder itself or a file in it is the link.
func TestDeployLinks(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	c := s.SignUp(t, "dave")
	devDir := s.App.Projects.Dir("")
	for _, tc := range []struct{ name, build string }{
		{"etc", "ln -s /etc dist"},
		{"dev", "ln -s " + devDir + " dist"},
	} {
		p := project(t, c, "Link "+tc.name, map[string]string{"ecode.toml": "run = \"true\"\n[deployment]\nbuild = \"" + tc.build + "\"\n"})
		r, log := finish(t, c, p.ID, deploy(t, c, p.ID).ID)
		if r.Status != "failed" || r.Error == nil || !strings.Contains(*r.Error, "link") {
			t.Fatalf("%s: %+v\n%s", tc.name, r, log)
		}
		if res, _ := visit(t, s, host(p), "/passwd", nil); res.StatusCode != 404 {
			t.Fatalf("%s: %d", tc.name, res.StatusCode)
		}
	}
	p := project(t, c, "Inner links", map[string]string{"ecode.toml": "run = \"true\"\n[deployment]\n" +
		"build = \"mkdir dist && echo ok > dist/index.html && ln -s /etc/passwd dist/passwd && ln -s /etc dist/etc && ln -s " + devDir + " dist/dev\"\n"})
	r, log := finish(t, c, p.ID, deploy(t, c, p.ID).ID)
	if r.Status != "ready" {
		t.Fatalf("%+v\n%s", r, log)
	}
	for _, path := range []string{"/passwd", "/etc/passwd", "/etc/hostname", "/dev/", "/dev/" + p.ID + "/ecode.toml"} {
		if res, body := visit(t, s, host(p), path, nil); res.StatusCode != 404 {
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
	}
}

// TestConfig: [deployment] is read with defaults, written back beside the
// rest of ecode.toml, and a bad key is named.
func TestConfig(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		c := s.SignUp(t, "erin")
		p := project(t, c, "Conf", map[string]string{
			"ecode.toml":   "# keep me\nrun = \"npm start\"\ninstall = \"npm install\"\n\n[env]\nA = \"1\"\n",
			"package.json": `{"scripts":{"build":"vite build"}}`,
		})
		o := state(t, c, p.ID)
		if o.Config == nil || o.Config.Build != "npm run build" || o.Config.PublicDir != "dist" || o.Config.Target != "static" {
			t.Fatalf("defaults: %+v", o.Config)
		}
		var out struct {
			Config struct {
				Build, PublicDir, Install string
				MaxInstances              int
			}
		}
		c.Put(t, "/api/projects/"+p.ID+"/deployment/config", map[string]any{"target": "static", "build": "make site", "publicDir": "public", "maxInstances": 3}).
			WantStatus(t, http.StatusOK).Decode(t, &out)
		if out.Config.Build != "make site" || out.Config.PublicDir != "public" || out.Config.Install != "npm install" || out.Config.MaxInstances != 3 {
			t.Fatalf("written: %+v", out.Config)
		}
		raw := string(c.Get(t, "/api/projects/"+p.ID+"/files/ecode.toml").Body)
		if !strings.Contains(raw, "# keep me") || !strings.Contains(raw, "A = \"1\"") || !strings.Contains(raw, "[deployment]") {
			t.Fatalf("ecode.toml: %s", raw)
		}
		// Written again, the table is replaced, not repeated.
		c.Put(t, "/api/projects/"+p.ID+"/deployment/config", map[string]any{"build": "make other"}).WantStatus(t, http.StatusOK)
		raw = string(c.Get(t, "/api/projects/"+p.ID+"/files/ecode.toml").Body)
		if strings.Count(raw, "[deployment]") != 1 || !strings.Contains(raw, "make other") || strings.Contains(raw, "make site") {
			t.Fatalf("ecode.toml rewritten: %s", raw)
		}
		var run struct{ Config struct{ Run string } }
		c.Get(t, "/api/projects/"+p.ID+"/run-config").WantStatus(t, http.StatusOK).Decode(t, &run)
		if run.Config.Run != "npm start" {
			t.Fatalf("run config after: %+v", run)
		}

		for _, bad := range []map[string]any{
			{"target": "lambda"}, {"publicDir": "../etc"}, {"maxInstances": -1}, {"healthPath": "health"}, {"target": "scheduled", "run": "x"},
		} {
			res := c.Put(t, "/api/projects/"+p.ID+"/deployment/config", bad).WantError(t, http.StatusBadRequest, "invalid_deployment")
			for k := range bad {
				if k != "target" && k != "run" && !strings.Contains(string(res.Body), k) {
					t.Errorf("%v: %s does not name the key", bad, res.Body)
				}
			}
		}
		c.Put(t, "/api/projects/"+p.ID+"/files/ecode.toml", "run = \"x\"\n[deployment]\ntarget = \"static\"\nbogus = 1\n").WantStatus(t, http.StatusNoContent)
		o = state(t, c, p.ID)
		if o.Config != nil || o.ConfigError == nil || !strings.Contains(*o.ConfigError, "bogus") {
			t.Fatalf("a bad key in the file: %+v", o)
		}
		c.Post(t, "/api/projects/"+p.ID+"/deployments", map[string]any{}).WantError(t, http.StatusBadRequest, "invalid_deployment")
	})
}

// TestRestartInterrupted: builds a stopped server left unfinished are
// failed when it starts again; the live release is untouched.
func TestRestartInterrupted(t *testing.T) {
	s := testserver.New(t, testdb.Engines(t)[0])
	c := s.SignUp(t, "fay")
	p := project(t, c, "Interrupted", nil)
	ctx := context.Background()
	for i, status := range []string{"building", "queued"} {
		if _, err := s.App.DB.Exec(ctx, `INSERT INTO releases (id, project_id, number, target, status, created_by, created_at) VALUES (?, ?, ?, 'static', ?, ?, ?)`,
			store.NewID(), p.ID, i+1, status, c.User.ID, store.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.App.Deploys.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range state(t, c, p.ID).Releases {
		if r.Status != "failed" || r.Error == nil || !strings.Contains(*r.Error, "restart") {
			t.Errorf("after a restart: %+v", r)
		}
	}
}

func unzip(t testing.TB, b []byte) string {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func unbrotli(t testing.TB, b []byte) string {
	t.Helper()
	out, err := io.ReadAll(brotli.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestCancel: a queued release leaves the queue, a building one's sandbox
// stops at once; both end failed saying who cancelled them, the live
// release still serves, and the queue moves on.
func TestCancel(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		eve := s.SignUp(t, "eve")
		p := project(t, eve, "Cancel", map[string]string{"index.html": "v1"})
		v1, _ := finish(t, eve, p.ID, deploy(t, eve, p.ID).ID)
		eve.Put(t, "/api/projects/"+p.ID+"/files/ecode.toml",
			"run = \"true\"\n[deployment]\nbuild = \"sleep 30 && mkdir -p dist && echo v2 > dist/index.html\"\npublicDir = \"dist\"\n").WantStatus(t, http.StatusNoContent)
		building := deploy(t, eve, p.ID)
		queued := deploy(t, eve, p.ID)
		cancel := func(id string) release {
			t.Helper()
			var out struct{ Release release }
			eve.Post(t, "/api/projects/"+p.ID+"/releases/"+id+"/cancel", nil).WantStatus(t, http.StatusOK).Decode(t, &out)
			if out.Release.Status != "failed" || out.Release.Error == nil || !strings.HasPrefix(*out.Release.Error, "Cancelled by eve") {
				t.Fatalf("cancelled: %+v", out.Release)
			}
			return out.Release
		}

		cancel(queued.ID)
		if _, log := finish(t, eve, p.ID, queued.ID); !strings.Contains(log, "Cancelled by eve") {
			t.Fatalf("the queued release's log: %q", log)
		}
		next := deploy(t, eve, p.ID)
		if next.ID == queued.ID || next.Status != "queued" {
			t.Fatalf("deploy after a cancel: %+v", next)
		}

		viewer := s.SignUp(t, "walt")
		eve.Post(t, "/api/projects/"+p.ID+"/members", map[string]string{"username": "walt", "role": "viewer"}).WantStatus(t, http.StatusCreated)
		viewer.Post(t, "/api/projects/"+p.ID+"/releases/"+building.ID+"/cancel", nil).WantStatus(t, http.StatusForbidden)

		await(t, s, eve, p.ID, building.ID, "$ sleep 30")
		start := time.Now()
		cancel(building.ID)
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("the cancel took %s", took)
		}
		if _, log := finish(t, eve, p.ID, building.ID); !strings.Contains(log, "Cancelled by eve") {
			t.Fatalf("the building release's log: %q", log)
		}
		if _, body := visit(t, s, host(p), "/", nil); string(body) != "v1" {
			t.Fatalf("after the cancel the deployment serves %q", body)
		}
		if o := state(t, eve, p.ID); o.Deployment.LiveReleaseID != v1.ID {
			t.Fatalf("live after the cancel: %+v", o.Deployment)
		}

		// The queue moved on to the next release, which is cancelled too.
		await(t, s, eve, p.ID, next.ID, "$ sleep 30")
		cancel(next.ID)
		eve.Post(t, "/api/projects/"+p.ID+"/releases/"+next.ID+"/cancel", nil).WantError(t, http.StatusConflict, "release_not_active")
		eve.Post(t, "/api/projects/"+p.ID+"/releases/"+v1.ID+"/cancel", nil).WantError(t, http.StatusConflict, "release_not_active")
		eve.Post(t, "/api/projects/"+p.ID+"/releases/no-such/cancel", nil).WantError(t, http.StatusNotFound, "release_not_found")
	})
}

// await follows a release's log until it shows text.
func await(t testing.TB, s *testserver.Server, c *testserver.Client, projectID, releaseID, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/projects/"+projectID+"/releases/"+releaseID+"/log", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", c.CookieHeader(t))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var seen strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), text) {
		n, err := res.Body.Read(buf)
		if err != nil {
			t.Fatalf("the log of %s ended without %q: %v %q", releaseID, text, err, seen.String())
		}
		seen.Write(buf[:n])
	}
}
