package projectdb_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

type consoleAnswer struct {
	Results []struct {
		Command   string
		Columns   []struct{ Name, Type string }
		Rows      [][]*string
		RowCount  int64
		Truncated bool
	}
	TookMs   int64
	ReadOnly bool
	Notices  []string
}

type sqlFailure struct {
	Error struct {
		Code, Message, SQLState, Detail, Hint string
		Position                              int
	}
}

func dbPath(projectID, rest string) string {
	return "/api/projects/" + projectID + "/database/dev" + rest
}

// query runs sql in the console and wants it to succeed.
func query(t testing.TB, c *testserver.Client, projectID, sql string) consoleAnswer {
	t.Helper()
	var ans consoleAnswer
	c.Post(t, dbPath(projectID, "/query"), map[string]any{"sql": sql}).WantStatus(t, 200).Decode(t, &ans)
	return ans
}

// queryFails runs sql in the console and wants PostgreSQL's refusal.
func queryFails(t *testing.T, c *testserver.Client, projectID, sql string) sqlFailure {
	t.Helper()
	var f sqlFailure
	c.Post(t, dbPath(projectID, "/query"), map[string]any{"sql": sql}).WantError(t, 400, "sql_error").Decode(t, &f)
	return f
}

func cell(v *string) string {
	if v == nil {
		return "NULL"
	}
	return *v
}

// The console runs several statements in one transaction, answers each
// result with PostgreSQL's text form and type names, rolls everything back
// on an error (answered with its position), and keeps each person's runs.
func TestConsole(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ada := s.SignUp(t, "ada")
		p := ada.CreateProject(t, "Shop")
		createDatabase(t, ada, p.ID)

		ans := query(t, ada, p.ID, `CREATE TABLE items (id serial PRIMARY KEY, title text NOT NULL, done boolean, meta jsonb, at timestamptz);
			INSERT INTO items (title, meta, at) VALUES ('tea', '{"k": 1}', '2024-05-01 10:00:00+00'), ('milk', NULL, NULL);
			SELECT id, title, done, meta, at, 1.5::numeric AS n FROM items ORDER BY id`)
		if ans.ReadOnly || len(ans.Results) != 3 {
			t.Fatalf("answer %+v, want 3 read-write results", ans)
		}
		if got := []string{ans.Results[0].Command, ans.Results[1].Command, ans.Results[2].Command}; !slices.Equal(got, []string{"CREATE TABLE", "INSERT 0 2", "SELECT 2"}) {
			t.Fatalf("commands %q", got)
		}
		sel := ans.Results[2]
		var types []string
		for _, c := range sel.Columns {
			types = append(types, c.Name+":"+c.Type)
		}
		if want := []string{"id:int4", "title:text", "done:bool", "meta:jsonb", "at:timestamptz", "n:numeric"}; !slices.Equal(types, want) {
			t.Fatalf("columns %q, want %q", types, want)
		}
		if sel.RowCount != 2 || sel.Truncated || len(sel.Rows) != 2 {
			t.Fatalf("select: %d rows of %d, truncated %v", len(sel.Rows), sel.RowCount, sel.Truncated)
		}
		var first []string
		for _, v := range sel.Rows[0] {
			first = append(first, cell(v))
		}
		if want := []string{"1", "tea", "NULL", `{"k": 1}`, "2024-05-01 10:00:00+00", "1.5"}; !slices.Equal(first, want) {
			t.Fatalf("first row %q, want %q", first, want)
		}

		// An error: its position counts in the whole text, and what ran
		// before it is rolled back.
		f := queryFails(t, ada, p.ID, "CREATE TABLE gone (x int); SELEC 1")
		if f.Error.SQLState != "42601" || f.Error.Position != 28 || !strings.Contains(f.Error.Message, "SELEC") {
			t.Fatalf("syntax error %+v, want 42601 at 28", f.Error)
		}
		if f := queryFails(t, ada, p.ID, "SELECT * FROM gone"); f.Error.SQLState != "42P01" || f.Error.Position != 15 {
			t.Fatalf("the failed text's table is there: %+v", f.Error)
		}

		// Notices, kept rows, and the console's own refusals.
		if ans := query(t, ada, p.ID, "DO $$ BEGIN RAISE NOTICE 'hello; there'; END $$"); !slices.Contains(ans.Notices, "NOTICE: hello; there") {
			t.Fatalf("notices %q", ans.Notices)
		}
		var many consoleAnswer
		ada.Post(t, dbPath(p.ID, "/query"), map[string]any{"sql": "SELECT g FROM generate_series(1, 50) g", "limit": 10}).WantStatus(t, 200).Decode(t, &many)
		if r := many.Results[0]; len(r.Rows) != 10 || !r.Truncated || r.RowCount != 50 {
			t.Fatalf("limited select: %d rows of %d, truncated %v", len(r.Rows), r.RowCount, r.Truncated)
		}
		ada.Post(t, dbPath(p.ID, "/query"), map[string]any{"sql": " -- nothing\n ; "}).WantError(t, 400, "sql_empty")
		ada.Post(t, dbPath(p.ID, "/query"), map[string]any{"sql": "COMMIT; DROP TABLE items"}).WantError(t, 400, "transaction_control")
		if ans := query(t, ada, p.ID, "INSERT INTO items (title) VALUES ('own'); COMMIT"); ans.Results[1].Command != "COMMIT" {
			t.Fatalf("a last COMMIT: %+v", ans.Results)
		}

		// History: the caller's own, newest first, failures with their reason.
		var hist struct {
			Queries []struct {
				ID, Statement, Error string
				RowCount, TookMs     int64
				CreatedAt            int64
			}
		}
		ada.Get(t, dbPath(p.ID, "/history")).WantStatus(t, 200).Decode(t, &hist)
		if len(hist.Queries) != 6 { // what was refused before it ran is not there
			t.Fatalf("history has %d runs, want 6: %+v", len(hist.Queries), hist.Queries)
		}
		if h := hist.Queries[0]; h.Statement != "INSERT INTO items (title) VALUES ('own'); COMMIT" || h.Error != "" {
			t.Fatalf("newest run %+v", h)
		}
		if h := hist.Queries[4]; h.Statement != "CREATE TABLE gone (x int); SELEC 1" || !strings.Contains(h.Error, "syntax error") {
			t.Fatalf("failed run %+v", h)
		}
		if h := hist.Queries[5]; h.RowCount != 2 || h.CreatedAt == 0 {
			t.Fatalf("first run %+v", h)
		}
		bob := s.SignUp(t, "bob")
		ada.Post(t, "/api/projects/"+p.ID+"/members", map[string]string{"username": "bob", "role": "editor"}).WantStatus(t, 201)
		bob.Get(t, dbPath(p.ID, "/history")).WantStatus(t, 200).Decode(t, &hist)
		if len(hist.Queries) != 0 {
			t.Fatalf("bob sees others' history: %+v", hist.Queries)
		}
	})
}

// Statements are stopped at the statement timeout, with PostgreSQL's reason.
func TestConsoleTimeout(t *testing.T) {
	s := onSQLite(t)
	ada := s.SignUp(t, "ada")
	p := ada.CreateProject(t, "Slow")
	createDatabase(t, ada, p.ID)
	f := queryFails(t, ada, p.ID, "SET LOCAL statement_timeout = '200ms'; SELECT pg_sleep(2)")
	if f.Error.SQLState != "57014" || !strings.Contains(f.Error.Message, "statement timeout") {
		t.Fatalf("timeout answered %+v", f.Error)
	}
}

// A viewer's console is read-only, whatever the text tries; strangers and a
// public project's visitors do not reach the database at all.
func TestConsoleAccess(t *testing.T) {
	s := onSQLite(t)
	ada, vera, eve := s.SignUp(t, "ada"), s.SignUp(t, "vera"), s.SignUp(t, "eve")
	p := ada.CreateProject(t, "Notes")
	createDatabase(t, ada, p.ID)
	ada.Post(t, "/api/projects/"+p.ID+"/members", map[string]string{"username": "vera", "role": "viewer"}).WantStatus(t, 201)
	query(t, ada, p.ID, "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'one')")

	ans := query(t, vera, p.ID, "SELECT body FROM notes")
	if !ans.ReadOnly || cell(ans.Results[0].Rows[0][0]) != "one" {
		t.Fatalf("viewer's answer %+v", ans)
	}
	for _, sql := range []string{
		"INSERT INTO notes VALUES (2, 'two')",
		"SET TRANSACTION READ WRITE; INSERT INTO notes VALUES (2, 'two')",
		"SET transaction_read_only = off; INSERT INTO notes VALUES (2, 'two')",
		"SAVEPOINT a; SET TRANSACTION READ WRITE; INSERT INTO notes VALUES (2, 'two')",
		"SELECT set_config('transaction_read_only', 'off', true); INSERT INTO notes VALUES (2, 'two')",
	} {
		if f := queryFails(t, vera, p.ID, sql); !strings.HasPrefix(f.Error.SQLState, "25") {
			t.Errorf("%s: answered %+v, want a read-only refusal", sql, f.Error)
		}
	}
	for _, sql := range []string{
		"COMMIT; INSERT INTO notes VALUES (2, 'two')",
		"COMMIT AND CHAIN; SET TRANSACTION READ WRITE; INSERT INTO notes VALUES (2, 'two')",
		"END; BEGIN READ WRITE; INSERT INTO notes VALUES (2, 'two')",
	} {
		vera.Post(t, dbPath(p.ID, "/query"), map[string]any{"sql": sql}).WantError(t, 400, "transaction_control")
	}
	if f := queryFails(t, vera, p.ID, "SELECT 1; INSERT INTO notes VALUES (2, 'two'); COMMIT"); f.Error.SQLState != "25006" {
		t.Fatalf("viewer's insert before a COMMIT: %+v", f.Error)
	}
	if n := query(t, ada, p.ID, "SELECT count(*) FROM notes").Results[0].Rows[0][0]; cell(n) != "1" {
		t.Fatalf("the viewer wrote: %s rows", cell(n))
	}
	vera.Patch(t, dbPath(p.ID, "/tables/notes/rows"), map[string]any{"key": map[string]string{"id": "1"}, "set": map[string]string{"body": "x"}}).WantError(t, 403, "forbidden")
	vera.Get(t, dbPath(p.ID, "/tables")).WantStatus(t, 200)
	vera.Get(t, dbPath(p.ID, "/tables/notes/rows")).WantStatus(t, 200)

	routes := []struct{ method, path string }{
		{"POST", "/query"}, {"GET", "/history"}, {"GET", "/tables"}, {"GET", "/tables/notes/rows"}, {"PATCH", "/tables/notes/rows"},
	}
	body := map[string]any{"sql": "SELECT 1"}
	edit := map[string]any{"key": map[string]string{"id": "1"}, "set": map[string]string{"body": "x"}}
	for _, r := range routes {
		b := any(nil)
		switch r.method {
		case "POST":
			b = body
		case "PATCH":
			b = edit
		}
		eve.Do(t, r.method, dbPath(p.ID, r.path), b).WantError(t, 404, "not_found")
	}
	// Another project's database is not reached through one's own.
	other := eve.CreateProject(t, "Mine")
	eve.Post(t, dbPath(other.ID, "/query"), body).WantError(t, 404, "database_not_found")

	ada.Patch(t, "/api/projects/"+p.ID, map[string]string{"visibility": "public"}).WantStatus(t, 200)
	for _, r := range routes[:4] {
		b := any(nil)
		if r.method == "POST" {
			b = body
		}
		eve.Do(t, r.method, dbPath(p.ID, r.path), b).WantError(t, 403, "database_members_only")
	}
	eve.Patch(t, dbPath(p.ID, "/tables/notes/rows"), edit).WantError(t, 403, "forbidden")
}

type tableView struct {
	Schema, Name, Kind     string
	RowEstimate, SizeBytes int64
	RowCount               *int64
	Columns                []struct {
		Name, Type           string
		Nullable, PrimaryKey bool
		Default              *string
	}
	Indexes []struct{ Name, Definition string }
}

type pageView struct {
	Columns       []struct{ Name, Type string }
	Rows          [][]*string
	Offset, Limit int
	Total         int64
}

func rowsPage(t *testing.T, c *testserver.Client, projectID, params string) pageView {
	t.Helper()
	var page pageView
	c.Get(t, dbPath(projectID, "/tables/items/rows?"+params)).WantStatus(t, 200).Decode(t, &page)
	return page
}

// column answers one column of a page's rows.
func (p pageView) column(i int) []string {
	var out []string
	for _, r := range p.Rows {
		out = append(out, cell(r[i]))
	}
	return out
}

// The browser lists tables with their columns and indexes, pages through a
// table's rows with filters and order, and edits one row by its key, with
// every name checked against the catalog.
func TestTableBrowser(t *testing.T) {
	s := onSQLite(t)
	ada := s.SignUp(t, "ada")
	p := ada.CreateProject(t, "Shop")
	createDatabase(t, ada, p.ID)
	query(t, ada, p.ID, `CREATE TABLE items (id int PRIMARY KEY, title varchar(20) NOT NULL, done boolean DEFAULT false, note text);
		CREATE INDEX items_title ON items (title);
		INSERT INTO items SELECT g, 'item ' || g, g % 5 = 0, CASE WHEN g % 2 = 0 THEN 'even' END FROM generate_series(1, 25) g;
		CREATE VIEW done_items AS SELECT id, title FROM items WHERE done;
		CREATE SCHEMA extra; CREATE TABLE extra.log (line text);`)

	var list struct{ Tables []tableView }
	ada.Get(t, dbPath(p.ID, "/tables")).WantStatus(t, 200).Decode(t, &list)
	var names []string
	for _, tb := range list.Tables {
		names = append(names, tb.Schema+"."+tb.Name+":"+tb.Kind)
	}
	if want := []string{"extra.log:table", "public.done_items:view", "public.items:table"}; !slices.Equal(names, want) {
		t.Fatalf("tables %q, want %q", names, want)
	}
	items := list.Tables[2]
	if items.RowCount == nil || *items.RowCount != 25 || items.SizeBytes == 0 {
		t.Fatalf("items counted %v rows in %d bytes", items.RowCount, items.SizeBytes)
	}
	var cols []string
	for _, c := range items.Columns {
		cols = append(cols, fmt.Sprintf("%s %s null=%v pk=%v default=%s", c.Name, c.Type, c.Nullable, c.PrimaryKey, cell(c.Default)))
	}
	if want := []string{
		"id integer null=false pk=true default=NULL", "title character varying(20) null=false pk=false default=NULL",
		"done boolean null=true pk=false default=false", "note text null=true pk=false default=NULL",
	}; !slices.Equal(cols, want) {
		t.Fatalf("columns\n%q, want\n%q", cols, want)
	}
	if len(items.Indexes) != 2 || items.Indexes[0].Name != "items_pkey" || !strings.Contains(items.Indexes[1].Definition, "USING btree (title)") {
		t.Fatalf("indexes %+v", items.Indexes)
	}
	if v := list.Tables[1]; v.RowCount != nil || len(v.Columns) != 2 {
		t.Fatalf("view %+v", v)
	}

	// Pages, in the primary key's order unless asked.
	page := rowsPage(t, ada, p.ID, "limit=10&offset=20")
	if page.Total != 25 || page.Limit != 10 || page.Offset != 20 || !slices.Equal(page.column(0), []string{"21", "22", "23", "24", "25"}) {
		t.Fatalf("last page %+v", page)
	}
	if page.Columns[1].Name != "title" || page.Columns[1].Type != "character varying(20)" {
		t.Fatalf("page columns %+v", page.Columns)
	}
	if page := rowsPage(t, ada, p.ID, "limit=3&order=title&desc=1"); !slices.Equal(page.column(1), []string{"item 9", "item 8", "item 7"}) {
		t.Fatalf("ordered by title: %q", page.column(1))
	}
	for params, want := range map[string][]string{
		"filter=id:gt:20":                              {"21", "22", "23", "24", "25"},
		"filter=done:eq:true&filter=id:le:15":          {"5", "10", "15"},
		"filter=title:like:item+1%25&filter=id:lt:13":  {"1", "10", "11", "12"},
		"filter=title:ilike:ITEM+2_":                   {"20", "21", "22", "23", "24", "25"},
		"filter=note:null&filter=id:ge:21":             {"21", "23", "25"},
		"filter=note:notnull&filter=id:ne:2&limit=2":   {"4", "6"},
		"filter=" + url.QueryEscape("title:eq:item 3"): {"3"},
	} {
		if got := rowsPage(t, ada, p.ID, params).column(0); !slices.Equal(got, want) {
			t.Errorf("%s: ids %q, want %q", params, got, want)
		}
	}
	if got := rowsPage(t, ada, p.ID, "filter=id:gt:20&limit=2"); got.Total != 5 || len(got.Rows) != 2 {
		t.Fatalf("filtered total %d of %d rows", got.Total, len(got.Rows))
	}
	// Names that are not in the catalog, values that are not of the type.
	base := dbPath(p.ID, "/tables/")
	var logPage pageView
	ada.Get(t, base+"log/rows?schema=extra").WantStatus(t, 200).Decode(t, &logPage)
	if logPage.Total != 0 || len(logPage.Columns) != 1 || logPage.Rows == nil {
		t.Fatalf("extra.log %+v", logPage)
	}
	ada.Get(t, base+"log/rows").WantError(t, 404, "table_not_found")
	ada.Get(t, base+url.PathEscape(`items"; DROP TABLE items; --`)+"/rows").WantError(t, 404, "table_not_found")
	ada.Get(t, base+"items/rows?schema=nope").WantError(t, 404, "table_not_found")
	ada.Get(t, base+"items/rows?order="+url.QueryEscape(`id; DROP TABLE items`)).WantError(t, 400, "column_unknown")
	ada.Get(t, base+"items/rows?filter="+url.QueryEscape(`"id":eq:1`)).WantError(t, 400, "column_unknown")
	ada.Get(t, base+"items/rows?filter=id:between:1").WantError(t, 400, "filter_invalid")
	ada.Get(t, base+"items/rows?filter=id").WantError(t, 400, "filter_invalid")
	ada.Get(t, base+"items/rows?limit=-1").WantError(t, 400, "limit_invalid")
	var bad sqlFailure
	ada.Get(t, base+"items/rows?filter="+url.QueryEscape("id:eq:1 OR 1=1")).WantError(t, 400, "sql_error").Decode(t, &bad)
	if bad.Error.SQLState != "22P02" {
		t.Fatalf("a value not of the column's type: %+v", bad.Error)
	}
	if got := rowsPage(t, ada, p.ID, "limit=5000"); got.Limit != 1000 {
		t.Fatalf("limit %d, want at most 1000", got.Limit)
	}

	// Editing one row by its key.
	var edited struct{ Row map[string]*string }
	ada.Patch(t, base+"items/rows", map[string]any{"key": map[string]any{"id": "3"}, "set": map[string]any{"title": "three", "done": nil}}).WantStatus(t, 200).Decode(t, &edited)
	if cell(edited.Row["title"]) != "three" || edited.Row["done"] != nil || cell(edited.Row["id"]) != "3" || len(edited.Row) != 4 {
		t.Fatalf("edited row %+v", edited.Row)
	}
	if got := rowsPage(t, ada, p.ID, "filter=id:eq:3").Rows[0]; cell(got[1]) != "three" || got[2] != nil {
		t.Fatalf("row after the edit %q", []string{cell(got[1]), cell(got[2])})
	}
	for _, tc := range []struct {
		path   string
		body   map[string]any
		status int
		code   string
	}{
		{"items/rows", map[string]any{"key": map[string]any{"id": "99"}, "set": map[string]any{"title": "x"}}, 404, "row_not_found"},
		{"items/rows", map[string]any{"key": map[string]any{}, "set": map[string]any{"title": "x"}}, 400, "key_incomplete"},
		{"items/rows", map[string]any{"key": map[string]any{"id": "3", "title": "three"}, "set": map[string]any{"note": "x"}}, 400, "key_invalid"},
		{"items/rows", map[string]any{"key": map[string]any{"id": "3"}, "set": map[string]any{"nope": "x"}}, 400, "column_unknown"},
		{"items/rows", map[string]any{"key": map[string]any{"id": "3"}, "set": map[string]any{}}, 400, "set_empty"},
		{"items/rows", map[string]any{"key": map[string]any{"id": "3"}, "set": map[string]any{"title": nil}}, 400, "sql_error"},
		{"items/rows", map[string]any{"key": map[string]any{"id": "3"}, "set": map[string]any{"title": strings.Repeat("x", 21)}}, 400, "sql_error"},
		{"done_items/rows", map[string]any{"key": map[string]any{"id": "5"}, "set": map[string]any{"title": "x"}}, 400, "no_primary_key"},
		{"log/rows?schema=extra", map[string]any{"key": map[string]any{"line": "5"}, "set": map[string]any{"line": "x"}}, 400, "no_primary_key"},
		{"gone/rows", map[string]any{"key": map[string]any{"id": "5"}, "set": map[string]any{"title": "x"}}, 404, "table_not_found"},
	} {
		ada.Patch(t, base+tc.path, tc.body).WantError(t, tc.status, tc.code)
	}
	if got := rowsPage(t, ada, p.ID, "filter=id:eq:3").Rows[0]; cell(got[1]) != "three" || got[3] != nil {
		t.Fatalf("a refused edit changed the row: %q", []string{cell(got[1]), cell(got[3])})
	}
	var audit struct{ Entries []struct{ Action string } }
	ada.Get(t, "/api/user/audit").WantStatus(t, 200).Decode(t, &audit)
	if !slices.ContainsFunc(audit.Entries, func(e struct{ Action string }) bool { return e.Action == "database.edit_row" }) {
		t.Fatalf("no database.edit_row in the audit log: %+v", audit.Entries)
	}
}

// BenchmarkConsole10k measures a console query of 10,000 rows, through the
// server, as the browser receives it.
func BenchmarkConsole10k(b *testing.B) {
	s := testserver.New(b, testdb.Engines(b)[0])
	ada := s.SignUp(b, "ada")
	p := ada.CreateProject(b, "Bench")
	ada.Post(b, "/api/projects/"+p.ID+"/database", map[string]any{}).WantStatus(b, 201)
	body := map[string]any{"sql": "SELECT g AS id, md5(g::text) AS hash, now() AS at FROM generate_series(1, 10000) g", "limit": 10000}
	b.ResetTimer()
	for b.Loop() {
		res := ada.Post(b, dbPath(p.ID, "/query"), body).WantStatus(b, 200)
		var ans consoleAnswer
		if err := json.Unmarshal(res.Body, &ans); err != nil || len(ans.Results[0].Rows) != 10000 {
			b.Fatalf("answer of %d bytes: %v", len(res.Body), err)
		}
		b.SetBytes(int64(len(res.Body)))
	}
}
