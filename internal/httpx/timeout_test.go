package httpx

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBodyTimeout: a body that pauses longer than the timeout is cut off
// with body_timeout; one that keeps moving is read whole, however long it
// takes; an answer that outlasts the timeout after the body is in is not
// cut off.
func TestBodyTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	srv := httptest.NewServer(BodyTimeout(idle, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			Error(w, r, err)
			return
		}
		select { // a slow answer: the client must still be there for it
		case <-time.After(3 * idle):
		case <-r.Context().Done():
			return
		}
		fmt.Fprintf(w, "got %s", b)
	})))
	defer srv.Close()

	send := func(body string, gap time.Duration) (string, error) {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
		for i := range len(body) {
			time.Sleep(gap) // the pauses are what is tested
			if _, err := c.Write([]byte{body[i]}); err != nil {
				break
			}
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return fmt.Sprintf("%d %s", res.StatusCode, b), nil
	}

	if got, err := send("steady", idle/3); err != nil || got != "200 got steady" {
		t.Fatalf("a body that keeps moving: %q, %v", got, err)
	}
	got, err := send("xy", 2*idle)
	if err == nil && (!strings.HasPrefix(got, "400 ") || !strings.Contains(got, "body_timeout")) {
		t.Fatalf("a stalled body: %q", got)
	}
}
