// Package attack replays, against the real server and real sandboxes, the
// attacks an ordinary account once made work: code in a sandbox steering
// what the server does as root, secrets leaking past masks, the network
// edges, the login and the audit log. Each test fails if the attack
// succeeds; the server must stay healthy through all of them.
package attack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// The test binary is also the sandbox agent, as the ecode binary is.
func TestMain(m *testing.M) { testserver.Main(m) }

// execResult is the answer of POST /api/projects/{id}/exec.
type execResult struct {
	ExitCode int
	Stdout   string
	Stderr   string
	TimedOut bool
}

// sh runs a shell line in the project's sandbox and fails the test unless
// it exits 0.
func sh(t *testing.T, c *testserver.Client, projectID, command string) execResult {
	t.Helper()
	var res execResult
	c.Post(t, "/api/projects/"+projectID+"/exec", map[string]any{"command": command, "timeoutSec": 120}).WantStatus(t, 200).Decode(t, &res)
	if res.ExitCode != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", command, res.ExitCode, res.Stdout, res.Stderr)
	}
	return res
}

// sqlite starts one server on SQLite: the attacks are about files,
// processes and the wire, not the database engine.
func sqlite(t *testing.T, opts ...testserver.Option) *testserver.Server {
	t.Helper()
	return testserver.New(t, testdb.Engines(t)[0], opts...)
}

// healthy fails the test unless the server still answers its health check.
func healthy(t *testing.T, s *testserver.Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := s.Anonymous().Get(t, "/api/monitoring/health")
		if r.StatusCode == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server unhealthy after the attack: %d %s", r.StatusCode, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// socket is a workspace WebSocket of one client (nil: anonymous).
type socket struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialProject(t *testing.T, s *testserver.Server, c *testserver.Client, projectID string) *socket {
	t.Helper()
	h := http.Header{}
	if c != nil {
		h.Set("Cookie", c.CookieHeader(t))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/api/projects/"+projectID+"/ws",
		&websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(8 << 20)
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	return &socket{t: t, conn: conn}
}

func (k *socket) send(m map[string]any) {
	k.t.Helper()
	b, _ := json.Marshal(m)
	if err := k.conn.Write(k.t.Context(), websocket.MessageText, b); err != nil {
		k.t.Fatal(err)
	}
}

type wsMsg struct {
	Type  string
	ID    string
	Data  []byte
	RunID string
	Run   *struct{ ID, Status string }
	Code  *int
}

// collect reads messages, gathering the console output (or shell id's
// output), until done says so or the deadline passes.
func (k *socket) collect(shellID string, done func(m wsMsg, seen string) bool) string {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(k.t.Context(), 60*time.Second)
	defer cancel()
	var seen strings.Builder
	for {
		_, b, err := k.conn.Read(ctx)
		if err != nil {
			k.t.Fatalf("socket read, having seen %q: %v", seen.String(), err)
		}
		var m wsMsg
		if err := json.Unmarshal(b, &m); err != nil {
			k.t.Fatal(err)
		}
		switch {
		case shellID == "" && (m.Type == "console.reset" || m.Type == "console.output"):
			seen.Write(m.Data)
		case shellID != "" && m.Type == "shell.output" && m.ID == shellID:
			seen.Write(m.Data)
		}
		if done(m, seen.String()) {
			return seen.String()
		}
	}
}

// shellOutput opens a shell in the project over its WebSocket, types
// input, and returns what the shell printed until it exited.
func shellOutput(t *testing.T, s *testserver.Server, c *testserver.Client, projectID, input string) string {
	t.Helper()
	sock := dialProject(t, s, c, projectID)
	sock.conn.SetReadLimit(-1)
	sock.send(map[string]any{"type": "shell.open", "id": "sh", "rows": 24, "cols": 200})
	sock.send(map[string]any{"type": "shell.input", "id": "sh", "data": []byte(input)})
	return sock.collect("sh", func(m wsMsg, _ string) bool { return m.Type == "shell.exit" && m.ID == "sh" })
}
