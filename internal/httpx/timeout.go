package httpx

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"ecode/internal/errs"
)

// BodyTimeout cuts off a request body that stops arriving: each read of it
// must get a byte within idle, as nginx's client_body_timeout does. A whole
// request deadline (http.Server.ReadTimeout) would instead end long uploads
// on slow links and every WebSocket; an idle deadline lets an upload of any
// size through while it keeps moving and frees the connection of a client
// that trickles or stalls. Requests without a body (WebSocket upgrades,
// streamed GETs) get no deadline at all; headers are timed by the server's
// ReadHeaderTimeout.
func BodyTimeout(idle time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Time{}) != nil {
			next.ServeHTTP(w, r) // a writer without deadlines: headers stay timed
			return
		}
		body := &idleBody{ReadCloser: r.Body, rc: rc, idle: idle}
		bw := &bodyWriter{ResponseWriter: w, body: body}
		// A copy: the server keeps judging its own request's body (whether
		// the connection can be reused) by its own type.
		r = r.WithContext(r.Context())
		r.Body = body
		next.ServeHTTP(bw, r)
		bw.drain()
	})
}

// idleBody gives each read of a request body idle to get a byte.
type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	mu   sync.Mutex // a reverse proxy may still send the body while the answer starts
	done bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return b.ReadCloser.Read(p)
	}
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	n, err := b.ReadCloser.Read(p)
	switch {
	case errors.Is(err, io.EOF):
		b.done = true
		// The body is whole: the server now reads on in the background to
		// see the client leave, and a deadline left set would end a long
		// answer (a command's output) as if the client had gone.
		_ = b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Left expired: the rest is never read and the connection closes.
		b.done = true
		return n, errs.Invalid("body_timeout", "The request body stopped arriving for %s; the request was cut off.", b.idle).With(err)
	case err != nil:
		b.done = true
	}
	return n, err
}

// maxDrain is how much of an unread body is read before answering, as the
// server itself does; a longer rest closes the connection instead.
const maxDrain = 256 << 10

// bodyWriter reads what the handler left of the body before the answer
// starts. The server would read it there too, but untimed (so a client
// could trickle it forever) and then, once at its end, keep the deadline
// of the last read for the rest of the answer.
type bodyWriter struct {
	http.ResponseWriter
	body    *idleBody
	drained bool
}

func (w *bodyWriter) drain() {
	if !w.drained {
		w.drained = true
		_, _ = io.CopyN(io.Discard, w.body, maxDrain)
	}
}

func (w *bodyWriter) WriteHeader(code int) {
	if code >= 200 {
		w.drain()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *bodyWriter) Write(b []byte) (int, error) {
	w.drain()
	return w.ResponseWriter.Write(b)
}

// FlushError lets http.ResponseController flush, after the drain.
func (w *bodyWriter) FlushError() error {
	w.drain()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the rest underneath.
func (w *bodyWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
