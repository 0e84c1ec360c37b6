package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
)

// Connect opens a tunnel to host:port through the sandbox's egress proxy
// and joins it to in and out: the ProxyCommand that lets ssh (git over
// ssh://) out of a sandbox, where the proxy is the only way out.
func Connect(ctx context.Context, host, port string, in io.Reader, out io.Writer) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(EgressPort)))
	if err != nil {
		return fmt.Errorf("egress proxy: %w", err)
	}
	defer c.Close()
	target := net.JoinHostPort(host, port)
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
		return fmt.Errorf("egress proxy: %w", err)
	}
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return fmt.Errorf("egress proxy: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		why, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		return fmt.Errorf("egress proxy answered %s: %s", res.Status, why)
	}
	go func() {
		_, _ = io.Copy(c, in)
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	// Done when the server hangs up: the process exits then, which ends the
	// stdin copy too, so nothing waits on a stdin that may never close.
	_, err = io.Copy(out, br)
	return err
}
