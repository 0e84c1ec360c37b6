package team_test

import (
	"strings"
	"testing"

	"ecode/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

type teamJSON struct {
	ID, Name, DisplayName, Role, URL string
	Members, Projects                int
}

type projectJSON struct {
	ID, Owner, OwnerKind, Slug, URL, Role string
	CanEdit                               bool
}

// createIn makes a project in team as c.
func createIn(t *testing.T, c *testserver.Client, team, name string) projectJSON {
	t.Helper()
	var out struct{ Project projectJSON }
	c.Post(t, "/api/projects", map[string]string{"name": name, "owner": team}).WantStatus(t, 201).Decode(t, &out)
	return out.Project
}

func TestTeamsAndRoles(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		olga := s.SignUp(t, "olga")
		var created struct{ Team teamJSON }
		olga.Post(t, "/api/teams", map[string]string{"name": "Crew", "displayName": "The Crew"}).WantStatus(t, 201).Decode(t, &created)
		if c := created.Team; c.Name != "crew" || c.DisplayName != "The Crew" || c.Role != "owner" || c.URL != "/@crew" || c.Members != 1 {
			t.Fatalf("created %+v", c)
		}
		// Teams and people share one namespace.
		olga.Post(t, "/api/teams", map[string]string{"name": "olga"}).WantError(t, 409, "username_taken")
		olga.Post(t, "/api/teams", map[string]string{"name": "crew"}).WantError(t, 409, "username_taken")
		olga.Post(t, "/api/teams", map[string]string{"name": "x"}).WantError(t, 400, "invalid_name")
		s.Anonymous().Post(t, "/api/auth/signup", map[string]string{"username": "crew", "email": "c@example.com", "password": "password-crew"}).
			WantError(t, 409, "username_taken")
		// A team is no one to log in as, nor to share a project with.
		s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "crew", "password": "anything-at-all"}).WantStatus(t, 401)
		mine := olga.CreateProject(t, "Mine")
		olga.Post(t, "/api/projects/"+mine.ID+"/members", map[string]string{"username": "crew", "role": "viewer"}).WantError(t, 404, "user_not_found")

		mia, vic, ada, stan := s.SignUp(t, "mia"), s.SignUp(t, "vic"), s.SignUp(t, "ada"), s.SignUp(t, "stan")
		olga.Post(t, "/api/teams/crew/members", map[string]string{"username": "mia", "role": "member"}).WantStatus(t, 201)
		olga.Post(t, "/api/teams/crew/members", map[string]string{"username": "vic", "role": "viewer"}).WantStatus(t, 201)
		olga.Post(t, "/api/teams/crew/members", map[string]string{"username": "ada", "role": "admin"}).WantStatus(t, 201)
		olga.Post(t, "/api/teams/crew/members", map[string]string{"username": "ada", "role": "admin"}).WantError(t, 409, "already_member")
		olga.Post(t, "/api/teams/crew/members", map[string]string{"username": "nobody", "role": "member"}).WantError(t, 404, "user_not_found")
		olga.Post(t, "/api/teams/crew/members", map[string]string{"username": "stan", "role": "editor"}).WantError(t, 400, "invalid_role")
		ada.Post(t, "/api/teams/crew/members", map[string]string{"username": "stan", "role": "owner"}).WantError(t, 403, "forbidden")
		mia.Post(t, "/api/teams/crew/members", map[string]string{"username": "stan", "role": "viewer"}).WantError(t, 403, "forbidden")
		stan.Get(t, "/api/teams/crew").WantError(t, 404, "not_found")
		s.Anonymous().Get(t, "/api/teams/crew").WantStatus(t, 401)

		// Members and up create projects in the team; viewers do not.
		p := createIn(t, mia, "crew", "Site")
		if p.Owner != "crew" || p.OwnerKind != "team" || p.URL != "/@crew/site" || p.Role != "editor" {
			t.Fatalf("team project %+v", p)
		}
		vic.Post(t, "/api/projects", map[string]string{"name": "Nope", "owner": "crew"}).WantError(t, 403, "forbidden")
		stan.Post(t, "/api/projects", map[string]string{"name": "Nope", "owner": "crew"}).WantError(t, 404, "not_found")
		mia.Post(t, "/api/projects", map[string]string{"name": "Nope", "owner": "olga"}).WantError(t, 400, "invalid_owner")
		mia.Post(t, "/api/projects", map[string]string{"name": "Site", "owner": "crew"}).WantError(t, 409, "project_exists")

		// Team roles are project roles on every team project.
		base := "/api/projects/" + p.ID
		mia.Put(t, base+"/files/index.html", "<h1>hi</h1>").WantStatus(t, 204)
		if got := string(vic.Get(t, base+"/files/index.html").WantStatus(t, 200).Body); got != "<h1>hi</h1>" {
			t.Fatalf("viewer reads %q", got)
		}
		vic.Put(t, base+"/files/index.html", "x").WantError(t, 403, "forbidden")
		stan.Get(t, base).WantError(t, 404, "not_found")
		mia.Patch(t, base, map[string]string{"visibility": "public"}).WantError(t, 403, "forbidden")
		ada.Patch(t, base, map[string]string{"visibility": "public"}).WantStatus(t, 200)
		var bySlug struct{ Project projectJSON }
		ada.Get(t, "/api/users/crew/projects/site").WantStatus(t, 200).Decode(t, &bySlug)
		if bySlug.Project.Role != "admin" || !bySlug.Project.CanEdit {
			t.Fatalf("the admin sees %+v", bySlug.Project)
		}
		// Collaborators on top: a stranger made editor of this one project.
		ada.Post(t, base+"/members", map[string]string{"username": "stan", "role": "editor"}).WantStatus(t, 201)
		stan.Put(t, base+"/files/b.txt", "by stan").WantStatus(t, 204)

		// Dashboards list team projects with the member's role.
		var list struct{ Projects []projectJSON }
		vic.Get(t, "/api/projects").WantStatus(t, 200).Decode(t, &list)
		if len(list.Projects) != 1 || list.Projects[0].ID != p.ID || list.Projects[0].Role != "viewer" || list.Projects[0].CanEdit {
			t.Fatalf("vic's projects = %+v", list.Projects)
		}
		var teamList struct{ Projects []projectJSON }
		vic.Get(t, "/api/teams/crew/projects").WantStatus(t, 200).Decode(t, &teamList)
		if len(teamList.Projects) != 1 || teamList.Projects[0].Slug != "site" {
			t.Fatalf("team projects = %+v", teamList.Projects)
		}
		var teams struct{ Teams []teamJSON }
		mia.Get(t, "/api/teams").WantStatus(t, 200).Decode(t, &teams)
		if len(teams.Teams) != 1 || teams.Teams[0].Role != "member" || teams.Teams[0].Members != 4 || teams.Teams[0].Projects != 1 {
			t.Fatalf("mia's teams = %+v", teams.Teams)
		}

		// A team keeps an owner; only owners touch owners.
		olga.Delete(t, "/api/teams/crew/members/"+olga.User.ID).WantError(t, 409, "last_owner")
		olga.Patch(t, "/api/teams/crew/members/"+olga.User.ID, map[string]string{"role": "admin"}).WantError(t, 409, "last_owner")
		ada.Patch(t, "/api/teams/crew/members/"+olga.User.ID, map[string]string{"role": "member"}).WantError(t, 403, "forbidden")
		olga.Patch(t, "/api/teams/crew/members/"+ada.User.ID, map[string]string{"role": "owner"}).WantStatus(t, 200)
		olga.Delete(t, "/api/teams/crew/members/"+olga.User.ID).WantStatus(t, 204) // leaving
		olga.Put(t, base+"/files/x.txt", "x").WantError(t, 403, "forbidden")       // public, but no longer hers to change

		// Losing the team role loses its projects.
		ada.Patch(t, "/api/teams/crew/members/"+mia.User.ID, map[string]string{"role": "viewer"}).WantStatus(t, 200)
		mia.Put(t, base+"/files/index.html", "x").WantError(t, 403, "forbidden")
		ada.Delete(t, "/api/teams/crew/members/"+vic.User.ID).WantStatus(t, 204)
		vic.Get(t, base+"/files/index.html").WantStatus(t, 200) // the project is public now
		vic.Get(t, "/api/teams/crew").WantError(t, 404, "not_found")

		// Deleting the team takes its projects along.
		ada.Delete(t, "/api/teams/crew").WantStatus(t, 400)
		ada.Do(t, "DELETE", "/api/teams/crew", map[string]string{"confirm": "crow"}).WantError(t, 400, "confirm_mismatch")
		mia.Do(t, "DELETE", "/api/teams/crew", map[string]string{"confirm": "crew"}).WantError(t, 403, "forbidden")
		ada.Do(t, "DELETE", "/api/teams/crew", map[string]string{"confirm": "crew"}).WantStatus(t, 204)
		stan.Get(t, base).WantError(t, 404, "not_found")
		ada.Get(t, "/api/teams/crew").WantError(t, 404, "not_found")
		// The name is free again.
		stan.Post(t, "/api/teams", map[string]string{"name": "crew"}).WantStatus(t, 201)
	})
}

// Projects move between a person and their teams, keeping their id,
// files and collaborators; the URL and who may do what follow the owner.
func TestTransfer(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		kim := s.SignUp(t, "kim")
		kim.Post(t, "/api/teams", map[string]string{"name": "studio"}).WantStatus(t, 201)
		kim.Put(t, "/api/teams/studio/secrets/SHARED", map[string]string{"value": "v"}).WantStatus(t, 204)
		max, col := s.SignUp(t, "max"), s.SignUp(t, "col")
		kim.Post(t, "/api/teams/studio/members", map[string]string{"username": "max", "role": "member"}).WantStatus(t, 201)

		p := kim.CreateProject(t, "Blog")
		base := "/api/projects/" + p.ID
		kim.Put(t, base+"/files/post.md", "# hi").WantStatus(t, 204)
		kim.Post(t, base+"/members", map[string]string{"username": "col", "role": "viewer"}).WantStatus(t, 201)
		max.Post(t, base+"/transfer", map[string]string{"owner": "studio"}).WantError(t, 404, "not_found")
		kim.Post(t, base+"/transfer", map[string]string{"owner": ""}).WantError(t, 400, "invalid_owner")
		kim.Post(t, base+"/transfer", map[string]string{"owner": "max"}).WantError(t, 400, "invalid_owner")

		var moved struct{ Project projectJSON }
		kim.Post(t, base+"/transfer", map[string]string{"owner": "studio"}).WantStatus(t, 200).Decode(t, &moved)
		if m := moved.Project; m.ID != p.ID || m.URL != "/@studio/blog" || m.OwnerKind != "team" || m.Role != "admin" {
			t.Fatalf("moved %+v", m)
		}
		max.Put(t, base+"/files/post.md", "# by max").WantStatus(t, 204) // a team member edits it now
		if got := string(col.Get(t, "/api/users/studio/projects/blog").WantStatus(t, 200).Body); !strings.Contains(got, `"role":"viewer"`) {
			t.Fatalf("the collaborator kept %s", got)
		}
		var sec struct{ TeamSecrets []struct{ Name string } }
		kim.Get(t, base+"/secrets").WantStatus(t, 200).Decode(t, &sec)
		if len(sec.TeamSecrets) != 1 || sec.TeamSecrets[0].Name != "SHARED" {
			t.Fatalf("team secrets after the move: %+v", sec)
		}
		var log struct{ Entries []struct{ Action string } }
		kim.Get(t, "/api/teams/studio/audit?action=project.transfer").WantStatus(t, 200).Decode(t, &log)
		if len(log.Entries) != 1 {
			t.Fatalf("the team's log: %+v", log.Entries)
		}

		// A member may not move it out; a name taken in the team is refused.
		max.Post(t, base+"/transfer", map[string]string{"owner": "max"}).WantError(t, 403, "forbidden")
		other := kim.CreateProject(t, "Blog")
		kim.Post(t, "/api/projects/"+other.ID+"/transfer", map[string]string{"owner": "studio"}).WantError(t, 409, "project_exists")
		kim.Delete(t, "/api/projects/"+other.ID).WantStatus(t, 204)

		// Back to its owner's own projects: the team loses it.
		kim.Post(t, base+"/transfer", map[string]string{"owner": "kim"}).WantStatus(t, 200).Decode(t, &moved)
		if moved.Project.URL != "/@kim/blog" || moved.Project.Role != "owner" {
			t.Fatalf("moved back %+v", moved.Project)
		}
		max.Get(t, base).WantError(t, 404, "not_found")
	})
}
