package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// maxParked bounds the connections to one parked relay that wait for the
// host; more are refused.
const maxParked = 64

// park hands each connection to a parked relay's port to the accept
// requests, until ln is closed.
func park(ln net.Listener, conns chan net.Conn) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		select {
		case conns <- c:
		default:
			c.Close()
		}
	}
}

// accept answers an accept request: when a connection to the parked relay
// of port comes, the reply says so and the host's connection carries it.
// A host that hangs up before then leaves it to the next request.
func (a *Agent) accept(c net.Conn, br *bufio.Reader, port int) {
	conns, ok := a.parked[port]
	if !ok {
		_ = writeReply(c, Reply{Error: fmt.Sprintf("no parked relay on port %d", port)})
		return
	}
	// The host sends nothing until the reply, so a read that ends means it
	// hung up. Peek leaves the reader as it was for the splice.
	hungUp := make(chan error, 1)
	go func() {
		_, err := br.Peek(1)
		hungUp <- err
	}()
	var local net.Conn
	select {
	case <-hungUp:
		return
	case local = <-conns:
	}
	requeue := func() {
		select {
		case conns <- local:
		default:
			local.Close()
		}
	}
	_ = c.SetReadDeadline(time.Now())
	if err := <-hungUp; !errors.Is(err, os.ErrDeadlineExceeded) {
		requeue()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if err := writeReply(c, Reply{}); err != nil {
		requeue()
		return
	}
	Splice(local, bufferedConn{br, c})
}

// Accept waits for a connection to the parked relay of port inside the
// sandbox and returns it, until ctx ends.
func (c Client) Accept(ctx context.Context, port int) (net.Conn, error) {
	conn, br, _, err := c.connect(ctx, Request{Op: "accept", Port: port})
	if err != nil {
		return nil, err
	}
	return bufferedConn{br, conn}, nil
}

// Parked is a listener of the connections to a parked relay: it keeps a
// few accept requests waiting, so that connections made at once are taken
// at once. Close ends them.
type Parked struct {
	conns  chan net.Conn
	cancel context.CancelFunc
	wg     sync.WaitGroup
	addr   net.Addr
	closed sync.Once
}

// Park starts taking the connections to the parked relay of port, with
// waiting accept requests at any time.
func (c Client) Park(port, waiting int) *Parked {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Parked{conns: make(chan net.Conn), cancel: cancel, addr: parkedAddr(fmt.Sprintf("relay:%d", port))}
	for range waiting {
		p.wg.Go(func() {
			backoff := 50 * time.Millisecond
			for ctx.Err() == nil {
				conn, err := c.Accept(ctx, port)
				if err != nil {
					// The agent is starting, gone or refusing: try again,
					// less often, until the listener closes.
					select {
					case <-ctx.Done():
					case <-time.After(backoff):
					}
					backoff = min(2*backoff, 2*time.Second)
					continue
				}
				backoff = 50 * time.Millisecond
				select {
				case p.conns <- conn:
				case <-ctx.Done():
					conn.Close()
				}
			}
		})
	}
	return p
}

// Accept returns the next relayed connection.
func (p *Parked) Accept() (net.Conn, error) {
	c, ok := <-p.conns
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}

// Close stops taking connections and waits for the accept requests to end.
func (p *Parked) Close() error {
	p.closed.Do(func() {
		p.cancel()
		go func() {
			p.wg.Wait()
			close(p.conns)
		}()
	})
	return nil
}

// Addr names the relay.
func (p *Parked) Addr() net.Addr { return p.addr }

type parkedAddr string

func (a parkedAddr) Network() string { return "agent" }
func (a parkedAddr) String() string  { return string(a) }
