package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"ecode/internal/errs"
)

func TestNotBuiltPage(t *testing.T) {
	h := New(fstest.MapFS{"dist/.gitkeep": {}}, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/@a/b", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "npm run build") {
		t.Fatalf("without a UI build: %d %q", rec.Code, rec.Body.String())
	}
}

func TestAssetsAndFallback(t *testing.T) {
	dist := fstest.MapFS{
		"dist/app/index.html":       {Data: []byte("<div id=root></div>")},
		"dist/app/assets/app-1.js":  {Data: []byte("console.log(1)")},
		"dist/app/favicon.svg":      {Data: []byte("<svg/>")},
		"dist/app/assets/style.css": {Data: []byte("body{}")},
	}
	visible := func(_ *http.Request, owner, slug string) error {
		switch {
		case owner == "ann" && slug == "blog", owner == "acme" && slug == "":
			return nil
		case owner == "acme":
			return errs.Forbidden("ip_not_allowed", "Not from here.")
		}
		return errs.NotFound("not_found", "No such project.")
	}
	h := New(dist, visible)
	for path, want := range map[string]struct {
		code  int
		body  string
		cache string
	}{
		"/assets/app-1.js":           {200, "console.log(1)", "immutable"},
		"/favicon.svg":               {200, "<svg/>", ""},
		"/":                          {200, "<div id=root>", "no-cache"},
		"/login":                     {200, "<div id=root>", "no-cache"},
		"/@ann/blog":                 {200, "<div id=root>", "no-cache"},
		"/@ann/blog/x.js":            {200, "<div id=root>", "no-cache"},
		"/@ann/other":                {404, "<div id=root>", "no-cache"},
		"/@ann":                      {404, "<div id=root>", "no-cache"},
		"/@acme":                     {200, "<div id=root>", "no-cache"},
		"/@acme/site":                {403, "<div id=root>", "no-cache"},
		"/team-invite/x":             {200, "<div id=root>", "no-cache"},
		"/courses/c1/assignments/a1": {200, "<div id=root>", "no-cache"},
		"/lti/deep-link/t":           {200, "<div id=root>", "no-cache"},
		"/no/such/page":              {404, "<div id=root>", "no-cache"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want.code || !strings.Contains(rec.Body.String(), want.body) || !strings.Contains(rec.Header().Get("Cache-Control"), want.cache) {
			t.Errorf("GET %s: %d %q cache %q", path, rec.Code, rec.Body.String(), rec.Header().Get("Cache-Control"))
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", rec.Code)
	}
}
