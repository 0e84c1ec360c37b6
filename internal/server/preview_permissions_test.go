package server_test

import (
	"net/http"
	"net/url"
	"testing"

	"ecode/internal/testserver"
)

// TestPreviewPermissions opens private previews, a person's project and a
// team's, as each role, each visitor holding a pass the platform gave
// them. The preview asks access on every request as every route does: a
// pass opens the app (here 502, nothing runs) exactly while its holder may
// read the project, and sends them back for a new pass (302) as soon as
// they may not.
func TestPreviewPermissions(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		own := s.SignUp(t, "owen")
		vera, eddy, mia, tess := s.SignUp(t, "vera"), s.SignUp(t, "eddy"), s.SignUp(t, "mia"), s.SignUp(t, "tess")
		shown := own.CreateProject(t, "Shown")
		own.Post(t, "/api/projects/"+shown.ID+"/members", map[string]string{"username": "vera", "role": "viewer"}).WantStatus(t, 201)
		own.Post(t, "/api/projects/"+shown.ID+"/members", map[string]string{"username": "eddy", "role": "editor"}).WantStatus(t, 201)
		own.Post(t, "/api/teams", map[string]string{"name": "crew"}).WantStatus(t, 201)
		own.Post(t, "/api/teams/crew/members", map[string]string{"username": "mia", "role": "member"}).WantStatus(t, 201)
		own.Post(t, "/api/teams/crew/members", map[string]string{"username": "tess", "role": "viewer"}).WantStatus(t, 201)
		own.Post(t, "/api/projects", map[string]string{"name": "Team Shown", "owner": "crew"}).WantStatus(t, 201)

		mine, team := "shown--owen.localhost", "team-shown--crew.localhost"
		type visit struct{ who, host string }
		visitors := map[visit]*testserver.Client{
			{"owner", mine}: own, {"viewer", mine}: vera, {"editor", mine}: eddy,
			{"team owner", team}: own, {"team member", team}: mia, {"team viewer", team}: tess,
		}
		passes := map[visit]*http.Cookie{}
		for v, c := range visitors {
			passes[v] = previewPass(t, s, c, v.host)
		}
		// Nobody else gets a pass: the platform answers as for any project it hides.
		stan := s.SignUp(t, "stan")
		for _, host := range []string{mine, team} {
			stan.Get(t, "/api/preview/pass?"+url.Values{"host": {host}}.Encode()).WantError(t, 404, "not_found")
		}

		check := func(when string, v visit, pass *http.Cookie, allowed bool) {
			t.Helper()
			res := previewGet(t, s, v.host, pass)
			if want := map[bool]int{true: http.StatusBadGateway, false: http.StatusFound}[allowed]; res.StatusCode != want {
				t.Errorf("%s: the preview of %s as %s: %d, want %d", when, v.host, v.who, res.StatusCode, want)
			}
		}
		check("without a pass", visit{"anonymous", mine}, nil, false)
		check("without a pass", visit{"anonymous", team}, nil, false)
		for v, pass := range passes {
			check("with a pass", v, pass, true)
		}
		// A pass is for one project: the team member's opens nothing of the owner's own.
		check("another project's pass", visit{"team member", mine}, passes[visit{"team member", team}], false)

		// Rights taken away close the preview at the next request, pass or not.
		own.Delete(t, "/api/projects/"+shown.ID+"/members/"+vera.User.ID).WantStatus(t, 204)
		own.Delete(t, "/api/teams/crew/members/"+tess.User.ID).WantStatus(t, 204)
		for v, pass := range passes {
			check("after viewers were removed", v, pass, v.who != "viewer" && v.who != "team viewer")
		}
	})
}

// previewPass asks the platform for c's pass to the preview at host and
// redeems it there, returning the preview's cookie.
func previewPass(t *testing.T, s *testserver.Server, c *testserver.Client, host string) *http.Cookie {
	t.Helper()
	res := c.DoNoRedirect(t, "GET", "/api/preview/pass?"+url.Values{"host": {host}, "next": {"/"}}.Encode())
	if res.StatusCode != http.StatusFound {
		t.Fatalf("pass for %s as %s: %d %s", host, c.User.Username, res.StatusCode, res.Body)
	}
	to, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	redeemed := previewRequest(t, s, host, to.RequestURI(), nil)
	for _, k := range redeemed.Cookies() {
		if k.Name == "ecode_preview" {
			return k
		}
	}
	t.Fatalf("redeeming the pass for %s set no cookie: %d", host, redeemed.StatusCode)
	return nil
}

// previewGet asks for the preview's front page at host, with pass if any.
func previewGet(t *testing.T, s *testserver.Server, host string, pass *http.Cookie) *http.Response {
	t.Helper()
	return previewRequest(t, s, host, "/", pass)
}

func previewRequest(t *testing.T, s *testserver.Server, host, uri string, pass *http.Cookie) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", s.URL+uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if pass != nil {
		req.AddCookie(pass)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}
