package projectdb

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"one", "SELECT 1", []string{"SELECT 1"}},
		{"two and blanks", "SELECT 1; SELECT 2;;  ;\n", []string{"SELECT 1", " SELECT 2"}},
		{"comments only", "-- nothing\n/* nor ; this */ ", nil},
		{"line comment", "SELECT 1 -- a; b\n; SELECT 2", []string{"SELECT 1 -- a; b\n", " SELECT 2"}},
		{"nested comment", "SELECT /* a /* b; */ c; */ 1; SELECT 2", []string{"SELECT /* a /* b; */ c; */ 1", " SELECT 2"}},
		{"strings", `SELECT 'a;''b', "x;""y"; SELECT 2`, []string{`SELECT 'a;''b', "x;""y"`, " SELECT 2"}},
		{"standard backslash", `SELECT 'a\'; SELECT 2`, []string{`SELECT 'a\'`, " SELECT 2"}},
		{"escape string", `SELECT E'a\'; b'; SELECT 2`, []string{`SELECT E'a\'; b'`, " SELECT 2"}},
		{"dollar quotes", "SELECT $$a;b$$, $fn$ c; $$ ; $fn$; SELECT $1", []string{"SELECT $$a;b$$, $fn$ c; $$ ; $fn$", " SELECT $1"}},
		{"dollar in a name", "SELECT a$b$ FROM t; SELECT 2", []string{"SELECT a$b$ FROM t", " SELECT 2"}},
		{"parentheses", "SELECT (1;2); SELECT 3", []string{"SELECT (1;2)", " SELECT 3"}},
		{"unterminated", "SELECT 'a; SELECT 2", []string{"SELECT 'a; SELECT 2"}},
		{
			"function body",
			"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; SELECT f()",
			[]string{"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END", " SELECT f()"},
		},
		{"begin is not a body elsewhere", "BEGIN; SELECT 1; END", []string{"BEGIN", " SELECT 1", " END"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, st := range splitStatements(tc.text) {
				if tc.text[st.start:st.start+len(st.text)] != st.text {
					t.Fatalf("statement %q does not start at %d", st.text, st.start)
				}
				got = append(got, st.text)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("split %q:\n got %q\nwant %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestCheckRunnable(t *testing.T) {
	for text, ok := range map[string]bool{
		"INSERT INTO t VALUES (1); COMMIT":               true,
		"BEGIN; INSERT INTO t VALUES (1); COMMIT":        true,
		"SAVEPOINT a; ROLLBACK TO a; SELECT 1":           true,
		"SAVEPOINT a; ROLLBACK WORK TO SAVEPOINT a; END": true,
		"COMMIT; INSERT INTO t VALUES (1)":               false,
		"commit and chain; SET TRANSACTION READ WRITE":   false,
		"/* x */ END; SELECT 1":                          false,
		"ABORT; SELECT 1":                                false,
		"ROLLBACK; SELECT 1":                             false,
		"PREPARE TRANSACTION 'x'; SELECT 1":              false,
		"PREPARE q AS SELECT 1; EXECUTE q":               true,
		"COPY t FROM STDIN; SELECT 1":                    false,
		"SELECT 1; copy t (a, b) from stdin with csv":    false,
		"COPY t TO STDOUT":                               true,
		"SELECT 'stdin' FROM copy":                       true,
	} {
		if err := checkRunnable(splitStatements(text)); (err == nil) != ok {
			t.Errorf("%q: error %v, want refused=%v", text, err, !ok)
		}
	}
}

func FuzzSplitStatements(f *testing.F) {
	f.Add("SELECT 'a;b'; CREATE FUNCTION f() BEGIN ATOMIC SELECT 1; END; $x$;$x$ /* ; */")
	f.Fuzz(func(t *testing.T, text string) {
		prev := 0
		for _, st := range splitStatements(text) {
			if st.start < prev || text[st.start:st.start+len(st.text)] != st.text {
				t.Fatalf("statement %q at %d out of place", st.text, st.start)
			}
			prev = st.start + len(st.text)
		}
	})
}

func TestCapText(t *testing.T) {
	if got := capText("héllo", 2); got != "h" {
		t.Fatalf("capText cut a character: %q", got)
	}
	if got := capText("hello", 10); got != "hello" {
		t.Fatalf("capText changed a short text: %q", got)
	}
}

// The history keeps each person's newest runs in a project, and only theirs
// are pruned.
func TestHistoryKeepsNewest(t *testing.T) {
	s, projectID := backupService(t, 0)
	ctx := context.Background()
	s.remember(ctx, projectID, Dev, "bob", "SELECT 'bob'", nil, nil, 1)
	for i := range historyKeep + 5 {
		s.remember(ctx, projectID, Dev, "ada", fmt.Sprintf("SELECT %d", i), nil, nil, 1)
	}
	var ada, bob []string
	if err := s.db.Select(ctx, &ada, `SELECT statement FROM database_queries WHERE user_id = 'ada'`); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Select(ctx, &bob, `SELECT statement FROM database_queries WHERE user_id = 'bob'`); err != nil {
		t.Fatal(err)
	}
	if len(ada) != historyKeep || !slices.Contains(ada, fmt.Sprintf("SELECT %d", historyKeep+4)) || len(bob) != 1 {
		t.Fatalf("kept %d of ada's (the newest among them: %v) and %d of bob's", len(ada), slices.Contains(ada, fmt.Sprintf("SELECT %d", historyKeep+4)), len(bob))
	}
}
