package run

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
)

// AppCheck is what a request to the running app saw, as a person opening
// its preview would.
type AppCheck struct {
	Listening   bool   `json:"listening"`
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"` // the start of it
	Truncated   bool   `json:"truncated"`
}

const checkBodyMax = 4 << 10

// CheckApp sends a GET for path to the project's running app the way the
// preview proxy reaches it (the sandbox's network, Host localhost).
func (s *Service) CheckApp(ctx context.Context, actor *auth.User, projectID, path string) (*AppCheck, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	port, ok := s.previewPort(ctx, p)
	if !ok {
		return &AppCheck{}, nil
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	t := target{projectID: p.ID, port: port}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, targetKey{}, t), 20*time.Second)
	defer cancel()
	// Straight to the proxy's transport: the body is read only as far as
	// the check needs, never buffered whole.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.upstream()+path, nil)
	if err != nil {
		return nil, errs.Invalid("invalid_path", "%q is not a path to request.", path)
	}
	req.Host = "localhost:" + strconv.Itoa(port)
	res, err := s.proxy.Transport.RoundTrip(req)
	if err != nil {
		return &AppCheck{Listening: true, Status: http.StatusBadGateway, Body: "The app did not answer: " + err.Error()}, nil
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, checkBodyMax+1))
	c := &AppCheck{Listening: true, Status: res.StatusCode, ContentType: res.Header.Get("Content-Type")}
	if len(body) > checkBodyMax {
		body, c.Truncated = body[:checkBodyMax], true
	}
	// The agent is shown the body: mask it as a console would. A value
	// the cut split is held back, not shown in part.
	var masked bytes.Buffer
	mw := newMasker(s.secretEnv(ctx, p.ID)).Writer(&masked)
	_, _ = mw.Write(body)
	if !c.Truncated {
		_ = mw.Flush()
	}
	body = masked.Bytes()
	if utf8.Valid(body) {
		c.Body = string(body)
	} else {
		c.Body = fmt.Sprintf("(%d bytes of binary content)", len(body))
	}
	return c, nil
}

// ConsoleTail returns the last lines of the project's console as plain
// text, at most n bytes: without terminal colours and cursor moves, and
// with each line as it was left (a spinner's frames collapse to its last).
func (s *Service) ConsoleTail(projectID string, n int) string {
	c := s.console(projectID)
	c.mu.Lock()
	data := c.out.buf
	if len(data) > 4*n {
		data = data[len(data)-4*n:]
	}
	raw := strings.ToValidUTF8(string(data), "")
	c.mu.Unlock()
	raw = toLineStart.ReplaceAllString(raw, "\r") // a spinner redraws its line
	lines := strings.Split(terminalCodes.ReplaceAllString(raw, ""), "\n")
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if j := strings.LastIndexByte(l, '\r'); j >= 0 {
			l = l[j+1:]
		}
		lines[i] = l
	}
	out := strings.Join(lines, "\n")
	if len(out) > n {
		out = strings.ToValidUTF8(out[len(out)-n:], "")
	}
	return out
}

var toLineStart = regexp.MustCompile(`\x1b\[1?G`)

// terminalCodes are escape sequences: CSI (colours, cursor moves) and OSC
// (titles, links).
var terminalCodes = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]`)
