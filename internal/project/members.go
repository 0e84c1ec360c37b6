package project

import (
	"context"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/events"
	"ecode/internal/membership"
)

// Roster is what a project's roster is to package membership: its
// collaborators are editors or viewers; its owner is no row and joins
// nothing; a change of someone's role reconnects their tabs.
func (s *Service) Roster() membership.Kind {
	return membership.Kind{
		Name: "project", Path: "/api/projects/{id}", Param: "id", Invites: "/api/invites",
		Table: "project_members", Column: "project_id", Order: "m.created_at, u.username",
		Links:     membership.Links{Table: "project_invites", Prefix: "ecinv_", Path: "/invite/"},
		Roles:     []string{access.Viewer, access.Editor},
		LinkRoles: []string{access.Viewer, access.Editor},
		RoleHint:  "A collaborator is an editor or a viewer.",
		LinkHint:  "A collaborator is an editor or a viewer.",
		Missing:   "No such collaborator.",
		Already:   "%s already has access; change their role instead.",
		Find:      s.rosterFind,
		Lookup: func(ctx context.Context, id string) (*membership.Place, error) {
			p, err := projectByID(ctx, s.db, id)
			if err != nil {
				return nil, err
			}
			return place(p), nil
		},
		Changed: func(ctx context.Context, id, userID string) {
			events.Publish(ctx, s.bus, AccessChanged{ProjectID: id, UserID: userID})
		},
		Joined: func(ctx context.Context, actor *auth.User, p *membership.Place) (any, error) {
			return s.Get(ctx, actor, p.ID, access.Read)
		},
	}
}

// rosterFind returns project id when actor may see who works on it, or
// with manage administer it.
func (s *Service) rosterFind(ctx context.Context, actor *auth.User, id string, manage bool) (*membership.Place, error) {
	a := access.Read
	if manage {
		a = access.Admin
	}
	p, err := s.Get(ctx, actor, id, a)
	if err != nil {
		return nil, err
	}
	if p.Role == "" {
		return nil, access.ErrNotFound // a public project's visitors do not see who works on it
	}
	pl := place(p)
	pl.Role, pl.SeesLinks = p.Role, p.Role == "owner" || p.Role == access.Administrator
	return pl, nil
}

// invited is what an invite link shows of its project.
type invited struct {
	Owner string `json:"owner"`
	Slug  string `json:"slug"`
	Name  string `json:"name"`
}

func place(p *Project) *membership.Place {
	return &membership.Place{
		ID: p.ID, Team: p.TeamID(),
		Owner: &membership.Member{UserID: p.OwnerID, Username: p.Owner, Role: "owner", AddedAt: p.CreatedAt},
		Shown: invited{Owner: p.Owner, Slug: p.Slug, Name: p.Name},
	}
}
