// Package agent is the sandbox's PID 1 and the host's client for it. The
// agent runs inside every sandbox (the ecode binary, as `ecode
// sandbox-agent`): it starts commands and terminals on request, reaps
// orphans, reports listening ports, and bridges connections between the
// host and the sandbox's loopback-only network. Host and agent speak over
// one unix socket in a folder bound into the sandbox, or, in a pod, over
// TCP with a token in every request.
//
// Each connection carries one request: a message (a JSON object after its
// length), answered by a reply message, then, for exec, framed messages
// both ways, and for dial, raw bytes.
package agent

import (
	"ecode/internal/runtime/cgroup"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
)

// Request is the first message of every connection to the agent.
type Request struct {
	Op    string   `json:"op"` // "exec", "ports", "dial", "accept", "usage", "ping"
	Token string   `json:"token,omitempty"`
	Argv  []string `json:"argv,omitempty"`
	Env   []string `json:"env,omitempty"`
	Dir   string   `json:"dir,omitempty"`
	TTY   bool     `json:"tty,omitempty"`
	Rows  uint16   `json:"rows,omitempty"`
	Cols  uint16   `json:"cols,omitempty"`
	Port  int      `json:"port,omitempty"`
}

// Reply is the agent's first answer to a request.
type Reply struct {
	Error string `json:"error,omitempty"`
	PID   int    `json:"pid,omitempty"`
	Ports []int  `json:"ports,omitempty"`
	Usage *Usage `json:"usage,omitempty"`
}

// Usage is what the sandbox's own cgroup (a container's /sys/fs/cgroup)
// holds it to and what it uses now.
type Usage struct {
	Limits    cgroup.Limits `json:"limits"`
	Used      cgroup.Usage  `json:"used"`
	OOMKilled bool          `json:"oomKilled"`
}

// Exit is how a process ended.
type Exit struct {
	Code   int    `json:"code"`             // exit code; -1 when killed by a signal
	Signal string `json:"signal,omitempty"` // e.g. "killed"
}

// Frame kinds of an exec stream.
const (
	frameStdin  byte = 'i' // host → agent: bytes for the process's stdin
	frameEOF    byte = 'c' // host → agent: close stdin
	frameResize byte = 'r' // host → agent: rows, cols (uint16 each)
	frameKill   byte = 'k' // host → agent: kill the process group
	frameStdout byte = 'o' // agent → host
	frameStderr byte = 'e' // agent → host
	frameExit   byte = 'x' // agent → host: JSON Exit, last frame
)

const maxFrame = 1 << 20

func writeFrame(w io.Writer, kind byte, p []byte) error {
	var hdr [5]byte
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(p)
	return err
}

func readFrame(r io.Reader, buf []byte) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes is too large", n)
	}
	if int(n) > cap(buf) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	return hdr[0], buf, nil
}

// Caps on the messages that open a connection. A request carries a
// command's argv and environment (a project's secrets among them), and the
// kernel takes at most 6 MiB of those per exec, each string at most
// 128 KiB (a secret at most 64 KiB), so MaxRequest never refuses a command
// that could run. A reply is a pid or a list of ports: far smaller, and
// written by code in the sandbox, so it gets a tighter cap.
const (
	MaxRequest = 8 << 20
	maxReply   = 1 << 20
)

// TooLargeError is a message over its cap.
type TooLargeError struct {
	What      string // "request" or "reply"
	Size, Max int
}

func (e *TooLargeError) Error() string {
	kib := func(n int) int { return (n + 1023) / 1024 }
	if e.What == "request" {
		return fmt.Sprintf("the command's arguments and environment, its secrets included, come to %d KiB, over the %d KiB a sandbox command may have",
			kib(e.Size), kib(e.Max))
	}
	return fmt.Sprintf("the sandbox's %s is %d KiB, over its %d KiB limit", e.What, kib(e.Size), kib(e.Max))
}

// writeMessage sends v as a message of at most limit bytes.
func writeMessage(w io.Writer, what string, limit int, v any) error {
	b, err := encodeMessage(what, limit, v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// encodeMessage is v as JSON after its length (4 bytes, big-endian).
func encodeMessage(what string, limit int, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	if len(body) > limit {
		return nil, &TooLargeError{What: what, Size: len(body), Max: limit}
	}
	b := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(b, uint32(len(body)))
	return append(b, body...), nil
}

// readMessage reads one message of at most limit bytes into v. It never
// holds more than the bytes that actually arrived: a length that promises
// more than the sender sends costs nothing.
func readMessage(r io.Reader, what string, limit int, v any) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > uint32(limit) {
		return &TooLargeError{What: what, Size: int(min(n, 1<<31-1)), Max: limit}
	}
	body, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	if len(body) != int(n) {
		return fmt.Errorf("read %s: %w", what, io.ErrUnexpectedEOF)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

func writeRequest(w io.Writer, req Request) error { return writeMessage(w, "request", MaxRequest, req) }

func readRequest(r io.Reader, req *Request) error { return readMessage(r, "request", MaxRequest, req) }

func writeReply(w io.Writer, rep Reply) error { return writeMessage(w, "reply", maxReply, rep) }

func readReply(r io.Reader, rep *Reply) error { return readMessage(r, "reply", maxReply, rep) }
