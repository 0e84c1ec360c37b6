package attack_test

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ecode/internal/testserver"
)

// checkpoint is what the history routes answer about one checkpoint.
type checkpoint struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

func history(t *testing.T, c *testserver.Client, projectID string) []checkpoint {
	t.Helper()
	var out struct{ Checkpoints []checkpoint }
	c.Get(t, "/api/projects/"+projectID+"/history").WantStatus(t, 200).Decode(t, &out)
	return out.Checkpoints
}

// zipContents downloads a project as a zip and returns every file's bytes.
func zipContents(t *testing.T, c *testserver.Client, projectID string) map[string]string {
	t.Helper()
	body := c.Get(t, "/api/projects/"+projectID+"/zip").WantStatus(t, 200).Body
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(r)
		r.Close()
		out[f.Name] = b.String()
	}
	return out
}

// swapper turns every file of d/ into a link to the server's master key
// and back, as fast as it can, and now and then swaps d/ itself for a link
// to /etc or to another tenant's project: a copy that lists a name as a
// file and opens it a moment later meets a link.
const swapper = `import os, sys
other = sys.argv[1]
names = ['d/f%d' % i for i in range(2000)]
i = 0
while True:
    i += 1
    for n in names:
        try:
            os.symlink('../../../master.key', n + '.l'); os.rename(n + '.l', n)
        except OSError:
            pass
    for n in names:
        try:
            with open(n + '.t', 'w') as f: f.write('ok')
            os.rename(n + '.t', n)
        except OSError:
            pass
    try:
        os.rename('d', 'd.real'); os.symlink('/etc' if i % 2 else '../' + other, 'd')
        os.remove('d'); os.rename('d.real', 'd')
    except OSError:
        pass
`

// TestForkRace forks a project while its sandbox swaps the names being
// copied for links out of it: no byte from outside may reach the fork.
func TestForkRace(t *testing.T) {
	testserver.NeedSandbox(t)
	s := sqlite(t)
	key, err := os.ReadFile(filepath.Join(s.App.Config.DataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	bob := s.SignUp(t, "bob")
	victim := bob.CreateProject(t, "Victim")
	sh(t, bob, victim.ID, `echo BOB-PRIVATE > passwd && mkdir -p d && for i in $(seq 0 50); do echo BOB-PRIVATE > d/f$i; done`)

	mal := s.SignUp(t, "mallory")
	p := mal.CreateProject(t, "Racer")
	sh(t, mal, p.ID, `mkdir d && python3 -c "
for i in range(2000): open('d/f%d' % i, 'w').write('ok')"`)
	mal.Put(t, "/api/projects/"+p.ID+"/files/swap.py", swapper).WantStatus(t, 204)
	mal.Put(t, "/api/projects/"+p.ID+"/files/ecode.toml", `run = "python3 swap.py `+victim.ID+`"`+"\n").WantStatus(t, 204)
	mal.Post(t, "/api/projects/"+p.ID+"/run", nil).WantStatus(t, 202)
	defer mal.Post(t, "/api/projects/"+p.ID+"/stop", nil)
	time.Sleep(300 * time.Millisecond) // let the swapping start

	deadline := time.Now().Add(6 * time.Second)
	for try := 0; try < 3 || time.Now().Before(deadline); try++ {
		var fork struct{ Project testserver.Project }
		r := mal.Post(t, "/api/projects/"+p.ID+"/fork", map[string]string{"name": "Fork " + string(rune('a'+try%26)) + time.Now().Format("150405.000")})
		if r.StatusCode != 201 {
			continue // a fork may fail while names vanish under it; it must never leak
		}
		r.Decode(t, &fork)
		for name, data := range zipContents(t, mal, fork.Project.ID) {
			if strings.Contains(data, strings.TrimSpace(string(key))) || strings.Contains(data, "BOB-PRIVATE") || strings.Contains(data, "root:x:0:0") {
				t.Fatalf("try %d: the fork holds %s from outside the project: %.60q", try, name, data)
			}
		}
		mal.Delete(t, "/api/projects/"+fork.Project.ID).WantStatus(t, 204)
	}
	healthy(t, s)
}

// TestProjectGitIsNotHistory plants in a project's own .git every trick
// that once steered the platform's history: none may reach the host or
// another tenant's history.
func TestProjectGitIsNotHistory(t *testing.T) {
	testserver.NeedSandbox(t)
	s := sqlite(t)
	bob := s.SignUp(t, "bob")
	victim := bob.CreateProject(t, "Victim")
	bob.Put(t, "/api/projects/"+victim.ID+"/files/private.txt", "BOB-PRIVATE\n").WantStatus(t, 204)
	bob.Post(t, "/api/projects/"+victim.ID+"/checkpoints", map[string]string{"message": "bob's secret plans"}).WantStatus(t, 201)
	bobHistory := history(t, bob, victim.ID)

	mal := s.SignUp(t, "mallory")
	p := mal.CreateProject(t, "Thief")
	mine := history(t, mal, p.ID)
	hostFile := filepath.Join(t.TempDir(), "planted")
	data := s.App.Config.DataDir

	// A .git file naming another tenant's repository, where the history
	// used to live and where it lives now.
	for _, gitdir := range []string{"../" + victim.ID + "/.git", "../../history/" + victim.ID + ".git", data + "/history/" + victim.ID + ".git"} {
		sh(t, mal, p.ID, `rm -rf .git && printf 'gitdir: %s\n' '`+gitdir+`' > .git`)
		for _, c := range history(t, mal, p.ID) {
			if strings.Contains(c.Message, "secret plans") {
				t.Fatalf("gitdir %s: mallory's history shows bob's checkpoint", gitdir)
			}
		}
		mal.Post(t, "/api/projects/"+p.ID+"/restore", map[string]string{"checkpoint": bobHistory[0].ID}).WantError(t, 404, "not_found")
		mal.Put(t, "/api/projects/"+p.ID+"/files/note.txt", gitdir).WantStatus(t, 204)
		mal.Post(t, "/api/projects/"+p.ID+"/checkpoints", map[string]string{"message": "mallory was here " + gitdir}).WantStatus(t, 201)
	}

	// A .git folder whose index is a link to a host path, whose objects are
	// another tenant's, and whose alternates name them.
	sh(t, mal, p.ID, `rm -rf .git && git init -q . && ln -sf `+hostFile+` .git/index &&
		rm -rf .git/objects && ln -s ../../`+victim.ID+`/.git/objects .git/objects`)
	sh(t, mal, p.ID, `printf '%s\n' '../../../history/`+victim.ID+`.git/objects' > .git/objects/info/alternates 2>/dev/null || true`)
	mal.Put(t, "/api/projects/"+p.ID+"/files/note.txt", "changed\n").WantStatus(t, 204)
	mal.Post(t, "/api/projects/"+p.ID+"/checkpoints", map[string]string{"message": "through the index link"}).WantStatus(t, 201)
	if _, err := os.Lstat(hostFile); err == nil {
		t.Fatal("a checkpoint wrote the host file the project's .git/index links to")
	}
	mal.Post(t, "/api/projects/"+p.ID+"/restore", map[string]string{"checkpoint": bobHistory[0].ID}).WantError(t, 404, "not_found")
	mal.Get(t, "/api/projects/"+p.ID+"/files/private.txt").WantError(t, 404, "not_found")

	// Bob's history is as it was; mallory's is her own and still works.
	after := history(t, bob, victim.ID)
	if len(after) != len(bobHistory) || after[0].ID != bobHistory[0].ID {
		t.Fatalf("bob's history changed: %v -> %v", bobHistory, after)
	}
	got := history(t, mal, p.ID)
	if len(got) != len(mine)+4 || got[len(got)-1].ID != mine[len(mine)-1].ID {
		t.Fatalf("mallory's history = %v", got)
	}
	// Her own git in the shell keeps working on her own .git.
	sh(t, mal, p.ID, `rm -rf .git && git init -q . && git -c user.name=m -c user.email=m@x add note.txt && git -c user.name=m -c user.email=m@x commit -qm mine && git log --oneline | grep -q mine`)
	healthy(t, s)
}

// TestRunConfigLinks points ecode.toml at an endless device and at a host
// file: reading the run configuration, even anonymously for a public
// project, must answer at once without either.
func TestRunConfigLinks(t *testing.T) {
	testserver.NeedSandbox(t)
	s := sqlite(t)
	mal := s.SignUp(t, "mallory")
	p := mal.CreateProject(t, "Links")
	mal.Patch(t, "/api/projects/"+p.ID, map[string]string{"visibility": "public"}).WantStatus(t, 200)
	host := filepath.Join(t.TempDir(), "host.toml")
	if err := os.WriteFile(host, []byte("run = \"HOST-VALUE\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/dev/zero", "/dev/urandom", host, "../../master.key"} {
		sh(t, mal, p.ID, "ln -sf "+target+" ecode.toml")
		start := time.Now()
		r := s.Anonymous().Get(t, "/api/projects/"+p.ID+"/run-config")
		if strings.Contains(string(r.Body), "HOST-VALUE") || r.StatusCode != 400 || time.Since(start) > 2*time.Second {
			t.Fatalf("ecode.toml -> %s: %d %s after %s", target, r.StatusCode, r.Body, time.Since(start))
		}
		mal.Post(t, "/api/projects/"+p.ID+"/run", nil).WantError(t, 400, "invalid_path")
	}
	// A config far larger than any real one is refused, not read whole.
	sh(t, mal, p.ID, "rm ecode.toml && head -c 3000000 /dev/zero | tr '\\0' '#' > ecode.toml")
	s.Anonymous().Get(t, "/api/projects/"+p.ID+"/run-config").WantError(t, 413, "file_too_large")
	healthy(t, s)
}

// TestFIFO puts a named pipe where the server reads files: every read
// answers at once.
func TestFIFO(t *testing.T) {
	testserver.NeedSandbox(t)
	s := sqlite(t)
	mal := s.SignUp(t, "mallory")
	p := mal.CreateProject(t, "Pipes")
	sh(t, mal, p.ID, "mkfifo pipe package.json ecode.toml .gitignore && mkdir -p sub && mkfifo sub/inner")
	done := make(chan struct{})
	go func() {
		defer close(done)
		mal.Get(t, "/api/projects/"+p.ID+"/files/pipe").WantError(t, 400, "not_a_file")
		mal.Get(t, "/api/projects/"+p.ID+"/files/sub/inner").WantError(t, 400, "not_a_file")
		mal.Get(t, "/api/projects/"+p.ID+"/run-config").WantError(t, 400, "not_a_file")
		mal.Get(t, "/api/projects/"+p.ID+"/search?q=x").WantStatus(t, 200)
		mal.Get(t, "/api/projects/"+p.ID+"/zip").WantStatus(t, 200)
		mal.Get(t, "/api/projects/"+p.ID+"/files").WantStatus(t, 200)
		mal.Put(t, "/api/projects/"+p.ID+"/files/changed.txt", "x").WantStatus(t, 204)
		mal.Post(t, "/api/projects/"+p.ID+"/checkpoints", map[string]string{"message": "with pipes"}).WantStatus(t, 201)
		mal.Post(t, "/api/projects/"+p.ID+"/fork", map[string]string{"name": "Piped fork"}).WantStatus(t, 201)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("a request hung on a FIFO")
	}
	healthy(t, s)
}
