// Package membership is who is in what: the rosters of projects (their
// collaborators, editors and viewers) and of teams (owners, admins,
// members, viewers), and the invite links that add to them. One flow
// serves every kind of place: the caller is authorized and admitted (a
// team's allowlist is asked before anything), the role checked against
// what the kind allows and what the caller may grant, the row written,
// the change audited and published so that live connections reconnect
// with the new role. A place that keeps owners in its roster (a team)
// always keeps one. What differs between kinds is data and a few
// functions in a Kind, which each kind's own package supplies.
package membership

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// Member is someone in a place's roster, or its owner.
type Member struct {
	UserID   string `json:"userId" db:"user_id"`
	Username string `json:"username" db:"username"`
	Role     string `json:"role" db:"role"`
	AddedAt  int64  `json:"addedAt" db:"created_at"`
}

// Place is one project or team as the flow needs to know it.
type Place struct {
	ID string
	// Name is how its routes name it where that is not ID (a team's name).
	Name string
	// Team is the team whose allowlist admits requests to it and whose
	// audit log records its changes: the team itself, a team project's
	// team, or "".
	Team string
	// Role is the caller's role there, for Kind.Grant.
	Role string
	// Owner owns it without a row in the roster (a project's owner); it
	// is listed first and joins nothing.
	Owner *Member
	// SeesLinks: the caller may list its open invite links.
	SeesLinks bool
	// Shown is what someone opening an invite link to it is shown of it.
	Shown any
}

// Kind is one kind of place people are members of.
type Kind struct {
	Name    string // "project", "team": the audit target, the key of the place in replies
	Path    string // the place's routes: "/api/projects/{id}"
	Param   string // the wildcard in Path that names the place: "id"
	Invites string // the routes of its links' holders: "/api/invites"
	Table   string // the roster: "project_members"
	Column  string // the column of the roster and the links naming the place: "project_id"
	Order   string // how the roster is listed: ORDER BY terms over m (the row) and u (the user)
	Links   Links

	Roles     []string // the roles a member may have, weakest first
	LinkRoles []string // those an invite link may give
	RoleHint  string   // what a caller asking for another role is told
	LinkHint  string   // the same, for a link
	// Owner is the role of which the roster always keeps one, "" when
	// owning is no role in it.
	Owner string
	// Audit prefixes the actions the audit log records: "team.".
	Audit string
	// Missing is what a caller naming someone not in the roster is told;
	// Already, with their name, what adding them twice is.
	Missing, Already string

	// Find returns place id when actor may see its roster, or with manage
	// change it.
	Find func(ctx context.Context, actor *auth.User, id string, manage bool) (*Place, error)
	// Lookup returns place id, unauthorized, for someone holding a link.
	Lookup func(ctx context.Context, id string) (*Place, error)
	// Grant refuses a caller in p who may not give or take role; nil lets
	// whoever manages the roster grant every role.
	Grant func(p *Place, role string) error
	// Changed says that userID's role on place id changed or ended, so
	// that their live connections reconnect with what they may now do.
	Changed func(ctx context.Context, id, userID string)
	// Joined is what accepting a link answers: p as actor now sees it.
	Joined func(ctx context.Context, actor *auth.User, p *Place) (any, error)
}

// rank orders the kind's roles, 0 for none.
func (k *Kind) rank(role string) int { return slices.Index(k.Roles, role) + 1 }

func (k *Kind) checkRole(role string) error {
	if k.rank(role) == 0 {
		return errs.Invalid("invalid_role", "%s", k.RoleHint)
	}
	return nil
}

func (k *Kind) grant(p *Place, role string) error {
	if k.Grant == nil {
		return nil
	}
	return k.Grant(p, role)
}

// keepsOwner is SQL that holds unless the row is the place's last owner,
// with its arguments.
func (k *Kind) keepsOwner(placeID string) (string, []any) {
	return ` AND (role <> ? OR (SELECT COUNT(*) FROM ` + k.Table + ` o WHERE o.` + k.Column + ` = ? AND o.role = ?) > 1)`,
		[]any{k.Owner, placeID, k.Owner}
}

func (k *Kind) lastOwner() error {
	return errs.Conflict("last_owner", "A %s needs an owner: make someone else an owner first.", k.Name)
}

// Users finds the people a roster names.
type Users interface {
	UserByUsername(ctx context.Context, username string) (*auth.User, error)
}

// Service keeps the rosters and invite links of every kind it is given.
type Service struct {
	db    *store.DB
	roles *access.Resolver
	users Users
	audit *audit.Log
	kinds []*Kind
}

// New returns the membership capability for kinds. roles admits requests
// by their teams' allowlists; audits (nil records nothing) records every
// change.
func New(db *store.DB, roles *access.Resolver, users Users, audits *audit.Log, kinds ...Kind) *Service {
	if db == nil || roles == nil || users == nil {
		panic("membership.New: nil db, roles or users")
	}
	s := &Service{db: db, roles: roles, users: users, audit: audits}
	for _, k := range kinds {
		s.kinds = append(s.kinds, &k)
	}
	return s
}

func (s *Service) record(ctx context.Context, k *Kind, p *Place, actor *auth.User, action string, details map[string]any) {
	s.audit.RecordIn(ctx, p.Team, actor.AuditActor(), k.Audit+action, audit.Target(k.Name, p.ID), details)
}

// Members lists place id's roster, its owner first; those who manage it
// also get the open invite links.
func (s *Service) Members(ctx context.Context, k *Kind, actor *auth.User, id string) ([]Member, []Link, error) {
	p, err := k.Find(ctx, actor, id, false)
	if err != nil {
		return nil, nil, err
	}
	members := []Member{}
	if p.Owner != nil {
		members = append(members, *p.Owner)
	}
	var rest []Member
	err = s.db.Select(ctx, &rest, `SELECT m.user_id, u.username, m.role, m.created_at FROM `+k.Table+` m
		JOIN users u ON u.id = m.user_id WHERE m.`+k.Column+` = ? ORDER BY `+k.Order, p.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("list %s members: %w", k.Name, err)
	}
	links := []Link{}
	if p.SeesLinks {
		if links, err = k.openLinks(ctx, s.db, p.ID); err != nil {
			return nil, nil, err
		}
	}
	return append(members, rest...), links, nil
}

// Add puts the person called username in place id as role.
func (s *Service) Add(ctx context.Context, k *Kind, actor *auth.User, id, username, role string) (*Member, error) {
	p, err := k.Find(ctx, actor, id, true)
	if err != nil {
		return nil, err
	}
	if err := k.checkRole(role); err != nil {
		return nil, err
	}
	if err := k.grant(p, role); err != nil {
		return nil, err
	}
	u, err := s.users.UserByUsername(ctx, strings.TrimSpace(username))
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.NotFound("user_not_found", "There is no one called %q on E-Code.", username)
	}
	if err != nil {
		return nil, err
	}
	if p.Owner != nil && u.ID == p.Owner.UserID {
		return nil, errs.Conflict("already_member", "%s owns this %s.", u.Username, k.Name)
	}
	m := &Member{UserID: u.ID, Username: u.Username, Role: role, AddedAt: store.Now()}
	_, err = s.db.Exec(ctx, `INSERT INTO `+k.Table+` (`+k.Column+`, user_id, role, created_at) VALUES (?, ?, ?, ?)`, p.ID, u.ID, role, m.AddedAt)
	if store.IsUnique(err) {
		return nil, errs.Conflict("already_member", k.Already, u.Username)
	}
	if err != nil {
		return nil, fmt.Errorf("add %s member: %w", k.Name, err)
	}
	slog.InfoContext(ctx, "member added", "kind", k.Name, "place_id", p.ID, "user_id", u.ID, "role", role)
	s.record(ctx, k, p, actor, "member.add", map[string]any{"user": u.Username, "role": role})
	k.Changed(ctx, p.ID, u.ID) // a visitor of a public project reconnects with the role
	return m, nil
}

// member returns userID's row in place placeID's roster.
func (s *Service) member(ctx context.Context, k *Kind, placeID, userID string) (*Member, error) {
	var m Member
	err := s.db.Get(ctx, &m, `SELECT m.user_id, u.username, m.role, m.created_at FROM `+k.Table+` m
		JOIN users u ON u.id = m.user_id WHERE m.`+k.Column+` = ? AND m.user_id = ?`, placeID, userID)
	if store.NoRows(err) {
		return nil, errs.NotFound("not_found", "%s", k.Missing)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s member: %w", k.Name, err)
	}
	return &m, nil
}

// SetRole changes a member's role.
func (s *Service) SetRole(ctx context.Context, k *Kind, actor *auth.User, id, userID, role string) (*Member, error) {
	p, err := k.Find(ctx, actor, id, true)
	if err != nil {
		return nil, err
	}
	if err := k.checkRole(role); err != nil {
		return nil, err
	}
	m, err := s.member(ctx, k, p.ID, userID)
	if err != nil {
		return nil, err
	}
	if err := k.grant(p, m.Role); err != nil {
		return nil, err
	}
	if err := k.grant(p, role); err != nil {
		return nil, err
	}
	query, args := `UPDATE `+k.Table+` SET role = ? WHERE `+k.Column+` = ? AND user_id = ?`, []any{role, p.ID, userID}
	if k.Owner != "" && role != k.Owner {
		guard, more := k.keepsOwner(p.ID)
		query, args = query+guard, append(args, more...)
	}
	n, err := s.db.Exec(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("set %s role: %w", k.Name, err)
	}
	if n == 0 {
		return nil, k.lastOwner()
	}
	s.record(ctx, k, p, actor, "member.role", map[string]any{"user": m.Username, "from": m.Role, "to": role})
	k.Changed(ctx, p.ID, userID)
	m.Role = role
	return m, nil
}

// Remove takes someone out of place id; anyone may leave.
func (s *Service) Remove(ctx context.Context, k *Kind, actor *auth.User, id, userID string) error {
	self := actor != nil && actor.ID == userID
	p, err := k.Find(ctx, actor, id, !self)
	if err != nil {
		return err
	}
	m, err := s.member(ctx, k, p.ID, userID)
	if err != nil {
		return err
	}
	if !self {
		if err := k.grant(p, m.Role); err != nil {
			return err
		}
	}
	query, args := `DELETE FROM `+k.Table+` WHERE `+k.Column+` = ? AND user_id = ?`, []any{p.ID, userID}
	if k.Owner != "" {
		guard, more := k.keepsOwner(p.ID)
		query, args = query+guard, append(args, more...)
	}
	n, err := s.db.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("remove %s member: %w", k.Name, err)
	}
	if n == 0 {
		return k.lastOwner()
	}
	s.record(ctx, k, p, actor, "member.remove", map[string]any{"user": m.Username, "role": m.Role})
	k.Changed(ctx, p.ID, userID)
	return nil
}
