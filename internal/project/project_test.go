package project_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"

	"ecode/internal/testserver"
)

func TestProjectLifecycle(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		p := alice.CreateProject(t, "My First App!")
		if p.Slug != "my-first-app" || p.URL != "/@alice/my-first-app" || p.Owner != "alice" || p.Visibility != "private" || !p.CanEdit {
			t.Fatalf("created %+v", p)
		}
		// History lives out of the sandbox's reach, not in the project.
		repo, err := git.PlainOpen(filepath.Join(s.App.Config.DataDir, "history", p.ID+".git"))
		if err != nil {
			t.Fatalf("project has no history: %v", err)
		}
		if _, err := os.Lstat(filepath.Join(s.App.Projects.Dir(p.ID), ".git")); !os.IsNotExist(err) {
			t.Fatalf("the project folder holds a .git: %v", err)
		}
		if head, err := repo.Head(); err != nil || head.Name().Short() != "main" {
			t.Fatalf("HEAD = %v, %v; want a first commit on main", head, err)
		}

		alice.Post(t, "/api/projects", map[string]string{"name": "my first app"}).WantError(t, 409, "project_exists")
		other := alice.CreateProject(t, "Other")

		var list struct{ Projects []testserver.Project }
		alice.Get(t, "/api/projects").WantStatus(t, 200).Decode(t, &list)
		if len(list.Projects) != 2 || list.Projects[0].ID != other.ID {
			t.Fatalf("list = %+v, want newest first", list.Projects)
		}

		var got struct{ Project testserver.Project }
		alice.Get(t, "/api/users/alice/projects/my-first-app").WantStatus(t, 200).Decode(t, &got)
		if got.Project.ID != p.ID {
			t.Fatalf("by slug = %+v", got.Project)
		}

		alice.Patch(t, "/api/projects/"+p.ID, map[string]string{"name": "Notes"}).WantStatus(t, 200).Decode(t, &got)
		if got.Project.Slug != "notes" || got.Project.URL != "/@alice/notes" {
			t.Fatalf("renamed = %+v", got.Project)
		}
		alice.Get(t, "/api/users/alice/projects/my-first-app").WantError(t, 404, "not_found")
		alice.Patch(t, "/api/projects/"+p.ID, map[string]string{"name": "Other"}).WantError(t, 409, "project_exists")
		alice.Patch(t, "/api/projects/"+p.ID, map[string]string{"visibility": "secret"}).WantError(t, 400, "invalid_visibility")
		alice.Patch(t, "/api/projects/"+p.ID, map[string]string{"name": strings.Repeat("n", 65)}).WantError(t, 400, "invalid_name")
		alice.Patch(t, "/api/projects/"+p.ID, map[string]string{"name": "!!!"}).WantError(t, 400, "invalid_name")

		alice.Delete(t, "/api/projects/"+p.ID).WantStatus(t, 204)
		alice.Get(t, "/api/projects/"+p.ID).WantError(t, 404, "not_found")
		if _, err := os.Stat(s.App.Projects.Dir(p.ID)); !os.IsNotExist(err) {
			t.Fatalf("files of a deleted project remain: %v", err)
		}
	})
}

func TestCreateRefusesBadInput(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		bob := s.SignUp(t, "bob")
		bob.Post(t, "/api/projects", map[string]string{"name": ""}).WantError(t, 400, "invalid_name")
		bob.Post(t, "/api/projects", map[string]string{"name": "a\nb"}).WantError(t, 400, "invalid_name")
		bob.Post(t, "/api/projects", map[string]string{"name": "x", "template": "nope"}).WantError(t, 400, "unknown_template")
		bob.Post(t, "/api/projects", map[string]string{"name": "x", "visibility": "open"}).WantError(t, 400, "invalid_visibility")
		s.Anonymous().Post(t, "/api/projects", map[string]string{"name": "x"}).WantError(t, 401, "unauthenticated")
		s.Anonymous().Get(t, "/api/projects").WantError(t, 401, "unauthenticated")
		entries, err := os.ReadDir(filepath.Join(s.App.Config.DataDir, "projects"))
		if err != nil || len(entries) != 0 {
			t.Fatalf("refused creates left %d folders behind (%v)", len(entries), err)
		}
		var n int
		if err := s.App.DB.Get(t.Context(), &n, `SELECT COUNT(*) FROM projects`); err != nil || n != 0 {
			t.Fatalf("projects = %d (%v)", n, err)
		}
	})
}

func TestTemplates(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		var out struct {
			Templates []struct{ ID, Name, Description, Language string }
		}
		s.Anonymous().Get(t, "/api/templates").WantStatus(t, 200).Decode(t, &out)
		ids := map[string]bool{}
		for _, tp := range out.Templates {
			if tp.Name == "" || tp.Description == "" || tp.Language == "" {
				t.Errorf("template %+v lacks metadata", tp)
			}
			ids[tp.ID] = true
		}
		if !ids["blank"] || !ids["node"] || !ids["python"] || !ids["html"] || !ids["go"] || !ids["express-api"] || !ids["react-dashboard"] || !ids["nextjs-blog"] {
			t.Fatalf("templates = %v", ids)
		}
		carol := s.SignUp(t, "carol")
		var got struct{ Project testserver.Project }
		carol.Post(t, "/api/projects", map[string]string{"name": "Site", "template": "html"}).WantStatus(t, 201).Decode(t, &got)
		body := carol.Get(t, "/api/projects/"+got.Project.ID+"/files/index.html").WantStatus(t, 200).Body
		if !strings.Contains(string(body), "<!doctype html>") {
			t.Fatalf("index.html = %q", body)
		}
		carol.Get(t, "/api/projects/"+got.Project.ID+"/files/template.json").WantError(t, 404, "not_found")
		// A template's go.mod is stored as go.mod.template and arrives as go.mod.
		carol.Post(t, "/api/projects", map[string]string{"name": "Gopher", "template": "go"}).WantStatus(t, 201).Decode(t, &got)
		if mod := string(carol.Get(t, "/api/projects/"+got.Project.ID+"/files/go.mod").WantStatus(t, 200).Body); !strings.HasPrefix(mod, "module ") {
			t.Fatalf("go.mod = %q", mod)
		}
		carol.Get(t, "/api/projects/"+got.Project.ID+"/files/go.mod.template").WantError(t, 404, "not_found")
	})
}

func TestVisibility(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		owner := s.SignUp(t, "olive")
		stranger := s.SignUp(t, "sam")
		anon := s.Anonymous()
		p := owner.CreateProject(t, "Secret")
		owner.Put(t, "/api/projects/"+p.ID+"/files/a.txt", "owner's").WantStatus(t, 204)

		for _, c := range []*testserver.Client{stranger, anon} {
			c.Get(t, "/api/projects/"+p.ID).WantError(t, 404, "not_found")
			c.Get(t, "/api/users/olive/projects/secret").WantError(t, 404, "not_found")
			c.Get(t, "/api/projects/"+p.ID+"/files/a.txt").WantError(t, 404, "not_found")
			c.Put(t, "/api/projects/"+p.ID+"/files/a.txt", "x").WantError(t, 404, "not_found")
		}
		// A missing project and a private one look the same.
		stranger.Get(t, "/api/projects/nope").WantError(t, 404, "not_found")

		owner.Patch(t, "/api/projects/"+p.ID, map[string]string{"visibility": "public"}).WantStatus(t, 200)
		var got struct{ Project testserver.Project }
		stranger.Get(t, "/api/users/olive/projects/secret").WantStatus(t, 200).Decode(t, &got)
		if got.Project.CanEdit {
			t.Fatal("a stranger may edit a public project")
		}
		if string(anon.Get(t, "/api/projects/"+p.ID+"/files/a.txt").WantStatus(t, 200).Body) != "owner's" {
			t.Fatal("public file unreadable")
		}
		stranger.Put(t, "/api/projects/"+p.ID+"/files/a.txt", "vandal").WantError(t, 403, "forbidden")
		stranger.Delete(t, "/api/projects/"+p.ID+"/files/a.txt").WantError(t, 403, "forbidden")
		stranger.Post(t, "/api/projects/"+p.ID+"/move", map[string]string{"from": "a.txt", "to": "b.txt"}).WantError(t, 403, "forbidden")
		stranger.Patch(t, "/api/projects/"+p.ID, map[string]string{"name": "Mine"}).WantError(t, 403, "forbidden")
		stranger.Delete(t, "/api/projects/"+p.ID).WantError(t, 403, "forbidden")
		anon.Put(t, "/api/projects/"+p.ID+"/files/a.txt", "vandal").WantError(t, 401, "unauthenticated")
		if string(owner.Get(t, "/api/projects/"+p.ID+"/files/a.txt").Body) != "owner's" {
			t.Fatal("a refused write changed the file")
		}
	})
}

func TestFiles(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		dan := s.SignUp(t, "dan")
		p := dan.CreateProject(t, "Files")
		base := "/api/projects/" + p.ID

		// Binary bytes survive byte for byte, parents are created.
		bin := make([]byte, 70000)
		for i := range bin {
			bin[i] = byte(i * 7)
		}
		dan.Put(t, base+"/files/assets/img/logo.bin", bin).WantStatus(t, 204)
		res := dan.Get(t, base+"/files/assets/img/logo.bin").WantStatus(t, 200)
		if string(res.Body) != string(bin) || res.Header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("binary round trip: %d bytes, type %q", len(res.Body), res.Header.Get("Content-Type"))
		}
		if !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatal("file bytes served without a sandbox CSP")
		}
		dan.Put(t, base+"/files/src/index.js", "console.log('héllo')\n").WantStatus(t, 204)
		text := dan.Get(t, base+"/files/src/index.js").WantStatus(t, 200)
		if text.Header.Get("Content-Type") != "text/plain; charset=utf-8" || string(text.Body) != "console.log('héllo')\n" {
			t.Fatalf("text round trip: %q %q", text.Header.Get("Content-Type"), text.Body)
		}
		// Names with spaces and unicode, percent-encoded in the URL.
		dan.Put(t, base+"/files/my%20notes/%C3%BCber.md", "# hi").WantStatus(t, 204)
		if string(dan.Get(t, base+"/files/my%20notes/%C3%BCber.md").WantStatus(t, 200).Body) != "# hi" {
			t.Fatal("encoded path round trip")
		}
		dl := dan.Get(t, base+"/files/src/index.js?download=1").WantStatus(t, 200)
		if !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") {
			t.Fatal("download=1 is not an attachment")
		}

		var tree struct {
			Files []struct {
				Path string
				Size int64
				Dir  bool
			}
			Truncated bool
		}
		dan.Get(t, base+"/files").WantStatus(t, 200).Decode(t, &tree)
		paths := []string{}
		for _, f := range tree.Files {
			paths = append(paths, f.Path)
			if f.Path == "assets/img/logo.bin" && f.Size != int64(len(bin)) {
				t.Errorf("size %d", f.Size)
			}
		}
		want := "assets assets/img assets/img/logo.bin my notes my notes/über.md src src/index.js"
		if strings.Join(paths, " ") != want {
			t.Fatalf("tree = %q\nwant   %q", strings.Join(paths, " "), want)
		}
		var hashed struct {
			Files []struct{ Path, SHA256 string }
		}
		dan.Get(t, base+"/files?hash=sha256").WantStatus(t, 200).Decode(t, &hashed)
		sum := sha256.Sum256(bin)
		for _, f := range hashed.Files {
			file := strings.Contains(f.Path, ".") // no folder here has a dot
			if file == (f.SHA256 == "") || f.Path == "assets/img/logo.bin" && f.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("hash of %s: %q", f.Path, f.SHA256)
			}
		}
		dan.Get(t, base+"/files?hash=md5").WantError(t, 400, "invalid_hash")

		dan.Post(t, base+"/mkdir", map[string]string{"path": "lib/util"}).WantStatus(t, 204)
		dan.Post(t, base+"/mkdir", map[string]string{"path": "lib/util"}).WantError(t, 409, "exists")
		dan.Post(t, base+"/move", map[string]string{"from": "src/index.js", "to": "lib/util/main.js"}).WantStatus(t, 204)
		dan.Get(t, base+"/files/src/index.js").WantError(t, 404, "not_found")
		dan.Get(t, base+"/files/lib/util/main.js").WantStatus(t, 200)
		dan.Post(t, base+"/move", map[string]string{"from": "lib", "to": "lib/inner"}).WantError(t, 400, "invalid_move")
		dan.Post(t, base+"/move", map[string]string{"from": "nope", "to": "x"}).WantError(t, 404, "not_found")
		dan.Post(t, base+"/move", map[string]string{"from": "lib/util/main.js", "to": "assets"}).WantError(t, 409, "exists")
		dan.Post(t, base+"/move", map[string]string{"from": "assets", "to": "static/assets"}).WantStatus(t, 204)
		dan.Get(t, base+"/files/static/assets/img/logo.bin").WantStatus(t, 200)

		dan.Put(t, base+"/files/lib", "x").WantError(t, 409, "is_directory")
		dan.Get(t, base+"/files/lib").WantError(t, 400, "is_directory")
		dan.Put(t, base+"/files/lib/util/main.js/child", "x").WantError(t, 400, "invalid_path")

		dan.Delete(t, base+"/files/static").WantStatus(t, 204)
		dan.Get(t, base+"/files/static/assets/img/logo.bin").WantError(t, 404, "not_found")
		dan.Delete(t, base+"/files/static").WantError(t, 404, "not_found")
	})
}

func TestPathAttacks(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		eve := s.SignUp(t, "eve")
		p := eve.CreateProject(t, "Attack")
		base := "/api/projects/" + p.ID
		dir := s.App.Projects.Dir(p.ID)
		outside := t.TempDir()
		if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("host secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		// Code run in the project could plant links; they must not lead out.
		if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "secret-link")); err != nil {
			t.Fatal(err)
		}

		for _, path := range []string{
			"..%2f..%2fetc%2fpasswd", "a/..%2f..%2fx", "%2fetc%2fpasswd", "a%00b", ".git/config", "a/.git/x",
			"a%5cb", "escape/secret", "escape/new", "%ff",
		} {
			eve.Get(t, base+"/files/"+path).WantError(t, 400, "invalid_path")
			eve.Put(t, base+"/files/"+path, "pwned").WantError(t, 400, "invalid_path")
			eve.Delete(t, base+"/files/"+path).WantError(t, 400, "invalid_path")
		}
		eve.Get(t, base+"/files/secret-link").WantError(t, 400, "invalid_path")
		eve.Post(t, base+"/move", map[string]string{"from": "../x", "to": "y"}).WantError(t, 400, "invalid_path")
		eve.Post(t, base+"/move", map[string]string{"from": "a//b", "to": "y"}).WantError(t, 400, "invalid_path")
		eve.Post(t, base+"/move", map[string]string{"from": "secret-link", "to": "escape/stolen"}).WantError(t, 400, "invalid_path")
		eve.Post(t, base+"/mkdir", map[string]string{"path": "/tmp/x"}).WantError(t, 400, "invalid_path")
		eve.Post(t, base+"/mkdir", map[string]string{"path": "escape/sub"}).WantError(t, 400, "invalid_path")

		// Overwriting a planted link replaces the link, never its target.
		eve.Put(t, base+"/files/secret-link", "mine").WantStatus(t, 204)
		if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "host secret" {
			t.Fatalf("host file changed through a link: %q", b)
		}
		entries, _ := os.ReadDir(outside)
		if len(entries) != 1 {
			t.Fatalf("files appeared outside the project: %v", entries)
		}
		var tree struct{ Files []struct{ Path string } }
		eve.Get(t, base+"/files").WantStatus(t, 200).Decode(t, &tree)
		for _, f := range tree.Files {
			if strings.HasPrefix(f.Path, ".git") || strings.HasPrefix(f.Path, "escape/") {
				t.Errorf("listing shows %q", f.Path)
			}
		}
	})
}

func TestSizeLimits(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		fay := s.SignUp(t, "fay")
		p := fay.CreateProject(t, "Small")
		base := "/api/projects/" + p.ID
		fay.Put(t, base+"/files/a.bin", strings.Repeat("a", 1000)).WantStatus(t, 204)
		fay.Put(t, base+"/files/a.bin", strings.Repeat("b", 1001)).WantError(t, 413, "file_too_large")
		if got := fay.Get(t, base+"/files/a.bin").Body; string(got) != strings.Repeat("a", 1000) {
			t.Fatal("an oversized write changed the file")
		}
		// Chunked bodies (no Content-Length) are cut off too.
		fay.Put(t, base+"/files/b.bin", strings.NewReader(strings.Repeat("c", 5000))).WantError(t, 413, "file_too_large")
		fay.Get(t, base+"/files/b.bin").WantError(t, 404, "not_found")
		fay.Put(t, base+"/files/b.bin", strings.Repeat("b", 1000)).WantStatus(t, 204)
		fay.Put(t, base+"/files/c.bin", strings.Repeat("c", 1000)).WantError(t, 413, "project_too_large")
		// Replacing a file counts only the difference.
		fay.Put(t, base+"/files/a.bin", strings.Repeat("d", 900)).WantStatus(t, 204)
		var tree struct{ Files []struct{ Path string } }
		fay.Get(t, base+"/files").Decode(t, &tree)
		if len(tree.Files) != 2 {
			t.Fatalf("files = %+v; refused writes left temporary files", tree.Files)
		}
	}, testserver.WithLimits(1000, 2500))
}
