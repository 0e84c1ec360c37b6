package cli

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (a *app) shellCmd() *cobra.Command {
	var ref string
	c := &cobra.Command{
		Use:   "shell [-p PROJECT]",
		Short: "Open a terminal in a project's sandbox",
		Long: `Open an interactive shell (bash) in the project's sandbox, in the folder of
its files. It is one of the project's shells: its other editors see it in the
workspace's list and may join it.

On a terminal, every key goes to the shell (Ctrl-C interrupts the command
running there; exit or Ctrl-D ends the shell) and the shell's size follows
the window's. With stdin piped, what it holds is typed into the shell and, at
its end, the shell is told to exit, as typing exit would.

ecode exits with the shell's exit status. If the connection to the server is
lost, it says so and exits 1; the shell ends on the server once nobody has
watched it for a while.`,
		Example: `  ecode shell -p alice/blog
  echo 'npm test' | ecode shell -p alice/blog`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.project(cmd.Context(), ref, ".")
			if err != nil {
				return err
			}
			sock, err := dialWorkspace(cmd.Context(), c, p.ID)
			if err != nil {
				return err
			}
			defer sock.Close()
			return a.shell(cmd.Context(), sock)
		},
	}
	a.projectFlag(c, &ref)
	return c
}

// shell opens a shell on sock and connects it to the command's stdin and
// stdout until it exits.
func (a *app) shell(ctx context.Context, sock *socket) error {
	id := "cli-" + rand.Text()
	fd, tty := terminalFd(a.env.Stdin)
	rows, cols := uint16(24), uint16(80)
	if tty {
		if w, h, err := term.GetSize(fd); err == nil && w > 0 && h > 0 {
			rows, cols = uint16(h), uint16(w)
		}
		old, err := term.MakeRaw(fd)
		if err != nil {
			return fmt.Errorf("put the terminal in raw mode: %w", err)
		}
		defer term.Restore(fd, old)
	}
	// broke ends a session that did not end with the shell: its message
	// starts a line of its own.
	broke := func(err error) error {
		if tty {
			io.WriteString(a.env.Stderr, "\r\n")
		}
		return err
	}
	if err := sock.Send(wsMsg{Type: "shell.open", ID: id, Rows: rows, Cols: cols}); err != nil {
		return err
	}
	inputErr := make(chan error, 1)
	opened := false
	for {
		select {
		case <-ctx.Done():
			_ = sock.Send(wsMsg{Type: "shell.close", ID: id})
			return &exitError{code: ExitInterrupted}
		case err := <-inputErr:
			_ = sock.Send(wsMsg{Type: "shell.close", ID: id})
			return broke(err)
		case m, ok := <-sock.In:
			if !ok {
				return broke(sock.Err())
			}
			if m.ID != id && m.ID != "" {
				continue
			}
			switch m.Type {
			case "shell.opened":
				if opened {
					continue
				}
				opened = true
				defer a.typeInto(sock, id, inputErr)()
				if tty {
					defer followSize(sock, id, fd)()
				}
			case "shell.output":
				if _, err := a.env.Stdout.Write(m.Data); err != nil {
					_ = sock.Send(wsMsg{Type: "shell.close", ID: id})
					return broke(fmt.Errorf("write the output: %w", err))
				}
			case "shell.attached":
				// This end fell behind and was sent the screen again: a
				// terminal is cleared and redrawn; other output cannot be.
				if tty {
					io.WriteString(a.env.Stdout, "\x1b[H\x1b[2J")
					a.env.Stdout.Write(m.Data)
				} else {
					fmt.Fprintln(a.env.Stderr, skippedOutput)
				}
			case "shell.exit":
				return shellExit(m.Code)
			case "error":
				return broke(m.apiError())
			}
		}
	}
}

// shellExit is the command's end for a shell's exit code.
func shellExit(raw json.RawMessage) error {
	var code int
	if err := json.Unmarshal(raw, &code); err != nil {
		return fmt.Errorf("the shell ended without an exit status: %w", err)
	}
	return exitWith(code, "the shell was ended on the server")
}

// typeInto sends what stdin holds to shell id as it comes. At the end of
// stdin that is not a terminal, it tells the shell to exit (after the
// last line, finished if it was not). A read error goes to failed. stop
// ends the reading where stdin allows it (a terminal or pipe the runtime
// polls), so the next command may read it; elsewhere the reader ends with
// the process.
func (a *app) typeInto(sock *socket, id string, failed chan<- error) (stop func()) {
	_, tty := terminalFd(a.env.Stdin)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 32<<10)
		last := byte('\n')
		for {
			n, err := a.env.Stdin.Read(buf)
			if n > 0 {
				last = buf[n-1]
				if sock.Send(wsMsg{Type: "shell.input", ID: id, Data: append([]byte(nil), buf[:n]...)}) != nil {
					return // the socket is gone; the command says so
				}
			}
			switch {
			case err == nil:
			case errors.Is(err, io.EOF) && tty:
				failed <- errors.New("the terminal was closed")
				return
			case errors.Is(err, io.EOF):
				end := "exit\n"
				if last != '\n' {
					end = "\n" + end
				}
				_ = sock.Send(wsMsg{Type: "shell.input", ID: id, Data: []byte(end)})
				return
			case errors.Is(err, os.ErrDeadlineExceeded):
				return
			default:
				failed <- fmt.Errorf("read stdin: %w", err)
				return
			}
		}
	}()
	return func() {
		f, ok := a.env.Stdin.(*os.File)
		if !ok || f.SetReadDeadline(time.Now()) != nil {
			return
		}
		<-done
		_ = f.SetReadDeadline(time.Time{})
	}
}

// followSize sends the terminal's size to shell id whenever the window
// changes, until the returned stop.
func followSize(sock *socket, id string, fd int) (stop func()) {
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-quit:
				return
			case <-winch:
				if w, h, err := term.GetSize(fd); err == nil && w > 0 && h > 0 {
					_ = sock.Send(wsMsg{Type: "shell.resize", ID: id, Rows: uint16(h), Cols: uint16(w)})
				}
			}
		}
	})
	return func() {
		signal.Stop(winch)
		close(quit)
		wg.Wait()
	}
}

// terminalFd returns the descriptor of f (a stream of Env) when it is a
// terminal. It avoids os.File.Fd, which would make the file blocking for
// good and so take away the read deadline that lets typeInto stop.
func terminalFd(f any) (int, bool) {
	file, ok := f.(*os.File)
	if !ok {
		return 0, false
	}
	sc, err := file.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := -1
	if sc.Control(func(p uintptr) { fd = int(p) }) != nil || !term.IsTerminal(fd) {
		return 0, false
	}
	return fd, true
}
