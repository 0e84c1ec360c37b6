package attack_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ecode/internal/testserver"
)

// hostAddress is an address of one of this machine's own interfaces that
// is not loopback, preferring one the public-address rules alone would let
// through (so only the host-address check stands in the way).
func hostAddress(t *testing.T) netip.Addr {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var found []netip.Addr
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if ip = ip.Unmap(); ok && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() && !ip.IsUnspecified() {
			found = append(found, ip)
		}
	}
	for _, ip := range found {
		if ip.Is4() && !ip.IsPrivate() {
			return ip
		}
	}
	for _, ip := range found {
		if ip.Is4() {
			return ip
		}
	}
	if len(found) > 0 {
		return found[0]
	}
	t.Skip("this machine has no address but loopback: there is no host address for a sandbox to aim at")
	return netip.Addr{}
}

// countingServer listens on addr and counts the connections it accepts.
func countingServer(t *testing.T, addr netip.Addr) (hostport string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatalf("listen on the host address %s: %v", addr, err)
	}
	conns = new(atomic.Int64)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "host service")
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return ln.Addr().String(), conns
}

// fetchScript asks for each URL through the sandbox's proxy and prints one
// line per URL: the status, or the error, and what came back.
const fetchScript = `
import sys, urllib.request, urllib.error
opener = urllib.request.build_opener(urllib.request.ProxyHandler())
for u in sys.argv[1:]:
    try:
        r = opener.open(u, timeout=10)
        print(u, "STATUS", r.status, r.read(200))
    except urllib.error.HTTPError as e:
        print(u, "STATUS", e.code, e.read(200))
    except Exception as e:
        print(u, "ERROR", e)
`

// Item 8: a project in internet mode may reach any public host, but never
// this machine's own addresses, whose services (the platform's, the
// database's) listen on every interface. Git imports are held to the same.
func TestInternetModeCannotReachTheHost(t *testing.T) {
	testserver.NeedSandbox(t)
	addr := hostAddress(t)
	target, conns := countingServer(t, addr)
	_, port, _ := net.SplitHostPort(target)

	s := sqlite(t)
	eve := s.SignUp(t, "eve")
	p := eve.CreateProject(t, "Out")
	var out struct{ Project struct{ Internet bool } }
	eve.Patch(t, "/api/projects/"+p.ID, map[string]any{"internet": true}).WantStatus(t, 200).Decode(t, &out)
	if !out.Project.Internet {
		t.Fatal("internet mode did not turn on")
	}

	urls := []string{"http://" + target + "/", "https://" + target + "/"}
	if addr.Is4() {
		// The same address in IPv6 clothing.
		urls = append(urls, "http://[::ffff:"+addr.String()+"]:"+port+"/")
	}
	args := ""
	for _, u := range urls {
		args += " '" + u + "'"
	}
	res := sh(t, eve, p.ID, "NO_PROXY= no_proxy= python3 -c '"+strings.ReplaceAll(fetchScript, "'", `"`)+"'"+args)
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) != len(urls) {
		t.Fatalf("fetch output: %q (stderr %q)", res.Stdout, res.Stderr)
	}
	for _, line := range lines {
		if strings.Contains(line, "host service") || strings.Contains(line, "STATUS 200") {
			t.Errorf("the sandbox reached the host: %s", line)
		}
		if !strings.Contains(line, "403") {
			t.Errorf("want the egress proxy's 403: %s", line)
		}
		// Internet mode was on: the refusal is about the address, not a host list.
		if strings.Contains(line, "allowed hosts") {
			t.Errorf("refused for the wrong reason (internet mode off?): %s", line)
		}
	}

	// A git import from the host's own address is refused before any clone.
	for _, u := range []string{"https://" + target + "/repo.git", "http://" + target + "/repo.git"} {
		eve.Post(t, "/api/projects", map[string]string{"gitUrl": u, "name": "Imp"}).WantError(t, 400, "address_refused")
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("the host's listener at %s saw %d connections", target, n)
	}
	healthy(t, s)
}

// browserResolve is where a browser on base goes for a Location of loc, as
// the URL standard has it: surrounding spaces and controls trimmed, tabs and
// newlines dropped anywhere, a backslash read as a slash.
func browserResolve(base *url.URL, loc string) (*url.URL, error) {
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(loc)
	ref, err := url.Parse(loc)
	if err != nil {
		return nil, err
	}
	return base.ResolveReference(ref), nil
}

// staysOn fails the test unless a redirect to loc from base, and each
// further percent-decoding of it (a server on the way may decode again),
// lands on base's own origin.
func staysOn(t *testing.T, base *url.URL, what, loc string) {
	t.Helper()
	for i := 0; i < 4; i++ {
		u, err := browserResolve(base, loc)
		if err == nil && (u.Scheme != base.Scheme || u.Host != base.Host) {
			t.Errorf("%s: redirect to %q leaves %s for %s", what, loc, base.Host, u.Host)
			return
		}
		if strings.ContainsFunc(loc, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Errorf("%s: redirect target %q holds a control character", what, loc)
			return
		}
		d, err := url.PathUnescape(loc)
		if err != nil || d == loc {
			return
		}
		loc = d
	}
}

// nastyTargets are redirect targets (as the server reads them, after the
// query's own decoding) that browsers, or a server decoding once more,
// send to another site.
var nastyTargets = []string{
	"//evil.example/x", "///evil.example", `/\evil.example/x`, `\/evil.example`, `\\evil.example`,
	"/%5Cevil.example/x", "/%5cevil.example", "/%255Cevil.example",
	"/\t/evil.example", "/%09/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/%0d%0a/evil.example",
	"/%0D%0ASet-Cookie:%20x=1", "/\x00/evil.example", "/%00/evil.example",
	"/%2F%2Fevil.example", "/%2f/evil.example", "/%252F%252Fevil.example", "/%2F%5Cevil.example",
	"https://evil.example", "http:evil.example", "http:/evil.example", "HTTPS://evil.example", "//evil.example@x",
	"javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
	" /evil.example", "\t//evil.example", " //evil.example", "/ /evil.example", "/\u3000/evil.example",
	"evil.example", "", "/\xff/evil.example",
}

// Item 9: ?next= on the preview pass, and on its redemption at the preview
// host, only ever sends the browser to a path of the same site.
func TestPreviewPassRedirectsStayOnSite(t *testing.T) {
	s := sqlite(t)
	ann := s.SignUp(t, "ann")
	p := ann.CreateProject(t, "Site")
	host := p.Slug + "--" + p.Owner + ".localhost"
	preview := &url.URL{Scheme: "http", Host: host, Path: "/__ecode/auth"}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// The pass step: its answer carries next on to the preview host.
	passNext := func(rawQueryNext string) string {
		t.Helper()
		res := ann.DoNoRedirect(t, "GET", "/api/preview/pass?host="+url.QueryEscape(host)+"&next="+rawQueryNext)
		if res.StatusCode != http.StatusFound {
			t.Fatalf("pass for next=%s: %d %s", rawQueryNext, res.StatusCode, res.Body)
		}
		loc, err := url.Parse(res.Header.Get("Location"))
		if err != nil || loc.Host != host || loc.Path != "/__ecode/auth" {
			t.Fatalf("pass for next=%s redirects to %q", rawQueryNext, res.Header.Get("Location"))
		}
		return loc.Query().Get("next")
	}
	// The redemption step at the preview host, where the browser is sent to next.
	redeem := func(rawQuery string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", s.URL+"/__ecode/auth?"+rawQuery, nil)
		req.Host = host
		res, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound {
			t.Fatalf("redeem %s: %d", rawQuery, res.StatusCode)
		}
		return res.Header.Get("Location")
	}

	// A good target survives both steps.
	good := "/some/page?file=my%20notes.md#top"
	pass, err := url.ParseQuery(strings.SplitN(ann.DoNoRedirect(t, "GET", "/api/preview/pass?host="+url.QueryEscape(host)+"&next="+url.QueryEscape(good)).Header.Get("Location"), "?", 2)[1])
	if err != nil || pass.Get("next") != good {
		t.Fatalf("a same-site next was not kept: %v %v", pass, err)
	}
	if loc := redeem(url.Values{"pass": {pass.Get("pass")}, "next": {good}}.Encode()); loc != good {
		t.Fatalf("redeeming with a same-site next went to %q", loc)
	}

	// The issue's own URLs, exactly as written.
	for _, raw := range []string{"/%5Cevil.example/x", "/%09/evil.example", "%2F%2Fevil.example", "/%5C%5Cevil.example"} {
		staysOn(t, preview, "pass next="+raw, passNext(raw))
		staysOn(t, preview, "redeem next="+raw, redeem("pass="+url.QueryEscape(pass.Get("pass"))+"&next="+raw))
	}
	for _, target := range nastyTargets {
		staysOn(t, preview, fmt.Sprintf("pass next=%q", target), passNext(url.QueryEscape(target)))
		staysOn(t, preview, fmt.Sprintf("redeem next=%q", target), redeem(url.Values{"pass": {pass.Get("pass")}, "next": {target}}.Encode()))
	}
	healthy(t, s)
}

// rawRequest opens a connection to the server and writes head.
func rawRequest(t *testing.T, s *testserver.Server, head string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	return c
}

// trickle writes one byte of body every gap until the server answers or
// hangs up, and returns the answer (nil when it hung up) and how long the
// server held on. It gives up after limit.
func trickle(t *testing.T, c net.Conn, body string, gap, limit time.Duration) (*http.Response, time.Duration) {
	t.Helper()
	start := time.Now()
	type answer struct {
		res *http.Response
		err error
	}
	answered := make(chan answer, 1)
	go func() {
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body = io.NopCloser(bytes.NewReader(b))
		}
		answered <- answer{res, err}
	}()
	tick := time.NewTicker(gap)
	defer tick.Stop()
	giveUp := time.After(limit)
	for i := 0; ; {
		select {
		case a := <-answered:
			return a.res, time.Since(start)
		case <-giveUp:
			c.Close()
			<-answered
			t.Fatalf("the server still held the connection after %s", limit)
		case <-tick.C:
			if i < len(body) {
				if _, err := c.Write([]byte{body[i]}); err == nil {
					i++
				}
			}
		}
	}
}

// Item 12: a request body that stops arriving, and headers that never
// finish, are cut off; uploads that keep moving, large ones, long answers
// and WebSockets are not.
func TestSlowRequestsAreCutOff(t *testing.T) {
	const timeout = time.Second
	s := sqlite(t, testserver.WithReadTimeout(timeout))
	ann := s.SignUp(t, "ann")
	p := ann.CreateProject(t, "Slow")
	files := "/api/projects/" + p.ID + "/files/"
	put := func(name string, size int) string {
		return fmt.Sprintf("PUT %s%s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Length: %d\r\n\r\n",
			files, name, s.Listener.Addr(), ann.CookieHeader(t), size)
	}

	t.Run("body trickled one byte every few seconds", func(t *testing.T) {
		c := rawRequest(t, s, put("trickled.txt", 64))
		res, held := trickle(t, c, strings.Repeat("x", 64), 3*timeout, 20*timeout)
		if res != nil && res.StatusCode < 400 {
			t.Fatalf("a trickled body was accepted: %d", res.StatusCode)
		}
		if held > 8*timeout {
			t.Fatalf("the server held a stalled body for %s (timeout %s)", held, timeout)
		}
		ann.Get(t, files+"trickled.txt").WantStatus(t, 404)
	})

	t.Run("headers never finished", func(t *testing.T) {
		c := rawRequest(t, s, "GET /api/monitoring/health HTTP/1.1\r\nHost: x\r\n")
		start := time.Now()
		// Each header line arrives in time, but the headers never end.
		res, held := trickle(t, c, strings.Repeat("X-Slow: 1\r\n", 200), timeout/4, 20*timeout)
		if res != nil && res.StatusCode < 400 {
			t.Fatalf("a request whose headers never ended got %d", res.StatusCode)
		}
		if held > 5*timeout {
			t.Fatalf("the server waited %s for headers (timeout %s)", time.Since(start), timeout)
		}
	})

	t.Run("slow upload that keeps moving", func(t *testing.T) {
		body := "slow but steady"
		c := rawRequest(t, s, put("steady.txt", len(body)))
		// Longer in all than the timeout, never a pause as long as it.
		res, _ := trickle(t, c, body, timeout/4, 30*timeout)
		if res == nil || res.StatusCode != http.StatusNoContent {
			t.Fatalf("a moving upload was cut off: %+v", res)
		}
		if got := ann.Get(t, files+"steady.txt").WantStatus(t, 200).Body; string(got) != body {
			t.Fatalf("steady.txt = %q", got)
		}
	})

	t.Run("large upload", func(t *testing.T) {
		big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
		ann.Put(t, files+"big.bin", big).WantStatus(t, 204)
		if got := ann.Get(t, files+"big.bin").WantStatus(t, 200).Body; !bytes.Equal(got, big) {
			t.Fatalf("big.bin came back as %d bytes", len(got))
		}
	})

	t.Run("answer slower than the timeout", func(t *testing.T) {
		testserver.NeedSandbox(t)
		// The body is read at once; the answer takes longer than the
		// timeout, which must not count against the request.
		res := sh(t, ann, p.ID, "sleep 2.5; echo done")
		if strings.TrimSpace(res.Stdout) != "done" {
			t.Fatalf("exec = %+v", res)
		}
	})

	t.Run("websocket idle longer than the timeout", func(t *testing.T) {
		testserver.NeedSandbox(t)
		sock := dialProject(t, s, ann, p.ID)
		sock.send(map[string]any{"type": "shell.open", "id": "t1", "rows": 24, "cols": 80})
		// Silence longer than the read timeout: a socket has no body to time.
		time.Sleep(3 * timeout)
		sock.send(map[string]any{"type": "shell.input", "id": "t1", "data": []byte("echo $((6*7)); exit 3\n")})
		out := sock.collect("t1", func(m wsMsg, _ string) bool { return m.Type == "shell.exit" && m.ID == "t1" })
		if !strings.Contains(out, "42") {
			t.Fatalf("shell output %q", out)
		}
	})
	healthy(t, s)
}
