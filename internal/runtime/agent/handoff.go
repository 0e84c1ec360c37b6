package agent

import (
	"io"
	"net"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// A relay's host side may, once it has checked what a connection asks for,
// hand the agent the connection it opened to the service: one byte sent
// with the descriptor (SCM_RIGHTS) and nothing after it. The agent then
// copies between the sandbox's client and that connection itself, and the
// host is no longer in the path: a hop fewer for every message. What the
// host sends before the hand-over (refusals, answers of its own) reaches
// the client as usual.

// HandOver passes upstream to the agent at the other end of c and closes
// both on the host's side. It reports false, having done nothing, when
// upstream is not a plain socket (TLS, say); the caller then copies itself.
func HandOver(c *net.UnixConn, upstream net.Conn) bool {
	sc, ok := upstream.(interface{ File() (*os.File, error) })
	if !ok {
		return false
	}
	f, err := sc.File()
	if err != nil {
		return false
	}
	defer f.Close()
	if _, _, err := c.WriteMsgUnix([]byte{0}, unix.UnixRights(int(f.Fd())), nil); err != nil {
		return false
	}
	upstream.Close()
	c.Close()
	return true
}

// bridge connects each connection ln accepts to the host's socket.
func bridge(ln net.Listener, socket string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socket, Net: "unix"})
			if err != nil {
				return
			}
			defer up.Close()
			relay(c, up)
		}()
	}
}

// relay copies between the client c and the host's socket up until both
// are done, or until the host hands a connection over: from then on
// between c and that connection.
func relay(c net.Conn, up *net.UnixConn) {
	toHost := &switchable{w: up}
	sent := make(chan struct{})
	go func() {
		_, _ = io.Copy(toHost, c)
		toHost.closeWrite()
		close(sent)
	}()
	buf := make([]byte, 32<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := up.ReadMsgUnix(buf, oob)
		if oobn > 0 {
			if conn := handedOver(oob[:oobn]); conn != nil {
				// The marker is the last byte read; what came before it is
				// the host's own answer to the client.
				if n > 1 {
					_, _ = c.Write(buf[:n-1])
				}
				toHost.switchTo(conn)
				up.Close() // the client's copier may still write once to it: harmless
				_, _ = io.Copy(c, conn)
				closeWrite(c)
				<-sent
				conn.Close()
				return
			}
		}
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	closeWrite(c)
	<-sent
}

// handedOver answers the connection in a control message, or nil.
func handedOver(oob []byte) net.Conn {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var conn net.Conn
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			f := os.NewFile(uintptr(fd), "handed-over")
			if c, err := net.FileConn(f); err == nil && conn == nil {
				conn = c
			}
			f.Close() // FileConn holds its own duplicate
		}
	}
	return conn
}

// switchable is a writer whose destination can change while in use.
type switchable struct {
	mu sync.Mutex
	w  net.Conn
}

func (s *switchable) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *switchable) switchTo(w net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w = w
}

func (s *switchable) closeWrite() {
	s.mu.Lock()
	defer s.mu.Unlock()
	closeWrite(s.w)
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
