package run_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/run"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// watcher is one tab following a shell through the run capability.
type watcher struct {
	t      *testing.T
	screen run.ShellScreen
	events <-chan run.ShellEvent
	out    strings.Builder
	exit   *int
}

// watching returns what turns Open's or Attach's results into a watcher.
func watching(t *testing.T) func(run.ShellScreen, <-chan run.ShellEvent, func(), error) *watcher {
	return func(screen run.ShellScreen, events <-chan run.ShellEvent, cancel func(), err error) *watcher {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cancel)
		w := &watcher{t: t, screen: screen, events: events}
		w.out.Write(screen.Data)
		return w
	}
}

// waitFor reads the shell's events until its output contains want.
func (w *watcher) waitFor(want string) {
	w.t.Helper()
	w.until(func() bool { return strings.Contains(w.out.String(), want) }, "output "+want)
}

// waitExit reads the shell's events until it exits.
func (w *watcher) waitExit() int {
	w.t.Helper()
	w.until(func() bool { return w.exit != nil }, "the exit")
	return *w.exit
}

func (w *watcher) until(done func() bool, what string) {
	w.t.Helper()
	deadline := time.After(30 * time.Second)
	for !done() {
		select {
		case e, ok := <-w.events:
			if !ok {
				w.t.Fatalf("the shell let go of its watcher before %s; saw %q", what, w.out.String())
			}
			switch e.Type {
			case "output":
				w.out.Write(e.Data)
			case "exit":
				code := e.Code
				w.exit = &code
			}
		case <-deadline:
			w.t.Fatalf("no %s after 30s; saw %q", what, w.out.String())
		}
	}
}

func shellsOf(t *testing.T, s *testserver.Server, c *testserver.Client, projectID string) *run.Shells {
	t.Helper()
	var actor *auth.User
	if c != nil {
		var err error
		if actor, err = s.App.Auth.UserByUsername(t.Context(), c.User.Username); err != nil {
			t.Fatal(err)
		}
	}
	sh, err := s.App.Runs.Shells(t.Context(), actor, projectID)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// One shell, three people: the owner opens it, an editor joins and types,
// both see all of it; a viewer joins late, sees the screen so far and
// what follows, masked strictly, and is refused everything but viewing.
// The owner's close ends it for everyone.
func TestSharedShell(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		amy, eli, vic := s.SignUp(t, "amy"), s.SignUp(t, "eli"), s.SignUp(t, "vic")
		p := amy.CreateProject(t, "Together")
		base := "/api/projects/" + p.ID
		amy.Post(t, base+"/members", map[string]string{"username": "eli", "role": "editor"}).WantStatus(t, 201)
		amy.Post(t, base+"/members", map[string]string{"username": "vic", "role": "viewer"}).WantStatus(t, 201)
		amy.Put(t, base+"/secrets/PASSWORD", map[string]string{"value": "hunter2"}).WantStatus(t, 204)
		mine, theirs, viewing := shellsOf(t, s, amy, p.ID), shellsOf(t, s, eli, p.ID), shellsOf(t, s, vic, p.ID)
		ctx, watch := t.Context(), watching(t)

		changed, stopFollowing := viewing.Follow()
		defer stopFollowing()
		a := watch(mine.Open(ctx, "s1", 30, 100))
		select {
		case <-changed:
		case <-time.After(10 * time.Second):
			t.Fatal("the list's followers were not told of the new shell")
		}
		l := viewing.List()
		if len(l.Shells) != 1 || l.Shells[0].ID != "s1" || l.Shells[0].Title != "Shell 1" || l.Shells[0].Opener.Username != "amy" ||
			l.Shells[0].Rows != 30 || l.Shells[0].Cols != 100 {
			t.Fatalf("list: %+v", l)
		}
		e := watch(theirs.Attach("s1"))
		if err := mine.Input("s1", []byte("echo owner-$((6*7))\n")); err != nil {
			t.Fatal(err)
		}
		a.waitFor("owner-42")
		e.waitFor("owner-42")
		if err := theirs.Input("s1", []byte("echo editor-$((7*7))\n")); err != nil {
			t.Fatal(err)
		}
		a.waitFor("editor-49")
		e.waitFor("editor-49")

		// The viewer joins late: the screen so far, then what follows.
		v := watch(viewing.Attach("s1"))
		if !strings.Contains(string(v.screen.Data), "owner-42") || !strings.Contains(string(v.screen.Data), "editor-49") {
			t.Fatalf("the viewer's screen on joining: %q", v.screen.Data)
		}
		if v.screen.Rows != 30 || v.screen.Cols != 100 {
			t.Fatalf("the viewer's screen is %dx%d", v.screen.Rows, v.screen.Cols)
		}
		for what, err := range map[string]error{
			"type":   viewing.Input("s1", []byte("touch hacked\n")),
			"resize": viewing.Resize("s1", 10, 10),
			"close":  viewing.Close("s1"),
		} {
			if !errs.Is(err, errs.KindForbidden) || !strings.Contains(err.Error(), "not change it") {
				t.Errorf("the viewer may %s: %v", what, err)
			}
		}
		if _, _, _, err := viewing.Open(ctx, "v1", 24, 80); !errs.Is(err, errs.KindForbidden) {
			t.Errorf("the viewer opened a shell: %v", err)
		}

		// A secret printed in two pieces with a pause: the editors' stream
		// lets the first piece go after a moment (their typing must not
		// wait, and they run code with the secret anyway); the viewer's
		// shows neither piece. (The command line itself, echoed, holds
		// neither.)
		if err := mine.Input("s1", []byte(`printf 'hun'; sleep 0.3; printf 'te%s2' r; printf ' [%s]\n' "$PASSWORD"; echo split-$((1+1))`+"\n")); err != nil {
			t.Fatal(err)
		}
		a.waitFor("split-2")
		v.waitFor("split-2")
		if got := v.out.String(); strings.Contains(got, "hunter2") || strings.Contains(got, "ter2") || !strings.Contains(got, "********") {
			t.Fatalf("the viewer sees %q", got)
		}
		if got := a.out.String(); strings.Contains(got, "[hunter2]") || !strings.Contains(got, "[********]") {
			t.Fatalf("the owner sees %q", got)
		}

		// The last to resize sets the size everyone is shown.
		if err := theirs.Resize("s1", 40, 120); err != nil {
			t.Fatal(err)
		}
		if l := viewing.List(); l.Shells[0].Rows != 40 || l.Shells[0].Cols != 120 {
			t.Fatalf("after a resize: %+v", l.Shells[0])
		}

		// The owner closes it: everyone is told, and it is gone.
		if err := mine.Close("s1"); err != nil {
			t.Fatal(err)
		}
		for _, w := range []*watcher{a, e, v} {
			w.waitExit()
		}
		if _, _, _, err := viewing.Attach("s1"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("attach to a closed shell: %v", err)
		}
		if l := mine.List(); len(l.Shells) != 0 {
			t.Fatalf("a closed shell is still listed: %+v", l)
		}
		// A stranger does not get that far.
		if _, err := s.App.Runs.Shells(ctx, nil, p.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("a visitor of a private project: %v", err)
		}
	})
}

// A shell lives while someone watches it, however long; once nobody has
// for the idle timeout, it is closed. The project holds a limited number.
func TestShellIdleAndLimit(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0], testserver.WithShellIdle(time.Second))
	amy := s.SignUp(t, "amy")
	p := amy.CreateProject(t, "Idle")
	shells := shellsOf(t, s, amy, p.ID)
	ctx := t.Context()

	_, _, detach, err := shells.Open(ctx, "kept", 24, 80)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // watched past the timeout
	if l := shells.List(); len(l.Shells) != 1 {
		t.Fatalf("a watched shell was closed: %+v", l)
	}
	detach()
	deadline := time.Now().Add(15 * time.Second)
	for len(shells.List().Shells) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a shell nobody watched is still open after 15s")
		}
		time.Sleep(50 * time.Millisecond)
	}

	for i := range 16 {
		if _, _, _, err := shells.Open(ctx, fmt.Sprint("n", i), 24, 80); err != nil {
			t.Fatalf("shell %d: %v", i, err)
		}
	}
	_, _, _, err = shells.Open(ctx, "one-too-many", 24, 80)
	if e, ok := errs.As(err); !ok || e.Code != "too_many_shells" || !strings.Contains(e.Message, "16") {
		t.Fatalf("the 17th shell: %v", err)
	}
	if _, _, _, err := shells.Open(ctx, "n0", 24, 80); !errs.Is(err, errs.KindConflict) {
		t.Fatalf("a second shell under one id: %v", err)
	}
}

// A watcher that stops reading is let go rather than holding the shell
// back; attaching again gives it the screen, held to the scrollback's
// size and starting at a line.
func TestShellSlowWatcher(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	amy := s.SignUp(t, "amy")
	p := amy.CreateProject(t, "Firehose")
	shells := shellsOf(t, s, amy, p.ID)

	_, stalled, stop, err := shells.Open(t.Context(), "f", 24, 80)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := shells.Input("f", []byte("yes firehose | head -c 4000000; echo; echo end-$((2*3))\n")); err != nil {
		t.Fatal(err)
	}
	var screen run.ShellScreen
	for deadline := time.Now().Add(30 * time.Second); !bytes.Contains(screen.Data, []byte("end-6")); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no end after 30s; the screen ends %q", screen.Data[max(0, len(screen.Data)-80):])
		}
		var detach func()
		if screen, _, detach, err = shells.Attach("f"); err != nil {
			t.Fatal(err)
		}
		detach()
	}
	for e := range stalled { // closed: it fell behind
		if e.Type == "exit" {
			t.Fatal("the stalled watcher was told the shell exited")
		}
	}
	if n := len(screen.Data); n > 256<<10 || n < 200<<10 {
		t.Fatalf("the screen is %d bytes", n)
	}
	if !bytes.HasPrefix(screen.Data, []byte("firehose\r\n")) {
		t.Fatalf("the screen starts %q", screen.Data[:40])
	}
}
