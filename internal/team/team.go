// Package team is teams: accounts that many people share. A team owns
// projects as a person does (/@team/slug); its members have roles (owner,
// admin, member, viewer: see package access), join by name or through an
// expiring link, and share the team's secrets. A team may let its
// projects be reached only from the networks it lists.
package team

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/project"
	"ecode/internal/secrets"
	"ecode/internal/store"
)

// Team is a team as its members see it.
type Team struct {
	ID          string `json:"id" db:"id"`
	Name        string `json:"name" db:"name"`
	DisplayName string `json:"displayName" db:"display_name"`
	Role        string `json:"role" db:"role"` // the caller's
	CreatedAt   int64  `json:"createdAt" db:"created_at"`
	Members     int    `json:"members" db:"members"`
	Projects    int    `json:"projects" db:"-"`
	URL         string `json:"url" db:"-"`
}

// Accounts is what teams need of the account capability: a team is an
// account in the people's namespace.
type Accounts interface {
	NewTeamAccount(ctx context.Context, q store.Q, name string) (string, error)
	DeleteTeamAccount(ctx context.Context, id string) error
	UserByUsername(ctx context.Context, username string) (*auth.User, error)
	BeforeDelete(fn func(ctx context.Context, u *auth.User) error)
}

// Projects is what teams need of the project capability.
type Projects interface {
	OwnedBy(ctx context.Context, actor *auth.User, teamID, teamRole string) ([]*project.Project, error)
	OwnedIDs(ctx context.Context, ownerID string) ([]string, error)
	DeleteOwned(ctx context.Context, actor *auth.User, ownerID string) error
}

// Service is the teams capability.
type Service struct {
	db       *store.DB
	bus      *events.Bus
	access   *access.Resolver
	accounts Accounts
	projects Projects
	secrets  *secrets.Service // keeps the team's secrets
	audit    *audit.Log       // records what happens to teams; nil records nothing
	allow    allowlists
}

// NewService returns the teams capability. A change of someone's team
// role, or of the team's allowlist, is published on bus as the change it
// makes to each of the team's projects (project.AccessChanged,
// project.AdmissionChanged). roles answers who each caller is to a team,
// and this service's Admit guards it: the allowlists are the team's. An
// account leaves its teams before it is deleted, and cannot while it is
// the sole owner of a team with other members.
func NewService(db *store.DB, bus *events.Bus, roles *access.Resolver, accounts Accounts, projects Projects, vault *secrets.Service, audits *audit.Log) *Service {
	if db == nil || bus == nil || roles == nil || accounts == nil || projects == nil || vault == nil {
		panic("team.NewService: nil db, bus, roles, accounts, projects or secrets")
	}
	s := &Service{db: db, bus: bus, access: roles, accounts: accounts, projects: projects, secrets: vault, audit: audits,
		allow: allowlists{cache: map[string]cachedList{}}}
	roles.Guard(s)
	accounts.BeforeDelete(s.LeaveAll)
	return s
}

// eachProject calls fn with the id of each project of team teamID.
func (s *Service) eachProject(ctx context.Context, teamID string, fn func(projectID string)) {
	ids, err := s.projects.OwnedIDs(ctx, teamID)
	if err != nil {
		slog.ErrorContext(ctx, "reach a team's projects", "team_id", teamID, "err", err)
	}
	for _, id := range ids {
		fn(id)
	}
}

const teamCols = `t.id, u.username AS name, t.display_name, t.created_at,
	(SELECT COUNT(*) FROM team_members c WHERE c.team_id = t.id) AS members`

const maxDisplayName = 64

func checkDisplayName(name, fallback string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = fallback
	}
	if utf8.RuneCountInString(name) > maxDisplayName || strings.ContainsAny(name, "\x00\n\r\t") {
		return "", errs.Invalid("invalid_display_name", "A team's display name is at most %d characters on one line.", maxDisplayName)
	}
	return name, nil
}

// Create makes a team with actor as its owner: its account, its row and
// the owner's membership, in one unit of work.
func (s *Service) Create(ctx context.Context, actor *auth.User, name, displayName string) (*Team, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	name, err := auth.NormalizeUsername(name)
	if err != nil {
		return nil, errs.Invalid("invalid_name", "A team name is 3 to 32 characters: letters, digits, '-' or '_', starting with a letter or digit (and not a reserved word).")
	}
	if displayName, err = checkDisplayName(displayName, name); err != nil {
		return nil, err
	}
	var id string
	err = s.db.Tx(ctx, func(q store.Q) error {
		var err error
		if id, err = s.accounts.NewTeamAccount(ctx, q, name); err != nil {
			return err
		}
		now := store.Now()
		if _, err := q.Exec(ctx, `INSERT INTO teams (id, display_name, created_by, created_at) VALUES (?, ?, ?, ?)`,
			id, displayName, actor.ID, now); err != nil {
			return fmt.Errorf("create team %s: %w", name, err)
		}
		if _, err := q.Exec(ctx, `INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`,
			id, actor.ID, access.TeamOwner, now); err != nil {
			return fmt.Errorf("make %s the owner of team %s: %w", actor.Username, name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.audit.RecordIn(ctx, id, actor.AuditActor(), "team.create", audit.Target("team", id), map[string]any{"name": name})
	return s.Get(ctx, actor, name)
}

// List returns the teams actor is in.
func (s *Service) List(ctx context.Context, actor *auth.User) ([]*Team, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	out := []*Team{}
	err := s.db.Select(ctx, &out, `SELECT `+teamCols+`, m.role FROM teams t JOIN users u ON u.id = t.id
		JOIN team_members m ON m.team_id = t.id AND m.user_id = ? ORDER BY u.username`, actor.ID)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	for _, t := range out {
		if err := s.fill(ctx, t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) fill(ctx context.Context, t *Team) error {
	t.URL = "/@" + t.Name
	ids, err := s.projects.OwnedIDs(ctx, t.ID)
	t.Projects = len(ids)
	return err
}

// Get returns team name as actor, a member, sees it.
func (s *Service) Get(ctx context.Context, actor *auth.User, name string) (*Team, error) {
	t, err := s.authorize(ctx, actor, name, access.SeeTeam)
	if err != nil {
		return nil, err
	}
	return t, s.fill(ctx, t)
}

// IDOf is the id of team name, without asking who wants it: for billing,
// which then asks the caller's role itself.
func (s *Service) IDOf(ctx context.Context, name string) (string, error) {
	var id string
	err := s.db.Get(ctx, &id, `SELECT t.id FROM teams t JOIN users u ON u.id = t.id WHERE u.username = ?`, strings.ToLower(name))
	if store.NoRows(err) {
		return "", access.ErrNoTeam
	}
	if err != nil {
		return "", fmt.Errorf("find team %s: %w", name, err)
	}
	return id, nil
}

// authorize finds team name and checks that actor may do a to it, from
// where the request comes.
func (s *Service) authorize(ctx context.Context, actor *auth.User, name string, a access.TeamAction) (*Team, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	var t Team
	err := s.db.Get(ctx, &t, `SELECT `+teamCols+` FROM teams t JOIN users u ON u.id = t.id WHERE u.username = ?`, strings.ToLower(name))
	if store.NoRows(err) {
		return nil, access.ErrNoTeam
	}
	if err != nil {
		return nil, fmt.Errorf("get team: %w", err)
	}
	if t.Role, err = s.access.Team(ctx, actor, t.ID, a); err != nil {
		return nil, err
	}
	return &t, nil
}

// Update changes a team's display name.
func (s *Service) Update(ctx context.Context, actor *auth.User, name, displayName string) (*Team, error) {
	t, err := s.authorize(ctx, actor, name, access.ManageTeam)
	if err != nil {
		return nil, err
	}
	if displayName, err = checkDisplayName(displayName, t.Name); err != nil {
		return nil, err
	}
	if _, err := s.db.Exec(ctx, `UPDATE teams SET display_name = ? WHERE id = ?`, displayName, t.ID); err != nil {
		return nil, fmt.Errorf("update team: %w", err)
	}
	s.audit.RecordIn(ctx, t.ID, actor.AuditActor(), "team.update", audit.Target("team", t.ID), map[string]any{"displayName": displayName})
	return s.Get(ctx, actor, name)
}

// Delete removes a team with all its projects, once its name is typed to
// confirm.
func (s *Service) Delete(ctx context.Context, actor *auth.User, name, confirm string) error {
	t, err := s.authorize(ctx, actor, name, access.OwnTeam)
	if err != nil {
		return err
	}
	if !strings.EqualFold(strings.TrimSpace(confirm), t.Name) {
		return errs.Invalid("confirm_mismatch", "Type the team's name, %s, to confirm.", t.Name)
	}
	return s.remove(ctx, actor, t.ID, t.Name)
}

// remove deletes team id, called name, with its projects, as actor.
func (s *Service) remove(ctx context.Context, actor *auth.User, id, name string) error {
	if err := s.projects.DeleteOwned(ctx, actor, id); err != nil {
		return fmt.Errorf("delete the projects of %s: %w", name, err)
	}
	if err := s.accounts.DeleteTeamAccount(ctx, id); err != nil {
		return err
	}
	s.allow.forget(id)
	s.audit.RecordIn(ctx, id, actor.AuditActor(), "team.delete", audit.Target("team", id), map[string]any{"name": name})
	return nil
}

// Projects lists the team's projects.
func (s *Service) Projects(ctx context.Context, actor *auth.User, name string) ([]*project.Project, error) {
	t, err := s.authorize(ctx, actor, name, access.SeeTeam)
	if err != nil {
		return nil, err
	}
	return s.projects.OwnedBy(ctx, actor, t.ID, t.Role)
}

// LeaveAll takes u out of every team, for an account that goes: a team
// with u as its only member goes too, with its projects; a team that
// would be left without an owner stops the account's deletion.
func (s *Service) LeaveAll(ctx context.Context, u *auth.User) error {
	var teams []struct {
		ID      string `db:"team_id"`
		Name    string `db:"username"`
		Owners  int    `db:"owners"`
		Members int    `db:"members"`
		Role    string `db:"role"`
	}
	err := s.db.Select(ctx, &teams, `SELECT m.team_id, u.username, m.role,
		(SELECT COUNT(*) FROM team_members o WHERE o.team_id = m.team_id AND o.role = 'owner') AS owners,
		(SELECT COUNT(*) FROM team_members c WHERE c.team_id = m.team_id) AS members
		FROM team_members m JOIN users u ON u.id = m.team_id WHERE m.user_id = ?`, u.ID)
	if err != nil {
		return fmt.Errorf("list teams of %s: %w", u.Username, err)
	}
	for _, t := range teams {
		if t.Role == access.TeamOwner && t.Owners == 1 && t.Members > 1 {
			return errs.Conflict("sole_team_owner", "You are the only owner of team %s: make someone else an owner, or delete the team, first.", t.Name)
		}
	}
	for _, t := range teams {
		if t.Members > 1 {
			continue // the membership goes with the account
		}
		if err := s.remove(ctx, u, t.ID, t.Name); err != nil {
			return err
		}
	}
	return nil
}
