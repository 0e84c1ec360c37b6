package deploy

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// A deployment with monitoring switched on gets the monitoring script in
// its HTML pages without a change to its code: the edge asks the app (or
// the static site) for an uncompressed page and writes the script tag into
// it. A page larger than maxInjected, or one already compressed, passes
// through as it came.
const maxInjected = 4 << 20

// injectable reports whether r asks for a page the script can go into.
func injectable(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") &&
		r.Header.Get("Upgrade") == ""
}

// forInjection is r as the app is asked it: for the whole page, in
// identity encoding, without validators (the page it would match was the
// one without the script, or with another).
func forInjection(r *http.Request) *http.Request {
	r = r.Clone(r.Context())
	for _, h := range []string{"Accept-Encoding", "Range", "If-Range", "If-None-Match", "If-Modified-Since"} {
		r.Header.Del(h)
	}
	return r
}

// injector holds back an HTML answer until it is whole, then sends it with
// the snippet in its head.
type injector struct {
	http.ResponseWriter
	snippet []byte
	status  int
	buf     bytes.Buffer
	holding bool // an HTML answer being held
	passing bool // headers sent: everything else goes straight through
}

func (j *injector) WriteHeader(status int) {
	if j.passing || j.holding {
		return
	}
	h := j.Header()
	if status == http.StatusOK || status == http.StatusNotFound {
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") && h.Get("Content-Encoding") == "" {
			j.status, j.holding = status, true
			return
		}
	}
	j.passing = true
	j.ResponseWriter.WriteHeader(status)
}

func (j *injector) Write(p []byte) (int, error) {
	if !j.passing && !j.holding {
		j.WriteHeader(http.StatusOK)
	}
	if j.passing {
		return j.ResponseWriter.Write(p)
	}
	if j.buf.Len()+len(p) > maxInjected {
		// Too big to hold: send what is held untouched and stream the rest.
		j.holding, j.passing = false, true
		j.ResponseWriter.WriteHeader(j.status)
		if _, err := j.ResponseWriter.Write(j.buf.Bytes()); err != nil {
			return 0, err
		}
		j.buf.Reset()
		return j.ResponseWriter.Write(p)
	}
	return j.buf.Write(p)
}

// finish sends a held page with the script in it.
func (j *injector) finish() {
	if !j.holding {
		return
	}
	page := insertSnippet(j.buf.Bytes(), j.snippet)
	h := j.Header()
	h.Set("Content-Length", strconv.Itoa(len(page)))
	h.Del("ETag")
	h.Del("Last-Modified")
	j.ResponseWriter.WriteHeader(j.status)
	_, _ = j.ResponseWriter.Write(page)
}

// insertSnippet puts snippet before </head>, else after the opening <body>
// tag, else first.
func insertSnippet(page, snippet []byte) []byte {
	lower := bytes.ToLower(page)
	at := bytes.Index(lower, []byte("</head>"))
	if at < 0 {
		if b := bytes.Index(lower, []byte("<body")); b >= 0 {
			if end := bytes.IndexByte(lower[b:], '>'); end >= 0 {
				at = b + end + 1
			}
		}
	}
	at = max(at, 0)
	out := make([]byte, 0, len(page)+len(snippet))
	out = append(out, page[:at]...)
	out = append(out, snippet...)
	return append(out, page[at:]...)
}

// Flush passes a streaming answer's flushes on; a held page has nothing to
// send yet.
func (j *injector) Flush() {
	if j.passing {
		_ = http.NewResponseController(j.ResponseWriter).Flush()
	}
}
