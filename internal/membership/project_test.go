package membership_test

import (
	"strings"
	"testing"

	"ecode/internal/testserver"
)

func TestCollaborators(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		olly := s.SignUp(t, "olly")
		p := olly.CreateProject(t, "Team Work")
		base := "/api/projects/" + p.ID
		olly.Put(t, base+"/files/a.txt", "v1").WantStatus(t, 204)
		eddy, vera, sam := s.SignUp(t, "eddy"), s.SignUp(t, "vera"), s.SignUp(t, "sam")

		olly.Post(t, base+"/members", map[string]string{"username": "eddy", "role": "editor"}).WantStatus(t, 201)
		olly.Post(t, base+"/members", map[string]string{"username": "Vera", "role": "viewer"}).WantStatus(t, 201)
		olly.Post(t, base+"/members", map[string]string{"username": "vera", "role": "viewer"}).WantError(t, 409, "already_member")
		olly.Post(t, base+"/members", map[string]string{"username": "nobody", "role": "viewer"}).WantError(t, 404, "user_not_found")
		olly.Post(t, base+"/members", map[string]string{"username": "sam", "role": "admin"}).WantError(t, 400, "invalid_role")
		eddy.Post(t, base+"/members", map[string]string{"username": "sam", "role": "editor"}).WantError(t, 403, "forbidden")

		// Editors change files; viewers read them; neither administers.
		eddy.Put(t, base+"/files/a.txt", "v2").WantStatus(t, 204)
		if got := string(vera.Get(t, base+"/files/a.txt").WantStatus(t, 200).Body); got != "v2" {
			t.Fatalf("viewer reads %q", got)
		}
		vera.Put(t, base+"/files/a.txt", "v3").WantError(t, 403, "forbidden")
		vera.Post(t, base+"/exec", map[string]string{"command": "true"}).WantError(t, 403, "forbidden")
		eddy.Delete(t, base).WantError(t, 403, "forbidden")
		eddy.Patch(t, base, map[string]string{"visibility": "public"}).WantError(t, 403, "forbidden")
		sam.Get(t, base+"/files/a.txt").WantError(t, 404, "not_found")
		sam.Get(t, base+"/members").WantError(t, 404, "not_found")

		// Shared projects are on the collaborators' lists, with their role.
		var list struct {
			Projects []struct {
				ID, Role string
				CanEdit  bool
			}
		}
		vera.Get(t, "/api/projects").Decode(t, &list)
		if len(list.Projects) != 1 || list.Projects[0].Role != "viewer" || list.Projects[0].CanEdit {
			t.Fatalf("vera's projects = %+v", list.Projects)
		}

		var members struct {
			Members []struct{ UserID, Username, Role string }
			Invites []struct{ ID string }
		}
		eddy.Get(t, base+"/members").WantStatus(t, 200).Decode(t, &members)
		if len(members.Members) != 3 || members.Members[0].Role != "owner" || members.Members[1].Username != "eddy" {
			t.Fatalf("members = %+v", members.Members)
		}

		// Roles change; access goes.
		olly.Patch(t, base+"/members/"+vera.User.ID, map[string]string{"role": "editor"}).WantStatus(t, 200)
		vera.Put(t, base+"/files/b.txt", "by vera").WantStatus(t, 204)
		olly.Delete(t, base+"/members/"+vera.User.ID).WantStatus(t, 204)
		vera.Get(t, base+"/files/a.txt").WantError(t, 404, "not_found")
		eddy.Delete(t, base+"/members/"+eddy.User.ID).WantStatus(t, 204) // leaving
		eddy.Get(t, base).WantError(t, 404, "not_found")
	})
}

func TestInviteLinks(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ivy := s.SignUp(t, "ivy")
		p := ivy.CreateProject(t, "Linked")
		base := "/api/projects/" + p.ID
		var out struct {
			Invite struct{ ID, URL, Role string }
		}
		ivy.Post(t, base+"/invites", map[string]any{"role": "editor", "expiresInHours": 24}).WantStatus(t, 201).Decode(t, &out)
		if !strings.HasPrefix(out.Invite.URL, "/invite/ecinv_") {
			t.Fatalf("invite = %+v", out.Invite)
		}
		token := strings.TrimPrefix(out.Invite.URL, "/invite/")
		ivy.Post(t, base+"/invites", map[string]any{"role": "editor", "expiresInHours": 0}).WantError(t, 400, "invalid_expiry")

		joe := s.SignUp(t, "joe")
		var view struct {
			Invite struct {
				Project   struct{ Owner, Slug, Name string }
				Role      string
				InvitedBy string
			}
		}
		joe.Get(t, "/api/invites/"+token).WantStatus(t, 200).Decode(t, &view)
		if view.Invite.Project.Slug != "linked" || view.Invite.Role != "editor" || view.Invite.InvitedBy != "ivy" {
			t.Fatalf("invite view = %+v", view.Invite)
		}
		s.Anonymous().Post(t, "/api/invites/"+token+"/accept", nil).WantError(t, 401, "unauthenticated")
		joe.Post(t, "/api/invites/"+token+"/accept", nil).WantStatus(t, 200)
		joe.Put(t, base+"/files/joe.txt", "hi").WantStatus(t, 204)
		joe.Get(t, "/api/invites/ecinv_nope").WantError(t, 404, "invite_not_found")

		// The owner sees and revokes links; an expired one answers 410.
		var members struct{ Invites []struct{ ID string } }
		ivy.Get(t, base+"/members").Decode(t, &members)
		if len(members.Invites) != 1 {
			t.Fatalf("invites = %+v", members.Invites)
		}
		ivy.Post(t, base+"/invites", map[string]any{"role": "viewer", "expiresInHours": 1}).WantStatus(t, 201).Decode(t, &out)
		old := strings.TrimPrefix(out.Invite.URL, "/invite/")
		if _, err := s.App.DB.Exec(t.Context(), `UPDATE project_invites SET expires_at = 1 WHERE id = ?`, out.Invite.ID); err != nil {
			t.Fatal(err)
		}
		s.SignUp(t, "kim").Post(t, "/api/invites/"+old+"/accept", nil).WantError(t, 410, "invite_expired")
		ivy.Delete(t, base+"/invites/"+members.Invites[0].ID).WantStatus(t, 204)
		s.SignUp(t, "lee").Post(t, "/api/invites/"+token+"/accept", nil).WantError(t, 404, "invite_not_found")
	})
}
