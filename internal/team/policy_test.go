package team_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"ecode/internal/testserver"
)

// previewFrom asks for project slug of owner's preview as a browser would,
// by its Host header.
func previewFrom(t *testing.T, s *testserver.Server, owner, slug string) (int, string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	req, _ := http.NewRequest("GET", s.URL+"/", nil)
	req.Host = slug + "--" + owner + ".localhost:" + port
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestAllowlist: the test server listens on 127.0.0.1, and clients
// connect from loopback aliases (127.0.0.2, ...) to be other networks.
func TestAllowlist(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		amy := s.SignUp(t, "amy") // from 127.0.0.1
		amy.Post(t, "/api/teams", map[string]string{"name": "fort"}).WantStatus(t, 201)
		p := createIn(t, amy, "fort", "Keep")
		files := "/api/projects/" + p.ID + "/files/a.txt"
		amy.Put(t, files, "inside").WantStatus(t, 204)
		amy.Patch(t, "/api/projects/"+p.ID, map[string]string{"visibility": "public"}).WantStatus(t, 200)
		own := amy.CreateProject(t, "Own")

		amy.Put(t, "/api/teams/fort/allowlist", map[string]any{"allowlist": []string{"10.0.0.0/33"}}).WantError(t, 400, "invalid_cidr")
		amy.Put(t, "/api/teams/fort/allowlist", map[string]any{"allowlist": []string{"example.com"}}).WantError(t, 400, "invalid_cidr")
		// A list that leaves out the caller's own address needs a confirmation.
		list := []string{"127.0.0.2", " 2001:db8::1/32 ", "::ffff:127.0.0.3", "", "127.0.0.2/32"}
		res := amy.Put(t, "/api/teams/fort/allowlist", map[string]any{"allowlist": list}).WantError(t, 409, "would_lock_out")
		if !strings.Contains(string(res.Body), "127.0.0.1") {
			t.Fatalf("the warning does not name the address: %s", res.Body)
		}
		var saved struct {
			Allowlist []string
			YourIP    string
		}
		amy.Put(t, "/api/teams/fort/allowlist", map[string]any{"allowlist": list, "confirm": true}).WantStatus(t, 200).Decode(t, &saved)
		if !slices.Equal(saved.Allowlist, []string{"127.0.0.2/32", "2001:db8::/32", "127.0.0.3/32"}) || saved.YourIP != "127.0.0.1" {
			t.Fatalf("saved %+v", saved)
		}

		// From elsewhere: the team, its projects, their pages, sockets and
		// previews are refused, even though the project is public.
		anon := s.Anonymous()
		for _, c := range []*testserver.Client{amy, anon, amy.From("127.0.0.4")} {
			c.Get(t, files).WantError(t, 403, "ip_not_allowed")
			c.Get(t, "/api/projects/"+p.ID+"/ws").WantError(t, 403, "ip_not_allowed")
			c.Get(t, "/api/users/fort/projects/keep").WantError(t, 403, "ip_not_allowed")
		}
		for _, c := range []*testserver.Client{amy, amy.From("127.0.0.4")} {
			c.Get(t, "/api/teams/fort/members").WantError(t, 403, "ip_not_allowed")
			c.Post(t, "/api/projects", map[string]string{"name": "More", "owner": "fort"}).WantError(t, 403, "ip_not_allowed")
		}
		amy.Get(t, "/@fort/keep").WantStatus(t, 403)
		amy.Get(t, "/@fort").WantStatus(t, 403)
		if code, body := previewFrom(t, s, "fort", "keep"); code != 403 || !strings.Contains(body, "isn&#39;t allowed") || !strings.Contains(body, "127.0.0.1") {
			t.Fatalf("preview: %d %s", code, body)
		}
		// What is not the team's is not affected.
		amy.Get(t, "/api/projects/"+own.ID).WantStatus(t, 200)
		amy.Get(t, "/api/projects").WantStatus(t, 200)

		// From the listed networks, all is as before.
		inside := amy.From("127.0.0.2")
		if got := string(inside.Get(t, files).WantStatus(t, 200).Body); got != "inside" {
			t.Fatalf("from 127.0.0.2: %q", got)
		}
		inside.Get(t, "/@fort/keep").WantStatus(t, 200)
		amy.From("127.0.0.3").Get(t, "/api/teams/fort").WantStatus(t, 200)
		anon.From("127.0.0.2").Get(t, files).WantStatus(t, 200)

		// An admin on the inside opens it up again.
		inside.Put(t, "/api/teams/fort/allowlist", map[string]any{"allowlist": []string{}}).WantStatus(t, 200)
		amy.Get(t, files).WantStatus(t, 200)
	})
}

// With a trusted proxy in front, the address that counts is the one the
// proxy forwards, and only when it comes from the proxy.
func TestAllowlistBehindProxy(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		bo := s.SignUp(t, "bob")
		bo.Post(t, "/api/teams", map[string]string{"name": "bastion"}).WantStatus(t, 201)
		p := createIn(t, bo, "bastion", "Gate")
		files := "/api/projects/" + p.ID + "/files"

		forwarded := func(c *testserver.Client, ip string) *testserver.Client {
			fc := *c
			fc.Header = http.Header{"X-Forwarded-For": {ip}}
			return &fc
		}
		office := forwarded(bo, "198.51.100.7") // through the proxy at 127.0.0.1
		office.Put(t, "/api/teams/bastion/allowlist", map[string]any{"allowlist": []string{"198.51.100.0/24"}}).WantStatus(t, 200)
		office.Get(t, files).WantStatus(t, 200)
		forwarded(bo, "203.0.113.9").Get(t, files).WantError(t, 403, "ip_not_allowed")
		bo.Get(t, files).WantError(t, 403, "ip_not_allowed") // the proxy's own address
		// Not the proxy: its X-Forwarded-For is nobody's word.
		forwarded(bo, "198.51.100.7").From("127.0.0.2").Get(t, files).WantError(t, 403, "ip_not_allowed")
	}, testserver.WithTrustedProxies("127.0.0.1/32"))
}

func TestTeamAuditView(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ann := s.SignUp(t, "ann") // the platform's administrator, too
		ann.Post(t, "/api/teams", map[string]string{"name": "ledger"}).WantStatus(t, 201)
		ann.Post(t, "/api/teams", map[string]string{"name": "other"}).WantStatus(t, 201)
		ben := s.SignUp(t, "ben")
		ann.Post(t, "/api/teams/ledger/members", map[string]string{"username": "ben", "role": "member"}).WantStatus(t, 201)
		ann.Put(t, "/api/teams/ledger/secrets/TOKEN", map[string]string{"value": "t0k3n-value"}).WantStatus(t, 204)
		ann.Get(t, "/api/teams/ledger/secrets/TOKEN").WantStatus(t, 200)
		p := createIn(t, ben, "ledger", "Books")
		ann.Patch(t, "/api/projects/"+p.ID, map[string]string{"visibility": "public"}).WantStatus(t, 200)
		ann.Post(t, "/api/teams/other/members", map[string]string{"username": "ben", "role": "viewer"}).WantStatus(t, 201)

		type entry struct{ Actor, Action, Target, IP string }
		search := func(query string) []string {
			t.Helper()
			var out struct{ Entries []entry }
			ann.Get(t, "/api/teams/ledger/audit"+query).WantStatus(t, 200).Decode(t, &out)
			var actions []string
			for _, e := range out.Entries {
				if e.IP != "127.0.0.1" || e.Actor == "" {
					t.Fatalf("entry %+v", e)
				}
				actions = append(actions, e.Action)
			}
			return actions
		}
		if got := strings.Join(search(""), " "); got != "project.visibility secret.reveal secret.set team.member.add team.create" {
			t.Fatalf("the team's log: %s", got)
		}
		if got := strings.Join(search("?action=secret"), " "); got != "secret.reveal secret.set" {
			t.Fatalf("action=secret: %s", got)
		}
		if got := search("?actor=ben&action=team"); len(got) != 0 {
			t.Fatalf("ben's team actions: %v", got)
		}
		if got := search("?actor=nobody"); len(got) != 0 {
			t.Fatalf("nobody's: %v", got)
		}
		if got := search("?until=1"); len(got) != 0 {
			t.Fatalf("until=1: %v", got)
		}

		csv := ann.Get(t, "/api/teams/ledger/audit?format=csv&action=secret").WantStatus(t, 200)
		lines := strings.Split(strings.TrimSpace(string(csv.Body)), "\n")
		if csv.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(lines) != 3 || !strings.HasPrefix(lines[0], "seq,at,actor_id") {
			t.Fatalf("csv: %q", csv.Body)
		}
		jsonl := ann.Get(t, "/api/teams/ledger/audit?format=jsonl").WantStatus(t, 200)
		for _, line := range strings.Split(strings.TrimSpace(string(jsonl.Body)), "\n") {
			var e entry
			if err := json.Unmarshal([]byte(line), &e); err != nil || e.Action == "" {
				t.Fatalf("jsonl line %q: %v", line, err)
			}
		}
		ben.Get(t, "/api/teams/ledger/audit").WantError(t, 403, "forbidden")
		if strings.Contains(string(jsonl.Body), "t0k3n-value") {
			t.Fatal("the log holds a secret's value")
		}

		// Team entries are part of the one chain: moving one to another
		// team's view breaks it.
		var verify struct{ Intact bool }
		ann.Post(t, "/api/admin/audit/verify", nil).WantStatus(t, 200).Decode(t, &verify)
		if !verify.Intact {
			t.Fatal("the chain is broken before any tampering")
		}
		if _, err := s.App.DB.Exec(t.Context(), `UPDATE audit_log SET team = '' WHERE action = 'secret.reveal'`); err != nil {
			t.Fatal(err)
		}
		ann.Post(t, "/api/admin/audit/verify", nil).WantStatus(t, 200).Decode(t, &verify)
		if verify.Intact {
			t.Fatal("verify missed an entry moved out of its team")
		}
	})
}

// Deleting an account: a team it alone is in goes with it; a team it
// alone owns, with others in it, stops the deletion.
func TestAccountDeletionAndTeams(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		cy := s.SignUp(t, "cyd")
		cy.Post(t, "/api/teams", map[string]string{"name": "solo"}).WantStatus(t, 201)
		solo := createIn(t, cy, "solo", "Alone")
		cy.Post(t, "/api/teams", map[string]string{"name": "duo"}).WantStatus(t, 201)
		dee := s.SignUp(t, "dee")
		cy.Post(t, "/api/teams/duo/members", map[string]string{"username": "dee", "role": "member"}).WantStatus(t, 201)
		bye := map[string]string{"confirm": "cyd", "password": "password-cyd"}
		cy.Do(t, "DELETE", "/api/auth/me", bye).WantError(t, 409, "sole_team_owner")
		cy.Get(t, "/api/projects/"+solo.ID).WantStatus(t, 200) // nothing was lost

		cy.Patch(t, "/api/teams/duo/members/"+dee.User.ID, map[string]string{"role": "owner"}).WantStatus(t, 200)
		cy.Do(t, "DELETE", "/api/auth/me", bye).WantStatus(t, 204)
		var teams struct{ Teams []teamJSON }
		dee.Get(t, "/api/teams").Decode(t, &teams)
		if len(teams.Teams) != 1 || teams.Teams[0].Name != "duo" || teams.Teams[0].Members != 1 {
			t.Fatalf("dee's teams = %+v", teams.Teams)
		}
		dee.Post(t, "/api/teams", map[string]string{"name": "solo"}).WantStatus(t, 201) // the name went with its team
	})
}
