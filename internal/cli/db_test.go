package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"ecode/internal/cli"
)

func TestDB(t *testing.T) {
	t.Parallel()
	s, alice, sh := loggedIn(t)
	p := alice.CreateProject(t, "Blog")

	// Before the database exists: the server's word, and how to create it.
	sh.run(t, "", "db", "-p", "alice/blog", "-c", "select 1").
		want(t, cli.ExitNotFound, "database_not_found", "POST "+s.URL+"/api/projects/"+p.ID+"/database")
	sh.run(t, "", "db", "-p", "alice/blog", "--env", "test", "-c", "select 1").want(t, cli.ExitUsage, "--env")
	res := alice.Post(t, "/api/projects/"+p.ID+"/database", map[string]any{})
	if res.StatusCode == http.StatusServiceUnavailable {
		t.Skipf("no PostgreSQL for projects: %s", res.Body)
	}
	res.WantStatus(t, http.StatusCreated)

	db := func(stdin string, args ...string) result {
		return sh.run(t, stdin, append([]string{"db", "-p", "alice/blog"}, args...)...)
	}
	db("", "-c", "create table t (a int, b text)").want(t, 0, "CREATE TABLE")
	db("", "-c", "insert into t values (1, 'one'), (22, null)").want(t, 0, "INSERT 0 2")
	if r := db("", "-c", "select a, b from t order by a").want(t, 0); r.stdout != " a  | b\n----+-----\n  1 | one\n 22 | \n(2 rows)\n\n" {
		t.Fatalf("select printed %q", r.stdout)
	}
	var ans struct {
		Results []struct {
			Command string
			Rows    [][]*string
		}
	}
	r := db("", "-c", "select b from t where a = 1", "--json").want(t, 0)
	if err := json.Unmarshal([]byte(r.stdout), &ans); err != nil || len(ans.Results) != 1 || ans.Results[0].Command != "SELECT 1" || *ans.Results[0].Rows[0][0] != "one" {
		t.Fatalf("db --json: %v, %s", err, r.stdout)
	}

	// Piped statements run one by one; a ";" in a string or a comment
	// does not end one.
	db("insert into t values (3, 'a;b');\n-- not; a statement\nselect count(*) from t\n").want(t, 0, "INSERT 0 1", "count", " 3\n(1 row)")
	// The first error stops them, and what came before it stays.
	r = db("insert into t values (4, 'x');\nselec 1;\ninsert into t values (5, 'y');\n").want(t, cli.ExitFailure, `ERROR: syntax error at or near "selec"`, "LINE 1: selec 1")
	if strings.Contains(r.stdout, "INSERT 0 1\nINSERT") {
		t.Fatalf("ran past the error: %q", r.stdout)
	}
	db("", "-c", "select string_agg(a::text, ',' order by a) from t").want(t, 0, "1,3,4,22")
	db("", "-c", "select 1/0").want(t, cli.ExitFailure, "ERROR: division by zero")

	// The shell on a terminal: a statement over two lines, an error it
	// goes on after, \dt and \q.
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	if _, err := ptmx.Write([]byte("select a,\n  b from t where a = 1;\nselec;\nselect 42 as answer;\n\\dt\n\\q\n")); err != nil {
		t.Fatal(err)
	}
	r = sh.runIn(t, tty, "db", "-p", "alice/blog").want(t, 0, "alice/blog=> ", "alice/blog-> ", `ERROR: syntax error at or near "selec"`)
	for _, want := range []string{" a | b\n---+-----\n 1 | one\n(1 row)", " answer\n--------\n     42", "public | t    | table"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("the shell printed %q, without %q", r.stdout, want)
		}
	}

	// Ctrl-C ends the shell while it waits for a line.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &liveOutput{}
	done := make(chan int, 1)
	go func() { done <- sh.runCtx(ctx, tty, io.Discard, stderr, "db", "-p", "alice/blog") }()
	stderr.waitFor(t, "alice/blog=> ", 30*time.Second)
	cancel()
	wantExit(t, done, cli.ExitInterrupted, 30*time.Second, "the shell did not end after Ctrl-C", nil)
}
