package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startTCPAgent starts the test agent on TCP, as in a pod: token required,
// and park a relay port.
func startTCPAgent(t *testing.T, token string, park int) Client {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "ECODE_TEST_AGENT=tcp:"+addr, TokenEnv+"="+token, fmt.Sprintf("ECODE_TEST_PARK=%d", park))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return waitAgent(t, Client{Addr: addr, Token: token})
}

func TestTCPAgentWantsToken(t *testing.T) {
	c := startTCPAgent(t, "s3cret-token", freePort(t))
	for _, token := range []string{"", "s3cret-tokeN"} {
		wrong := c
		wrong.Token = token
		_, err := wrong.Exec(context.Background(), Request{Argv: []string{"true"}, Env: env})
		var refusal *Error
		if !errors.As(err, &refusal) || refusal.Msg != "unauthorized" {
			t.Errorf("token %q: err %v, want unauthorized", token, err)
		}
	}
	out, _, exit := run(t, c, Request{Argv: []string{"echo", "over tcp"}}, "")
	if out != "over tcp\n" || exit.Code != 0 {
		t.Fatalf("exec = %q %+v", out, exit)
	}
}

// Connections to a parked relay reach the host through its accept
// requests, several at once, and one the host gave up on is not lost.
func TestParkedRelay(t *testing.T) {
	port := freePort(t)
	c := startTCPAgent(t, "tok", port)

	// An accept request the host abandons before anything connects.
	ctx, cancel := context.WithCancel(context.Background())
	abandoned := make(chan error, 1)
	go func() {
		_, err := c.Accept(ctx, port)
		abandoned <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-abandoned; err == nil {
		t.Fatal("a cancelled accept returned a connection")
	}

	ln := c.Park(port, 2)
	var served sync.WaitGroup
	served.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				line, _ := bufio.NewReader(conn).ReadString('\n')
				io.WriteString(conn, "host got "+line)
			}()
		}
	})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(conn, "hello %d\n", i)
			got, err := io.ReadAll(conn)
			if want := fmt.Sprintf("host got hello %d\n", i); err != nil || string(got) != want {
				t.Errorf("conn %d: %q %v, want %q", i, got, err, want)
			}
		})
	}
	wg.Wait()
	ln.Close()
	served.Wait()
	if _, err := c.Accept(context.Background(), port+1); err == nil || !strings.Contains(err.Error(), "no parked relay") {
		t.Errorf("accept on a port not parked: %v", err)
	}
}
