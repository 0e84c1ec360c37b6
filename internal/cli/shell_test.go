package cli_test

import (
	"context"
	"io"
	"os"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"ecode/internal/cli"
	"ecode/internal/testserver"
)

func TestShell(t *testing.T) {
	t.Parallel()
	testserver.NeedSandbox(t)
	_, alice, sh := loggedIn(t)
	alice.CreateProject(t, "Box")

	// Piped: stdin is typed in, then the shell exits with the last status.
	sh.run(t, "echo $((6*7))\nexit 4\n", "shell", "-p", "alice/box").want(t, 4, "42")
	sh.run(t, "echo piped-$((1+1)); false", "shell", "-p", "alice/box").want(t, 1, "piped-2")
	sh.run(t, "", "shell", "-p", "alice/nothing").want(t, cli.ExitNotFound, "not_found")

	// On a terminal: raw keys, the terminal's size at the start and after
	// a resize, the shell's exit code, and the terminal as it was after.
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	// Sized through the master: the tty's Fd would make it blocking, and
	// the shell could not stop reading it.
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 33, Cols: 101}); err != nil {
		t.Fatal(err)
	}
	fd := descriptor(t, tty)
	before, err := term.GetState(fd)
	if err != nil {
		t.Fatal(err)
	}
	var screen liveOutput
	go io.Copy(&screen, ptmx) // until the cleanup closes it
	typed := func(s string) {
		t.Helper()
		if _, err := ptmx.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	code := make(chan int, 1)
	go func() { code <- sh.runCtx(context.Background(), tty, tty, tty, "shell", "-p", "alice/box") }()
	screen.waitFor(t, "$ ", 60*time.Second) // the prompt
	typed("stty size\r")
	screen.waitFor(t, "33 101", 20*time.Second)

	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	// The window changed: what a terminal tells its process.
	if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	// The resize and the next keys travel apart: ask until the shell sees it.
	typed("stty size\r")
	for i := 1; !screen.wait("40 120", time.Second); i++ {
		if i == 20 {
			t.Fatalf("the resize never reached the shell; screen:\n%s", screen.String())
		}
		typed("stty size\r")
	}

	typed("echo $((6*7)); exit 5\r")
	wantExit(t, code, 5, 30*time.Second, "the shell did not end", &screen)
	screen.waitFor(t, "42\r\n", 5*time.Second)
	after, err := term.GetState(fd)
	if err != nil || !reflect.DeepEqual(before, after) {
		t.Fatalf("the terminal was left changed: %v", err)
	}
}

// descriptor is f's descriptor, taken without Fd, which would make f
// blocking.
func descriptor(t *testing.T, f *os.File) int {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	if err := sc.Control(func(p uintptr) { fd = int(p) }); err != nil {
		t.Fatal(err)
	}
	return fd
}
