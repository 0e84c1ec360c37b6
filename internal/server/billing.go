package server

import (
	"context"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/team"
)

// people answers billing's questions about persons and teams from the
// accounts, the role rows and the teams.
type people struct {
	accounts *auth.Service
	roles    *access.Resolver
	teams    *team.Service
}

func (p people) Emails(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		u, err := p.accounts.UserByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out[id] = u.Email
	}
	return out, nil
}

func (p people) Username(ctx context.Context, id string) (string, error) {
	u, err := p.accounts.UserByID(ctx, id)
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

func (p people) UserByName(ctx context.Context, name string) (string, error) {
	u, err := p.accounts.UserByUsername(ctx, name)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

func (p people) TeamAdmins(ctx context.Context, teamID string) ([]string, error) {
	return p.roles.TeamAdmins(ctx, teamID)
}

// TeamRole asks the team's allowlist first, as every team route does: a
// caller from an address the team shuts out has no role there.
func (p people) TeamRole(ctx context.Context, teamID, userID string) (string, error) {
	if err := p.roles.AdmitTeam(ctx, teamID); err != nil {
		return "", err
	}
	return p.roles.TeamRole(ctx, teamID, userID)
}

func (p people) TeamByName(ctx context.Context, name string) (string, error) {
	return p.teams.IDOf(ctx, name)
}

// TeamName is a team's name, which is its account's username.
func (p people) TeamName(ctx context.Context, id string) (string, error) { return p.Username(ctx, id) }
