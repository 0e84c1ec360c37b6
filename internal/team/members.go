package team

import (
	"context"
	"fmt"
	"strings"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/invite"
	"ecode/internal/project"
	"ecode/internal/store"
)

// Member is someone in a team.
type Member struct {
	UserID   string `json:"userId" db:"user_id"`
	Username string `json:"username" db:"username"`
	Role     string `json:"role" db:"role"`
	AddedAt  int64  `json:"addedAt" db:"created_at"`
}

// links are the teams' invite links.
func (s *Service) links() invite.Links {
	return invite.Links{DB: s.db, Table: "team_invites", Scope: "team_id", Prefix: "ecteam_", Path: "/team-invite/"}
}

func checkRole(role string) error {
	if !access.ValidTeamRole(role) {
		return errs.Invalid("invalid_role", "A team role is owner, admin, member or viewer.")
	}
	return nil
}

// mayGrant checks that t.Role (the caller's) may give or take role: only
// owners touch owners.
func mayGrant(t *Team, role string) error {
	if role == access.TeamOwner {
		return access.CanTeam(t.Role, access.OwnTeam)
	}
	return nil
}

var errLastOwner = errs.Conflict("last_owner", "A team needs an owner: make someone else an owner first.")

// Members lists a team's members, owners first; its admins also get the
// open invite links.
func (s *Service) Members(ctx context.Context, actor *auth.User, name string) ([]Member, []invite.Link, error) {
	t, err := s.authorize(ctx, actor, name, access.SeeTeam)
	if err != nil {
		return nil, nil, err
	}
	members := []Member{}
	err = s.db.Select(ctx, &members, `SELECT m.user_id, u.username, m.role, m.created_at FROM team_members m
		JOIN users u ON u.id = m.user_id WHERE m.team_id = ?
		ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 ELSE 3 END, u.username`, t.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("list team members: %w", err)
	}
	invites := []invite.Link{}
	if access.CanTeam(t.Role, access.ManageTeam) == nil {
		if invites, err = s.links().Open(ctx, t.ID); err != nil {
			return nil, nil, err
		}
	}
	return members, invites, nil
}

// AddMember puts the person called username in the team as role.
func (s *Service) AddMember(ctx context.Context, actor *auth.User, name, username, role string) (*Member, error) {
	t, err := s.authorize(ctx, actor, name, access.ManageTeam)
	if err != nil {
		return nil, err
	}
	if err := checkRole(role); err != nil {
		return nil, err
	}
	if err := mayGrant(t, role); err != nil {
		return nil, err
	}
	u, err := s.accounts.UserByUsername(ctx, strings.TrimSpace(username))
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.NotFound("user_not_found", "There is no one called %q on E-Code.", username)
	}
	if err != nil {
		return nil, err
	}
	m := &Member{UserID: u.ID, Username: u.Username, Role: role, AddedAt: store.Now()}
	_, err = s.db.Exec(ctx, `INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`, t.ID, u.ID, role, m.AddedAt)
	if store.IsUnique(err) {
		return nil, errs.Conflict("already_member", "%s is already in the team; change their role instead.", u.Username)
	}
	if err != nil {
		return nil, fmt.Errorf("add team member: %w", err)
	}
	s.Audit.RecordIn(ctx, t.ID, actor.AuditActor(), "team.member.add", audit.Target("team", t.ID), map[string]any{"user": u.Username, "role": role})
	return m, nil
}

// member returns userID's membership of team teamID.
func (s *Service) member(ctx context.Context, teamID, userID string) (*Member, error) {
	var m Member
	err := s.db.Get(ctx, &m, `SELECT m.user_id, u.username, m.role, m.created_at FROM team_members m
		JOIN users u ON u.id = m.user_id WHERE m.team_id = ? AND m.user_id = ?`, teamID, userID)
	if store.NoRows(err) {
		return nil, errs.NotFound("not_found", "No such team member.")
	}
	if err != nil {
		return nil, fmt.Errorf("read team member: %w", err)
	}
	return &m, nil
}

// notLastOwner is SQL that holds unless the row is the team's last owner.
const notLastOwner = `(role <> 'owner' OR (SELECT COUNT(*) FROM team_members o WHERE o.team_id = ? AND o.role = 'owner') > 1)`

// SetRole changes a member's role. A team always keeps an owner.
func (s *Service) SetRole(ctx context.Context, actor *auth.User, name, userID, role string) (*Member, error) {
	t, err := s.authorize(ctx, actor, name, access.ManageTeam)
	if err != nil {
		return nil, err
	}
	if err := checkRole(role); err != nil {
		return nil, err
	}
	m, err := s.member(ctx, t.ID, userID)
	if err != nil {
		return nil, err
	}
	if err := mayGrant(t, m.Role); err != nil {
		return nil, err
	}
	if err := mayGrant(t, role); err != nil {
		return nil, err
	}
	n, err := s.db.Exec(ctx, `UPDATE team_members SET role = ? WHERE team_id = ? AND user_id = ? AND (? = 'owner' OR `+notLastOwner+`)`,
		role, t.ID, userID, role, t.ID)
	if err != nil {
		return nil, fmt.Errorf("set team role: %w", err)
	}
	if n == 0 {
		return nil, errLastOwner
	}
	s.Audit.RecordIn(ctx, t.ID, actor.AuditActor(), "team.member.role", audit.Target("team", t.ID), map[string]any{"user": m.Username, "from": m.Role, "to": role})
	s.accessChanged(ctx, t.ID, userID)
	m.Role = role
	return m, nil
}

// RemoveMember takes someone out of the team; anyone may leave. A team
// always keeps an owner.
func (s *Service) RemoveMember(ctx context.Context, actor *auth.User, name, userID string) error {
	a := access.ManageTeam
	if actor != nil && actor.ID == userID {
		a = access.SeeTeam
	}
	t, err := s.authorize(ctx, actor, name, a)
	if err != nil {
		return err
	}
	m, err := s.member(ctx, t.ID, userID)
	if err != nil {
		return err
	}
	if actor.ID != userID {
		if err := mayGrant(t, m.Role); err != nil {
			return err
		}
	}
	n, err := s.db.Exec(ctx, `DELETE FROM team_members WHERE team_id = ? AND user_id = ? AND `+notLastOwner, t.ID, userID, t.ID)
	if err != nil {
		return fmt.Errorf("remove team member: %w", err)
	}
	if n == 0 {
		return errLastOwner
	}
	s.Audit.RecordIn(ctx, t.ID, actor.AuditActor(), "team.member.remove", audit.Target("team", t.ID), map[string]any{"user": m.Username, "role": m.Role})
	s.accessChanged(ctx, t.ID, userID)
	return nil
}

// accessChanged says that userID's role in team teamID changed or ended:
// their live connections to its projects reconnect.
func (s *Service) accessChanged(ctx context.Context, teamID, userID string) {
	s.eachProject(ctx, teamID, func(id string) {
		events.Publish(ctx, s.bus, project.AccessChanged{ProjectID: id, UserID: userID})
	})
}

// CreateInvite makes a link that puts whoever opens it in the team as
// role until it expires.
func (s *Service) CreateInvite(ctx context.Context, actor *auth.User, name, role string, hours int) (*invite.Link, error) {
	t, err := s.authorize(ctx, actor, name, access.ManageTeam)
	if err != nil {
		return nil, err
	}
	if role == access.TeamOwner || checkRole(role) != nil {
		return nil, errs.Invalid("invalid_role", "An invite link makes an admin, a member or a viewer.")
	}
	inv, err := s.links().Create(ctx, t.ID, role, actor.ID, hours)
	if err != nil {
		return nil, err
	}
	s.Audit.RecordIn(ctx, t.ID, actor.AuditActor(), "team.invite.create", audit.Target("team", t.ID), map[string]any{"invite": inv.ID, "role": role, "expiresAt": inv.ExpiresAt})
	return inv, nil
}

// RevokeInvite deletes an invite link.
func (s *Service) RevokeInvite(ctx context.Context, actor *auth.User, name, inviteID string) error {
	t, err := s.authorize(ctx, actor, name, access.ManageTeam)
	if err != nil {
		return err
	}
	if err := s.links().Revoke(ctx, t.ID, inviteID); err != nil {
		return err
	}
	s.Audit.RecordIn(ctx, t.ID, actor.AuditActor(), "team.invite.revoke", audit.Target("team", t.ID), map[string]any{"invite": inviteID})
	return nil
}

// InviteView is what someone opening an invite link is shown.
type InviteView struct {
	Team struct {
		Name        string `json:"name" db:"name"`
		DisplayName string `json:"displayName" db:"display_name"`
	} `json:"team"`
	invite.Found
}

// Invitation reads the invite link token.
func (s *Service) Invitation(ctx context.Context, token string) (*InviteView, error) {
	f, err := s.links().Find(ctx, token)
	if err != nil {
		return nil, err
	}
	v := &InviteView{Found: *f}
	err = s.db.Get(ctx, &v.Team, `SELECT u.username AS name, t.display_name FROM teams t JOIN users u ON u.id = t.id WHERE t.id = ?`, f.ScopeID)
	if err != nil {
		return nil, fmt.Errorf("read the invite's team: %w", err)
	}
	return v, nil
}

// AcceptInvite puts actor in the team through an invite link; someone
// already in it with a stronger role keeps that role.
func (s *Service) AcceptInvite(ctx context.Context, actor *auth.User, token string) (*Team, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	v, err := s.Invitation(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := s.Admit(ctx, v.ScopeID); err != nil {
		return nil, err
	}
	current, err := s.Role(ctx, v.ScopeID, actor.ID)
	if err != nil {
		return nil, err
	}
	switch {
	case current == "":
		_, err = s.db.Exec(ctx, `INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`, v.ScopeID, actor.ID, v.Role, store.Now())
	case access.Outranks(v.Role, current):
		_, err = s.db.Exec(ctx, `UPDATE team_members SET role = ? WHERE team_id = ? AND user_id = ?`, v.Role, v.ScopeID, actor.ID)
	}
	if err != nil && !store.IsUnique(err) {
		return nil, fmt.Errorf("accept team invite: %w", err)
	}
	if current == "" || access.Outranks(v.Role, current) {
		s.Audit.RecordIn(ctx, v.ScopeID, actor.AuditActor(), "team.invite.accept", audit.Target("team", v.ScopeID), map[string]any{"role": v.Role})
		s.accessChanged(ctx, v.ScopeID, actor.ID)
	}
	return s.Get(ctx, actor, v.Team.Name)
}
