package attack_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecode/internal/runtime"
	"ecode/internal/testserver"
)

// TestLargeSecretReachesEveryCommand: a project secret of 64 KiB (the most
// the secrets API takes; one PEM key is 4 KiB, past the 4 KiB line the
// agent once read requests into) is in the environment of exec calls,
// runs and shells, whole.
func TestLargeSecretReachesEveryCommand(t *testing.T) {
	testserver.NeedSandbox(t)
	s := sqlite(t)
	ivy := s.SignUp(t, "ivy")
	p := ivy.CreateProject(t, "Keys")
	base := "/api/projects/" + p.ID
	pem := "-----BEGIN PRIVATE KEY-----\n" + strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n", 1300)
	value := (pem + strings.Repeat("=", 64<<10))[:64<<10]
	ivy.Put(t, base+"/secrets/BIG_KEY", map[string]string{"value": value}).WantStatus(t, 204)
	sum := sha256.Sum256([]byte(value))
	// The value itself is masked in output; its length and hash are not.
	want := fmt.Sprintf("%d %s", len(value), hex.EncodeToString(sum[:]))
	const probe = `echo "$(printf %s "$BIG_KEY" | wc -c) $(printf %s "$BIG_KEY" | sha256sum | cut -d' ' -f1)"`

	if res := sh(t, ivy, p.ID, probe); strings.TrimSpace(res.Stdout) != want {
		t.Fatalf("exec saw %q, want %q (stderr %q)", res.Stdout, want, res.Stderr)
	}

	ivy.Put(t, base+"/files/ecode.toml", "run = '''"+probe+"'''\n").WantStatus(t, 204)
	r := runToEnd(t, ivy, p.ID)
	if out := string(ivy.Get(t, base+"/runs/"+r.ID+"/output").WantStatus(t, 200).Body); r.Status != "exited" || !strings.Contains(out, want) {
		t.Fatalf("run %+v printed %q, want %q", r, out, want)
	}

	if out := shellOutput(t, s, ivy, p.ID, probe+"; exit\n"); !strings.Contains(out, want) {
		t.Fatalf("shell printed %q, want %q", out, want)
	}
	healthy(t, s)
}

type endedRun struct{ ID, Status, Error string }

// runToEnd presses Run and waits for the run to end.
func runToEnd(t *testing.T, c *testserver.Client, projectID string) endedRun {
	t.Helper()
	var res struct{ Run endedRun }
	c.Post(t, "/api/projects/"+projectID+"/run", nil).WantStatus(t, 202).Decode(t, &res)
	id := res.Run.ID
	deadline := time.Now().Add(60 * time.Second)
	for {
		c.Get(t, "/api/projects/"+projectID+"/runs/"+id).WantStatus(t, 200).Decode(t, &res)
		if res.Run.Status != "starting" && res.Run.Status != "running" {
			return res.Run
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run never ended: %+v", res.Run)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCacheHeldToItsLimit: code that fills ~/.cache past its limit is
// stopped with a word in the console and the cache trimmed; a cache that
// is over when a sandbox starts is trimmed oldest first; links in the
// cache never lead the server anywhere; the server stays healthy.
func TestCacheHeldToItsLimit(t *testing.T) {
	testserver.NeedSandbox(t)
	const limit = 8 << 20
	s := sqlite(t, testserver.WithCacheLimit(limit), testserver.WithDiskCheck(200*time.Millisecond), testserver.WithSandboxIdle(time.Second))
	joe := s.SignUp(t, "joe")
	p := joe.CreateProject(t, "Cache filler")
	base := "/api/projects/" + p.ID
	cache := filepath.Join(s.App.Config.DataDir, "caches", p.ID)

	// Links to host files, which a server that followed them would count
	// or delete.
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-24 * time.Hour)
	os.Chtimes(victim, old, old)
	sh(t, joe, p.ID, "ln -s "+victim+" ~/.cache/victim && ln -s / ~/.cache/root")

	// At most 64 MiB even if nothing stopped it.
	joe.Put(t, base+"/files/ecode.toml", `run = "for i in $(seq 64); do head -c 1048576 /dev/zero > ~/.cache/blob$i; sleep 0.05; done; sleep 30"`+"\n").WantStatus(t, 204)
	if r := runToEnd(t, joe, p.ID); r.Status != "crashed" || !strings.Contains(r.Error, "cache (~/.cache)") || !strings.Contains(r.Error, "over its 8 MiB limit") {
		t.Fatalf("run over the cache limit: %+v", r)
	}
	for deadline := time.Now().Add(5 * time.Second); hostUsage(t, cache) > limit; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the cache holds %d bytes after the stop, over the %d limit", hostUsage(t, cache), limit)
		}
	}

	// A cache over its limit when the sandbox starts (say, the limit was
	// lowered) loses its oldest files first.
	waitNoSandbox(t, s, p.ID)
	blobs, _ := filepath.Glob(filepath.Join(cache, "blob*"))
	for _, b := range blobs {
		os.Remove(b)
	}
	for i, age := range []time.Duration{48 * time.Hour, time.Hour} {
		f := filepath.Join(cache, fmt.Sprintf("host%d", i))
		if err := os.WriteFile(f, make([]byte, 5<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(-age)
		os.Chtimes(f, mt, mt)
	}
	res := sh(t, joe, p.ID, "ls ~/.cache; du -sb ~/.cache | cut -f1")
	if strings.Contains(res.Stdout, "host0\n") || !strings.Contains(res.Stdout, "host1\n") {
		t.Fatalf("start-time trim kept the wrong files: %q", res.Stdout)
	}
	if st, err := os.Stat(victim); err != nil || st.Size() != 1<<20 {
		t.Fatalf("a host file a cache link named was touched: %v", err)
	}
	if _, err := os.Stat("/etc/passwd"); err != nil {
		t.Fatal(err)
	}
	healthy(t, s)
}

// hostUsage is the size of the regular files below dir, links not followed.
func hostUsage(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// waitNoSandbox waits until the project's sandbox is gone.
func waitNoSandbox(t *testing.T, s *testserver.Server, projectID string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.App.Runs.SandboxRunning(projectID) {
		if time.Now().After(deadline) {
			t.Fatal("the sandbox is still running")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// helperEnv names the part a re-executed test binary plays.
const helperEnv = "ECODE_ATTACK_HELPER"

// TestSandboxEndsWithItsServer: a server killed outright (SIGKILL, no
// shutdown) takes its sandboxes with it, and the next server, whatever its
// data dir, removes the control groups the dead one left.
func TestSandboxEndsWithItsServer(t *testing.T) {
	testserver.NeedSandbox(t)
	if os.Geteuid() != 0 {
		t.Skip("a sandbox's processes are told apart by its own host uid, which needs root")
	}
	// The helper's temp folders go in one of ours, removed when we end,
	// and short: sandbox socket paths must fit in 107 bytes.
	tmp, err := os.MkdirTemp("", "ecd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	os.Chmod(tmp, 0o711)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServerThatDies$")
	cmd.Env = append(os.Environ(), helperEnv+"=server-that-dies", "TMPDIR="+tmp)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	var projectID string
	for lines.Scan() {
		if id, ok := strings.CutPrefix(lines.Text(), "sandbox-running "); ok {
			projectID = id
			break
		}
		t.Log("helper: " + lines.Text())
	}
	if projectID == "" {
		t.Fatal("the helper server never reported its running sandbox")
	}
	uid := runtime.SandboxUID(projectID)
	before := processesOf(uid)
	if len(before) < 3 { // bwrap, the agent, the run's sleep
		t.Fatalf("sandbox processes before the kill: %v", before)
	}
	groups := cgroupsOf(before)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	deadline := time.Now().Add(5 * time.Second)
	for left := processesOf(uid); len(left) > 0; left = processesOf(uid) {
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox outlived its server: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The next server, on another data dir, removes what the dead one left
	// in the cgroup tree.
	healthy(t, sqlite(t))
	for _, g := range groups {
		if _, err := os.Stat(g); !os.IsNotExist(err) {
			t.Errorf("the dead server's cgroup %s remains: %v", g, err)
		}
	}
}

// TestHelperServerThatDies is the server TestSandboxEndsWithItsServer
// kills: it starts a run that would sleep for ten minutes and waits.
func TestHelperServerThatDies(t *testing.T) {
	if os.Getenv(helperEnv) != "server-that-dies" {
		t.Skip("run by TestSandboxEndsWithItsServer")
	}
	s := sqlite(t)
	ann := s.SignUp(t, "ann")
	p := ann.CreateProject(t, "Orphan")
	ann.Put(t, "/api/projects/"+p.ID+"/files/ecode.toml", `run = "(setsid sleep 600 &); sleep 600"`+"\n").WantStatus(t, 204)
	var run struct{ Run struct{ ID string } }
	ann.Post(t, "/api/projects/"+p.ID+"/run", nil).WantStatus(t, 202).Decode(t, &run)
	uid := runtime.SandboxUID(p.ID)
	deadline := time.Now().Add(30 * time.Second)
	for countSleeps(uid) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the run's sleeps never started: %s", ann.Get(t, "/api/projects/"+p.ID+"/runs/"+run.Run.ID).Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Println("sandbox-running " + p.ID)
	select {} // until killed
}

// processesOf lists the pids (with their command names) that run as uid.
func processesOf(uid int) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "Uid:" && f[1] == strconv.Itoa(uid) {
				comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
				out = append(out, fmt.Sprintf("%d %s", pid, strings.TrimSpace(string(comm))))
			}
		}
	}
	return out
}

func countSleeps(uid int) int {
	n := 0
	for _, p := range processesOf(uid) {
		if strings.HasSuffix(p, " sleep") {
			n++
		}
	}
	return n
}

// cgroupsOf is the cgroup folders (one per v1 controller, or the v2 one)
// that hold the processes "pid comm".
func cgroupsOf(procs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range procs {
		pid, _, _ := strings.Cut(p, " ")
		b, err := os.ReadFile(filepath.Join("/proc", pid, "cgroup"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			// hierarchy-id:controllers:path
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 || !strings.Contains(parts[2], "/ecode") {
				continue
			}
			dir := filepath.Join("/sys/fs/cgroup", parts[1], parts[2])
			if parts[1] == "" {
				dir = filepath.Join("/sys/fs/cgroup", parts[2])
			}
			if !seen[dir] {
				seen[dir] = true
				out = append(out, dir)
			}
		}
	}
	return out
}
