package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"ecode/internal/cli"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// loginOutput is output a test reads while the command still writes it.
type loginOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *loginOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *loginOutput) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// pollUntil waits until cond holds, failing t after a deadline.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deviceLogin is `ecode login` running in the background, with the user
// code it printed.
type deviceLogin struct {
	code   string
	cancel context.CancelFunc
	done   chan result
}

var userCodeRE = regexp.MustCompile(`enter ([A-Z]{4}-[A-Z]{4})\n`)

// startDeviceLogin runs `ecode login args...` in sh with the environment
// env adds, until it prints the code to enter.
func (sh *shell) startDeviceLogin(t *testing.T, env map[string]string, args ...string) *deviceLogin {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var out bytes.Buffer
	var errb loginOutput
	l := &deviceLogin{cancel: cancel, done: make(chan result, 1)}
	go func() {
		code := cli.Run(ctx, append([]string{"login"}, args...), cli.Env{
			Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Getenv: func(k string) string {
				if k == "ECODE_CONFIG_DIR" {
					return sh.config
				}
				return env[k]
			},
		})
		l.done <- result{code, out.String(), errb.String()}
	}()
	pollUntil(t, "the code to enter", func() bool {
		select {
		case r := <-l.done:
			t.Fatalf("login ended before it showed a code: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		default:
		}
		m := userCodeRE.FindStringSubmatch(errb.String())
		if m != nil {
			l.code = m[1]
		}
		return m != nil
	})
	return l
}

// wait returns the login's result once it has ended.
func (l *deviceLogin) wait(t *testing.T) result {
	t.Helper()
	select {
	case r := <-l.done:
		return r
	case <-time.After(time.Minute):
		t.Fatal("login did not end")
		return result{}
	}
}

// storedToken is the token sh keeps for host.
func (sh *shell) storedToken(t *testing.T, host string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(sh.config, "hosts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var hosts cli.Hosts
	if err := json.Unmarshal(raw, &hosts); err != nil {
		t.Fatal(err)
	}
	return hosts.Hosts[host].Token
}

func TestDeviceLogin(t *testing.T) {
	t.Parallel()
	s := testserver.New(t, testdb.Engines(t)[0])
	alice := s.SignUp(t, "alice")

	t.Run("approved", func(t *testing.T) {
		t.Parallel()
		sh := newShell(t)
		opened := filepath.Join(t.TempDir(), "opened")
		l := sh.startDeviceLogin(t, map[string]string{"BROWSER": browserScript(t, opened)}, "--host", s.URL, "--no-browser")
		var req struct{ ClientName string }
		alice.Get(t, "/api/auth/device?code="+l.code).WantStatus(t, 200).Decode(t, &req)
		host, _ := os.Hostname()
		if req.ClientName != "ecode CLI on "+host {
			t.Fatalf("the login calls itself %q", req.ClientName)
		}
		alice.Post(t, "/api/auth/device/approve", map[string]any{"userCode": l.code, "approve": true}).WantStatus(t, http.StatusNoContent)
		r := l.wait(t).want(t, 0, "Logged in to "+s.URL+" as alice", "Open "+s.URL+"/device and enter "+l.code,
			s.URL+"/device?code="+l.code)
		if strings.Contains(r.stderr, "Opening it in your browser") {
			t.Fatalf("--no-browser still opened one: %s", r.stderr)
		}
		if _, err := os.Stat(opened); err == nil {
			t.Fatal("--no-browser ran $BROWSER")
		}

		// The stored token works; logout revokes it.
		sh.run(t, "", "projects", "ls").want(t, 0, "No projects yet")
		old := s.Anonymous()
		old.Token = sh.storedToken(t, s.URL)
		old.Get(t, "/api/auth/me").WantStatus(t, 200)
		sh.run(t, "", "logout").want(t, 0, "Logged out of "+s.URL+"; the token was revoked")
		old.Get(t, "/api/auth/me").WantError(t, 401, "invalid_token")
		sh.run(t, "", "projects", "ls", "--host", s.URL).want(t, cli.ExitAuth, "not logged in to "+s.URL)
	})

	t.Run("denied in the browser it opened", func(t *testing.T) {
		t.Parallel()
		sh := newShell(t)
		opened := filepath.Join(t.TempDir(), "opened")
		l := sh.startDeviceLogin(t, map[string]string{"BROWSER": browserScript(t, opened)}, "--host", s.URL)
		want := s.URL + "/device?code=" + l.code + "\n"
		pollUntil(t, "$BROWSER to open the page", func() bool {
			got, _ := os.ReadFile(opened)
			return string(got) == want
		})
		alice.Post(t, "/api/auth/device/approve", map[string]any{"userCode": l.code, "approve": false}).WantStatus(t, http.StatusNoContent)
		l.wait(t).want(t, cli.ExitRefused, "denied in the browser")
		if _, err := os.Stat(filepath.Join(sh.config, "hosts.json")); err == nil {
			t.Fatal("a denied login stored credentials")
		}
	})

	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		sh := newShell(t)
		l := sh.startDeviceLogin(t, nil, "--host", s.URL, "--no-browser")
		if _, err := s.App.DB.Exec(t.Context(), `UPDATE device_codes SET expires_at = ? WHERE user_code = ?`,
			time.Now().UnixMilli(), strings.ReplaceAll(l.code, "-", "")); err != nil {
			t.Fatal(err)
		}
		l.wait(t).want(t, cli.ExitAuth, "the code expired", "ecode login again")
	})

	t.Run("interrupted", func(t *testing.T) {
		t.Parallel()
		sh := newShell(t)
		l := sh.startDeviceLogin(t, nil, "--host", s.URL, "--no-browser")
		l.cancel()
		l.wait(t).want(t, cli.ExitInterrupted, "login stopped")
	})
}

// browserScript is a $BROWSER that writes the URL it is given to file.
func browserScript(t *testing.T, file string) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" > "+file+".tmp && mv "+file+".tmp "+file+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

func TestLogout(t *testing.T) {
	t.Parallel()
	s, alice, sh := loggedIn(t)

	// A token revoked in Settings meanwhile: logout still forgets it.
	var out struct{ Tokens []struct{ ID string } }
	alice.Get(t, "/api/tokens").WantStatus(t, 200).Decode(t, &out)
	alice.Delete(t, "/api/tokens/"+out.Tokens[0].ID).WantStatus(t, http.StatusNoContent)
	sh.run(t, "", "logout").want(t, 0, "Logged out of "+s.URL+"; the token was revoked")
	sh.run(t, "", "logout", "--host", s.URL).want(t, cli.ExitAuth, "not logged in to "+s.URL)

	// A server that cannot be reached: forgotten here, with a warning.
	gone := "http://127.0.0.1:1"
	raw := `{"current":"` + gone + `","hosts":{"` + gone + `":{"token":"ecode_x","username":"alice"}}}`
	if err := os.WriteFile(filepath.Join(sh.config, "hosts.json"), []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	r := sh.run(t, "", "logout", "--json").want(t, 0, "may still be valid", gone+"/settings")
	var res struct {
		Host    string
		Revoked bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Host != gone || res.Revoked {
		t.Fatalf("logout --json: %v, %s", err, r.stdout)
	}
	sh.run(t, "", "projects", "ls").want(t, cli.ExitAuth, "not logged in")
}

func TestLoginFlags(t *testing.T) {
	t.Parallel()
	s := testserver.New(t, testdb.Engines(t)[0])
	alice := s.SignUp(t, "alice")
	sh := newShell(t)
	sh.run(t, "x", "login", "--host", s.URL, "--with-token", "--paste").want(t, cli.ExitUsage, "choose one")
	sh.run(t, "", "login", "--host", s.URL, "--paste").want(t, cli.ExitUsage, "--with-token")
	sh.run(t, "", "login", "--help").want(t, 0, "--no-browser", "--paste", "--with-token", "Examples:")

	// --paste asks on the terminal.
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	if _, err := ptmx.Write([]byte(token(t, alice) + "\n")); err != nil {
		t.Fatal(err)
	}
	sh.runIn(t, tty, "login", "--host", s.URL, "--paste").want(t, 0, "paste it here", "Logged in to "+s.URL+" as alice")
}
