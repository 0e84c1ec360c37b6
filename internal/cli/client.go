package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"ecode/internal/httpx"
)

// Client calls a platform's HTTP API with an API token.
type Client struct {
	Host  string // the server's base URL, such as https://ecode.example.com
	Token string
	HTTP  *http.Client
}

// APIError is an error answer of the API: its status and the error shape
// {"error":{"code","message"}} every route answers.
type APIError struct {
	Status  int
	Code    string
	Message string
	Body    []byte // the answer as sent, for errors that say more than code and message
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Do sends a request and returns the response when its status is 2xx; any
// other answer is read and returned as an *APIError. body may be nil.
func (c *Client) Do(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := c.NewRequest(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.Send(req)
}

// NewRequest is a request to the API carrying the token.
func (c *Client) NewRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Host+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

// Send sends req as Do does.
func (c *Client) Send(req *http.Request) (*http.Response, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach %s: %w", c.Host, err)
	}
	if res.StatusCode/100 == 2 {
		return res, nil
	}
	defer res.Body.Close()
	return nil, readError(res)
}

// readError turns a failed response into an *APIError. A body that is not
// the API's error shape (a proxy's page, say) still yields one, so callers
// can rely on the status.
func readError(res *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	var b httpx.ErrorBody
	if json.Unmarshal(raw, &b) == nil && b.Error.Code != "" {
		return &APIError{Status: res.StatusCode, Code: b.Error.Code, Message: b.Error.Message, Body: raw}
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	if msg == "" {
		msg = http.StatusText(res.StatusCode)
	}
	return &APIError{Status: res.StatusCode, Code: fmt.Sprintf("http_%d", res.StatusCode), Message: msg, Body: raw}
}

// JSON sends in (when not nil) as JSON and decodes the answer into out
// (when not nil).
func (c *Client) JSON(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ctype := ""
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body, ctype = bytes.NewReader(raw), "application/json"
	}
	res, err := c.Do(ctx, method, path, body, ctype)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// filePath is the API path of file p (slash-separated) of project id.
func filePath(id, p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return projectPath(id, "/files/"+strings.Join(segs, "/"))
}

// projectPath is the API path of project id, followed by rest.
func projectPath(id, rest string) string {
	return "/api/projects/" + url.PathEscape(id) + rest
}

// isStatus reports whether err is an API answer of one of the statuses.
func isStatus(err error, statuses ...int) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	for _, s := range statuses {
		if e.Status == s {
			return true
		}
	}
	return false
}

// Events GETs path as a stream of server-sent events and calls fn with
// each until the stream ends or fn fails.
func (c *Client) Events(ctx context.Context, path string, fn func(event, data string) error) error {
	req, err := c.NewRequest(ctx, "GET", path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := c.Send(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return readEvents(res.Body, fn)
}

// readEvents calls fn with each server-sent event of r (its name and its
// data lines joined) until r ends or fn fails.
func readEvents(r io.Reader, fn func(event, data string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var event string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch {
		case line == "":
			if len(data) > 0 {
				if err := fn(event, strings.Join(data, "\n")); err != nil {
					return err
				}
			}
			event, data = "", nil
		case field == "event":
			event = value
		case field == "data":
			data = append(data, value)
		}
	}
	return sc.Err()
}
