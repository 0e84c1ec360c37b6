package projectdb_test

import (
	"context"
	"strings"
	"time"

	"testing"

	"github.com/jackc/pgx/v5"

	"ecode/internal/config"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

type execResult struct {
	ExitCode int    `json:"exitCode"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

func execIn(t *testing.T, c *testserver.Client, projectID, command string) execResult {
	t.Helper()
	var res execResult
	c.Post(t, "/api/projects/"+projectID+"/exec", map[string]any{"command": command, "timeoutSec": 120}).WantStatus(t, 200).Decode(t, &res)
	return res
}

type databaseView struct {
	Env      string `json:"env"`
	Name     string `json:"name"`
	ReadOnly bool   `json:"readOnly"`
}

func createDatabase(t *testing.T, c *testserver.Client, projectID string) databaseView {
	t.Helper()
	var out struct{ Database databaseView }
	c.Post(t, "/api/projects/"+projectID+"/database", map[string]any{}).WantStatus(t, 201).Decode(t, &out)
	return out.Database
}

// A project's sandbox reaches its own database at 127.0.0.1:5432 with the
// variables every command gets, through unmodified clients, and nothing
// else of the cluster.
func TestSandboxDatabase(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	ada := s.SignUp(t, "ada")
	p := ada.CreateProject(t, "Notes")
	other := ada.CreateProject(t, "Other")

	// Before the database exists the relay says what to do.
	res := execIn(t, ada, p.ID, `psql -h 127.0.0.1 -U p_`+p.ID+`_dev -d p_`+p.ID+`_dev -c 'select 1' 2>&1`)
	if res.ExitCode == 0 || !strings.Contains(res.Stdout, "no dev database yet") {
		t.Fatalf("before create: %+v", res)
	}

	db := createDatabase(t, ada, p.ID)
	if db.Name != "p_"+p.ID+"_dev" || db.Env != "dev" {
		t.Fatalf("database %+v", db)
	}
	createDatabase(t, ada, other.ID)

	t.Run("psql with the PG variables", func(t *testing.T) {
		res := execIn(t, ada, p.ID, `psql -tAc "select current_user || ' ' || current_database()" && echo "$DATABASE_URL" | sed 's/:[^:@]*@/:PW@/'`)
		want := db.Name + " " + db.Name
		if res.ExitCode != 0 || !strings.HasPrefix(res.Stdout, want+"\n") {
			t.Fatalf("psql: %+v", res)
		}
		if !strings.Contains(res.Stdout, "postgresql://"+db.Name+":PW@127.0.0.1:5432/"+db.Name+"\n") {
			t.Fatalf("DATABASE_URL: %q", res.Stdout)
		}
	})

	t.Run("python psycopg2", func(t *testing.T) {
		script := `import os, psycopg2
conn = psycopg2.connect(os.environ["DATABASE_URL"])
cur = conn.cursor()
cur.execute("CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text)")
cur.execute("INSERT INTO notes (body) VALUES (%s) RETURNING id", ("from python",))
conn.commit()
cur.execute("SELECT body FROM notes")
print([r[0] for r in cur.fetchall()])`
		ada.Put(t, "/api/projects/"+p.ID+"/files/db.py", script).WantStatus(t, 204)
		res := execIn(t, ada, p.ID, "/usr/bin/python3 db.py 2>&1")
		if res.ExitCode != 0 || !strings.Contains(res.Stdout, "['from python']") {
			t.Fatalf("python: %+v", res)
		}
	})

	t.Run("node pg", func(t *testing.T) {
		ada.Put(t, "/api/projects/"+p.ID+"/files/package.json", `{"name":"notes","version":"1.0.0","dependencies":{"pg":"8.23.1"}}`).WantStatus(t, 204)
		ada.Put(t, "/api/projects/"+p.ID+"/files/db.js", `const { Client } = require("pg");
(async () => {
  const c = new Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  await c.query("INSERT INTO notes (body) VALUES ($1)", ["from node"]);
  const r = await c.query("SELECT count(*)::int AS n FROM notes");
  console.log("notes:", r.rows[0].n);
  await c.end();
})().catch((e) => { console.error(e.message); process.exit(1); });`).WantStatus(t, 204)
		res := execIn(t, ada, p.ID, "npm install --no-audit --no-fund >/dev/null 2>&1 && node db.js 2>&1")
		if res.ExitCode != 0 || !strings.Contains(res.Stdout, "notes: 2") {
			t.Fatalf("node: %+v", res)
		}
	})

	t.Run("isolation", func(t *testing.T) {
		otherName := "p_" + other.ID + "_dev"
		for _, tc := range []struct{ why, cmd, want string }{
			{"another project's database and role", `psql "postgresql://` + otherName + `:x@127.0.0.1:5432/` + otherName + `" -c 'select 1'`, "reaches only its project's dev database"},
			{"its role into another database", `psql -d ` + otherName + ` -c 'select 1'`, "reaches only its project's dev database"},
			{"the platform's database", `psql -d postgres -c 'select 1'`, "reaches only"},
			{"the cluster's superuser", `psql -U ecode -d ` + db.Name + ` -c 'select 1'`, "reaches only"},
			{"the production database", `psql -U p_` + p.ID + `_prod -d p_` + p.ID + `_prod -c 'select 1'`, "reaches only"},
			{"the right role with a wrong password", `PGPASSWORD=wrong psql -c 'select 1'`, "password authentication failed"},
		} {
			res := execIn(t, ada, p.ID, tc.cmd+" 2>&1")
			if res.ExitCode == 0 || !strings.Contains(res.Stdout, tc.want) {
				t.Errorf("%s: %+v", tc.why, res)
			}
		}
		// Past the relay, the database itself holds nothing of the other.
		res := execIn(t, ada, p.ID, `psql -tAc "select has_database_privilege('`+otherName+`', 'CONNECT')"`)
		if strings.TrimSpace(res.Stdout) != "f" {
			t.Errorf("CONNECT on the other project's database: %+v", res)
		}
	})

	t.Run("rotate", func(t *testing.T) {
		var before struct{ Credentials struct{ Password string } }
		ada.Get(t, "/api/projects/"+p.ID+"/database/dev/credentials").WantStatus(t, 200).Decode(t, &before)
		ada.Post(t, "/api/projects/"+p.ID+"/database/dev/rotate", nil).WantStatus(t, 200)
		res := execIn(t, ada, p.ID, `psql -tAc 'select count(*) from notes'`)
		if res.ExitCode != 0 || res.Stdout != "2\n" {
			t.Fatalf("after rotate: %+v", res)
		}
		if r := execIn(t, ada, p.ID, "PGPASSWORD="+before.Credentials.Password+" psql -c 'select 1' 2>&1"); r.ExitCode == 0 || !strings.Contains(r.Stdout, "password authentication failed") {
			t.Fatalf("the old password: %+v", r)
		}
	})
}

// On an external server (ECODE_PROJECT_POSTGRES_URL, a role that is not a
// superuser) a project's database is made, reached from the sandbox through
// the relay, rotated and dropped the same way.
func TestExternalServer(t *testing.T) {
	testserver.NeedSandbox(t)
	provisioner := testdb.Provisioner(t)
	s := testserver.New(t, testdb.Engines(t)[0], func(c *config.Config) { c.ProjectPostgres = provisioner })
	cy := s.SignUp(t, "cy1")
	p := cy.CreateProject(t, "Ext")
	db := createDatabase(t, cy, p.ID)
	var list struct{ Status struct{ External bool } }
	cy.Get(t, "/api/projects/"+p.ID+"/database").WantStatus(t, 200).Decode(t, &list)
	if !list.Status.External {
		t.Fatal("the status does not say the server is external")
	}
	res := execIn(t, cy, p.ID, `psql -tAc "CREATE TABLE t (n int); INSERT INTO t VALUES (7); SELECT current_user, n FROM t" 2>&1`)
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, db.Name+"|7") {
		t.Fatalf("psql on the external server: %+v", res)
	}
	if r := execIn(t, cy, p.ID, `psql -d test -c 'select 1' 2>&1`); r.ExitCode == 0 || !strings.Contains(r.Stdout, "reaches only") {
		t.Fatalf("another database of the external server: %+v", r)
	}
	cy.Post(t, "/api/projects/"+p.ID+"/database/dev/rotate", nil).WantStatus(t, 200)
	cy.Do(t, "DELETE", "/api/projects/"+p.ID+"/database/dev", nil).WantStatus(t, 204)
	if r := execIn(t, cy, p.ID, `psql -c 'select 1' 2>&1`); r.ExitCode == 0 || !strings.Contains(r.Stdout, "no dev database yet") {
		t.Fatalf("after drop: %+v", r)
	}

	// Deleting the project drops its databases.
	gone := createDatabase(t, cy, p.ID)
	cy.Do(t, "DELETE", "/api/projects/"+p.ID, nil).WantStatus(t, 204)
	conn, err := pgx.Connect(context.Background(), provisioner)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", gone.Name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deleted project's database %s is still there", gone.Name)
		}
	}
}
