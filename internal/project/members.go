package project

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/httpx"
	"ecode/internal/invite"
	"ecode/internal/store"
)

// Member is someone with access to a project: its owner or a collaborator.
type Member struct {
	UserID   string `json:"userId" db:"user_id"`
	Username string `json:"username" db:"username"`
	Role     string `json:"role" db:"role"`
	AddedAt  int64  `json:"addedAt" db:"created_at"`
}

func checkRole(role string) error {
	if role != access.Editor && role != access.Viewer {
		return errs.Invalid("invalid_role", "A collaborator is an editor or a viewer.")
	}
	return nil
}

// Members lists who has access to project id: the owner first. The owner
// also gets the open invite links.
func (s *Service) Members(ctx context.Context, actor *auth.User, id string) ([]Member, []invite.Link, error) {
	p, err := s.Get(ctx, actor, id, access.Read)
	if err != nil {
		return nil, nil, err
	}
	if p.Role == "" {
		return nil, nil, access.ErrNotFound // a public project's visitors do not see who works on it
	}
	members := []Member{{UserID: p.OwnerID, Username: p.Owner, Role: "owner", AddedAt: p.CreatedAt}}
	var rest []Member
	err = s.db.Select(ctx, &rest, `SELECT m.user_id, u.username, m.role, m.created_at FROM project_members m
		JOIN users u ON u.id = m.user_id WHERE m.project_id = ? ORDER BY m.created_at, u.username`, p.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("list members: %w", err)
	}
	invites := []invite.Link{}
	if p.Role == "owner" || p.Role == access.Administrator {
		if invites, err = s.links().Open(ctx, p.ID); err != nil {
			return nil, nil, err
		}
	}
	return append(members, rest...), invites, nil
}

// AddMember shares project id with username as role.
func (s *Service) AddMember(ctx context.Context, actor *auth.User, id, username, role string) (*Member, error) {
	p, err := s.Get(ctx, actor, id, access.Admin)
	if err != nil {
		return nil, err
	}
	if err := checkRole(role); err != nil {
		return nil, err
	}
	var u struct {
		ID       string `db:"id"`
		Username string `db:"username"`
	}
	err = s.db.Get(ctx, &u, `SELECT id, username FROM users WHERE username = ? AND kind = 'user'`, strings.ToLower(strings.TrimSpace(username)))
	if store.NoRows(err) {
		return nil, errs.NotFound("user_not_found", "There is no one called %q on E-Code.", username)
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	if u.ID == p.OwnerID {
		return nil, errs.Conflict("already_member", "%s owns this project.", u.Username)
	}
	m := &Member{UserID: u.ID, Username: u.Username, Role: role, AddedAt: store.Now()}
	_, err = s.db.Exec(ctx, `INSERT INTO project_members (project_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`, p.ID, u.ID, role, m.AddedAt)
	if store.IsUnique(err) {
		return nil, errs.Conflict("already_member", "%s already has access; change their role instead.", u.Username)
	}
	if err != nil {
		return nil, fmt.Errorf("add member: %w", err)
	}
	slog.InfoContext(ctx, "project shared", "project_id", p.ID, "user_id", u.ID, "role", role)
	s.Audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "member.add", audit.Target("project", p.ID), map[string]any{"user": u.Username, "role": role})
	return m, nil
}

// SetMemberRole changes a collaborator's role.
func (s *Service) SetMemberRole(ctx context.Context, actor *auth.User, id, userID, role string) (*Member, error) {
	p, err := s.Get(ctx, actor, id, access.Admin)
	if err != nil {
		return nil, err
	}
	if err := checkRole(role); err != nil {
		return nil, err
	}
	n, err := s.db.Exec(ctx, `UPDATE project_members SET role = ? WHERE project_id = ? AND user_id = ?`, role, p.ID, userID)
	if err != nil {
		return nil, fmt.Errorf("set role: %w", err)
	}
	if n == 0 {
		return nil, errs.NotFound("not_found", "No such collaborator.")
	}
	s.Audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "member.role", audit.Target("project", p.ID), map[string]any{"userId": userID, "role": role})
	events.Publish(ctx, s.bus, AccessChanged{ProjectID: p.ID, UserID: userID}) // their open tabs reconnect with the new role
	var m Member
	err = s.db.Get(ctx, &m, `SELECT m.user_id, u.username, m.role, m.created_at FROM project_members m
		JOIN users u ON u.id = m.user_id WHERE m.project_id = ? AND m.user_id = ?`, p.ID, userID)
	return &m, err
}

// RemoveMember takes a collaborator's access away; a collaborator may
// remove themselves (leave).
func (s *Service) RemoveMember(ctx context.Context, actor *auth.User, id, userID string) error {
	a := access.Admin
	if actor != nil && actor.ID == userID {
		a = access.Read
	}
	p, err := s.Get(ctx, actor, id, a)
	if err != nil {
		return err
	}
	n, err := s.db.Exec(ctx, `DELETE FROM project_members WHERE project_id = ? AND user_id = ?`, p.ID, userID)
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	if n == 0 {
		return errs.NotFound("not_found", "No such collaborator.")
	}
	s.Audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "member.remove", audit.Target("project", p.ID), map[string]any{"userId": userID})
	events.Publish(ctx, s.bus, AccessChanged{ProjectID: p.ID, UserID: userID})
	return nil
}

// links are the projects' invite links.
func (s *Service) links() invite.Links {
	return invite.Links{DB: s.db, Table: "project_invites", Scope: "project_id", Prefix: "ecinv_", Path: "/invite/"}
}

// CreateInvite makes a link that grants role on project id until it expires.
func (s *Service) CreateInvite(ctx context.Context, actor *auth.User, id, role string, hours int) (*invite.Link, error) {
	p, err := s.Get(ctx, actor, id, access.Admin)
	if err != nil {
		return nil, err
	}
	if err := checkRole(role); err != nil {
		return nil, err
	}
	inv, err := s.links().Create(ctx, p.ID, role, actor.ID, hours)
	if err != nil {
		return nil, err
	}
	s.Audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "invite.create", audit.Target("project", p.ID), map[string]any{"invite": inv.ID, "role": role, "expiresAt": inv.ExpiresAt})
	return inv, nil
}

// RevokeInvite deletes an invite link.
func (s *Service) RevokeInvite(ctx context.Context, actor *auth.User, id, inviteID string) error {
	p, err := s.Get(ctx, actor, id, access.Admin)
	if err != nil {
		return err
	}
	if err := s.links().Revoke(ctx, p.ID, inviteID); err != nil {
		return err
	}
	s.Audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "invite.revoke", audit.Target("project", p.ID), map[string]any{"invite": inviteID})
	return nil
}

// InviteView is what someone opening an invite link is shown.
type InviteView struct {
	Project struct {
		Owner string `json:"owner" db:"owner"`
		Slug  string `json:"slug" db:"slug"`
		Name  string `json:"name" db:"name"`
	} `json:"project"`
	invite.Found
}

func (s *Service) invite(ctx context.Context, token string) (*InviteView, error) {
	f, err := s.links().Find(ctx, token)
	if err != nil {
		return nil, err
	}
	p, err := projectByID(ctx, s.db, f.ScopeID)
	if err != nil {
		return nil, err
	}
	v := &InviteView{Found: *f}
	v.Project.Owner, v.Project.Slug, v.Project.Name = p.Owner, p.Slug, p.Name
	return v, nil
}

// AcceptInvite makes actor a collaborator through an invite link (an
// owner or a member with a higher role keeps what they have). A team
// project's allowlist is asked first, as a team's own invite asks it: an
// address it refuses joins nothing.
func (s *Service) AcceptInvite(ctx context.Context, actor *auth.User, token string) (*Project, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	v, err := s.links().Find(ctx, token)
	if err != nil {
		return nil, err
	}
	p, err := projectByID(ctx, s.db, v.ScopeID)
	if err != nil {
		return nil, err
	}
	if err := s.Admit(ctx, p); err != nil {
		return nil, err
	}
	if actor.ID != p.OwnerID {
		current, err := memberRole(ctx, s.db, p.ID, actor.ID)
		if err != nil {
			return nil, err
		}
		raised := current == access.Viewer && v.Role == access.Editor
		switch {
		case current == "":
			_, err = s.db.Exec(ctx, `INSERT INTO project_members (project_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`, p.ID, actor.ID, v.Role, store.Now())
		case raised:
			_, err = s.db.Exec(ctx, `UPDATE project_members SET role = ? WHERE project_id = ? AND user_id = ?`, v.Role, p.ID, actor.ID)
		}
		if err != nil && !store.IsUnique(err) {
			return nil, fmt.Errorf("accept invite: %w", err)
		}
		s.Audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "invite.accept", audit.Target("project", p.ID), map[string]any{"role": v.Role})
		if raised {
			events.Publish(ctx, s.bus, AccessChanged{ProjectID: p.ID, UserID: actor.ID}) // open tabs reconnect able to edit
		}
	}
	return s.Get(ctx, actor, p.ID, access.Read)
}

func (h handlers) memberRoutes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/projects/{id}/members", func(w http.ResponseWriter, r *http.Request) {
		members, invites, err := h.svc.Members(r.Context(), auth.Actor(r), r.PathValue("id"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"members": members, "invites": invites}, err)
	})
	rt.HandleFunc("POST /api/projects/{id}/members", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Username, Role string }
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		m, err := h.svc.AddMember(r.Context(), auth.Actor(r), r.PathValue("id"), in.Username, in.Role)
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"member": m}, err)
	})
	rt.HandleFunc("PATCH /api/projects/{id}/members/{userId}", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Role string }
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		m, err := h.svc.SetMemberRole(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("userId"), in.Role)
		httpx.Reply(w, r, http.StatusOK, map[string]any{"member": m}, err)
	})
	rt.HandleFunc("DELETE /api/projects/{id}/members/{userId}", func(w http.ResponseWriter, r *http.Request) {
		httpx.NoContent(w, r, h.svc.RemoveMember(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("userId")))
	})
	rt.HandleFunc("POST /api/projects/{id}/invites", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Role           string
			ExpiresInHours int
		}
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		inv, err := h.svc.CreateInvite(r.Context(), auth.Actor(r), r.PathValue("id"), in.Role, in.ExpiresInHours)
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"invite": inv}, err)
	})
	rt.HandleFunc("DELETE /api/projects/{id}/invites/{inviteId}", func(w http.ResponseWriter, r *http.Request) {
		httpx.NoContent(w, r, h.svc.RevokeInvite(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("inviteId")))
	})
	rt.HandleFunc("GET /api/invites/{token}", func(w http.ResponseWriter, r *http.Request) {
		if auth.Require(w, r) == nil {
			return
		}
		v, err := h.svc.invite(r.Context(), r.PathValue("token"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"invite": v}, err)
	})
	rt.HandleFunc("POST /api/invites/{token}/accept", func(w http.ResponseWriter, r *http.Request) {
		p, err := h.svc.AcceptInvite(r.Context(), auth.Actor(r), r.PathValue("token"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"project": p}, err)
	})
}
