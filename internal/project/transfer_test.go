package project_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"sort"
	"strings"
	"testing"

	"ecode/internal/testserver"
)

// multipartBody builds an upload: files maps relative paths to contents.
func multipartBody(t *testing.T, dir string, files [][2]string) (string, *bytes.Buffer) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if dir != "" {
		if err := mw.WriteField("dir", dir); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename=%q`, f[0]))
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f[1])
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func upload(t *testing.T, c *testserver.Client, projectID, dir string, files [][2]string) *testserver.Response {
	ctype, body := multipartBody(t, dir, files)
	c.Header.Set("Content-Type", ctype)
	defer c.Header.Del("Content-Type")
	return c.Post(t, "/api/projects/"+projectID+"/upload", body)
}

func TestUpload(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		gus := s.SignUp(t, "gus")
		p := gus.CreateProject(t, "Uploads")
		var out struct{ Files []struct{ Path string } }
		upload(t, gus, p.ID, "site", [][2]string{
			{"index.html", "<h1>hi</h1>"},
			{"css/main.css", "body{}"},
			{"img/logo.png", "\x89PNG\r\n\x1a\n\x00\x01"},
		}).WantStatus(t, 200).Decode(t, &out)
		if len(out.Files) != 3 || out.Files[1].Path != "site/css/main.css" {
			t.Fatalf("uploaded %+v", out.Files)
		}
		if got := gus.Get(t, "/api/projects/"+p.ID+"/files/site/css/main.css").WantStatus(t, 200).Body; string(got) != "body{}" {
			t.Fatalf("main.css = %q", got)
		}
		if got := gus.Get(t, "/api/projects/"+p.ID+"/files/site/img/logo.png").Body; string(got) != "\x89PNG\r\n\x1a\n\x00\x01" {
			t.Fatalf("binary upload = %q", got)
		}
		upload(t, gus, p.ID, "", [][2]string{{"ok.txt", "fine"}, {"../evil.txt", "x"}}).WantError(t, 400, "invalid_path")
		upload(t, gus, p.ID, "../up", [][2]string{{"a.txt", "x"}}).WantError(t, 400, "invalid_path")
		gus.Get(t, "/api/projects/"+p.ID+"/files/ok.txt").WantError(t, 404, "not_found")
		gus.Post(t, "/api/projects/"+p.ID+"/upload", "not multipart").WantError(t, 400, "invalid_upload")
	})
}

func TestUploadIsAllOrNothing(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		hal := s.SignUp(t, "hal")
		p := hal.CreateProject(t, "Quota")
		upload(t, hal, p.ID, "", [][2]string{
			{"one.txt", strings.Repeat("1", 800)},
			{"two.txt", strings.Repeat("2", 800)},
			{"three.txt", strings.Repeat("3", 800)},
		}).WantError(t, 413, "project_too_large")
		var tree struct{ Files []struct{ Path string } }
		hal.Get(t, "/api/projects/"+p.ID+"/files").Decode(t, &tree)
		if len(tree.Files) != 0 {
			t.Fatalf("a refused upload left %+v", tree.Files)
		}
		upload(t, hal, p.ID, "", [][2]string{{"one.txt", "1"}, {"two.txt", "2"}}).WantStatus(t, 200)
	}, testserver.WithLimits(1000, 2000))
}

func TestZip(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ida := s.SignUp(t, "ida")
		p := ida.CreateProject(t, "Zip Me")
		ida.Put(t, "/api/projects/"+p.ID+"/files/src/a.js", "a").WantStatus(t, 204)
		ida.Put(t, "/api/projects/"+p.ID+"/files/node_modules/dep/index.js", "dep").WantStatus(t, 204)
		ida.Put(t, "/api/projects/"+p.ID+"/files/README.md", "# zip").WantStatus(t, 204)
		res := ida.Get(t, "/api/projects/"+p.ID+"/zip").WantStatus(t, 200)
		if !strings.Contains(res.Header.Get("Content-Disposition"), `filename=zip-me.zip`) {
			t.Fatalf("disposition %q", res.Header.Get("Content-Disposition"))
		}
		zr, err := zip.NewReader(bytes.NewReader(res.Body), int64(len(res.Body)))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
			if f.Name == "README.md" {
				rc, _ := f.Open()
				b, _ := io.ReadAll(rc)
				rc.Close()
				if string(b) != "# zip" {
					t.Fatalf("README.md in zip = %q", b)
				}
			}
		}
		sort.Strings(names)
		if strings.Join(names, " ") != "README.md src/ src/a.js" {
			t.Fatalf("zip holds %v (no .git, no node_modules expected)", names)
		}
	})
}

func TestSearch(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		jo := s.SignUp(t, "joe")
		p := jo.CreateProject(t, "Find")
		base := "/api/projects/" + p.ID
		jo.Put(t, base+"/files/a.js", "const x = 1;\nfunction Needle() {}\n").WantStatus(t, 204)
		jo.Put(t, base+"/files/dir/b.py", "# the needle is here\n").WantStatus(t, 204)
		jo.Put(t, base+"/files/bin.dat", "needle\x00binary").WantStatus(t, 204)
		jo.Put(t, base+"/files/node_modules/x.js", "needle").WantStatus(t, 204)
		var out struct {
			Matches []struct {
				Path         string
				Line, Column int
				Text         string
			}
		}
		jo.Get(t, base+"/search?q=needle").WantStatus(t, 200).Decode(t, &out)
		if len(out.Matches) != 2 || out.Matches[0].Path != "a.js" || out.Matches[0].Line != 2 || out.Matches[0].Column != 10 ||
			out.Matches[1].Path != "dir/b.py" || out.Matches[1].Text != "# the needle is here" {
			t.Fatalf("matches = %+v", out.Matches)
		}
		jo.Get(t, base+"/search?q=needle&case=1").WantStatus(t, 200).Decode(t, &out)
		if len(out.Matches) != 1 || out.Matches[0].Path != "dir/b.py" {
			t.Fatalf("case-sensitive matches = %+v", out.Matches)
		}
		jo.Get(t, base+"/search?q=").WantError(t, 400, "invalid_query")
	})
}
