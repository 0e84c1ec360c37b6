package access

import (
	"slices"
	"testing"

	"ecode/internal/auth"
	"ecode/internal/errs"
)

func TestCan(t *testing.T) {
	owner := &auth.User{ID: "o"}
	other := &auth.User{ID: "x"}
	private := Project{OwnerID: "o"}
	public := Project{OwnerID: "o", Public: true}
	cases := []struct {
		name  string
		actor *auth.User
		act   Action
		p     Project
		want  errs.Kind // -1: allowed
	}{
		{"owner reads private", owner, Read, private, -1},
		{"owner deletes private", owner, Admin, private, -1},
		{"stranger reads private", other, Read, private, errs.KindNotFound},
		{"anonymous reads private", nil, Read, private, errs.KindNotFound},
		{"stranger writes private", other, Write, private, errs.KindNotFound},
		{"stranger reads public", other, Read, public, -1},
		{"anonymous reads public", nil, Read, public, -1},
		{"stranger writes public", other, Write, public, errs.KindForbidden},
		{"stranger deletes public", other, Admin, public, errs.KindForbidden},
		{"editor writes private", other, Write, Project{OwnerID: "o", Role: Editor}, -1},
		{"editor deletes private", other, Admin, Project{OwnerID: "o", Role: Editor}, errs.KindForbidden},
		{"viewer reads private", other, Read, Project{OwnerID: "o", Role: Viewer}, -1},
		{"viewer writes private", other, Write, Project{OwnerID: "o", Role: Viewer}, errs.KindForbidden},
		{"viewer watches private", other, Watch, Project{OwnerID: "o", Role: Viewer}, -1},
		{"owner watches private", owner, Watch, private, -1},
		{"stranger watches public", other, Watch, public, errs.KindForbidden},
		{"anonymous watches public", nil, Watch, public, errs.KindForbidden},
		{"stranger watches private", other, Watch, private, errs.KindNotFound},
		{"role without an actor", nil, Read, Project{OwnerID: "o", Role: Editor}, errs.KindNotFound},
		{"anonymous writes public", nil, Write, public, errs.KindUnauthenticated},
		{"team admin deletes", other, Admin, Project{OwnerID: "team", Role: Administrator}, -1},
		{"admin role without an actor", nil, Read, Project{OwnerID: "team", Role: Administrator}, errs.KindNotFound},
	}
	for _, c := range cases {
		err := Can(c.actor, c.act, c.p)
		if c.want == -1 {
			if err != nil {
				t.Errorf("%s: got %v, want allowed", c.name, err)
			}
			continue
		}
		if !errs.Is(err, c.want) {
			t.Errorf("%s: got %v, want kind %d", c.name, err, c.want)
		}
	}
}

func TestTeamRoles(t *testing.T) {
	allowed := map[string][]TeamAction{
		TeamViewer: {SeeTeam},
		TeamMember: {SeeTeam, CreateInTeam},
		TeamAdmin:  {SeeTeam, CreateInTeam, ManageTeam},
		TeamOwner:  {SeeTeam, CreateInTeam, ManageTeam, OwnTeam},
		"":         {},
		"editor":   {},
	}
	for role, may := range allowed {
		for _, a := range []TeamAction{SeeTeam, CreateInTeam, ManageTeam, OwnTeam} {
			err := CanTeam(role, a)
			if want := slices.Contains(may, a); want != (err == nil) {
				t.Errorf("role %q action %d: %v", role, a, err)
			}
			if err != nil && role != "" && role != "editor" && !errs.Is(err, errs.KindForbidden) {
				t.Errorf("a member refused %d: %v, want forbidden", a, err)
			}
		}
	}
	for team, project := range map[string]string{TeamOwner: Administrator, TeamAdmin: Administrator, TeamMember: Editor, TeamViewer: Viewer, "": ""} {
		if got := ProjectRole(team); got != project {
			t.Errorf("ProjectRole(%q) = %q, want %q", team, got, project)
		}
	}
	if Higher(Viewer, Editor) != Editor || Higher(Administrator, Editor) != Administrator || Higher("", Viewer) != Viewer || Higher(Editor, "") != Editor {
		t.Error("Higher does not pick the stronger role")
	}
}
