package attack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/coder/websocket"
)

// collabMsg is what the workspace socket says about documents.
type collabMsg struct {
	Type    string
	Path    string
	Version *int
	Text    *string
	Code    string
	Message string
	Updates []struct{ ClientID string }
}

// collabNext reads the socket until a message of one of types comes.
func collabNext(t *testing.T, ctx context.Context, conn *websocket.Conn, types ...string) collabMsg {
	t.Helper()
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %v: %v", types, err)
		}
		var m collabMsg
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		for _, typ := range types {
			if m.Type == typ {
				return m
			}
		}
	}
}

// asCodeMirror is the text as CodeMirror holds it by default: every \r\n,
// \r and \n is one line break, "\n".
func asCodeMirror(s string) string { return regexp.MustCompile(`\r\n?`).ReplaceAllString(s, "\n") }

// A file saved with Windows line endings could not be edited together:
// the server counted the \r that CodeMirror does not, so an edit after
// the first line did not fit the document, was refused, and was lost.
func TestCollabCRLFEditIsKept(t *testing.T) {
	s := sqlite(t)
	owner := s.SignUp(t, "wendy")
	p := owner.CreateProject(t, "Windows")
	owner.Put(t, "/api/projects/"+p.ID+"/files/main.py", "one\r\ntwo\r\nthree\r\n").WantStatus(t, 204)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/projects/" + p.ID + "/ws"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {owner.CookieHeader(t)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	send := func(m any) {
		b, _ := json.Marshal(m)
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "doc.open", "path": "main.py"})
	opened := collabNext(t, ctx, conn, "doc.opened", "error")
	if opened.Type != "doc.opened" {
		t.Fatalf("open: %+v", opened)
	}
	doc := asCodeMirror(*opened.Text)
	n := len(utf16.Encode([]rune(doc)))

	// Insert "X" at the start of the second line, where the editor counts it.
	at := len("one\n")
	changes, _ := json.Marshal([]any{at, []any{0, "X"}, n - at})
	send(map[string]any{"type": "doc.push", "path": "main.py", "version": *opened.Version,
		"updates": []map[string]any{{"clientID": "wendy-tab", "changes": json.RawMessage(changes)}}})
	m := collabNext(t, ctx, conn, "doc.update", "doc.rejected", "error")
	if m.Type != "doc.update" || len(m.Updates) != 1 || m.Updates[0].ClientID != "wendy-tab" {
		t.Fatalf("the edit was refused: %+v", m)
	}
	disk, err := os.ReadFile(filepath.Join(s.App.Config.DataDir, "projects", p.ID, "main.py"))
	if err != nil || string(disk) != "one\r\nXtwo\r\nthree\r\n" {
		t.Fatalf("confirmed, but the file holds %q (%v)", disk, err)
	}
	healthy(t, s)
}
