package bwrap

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"ecode/internal/runtime/agent"
)

// Main runs `ecode sandbox-agent`, PID 1 inside every sandbox,
// `ecode connect HOST PORT`, the ssh ProxyCommand inside sandboxes, or
// `ecode gocache`, their GOCACHEPROG, and
// reports whether args named one of them. main, and the TestMain of packages whose tests
// start sandboxes, call it first.
func Main(args []string) (bool, error) {
	if len(args) == 3 && args[0] == "connect" {
		return true, agent.Connect(context.Background(), args[1], args[2], os.Stdin, os.Stdout)
	}
	if len(args) > 0 && args[0] == "gocache" {
		return true, goCache(args[1:])
	}
	if len(args) == 0 || args[0] != "sandbox-agent" {
		return false, nil
	}
	fs := flag.NewFlagSet("sandbox-agent", flag.ContinueOnError)
	nofile := fs.Uint64("nofile", 4096, "RLIMIT_NOFILE of everything in the sandbox")
	nproc := fs.Uint64("nproc", 0, "RLIMIT_NPROC, where no cgroup limits processes")
	relays := map[int]string{}
	fs.Func("relay", "PORT=SOCKET: bridge 127.0.0.1:PORT to a host socket, or PORT= to park its connections for the host's accept requests (repeatable)", func(v string) error {
		port, socket, ok := strings.Cut(v, "=")
		n, err := strconv.Atoi(port)
		if !ok || err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("relay %q: want PORT=SOCKET or PORT=", v)
		}
		relays[n] = socket
		return nil
	})
	files := map[int]string{}
	fs.Func("relay-file", "PORT=PATH: keep PATH holding what the relay of PORT answers (repeatable)", func(v string) error {
		port, path, ok := strings.Cut(v, "=")
		n, err := strconv.Atoi(port)
		if !ok || err != nil || !strings.HasPrefix(path, "/") {
			return fmt.Errorf("relay-file %q: want PORT=/PATH", v)
		}
		files[n] = path
		return nil
	})
	readyFD := fs.Int("ready-fd", -1, "file descriptor to close once requests are accepted")
	if err := fs.Parse(args[1:]); err != nil {
		return true, err
	}
	if fs.NArg() != 1 {
		return true, fmt.Errorf("usage: sandbox-agent [flags] SOCKET|tcp:ADDR")
	}
	if err := confine(*nofile, *nproc); err != nil {
		return true, err
	}
	ready := func() {
		if *readyFD >= 0 {
			// Closing the inherited pipe tells the host at once, without polling.
			_ = os.NewFile(uintptr(*readyFD), "ready").Close()
		}
	}
	return true, agent.Serve(context.Background(), agent.Options{
		Listen: fs.Arg(0), Token: os.Getenv(agent.TokenEnv), Relays: relays, Files: files, Ready: ready,
	})
}

// confine sets the limits every process in the sandbox inherits: no core
// dumps, bounded file descriptors, and no way to gain privileges by exec.
// It also ties the agent to bwrap: should bwrap die, so does PID 1 and with
// it the whole sandbox, whether or not --die-with-parent's own setting
// survived bwrap's changes of credentials.
func confine(nofile, nproc uint64) error {
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("parent-death signal: %w", err)
	}
	limits := map[int]uint64{unix.RLIMIT_NOFILE: nofile, unix.RLIMIT_CORE: 0}
	if nproc > 0 {
		limits[unix.RLIMIT_NPROC] = nproc
	}
	for res, v := range limits {
		if err := unix.Setrlimit(res, &unix.Rlimit{Cur: v, Max: v}); err != nil {
			return fmt.Errorf("setrlimit %d: %w", res, err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	return nil
}

// goCache runs `ecode gocache [-shared DIR]`: the go command's cache program
// over stdin and stdout, writing to $GOCACHE, which the go command sets.
func goCache(args []string) error {
	fs := flag.NewFlagSet("gocache", flag.ContinueOnError)
	shared := fs.String("shared", "", "read-only cache to look in first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	own := os.Getenv("GOCACHE")
	if own == "" || own == "off" {
		return fmt.Errorf("gocache: GOCACHE names no folder to write to")
	}
	return agent.GoCache(os.Stdin, os.Stdout, os.Stderr, *shared, own)
}
