package kv_test

import (
	"strings"
	"testing"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// The test binary is also the sandbox agent.
func TestMain(m *testing.M) { testserver.Main(m) }

// The unmodified @replit/database client from npm, in a project's sandbox,
// reaches the project's store through REPLIT_DB_URL with keys the protocol
// makes awkward; another project's sandbox sees none of it.
func TestReplitClientInSandbox(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	ada := s.SignUp(t, "ada")
	p := ada.CreateProject(t, "Kv")
	other := ada.CreateProject(t, "Other")
	ada.Put(t, "/api/projects/"+p.ID+"/files/package.json", `{"name":"kv","version":"1.0.0","dependencies":{"@replit/database":"3.0.1"}}`).WantStatus(t, 204)
	ada.Put(t, "/api/projects/"+p.ID+"/files/kv.js", `const m = require("@replit/database");
const Client = m.default || m.Client || m;
(async () => {
  const db = new Client();
  for (const [k, v] of [["a/b", { n: 1 }], ["a//c", "two"], ["sp ace", "semi;colon=x"], ["new\nline", [3]]]) {
    const r = await db.set(k, v);
    if (r && r.ok === false) throw new Error("set " + k + ": " + JSON.stringify(r.error));
  }
  const got = await db.get("a/b");
  const list = await db.list("a/");
  await db.delete("sp ace");
  const gone = await db.get("sp ace");
  const all = await db.list();
  console.log(JSON.stringify({ got: got.value, list: list.value.sort(), gone: gone.ok, all: all.value.sort() }));
})().catch((e) => { console.error(e.message); process.exit(1); });`).WantStatus(t, 204)
	var res struct {
		ExitCode int    `json:"exitCode"`
		Stdout   string `json:"stdout"`
		Stderr   string `json:"stderr"`
	}
	ada.Post(t, "/api/projects/"+p.ID+"/exec", map[string]any{"command": "npm install --no-audit --no-fund >/dev/null 2>&1 && node kv.js", "timeoutSec": 120}).WantStatus(t, 200).Decode(t, &res)
	want := `{"got":{"n":1},"list":["a//c","a/b"],"gone":false,"all":["a//c","a/b","new\nline"]}`
	if res.ExitCode != 0 || strings.TrimSpace(res.Stdout) != want {
		t.Fatalf("the client: %+v, want %s", res, want)
	}
	// Without REPLIT_DB_URL the client reads the URL the agent keeps in
	// /tmp/replitdb: a process outliving its environment's token follows it.
	ada.Post(t, "/api/projects/"+p.ID+"/exec", map[string]any{"command": `test "$(stat -c %a /tmp/replitdb)" = 600 && env -u REPLIT_DB_URL node -e '
const m = require("@replit/database"); const db = new (m.default || m.Client || m)();
db.get("a/b").then((r) => console.log(JSON.stringify(r.value)))'`}).WantStatus(t, 200).Decode(t, &res)
	if res.ExitCode != 0 || strings.TrimSpace(res.Stdout) != `{"n":1}` {
		t.Fatalf("the client from /tmp/replitdb: %+v", res)
	}

	// The other project's sandbox, with this project's URL: refused.
	ada.Post(t, "/api/projects/"+p.ID+"/exec", map[string]any{"command": `echo "$REPLIT_DB_URL" | base64`}).WantStatus(t, 200).Decode(t, &res)
	ada.Post(t, "/api/projects/"+other.ID+"/exec", map[string]any{"command": `curl -s -o /dev/null -w '%{http_code}' "$(echo '` + strings.TrimSpace(res.Stdout) + `' | base64 -d)/a%2Fb"; echo; curl -s "$REPLIT_DB_URL?encode=true" | wc -c`}).WantStatus(t, 200).Decode(t, &res)
	if lines := strings.Fields(res.Stdout); len(lines) != 2 || lines[0] != "401" || lines[1] != "0" {
		t.Fatalf("another project's sandbox: %+v", res)
	}
}
