package run

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
	"unicode/utf8"

	"ecode/internal/access"
	"ecode/internal/auth"
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

// CheckApp sends a GET for path to the project's running app through the
// preview proxy, so it meets the app exactly as its preview does.
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
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	req.Host = "localhost"
	rec := httptest.NewRecorder()
	s.proxy.ServeHTTP(rec, req.WithContext(context.WithValue(ctx, targetKey{}, target{projectID: p.ID, port: port})))
	res := rec.Result()
	body, _ := io.ReadAll(io.LimitReader(res.Body, checkBodyMax+1))
	c := &AppCheck{Listening: true, Status: res.StatusCode, ContentType: res.Header.Get("Content-Type")}
	if len(body) > checkBodyMax {
		body, c.Truncated = body[:checkBodyMax], true
	}
	if utf8.Valid(body) {
		c.Body = string(body)
	} else {
		c.Body = fmt.Sprintf("(%d bytes of binary content)", len(body))
	}
	return c, nil
}

// ConsoleTail returns the last n bytes of the project's console.
func (s *Service) ConsoleTail(projectID string, n int) string {
	c := s.console(projectID)
	c.mu.Lock()
	data := c.out.buf
	if len(data) > n {
		data = data[len(data)-n:]
	}
	tail := strings.ToValidUTF8(string(data), "")
	c.mu.Unlock()
	return tail
}
