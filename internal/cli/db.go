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
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) dbCmd() *cobra.Command {
	var ref, env, sql string
	c := &cobra.Command{
		Use:   "db [-p PROJECT] [--env dev|prod] [-c SQL]",
		Short: "Run SQL on a project's PostgreSQL database",
		Long: `Run SQL on the project's PostgreSQL database (dev unless --env prod), as the
project's own role.

-c runs its SQL (one or more statements, in one transaction) and prints each
result: rows as a table with a "(N rows)" footer, or the statement's command
tag. On a terminal without -c it is a small psql-like shell: statements end
with ";" and may span lines, \dt lists the tables, \q or Ctrl-D quits, and
an error is printed and the shell goes on. With SQL piped in, it runs the
statements one after another and stops at the first error (exit 1).

The database must have been created first, in the web UI's Database pane or
with the API (POST /api/projects/{id}/database).`,
		Example: `  ecode db -c 'select count(*) from users'
  ecode db -p alice/blog --env prod -c 'select * from posts limit 5' --json
  ecode db < schema.sql
  ecode db`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkEnv(env); err != nil {
				return err
			}
			ctx := cmd.Context()
			c, p, err := a.project(ctx, ref, ".")
			if err != nil {
				return err
			}
			d := &dbSession{a: a, c: c, p: p, env: env}
			switch _, tty := a.terminal(); {
			case cmd.Flags().Changed("command"):
				err = d.runAll(ctx, []string{sql})
			case tty:
				err = d.shell(ctx)
			default:
				err = d.script(ctx)
			}
			return d.explain(err)
		},
	}
	a.projectFlag(c, &ref)
	envFlag(c, &env)
	c.Flags().StringVarP(&sql, "command", "c", "", "run this SQL, print its results and exit")
	return c
}

// dbSession is a conversation with one database of a project.
type dbSession struct {
	a   *app
	c   *Client
	p   *project
	env string
}

// queryAnswer is what the console answers: one result per statement.
type queryAnswer struct {
	Results []struct {
		Command   string
		Columns   []struct{ Name, Type string }
		Rows      [][]*string
		RowCount  int64
		Truncated bool
	}
	Notices []string
}

// sqlError is PostgreSQL's refusal of a statement, with the details the
// console answers.
type sqlError struct {
	Message  string `json:"message"`
	Detail   string `json:"detail"`
	Hint     string `json:"hint"`
	Position int    `json:"position"` // 1-based, in characters of the text sent
}

func (e *sqlError) Error() string { return e.Message }

// query runs text (one or more statements) and returns the answer as the
// server sent it; PostgreSQL's refusal is a *sqlError.
func (d *dbSession) query(ctx context.Context, text string) (json.RawMessage, error) {
	body, err := json.Marshal(map[string]string{"sql": text})
	if err != nil {
		return nil, fmt.Errorf("encode the query: %w", err)
	}
	res, err := d.c.Do(ctx, "POST", projectPath(d.p.ID, "/database/"+d.env+"/query"), bytes.NewReader(body), "application/json")
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == "sql_error" {
		// A refused statement's answer says more than its code and message.
		var refused struct {
			Error sqlError `json:"error"`
		}
		if json.Unmarshal(ae.Body, &refused) == nil {
			return nil, &refused.Error
		}
	}
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	return raw, nil
}

// run runs text and prints its results; PostgreSQL's refusal is printed
// as psql does and returned.
func (d *dbSession) run(ctx context.Context, text string) error {
	raw, err := d.query(ctx, text)
	var refused *sqlError
	if errors.As(err, &refused) {
		printSQLError(d.a.env.Stderr, text, refused)
		return err
	}
	if err != nil {
		return err
	}
	if d.a.json {
		return d.a.printJSON(raw)
	}
	var ans queryAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("decode the answer: %w", err)
	}
	for _, n := range ans.Notices {
		fmt.Fprintln(d.a.env.Stderr, n)
	}
	for _, r := range ans.Results {
		if len(r.Columns) == 0 {
			fmt.Fprintln(d.a.env.Stdout, r.Command)
			continue
		}
		header := make([]string, len(r.Columns))
		right := make([]bool, len(r.Columns))
		for i, col := range r.Columns {
			header[i], right[i] = col.Name, numeric[col.Type]
		}
		rows := make([][]string, len(r.Rows))
		for i, row := range r.Rows {
			rows[i] = make([]string, len(row))
			for j, cell := range row {
				if cell != nil {
					rows[i][j] = *cell
				}
			}
		}
		grid(d.a.env.Stdout, header, right, rows)
		footer := rowCount(int(r.RowCount))
		if r.Truncated {
			footer = fmt.Sprintf("(%d rows; the first %d shown)", r.RowCount, len(r.Rows))
		}
		fmt.Fprintf(d.a.env.Stdout, "%s\n\n", footer)
	}
	return nil
}

// numeric are the types whose columns psql aligns right.
var numeric = map[string]bool{"int2": true, "int4": true, "int8": true, "float4": true, "float8": true, "numeric": true, "oid": true, "money": true}

// printSQLError prints PostgreSQL's refusal of text as psql does: the
// message, the line it points at with a caret, the detail and the hint.
func printSQLError(w io.Writer, text string, e *sqlError) {
	fmt.Fprintf(w, "ERROR: %s\n", e.Message)
	if runes, at := []rune(text), e.Position-1; at >= 0 && at < len(runes) {
		from, to := at, at
		for from > 0 && runes[from-1] != '\n' {
			from--
		}
		for to < len(runes) && runes[to] != '\n' {
			to++
		}
		prefix := fmt.Sprintf("LINE %d: ", 1+strings.Count(string(runes[:from]), "\n"))
		fmt.Fprintf(w, "%s%s\n%s^\n", prefix, oneLine(string(runes[from:to])), strings.Repeat(" ", len(prefix)+at-from))
	}
	if e.Detail != "" {
		fmt.Fprintf(w, "DETAIL: %s\n", e.Detail)
	}
	if e.Hint != "" {
		fmt.Fprintf(w, "HINT: %s\n", e.Hint)
	}
}

// runAll runs each text in turn and stops at the first error: a refused
// statement, already printed, exits with 1.
func (d *dbSession) runAll(ctx context.Context, texts []string) error {
	for _, t := range texts {
		err := d.run(ctx, t)
		var refused *sqlError
		if errors.As(err, &refused) {
			return &exitError{code: ExitFailure}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// script runs the statements piped in, one after another.
func (d *dbSession) script(ctx context.Context) error {
	text, err := readInput(d.a.env.Stdin, 64<<20, "the SQL on stdin")
	if err != nil {
		return err
	}
	stmts, rest := splitSQL(text)
	if rest != "" {
		stmts = append(stmts, rest)
	}
	return d.runAll(ctx, stmts)
}

// explain adds to the error that the project has no such database how
// to create it.
func (d *dbSession) explain(err error) error {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "database_not_found" {
		return err
	}
	return &exitError{code: ExitNotFound, err: fmt.Errorf(`%w
Or create it with the API: POST %s%s {"env": %q}`, err, d.c.Host, projectPath(d.p.ID, "/database"), d.env)}
}

const dbHelp = `  \dt    list the tables and views
  \q     quit (or Ctrl-D)
  \?     this help
End a statement with ";" to run it; it may span lines.`

// shell reads statements from the terminal until \q or the end of input;
// Ctrl-C ends it at once.
func (d *dbSession) shell(ctx context.Context) error {
	var list struct {
		Databases []struct{ Env string }
		Status    struct {
			Available bool
			Message   string
		}
	}
	if err := d.c.JSON(ctx, "GET", projectPath(d.p.ID, "/database"), nil, &list); err != nil {
		return err
	}
	found := false
	for _, db := range list.Databases {
		found = found || db.Env == d.env
	}
	if !found {
		msg := fmt.Sprintf("This project has no %s database yet.", d.env)
		if !list.Status.Available {
			msg = "This server has no databases for projects: " + list.Status.Message
		}
		return &APIError{Status: http.StatusNotFound, Code: "database_not_found", Message: msg}
	}
	fmt.Fprintf(d.a.env.Stderr, "%s (%s database). Type \\? for help, \\q to quit.\n", d.p.ref(), d.env)

	lines := newLineReader(d.a.env.Stdin)
	defer lines.close()
	buf := ""
	for {
		prompt := d.p.ref() + "=> "
		if buf != "" {
			prompt = d.p.ref() + "-> "
		}
		fmt.Fprint(d.a.env.Stderr, prompt)
		line, err := lines.next(ctx)
		if errors.Is(err, io.EOF) || ctx.Err() != nil {
			fmt.Fprintln(d.a.env.Stderr)
			return shellEnd(ctx)
		}
		if err != nil {
			return err
		}
		if cmd := strings.TrimSpace(line); buf == "" && strings.HasPrefix(cmd, `\`) {
			if cmd == `\q` {
				return nil
			}
			if err := d.meta(ctx, cmd); err != nil {
				if ctx.Err() != nil {
					return shellEnd(ctx)
				}
				fmt.Fprintln(d.a.env.Stderr, "ecode:", d.explain(err))
			}
			continue
		}
		stmts, rest := splitSQL(buf + line + "\n")
		buf = rest
		for _, s := range stmts {
			err := d.run(ctx, s)
			if ctx.Err() != nil {
				return shellEnd(ctx)
			}
			var refused *sqlError
			if err != nil && !errors.As(err, &refused) {
				fmt.Fprintln(d.a.env.Stderr, "ecode:", d.explain(err))
			}
		}
	}
}

// shellEnd is the shell's end: quiet, with 130 after Ctrl-C.
func shellEnd(ctx context.Context) error {
	if ctx.Err() != nil {
		return &exitError{code: ExitInterrupted}
	}
	return nil
}

// meta runs one of the shell's backslash commands.
func (d *dbSession) meta(ctx context.Context, cmd string) error {
	switch cmd {
	case `\?`:
		fmt.Fprintln(d.a.env.Stdout, dbHelp)
	case `\dt`:
		var out struct {
			Tables []struct {
				Schema, Name, Kind string
				RowCount           *int64
				RowEstimate        int64
				SizeBytes          int64
			}
		}
		if err := d.c.JSON(ctx, "GET", projectPath(d.p.ID, "/database/"+d.env+"/tables"), nil, &out); err != nil {
			return err
		}
		if len(out.Tables) == 0 {
			fmt.Fprintln(d.a.env.Stdout, "Did not find any tables.")
			return nil
		}
		rows := make([][]string, len(out.Tables))
		for i, t := range out.Tables {
			count := fmt.Sprintf("~%d", t.RowEstimate)
			if t.RowCount != nil {
				count = fmt.Sprint(*t.RowCount)
			}
			rows[i] = []string{t.Schema, t.Name, t.Kind, count, bytesText(t.SizeBytes)}
		}
		grid(d.a.env.Stdout, []string{"Schema", "Name", "Type", "Rows", "Size"}, []bool{3: true, 4: true}, rows)
		fmt.Fprintf(d.a.env.Stdout, "%s\n\n", rowCount(len(rows)))
	default:
		fmt.Fprintf(d.a.env.Stderr, "invalid command %s; try \\? for help\n", cmd)
	}
	return nil
}

// lineReader reads lines from a stream one at a time when asked, so that
// Ctrl-C (ctx) ends the shell at once, even while it waits for a line.
type lineReader struct {
	ask  chan struct{}
	got  chan lineRead
	done chan struct{}
}

type lineRead struct {
	line string
	err  error
}

func newLineReader(r io.Reader) *lineReader {
	l := &lineReader{ask: make(chan struct{}), got: make(chan lineRead, 1), done: make(chan struct{})}
	br := bufio.NewReader(r)
	// It ends when asked to, or after the read in progress returns.
	go func() {
		for {
			select {
			case <-l.done:
				return
			case <-l.ask:
			}
			line, err := br.ReadString('\n')
			if line != "" {
				err = nil // the last line, unended; the end comes next time
			}
			l.got <- lineRead{strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), err}
		}
	}()
	return l
}

// next returns the next line, io.EOF at the end, or ctx's error.
func (l *lineReader) next(ctx context.Context) (string, error) {
	l.ask <- struct{}{}
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-l.got:
		return r.line, r.err
	}
}

func (l *lineReader) close() { close(l.done) }

// splitSQL cuts text into the statements that ";" ends and the rest after
// the last, which is "" when it holds nothing but blanks and comments. A
// ";" counts outside quotes ('...', E'...', "...", $tag$...$tag$) and
// comments (-- and /* */); the rest of an unfinished one is kept whole.
func splitSQL(text string) (stmts []string, rest string) {
	start, seen := 0, false
	skip := func(i int, end string) int { // past end, searched from i, or -1
		if n := strings.Index(text[i:], end); n >= 0 {
			return i + n + len(end)
		}
		return -1
	}
	for i := 0; i < len(text); {
		c := text[i]
		next := i + 1
		switch {
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			if next = skip(i, "\n"); next < 0 {
				next = len(text)
			}
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			next = skip(i+2, "*/")
		case c == '\'' && i > 0 && (text[i-1] == 'e' || text[i-1] == 'E') && (i < 2 || !identChar(text[i-2])):
			seen = true
			next = -1
			for j := i + 1; j < len(text); j++ {
				if text[j] == '\\' {
					j++
				} else if text[j] == '\'' {
					next = j + 1
					break
				}
			}
		case c == '\'' || c == '"':
			seen = true
			next = skip(i+1, string(c))
		case c == '$' && (i == 0 || !identChar(text[i-1])) && dollarTag(text[i:]) != "":
			seen = true
			tag := dollarTag(text[i:])
			next = skip(i+len(tag), tag)
		case c == ';':
			if seen {
				stmts = append(stmts, strings.TrimSpace(text[start:i]))
			}
			start, seen = i+1, false
		case c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f':
			seen = true
		}
		if next < 0 {
			return stmts, text[start:] // an unfinished quote or comment
		}
		i = next
	}
	if !seen {
		return stmts, ""
	}
	return stmts, text[start:]
}

// dollarTag returns the $tag$ that s starts with, or "".
func dollarTag(s string) string {
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '$':
			return s[:i+1]
		case identChar(c) && (i > 1 || c < '0' || c > '9'):
		default:
			return ""
		}
	}
	return ""
}

// identChar reports whether c may be part of an SQL identifier.
func identChar(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80
}
