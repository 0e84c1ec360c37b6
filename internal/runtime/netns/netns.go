// Package netns dials TCP inside another network namespace. A socket
// belongs to the namespace of the thread that creates it, so the dial runs
// on a thread that enters the namespace for the call and then leaves; the
// connection is then an ordinary socket of this process, with no hop
// through a relay. Entering a namespace needs CAP_SYS_ADMIN over it.
package netns

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Dial connects to addr from inside the network namespace at nsPath
// (e.g. /proc/PID/ns/net).
func Dial(ctx context.Context, nsPath, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := dialOnThread(ctx, nsPath, addr)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

func dialOnThread(ctx context.Context, nsPath, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer self.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("open %s: %w", nsPath, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("enter network namespace: %w", err)
	}
	var d net.Dialer
	c, dialErr := d.DialContext(ctx, "tcp", addr)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is stuck in the other namespace: keep it locked so it
		// dies with this goroutine instead of serving others.
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("leave network namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return c, dialErr
}
