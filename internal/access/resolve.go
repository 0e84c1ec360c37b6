package access

import (
	"context"
	"fmt"

	"ecode/internal/auth"
	"ecode/internal/store"
)

// Gate refuses a request to a team's resources by where it comes from:
// the team's allowlist, which the team capability keeps.
type Gate interface {
	Admit(ctx context.Context, teamID string) error
}

// Resolver answers who a person is to a project or a team: owner, a
// collaborator's role, what their team role gives, or a visitor. Every
// HTTP handler (through the project and team capabilities), the
// workspace socket and the preview ask it, so the rule lives here once.
//
// It reads the role rows (project_members, team_members) itself: a
// project's role depends on both, and one query here replaces a project
// capability that asked the team capability that asked back. Writing
// them, members and invites, is package membership's.
type Resolver struct {
	db store.Q
	// gate is asked before any of a team's projects, or the team, is
	// touched; until one guards the resolver no address is refused.
	gate Gate
}

// NewResolver resolves roles from the rows in db.
func NewResolver(db store.Q) *Resolver {
	if db == nil {
		panic("access.NewResolver: nil db")
	}
	return &Resolver{db: db}
}

// Guard makes g the gate every team's resources are asked through. The
// team capability, which keeps the allowlists, calls it once from its
// constructor: the resolver is built first because the capabilities
// before the team's need it too.
func (r *Resolver) Guard(g Gate) {
	if g == nil || r.gate != nil {
		panic("access: Guard wants one gate, once")
	}
	r.gate = g
}

// Admit refuses the request in ctx when p is a team's and the team does
// not allow the address it comes from.
func (r *Resolver) Admit(ctx context.Context, p Project) error {
	return r.AdmitTeam(ctx, p.TeamID)
}

// AdmitTeam refuses the request in ctx when team teamID ("" for no team)
// does not allow the address it comes from.
func (r *Resolver) AdmitTeam(ctx context.Context, teamID string) error {
	if teamID == "" || r.gate == nil {
		return nil
	}
	return r.gate.Admit(ctx, teamID)
}

// Role is actor's role on p besides owning it: the stronger of their
// collaborator role and the one their role in p's team gives ("" for
// none, for the owner and for nobody).
func (r *Resolver) Role(ctx context.Context, actor *auth.User, p Project) (string, error) {
	if actor == nil || actor.ID == p.OwnerID {
		return "", nil
	}
	var row struct {
		Member string `db:"member"`
		Team   string `db:"team"`
	}
	err := r.db.Get(ctx, &row, `SELECT
		COALESCE((SELECT role FROM project_members WHERE project_id = ? AND user_id = ?), '') AS member,
		COALESCE((SELECT role FROM team_members WHERE team_id = ? AND user_id = ?), '') AS team`,
		p.ID, actor.ID, p.TeamID, actor.ID)
	if err != nil {
		return "", fmt.Errorf("read the role of %s on project %s: %w", actor.ID, p.ID, err)
	}
	return Higher(row.Member, ProjectRole(row.Team)), nil
}

// Project admits the request, resolves actor's role on p and asks Can: it
// returns p with the role filled in, or the error for the client.
func (r *Resolver) Project(ctx context.Context, actor *auth.User, a Action, p Project) (Project, error) {
	if err := r.Admit(ctx, p); err != nil {
		return p, err
	}
	role, err := r.Role(ctx, actor, p)
	if err != nil {
		return p, err
	}
	p.Role = role
	return p, Can(actor, a, p)
}

// Team admits the request to team teamID, resolves actor's role there and
// asks CanTeam; it returns the role.
func (r *Resolver) Team(ctx context.Context, actor *auth.User, teamID string, a TeamAction) (string, error) {
	if actor == nil {
		return "", auth.ErrUnauthenticated
	}
	role, err := r.TeamRole(ctx, teamID, actor.ID)
	if err != nil {
		return "", err
	}
	if err := CanTeam(role, a); err != nil {
		return "", err
	}
	if err := r.AdmitTeam(ctx, teamID); err != nil {
		return "", err
	}
	return role, nil
}

// Editors lists who may change project projectID: its owner (a person,
// or a team's owners, admins and members) and its editor and admin
// collaborators.
// The rule Role applies one person at a time, asked the other way: who
// is told of the project's alerts.
func (r *Resolver) Editors(ctx context.Context, projectID string) ([]string, error) {
	var ids []string
	err := r.db.Select(ctx, &ids, `SELECT p.owner_id FROM projects p JOIN users u ON u.id = p.owner_id WHERE p.id = ? AND u.kind = 'user'
		UNION SELECT user_id FROM project_members WHERE project_id = ? AND role IN ('editor', 'admin')
		UNION SELECT m.user_id FROM team_members m JOIN projects p ON p.owner_id = m.team_id
			WHERE p.id = ? AND m.role IN ('owner', 'admin', 'member')`, projectID, projectID, projectID)
	if err != nil {
		return nil, fmt.Errorf("read the editors of project %s: %w", projectID, err)
	}
	return ids, nil
}

// TeamAdmins lists the ids of team teamID's owners and admins: who is
// told of what concerns the whole team, such as its credits.
func (r *Resolver) TeamAdmins(ctx context.Context, teamID string) ([]string, error) {
	var ids []string
	if err := r.db.Select(ctx, &ids, `SELECT user_id FROM team_members WHERE team_id = ? AND role IN (?, ?) ORDER BY user_id`,
		teamID, TeamOwner, TeamAdmin); err != nil {
		return nil, fmt.Errorf("read the admins of team %s: %w", teamID, err)
	}
	return ids, nil
}

// TeamRole is userID's role in team teamID, "" for none.
func (r *Resolver) TeamRole(ctx context.Context, teamID, userID string) (string, error) {
	return r.one(ctx, `SELECT role FROM team_members WHERE team_id = ? AND user_id = ?`, teamID, userID)
}

func (r *Resolver) one(ctx context.Context, query string, args ...any) (string, error) {
	var role string
	err := r.db.Get(ctx, &role, query, args...)
	if store.NoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read role: %w", err)
	}
	return role, nil
}

// TeamRoles maps each team userID is in to userID's role there.
func (r *Resolver) TeamRoles(ctx context.Context, userID string) (map[string]string, error) {
	var rows []struct {
		Team string `db:"team_id"`
		Role string `db:"role"`
	}
	if err := r.db.Select(ctx, &rows, `SELECT team_id, role FROM team_members WHERE user_id = ?`, userID); err != nil {
		return nil, fmt.Errorf("read team roles: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, row := range rows {
		out[row.Team] = row.Role
	}
	return out, nil
}
