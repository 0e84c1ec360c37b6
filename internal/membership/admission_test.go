package membership_test

import (
	"slices"
	"strings"
	"testing"

	"ecode/internal/testserver"
)

// Both kinds admit the same way: a team's allowlist is asked before
// anything of its roster, or of its projects' rosters, is read or
// written. From a refused address nobody is added and no link is opened
// or accepted; from an allowed one the link works.
func TestInviteAsksAllowlistFirst(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		amy := s.SignUp(t, "amy")
		amy.Post(t, "/api/teams", map[string]string{"name": "fort"}).WantStatus(t, 201)
		var p struct{ Project testserver.Project }
		amy.Post(t, "/api/projects", map[string]string{"name": "Keep", "owner": "fort"}).WantStatus(t, 201).Decode(t, &p)
		project := "/api/projects/" + p.Project.ID
		kinds := []struct {
			name, place, role, links string // links: what the holders' routes start with
		}{
			{"project", project, "editor", "/api/invites/"},
			{"team", "/api/teams/fort", "member", "/api/team-invites/"},
		}
		tokens := map[string]string{}
		for _, k := range kinds {
			var out struct{ Invite struct{ URL string } }
			amy.Post(t, k.place+"/invites", map[string]any{"role": k.role, "expiresInHours": 1}).WantStatus(t, 201).Decode(t, &out)
			tokens[k.name] = out.Invite.URL[strings.LastIndex(out.Invite.URL, "/")+1:]
		}
		amy.Put(t, "/api/teams/fort/allowlist", map[string]any{"allowlist": []string{"127.0.0.1", "127.0.0.2"}}).WantStatus(t, 200)

		joe, ben := s.SignUp(t, "joe"), s.SignUp(t, "ben")
		for _, k := range kinds {
			t.Run(k.name, func(t *testing.T) {
				token := tokens[k.name]
				joe.From("127.0.0.4").Get(t, k.links+token).WantError(t, 403, "ip_not_allowed")
				joe.From("127.0.0.4").Post(t, k.links+token+"/accept", nil).WantError(t, 403, "ip_not_allowed")
				amy.From("127.0.0.4").Post(t, k.place+"/members", map[string]string{"username": "ben", "role": k.role}).WantError(t, 403, "ip_not_allowed")
				var members struct{ Members []struct{ Username string } }
				amy.Get(t, k.place+"/members").WantStatus(t, 200).Decode(t, &members)
				for _, m := range members.Members {
					if m.Username == "joe" || m.Username == "ben" {
						t.Fatalf("%s joined from an address the allowlist refuses", m.Username)
					}
				}
				joe.From("127.0.0.2").Get(t, k.links+token).WantStatus(t, 200)
				joe.From("127.0.0.2").Post(t, k.links+token+"/accept", nil).WantStatus(t, 200)
				joe.From("127.0.0.2").Put(t, project+"/files/joe.txt", "hi").WantStatus(t, 204)
				var after struct {
					Members []struct{ Username, Role string }
				}
				amy.Get(t, k.place+"/members").WantStatus(t, 200).Decode(t, &after)
				if !slices.ContainsFunc(after.Members, func(m struct{ Username, Role string }) bool { return m.Username == "joe" && m.Role == k.role }) {
					t.Fatalf("joe is not in the roster as %s: %+v", k.role, after.Members)
				}
			})
		}
		ben.From("127.0.0.2").Get(t, project).WantError(t, 404, "not_found")
	})
}
