package projectdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/project"
	"ecode/internal/store"
)

// The console's bounds.
const (
	DefaultRows    = 1000     // rows kept of each result when the request names no limit
	MaxRows        = 10000    // the most a request may ask to keep
	maxAnswerBytes = 16 << 20 // cell text kept in one answer; past it, results are truncated
	maxNotices     = 100
	historyKeep    = 100      // statements kept per person and project
	historyCap     = 10 << 10 // bytes of a statement kept in the history
)

// consoleRoutes registers the SQL console and the table browser.
func (s *Service) consoleRoutes(rt *httpx.Router) {
	rt.HandleFunc("POST /api/projects/{id}/database/{env}/query", func(w http.ResponseWriter, r *http.Request) {
		var in QueryInput
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		ans, err := s.Query(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"), in)
		reply(w, r, ans, err)
	})
	rt.HandleFunc("GET /api/projects/{id}/database/{env}/history", func(w http.ResponseWriter, r *http.Request) {
		list, err := s.History(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"queries": list}, err)
	})
	rt.HandleFunc("GET /api/projects/{id}/database/{env}/tables", func(w http.ResponseWriter, r *http.Request) {
		list, err := s.Tables(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"tables": list}, err)
	})
	rt.HandleFunc("GET /api/projects/{id}/database/{env}/tables/{table}/rows", func(w http.ResponseWriter, r *http.Request) {
		in, err := browseInput(r)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		page, err := s.Rows(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"), in)
		reply(w, r, page, err)
	})
	rt.HandleFunc("PATCH /api/projects/{id}/database/{env}/tables/{table}/rows", func(w http.ResponseWriter, r *http.Request) {
		var in EditInput
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		in.Schema, in.Table = schemaParam(r), r.PathValue("table")
		row, err := s.EditRow(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"), in)
		reply(w, r, map[string]any{"row": row}, err)
	})
}

// SQLError is PostgreSQL's refusal of a person's statement, answered with
// the details they need to fix it.
type SQLError struct {
	Message  string `json:"message"`
	SQLState string `json:"sqlState"`
	Position int    `json:"position,omitempty"` // 1-based, in characters of the text sent
	Detail   string `json:"detail,omitempty"`
	Hint     string `json:"hint,omitempty"`
}

func (e *SQLError) Error() string { return e.SQLState + ": " + e.Message }

// sqlError turns PostgreSQL's refusal into an SQLError; other errors pass.
func sqlError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	return &SQLError{Message: pe.Message, SQLState: pe.Code, Position: int(pe.Position), Detail: pe.Detail, Hint: pe.Hint}
}

// reply answers v with 200, or err: an SQLError in the house's error shape
// with its details added, anything else through the error table.
func reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	var se *SQLError
	if !errors.As(err, &se) {
		httpx.Reply(w, r, http.StatusOK, v, err)
		return
	}
	slog.DebugContext(r.Context(), "request failed", "request_id", httpx.RequestID(r.Context()),
		"method", r.Method, "path", r.URL.Path, "status", http.StatusBadRequest, "err", err)
	httpx.JSON(w, http.StatusBadRequest, map[string]any{"error": struct {
		Code string `json:"code"`
		*SQLError
	}{"sql_error", se}})
}

// QueryInput is what the console runs: one or more statements.
type QueryInput struct {
	SQL   string `json:"sql"`
	Limit int    `json:"limit"` // rows kept of each result; 0 is DefaultRows
}

// QueryAnswer is what the console answers.
type QueryAnswer struct {
	Results  []Result `json:"results"`
	TookMs   int64    `json:"tookMs"`
	ReadOnly bool     `json:"readOnly"`
	Notices  []string `json:"notices"` // "NOTICE: text", as the server raised them
}

// Result is one statement's outcome. A cell is PostgreSQL's text form of
// the value, or nil for NULL.
type Result struct {
	Command   string      `json:"command"` // the command tag: SELECT 3, INSERT 0 1, CREATE TABLE
	Columns   []Column    `json:"columns"`
	Rows      [][]*string `json:"rows"`
	RowCount  int64       `json:"rowCount"` // all of them, kept or not
	Truncated bool        `json:"truncated"`
}

// Column is a result's column: its name and type (int4, text, ...; a type
// the platform does not know is "oid:NNN").
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// member answers the project when actor is one of its people: a public
// project's visitors may read its code, not its data.
func (s *Service) member(ctx context.Context, actor *auth.User, projectID string) (*project.Project, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	if p.Role == "" {
		return nil, errs.Forbidden("database_members_only", "Only the project's members can see its database.")
	}
	return p, nil
}

// Query runs a console text on the database of env: in one transaction,
// read-only for those who may not change the project, answering each
// statement's result. On an error nothing of it is kept, and only the error
// is answered. Each run goes into the caller's history.
func (s *Service) Query(ctx context.Context, actor *auth.User, projectID, env string, in QueryInput) (*QueryAnswer, error) {
	p, err := s.member(ctx, actor, projectID)
	if err != nil {
		return nil, err
	}
	stmts := splitStatements(in.SQL)
	if len(stmts) == 0 {
		return nil, errs.Invalid("sql_empty", "There is no statement to run.")
	}
	if err := checkRunnable(stmts); err != nil {
		return nil, err
	}
	limit, err := rowLimit(in.Limit, DefaultRows, MaxRows)
	if err != nil {
		return nil, err
	}
	t, err := s.open(ctx, p.ID, env)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	ans, err := s.run(ctx, t, in.SQL, stmts, limit, !p.CanEdit)
	took := time.Since(start).Milliseconds()
	s.remember(ctx, p.ID, env, actor.ID, in.SQL, ans, err, took)
	if err != nil {
		return nil, err
	}
	ans.TookMs = took
	return ans, nil
}

// rowLimit checks a requested number of rows: 0 is def, more than most is most.
func rowLimit(n, def, most int) (int, error) {
	switch {
	case n < 0:
		return 0, errs.Invalid("limit_invalid", "The limit must be a positive number of rows.")
	case n == 0:
		return def, nil
	case n > most:
		return most, nil
	}
	return n, nil
}

// statementTimeout bounds each statement the console and the browser run:
// the platform's own bound, or the database's limit when that is shorter.
func statementTimeout(t *target) time.Duration {
	if l := t.cluster.Limits().StatementTimeout; l > 0 && l < timeout {
		return l
	}
	return timeout
}

// run runs stmts, the pieces of text, in one transaction. Each piece goes on
// its own through the extended protocol, which takes exactly one statement:
// so whatever the splitter made of the text, every statement is seen before
// the next runs, and none runs after the transaction ended (which, in a
// read-only one, would run outside it).
func (s *Service) run(ctx context.Context, t *target, text string, stmts []statement, limit int, readOnly bool) (*QueryAnswer, error) {
	limitTime := statementTimeout(t)
	// The whole text gets the time of one statement, and a little to spare:
	// a text whose own SET lifted statement_timeout is still stopped.
	ctx, cancel := context.WithTimeout(ctx, limitTime+5*time.Second)
	defer cancel()
	ans := &QueryAnswer{Results: []Result{}, ReadOnly: readOnly, Notices: []string{}}
	conn, err := s.consoleConn(ctx, t, &ans.Notices)
	if err != nil {
		return nil, err
	}
	defer closeConn(conn)

	// For a reader, a query in the setup takes the transaction's snapshot,
	// after which SET TRANSACTION READ WRITE is refused: the run stays
	// read-only. A writer's text may still lift a database's read-only
	// state (over its quota) on purpose, as its first statement, to delete.
	setup := fmt.Sprintf("BEGIN; SET LOCAL statement_timeout = %d", limitTime.Milliseconds())
	if readOnly {
		setup = fmt.Sprintf("BEGIN READ ONLY; SET LOCAL statement_timeout = %d; SELECT 1", limitTime.Milliseconds())
	}
	if _, err := conn.Exec(ctx, setup).ReadAll(); err != nil {
		return nil, consoleFailure(ctx, err, limitTime)
	}
	budget := maxAnswerBytes
	for i, st := range stmts {
		res, err := readResult(conn.ExecParams(ctx, st.text, nil, nil, nil, nil), limit, &budget)
		if err != nil {
			err = consoleFailure(ctx, err, limitTime)
			if se := (*SQLError)(nil); errors.As(err, &se) && se.Position > 0 {
				se.Position += utf8.RuneCountInString(text[:st.start])
			}
			return nil, err
		}
		ans.Results = append(ans.Results, res)
		if i < len(stmts)-1 && conn.TxStatus() != 'T' {
			return nil, errs.Invalid("transaction_ended", "Statement %d ended the console's transaction, so the statements after it were not run.", i+1)
		}
	}
	if conn.TxStatus() != 'I' { // a last COMMIT or ROLLBACK of the text's own ends it already
		end := "COMMIT"
		if readOnly {
			end = "ROLLBACK"
		}
		if _, err := conn.Exec(ctx, end).ReadAll(); err != nil {
			return nil, consoleFailure(ctx, err, limitTime)
		}
	}
	return ans, nil
}

// consoleConn opens a session on t as the project's own role, as connect
// does, keeping the notices the server raises in *notices.
func (s *Service) consoleConn(ctx context.Context, t *target, notices *[]string) (*pgconn.PgConn, error) {
	conn, err := s.connect(ctx, t, func(cfg *pgconn.Config) {
		cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
			if len(*notices) < maxNotices {
				*notices = append(*notices, n.Severity+": "+n.Message)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return conn.PgConn(), nil
}

// closeConn ends a session; the server rolls back what it left open.
func closeConn(conn interface{ Close(context.Context) error }) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// consoleFailure says why a run stopped: PostgreSQL's refusal, or the
// console's own time running out.
func consoleFailure(ctx context.Context, err error, limit time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errs.Invalid("statement_timeout", "The statements ran longer than the console allows (%s) and were stopped.", limit)
	}
	if err = sqlError(err); errors.As(err, new(*SQLError)) {
		return err
	}
	return fmt.Errorf("run console statements: %w", err)
}

// readResult reads one statement's result, keeping at most limit rows and
// *budget bytes of cells.
func readResult(rr *pgconn.ResultReader, limit int, budget *int) (Result, error) {
	fields := rr.FieldDescriptions()
	res := Result{Columns: make([]Column, len(fields)), Rows: [][]*string{}}
	for i, f := range fields {
		res.Columns[i] = Column{Name: f.Name, Type: typeName(f.DataTypeOID)}
	}
	var seen int64
	for rr.NextRow() {
		seen++
		if len(res.Rows) >= limit || *budget <= 0 {
			res.Truncated = true
			continue
		}
		res.Rows = append(res.Rows, cells(rr.Values(), budget))
	}
	tag, err := rr.Close()
	if err != nil {
		return Result{}, err
	}
	res.Command = tag.String()
	res.RowCount = seen
	if counts(tag) {
		res.RowCount = tag.RowsAffected()
	}
	return res, nil
}

// cells copies a row's text values (pgconn reuses them), nil for NULL.
func cells(values [][]byte, budget *int) []*string {
	row := make([]*string, len(values))
	for i, v := range values {
		if v != nil {
			s := string(v)
			row[i] = &s
			*budget -= len(v)
		}
	}
	return row
}

// counts tells whether a command tag ends with the number of rows
// (SELECT 3, INSERT 0 3, UPDATE 2), not only a name (CREATE TABLE).
func counts(tag pgconn.CommandTag) bool {
	s := tag.String()
	_, err := strconv.ParseInt(s[strings.LastIndexByte(s, ' ')+1:], 10, 64)
	return err == nil
}

// types names the built-in types; it is only read.
var types = pgtype.NewMap()

func typeName(oid uint32) string {
	if t, ok := types.TypeForOID(oid); ok {
		return t.Name
	}
	return "oid:" + strconv.FormatUint(uint64(oid), 10)
}

// remember records a console run in the caller's history and keeps only the
// newest historyKeep of theirs in the project. The run's answer stands
// whether or not this works.
func (s *Service) remember(ctx context.Context, projectID, env, userID, text string, ans *QueryAnswer, runErr error, took int64) {
	var rows int64
	if ans != nil && len(ans.Results) > 0 {
		rows = ans.Results[len(ans.Results)-1].RowCount
	}
	failure := ""
	if runErr != nil {
		failure = "The statements failed."
		var se *SQLError
		if e, ok := errs.As(runErr); ok {
			failure = e.Message
		} else if errors.As(runErr, &se) {
			failure = se.Message
		}
	}
	ctx = context.WithoutCancel(ctx)
	err := s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO database_queries (id, project_id, env, user_id, statement, error, row_count, took_ms, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, store.NewID(), projectID, env, userID, capText(text, historyCap), failure, rows, took, store.Now()); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `DELETE FROM database_queries WHERE project_id = ? AND user_id = ? AND id NOT IN (
			SELECT id FROM database_queries WHERE project_id = ? AND user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?)`,
			projectID, userID, projectID, userID, historyKeep)
		return err
	})
	if err != nil {
		s.log.Error("record a console statement", "project", projectID, "err", err)
	}
}

// capText cuts s to at most n bytes, on a character's edge.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// HistoryEntry is one console run of the caller's.
type HistoryEntry struct {
	ID        string `json:"id" db:"id"`
	Statement string `json:"statement" db:"statement"`
	Error     string `json:"error" db:"error"`
	RowCount  int64  `json:"rowCount" db:"row_count"`
	TookMs    int64  `json:"tookMs" db:"took_ms"`
	CreatedAt int64  `json:"createdAt" db:"created_at"`
}

// History answers the caller's own console runs on the database of env,
// newest first.
func (s *Service) History(ctx context.Context, actor *auth.User, projectID, env string) ([]HistoryEntry, error) {
	p, err := s.member(ctx, actor, projectID)
	if err != nil {
		return nil, err
	}
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	list := []HistoryEntry{}
	if err := s.db.Select(ctx, &list, `SELECT id, statement, error, row_count, took_ms, created_at FROM database_queries
		WHERE project_id = ? AND env = ? AND user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, p.ID, env, actor.ID, historyKeep); err != nil {
		return nil, fmt.Errorf("read console history: %w", err)
	}
	return list, nil
}

// statement is one piece of a console text.
type statement struct {
	start  int      // its offset in the text, in bytes
	text   string   // without the semicolon
	words  []string // its first few keywords, lower-case
	copyIn bool     // COPY ... FROM STDIN
}

// checkRunnable refuses what the console cannot run: a COMMIT or ROLLBACK
// before the text's last statement (the console runs the text in one
// transaction of its own), and COPY FROM STDIN, which waits for data only a
// client such as psql sends.
func checkRunnable(stmts []statement) error {
	for i, st := range stmts {
		if st.copyIn {
			return errs.Invalid("copy_stdin", "Statement %d is COPY FROM STDIN, which needs a client that sends the data: run it with psql in the shell.", i+1)
		}
		if i < len(stmts)-1 && endsTransaction(st.words) {
			return errs.Invalid("transaction_control", "Statement %d ends the transaction; the console runs the whole text in one transaction of its own, so a COMMIT or ROLLBACK may only come last.", i+1)
		}
	}
	return nil
}

func endsTransaction(w []string) bool {
	word := func(i int) string {
		if i < len(w) {
			return w[i]
		}
		return ""
	}
	switch word(0) {
	case "commit", "end", "abort":
		return true
	case "rollback": // but not ROLLBACK [WORK | TRANSACTION] TO a savepoint
		return word(1) != "to" && word(2) != "to"
	case "prepare":
		return word(1) == "transaction"
	}
	return false
}

// splitStatements cuts a text at its top-level semicolons as psql does: not
// inside quotes, dollar quotes, comments, parentheses, or the BEGIN ... END
// body of CREATE FUNCTION or PROCEDURE. Pieces of only blanks and comments
// are left out. Standard strings are assumed (standard_conforming_strings).
// A miscut cannot run more than was seen: each piece goes to the server as
// one extended-protocol statement, which refuses two.
func splitStatements(text string) []statement {
	var (
		out   []statement
		sc    splitState
		start int
	)
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			if n := strings.IndexByte(text[i:], '\n'); n >= 0 {
				i += n + 1
			} else {
				i = len(text)
			}
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			i = skipComment(text, i)
		case c == '\'' || c == '"':
			sc.seen = true
			i = skipQuoted(text, i, false)
		case c == '$':
			sc.seen = true
			if tag := dollarTag(text[i:]); tag != "" {
				if n := strings.Index(text[i+len(tag):], tag); n >= 0 {
					i += len(tag) + n + len(tag)
				} else {
					i = len(text)
				}
			} else {
				i++
			}
		case identStart(c):
			j := i + 1
			for j < len(text) && (identStart(text[j]) || text[j] == '$' || '0' <= text[j] && text[j] <= '9') {
				j++
			}
			sc.seen = true
			word := strings.ToLower(text[i:j])
			if word == "e" && j < len(text) && text[j] == '\'' { // E'...': backslash escapes
				i = skipQuoted(text, j, true)
				continue
			}
			sc.word(word)
			i = j
		case c == '(':
			sc.seen = true
			sc.parens++
			i++
		case c == ')':
			sc.seen = true
			if sc.parens > 0 {
				sc.parens--
			}
			i++
		case c == ';' && sc.parens == 0 && sc.begins == 0:
			if sc.seen {
				out = append(out, statement{start: start, text: text[start:i], words: sc.words, copyIn: sc.copyIn})
			}
			sc = splitState{}
			start = i + 1
			i++
		default:
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' {
				sc.seen = true
			}
			i++
		}
	}
	if sc.seen {
		out = append(out, statement{start: start, text: text[start:], words: sc.words, copyIn: sc.copyIn})
	}
	return out
}

// splitState is what the splitter knows of the statement it is in.
type splitState struct {
	seen   bool     // something besides blanks and comments
	words  []string // the first few keywords
	count  int      // keywords so far
	marks  [4]byte  // psql's way to spot CREATE [OR REPLACE] FUNCTION|PROCEDURE
	parens int
	begins int  // BEGIN ... END (and CASE ... END inside them) of a function body
	copyIn bool // COPY ... STDIN
}

func (sc *splitState) word(w string) {
	if len(sc.words) < 3 {
		sc.words = append(sc.words, w)
	}
	sc.copyIn = sc.copyIn || w == "stdin" && sc.words[0] == "copy"
	switch w {
	case "create", "or", "replace", "function", "procedure":
		if sc.count < len(sc.marks) {
			sc.marks[sc.count] = w[0]
		}
	}
	sc.count++
	m := sc.marks
	body := m[0] == 'c' && (m[1] == 'f' || m[1] == 'p' || m[1] == 'o' && m[2] == 'r' && (m[3] == 'f' || m[3] == 'p'))
	if !body || sc.parens > 0 {
		return
	}
	switch {
	case w == "begin":
		sc.begins++
	case w == "case" && sc.begins > 0:
		sc.begins++
	case w == "end" && sc.begins > 0:
		sc.begins--
	}
}

func identStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

// skipComment answers the offset after the (nesting) comment at i.
func skipComment(text string, i int) int {
	depth := 0
	for i < len(text) {
		switch {
		case strings.HasPrefix(text[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(text[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// skipQuoted answers the offset after the string or quoted name that opens
// at i, where a doubled quote stands for itself and, in an E” string, a
// backslash escapes the next byte.
func skipQuoted(text string, i int, backslash bool) int {
	q := text[i]
	for j := i + 1; j < len(text); j++ {
		switch {
		case backslash && text[j] == '\\':
			j++
		case text[j] == q && j+1 < len(text) && text[j+1] == q:
			j++
		case text[j] == q:
			return j + 1
		}
	}
	return len(text)
}

// dollarTag answers the $tag$ that opens s, or "" ($1 is a parameter).
func dollarTag(s string) string {
	j := 1
	if j < len(s) && identStart(s[j]) {
		for j++; j < len(s) && (identStart(s[j]) || '0' <= s[j] && s[j] <= '9'); j++ {
		}
	}
	if j < len(s) && s[j] == '$' {
		return s[:j+1]
	}
	return ""
}
