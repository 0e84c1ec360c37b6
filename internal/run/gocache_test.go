package run_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecode/internal/config"
	"ecode/internal/runtime/agent"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// TestGoSharedCache: a server compiles Go's standard library once, by
// itself soon after it starts, in the platform's own sandbox; the first Go
// run, arriving meanwhile, waits for it and shows as building; a second
// project's first run then compiles almost nothing, and its next run does
// not even link. No project can write the shared cache, and what one writes
// in its own cache cannot reach another's build.
func TestGoSharedCache(t *testing.T) {
	testserver.NeedSandbox(t)
	if testing.Short() {
		t.Skip("compiles Go's standard library")
	}
	s := testserver.New(t, testdb.Engines(t)[0], func(c *config.Config) { c.GoCachePrewarm = true })
	ada := s.SignUp(t, "ada")
	newGo := func(name string) testserver.Project {
		var out struct{ Project testserver.Project }
		ada.Post(t, "/api/projects", map[string]string{"name": name, "template": "go"}).WantStatus(t, http.StatusCreated).Decode(t, &out)
		return out.Project
	}
	// run runs a project until its preview answers, and returns how long
	// that took, the statuses seen and the console.
	run := func(p testserver.Project) (time.Duration, map[string]bool, string) {
		start := time.Now()
		r := startRun(t, ada, p.ID)
		seen := map[string]bool{}
		deadline := time.Now().Add(4 * time.Minute)
		for {
			v := getRun(t, ada, p.ID, r.ID)
			seen[v.Status] = true
			if v.PreviewURL != nil {
				break
			}
			if v.Status != "starting" && v.Status != "building" && v.Status != "running" || time.Now().After(deadline) {
				t.Fatalf("run %+v never got a preview\nconsole:\n%s", v, runOutput(t, s, ada, p.ID, r.ID))
			}
			time.Sleep(100 * time.Millisecond)
		}
		took := time.Since(start)
		ada.Post(t, "/api/projects/"+p.ID+"/stop", nil).WantStatus(t, 204)
		return took, seen, string(ada.Get(t, "/api/projects/"+p.ID+"/runs/"+r.ID+"/output").WantStatus(t, 200).Body)
	}

	// The prewarm starts with the server, before any project asks.
	toolcache := awaitPrewarm(t, s)

	first := newGo("First")
	took, seen, console := run(first)
	t.Logf("first Go project, while the prewarm builds: preview in %s", took.Round(time.Millisecond))
	if !seen["building"] || !strings.Contains(console, "Compiling Go's standard library") || !strings.Contains(console, "Listening on") {
		t.Fatalf("first run: statuses %v, console:\n%s", seen, console)
	}
	if _, err := os.Stat(filepath.Join(toolcache, "go", "toolchain")); err != nil {
		t.Fatalf("the shared cache is not in place after the first run: %v", err)
	}

	second := newGo("Second")
	took, _, console = run(second)
	t.Logf("second Go project: preview in %s", took.Round(time.Millisecond))
	if strings.Contains(console, agent.GoCompiling) || strings.Contains(console, "standard library") || !strings.Contains(console, "Listening on") {
		t.Fatalf("second project compiled again:\n%s", console)
	}
	sh := func(p testserver.Project, cmd string) execResult {
		return execIn(t, ada, p.ID, map[string]any{"command": cmd, "timeoutSec": 120})
	}
	// Run again with nothing changed: the program is up to date, and the
	// template's build step, under the cache program, links nothing.
	took, _, console = run(second)
	t.Logf("second Go project again: preview in %s", took.Round(time.Millisecond))
	if !strings.Contains(console, "Listening on") {
		t.Fatalf("second run of the second project:\n%s", console)
	}
	if res := sh(second, "go build -x -o ~/.cache/app . 2>&1"); res.ExitCode != 0 || strings.Contains(res.Stdout, "/link") {
		t.Fatalf("the template's build step links a program that is up to date: %+v", res)
	}

	// What the second project's build wrote: its main package and little
	// else, against hundreds of packages in the shared cache.
	own := sh(second, "find ~/.cache/go-build -name '*-a' | wc -l; find /opt/sbx/toolcache/go -name '*-a' | wc -l")
	counts := strings.Fields(own.Stdout)
	if len(counts) != 2 {
		t.Fatalf("count entries: %+v", own)
	}
	mine, shared := atoi(t, counts[0]), atoi(t, counts[1])
	if shared < 200 || mine > 20 {
		t.Fatalf("the second project's cache holds %d entries, the shared one %d", mine, shared)
	}

	// Read-only inside, however it is tried.
	for _, cmd := range []string{
		"touch /opt/sbx/toolcache/go/new",
		"f=$(find /opt/sbx/toolcache/go -name '*-d' | head -1); echo poison >> $f",
		"rm -rf /opt/sbx/toolcache/go/00",
		"chmod -R u+w /opt/sbx/toolcache/go",
		"mv /opt/sbx/toolcache/go /opt/sbx/toolcache/gone",
	} {
		if res := sh(second, cmd); res.ExitCode == 0 {
			t.Errorf("%s: succeeded inside the sandbox: %+v", cmd, res)
		}
	}
	// The second project fills its own cache with an entry for every
	// shared action, each pointing at zeros of the right size: were its
	// own cache read first, or shared, builds would break.
	poison := `for a in /opt/sbx/toolcache/go/*/*-a; do
	  read v id out size when < "$a"
	  d=~/.cache/go-build/$(echo $out | cut -c1-2); mkdir -p $d
	  cp "$a" ~/.cache/go-build/$(echo $id | cut -c1-2)/ 2>/dev/null || { mkdir -p ~/.cache/go-build/$(echo $id | cut -c1-2); cp "$a" ~/.cache/go-build/$(echo $id | cut -c1-2)/; }
	  head -c "$size" /dev/zero > $d/$out-d
	done; echo poisoned`
	if res := sh(second, poison); res.ExitCode != 0 || res.Stdout != "poisoned\n" {
		t.Fatalf("poison: %+v", res)
	}
	for _, p := range []testserver.Project{second, first} {
		if res := sh(p, "go build -o /dev/null . && echo built"); res.ExitCode != 0 || res.Stdout != "built\n" {
			t.Fatalf("%s: build after poisoning: %+v", p.Name, res)
		}
	}
}

// TestGoCachePrewarmEndsWithServer: a server that closes while it builds
// the shared Go cache closes at once and leaves no build behind.
func TestGoCachePrewarmEndsWithServer(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0], func(c *config.Config) { c.GoCachePrewarm = true })
	toolcache := awaitPrewarm(t, s)
	start := time.Now()
	if err := s.App.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the server took %s to close", took)
	}
	left, _ := filepath.Glob(filepath.Join(toolcache, "*"))
	hidden, _ := filepath.Glob(filepath.Join(toolcache, ".build-*"))
	if len(left)+len(hidden) > 0 {
		t.Fatalf("left behind in the tool cache: %v %v", left, hidden)
	}
}

// awaitPrewarm waits for s to start building the shared Go cache by
// itself, and returns the tool cache folder.
func awaitPrewarm(t *testing.T, s *testserver.Server) string {
	t.Helper()
	toolcache := filepath.Join(s.App.Config.DataDir, "toolcache")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if builds, _ := filepath.Glob(filepath.Join(toolcache, ".build-*")); len(builds) > 0 {
			return toolcache
		}
		if time.Now().After(deadline) {
			t.Fatal("no build of the shared Go cache started with the server")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
