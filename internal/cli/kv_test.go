package cli_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ecode/internal/cli"
)

func TestKV(t *testing.T) {
	t.Parallel()
	_, alice, sh := loggedIn(t)
	p := alice.CreateProject(t, "Store")
	kv := func(stdin string, args ...string) result {
		return sh.run(t, stdin, append([]string{"kv", "-p", "alice/store"}, args...)...)
	}

	kv("", "set", "greeting", "hello").want(t, 0, "Set greeting")
	// Without a terminal the value comes as stored: no newline added.
	if r := kv("", "get", "greeting").want(t, 0); r.stdout != "hello" {
		t.Fatalf("get printed %q", r.stdout)
	}
	// From stdin, exactly as given; keys may hold spaces and slashes.
	kv("line one\nline two\n", "set", "notes/a b", "-").want(t, 0, "Set notes/a b (18 B)")
	if r := kv("", "get", "notes/a b").want(t, 0); r.stdout != "line one\nline two\n" {
		t.Fatalf("get printed %q", r.stdout)
	}
	var v struct{ Value string }
	alice.Get(t, "/api/projects/"+p.ID+"/kv/dev/value?key="+url.QueryEscape("notes/a b")).WantStatus(t, http.StatusOK).Decode(t, &v)
	if v.Value != "line one\nline two\n" {
		t.Fatalf("stored %q", v.Value)
	}
	kv("", "set", "notes/c", "3").want(t, 0)

	r := kv("", "ls").want(t, 0, "KEY", "greeting", "notes/a b", "notes/c")
	if strings.Index(r.stdout, "greeting") > strings.Index(r.stdout, "notes/a b") {
		t.Fatalf("keys out of order:\n%s", r.stdout)
	}
	var entries []struct {
		Key  string
		Size int64
	}
	r = kv("", "ls", "notes/", "--json").want(t, 0)
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil || len(entries) != 2 || entries[0].Key != "notes/a b" || entries[1].Key != "notes/c" {
		t.Fatalf("ls notes/ --json: %v, %s", err, r.stdout)
	}

	// The flags may come after the subcommand too; prod is another store.
	sh.run(t, "", "kv", "get", "greeting", "-p", "alice/store", "--env", "prod").want(t, cli.ExitNotFound, "kv_key_not_found")
	kv("", "--env", "prod", "ls").want(t, 0, "No keys")
	kv("", "--env", "staging", "ls").want(t, cli.ExitUsage, "--env")

	kv("", "rm", "greeting").want(t, 0, "Deleted greeting")
	kv("", "get", "greeting").want(t, cli.ExitNotFound, "ecode: kv_key_not_found: ")
	kv("", "rm", "greeting").want(t, cli.ExitNotFound, "kv_key_not_found")
	kv("", "get").want(t, cli.ExitUsage)
	kv("\xff\xfe", "set", "bin", "-").want(t, cli.ExitUsage, "not UTF-8")
	sh.run(t, "", "kv", "-p", "alice/nothing", "ls").want(t, cli.ExitNotFound, "not_found")
	// The subcommands complete -p and --env too.
	sh.run(t, "", "__complete", "kv", "ls", "-p", "").want(t, 0, "alice/store")
	sh.run(t, "", "__complete", "kv", "get", "--env", "").want(t, 0, "dev\nprod")
}
