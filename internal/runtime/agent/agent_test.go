package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the agent: started with ECODE_TEST_AGENT set,
// it serves on that socket, as PID 1 of a sandbox would.
func TestMain(m *testing.M) {
	if sock := os.Getenv("ECODE_TEST_AGENT"); sock != "" {
		if err := Serve(context.Background(), Options{Listen: sock, Token: os.Getenv(TokenEnv), Relays: testRelays()}); err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

func startAgent(t *testing.T) Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "ECODE_TEST_AGENT="+sock)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return waitAgent(t, Client{Socket: sock})
}

// waitAgent waits until the agent c talks to answers.
func waitAgent(t *testing.T, c Client) Client {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.Ping(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("agent did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return c
}

var env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}

func run(t *testing.T, c Client, req Request, stdin string) (string, string, Exit) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if req.Env == nil {
		req.Env = env
	}
	p, err := c.Exec(ctx, req)
	if err != nil {
		t.Fatalf("exec %v: %v", req.Argv, err)
	}
	if stdin != "" {
		p.Write([]byte(stdin))
		p.CloseStdin()
	}
	var out, errb bytes.Buffer
	e, err := p.Wait(ctx, &out, &errb)
	if err != nil {
		t.Fatalf("wait %v: %v", req.Argv, err)
	}
	return out.String(), errb.String(), e
}

func TestExec(t *testing.T) {
	c := startAgent(t)
	out, errOut, e := run(t, c, Request{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}}, "")
	if out != "out\n" || errOut != "err\n" || e.Code != 3 {
		t.Fatalf("got %q %q %+v", out, errOut, e)
	}
	out, _, e = run(t, c, Request{Argv: []string{"sh", "-c", "tr a-z A-Z"}}, "hello stdin")
	if out != "HELLO STDIN" || e.Code != 0 {
		t.Fatalf("stdin: %q %+v", out, e)
	}
	dir := t.TempDir()
	out, _, _ = run(t, c, Request{Argv: []string{"pwd"}, Dir: dir}, "")
	if strings.TrimSpace(out) != dir {
		t.Fatalf("pwd = %q, want %q", out, dir)
	}
	out, _, _ = run(t, c, Request{Argv: []string{"sh", "-c", "echo $FOO"}, Env: append(env, "FOO=bar")}, "")
	if out != "bar\n" {
		t.Fatalf("env: %q", out)
	}
	if _, err := c.Exec(context.Background(), Request{Argv: []string{"no-such-command"}, Env: env}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing command: %v", err)
	}
}

func TestBackgroundChildrenEndWithTheCommand(t *testing.T) {
	c := startAgent(t)
	start := time.Now()
	out, _, e := run(t, c, Request{Argv: []string{"sh", "-c", "sleep 30 & echo started"}}, "")
	if out != "started\n" || e.Code != 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("got %q %+v after %s", out, e, time.Since(start))
	}
}

func TestKillOnContext(t *testing.T) {
	c := startAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	p, err := c.Exec(ctx, Request{Argv: []string{"sleep", "30"}, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.Wait(ctx, io.Discard, io.Discard)
	if err != nil || e.Signal != "killed" {
		t.Fatalf("exit %+v, %v; want killed", e, err)
	}
}

func TestTTY(t *testing.T) {
	c := startAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := c.Exec(ctx, Request{Argv: []string{"sh", "-c", "stty size; read line; echo got:$line"}, Env: env, TTY: true, Rows: 33, Cols: 101})
	if err != nil {
		t.Fatal(err)
	}
	p.Write([]byte("hi\n"))
	var out bytes.Buffer
	e, err := p.Wait(ctx, &out, nil)
	if err != nil || e.Code != 0 {
		t.Fatalf("exit %+v, %v", e, err)
	}
	if !strings.Contains(out.String(), "33 101") || !strings.Contains(out.String(), "got:hi") {
		t.Fatalf("tty output %q", out.String())
	}
}

func TestPortsAndDial(t *testing.T) {
	c := startAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	server := `import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"echo:" + c.recv(100)); c.close()`
	p, err := c.Exec(ctx, Request{Argv: []string{"python3", "-c", server}, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	go p.Wait(ctx, pw, os.Stderr)
	var port int
	if _, err := fmt.Fscan(pr, &port); err != nil {
		t.Fatal(err)
	}
	ports, err := c.Ports(ctx)
	if err != nil || !contains(ports, port) {
		t.Fatalf("ports = %v (%v), want %d", ports, err, port)
	}
	conn, err := c.Dial(ctx, port)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("ping"))
	got, _ := io.ReadAll(conn)
	if string(got) != "echo:ping" {
		t.Fatalf("dial got %q", got)
	}
	if _, err := c.Dial(ctx, 1); err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	p.Kill()
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// testRelays parks the port ECODE_TEST_PARK names, for the test agent.
func testRelays() map[int]string {
	port, err := strconv.Atoi(os.Getenv("ECODE_TEST_PARK"))
	if err != nil {
		return nil
	}
	return map[int]string{port: ""}
}
