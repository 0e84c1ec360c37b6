package cli_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/creack/pty"

	"ecode/internal/cli"
	"ecode/internal/testserver"
)

func TestSecrets(t *testing.T) {
	t.Parallel()
	testserver.NeedSandbox(t)
	_, alice, sh := loggedIn(t)
	p := alice.CreateProject(t, "Vault")
	reveal := func(name string) string {
		t.Helper()
		var out struct{ Value string }
		alice.Get(t, "/api/projects/"+p.ID+"/secrets/"+name).WantStatus(t, http.StatusOK).Decode(t, &out)
		return out.Value
	}

	// Piped: one final newline is not part of the value.
	sh.run(t, "s3cr3t-piped\n", "secrets", "-p", "alice/vault", "set", "API_KEY").want(t, 0, "Set API_KEY of alice/vault")
	if v := reveal("API_KEY"); v != "s3cr3t-piped" {
		t.Fatalf("API_KEY holds %q", v)
	}
	sh.run(t, "", "secrets", "-p", "alice/vault", "set", "EMPTY").want(t, cli.ExitUsage, "empty")
	sh.run(t, "", "secrets", "-p", "alice/vault", "set", "1BAD", "x").want(t, cli.ExitFailure, "invalid_name")

	// On a terminal it is asked for.
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	if _, err := ptmx.Write([]byte("typed-value-42\n")); err != nil {
		t.Fatal(err)
	}
	r := sh.runIn(t, tty, "secrets", "set", "TOKEN", "-p", "alice/vault").want(t, 0, "Value of TOKEN (not shown)")
	if v := reveal("TOKEN"); v != "typed-value-42" || strings.Contains(r.stdout+r.stderr, "typed-value-42") {
		t.Fatalf("TOKEN holds %q; output %q", v, r.stdout+r.stderr)
	}

	r = sh.run(t, "", "secrets", "-p", "alice/vault", "ls").want(t, 0, "NAME", "API_KEY", "TOKEN", "alice")
	if strings.Contains(r.stdout, "s3cr3t") || strings.Contains(r.stdout, "typed-value") {
		t.Fatalf("ls shows a value:\n%s", r.stdout)
	}
	var listed struct{ Secrets []map[string]any }
	r = sh.run(t, "", "secrets", "-p", "alice/vault", "ls", "--json").want(t, 0)
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || len(listed.Secrets) != 2 || listed.Secrets[0]["name"] != "API_KEY" || listed.Secrets[0]["value"] != nil {
		t.Fatalf("ls --json: %v, %s", err, r.stdout)
	}

	// The sandbox's commands get the value; their output masks it.
	sh.run(t, "", "exec", "-p", "alice/vault", `test "$API_KEY" = s3cr3t-piped && printenv API_KEY`).want(t, 0, "********")

	sh.run(t, "", "secrets", "-p", "alice/vault", "rm", "API_KEY").want(t, cli.ExitUsage, "--yes")
	if _, err := ptmx.Write([]byte("n\n")); err != nil {
		t.Fatal(err)
	}
	sh.runIn(t, tty, "secrets", "-p", "alice/vault", "rm", "TOKEN").want(t, cli.ExitRefused, "Delete the secret TOKEN", "not confirmed")
	sh.run(t, "", "secrets", "-p", "alice/vault", "rm", "API_KEY", "--yes").want(t, 0, "Deleted API_KEY")
	sh.run(t, "", "secrets", "-p", "alice/vault", "rm", "API_KEY", "--yes").want(t, cli.ExitNotFound, "not_found")
	sh.run(t, "", "exec", "-p", "alice/vault", `printenv API_KEY || echo gone`).want(t, 0, "gone")
	r = sh.run(t, "", "secrets", "-p", "alice/vault", "ls").want(t, 0, "TOKEN")
	if strings.Contains(r.stdout, "API_KEY") {
		t.Fatalf("API_KEY still listed:\n%s", r.stdout)
	}
}

// Every command here explains itself with examples.
func TestDeployDataHelp(t *testing.T) {
	t.Parallel()
	sh := newShell(t)
	for _, cmd := range [][]string{{"deploy"}, {"db"}, {"kv"}, {"kv", "get"}, {"kv", "set"}, {"kv", "ls"}, {"kv", "rm"},
		{"secrets"}, {"secrets", "ls"}, {"secrets", "set"}, {"secrets", "rm"}} {
		sh.run(t, "", append(cmd, "--help")...).want(t, 0, "Examples:")
	}
	sh.run(t, "", "kv", "bogus").want(t, cli.ExitUsage, "unknown command")
	sh.run(t, "", "secrets", "set").want(t, cli.ExitUsage)
	sh.run(t, "", "deploy", "extra").want(t, cli.ExitUsage)
}
