package projectdb_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// app answers with the database it reaches and the rows of its table.
const app = `import os, psycopg2, http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        conn = psycopg2.connect(os.environ["DATABASE_URL"])
        cur = conn.cursor()
        cur.execute("SELECT current_database(), (SELECT count(*) FROM items)")
        db, n = cur.fetchone()
        conn.close()
        body = f"{db} {n}".encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
`

// finishRelease follows a release's log to its end: its status and the log.
func finishRelease(t *testing.T, c *testserver.Client, projectID, releaseID string) (string, string) {
	t.Helper()
	body := string(c.Get(t, "/api/projects/"+projectID+"/releases/"+releaseID+"/log").WantStatus(t, http.StatusOK).Body)
	var log strings.Builder
	var rel struct{ Status, Error string }
	for ev := range strings.SplitSeq(body, "\n\n") {
		lines := strings.Split(ev, "\n")
		var data []string
		for _, l := range lines[1:] {
			data = append(data, strings.TrimPrefix(l, "data: "))
		}
		switch lines[0] {
		case "event: log":
			log.WriteString(strings.Join(data, "\n"))
		case "event: status":
			if err := json.Unmarshal([]byte(strings.Join(data, "\n")), &rel); err != nil {
				t.Fatal(err)
			}
		}
	}
	return rel.Status + " " + rel.Error, log.String()
}

// A deployment gets a production database of its own on its first deploy,
// with the development database's schema and none of its rows, and its
// instances reach that one through their own relay.
func TestDeploymentDatabase(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	bo := s.SignUp(t, "bob")
	p := bo.CreateProject(t, "Shop")
	createDatabase(t, bo, p.ID)
	if res := execIn(t, bo, p.ID, `psql -q -c "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL); INSERT INTO items (name) VALUES ('dev only')"`); res.ExitCode != 0 {
		t.Fatalf("dev schema: %+v", res)
	}
	bo.Put(t, "/api/projects/"+p.ID+"/files/app.py", app).WantStatus(t, 204)
	bo.Put(t, "/api/projects/"+p.ID+"/files/ecode.toml", "run = \"python3 app.py\"\n\n[deployment]\ntarget = \"autoscale\"\n").WantStatus(t, 204)

	var out struct{ Release struct{ ID string } }
	bo.Post(t, "/api/projects/"+p.ID+"/deployments", map[string]any{}).WantStatus(t, http.StatusAccepted).Decode(t, &out)
	status, log := finishRelease(t, bo, p.ID, out.Release.ID)
	if !strings.HasPrefix(status, "ready") || !strings.Contains(log, "production database") {
		t.Fatalf("release %s: %s", status, log)
	}

	code, body := get(t, s, "shop--bob.app.localhost")
	if want := "p_" + p.ID + "_prod 0"; code != 200 || body != want {
		t.Fatalf("the app answered %d %q, want %q", code, body, want)
	}

	var list struct{ Databases []databaseView }
	bo.Get(t, "/api/projects/"+p.ID+"/database").WantStatus(t, 200).Decode(t, &list)
	if len(list.Databases) != 2 || list.Databases[1].Env != "prod" {
		t.Fatalf("databases %+v", list.Databases)
	}
}

// startup answers what a Postgres at PGHOST:PGPORT says first to the
// startup of a user: R (asks for a password: the database's server) or
// E (refused, with its SQLSTATE). Python's standard library alone, as an
// image may hold no driver.
const startup = `import os, socket, struct, http.server
def first(user):
    s = socket.create_connection((os.environ["PGHOST"], int(os.environ["PGPORT"])), timeout=10)
    params = b"user\0" + user.encode() + b"\0database\0" + os.environ["PGDATABASE"].encode() + b"\0\0"
    s.sendall(struct.pack("!II", 8 + len(params), 196608) + params)
    kind = s.recv(1).decode()
    body = s.recv(4096)
    s.close()
    if kind == "E":
        code = [f[1:] for f in body[4:].split(b"\0") if f[:1] == b"C"]
        return "E " + (code[0].decode() if code else "?")
    return kind
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (first(os.environ["PGUSER"]) + " " + first("postgres") + " " + ("url" if os.environ.get("DATABASE_URL") else "no url")).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
`

// An app instance reaches its project's production database on its
// loopback through its relay, and only that: on every deploy driver (kube
// puts an agent beside the app for it), whatever its image holds.
func TestDeploymentReachesDatabase(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	al := s.SignUp(t, "alma")
	p := al.CreateProject(t, "Till")
	createDatabase(t, al, p.ID)
	al.Put(t, "/api/projects/"+p.ID+"/files/app.py", startup).WantStatus(t, 204)
	al.Put(t, "/api/projects/"+p.ID+"/files/ecode.toml", "run = \"python3 app.py\"\n\n[deployment]\ntarget = \"autoscale\"\n").WantStatus(t, 204)
	var out struct{ Release struct{ ID string } }
	al.Post(t, "/api/projects/"+p.ID+"/deployments", map[string]any{}).WantStatus(t, http.StatusAccepted).Decode(t, &out)
	if status, log := finishRelease(t, al, p.ID, out.Release.ID); !strings.HasPrefix(status, "ready") {
		t.Fatalf("release %s: %s", status, log)
	}
	code, body := get(t, s, "till--alma.app.localhost")
	if want := "R E 28000 url"; code != 200 || body != want {
		t.Fatalf("the app answered %d %q, want %q", code, body, want)
	}
}

// get asks the deployment at host for / through s.
func get(t *testing.T, s *testserver.Server, host string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/", nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}
