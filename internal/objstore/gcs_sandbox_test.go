package objstore_test

import (
	"encoding/json"
	"strings"
	"testing"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// The test binary is also the sandbox agent.
func TestMain(m *testing.M) { testserver.Main(m) }

// replitClientScript drives the unmodified @replit/object-storage client as
// its README does, with no arguments: the default bucket comes from the
// sidecar, requests go to STORAGE_EMULATOR_HOST.
const replitClientScript = `const { Client } = require("@replit/object-storage");
const must = (r, what) => { if (!r.ok) throw new Error(what + ": " + JSON.stringify(r.error)); return r.value; };
(async () => {
  const c = new Client();
  const out = {};
  must(await c.uploadFromText("dir/héllo wörld.txt", "hi there ✓"), "uploadFromText");
  out.text = must(await c.downloadAsText("dir/héllo wörld.txt"), "downloadAsText");
  const big = Buffer.alloc(6 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919 + (i >> 13)) & 255;
  let t = Date.now();
  must(await c.uploadFromBytes("big/six.bin", big), "uploadFromBytes");
  out.uploadMs = Date.now() - t;
  t = Date.now();
  const [back] = must(await c.downloadAsBytes("big/six.bin"), "downloadAsBytes");
  out.downloadMs = Date.now() - t;
  out.bigSame = Buffer.compare(big, back) === 0;
  out.exists = [must(await c.exists("big/six.bin"), "exists"), must(await c.exists("big/none"), "exists")];
  must(await c.copy("dir/héllo wörld.txt", "dir/copy.txt"), "copy");
  out.all = must(await c.list(), "list").map((o) => o.name).sort();
  out.dir = must(await c.list({ prefix: "dir/" }), "list prefix").map((o) => o.name).sort();
  must(await c.delete("dir/copy.txt"), "delete");
  out.afterDelete = must(await c.list({ prefix: "dir/" }), "list").map((o) => o.name);
  const missing = await c.downloadAsText("no/such.txt");
  out.missing = { ok: missing.ok, status: missing.error && missing.error.statusCode };
  const zipped = await c.uploadFromText("zipped.txt", "x".repeat(1000), { compress: true });
  out.compress = { ok: zipped.ok, message: zipped.error && zipped.error.message };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e.stack || e.message); process.exit(1); });`

// The unmodified client from npm, in a project's sandbox, stores and reads
// objects of the project's dev environment through the relay on port 1106
// (its compress option is refused); another project's sandbox lists none
// of them.
func TestReplitObjectStorageInSandbox(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0])
	ada := s.SignUp(t, "ada")
	p := ada.CreateProject(t, "Objects")
	other := ada.CreateProject(t, "Other")
	for _, proj := range []string{p.ID, other.ID} {
		ada.Put(t, "/api/projects/"+proj+"/files/package.json", `{"name":"objs","version":"1.0.0","dependencies":{"@replit/object-storage":"1.0.0"}}`).WantStatus(t, 204)
	}
	ada.Put(t, "/api/projects/"+p.ID+"/files/objs.js", replitClientScript).WantStatus(t, 204)
	var res struct {
		ExitCode int    `json:"exitCode"`
		Stdout   string `json:"stdout"`
		Stderr   string `json:"stderr"`
	}
	ada.Post(t, "/api/projects/"+p.ID+"/exec", map[string]any{"command": "npm install --no-audit --no-fund >/dev/null 2>&1 && node objs.js", "timeoutSec": 240}).WantStatus(t, 200).Decode(t, &res)
	if res.ExitCode != 0 {
		t.Fatalf("the client: %+v", res)
	}
	var got struct {
		Text        string   `json:"text"`
		UploadMs    int      `json:"uploadMs"`
		DownloadMs  int      `json:"downloadMs"`
		BigSame     bool     `json:"bigSame"`
		Exists      []bool   `json:"exists"`
		All         []string `json:"all"`
		Dir         []string `json:"dir"`
		AfterDelete []string `json:"afterDelete"`
		Missing     struct {
			OK     bool `json:"ok"`
			Status int  `json:"status"`
		} `json:"missing"`
		Compress struct {
			OK      bool   `json:"ok"`
			Message string `json:"message"`
		} `json:"compress"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &got); err != nil {
		t.Fatalf("output %q: %v", res.Stdout, err)
	}
	t.Logf("6 MiB through the unmodified client: upload %d ms, download %d ms", got.UploadMs, got.DownloadMs)
	if got.Text != "hi there ✓" || !got.BigSame || len(got.Exists) != 2 || !got.Exists[0] || got.Exists[1] ||
		strings.Join(got.All, ",") != "big/six.bin,dir/copy.txt,dir/héllo wörld.txt" ||
		strings.Join(got.Dir, ",") != "dir/copy.txt,dir/héllo wörld.txt" || strings.Join(got.AfterDelete, ",") != "dir/héllo wörld.txt" ||
		got.Missing.OK || got.Missing.Status != 404 || got.Compress.OK || !strings.Contains(got.Compress.Message, "400") {
		t.Fatalf("the client saw %+v", got)
	}

	// The Storage pane sees them in the project's dev storage, not in prod's.
	var pane struct {
		Objects []struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
		} `json:"objects"`
		Prefixes []string `json:"prefixes"`
	}
	ada.Get(t, "/api/projects/"+p.ID+"/storage/dev/buckets/default/objects?prefix=big/").WantStatus(t, 200).Decode(t, &pane)
	if len(pane.Objects) != 1 || pane.Objects[0].Key != "big/six.bin" || pane.Objects[0].Size != 6<<20 {
		t.Fatalf("the Storage pane: %+v", pane)
	}
	ada.Get(t, "/api/projects/"+p.ID+"/storage/prod/buckets/default/objects").WantStatus(t, 200).Decode(t, &pane)
	if len(pane.Objects) != 0 || len(pane.Prefixes) != 0 {
		t.Fatalf("prod storage: %+v", pane)
	}

	// Another project's sandbox has a default bucket of its own, empty.
	ada.Put(t, "/api/projects/"+other.ID+"/files/list.js", `const { Client } = require("@replit/object-storage");
new Client().list().then((r) => console.log(JSON.stringify(r)));`).WantStatus(t, 204)
	ada.Post(t, "/api/projects/"+other.ID+"/exec", map[string]any{"command": "npm install --no-audit --no-fund >/dev/null 2>&1 && node list.js", "timeoutSec": 240}).WantStatus(t, 200).Decode(t, &res)
	if strings.TrimSpace(res.Stdout) != `{"ok":true,"value":[]}` {
		t.Fatalf("another project's sandbox: %+v", res)
	}
}
