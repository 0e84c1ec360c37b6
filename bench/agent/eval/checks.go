package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"ecode/bench/agent/evals"
)

// preview requests an app as a visitor does: at the platform's address
// with the preview's host, without the platform's cookies, and without
// following redirects (a check may expect one).
type preview struct {
	base, host string
	http       *http.Client
}

func newPreview(base, host string) preview {
	return preview{base: strings.TrimSuffix(base, "/"), host: host, http: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (p preview) do(ctx context.Context, method, path, body string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
	if err != nil {
		return response{}, fmt.Errorf("request: %w", err)
	}
	req.Host = p.host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := p.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return response{}, fmt.Errorf("read the body: %w", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}, nil
}

// runChecks runs the checks in order and returns the first failure, or "".
// A failing check is tried again for up to retryFor: the app may still be
// starting.
func runChecks(ctx context.Context, p preview, checks []evals.Check, retryFor time.Duration) string {
	vars := map[string]string{}
	for i, ch := range checks {
		method := cmp.Or(ch.Method, http.MethodGet)
		path := expand(ch.Path, vars)
		deadline := time.Now().Add(retryFor)
		for {
			why := check(ctx, p, ch, method, path, vars)
			if why == "" {
				break
			}
			if time.Now().After(deadline) || sleep(ctx, 500*time.Millisecond) != nil {
				return fmt.Sprintf("check %d, %s %s: %s", i+1, method, path, why)
			}
		}
	}
	return ""
}

// check runs one check and says what is wrong, or "". It stores the
// check's captures in vars.
func check(ctx context.Context, p preview, ch evals.Check, method, path string, vars map[string]string) string {
	res, err := p.do(ctx, method, path, expand(ch.Body, vars))
	if err != nil {
		return err.Error()
	}
	if want := cmp.Or(ch.Status, http.StatusOK); res.status != want {
		return fmt.Sprintf("status %d, want %d: %s", res.status, want, clip(res.body, 100))
	}
	text := searchable(res.body)
	for _, s := range ch.Contains {
		if !strings.Contains(text, strings.ToLower(s)) {
			return fmt.Sprintf("the body lacks %q: %s", s, clip(res.body, 100))
		}
	}
	for _, s := range ch.Excludes {
		if strings.Contains(text, strings.ToLower(s)) {
			return fmt.Sprintf("the body holds %q", s)
		}
	}
	for _, h := range slices.Sorted(maps.Keys(ch.Headers)) {
		if got := res.header.Get(h); !strings.Contains(strings.ToLower(got), strings.ToLower(ch.Headers[h])) {
			return fmt.Sprintf("header %s is %q, want %q in it", h, got, ch.Headers[h])
		}
	}
	var doc any
	_ = json.Unmarshal([]byte(res.body), &doc)
	for _, name := range ch.Capture {
		v, ok := find(doc, name)
		if !ok {
			return fmt.Sprintf("no %q in the JSON body: %s", name, clip(res.body, 100))
		}
		vars[name] = v
	}
	return ""
}

// searchable is the body as checks search it: lower case, and for JSON
// also compact, so that {"n": 1.0} holds "n":1.
func searchable(body string) string {
	var doc any
	if json.Unmarshal([]byte(body), &doc) != nil {
		return strings.ToLower(body)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(doc)
	return strings.ToLower(body + "\n" + b.String())
}

// find returns the value of the first field called name in a JSON
// document, looking at an object's own fields before nested ones.
func find(doc any, name string) (string, bool) {
	switch v := doc.(type) {
	case map[string]any:
		if f, ok := v[name]; ok {
			switch f := f.(type) {
			case string:
				return f, true
			case float64:
				return strconv.FormatFloat(f, 'f', -1, 64), true
			}
			b, _ := json.Marshal(f)
			return string(b), true
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if s, ok := find(v[k], name); ok {
				return s, true
			}
		}
	case []any:
		for _, e := range v {
			if s, ok := find(e, name); ok {
				return s, true
			}
		}
	}
	return "", false
}

// expand replaces {name} with captured values.
func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// clip shortens s to n runes on one line, for messages.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
