package ws_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"ecode/internal/testserver"
)

// The test binary is also the sandbox agent, as the ecode binary is.
func TestMain(m *testing.M) { testserver.Main(m) }

type shellInfo struct {
	ID, Title  string
	Opener     struct{ ID, Username string }
	Rows, Cols int
}

type message struct {
	Type, ID, Message string
	Code              any // an error's code; a shell's exit code
	Data              []byte
	Rows, Cols        int
	Shells            []shellInfo
	Active            map[string]string
}

// tab is one workspace tab's socket, with what it has been shown.
type tab struct {
	t      *testing.T
	conn   *websocket.Conn
	output map[string]*strings.Builder // by shell id
	list   *message                    // the latest list of shells
	seen   []message
}

func dial(t *testing.T, s *testserver.Server, c *testserver.Client, projectID string) *tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/api/projects/"+projectID+"/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {c.CookieHeader(t)}}})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(-1)
	t.Cleanup(func() { conn.CloseNow() })
	return &tab{t: t, conn: conn, output: map[string]*strings.Builder{}}
}

func (k *tab) send(m map[string]any) {
	k.t.Helper()
	b, _ := json.Marshal(m)
	if err := k.conn.Write(k.t.Context(), websocket.MessageText, b); err != nil {
		k.t.Fatal(err)
	}
}

func (k *tab) out(id string) string {
	if b := k.output[id]; b != nil {
		return b.String()
	}
	return ""
}

// until reads messages until done says so; it fails after 30s.
func (k *tab) until(what string, done func(m message) bool) message {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(k.t.Context(), 30*time.Second)
	defer cancel()
	for {
		_, b, err := k.conn.Read(ctx)
		if err != nil {
			k.t.Fatalf("waiting for %s: %v; seen %+v", what, err, k.seen)
		}
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			k.t.Fatal(err)
		}
		switch m.Type {
		case "shell.attached":
			k.output[m.ID] = &strings.Builder{}
			fallthrough
		case "shell.output":
			if k.output[m.ID] == nil {
				k.output[m.ID] = &strings.Builder{}
			}
			k.output[m.ID].Write(m.Data)
		case "shells":
			k.list = &m
		}
		if m.Type != "shell.output" && !strings.HasPrefix(m.Type, "doc.") && m.Type != "presence" {
			k.seen = append(k.seen, m)
		}
		if done(m) {
			return m
		}
	}
}

func (k *tab) waitOutput(id, want string) {
	k.t.Helper()
	k.until("output "+want, func(message) bool { return strings.Contains(k.out(id), want) })
}

func (k *tab) waitList(what string, ok func(l []shellInfo) bool) message {
	k.t.Helper()
	return k.until(what, func(m message) bool { return m.Type == "shells" && ok(m.Shells) })
}

// TestSharedShellOverSocket: the project's shells as tabs see them. The
// owner opens one; an editor's tab lists it, joins it and types in it,
// and both see everything; a viewer's tab watches from the screen so far
// and is refused input with a reason; a tab that reconnects attaches
// again; whom an editor looks at is listed for those following them; the
// owner's close ends it for every tab.
func TestSharedShellOverSocket(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ann, ed, val := s.SignUp(t, "ann"), s.SignUp(t, "eddie"), s.SignUp(t, "val")
		p := ann.CreateProject(t, "Pairing")
		base := "/api/projects/" + p.ID
		ann.Post(t, base+"/members", map[string]string{"username": "eddie", "role": "editor"}).WantStatus(t, 201)
		ann.Post(t, base+"/members", map[string]string{"username": "val", "role": "viewer"}).WantStatus(t, 201)

		owner, editor, viewer := dial(t, s, ann, p.ID), dial(t, s, ed, p.ID), dial(t, s, val, p.ID)
		for _, k := range []*tab{owner, editor, viewer} {
			k.send(map[string]any{"type": "shells.subscribe"})
			k.waitList("an empty list", func(l []shellInfo) bool { return len(l) == 0 })
		}
		owner.send(map[string]any{"type": "shell.open", "id": "sh1", "rows": 30, "cols": 90})
		owner.until("shell.opened", func(m message) bool { return m.Type == "shell.opened" && m.ID == "sh1" })
		l := editor.waitList("the new shell", func(l []shellInfo) bool { return len(l) == 1 })
		if sh := l.Shells[0]; sh.ID != "sh1" || sh.Title != "Shell 1" || sh.Opener.Username != "ann" || sh.Opener.ID != ann.User.ID || sh.Rows != 30 || sh.Cols != 90 {
			t.Fatalf("listed: %+v", sh)
		}

		editor.send(map[string]any{"type": "shell.attach", "id": "sh1"})
		editor.until("shell.attached", func(m message) bool { return m.Type == "shell.attached" && m.ID == "sh1" })
		owner.send(map[string]any{"type": "shell.input", "id": "sh1", "data": []byte("echo from-ann-$((6*7))\n")})
		owner.waitOutput("sh1", "from-ann-42")
		editor.waitOutput("sh1", "from-ann-42")
		editor.send(map[string]any{"type": "shell.input", "id": "sh1", "data": []byte("echo from-ed-$((7*7))\n")})
		editor.waitOutput("sh1", "from-ed-49")
		owner.waitOutput("sh1", "from-ed-49")

		// The viewer: the screen so far, then live; typing is refused, saying why.
		viewer.send(map[string]any{"type": "shell.attach", "id": "sh1"})
		viewer.until("shell.attached", func(m message) bool { return m.Type == "shell.attached" && m.ID == "sh1" })
		if got := viewer.out("sh1"); !strings.Contains(got, "from-ann-42") || !strings.Contains(got, "from-ed-49") {
			t.Fatalf("the viewer joined to %q", got)
		}
		for _, typ := range []string{"shell.input", "shell.resize", "shell.close", "shell.open"} {
			viewer.send(map[string]any{"type": typ, "id": "sh1", "data": []byte("touch hacked\n"), "rows": 5, "cols": 5})
			e := viewer.until(typ+" refused", func(m message) bool { return m.Type == "error" && m.ID == "sh1" })
			if e.Code != "forbidden" || !strings.Contains(e.Message, "can view this project but not change it") {
				t.Fatalf("%s as a viewer: %+v", typ, e)
			}
		}
		owner.send(map[string]any{"type": "shell.input", "id": "sh1", "data": []byte("ls hacked 2>&1; echo after-$((8*8))\n")})
		viewer.waitOutput("sh1", "after-64")
		if strings.Contains(owner.out("sh1"), "touch hacked") {
			t.Fatalf("the viewer's keys reached the shell: %q", owner.out("sh1"))
		}

		// Whom people look at: what following them shows.
		editor.send(map[string]any{"type": "shell.focus", "id": "sh1"})
		viewer.until("the editor's focus", func(m message) bool { return m.Type == "shells" && m.Active[ed.User.ID] == "sh1" })

		// The owner's tab drops and comes back: the shell is still there.
		owner.conn.CloseNow()
		owner = dial(t, s, ann, p.ID)
		owner.send(map[string]any{"type": "shells.subscribe"})
		owner.send(map[string]any{"type": "shell.attach", "id": "sh1"})
		owner.until("shell.attached", func(m message) bool { return m.Type == "shell.attached" && m.ID == "sh1" })
		if !strings.Contains(owner.out("sh1"), "after-64") {
			t.Fatalf("re-attached to %q", owner.out("sh1"))
		}

		// The owner closes it: every tab is told, and the list empties.
		owner.send(map[string]any{"type": "shell.close", "id": "sh1"})
		for _, k := range []*tab{owner, editor, viewer} {
			exited := false
			k.until("shell.exit and the list without it", func(m message) bool {
				exited = exited || m.Type == "shell.exit" && m.ID == "sh1"
				return exited && k.list != nil && len(k.list.Shells) == 0
			})
		}
		editor.send(map[string]any{"type": "shell.attach", "id": "sh1"})
		if e := editor.until("refusal", func(m message) bool { return m.Type == "error" && m.ID == "sh1" }); e.Code != "no_such_shell" {
			t.Fatalf("attach to a closed shell: %+v", e)
		}
	})
}
