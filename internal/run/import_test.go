package run_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"ecode/internal/testserver"
)

// sourceRepo makes a bare git repository with one commit at dir, as a
// server would hold it.
func sourceRepo(t *testing.T, dir string) {
	t.Helper()
	work := t.TempDir()
	sourceWork(t, work)
	if _, err := git.PlainClone(dir, true, &git.CloneOptions{URL: work}); err != nil {
		t.Fatal(err)
	}
}

func sourceWork(t *testing.T, dir string) {
	t.Helper()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("# imported\n"), 0o644)
	wt, _ := repo.Worktree()
	wt.Add("README.md")
	if _, err := wt.Commit("first commit upstream", &git.CommitOptions{Author: &object.Signature{Name: "up", Email: "up@example.com", When: time.Now()}}); err != nil {
		t.Fatal(err)
	}
}

// wantImported checks a project holds sourceRepo's tree and history.
func wantImported(t *testing.T, c *testserver.Client, projectID string) {
	t.Helper()
	if got := string(c.Get(t, "/api/projects/"+projectID+"/files/README.md").WantStatus(t, 200).Body); got != "# imported\n" {
		t.Fatalf("README.md = %q", got)
	}
	var hist struct{ Checkpoints []struct{ Message string } }
	c.Get(t, "/api/projects/"+projectID+"/history").WantStatus(t, 200).Decode(t, &hist)
	if len(hist.Checkpoints) != 1 || hist.Checkpoints[0].Message != "first commit upstream" {
		t.Fatalf("history = %+v", hist.Checkpoints)
	}
}

func TestGitImport(t *testing.T) {
	testserver.NeedSandbox(t)
	allowed := t.TempDir()
	src := filepath.Join(allowed, "demo-repo.git")
	sourceRepo(t, src)
	elsewhere := filepath.Join(t.TempDir(), "other")
	sourceRepo(t, elsewhere)
	hostSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer hostSrv.Close()
	port := hostSrv.Listener.Addr().(*net.TCPAddr).Port

	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ann := s.SignUp(t, "ann")
		var out struct{ Project testserver.Project }
		ann.Post(t, "/api/projects", map[string]string{"gitUrl": "file://" + src}).WantStatus(t, 201).Decode(t, &out)
		p := out.Project
		if p.Name != "demo-repo" {
			t.Fatalf("imported project %+v", p)
		}
		wantImported(t, ann, p.ID)

		for _, tc := range []struct{ url, code string }{
			{"file://" + elsewhere, "address_refused"},
			{"https://127.0.0.1:" + strconv.Itoa(port) + "/x.git", "address_refused"},
			{"http://169.254.169.254/latest.git", "address_refused"},
			{"https://github.invalid/owner/repo.git", "repo_unreachable"},
			// A public host with no such repository: cloned from inside the sandbox, through the proxy.
			{"https://deb.debian.org/no/such-repo.git", ""},
			{"ssh://git@github.com/owner/repo.git", "no_ssh_key"},
			{"git@github.com:owner/repo.git", "no_ssh_key"},
			{"not a url", "invalid_git_url"},
		} {
			res := ann.Post(t, "/api/projects", map[string]string{"gitUrl": tc.url, "name": "Nope"})
			if tc.code != "" {
				res.WantError(t, 400, tc.code)
			} else if res.StatusCode != 400 || !strings.Contains(string(res.Body), `"code":"repo_`) && !strings.Contains(string(res.Body), `"code":"clone_failed"`) {
				t.Errorf("%s: %d %s", tc.url, res.StatusCode, res.Body)
			}
		}
		// Nothing half-made is left: one project, one folder.
		var list struct{ Projects []testserver.Project }
		ann.Get(t, "/api/projects").Decode(t, &list)
		entries, _ := os.ReadDir(filepath.Join(s.App.Config.DataDir, "projects"))
		if len(list.Projects) != 1 || len(entries) != 1 {
			t.Fatalf("after refused imports: %d projects, %d folders", len(list.Projects), len(entries))
		}
		ann.Post(t, "/api/projects", map[string]string{"gitUrl": "file://" + src}).WantError(t, 409, "project_exists")
	}, testserver.WithGitImportRoots(allowed))
}
