package membership_test

import (
	"strings"
	"testing"

	"ecode/internal/testserver"
)

func TestTeamInviteLinks(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ola := s.SignUp(t, "olaf")
		ola.Post(t, "/api/teams", map[string]string{"name": "linkers"}).WantStatus(t, 201)
		ola.Post(t, "/api/teams/linkers/invites", map[string]any{"role": "owner", "expiresInHours": 1}).WantError(t, 400, "invalid_role")
		ola.Post(t, "/api/teams/linkers/invites", map[string]any{"role": "member", "expiresInHours": 0}).WantError(t, 400, "invalid_expiry")
		var out struct{ Invite struct{ ID, URL string } }
		ola.Post(t, "/api/teams/linkers/invites", map[string]any{"role": "viewer", "expiresInHours": 24}).WantStatus(t, 201).Decode(t, &out)
		token, ok := strings.CutPrefix(out.Invite.URL, "/team-invite/ecteam_")
		if !ok {
			t.Fatalf("invite = %+v", out.Invite)
		}
		token = "ecteam_" + token

		jo := s.SignUp(t, "joe")
		s.Anonymous().Get(t, "/api/team-invites/"+token).WantStatus(t, 401)
		var info struct {
			Invite struct {
				Team      struct{ Name string }
				Role      string
				InvitedBy string
			}
		}
		jo.Get(t, "/api/team-invites/"+token).WantStatus(t, 200).Decode(t, &info)
		if info.Invite.Team.Name != "linkers" || info.Invite.Role != "viewer" || info.Invite.InvitedBy != "olaf" {
			t.Fatalf("invite info = %+v", info.Invite)
		}
		var joined struct{ Team struct{ Role string } }
		jo.Post(t, "/api/team-invites/"+token+"/accept", nil).WantStatus(t, 200).Decode(t, &joined)
		if joined.Team.Role != "viewer" {
			t.Fatalf("joined as %+v", joined.Team)
		}
		// A link with a stronger role raises it; a weaker one keeps it.
		var admin struct{ Invite struct{ URL string } }
		ola.Post(t, "/api/teams/linkers/invites", map[string]any{"role": "admin", "expiresInHours": 1}).WantStatus(t, 201).Decode(t, &admin)
		jo.Post(t, "/api/team-invites/"+strings.TrimPrefix(admin.Invite.URL, "/team-invite/")+"/accept", nil).WantStatus(t, 200).Decode(t, &joined)
		jo.Post(t, "/api/team-invites/"+token+"/accept", nil).WantStatus(t, 200).Decode(t, &joined)
		if joined.Team.Role != "admin" {
			t.Fatalf("after both links: %+v", joined.Team)
		}

		var members struct {
			Members []struct{ Username, Role string }
			Invites []struct{ ID string }
		}
		jo.Get(t, "/api/teams/linkers/members").WantStatus(t, 200).Decode(t, &members)
		if len(members.Members) != 2 || members.Members[0].Username != "olaf" || members.Members[0].Role != "owner" || len(members.Invites) != 2 {
			t.Fatalf("members = %+v", members)
		}
		ola.Delete(t, "/api/teams/linkers/invites/"+out.Invite.ID).WantStatus(t, 204)
		jo.Get(t, "/api/team-invites/"+token).WantError(t, 404, "invite_not_found")
		jo.Get(t, "/api/team-invites/ecinv_abc").WantError(t, 404, "invite_not_found")

		// Expired links say so.
		if _, err := s.App.DB.Exec(t.Context(), `UPDATE team_invites SET expires_at = 1`); err != nil {
			t.Fatal(err)
		}
		jo.Get(t, "/api/team-invites/"+strings.TrimPrefix(admin.Invite.URL, "/team-invite/")).WantError(t, 410, "invite_expired")
	})
}
