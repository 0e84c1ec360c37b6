package projectdb_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"ecode/internal/config"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

type backupView struct {
	ID        string `json:"id"`
	Env       string `json:"env"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	Error     string `json:"error"`
	SizeBytes int64  `json:"sizeBytes"`
	CreatedBy string `json:"createdBy"`
	CreatedAt int64  `json:"createdAt"`
}

type sizeView struct {
	Env       string `json:"env"`
	SizeBytes int64  `json:"sizeBytes"`
	SizeAt    int64  `json:"sizeAt"`
	ReadOnly  bool   `json:"readOnly"`
}

// onSQLite answers a server on SQLite: the platform's engine does not matter
// to most of what a project database does.
func onSQLite(t *testing.T, opts ...testserver.Option) *testserver.Server {
	return testserver.New(t, testdb.Engines(t)[0], opts...)
}

// dialAs connects to a project's database as its role, the way a command in
// the sandbox does, through the cluster's socket. The caller closes it: the
// role may hold only a few sessions at once.
func dialAs(t *testing.T, srv *testserver.Server, c *testserver.Client, projectID, env string) *pgx.Conn {
	t.Helper()
	var out struct {
		Credentials struct{ User, Password, Database string }
	}
	c.Get(t, "/api/projects/"+projectID+"/database/"+env+"/credentials").WantStatus(t, 200).Decode(t, &out)
	u := url.URL{Scheme: "postgres", User: url.UserPassword(out.Credentials.User, out.Credentials.Password),
		Path:     "/" + out.Credentials.Database,
		RawQuery: url.Values{"host": {filepath.Join(srv.App.Config.DataDir, "postgres", "run")}}.Encode()}
	conn, err := pgx.Connect(context.Background(), u.String())
	if err != nil {
		t.Fatalf("connect to the %s database: %v", env, err)
	}
	return conn
}

func runSQL(t *testing.T, srv *testserver.Server, c *testserver.Client, projectID, env, sql string) {
	t.Helper()
	conn := dialAs(t, srv, c, projectID, env)
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// itemNames answers the rows of table items.
func itemNames(t *testing.T, srv *testserver.Server, c *testserver.Client, projectID, env string) []string {
	t.Helper()
	conn := dialAs(t, srv, c, projectID, env)
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), "SELECT name FROM items ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantItems(t *testing.T, srv *testserver.Server, c *testserver.Client, projectID, env string, want ...string) {
	t.Helper()
	if got := itemNames(t, srv, c, projectID, env); !slices.Equal(got, want) {
		t.Fatalf("%s items: %q, want %q", env, got, want)
	}
}

// projectWithItems gives a new project a dev database with table items holding
// names.
func projectWithItems(t *testing.T, srv *testserver.Server, c *testserver.Client, names ...string) testserver.Project {
	t.Helper()
	p := c.CreateProject(t, "Shop")
	c.Post(t, "/api/projects/"+p.ID+"/database", map[string]string{"env": "dev"}).WantStatus(t, 201)
	runSQL(t, srv, c, p.ID, "dev", "CREATE TABLE items (name text PRIMARY KEY)")
	for _, n := range names {
		runSQL(t, srv, c, p.ID, "dev", "INSERT INTO items VALUES ('"+n+"')")
	}
	return p
}

func TestBackupRestoreUndo(t *testing.T) {
	testserver.Each(t, func(t *testing.T, srv *testserver.Server) {
		alice := srv.SignUp(t, "alice")
		p := projectWithItems(t, srv, alice, "kept")
		base := "/api/projects/" + p.ID + "/database/dev/backups"

		var made struct{ Backup backupView }
		alice.Post(t, base, map[string]any{}).WantStatus(t, 201).Decode(t, &made)
		if b := made.Backup; b.Kind != "manual" || b.Status != "done" || b.SizeBytes == 0 || b.Env != "dev" || b.CreatedBy != alice.User.ID {
			t.Fatalf("backup %+v", b)
		}
		runSQL(t, srv, alice, p.ID, "dev", "INSERT INTO items VALUES ('later')")
		runSQL(t, srv, alice, p.ID, "dev", "CREATE TABLE made_later (n int)")

		var res struct {
			Restore struct{ Backup, Undo backupView }
		}
		alice.Post(t, base+"/"+made.Backup.ID+"/restore", map[string]any{}).WantStatus(t, 200).Decode(t, &res)
		if res.Restore.Backup.ID != made.Backup.ID || res.Restore.Undo.Kind != "pre-restore" || res.Restore.Undo.Status != "done" {
			t.Fatalf("restore %+v", res.Restore)
		}
		wantItems(t, srv, alice, p.ID, "dev", "kept")
		// Exactly what the backup held: a table made after it is gone too.
		alice.Post(t, "/api/projects/"+p.ID+"/database/dev/query", map[string]any{"sql": "SELECT * FROM made_later"}).WantError(t, 400, "sql_error")

		alice.Post(t, base+"/"+res.Restore.Undo.ID+"/restore", map[string]any{}).WantStatus(t, 200)
		wantItems(t, srv, alice, p.ID, "dev", "kept", "later")
		runSQL(t, srv, alice, p.ID, "dev", "SELECT * FROM made_later")

		var list struct{ Backups []backupView }
		alice.Get(t, base).WantStatus(t, 200).Decode(t, &list)
		var kinds []string
		for _, b := range list.Backups {
			kinds = append(kinds, b.Kind)
		}
		if !slices.Equal(kinds, []string{"pre-restore", "pre-restore", "manual"}) || list.Backups[1].ID != res.Restore.Undo.ID {
			t.Fatalf("backups, newest first: %+v", list.Backups)
		}

		bob := srv.SignUp(t, "bob")
		bob.Get(t, base).WantStatus(t, 404)
		bob.Post(t, base+"/"+made.Backup.ID+"/restore", map[string]any{}).WantStatus(t, 404)
		wantItems(t, srv, alice, p.ID, "dev", "kept", "later")
	})
}

func TestBackupFiles(t *testing.T) {
	srv := onSQLite(t)
	alice := srv.SignUp(t, "alice")
	p := projectWithItems(t, srv, alice, "a", "b")
	base := "/api/projects/" + p.ID + "/database/dev/backups"
	var made struct{ Backup backupView }
	alice.Post(t, base, map[string]any{}).WantStatus(t, 201).Decode(t, &made)

	res := alice.Get(t, base+"/"+made.Backup.ID+"/download").WantStatus(t, 200)
	dump := res.Body
	if !bytes.HasPrefix(dump, []byte("PGDMP")) || int64(len(dump)) != made.Backup.SizeBytes {
		t.Fatalf("download: %d bytes starting %q, want %d starting PGDMP", len(dump), dump[:min(5, len(dump))], made.Backup.SizeBytes)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, ".dump") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	srv.SignUp(t, "bob").Get(t, base+"/"+made.Backup.ID+"/download").WantStatus(t, 404)

	alice.Post(t, base+"/upload", "SELECT 1;").WantError(t, 400, "not_a_dump")
	alice.Post(t, base+"/upload", "").WantError(t, 400, "not_a_dump")

	// A dump cut short starts right but cannot be restored; the database
	// keeps every row.
	var cut struct{ Backup backupView }
	alice.Post(t, base+"/upload", dump[:len(dump)*2/3]).WantStatus(t, 201).Decode(t, &cut)
	if cut.Backup.Kind != "upload" || cut.Backup.Status != "done" {
		t.Fatalf("upload %+v", cut.Backup)
	}
	runSQL(t, srv, alice, p.ID, "dev", "DELETE FROM items WHERE name = 'a'")
	var failed struct{ Error struct{ Message string } }
	alice.Post(t, base+"/"+cut.Backup.ID+"/restore", map[string]any{}).WantError(t, 400, "restore_failed").Decode(t, &failed)
	if !strings.Contains(failed.Error.Message, "pg_restore: error") {
		t.Fatalf("restore_failed says %q, want pg_restore's own words", failed.Error.Message)
	}
	wantItems(t, srv, alice, p.ID, "dev", "b")

	// The whole dump, uploaded, restores like any backup.
	var whole struct{ Backup backupView }
	alice.Post(t, base+"/upload", dump).WantStatus(t, 201).Decode(t, &whole)
	alice.Post(t, base+"/"+whole.Backup.ID+"/restore", map[string]any{}).WantStatus(t, 200)
	wantItems(t, srv, alice, p.ID, "dev", "a", "b")

	alice.Delete(t, base+"/"+made.Backup.ID).WantStatus(t, 204)
	alice.Get(t, base+"/"+made.Backup.ID+"/download").WantError(t, 404, "backup_not_found")
	alice.Post(t, base+"/"+made.Backup.ID+"/restore", map[string]any{}).WantError(t, 404, "backup_not_found")
	var list struct{ Backups []backupView }
	alice.Get(t, base).WantStatus(t, 200).Decode(t, &list)
	for _, b := range list.Backups {
		if b.ID == made.Backup.ID {
			t.Fatal("a deleted backup is still listed")
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(srv.App.Config.DataDir, "backups", p.ID, made.Backup.ID+"*")); len(matches) != 0 {
		t.Fatalf("a deleted backup's file is left: %v", matches)
	}
	alice.Get(t, "/api/projects/"+p.ID+"/database/prod/backups").WantStatus(t, 200)
	alice.Post(t, "/api/projects/"+p.ID+"/database/prod/backups", map[string]any{}).WantError(t, 404, "database_not_found")
}

func TestDatabaseQuota(t *testing.T) {
	// An empty database takes about 7.5 MB; a few MB of rows take it over.
	srv := onSQLite(t, func(c *config.Config) { c.DatabaseQuota = 8 << 20 })
	alice := srv.SignUp(t, "alice")
	p := projectWithItems(t, srv, alice, "a")
	runSQL(t, srv, alice, p.ID, "dev", "CREATE TABLE filler AS SELECT md5(g::text) || md5((g + 1)::text) AS pad FROM generate_series(1, 40000) g")

	var out struct{ Database sizeView }
	alice.Post(t, "/api/projects/"+p.ID+"/database/dev/refresh-size", map[string]any{}).WantStatus(t, 200).Decode(t, &out)
	if d := out.Database; !d.ReadOnly || d.SizeBytes <= 1 || d.SizeAt == 0 || d.Env != "dev" {
		t.Fatalf("over the quota: %+v", d)
	}
	conn := dialAs(t, srv, alice, p.ID, "dev")
	_, err := conn.Exec(context.Background(), "INSERT INTO items VALUES ('b')")
	conn.Close(context.Background())
	if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != "25006" {
		t.Fatalf("a write over the quota: %v, want read_only_sql_transaction", err)
	}
	wantItems(t, srv, alice, p.ID, "dev", "a")

	var list struct{ Databases []sizeView }
	alice.Get(t, "/api/projects/"+p.ID+"/database").WantStatus(t, 200).Decode(t, &list)
	if len(list.Databases) != 1 || !list.Databases[0].ReadOnly {
		t.Fatalf("databases %+v", list.Databases)
	}
	srv.SignUp(t, "bob").Post(t, "/api/projects/"+p.ID+"/database/dev/refresh-size", map[string]any{}).WantStatus(t, 404)
}

func TestCopyFromDev(t *testing.T) {
	srv := onSQLite(t)
	alice := srv.SignUp(t, "alice")
	p := projectWithItems(t, srv, alice, "from-dev")
	copyPath := "/api/projects/" + p.ID + "/database/prod/copy-from-dev"

	var out struct {
		Database sizeView
		Undo     *backupView
	}
	// Production is made by the copy: there is nothing to undo.
	alice.Post(t, copyPath, map[string]bool{"data": false}).WantStatus(t, 200).Decode(t, &out)
	if out.Database.Env != "prod" || out.Undo != nil {
		t.Fatalf("first copy: %+v", out)
	}
	wantItems(t, srv, alice, p.ID, "prod")

	runSQL(t, srv, alice, p.ID, "prod", "INSERT INTO items VALUES ('prod-only')")
	alice.Post(t, copyPath, map[string]bool{"data": true}).WantStatus(t, 200).Decode(t, &out)
	if out.Undo == nil || out.Undo.Kind != "pre-copy" || out.Undo.Env != "prod" || out.Undo.Status != "done" {
		t.Fatalf("copy over production: undo %+v", out.Undo)
	}
	wantItems(t, srv, alice, p.ID, "prod", "from-dev")
	wantItems(t, srv, alice, p.ID, "dev", "from-dev")

	alice.Post(t, "/api/projects/"+p.ID+"/database/prod/backups/"+out.Undo.ID+"/restore", map[string]any{}).WantStatus(t, 200)
	wantItems(t, srv, alice, p.ID, "prod", "prod-only")

	srv.SignUp(t, "bob").Post(t, copyPath, map[string]bool{"data": true}).WantStatus(t, 404)
	empty := alice.CreateProject(t, "Empty")
	alice.Post(t, "/api/projects/"+empty.ID+"/database/prod/copy-from-dev", map[string]bool{"data": true}).WantError(t, 404, "database_not_found")
}
