// Package agent is the sandbox's PID 1 and the host's client for it. The
// agent runs inside every sandbox (the ecode binary, as `ecode
// sandbox-agent`): it starts commands and terminals on request, reaps
// orphans, reports listening ports, and bridges connections between the
// host and the sandbox's loopback-only network. Host and agent speak over
// one unix socket in a folder bound into the sandbox.
//
// Each connection carries one request: a JSON line, then, for exec, framed
// messages both ways, and for dial, raw bytes.
package agent

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
)

// Request is the first line of every connection to the agent.
type Request struct {
	Op   string   `json:"op"` // "exec", "ports", "dial", "ping"
	Argv []string `json:"argv,omitempty"`
	Env  []string `json:"env,omitempty"`
	Dir  string   `json:"dir,omitempty"`
	TTY  bool     `json:"tty,omitempty"`
	Rows uint16   `json:"rows,omitempty"`
	Cols uint16   `json:"cols,omitempty"`
	Port int      `json:"port,omitempty"`
}

// Reply is the agent's first answer to a request.
type Reply struct {
	Error string `json:"error,omitempty"`
	PID   int    `json:"pid,omitempty"`
	Ports []int  `json:"ports,omitempty"`
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

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func readJSONLine(r *bufio.Reader, v any) error {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	return json.Unmarshal(line, v)
}
