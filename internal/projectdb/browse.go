package projectdb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
)

// The table browser's bounds.
const (
	DefaultPage     = 100
	MaxPage         = 1000
	exactCountBelow = 100000 // a table estimated smaller is counted exactly
)

// Table is a table or view of a project's database, as the browser lists it.
type Table struct {
	Schema      string        `json:"schema"`
	Name        string        `json:"name"`
	Kind        string        `json:"kind"` // table or view
	RowEstimate int64         `json:"rowEstimate"`
	RowCount    *int64        `json:"rowCount"` // exact, for a table estimated under exactCountBelow rows
	SizeBytes   int64         `json:"sizeBytes"`
	Columns     []TableColumn `json:"columns"`
	Indexes     []Index       `json:"indexes"`
}

// TableColumn is a column as its table declares it.
type TableColumn struct {
	Name       string  `json:"name"`
	Type       string  `json:"type"` // as format_type writes it: integer, character varying(20)
	Nullable   bool    `json:"nullable"`
	Default    *string `json:"default"`
	PrimaryKey bool    `json:"primaryKey"`
}

// Index is one of a table's indexes.
type Index struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

// session opens t as the project's role, in a transaction (read-only, or
// read-write as the database allows) whose statements are bounded like the
// console's. end ends both.
func (s *Service) session(ctx context.Context, t *target, mode pgx.TxAccessMode) (tx pgx.Tx, end func(), err error) {
	conn, err := s.connect(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	if tx, err = conn.BeginTx(ctx, pgx.TxOptions{AccessMode: mode}); err == nil {
		_, err = tx.Exec(ctx, "SELECT set_config('statement_timeout', $1, true)", strconv.FormatInt(statementTimeout(t).Milliseconds(), 10))
	}
	if err != nil {
		closeConn(conn)
		return nil, nil, fmt.Errorf("begin on the %s database: %w", t.Env, err)
	}
	return tx, func() { closeConn(conn) }, nil
}

// readSession is a read-only session on the database of env for one of the
// project's members.
func (s *Service) readSession(ctx context.Context, actor *auth.User, projectID, env string) (pgx.Tx, func(), error) {
	p, err := s.member(ctx, actor, projectID)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.open(ctx, p.ID, env)
	if err != nil {
		return nil, nil, err
	}
	return s.session(ctx, t, pgx.ReadOnly)
}

// Tables lists the tables and views of the database of env, with their
// columns and indexes, outside PostgreSQL's own schemas.
func (s *Service) Tables(ctx context.Context, actor *auth.User, projectID, env string) ([]Table, error) {
	tx, end, err := s.readSession(ctx, actor, projectID, env)
	if err != nil {
		return nil, err
	}
	defer end()
	tables, oids, err := listTables(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := addColumns(ctx, tx, tables, oids); err != nil {
		return nil, err
	}
	if err := addIndexes(ctx, tx, tables, oids); err != nil {
		return nil, err
	}
	for i := range tables {
		if tables[i].Kind == "table" && tables[i].RowEstimate < exactCountBelow {
			tables[i].RowCount = countRows(ctx, tx, pgx.Identifier{tables[i].Schema, tables[i].Name}.Sanitize())
		}
	}
	return tables, nil
}

func listTables(ctx context.Context, tx pgx.Tx) ([]Table, []uint32, error) {
	// reltuples is -1 until the table is first vacuumed or analyzed; the
	// statistics' live rows stand in meanwhile.
	rows, err := tx.Query(ctx, `
		SELECT c.oid, n.nspname, c.relname, CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END,
			CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE coalesce(st.n_live_tup, 0) END,
			pg_total_relation_size(c.oid)
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stat_all_tables st ON st.relid = c.oid
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
			AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
			AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
		ORDER BY n.nspname, c.relname`)
	if err != nil {
		return nil, nil, fmt.Errorf("list tables: %w", err)
	}
	tables := []Table{}
	var oids []uint32
	for rows.Next() {
		var oid uint32
		tb := Table{Columns: []TableColumn{}, Indexes: []Index{}}
		if err := rows.Scan(&oid, &tb.Schema, &tb.Name, &tb.Kind, &tb.RowEstimate, &tb.SizeBytes); err != nil {
			return nil, nil, fmt.Errorf("list tables: %w", err)
		}
		tables, oids = append(tables, tb), append(oids, oid)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list tables: %w", err)
	}
	return tables, oids, nil
}

func addColumns(ctx context.Context, tx pgx.Tx, tables []Table, oids []uint32) error {
	rows, err := tx.Query(ctx, `
		SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
			pg_get_expr(d.adbin, d.adrelid), coalesce(a.attnum = ANY (i.indkey), false)
		FROM pg_attribute a
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
		WHERE a.attrelid = ANY ($1) AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attrelid, a.attnum`, oids)
	if err != nil {
		return fmt.Errorf("list columns: %w", err)
	}
	for rows.Next() {
		var (
			oid uint32
			c   TableColumn
		)
		if err := rows.Scan(&oid, &c.Name, &c.Type, &c.Nullable, &c.Default, &c.PrimaryKey); err != nil {
			return fmt.Errorf("list columns: %w", err)
		}
		tb := &tables[slices.Index(oids, oid)]
		tb.Columns = append(tb.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list columns: %w", err)
	}
	return nil
}

func addIndexes(ctx context.Context, tx pgx.Tx, tables []Table, oids []uint32) error {
	rows, err := tx.Query(ctx, `
		SELECT i.indrelid, c.relname, pg_get_indexdef(i.indexrelid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = ANY ($1)
		ORDER BY i.indrelid, c.relname`, oids)
	if err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	for rows.Next() {
		var (
			oid uint32
			ix  Index
		)
		if err := rows.Scan(&oid, &ix.Name, &ix.Definition); err != nil {
			return fmt.Errorf("list indexes: %w", err)
		}
		tb := &tables[slices.Index(oids, oid)]
		tb.Indexes = append(tb.Indexes, ix)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	return nil
}

// countRows counts a table's rows exactly, or answers nil when it cannot
// (no privilege, too slow): in a savepoint, so the listing goes on.
func countRows(ctx context.Context, tx pgx.Tx, rel string) *int64 {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil
	}
	defer sp.Rollback(ctx)
	var n int64
	if err := sp.QueryRow(ctx, "SELECT count(*) FROM "+rel).Scan(&n); err != nil {
		return nil
	}
	return &n
}

// relation is a table or view of a project's database, found in the
// catalog: the only names the browser ever puts into SQL, quoted.
type relation struct {
	schema, name string
	columns      []relColumn
}

type relColumn struct {
	name, typ string // typ as format_type writes it
	oid       uint32 // the type's, so that values are read as that type
	key       bool   // part of the primary key
}

func (r *relation) ident() string { return pgx.Identifier{r.schema, r.name}.Sanitize() }

func (r *relation) column(name string) (relColumn, error) {
	for _, c := range r.columns {
		if c.name == name {
			return c, nil
		}
	}
	return relColumn{}, errs.Invalid("column_unknown", "Table %s.%s has no column %q.", r.schema, r.name, name)
}

func (r *relation) keys() []relColumn {
	var out []relColumn
	for _, c := range r.columns {
		if c.key {
			out = append(out, c)
		}
	}
	return out
}

// lookup finds the table or view schema.name in the catalog.
func lookup(ctx context.Context, tx pgx.Tx, schema, name string) (*relation, error) {
	var oid uint32
	err := tx.QueryRow(ctx, `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`, schema, name).Scan(&oid)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("table_not_found", "There is no table %s.%s in this database.", schema, name)
	}
	if err != nil {
		return nil, fmt.Errorf("find table %s.%s: %w", schema, name, err)
	}
	rows, err := tx.Query(ctx, `
		SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod), coalesce(a.attnum = ANY (i.indkey), false)
		FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, oid)
	if err != nil {
		return nil, fmt.Errorf("columns of %s.%s: %w", schema, name, err)
	}
	r := &relation{schema: schema, name: name}
	for rows.Next() {
		var c relColumn
		if err := rows.Scan(&c.name, &c.oid, &c.typ, &c.key); err != nil {
			return nil, fmt.Errorf("columns of %s.%s: %w", schema, name, err)
		}
		r.columns = append(r.columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("columns of %s.%s: %w", schema, name, err)
	}
	return r, nil
}

// BrowseInput asks for one page of a table's rows.
type BrowseInput struct {
	Schema, Table string
	Offset, Limit int
	Order         string // a column; empty orders by the primary key
	Desc          bool
	Filters       []Filter
}

// Filter keeps the rows whose Column compares to Value by Op: eq, ne, lt,
// le, gt, ge (as the column's type), like, ilike (as text), null, notnull.
type Filter struct {
	Column, Op, Value string
}

var comparisons = map[string]string{"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "like": "LIKE", "ilike": "ILIKE"}

func schemaParam(r *http.Request) string {
	if s := r.URL.Query().Get("schema"); s != "" {
		return s
	}
	return "public"
}

// browseInput reads a page request from the query string; filters are
// repeated filter=column:op:value.
func browseInput(r *http.Request) (BrowseInput, error) {
	q := r.URL.Query()
	in := BrowseInput{Schema: schemaParam(r), Table: r.PathValue("table"), Order: q.Get("order"), Desc: q.Get("desc") == "1" || q.Get("desc") == "true"}
	var err error
	if in.Offset, err = intParam(q.Get("offset")); err != nil || in.Offset < 0 {
		return in, errs.Invalid("offset_invalid", "The offset must be a number of rows, 0 or more.")
	}
	n, err := intParam(q.Get("limit"))
	if err != nil {
		return in, errs.Invalid("limit_invalid", "The limit must be a number of rows.")
	}
	if in.Limit, err = rowLimit(n, DefaultPage, MaxPage); err != nil {
		return in, err
	}
	for _, f := range q["filter"] {
		column, rest, ok := strings.Cut(f, ":")
		if !ok {
			return in, errs.Invalid("filter_invalid", "A filter is column:op:value, not %q.", f)
		}
		op, value, _ := strings.Cut(rest, ":")
		in.Filters = append(in.Filters, Filter{Column: column, Op: op, Value: value})
	}
	return in, nil
}

func intParam(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(s)
}

// Page is one page of a table's rows, cells as the console answers them.
type Page struct {
	Columns []Column    `json:"columns"` // types as the table declares them
	Rows    [][]*string `json:"rows"`
	Offset  int         `json:"offset"`
	Limit   int         `json:"limit"`
	Total   int64       `json:"total"` // rows that pass the filters
}

// Rows answers a page of a table's rows of the database of env.
func (s *Service) Rows(ctx context.Context, actor *auth.User, projectID, env string, in BrowseInput) (*Page, error) {
	tx, end, err := s.readSession(ctx, actor, projectID, env)
	if err != nil {
		return nil, err
	}
	defer end()
	rel, err := lookup(ctx, tx, in.Schema, in.Table)
	if err != nil {
		return nil, err
	}
	var sq sqlBuilder
	where, err := sq.where(rel, in.Filters)
	if err != nil {
		return nil, err
	}
	order, err := orderBy(rel, in.Order, in.Desc)
	if err != nil {
		return nil, err
	}
	page := &Page{Columns: make([]Column, len(rel.columns)), Offset: in.Offset, Limit: in.Limit}
	names := make([]string, len(rel.columns))
	for i, c := range rel.columns {
		page.Columns[i] = Column{Name: c.name, Type: c.typ}
		names[i] = pgx.Identifier{c.name}.Sanitize()
	}
	pc := tx.Conn().PgConn()
	budget := maxAnswerBytes
	res, err := readResult(pc.ExecParams(ctx, "SELECT count(*) FROM "+rel.ident()+where, sq.values, sq.oids, nil, nil), 1, &budget)
	if err != nil {
		return nil, sqlError(err)
	}
	if page.Total, err = strconv.ParseInt(*res.Rows[0][0], 10, 64); err != nil {
		return nil, fmt.Errorf("count rows of %s: %w", rel.ident(), err)
	}
	query := fmt.Sprintf("SELECT %s FROM %s%s%s LIMIT %d OFFSET %d", strings.Join(names, ", "), rel.ident(), where, order, in.Limit, in.Offset)
	if res, err = readResult(pc.ExecParams(ctx, query, sq.values, sq.oids, nil, nil), in.Limit, &budget); err != nil {
		return nil, sqlError(err)
	}
	page.Rows = res.Rows
	return page, nil
}

// sqlBuilder gathers a statement's parameters: values in text, each read
// by the server as the type it names.
type sqlBuilder struct {
	values [][]byte // nil is NULL
	oids   []uint32
}

// param adds a parameter and answers its placeholder.
func (b *sqlBuilder) param(v *string, oid uint32) string {
	var raw []byte
	if v != nil {
		raw = []byte(*v)
	}
	b.values, b.oids = append(b.values, raw), append(b.oids, oid)
	return "$" + strconv.Itoa(len(b.values))
}

// where answers the WHERE clause of filters, or "".
func (b *sqlBuilder) where(rel *relation, filters []Filter) (string, error) {
	var conds []string
	for _, f := range filters {
		c, err := rel.column(f.Column)
		if err != nil {
			return "", err
		}
		col := pgx.Identifier{c.name}.Sanitize()
		switch f.Op {
		case "null":
			conds = append(conds, col+" IS NULL")
		case "notnull":
			conds = append(conds, col+" IS NOT NULL")
		case "like", "ilike":
			conds = append(conds, col+"::text "+comparisons[f.Op]+" "+b.param(&f.Value, pgtype.TextOID))
		default:
			op, ok := comparisons[f.Op]
			if !ok {
				return "", errs.Invalid("filter_invalid", "A filter's op is one of eq, ne, lt, le, gt, ge, like, ilike, null, notnull; not %q.", f.Op)
			}
			conds = append(conds, col+" "+op+" "+b.param(&f.Value, c.oid))
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), nil
}

// orderBy orders by column (descending when desc), then by the primary key,
// so that pages neither repeat nor skip rows.
func orderBy(rel *relation, column string, desc bool) (string, error) {
	var by []string
	if column != "" {
		c, err := rel.column(column)
		if err != nil {
			return "", err
		}
		dir := ""
		if desc {
			dir = " DESC"
		}
		by = append(by, pgx.Identifier{c.name}.Sanitize()+dir)
	}
	for _, k := range rel.keys() {
		if k.name != column {
			by = append(by, pgx.Identifier{k.name}.Sanitize())
		}
	}
	if len(by) == 0 {
		return "", nil
	}
	return " ORDER BY " + strings.Join(by, ", "), nil
}

// EditInput changes one row: Key gives every primary key column's value,
// Set the new values (nil sets NULL), each in PostgreSQL's text form.
type EditInput struct {
	Schema string             `json:"-"`
	Table  string             `json:"-"`
	Key    map[string]*string `json:"key"`
	Set    map[string]*string `json:"set"`
}

// EditRow changes one row of a table of the database of env, found by its
// primary key, and answers the row as it is now.
func (s *Service) EditRow(ctx context.Context, actor *auth.User, projectID, env string, in EditInput) (map[string]*string, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	if len(in.Set) == 0 {
		return nil, errs.Invalid("set_empty", "Name at least one column to change in set.")
	}
	t, err := s.open(ctx, p.ID, env)
	if err != nil {
		return nil, err
	}
	tx, end, err := s.session(ctx, t, pgx.ReadWrite)
	if err != nil {
		return nil, err
	}
	defer end()
	rel, err := lookup(ctx, tx, in.Schema, in.Table)
	if err != nil {
		return nil, err
	}
	query, sq, err := updateOne(rel, in)
	if err != nil {
		return nil, err
	}
	budget := maxAnswerBytes
	res, err := readResult(tx.Conn().PgConn().ExecParams(ctx, query, sq.values, sq.oids, nil, nil), 1, &budget)
	if err != nil {
		return nil, sqlError(err)
	}
	switch {
	case res.RowCount == 0:
		return nil, errs.NotFound("row_not_found", "No row of %s.%s has that key; it may have been changed or deleted meanwhile.", rel.schema, rel.name)
	case res.RowCount > 1:
		return nil, errs.Conflict("row_not_unique", "That key matches %d rows of %s.%s; nothing was changed.", res.RowCount, rel.schema, rel.name)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, sqlError(err)
	}
	row := make(map[string]*string, len(res.Columns))
	for i, c := range res.Columns {
		row[c.Name] = res.Rows[0][i]
	}
	changed := make([]string, 0, len(in.Set))
	for name := range in.Set {
		changed = append(changed, name)
	}
	slices.Sort(changed)
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "database.edit_row", audit.Target("project", p.ID),
		map[string]any{"env": env, "table": rel.schema + "." + rel.name, "columns": changed})
	return row, nil
}

// updateOne builds the UPDATE of the row whose primary key in.Key gives,
// answering the whole row.
func updateOne(rel *relation, in EditInput) (string, *sqlBuilder, error) {
	keys := rel.keys()
	if len(keys) == 0 {
		return "", nil, errs.Invalid("no_primary_key", "Table %s.%s has no primary key, so one row cannot be told from another; change it with UPDATE in the console.", rel.schema, rel.name)
	}
	for name := range in.Key {
		if c, err := rel.column(name); err != nil || !c.key {
			return "", nil, errs.Invalid("key_invalid", "The key names only the primary key's columns; %q is not one of them.", name)
		}
	}
	for name := range in.Set {
		if _, err := rel.column(name); err != nil {
			return "", nil, err
		}
	}
	sq := &sqlBuilder{}
	var set, match, all []string
	for _, c := range rel.columns {
		col := pgx.Identifier{c.name}.Sanitize()
		all = append(all, col)
		if v, ok := in.Set[c.name]; ok {
			set = append(set, col+" = "+sq.param(v, c.oid))
		}
	}
	for _, k := range keys {
		v := in.Key[k.name]
		if v == nil {
			return "", nil, errs.Invalid("key_incomplete", "The key must give a value for every primary key column; %q is missing.", k.name)
		}
		match = append(match, pgx.Identifier{k.name}.Sanitize()+" = "+sq.param(v, k.oid))
	}
	return fmt.Sprintf("UPDATE %s SET %s WHERE %s RETURNING %s", rel.ident(), strings.Join(set, ", "), strings.Join(match, " AND "), strings.Join(all, ", ")), sq, nil
}
