package docker_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"ecode/internal/config"
	"ecode/internal/deploy/docker"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// TestServerDeploysWithDocker deploys a Node app as autoscale through the
// platform with the docker driver: its build step runs in a container, and
// the release answers from one, read-only but for /tmp, with its secret.
func TestServerDeploysWithDocker(t *testing.T) {
	host := docker.Engine(t)
	s := testserver.New(t, testdb.Engines(t)[0], func(c *config.Config) { c.DeployDriver, c.DockerHost = "docker", host })
	alice := s.SignUp(t, "alice")
	p := alice.CreateProject(t, "Api")
	files := map[string]string{
		"server.js": `const fs = require('fs');
require('http').createServer((req, res) => {
  if (req.url === '/write') {
    const out = [];
    for (const f of ['/home/runner/project/x.txt', '/tmp/x.txt']) {
      try { fs.writeFileSync(f, 'x'); out.push(f + ' ok'); } catch (e) { out.push(f + ' ' + e.code); }
    }
    return res.end(out.join('\n'));
  }
  res.end(fs.readFileSync('built.txt', 'utf8').trim() + ' ' + process.env.GREETING);
}).listen(process.env.PORT, () => console.log('listening on ' + process.env.PORT));
`,
		"ecode.toml": "run = \"node server.js\"\n\n[deployment]\ntarget = \"autoscale\"\nbuild = \"echo built by $(id -u) > built.txt\"\n",
	}
	for path, body := range files {
		alice.Put(t, "/api/projects/"+p.ID+"/files/"+path, body).WantStatus(t, http.StatusNoContent)
	}
	alice.Put(t, "/api/projects/"+p.ID+"/secrets/GREETING", map[string]string{"value": "hola"}).WantStatus(t, http.StatusNoContent)
	var created struct{ Release struct{ ID string } }
	alice.Post(t, "/api/projects/"+p.ID+"/deployments", map[string]any{}).WantStatus(t, http.StatusAccepted).Decode(t, &created)
	// The log's stream ends with the release.
	log := string(alice.Get(t, "/api/projects/"+p.ID+"/releases/"+created.Release.ID+"/log").WantStatus(t, http.StatusOK).Body)
	if !strings.Contains(log, "$ echo built by") || !strings.Contains(log, "Healthy in") || !strings.Contains(log, `"status":"ready"`) {
		t.Fatalf("release log:\n%s", log)
	}

	site := p.Slug + "--" + p.Owner + ".app.localhost"
	visit := func(path string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		req.Host = site
		c := &http.Client{Timeout: time.Minute}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		return string(body)
	}
	if got := visit("/"); !strings.HasPrefix(got, "built by ") || !strings.HasSuffix(got, " hola") {
		t.Fatalf("/: %q", got)
	}
	if got := visit("/write"); got != "/home/runner/project/x.txt EROFS\n/tmp/x.txt ok" {
		t.Fatalf("/write: %q", got)
	}
}
