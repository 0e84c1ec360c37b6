package team

import (
	"context"
	"fmt"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/events"
	"ecode/internal/membership"
	"ecode/internal/project"
)

// Roster is what a team's roster is to package membership: owners,
// admins, members and viewers, of whom only owners touch owners and an
// owner always stays; a change of someone's role reconnects their tabs
// on every team project.
func (s *Service) Roster() membership.Kind {
	return membership.Kind{
		Name: "team", Path: "/api/teams/{team}", Param: "team", Invites: "/api/team-invites",
		Table: "team_members", Column: "team_id",
		Order:     "CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 ELSE 3 END, u.username",
		Links:     membership.Links{Table: "team_invites", Prefix: "ecteam_", Path: "/team-invite/"},
		Roles:     []string{access.TeamViewer, access.TeamMember, access.TeamAdmin, access.TeamOwner},
		LinkRoles: []string{access.TeamViewer, access.TeamMember, access.TeamAdmin},
		RoleHint:  "A team role is owner, admin, member or viewer.",
		LinkHint:  "An invite link makes an admin, a member or a viewer.",
		Owner:     access.TeamOwner,
		Audit:     "team.",
		Missing:   "No such team member.",
		Already:   "%s is already in the team; change their role instead.",
		Find: func(ctx context.Context, actor *auth.User, name string, manage bool) (*membership.Place, error) {
			a := access.SeeTeam
			if manage {
				a = access.ManageTeam
			}
			t, err := s.authorize(ctx, actor, name, a)
			if err != nil {
				return nil, err
			}
			return &membership.Place{ID: t.ID, Name: t.Name, Team: t.ID, Role: t.Role, SeesLinks: access.CanTeam(t.Role, access.ManageTeam) == nil}, nil
		},
		Lookup: s.invitedTo,
		Grant: func(p *membership.Place, role string) error {
			if role == access.TeamOwner {
				return access.CanTeam(p.Role, access.OwnTeam)
			}
			return nil
		},
		Changed: func(ctx context.Context, id, userID string) {
			s.eachProject(ctx, id, func(projectID string) {
				events.Publish(ctx, s.bus, project.AccessChanged{ProjectID: projectID, UserID: userID})
			})
		},
		Joined: func(ctx context.Context, actor *auth.User, p *membership.Place) (any, error) {
			return s.Get(ctx, actor, p.Name)
		},
	}
}

// invitedTo returns team id as an invite link to it shows it.
func (s *Service) invitedTo(ctx context.Context, id string) (*membership.Place, error) {
	var shown struct {
		Name        string `json:"name" db:"name"`
		DisplayName string `json:"displayName" db:"display_name"`
	}
	err := s.db.Get(ctx, &shown, `SELECT u.username AS name, t.display_name FROM teams t JOIN users u ON u.id = t.id WHERE t.id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("read the invite's team: %w", err)
	}
	return &membership.Place{ID: id, Name: shown.Name, Team: id, Shown: shown}, nil
}
