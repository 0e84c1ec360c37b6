package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// client speaks the platform's API as one signed-up person.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) (*client, error) {
	if _, err := url.Parse(base); err != nil {
		return nil, fmt.Errorf("server URL: %w", err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("cookie jar: %w", err)
	}
	return &client{base: strings.TrimSuffix(base, "/"), http: &http.Client{Jar: jar, Timeout: time.Minute}}, nil
}

// call sends in as JSON and decodes the answer into out; an answer that is
// not 2xx is an error carrying the API's code and message.
func (c *client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if res.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(raw, &e)
		return &apiError{Method: method, Path: path, Status: res.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// apiError is an answer of the API that is not 2xx.
type apiError struct {
	Method, Path  string
	Status        int
	Code, Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// signUp creates a fresh account, so every harness run starts clean, and
// returns its username.
func (c *client) signUp(ctx context.Context) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	name := "eval-" + hex.EncodeToString(b[:3])
	in := map[string]string{"username": name, "email": name + "@example.com", "password": hex.EncodeToString(b)}
	if err := c.call(ctx, http.MethodPost, "/api/auth/signup", in, nil); err != nil {
		return "", fmt.Errorf("sign up: %w", err)
	}
	return name, nil
}

// model names the server's AI model, or fails when it has none.
func (c *client) model(ctx context.Context) (string, error) {
	var st struct {
		Configured bool   `json:"configured"`
		Model      string `json:"model"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/ai/status", nil, &st); err != nil {
		return "", fmt.Errorf("AI status: %w", err)
	}
	if !st.Configured {
		return "", fmt.Errorf("the server has no AI model: start it with ECODE_ANTHROPIC_API_KEY or ECODE_ANTHROPIC_BASE_URL")
	}
	return st.Model, nil
}

type project struct {
	ID    string `json:"id"`
	Slug  string `json:"slug"`
	Owner string `json:"owner"`
}

func (c *client) createProject(ctx context.Context, name string) (project, error) {
	var out struct{ Project project }
	err := c.call(ctx, http.MethodPost, "/api/projects", map[string]string{"name": name, "visibility": "public"}, &out)
	return out.Project, err
}

// agentRun is what the harness reads of an agent run.
type agentRun struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	NeedsInput string `json:"needsInput"`
	TokensIn   int64  `json:"tokensIn"`
	TokensOut  int64  `json:"tokensOut"`
	CreatedAt  int64  `json:"createdAt"`
	FinishedAt *int64 `json:"finishedAt"`
	Steps      []struct {
		Tool       string         `json:"tool"`
		Input      map[string]any `json:"input"`
		DurationMs int64          `json:"durationMs"`
	} `json:"steps"`
}

// runAgent starts the agent on the project and waits for it to end, or
// stops it after timeout (its status is then "timeout").
func (c *client) runAgent(ctx context.Context, projectID, prompt string, timeout time.Duration) (agentRun, error) {
	base := "/api/projects/" + projectID + "/agent/runs"
	var out struct{ Run agentRun }
	if err := c.call(ctx, http.MethodPost, base, map[string]string{"prompt": prompt}, &out); err != nil {
		return agentRun{}, fmt.Errorf("start the agent: %w", err)
	}
	path := base + "/" + out.Run.ID
	deadline := time.Now().Add(timeout)
	for out.Run.Status == "running" {
		if time.Now().After(deadline) || sleep(ctx, 200*time.Millisecond) != nil {
			return c.stopAgent(ctx, path)
		}
		if err := c.call(ctx, http.MethodGet, path, nil, &out); err != nil {
			if ctx.Err() != nil {
				return c.stopAgent(ctx, path)
			}
			return out.Run, fmt.Errorf("poll the agent: %w", err)
		}
	}
	return out.Run, nil
}

// stopAgent stops a run that outlived its time, or the harness: it would
// go on spending tokens. The run's status is then "timeout".
func (c *client) stopAgent(ctx context.Context, path string) (agentRun, error) {
	bg := context.WithoutCancel(ctx)
	var out struct{ Run agentRun }
	if err := c.call(bg, http.MethodPost, path+"/stop", nil, nil); err != nil {
		return out.Run, fmt.Errorf("stop the agent: %w", err)
	}
	if err := c.call(bg, http.MethodGet, path, nil, &out); err != nil {
		return out.Run, fmt.Errorf("read the stopped run: %w", err)
	}
	if ctx.Err() != nil {
		return out.Run, ctx.Err()
	}
	out.Run.Status = "timeout"
	return out.Run, nil
}

// appRun is the project's current run of its app.
type appRun struct {
	Status     string  `json:"status"`
	Port       *int    `json:"port"`
	PreviewURL *string `json:"previewUrl"`
	Error      string  `json:"error"`
}

func (r *appRun) live() bool { return r != nil && (r.Status == "starting" || r.Status == "running") }

func (r *appRun) describe() string {
	switch {
	case r == nil:
		return "no run"
	case r.Error != "":
		return r.Status + ": " + r.Error
	}
	return r.Status
}

// ensureApp waits for the app to listen, starting it once when the agent
// left nothing running, and returns the preview's host. An app may still
// be installing or compiling when the agent ends: it gets wait to listen.
func (c *client) ensureApp(ctx context.Context, p project, wait time.Duration) (string, error) {
	base := "/api/projects/" + p.ID
	started := false
	deadline := time.Now().Add(wait)
	for {
		var out struct{ Current *appRun }
		if err := c.call(ctx, http.MethodGet, base+"/runs", nil, &out); err != nil {
			return "", fmt.Errorf("app status: %w", err)
		}
		cur := out.Current
		switch {
		case cur.live() && cur.Port != nil:
			return c.previewHost(p, cur), nil
		case !cur.live() && started:
			return "", fmt.Errorf("nothing was running, and the app the harness started ended (%s)", cur.describe())
		case !cur.live():
			if err := c.call(ctx, http.MethodPost, base+"/run", nil, nil); err != nil {
				return "", fmt.Errorf("nothing was running; start the app: %w", err)
			}
			started, deadline = true, time.Now().Add(wait)
			continue
		case time.Now().After(deadline):
			return "", fmt.Errorf("the app did not listen on $PORT within %s (%s)", wait, cur.describe())
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return "", err
		}
	}
}

// previewHost is the run's preview host, else the default preview domain's
// at the server's address.
func (c *client) previewHost(p project, r *appRun) string {
	if r.PreviewURL != nil {
		if u, err := url.Parse(*r.PreviewURL); err == nil && u.Host != "" {
			return u.Host
		}
	}
	host := p.Slug + "--" + p.Owner + ".localhost"
	if u, err := url.Parse(c.base); err == nil && u.Port() != "" {
		host += ":" + u.Port()
	}
	return host
}

func (c *client) stopApp(ctx context.Context, projectID string) error {
	return c.call(ctx, http.MethodPost, "/api/projects/"+projectID+"/stop", nil, nil)
}

// missingFiles returns the paths the project does not hold.
func (c *client) missingFiles(ctx context.Context, projectID string, paths []string) ([]string, error) {
	var missing []string
	for _, p := range paths {
		err := c.call(ctx, http.MethodGet, "/api/projects/"+projectID+"/files/"+p, nil, nil)
		var ae *apiError
		switch {
		case err == nil:
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			missing = append(missing, p)
		default:
			return nil, err
		}
	}
	return missing, nil
}

// sleep waits d, or less when ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
