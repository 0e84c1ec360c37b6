package agent

import (
	"bufio"
	"context"
	"crypto/subtle"
	"ecode/internal/runtime/cgroup"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// EgressPort is where the agent accepts proxy connections inside the
// sandbox (HTTP_PROXY=http://127.0.0.1:3128) and bridges them to the host.
const EgressPort = 3128

// ownCgroup is where a container sees its own cgroup.
const ownCgroup = "/sys/fs/cgroup"

// TokenEnv names the variable that gives an agent reached over TCP its
// token (see Options.Token).
const TokenEnv = "ECODE_AGENT_TOKEN"

// Agent is the in-sandbox side.
type Agent struct {
	relays  map[int]string        // port: host socket, "" for a parked relay
	parked  map[int]chan net.Conn // connections to parked relays, until the host takes them
	token   string
	port    int // the agent's own TCP port, which no app of the sandbox holds
	mu      sync.Mutex
	waiting map[int]chan Exit // started processes not yet reaped
	early   map[int]Exit      // reaped before their starter registered
}

// Options of Serve.
type Options struct {
	// Listen is where host requests come: a unix socket's path, or
	// tcp:ADDR for an agent the host reaches over a network (a pod's).
	Listen string
	// Token, when set, must be in every request: over a network, more
	// than the host can connect.
	Token string
	// Relays bridges each port on the sandbox's loopback to a host socket
	// (the egress proxy at EgressPort, the project's database). A port
	// whose socket is "" is parked instead: its connections wait for the
	// host to take them with accept requests, for a sandbox that may reach
	// nothing, the host included (a pod).
	Relays map[int]string
	// Files keeps each file filled from its port's relay (see keepFile).
	Files map[int]string
	// Ready, when set, is called once the agent accepts requests.
	Ready func()
}

// Serve runs the agent until ctx ends. It reaps every child that ends, as
// PID 1 must.
func Serve(ctx context.Context, o Options) error {
	a := &Agent{relays: o.Relays, parked: map[int]chan net.Conn{}, token: o.Token, waiting: map[int]chan Exit{}, early: map[int]Exit{}}
	go a.reap(ctx)
	ln, err := listen(o.Listen)
	if err != nil {
		return fmt.Errorf("agent listen: %w", err)
	}
	defer ln.Close()
	if addr, ok := ln.Addr().(*net.TCPAddr); ok {
		a.port = addr.Port
	}
	for port, socket := range o.Relays {
		rln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return fmt.Errorf("relay listen: %w", err)
		}
		defer rln.Close()
		if socket == "" {
			a.parked[port] = make(chan net.Conn, maxParked)
			go park(rln, a.parked[port])
			continue
		}
		go bridge(rln, socket)
	}
	for port, path := range o.Files {
		go keepFile(ctx, port, path)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	if o.Ready != nil {
		o.Ready()
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("agent accept: %w", err)
		}
		go a.handle(c)
	}
}

func listen(addr string) (net.Listener, error) {
	if tcp, ok := strings.CutPrefix(addr, "tcp:"); ok {
		return net.Listen("tcp", tcp)
	}
	_ = os.Remove(addr)
	return net.Listen("unix", addr)
}

func (a *Agent) reap(ctx context.Context) {
	sigc := make(chan os.Signal, 32)
	signal.Notify(sigc, syscall.SIGCHLD)
	defer signal.Stop(sigc)
	for {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
			a.exited(pid, exitOf(ws))
		}
		select {
		case <-ctx.Done():
			return
		case <-sigc:
		}
	}
}

func exitOf(ws syscall.WaitStatus) Exit {
	if ws.Signaled() {
		return Exit{Code: -1, Signal: strings.ToLower(ws.Signal().String())}
	}
	return Exit{Code: ws.ExitStatus()}
}

func (a *Agent) exited(pid int, e Exit) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ch, ok := a.waiting[pid]; ok {
		ch <- e
		delete(a.waiting, pid)
		return
	}
	a.early[pid] = e
}

// track registers pid after its start and returns where its exit arrives.
func (a *Agent) track(pid int) <-chan Exit {
	ch := make(chan Exit, 1)
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.early[pid]; ok {
		delete(a.early, pid)
		ch <- e
		return ch
	}
	a.waiting[pid] = ch
	return ch
}

func (a *Agent) handle(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	var req Request
	if err := readRequest(br, &req); err != nil {
		_ = writeReply(c, Reply{Error: err.Error()})
		return
	}
	if a.token != "" && subtle.ConstantTimeCompare([]byte(req.Token), []byte(a.token)) != 1 {
		_ = writeReply(c, Reply{Error: "unauthorized"})
		return
	}
	switch req.Op {
	case "ping":
		_ = writeReply(c, Reply{PID: os.Getpid()})
	case "ports":
		ports, err := listeningPorts(a.relays)
		ports = slices.DeleteFunc(ports, func(p int) bool { return p == a.port })
		r := Reply{Ports: ports}
		if err != nil {
			r.Error = err.Error()
		}
		_ = writeReply(c, r)
	case "dial":
		a.dial(c, br, req.Port)
	case "exec":
		a.exec(c, br, req)
	case "accept":
		a.accept(c, br, req.Port)
	case "usage":
		l, u, oom, err := cgroup.ReadOwn(ownCgroup)
		r := Reply{Usage: &Usage{Limits: l, Used: u, OOMKilled: oom}}
		if err != nil {
			r = Reply{Error: fmt.Sprintf("read the sandbox's cgroup: %v", err)}
		}
		_ = writeReply(c, r)
	default:
		_ = writeReply(c, Reply{Error: fmt.Sprintf("unknown op %q", req.Op)})
	}
}

func (a *Agent) dial(c net.Conn, br *bufio.Reader, port int) {
	if port <= 0 || port > 65535 {
		_ = writeReply(c, Reply{Error: "invalid port"})
		return
	}
	up, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		up, err = net.DialTimeout("tcp", fmt.Sprintf("[::1]:%d", port), 5*time.Second)
	}
	if err != nil {
		_ = writeReply(c, Reply{Error: fmt.Sprintf("nothing answers on port %d", port)})
		return
	}
	defer up.Close()
	if err := writeReply(c, Reply{}); err != nil {
		return
	}
	Splice(up, bufferedConn{br, c})
}

// bufferedConn reads through the bufio.Reader that already holds the bytes
// sent after the request line.
type bufferedConn struct {
	r *bufio.Reader
	net.Conn
}

func (b bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b bufferedConn) CloseWrite() error {
	if cw, ok := b.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Splice copies both ways until both sides are done, passing each side's
// end of writing on to the other.
func Splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		closeWrite(dst)
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}

// lookPath finds name in the PATH of env.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if info, err := os.Stat(p); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: command not found", name)
}

// connWriter serialises frames from several goroutines onto one conn.
type connWriter struct {
	mu sync.Mutex
	c  net.Conn
}

func (w *connWriter) frame(kind byte, p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return writeFrame(w.c, kind, p)
}

func (a *Agent) exec(c net.Conn, br *bufio.Reader, req Request) {
	if len(req.Argv) == 0 {
		_ = writeReply(c, Reply{Error: "no command"})
		return
	}
	path, err := lookPath(req.Argv[0], req.Env)
	if err != nil {
		_ = writeReply(c, Reply{Error: err.Error()})
		return
	}
	p, err := start(path, req)
	if err != nil {
		_ = writeReply(c, Reply{Error: err.Error()})
		return
	}
	exit := a.track(p.pid)
	if err := writeReply(c, Reply{PID: p.pid}); err != nil {
		p.kill()
		p.closeHost()
		return
	}
	out := &connWriter{c: c}
	var copying sync.WaitGroup
	pump := func(kind byte, r io.Reader) {
		defer copying.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 && out.frame(kind, buf[:n]) != nil {
				return
			}
			if err != nil {
				return
			}
		}
	}
	for kind, r := range p.outputs() {
		copying.Add(1)
		go pump(kind, r)
	}
	hostGone := make(chan struct{})
	go func() {
		defer close(hostGone)
		buf := make([]byte, 0, 32<<10)
		for {
			kind, data, err := readFrame(br, buf)
			if err != nil {
				return
			}
			switch kind {
			case frameStdin:
				_, _ = p.stdin.Write(data)
			case frameEOF:
				p.closeStdin()
			case frameResize:
				if len(data) == 4 && p.ptmx != nil {
					_ = pty.Setsize(p.ptmx, &pty.Winsize{Rows: binary.BigEndian.Uint16(data), Cols: binary.BigEndian.Uint16(data[2:])})
				}
			case frameKill:
				p.kill()
			}
		}
	}()
	var e Exit
	select {
	case e = <-exit:
	case <-hostGone:
		p.kill()
		e = <-exit
	}
	// What the command left running in its group ends with it, so the
	// output pipes close and nothing outlives the request.
	p.kill()
	copying.Wait()
	p.closeHost()
	_ = out.frame(frameExit, mustJSON(e))
}

// proc is a started process and the host ends of its stdio.
type proc struct {
	pid            int
	stdin          io.WriteCloser
	stdout, stderr *os.File
	ptmx           *os.File
	stdinOnce      sync.Once
}

func start(path string, req Request) (*proc, error) {
	attr := &os.ProcAttr{Dir: req.Dir, Env: req.Env}
	p := &proc{}
	var child []*os.File
	if req.TTY {
		ptmx, tty, err := pty.Open()
		if err != nil {
			return nil, fmt.Errorf("open pty: %w", err)
		}
		rows, cols := req.Rows, req.Cols
		if rows == 0 || cols == 0 {
			rows, cols = 24, 80
		}
		_ = pty.Setsize(ptmx, &pty.Winsize{Rows: rows, Cols: cols})
		p.ptmx, p.stdin = ptmx, ptmx
		child = []*os.File{tty, tty, tty}
		attr.Sys = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	} else {
		inR, inW, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		errR, errW, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		p.stdin, p.stdout, p.stderr = inW, outR, errR
		child = []*os.File{inR, outW, errW}
		attr.Sys = &syscall.SysProcAttr{Setpgid: true}
	}
	attr.Files = child
	proc, err := os.StartProcess(path, req.Argv, attr)
	for _, f := range child {
		f.Close()
	}
	if err != nil {
		p.closeHost()
		return nil, fmt.Errorf("start %s: %w", req.Argv[0], errors.Unwrap(err))
	}
	p.pid = proc.Pid
	// The reaper collects the exit status; the handle is not needed.
	_ = proc.Release()
	return p, nil
}

func (p *proc) outputs() map[byte]io.Reader {
	if p.ptmx != nil {
		return map[byte]io.Reader{frameStdout: p.ptmx}
	}
	return map[byte]io.Reader{frameStdout: p.stdout, frameStderr: p.stderr}
}

// kill ends the process's whole group (its session, for a terminal).
func (p *proc) kill() { _ = syscall.Kill(-p.pid, syscall.SIGKILL) }

func (p *proc) closeStdin() {
	if p.ptmx != nil {
		_, _ = p.ptmx.Write([]byte{4}) // ^D at the terminal
		return
	}
	p.stdinOnce.Do(func() { p.stdin.Close() })
}

func (p *proc) closeHost() {
	for _, f := range []*os.File{p.stdout, p.stderr, p.ptmx} {
		if f != nil {
			f.Close()
		}
	}
	if p.ptmx == nil && p.stdin != nil {
		p.stdinOnce.Do(func() { p.stdin.Close() })
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("encode", "err", err)
	}
	return b
}
