package run_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// The test binary is also the sandbox agent, as the ecode binary is.
func TestMain(m *testing.M) { testserver.Main(m) }

type execResult struct {
	ExitCode   int
	Stdout     string
	Stderr     string
	DurationMs int64
	TimedOut   bool
}

func execIn(t *testing.T, c *testserver.Client, projectID string, body any) execResult {
	t.Helper()
	var res execResult
	c.Post(t, "/api/projects/"+projectID+"/exec", body).WantStatus(t, 200).Decode(t, &res)
	return res
}

func TestExec(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		amy := s.SignUp(t, "amy")
		p := amy.CreateProject(t, "Exec")
		res := execIn(t, amy, p.ID, map[string]any{"command": "echo out; echo err >&2; exit 3"})
		if res.ExitCode != 3 || res.Stdout != "out\n" || res.Stderr != "err\n" || res.TimedOut {
			t.Fatalf("exec = %+v", res)
		}
		amy.Put(t, "/api/projects/"+p.ID+"/files/main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"go says\", 6*7) }\n").WantStatus(t, 204)
		amy.Put(t, "/api/projects/"+p.ID+"/files/main.py", "print('python says', 6*7)\n").WantStatus(t, 204)
		amy.Put(t, "/api/projects/"+p.ID+"/files/main.js", "console.log('node says', 6*7)\n").WantStatus(t, 204)
		for cmd, want := range map[string]string{
			"node main.js": "node says 42\n", "python3 main.py": "python says 42\n", "go run main.go": "go says 42\n",
			"cat main.py | tr a-z A-Z": "PRINT('PYTHON SAYS', 6*7)\n", "pwd": "/home/runner/project\n",
		} {
			res := execIn(t, amy, p.ID, map[string]any{"command": cmd, "timeoutSec": 120})
			if res.ExitCode != 0 || res.Stdout != want {
				t.Errorf("%s: %+v", cmd, res)
			}
		}
		// What the sandbox writes, the file API sees, and the other way round.
		execIn(t, amy, p.ID, map[string]any{"command": "echo made inside > inside.txt"})
		if got := string(amy.Get(t, "/api/projects/"+p.ID+"/files/inside.txt").WantStatus(t, 200).Body); got != "made inside\n" {
			t.Fatalf("inside.txt = %q", got)
		}
		if res := execIn(t, amy, p.ID, map[string]any{"command": "echo changed >> main.py && tail -1 main.py"}); res.Stdout != "changed\n" {
			t.Fatalf("the sandbox cannot change a file the API wrote: %+v", res)
		}

		start := time.Now()
		res = execIn(t, amy, p.ID, map[string]any{"command": "echo before; sleep 30", "timeoutSec": 1})
		if !res.TimedOut || res.Stdout != "before\n" || time.Since(start) > 10*time.Second {
			t.Fatalf("timeout: %+v after %s", res, time.Since(start))
		}
		amy.Post(t, "/api/projects/"+p.ID+"/exec", map[string]any{"command": ""}).WantError(t, 400, "invalid_command")
		amy.Post(t, "/api/projects/"+p.ID+"/exec", map[string]any{"command": "true", "timeoutSec": 99999}).WantError(t, 400, "invalid_timeout")
		s.SignUp(t, "ben").Post(t, "/api/projects/"+p.ID+"/exec", map[string]any{"command": "id"}).WantError(t, 404, "not_found")
	})
}

type runView struct {
	ID         string
	Status     string
	Command    string
	ExitCode   *int
	PreviewURL *string
	Port       *int
	Error      string
}

func getRun(t *testing.T, c *testserver.Client, projectID, runID string) runView {
	var out struct{ Run runView }
	c.Get(t, "/api/projects/"+projectID+"/runs/"+runID).WantStatus(t, 200).Decode(t, &out)
	return out.Run
}

func waitRun(t *testing.T, c *testserver.Client, projectID, runID string, done func(runView) bool) runView {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := getRun(t, c, projectID, runID)
		if done(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run never got there: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func startRun(t *testing.T, c *testserver.Client, projectID string) runView {
	t.Helper()
	var out struct{ Run runView }
	c.Post(t, "/api/projects/"+projectID+"/run", nil).WantStatus(t, 202).Decode(t, &out)
	return out.Run
}

const server = `const http = require("http");
const port = process.env.PORT;
http.createServer((req, res) => res.end("hello from the app at " + req.url + " host " + req.headers.host))
  .listen(port, "127.0.0.1", () => console.log("listening on " + port));
`

// preview fetches a preview URL through the test server, by Host header.
func preview(t *testing.T, s *testserver.Server, previewURL, path string, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	u, err := url.Parse(previewURL)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Host = u.Host
	for _, c := range cookies {
		req.AddCookie(c)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRunLifecycle(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		cat := s.SignUp(t, "cat")
		p := cat.CreateProject(t, "Web App")
		base := "/api/projects/" + p.ID
		cat.Put(t, base+"/files/index.js", server).WantStatus(t, 204)
		var cfg struct {
			Config struct{ Run string }
			Source string
		}
		cat.Get(t, base+"/run-config").WantStatus(t, 200).Decode(t, &cfg)
		if cfg.Config.Run != "node index.js" || cfg.Source != "guess" {
			t.Fatalf("run-config = %+v", cfg)
		}

		r := startRun(t, cat, p.ID)
		r = waitRun(t, cat, p.ID, r.ID, func(r runView) bool { return r.PreviewURL != nil || r.Status != "starting" && r.Status != "running" })
		if r.Status != "running" || *r.PreviewURL != "http://web-app--cat.localhost"+s.URL[strings.LastIndex(s.URL, ":"):]+"/" || *r.Port != 3000 {
			t.Fatalf("run = %+v, preview %s, port %d", r, *r.PreviewURL, *r.Port)
		}
		// The guess was written down for the person to see.
		if toml := string(cat.Get(t, base+"/files/ecode.toml").WantStatus(t, 200).Body); !strings.Contains(toml, `run = "node index.js"`) {
			t.Fatalf("ecode.toml = %q", toml)
		}

		// The log line is in the output stream.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+base+"/runs/"+r.ID+"/output", nil)
		req.Header.Set("Cookie", cat.CookieHeader(t))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		buf := make([]byte, 4096)
		for !strings.Contains(string(out), "listening on 3000") { // the output comes in chunks, the command's echo first
			n, err := res.Body.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				break
			}
		}
		res.Body.Close()
		cancel()
		if !strings.Contains(string(out), "listening on 3000") {
			t.Fatalf("output = %q", out)
		}

		// A private project's preview needs a pass from the platform.
		pres := preview(t, s, *r.PreviewURL, "/some/page")
		pres.Body.Close()
		if pres.StatusCode != http.StatusFound || !strings.Contains(pres.Header.Get("Location"), "/api/preview/pass?") {
			t.Fatalf("anonymous preview: %d %s", pres.StatusCode, pres.Header.Get("Location"))
		}
		passURL, _ := url.Parse(pres.Header.Get("Location"))
		// A stranger gets no pass.
		s.SignUp(t, "dog").Get(t, passURL.RequestURI()).WantError(t, 404, "not_found")
		pass := passFor(t, cat, passURL.RequestURI())
		authed := preview(t, s, *r.PreviewURL, pass)
		authed.Body.Close()
		cookie := findCookie(authed.Cookies(), "ecode_preview")
		if authed.StatusCode != http.StatusFound || authed.Header.Get("Location") != "/some/page" || cookie == nil || !cookie.HttpOnly {
			t.Fatalf("pass redemption: %d %s %+v", authed.StatusCode, authed.Header.Get("Location"), cookie)
		}
		page := preview(t, s, *r.PreviewURL, "/some/page", cookie)
		body, _ := io.ReadAll(page.Body)
		page.Body.Close()
		if page.StatusCode != 200 || string(body) != "hello from the app at /some/page host localhost:3000" {
			t.Fatalf("preview page: %d %q", page.StatusCode, body)
		}
		forged := preview(t, s, *r.PreviewURL, "/", &http.Cookie{Name: "ecode_preview", Value: cookie.Value + "x"})
		forged.Body.Close()
		if forged.StatusCode != http.StatusFound {
			t.Fatalf("forged pass: %d", forged.StatusCode)
		}

		cat.Post(t, base+"/stop", nil).WantStatus(t, 204)
		if r := getRun(t, cat, p.ID, r.ID); r.Status != "stopped" {
			t.Fatalf("after stop: %+v", r)
		}
		gone := preview(t, s, *r.PreviewURL, "/", cookie)
		gone.Body.Close()
		if gone.StatusCode != http.StatusBadGateway {
			t.Fatalf("preview of a stopped app: %d", gone.StatusCode)
		}

		// A crash says so, with the exit code.
		cat.Put(t, base+"/files/ecode.toml", "run = \"node crash.js\"\n").WantStatus(t, 204)
		cat.Put(t, base+"/files/crash.js", "console.error('boom'); process.exit(3)\n").WantStatus(t, 204)
		r = startRun(t, cat, p.ID)
		r = waitRun(t, cat, p.ID, r.ID, func(r runView) bool { return r.Status != "starting" && r.Status != "running" })
		if r.Status != "crashed" || r.ExitCode == nil || *r.ExitCode != 3 || !strings.Contains(r.Error, "exited with code 3") {
			t.Fatalf("crash: %+v", r)
		}
		var list struct {
			Runs    []runView
			Current *runView
		}
		cat.Get(t, base+"/runs").WantStatus(t, 200).Decode(t, &list)
		if len(list.Runs) != 2 || list.Current == nil || list.Current.ID != r.ID {
			t.Fatalf("runs = %+v", list)
		}
	})
}

// passFor asks the platform for a preview pass and returns the preview
// host's redemption path it redirects to.
func passFor(t *testing.T, c *testserver.Client, uri string) string {
	t.Helper()
	res := c.DoNoRedirect(t, "GET", uri)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("pass: %d %s", res.StatusCode, res.Body)
	}
	u, _ := url.Parse(res.Header.Get("Location"))
	if u.Path != "/__ecode/auth" {
		t.Fatalf("pass redirects to %s", u)
	}
	return u.RequestURI()
}

func findCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestShellOverWebSocket(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		eve := s.SignUp(t, "eve")
		p := eve.CreateProject(t, "Shell")
		eve.Put(t, "/api/projects/"+p.ID+"/files/hello.txt", "hi").WantStatus(t, 204)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/api/projects/"+p.ID+"/ws",
			&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {eve.CookieHeader(t)}}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		send := func(v any) {
			b, _ := json.Marshal(v)
			if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
				t.Fatal(err)
			}
		}
		send(map[string]any{"type": "shell.open", "id": "t1", "rows": 24, "cols": 80})
		send(map[string]any{"type": "shell.input", "id": "t1", "data": []byte("ls; echo $((6*7)); exit 5\n")})
		var out strings.Builder
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				t.Fatalf("read: %v; output so far %q", err, out.String())
			}
			var m struct {
				Type, ID string
				Data     []byte
				Code     *int
			}
			json.Unmarshal(data, &m)
			if m.Type == "shell.output" {
				out.Write(m.Data)
			}
			if m.Type == "shell.exit" {
				if m.Code == nil || *m.Code != 5 {
					t.Fatalf("exit %v", m.Code)
				}
				break
			}
		}
		if !strings.Contains(out.String(), "hello.txt") || !strings.Contains(out.String(), "42") {
			t.Fatalf("shell output %q", out.String())
		}
		// Another user cannot even open the socket.
		_, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/api/projects/"+p.ID+"/ws",
			&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {s.SignUp(t, "fay").CookieHeader(t)}}})
		if err == nil || res == nil || res.StatusCode != 404 {
			t.Fatalf("stranger's socket: %v %v", err, res)
		}
	})
}

// TestSandboxUnavailable: where bubblewrap is missing the platform still
// serves, health names the runtime, and runs answer 503 with the fix.
// Never an unsandboxed fallback.
func TestSandboxUnavailable(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	s := testserver.New(t, testdb.Engines(t)[0])
	gil := s.SignUp(t, "gil")
	p := gil.CreateProject(t, "No Sandbox")
	gil.Put(t, "/api/projects/"+p.ID+"/files/index.js", "console.log(1)").WantStatus(t, 204)
	res := gil.Post(t, "/api/projects/"+p.ID+"/exec", map[string]string{"command": "id"}).WantError(t, 503, "sandbox_unavailable")
	if !strings.Contains(string(res.Body), "apt-get install bubblewrap") {
		t.Fatalf("503 without the fix: %s", res.Body)
	}
	gil.Post(t, "/api/projects/"+p.ID+"/run", nil).WantError(t, 503, "sandbox_unavailable")
	var h struct{ Failing []string }
	s.Anonymous().Get(t, "/api/monitoring/health").WantStatus(t, 503).Decode(t, &h)
	if len(h.Failing) != 1 || h.Failing[0] != "runtime" {
		t.Fatalf("health failing = %v", h.Failing)
	}
}

func TestInstallOnceAndIdleStop(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		hal := s.SignUp(t, "hal")
		p := hal.CreateProject(t, "Deps")
		base := "/api/projects/" + p.ID
		hal.Put(t, base+"/files/package.json", `{"name":"deps","version":"1.0.0","scripts":{"start":"node index.js"},"dependencies":{"is-number":"7.0.0"}}`).WantStatus(t, 204)
		hal.Put(t, base+"/files/index.js", `console.log("is-number says " + require("is-number")(42))`).WantStatus(t, 204)
		output := func() string {
			r := startRun(t, hal, p.ID)
			r = waitRun(t, hal, p.ID, r.ID, func(r runView) bool { return r.Status != "starting" && r.Status != "running" })
			body := string(hal.Get(t, base+"/runs/"+r.ID+"/output").WantStatus(t, 200).Body)
			if r.Status != "exited" {
				t.Fatalf("run %+v: %s", r, body)
			}
			return body
		}
		first := output()
		if !strings.Contains(first, "$ npm install") || !strings.Contains(first, "is-number says true") {
			t.Fatalf("first run: %q", first)
		}
		second := output()
		if strings.Contains(second, "npm install") || !strings.Contains(second, "is-number says true") {
			t.Fatalf("second run installed again: %q", second)
		}
		// Nothing uses the sandbox now: it stops once idle, and comes back on demand.
		waitIdleStop(t, s, p.ID)
		if res := execIn(t, hal, p.ID, map[string]any{"command": "ls node_modules"}); res.Stdout != "is-number\n" {
			t.Fatalf("after idle stop: %+v", res)
		}
	}, testserver.WithSandboxIdle(time.Second))
}

const streamingApp = `const http = require("http");
const big = Buffer.alloc(5 << 20, "x");
const server = http.createServer((req, res) => {
  if (req.url === "/big") return res.end(big);
  if (req.url === "/cookies") return res.end(req.headers.cookie || "");
  if (req.url === "/events") {
    res.writeHead(200, { "content-type": "text/event-stream" });
    let n = 0;
    const t = setInterval(() => { res.write("data: " + n++ + "\n\n"); if (n === 3) { clearInterval(t); res.end(); } }, 50);
    return;
  }
  res.end("ok");
});
server.on("upgrade", (req, socket) => {
  socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
  socket.on("data", (d) => socket.write("echo:" + d));
});
server.listen(process.env.PORT, "127.0.0.1");
`

// TestPreviewStreamsAndUpgrades: what dev servers need of a proxy passes:
// large bodies, streamed events, connection upgrades (hot reload); and the
// preview's own cookie never reaches the app.
func TestPreviewStreamsAndUpgrades(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ivy := s.SignUp(t, "ivy")
		p := ivy.CreateProject(t, "Streams")
		base := "/api/projects/" + p.ID
		ivy.Patch(t, base, map[string]string{"visibility": "public"}).WantStatus(t, 200)
		ivy.Put(t, base+"/files/index.js", streamingApp).WantStatus(t, 204)
		r := startRun(t, ivy, p.ID)
		r = waitRun(t, ivy, p.ID, r.ID, func(r runView) bool { return r.PreviewURL != nil || r.Status != "starting" && r.Status != "running" })
		if r.PreviewURL == nil {
			t.Fatalf("no preview: %+v", r)
		}
		big := preview(t, s, *r.PreviewURL, "/big")
		n, _ := io.Copy(io.Discard, big.Body)
		big.Body.Close()
		if big.StatusCode != 200 || n != 5<<20 {
			t.Fatalf("big body: %d, %d bytes", big.StatusCode, n)
		}
		ev := preview(t, s, *r.PreviewURL, "/events")
		events, _ := io.ReadAll(ev.Body)
		ev.Body.Close()
		if string(events) != "data: 0\n\ndata: 1\n\ndata: 2\n\n" {
			t.Fatalf("events: %q", events)
		}
		ck := preview(t, s, *r.PreviewURL, "/cookies", &http.Cookie{Name: "ecode_preview", Value: "secret"}, &http.Cookie{Name: "app", Value: "mine"})
		cookies, _ := io.ReadAll(ck.Body)
		ck.Body.Close()
		if string(cookies) != "app=mine" {
			t.Fatalf("the app saw cookies %q", cookies)
		}

		u, _ := url.Parse(*r.PreviewURL)
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, "GET /live HTTP/1.1\r\nHost: "+u.Host+"\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		br := bufio.NewReader(conn)
		res, err := http.ReadResponse(br, nil)
		if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %v %v", res, err)
		}
		io.WriteString(conn, "ping")
		got := make([]byte, len("echo:ping"))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != "echo:ping" {
			t.Fatalf("upgraded connection: %q %v", got, err)
		}
	})
}

// TestInternetMode: by default a sandbox reaches the package registries
// only; a project in internet mode reaches any public host, at once.
func TestInternetMode(t *testing.T) {
	testserver.NeedSandbox(t)
	if c, err := net.DialTimeout("tcp", "deb.debian.org:443", 3*time.Second); err != nil {
		t.Skipf("no public host outside the registry list is reachable here: %v", err)
	} else {
		c.Close()
	}
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		jay := s.SignUp(t, "jay")
		p := jay.CreateProject(t, "Net")
		probe := `curl -s -o /dev/null -m 10 -w '%{http_code}' https://deb.debian.org/debian/`
		if res := execIn(t, jay, p.ID, map[string]any{"command": probe, "timeoutSec": 30}); res.Stdout != "403" && res.Stdout != "000" {
			t.Fatalf("an unlisted host answered by default: %+v", res)
		}
		var got struct{ Project struct{ Internet bool } }
		jay.Patch(t, "/api/projects/"+p.ID, map[string]bool{"internet": true}).WantStatus(t, 200).Decode(t, &got)
		if !got.Project.Internet {
			t.Fatal("internet mode not saved")
		}
		if res := execIn(t, jay, p.ID, map[string]any{"command": probe, "timeoutSec": 30}); res.Stdout == "403" || res.Stdout == "000" {
			t.Fatalf("internet mode did not open the way: %+v", res)
		}
		// Still never inward, whatever the mode.
		if res := execIn(t, jay, p.ID, map[string]any{"command": `curl --noproxy '' -s -o /dev/null -w '%{http_code}' -x http://127.0.0.1:3128 http://169.254.169.254/`}); res.Stdout != "403" {
			t.Fatalf("metadata through the proxy in internet mode: %+v", res)
		}
	})
}

// TestDiskLimit: code that writes past the project's size limit is
// stopped, and the console says why.
func TestDiskLimit(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		kim := s.SignUp(t, "kim")
		p := kim.CreateProject(t, "Filler")
		base := "/api/projects/" + p.ID
		// At most 64 MiB even if nothing stopped it.
		kim.Put(t, base+"/files/ecode.toml", `run = "for i in $(seq 64); do head -c 1048576 /dev/zero > blob$i; sleep 0.05; done; sleep 30"`+"\n").WantStatus(t, 204)
		r := startRun(t, kim, p.ID)
		r = waitRun(t, kim, p.ID, r.ID, func(r runView) bool { return r.Status != "starting" && r.Status != "running" })
		if r.Status != "crashed" || !strings.Contains(r.Error, "over its 8 MiB limit") {
			t.Fatalf("run over the disk limit: %+v", r)
		}
	}, testserver.WithLimits(1<<20, 8<<20), testserver.WithDiskCheck(200*time.Millisecond))
}

// TestCacheOutlivesSandbox: ~/.cache (Go's build cache, npm's cache) is
// kept across the project's sandboxes and removed with the project.
func TestCacheOutlivesSandbox(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		lou := s.SignUp(t, "lou")
		p := lou.CreateProject(t, "Cached")
		res := execIn(t, lou, p.ID, map[string]any{"command": `echo kept > ~/.cache/marker && echo gone > ~/elsewhere && go env GOCACHE GOMODCACHE && npm config get cache`})
		if res.ExitCode != 0 || res.Stdout != "/home/runner/.cache/go-build\n/home/runner/.cache/go-mod\n/home/runner/.cache/npm\n" {
			t.Fatalf("cache settings: %+v", res)
		}
		waitIdleStop(t, s, p.ID)
		res = execIn(t, lou, p.ID, map[string]any{"command": `cat ~/.cache/marker; cat ~/elsewhere 2>/dev/null || echo "home is fresh"`})
		if res.Stdout != "kept\nhome is fresh\n" {
			t.Fatalf("after a new sandbox: %+v", res)
		}
		cache := filepath.Join(s.App.Config.DataDir, "caches", p.ID)
		if _, err := os.Stat(cache); err != nil {
			t.Fatal(err)
		}
		lou.Delete(t, "/api/projects/"+p.ID).WantStatus(t, 204)
		if _, err := os.Stat(cache); !os.IsNotExist(err) {
			t.Fatalf("the deleted project's cache remains: %v", err)
		}
	}, testserver.WithSandboxIdle(time.Second))
}

// waitIdleStop waits for the project's unused sandbox to stop by itself.
func waitIdleStop(t *testing.T, s *testserver.Server, projectID string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.App.Runs.SandboxRunning(projectID) {
		if time.Now().After(deadline) {
			t.Fatal("idle sandbox still running")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
