package collab_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"ecode/internal/testserver"
)

// together has clients make edits random edits each, concurrently (with
// none, their pushes settle), until all are confirmed, then returns the
// text they all hold.
func together(t *testing.T, ctx context.Context, clients []*client, edits int) string {
	t.Helper()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			for c.made < edits || c.pending != nil {
				timer := time.NewTimer(time.Duration(c.rng.IntN(2000)) * time.Microsecond)
				select {
				case m, ok := <-c.in:
					timer.Stop()
					if !ok {
						t.Errorf("%s: connection closed", c.id)
						return
					}
					c.handle(ctx, m)
				case <-timer.C:
					if c.epoch != "" && c.pending == nil && c.made < edits {
						c.newEdit()
						c.maybePush(ctx)
					}
				case <-ctx.Done():
					t.Errorf("%s: timed out with %d edits made, pending %v", c.id, c.made, c.pending)
					return
				}
			}
		})
	}
	wg.Wait()
	return caughtUp(t, ctx, clients)
}

// caughtUp reconnects each client, all of whose edits are confirmed, so
// it holds what the others did last too, and returns the text they all
// hold, failing unless they agree.
func caughtUp(t *testing.T, ctx context.Context, clients []*client) string {
	t.Helper()
	var final string
	for _, c := range clients {
		c.conn.CloseNow()
		for range c.in {
		}
		c.connect(ctx)
		c.handle(ctx, c.next("doc.opened"))
		got := string(utf16.Decode(c.doc))
		if c == clients[0] {
			final = got
		} else if got != final {
			t.Fatalf("%s has %q, %s %q", c.id, got, clients[0].id, final)
		}
	}
	return final
}

// Files keep their own line endings while people edit them together; the
// editors see "\n" only, as CodeMirror counts, so no edit is refused for
// not fitting the document.
func TestLineEndingsLive(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		owner := s.SignUp(t, "lena")
		p := owner.CreateProject(t, "Endings")
		for i, tc := range []struct{ name, file, eol string }{
			{"crlf.py", "def f():\r\n    return 1\r\n\r\nprint(f())\r\n", "\r\n"},
			{"lf.py", "def f():\n    return 1\n\nprint(f())\n", "\n"},
			{"mac.txt", "old\rmac\rfile", "\r"},
			// Mixed: the majority ending, throughout, once edited.
			{"mixed.txt", "a\r\nb\nc\r\nd\r\n", "\r\n"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				owner.Put(t, "/api/projects/"+p.ID+"/files/"+tc.name, tc.file).WantStatus(t, 204)
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				var clients []*client
				for j := range 2 {
					c := open(t, s, owner, p.ID, tc.name)
					c.id, c.rng = fmt.Sprintf("%s-%d", tc.name, j), rand.New(rand.NewPCG(uint64(i), uint64(j)))
					m := c.next("doc.opened")
					if want := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(tc.file); *m.Text != want {
						t.Fatalf("opened as %q, want %q", *m.Text, want)
					}
					c.handle(ctx, m)
					clients = append(clients, c)
				}
				// Both edit after the first line at once: one is rebased over the other.
				first, second := clients[0], clients[1]
				first.pending = &edit{from: 4, to: 4, insert: utf16.Encode([]rune("1\n"))}
				second.pending = &edit{from: 6, to: 6, insert: utf16.Encode([]rune("2"))}
				first.maybePush(ctx)
				second.maybePush(ctx)
				if both := together(t, ctx, clients, 0); !strings.Contains(both, "1\n") || !strings.Contains(both, "2") {
					t.Fatalf("an edit was lost: %q", both)
				}
				final := together(t, ctx, clients, 15)
				disk, err := os.ReadFile(filepath.Join(s.App.Config.DataDir, "projects", p.ID, tc.name))
				if err != nil {
					t.Fatal(err)
				}
				if want := strings.ReplaceAll(final, "\n", tc.eol); string(disk) != want {
					t.Fatalf("disk %q, want %q", disk, want)
				}
			})
		}
	})
}

// A file changed on disk underneath an open document comes in with "\n"
// line breaks like any other; its ending, when it changes, is the one
// written from then on.
func TestLineEndingsFromDisk(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		owner := s.SignUp(t, "dora")
		p := owner.CreateProject(t, "Disk")
		url := "/api/projects/" + p.ID + "/files/notes.txt"
		onDisk := filepath.Join(s.App.Config.DataDir, "projects", p.ID, "notes.txt")
		owner.Put(t, url, "a\nb\n").WantStatus(t, 204)
		c := open(t, s, owner, p.ID, "notes.txt")
		c.handle(t.Context(), c.next("doc.opened"))

		// Another tool rewrites it with Windows endings and a new line.
		owner.Put(t, url, "a\r\nb\r\nc\r\n").WantStatus(t, 204)
		c.handle(t.Context(), c.next("doc.update"))
		if got := string(utf16.Decode(c.doc)); got != "a\nb\nc\n" {
			t.Fatalf("after the change on disk: %q", got)
		}
		c.pending = &edit{from: 4, to: 4, insert: utf16.Encode([]rune("X\n"))}
		c.maybePush(t.Context())
		c.handle(t.Context(), c.next("doc.update"))
		if c.pending != nil {
			t.Fatal("the edit was not confirmed")
		}
		if disk, err := os.ReadFile(onDisk); err != nil || string(disk) != "a\r\nb\r\nX\r\nc\r\n" {
			t.Fatalf("the file holds %q (%v)", disk, err)
		}

		// Only the endings change (dos2unix): the text is the same, the
		// editors hear nothing, and the next edit keeps the new ending.
		owner.Put(t, url, "a\nb\nX\nc\n").WantStatus(t, 204)
		c.next("files.changed")
		c.pending = &edit{from: 0, to: 1, insert: utf16.Encode([]rune("A"))}
		c.maybePush(t.Context())
		m := c.next("doc.update")
		if len(m.Updates) != 1 || m.Updates[0].ClientID != c.id {
			t.Fatalf("a change of line endings alone reached the editor: %+v", m)
		}
		c.handle(t.Context(), m)
		if disk, err := os.ReadFile(onDisk); err != nil || string(disk) != "A\nb\nX\nc\n" {
			t.Fatalf("the file holds %q (%v)", disk, err)
		}
		if got := string(utf16.Decode(c.doc)); got != "A\nb\nX\nc\n" {
			t.Fatalf("the editor holds %q", got)
		}
	})
}
