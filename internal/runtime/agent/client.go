package agent

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// Client talks to one sandbox's agent over its socket, or over TCP.
type Client struct {
	Socket string
	Addr   string // HOST:PORT of an agent reached over TCP, in place of Socket
	Token  string // sent in every request
}

func (c Client) connect(ctx context.Context, req Request) (net.Conn, *bufio.Reader, Reply, error) {
	var d net.Dialer
	network, addr := "unix", c.Socket
	if c.Addr != "" {
		network, addr = "tcp", c.Addr
	}
	req.Token = c.Token
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, nil, Reply{}, fmt.Errorf("reach sandbox agent: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := writeRequest(conn, req); err != nil {
		conn.Close()
		return nil, nil, Reply{}, fmt.Errorf("send %s request: %w", req.Op, err)
	}
	br := bufio.NewReader(conn)
	var rep Reply
	if err := readReply(br, &rep); err != nil {
		conn.Close()
		return nil, nil, Reply{}, fmt.Errorf("%s reply: %w", req.Op, err)
	}
	if rep.Error != "" {
		conn.Close()
		return nil, nil, rep, &Error{Op: req.Op, Msg: rep.Error}
	}
	return conn, br, rep, nil
}

// Error is a refusal from the agent, such as an unknown command.
type Error struct{ Op, Msg string }

func (e *Error) Error() string { return e.Op + ": " + e.Msg }

// Ping checks that the agent answers.
func (c Client) Ping(ctx context.Context) error {
	conn, _, _, err := c.connect(ctx, Request{Op: "ping"})
	if err == nil {
		conn.Close()
	}
	return err
}

// Ports lists the TCP ports something listens on inside the sandbox.
func (c Client) Ports(ctx context.Context) ([]int, error) {
	conn, _, rep, err := c.connect(ctx, Request{Op: "ports"})
	if err != nil {
		return nil, err
	}
	conn.Close()
	return rep.Ports, nil
}

// Dial connects to 127.0.0.1:port inside the sandbox.
func (c Client) Dial(ctx context.Context, port int) (net.Conn, error) {
	conn, br, _, err := c.connect(ctx, Request{Op: "dial", Port: port})
	if err != nil {
		return nil, err
	}
	return bufferedConn{br, conn}, nil
}

// Process is a command running in the sandbox.
type Process struct {
	PID  int
	conn net.Conn
	br   *bufio.Reader
	w    connWriter
	once sync.Once
}

// Exec starts a command. The caller must call Wait.
func (c Client) Exec(ctx context.Context, req Request) (*Process, error) {
	req.Op = "exec"
	conn, br, rep, err := c.connect(ctx, req)
	if err != nil {
		return nil, err
	}
	return &Process{PID: rep.PID, conn: conn, br: br, w: connWriter{c: conn}}, nil
}

// Write sends bytes to the process's stdin (or terminal).
func (p *Process) Write(b []byte) (int, error) {
	for off := 0; off < len(b); off += maxFrame {
		end := min(off+maxFrame, len(b))
		if err := p.w.frame(frameStdin, b[off:end]); err != nil {
			return off, err
		}
	}
	return len(b), nil
}

// CloseStdin ends the process's input.
func (p *Process) CloseStdin() error { return p.w.frame(frameEOF, nil) }

// Resize changes the terminal size of a TTY process.
func (p *Process) Resize(rows, cols uint16) error {
	var b [4]byte
	binary.BigEndian.PutUint16(b[:], rows)
	binary.BigEndian.PutUint16(b[2:], cols)
	return p.w.frame(frameResize, b[:])
}

// Kill ends the process and everything it started.
func (p *Process) Kill() error { return p.w.frame(frameKill, nil) }

// Wait copies output until the process ends and returns how it ended. When
// ctx ends first, the process is killed.
func (p *Process) Wait(ctx context.Context, stdout, stderr io.Writer) (Exit, error) {
	defer p.once.Do(func() { p.conn.Close() })
	stop := context.AfterFunc(ctx, func() { _ = p.Kill() })
	defer stop()
	buf := make([]byte, 0, 32<<10)
	for {
		kind, data, err := readFrame(p.br, buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Exit{}, fmt.Errorf("sandbox connection lost: %w", err)
		}
		switch kind {
		case frameStdout:
			if stdout != nil {
				_, _ = stdout.Write(data)
			}
		case frameStderr:
			if stderr != nil {
				_, _ = stderr.Write(data)
			}
		case frameExit:
			var e Exit
			if err := json.Unmarshal(data, &e); err != nil {
				return Exit{}, fmt.Errorf("exit frame: %w", err)
			}
			return e, nil
		}
	}
}

// Usage reads the limits and usage of the sandbox's own cgroup.
func (c Client) Usage(ctx context.Context) (Usage, error) {
	conn, _, rep, err := c.connect(ctx, Request{Op: "usage"})
	if err != nil {
		return Usage{}, err
	}
	conn.Close()
	if rep.Usage == nil {
		return Usage{}, errors.New("usage: empty reply")
	}
	return *rep.Usage, nil
}
