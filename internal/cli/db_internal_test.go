package cli

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitSQL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text  string
		stmts []string
		rest  string
	}{
		{"", nil, ""},
		{"select 1", nil, "select 1"},
		{"select 1;", []string{"select 1"}, ""},
		{" select 1 ;\n select 2; ", []string{"select 1", "select 2"}, ""},
		{";;select 1;;", []string{"select 1"}, ""},
		{"select 'a;b'; select \"x;y\" from t;", []string{"select 'a;b'", `select "x;y" from t`}, ""},
		{"select 'it''s;'; x", []string{"select 'it''s;'"}, " x"},
		{`select E'a\';b'; y`, []string{`select E'a\';b'`}, " y"},
		{`select type'a\';b'`, []string{`select type'a\'`}, "b'"}, // not an E string: \ is no escape
		{"select 1 -- no; end\n;", []string{"select 1 -- no; end"}, ""},
		{"select 1; -- the end; really\n", []string{"select 1"}, ""},
		{"select /* a; b */ 1; /* c; */", []string{"select /* a; b */ 1"}, ""},
		{"do $$ begin perform 1; end $$; select 2;", []string{"do $$ begin perform 1; end $$", "select 2"}, ""},
		{"create function f() returns int as $body$ select 1; $body$ language sql;", []string{"create function f() returns int as $body$ select 1; $body$ language sql"}, ""},
		{"select $1; select a$b$c from t;", []string{"select $1", "select a$b$c from t"}, ""},
		// Unfinished: the rest is kept whole, ";" and all.
		{"select 1; select 'open;\nstill", []string{"select 1"}, " select 'open;\nstill"},
		{"select 1; /* open; ", []string{"select 1"}, " /* open; "},
		{"do $x$ begin; ", nil, "do $x$ begin; "},
	} {
		stmts, rest := splitSQL(c.text)
		if !slices.Equal(stmts, c.stmts) || rest != c.rest {
			t.Errorf("splitSQL(%q) = %q, %q; want %q, %q", c.text, stmts, rest, c.stmts, c.rest)
		}
	}
}

func FuzzSplitSQL(f *testing.F) {
	for _, s := range []string{"select 1; select 'a;b'", "do $$ x; $$;", "/* ; */ -- ;\n;", `E'\';'`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		stmts, rest := splitSQL(text)
		// Nothing is made up: every piece comes from the text, in order.
		at := 0
		for _, s := range append(stmts, rest) {
			i := strings.Index(text[at:], s)
			if i < 0 {
				t.Fatalf("splitSQL(%q): %q is not in what follows %d", text, s, at)
			}
			at += i + len(s)
		}
	})
}

func TestPrintSQLError(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	printSQLError(&b, "select 1;\n\tselec 2", &sqlError{Message: `syntax error at or near "selec"`, Position: 12, Hint: "Check it."})
	want := "ERROR: syntax error at or near \"selec\"\nLINE 2:  selec 2\n         ^\nHINT: Check it.\n"
	if b.String() != want {
		t.Fatalf("printed\n%s\nwant\n%s", b.String(), want)
	}
}

func TestGrid(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	grid(&b, []string{"id", "name"}, []bool{true, false}, [][]string{{"7", "tea\tpot"}, {"1234", "ü"}})
	want := " id   | name\n------+---------\n    7 | tea pot\n 1234 | ü\n"
	if b.String() != want {
		t.Fatalf("printed\n%q\nwant\n%q", b.String(), want)
	}
}
