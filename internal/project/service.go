package project

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/store"
)

// Service is the projects capability.
type Service struct {
	db        *store.DB
	bus       *events.Bus
	access    *access.Resolver
	audit     *audit.Log // records visibility, transfers and deletions; nil records nothing
	dir       string     // <data>/projects
	histRoot  string     // <data>/history: the platform's history of each project
	limits    Limits
	templates *Catalog
	uid       func(projectID string) int // nil: files keep the server's uid
	auto      AutoCheckpoints
	runs      Runs // nil until the run capability joins (UseRuns)

	mu      sync.Mutex
	usages  map[string]*usage
	edits   map[string]int64 // each project's last file write (unix ms) since start
	history historyLocks
	// resources: the administrator's policy, each project's disk limit.
	resources resourceState
}

// Options are the operator's choices for projects.
type Options struct {
	DataDir   string // trees go under DataDir/projects, histories under DataDir/history
	Limits    Limits
	Templates *Catalog
	// SandboxUID, when set, names the host uid that must own a project's
	// files (the sandbox runs as it); files the platform writes go to it.
	SandboxUID func(projectID string) int
	// Auto tunes automatic checkpoints, which Run takes.
	Auto AutoCheckpoints
}

// Runs is what projects need of the run capability, which is built from
// this one and so joins it afterwards (UseRuns).
type Runs interface {
	// Importer turns a git URL into the input that creates the project
	// from it (validated, with a Fill that clones).
	Importer(gitURL string, in CreateInput) (CreateInput, error)
	// Running says whether a project's app is running, for the list.
	Running(projectID string) bool
}

// NewService keeps project trees under o.DataDir; roles answers who each
// caller is to a project, audits (nil records nothing) what happens to
// them. An account's projects go before the account does.
func NewService(db *store.DB, bus *events.Bus, roles *access.Resolver, accounts *auth.Service, audits *audit.Log, o Options) (*Service, error) {
	if db == nil || bus == nil || roles == nil || accounts == nil || o.Templates == nil || o.DataDir == "" {
		panic("project.NewService: nil db, bus, roles, accounts or templates, or no data dir")
	}
	dir := filepath.Join(o.DataDir, "projects")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create projects dir: %w", err)
	}
	hist := filepath.Join(o.DataDir, "history")
	if err := os.MkdirAll(hist, 0o700); err != nil {
		return nil, fmt.Errorf("create history dir: %w", err)
	}
	if err := os.Chmod(hist, 0o700); err != nil {
		return nil, fmt.Errorf("protect history dir: %w", err)
	}
	s := &Service{db: db, bus: bus, access: roles, audit: audits, dir: dir, histRoot: hist, limits: o.Limits, templates: o.Templates,
		uid: o.SandboxUID, auto: o.Auto, usages: map[string]*usage{}, edits: map[string]int64{}}
	if err := s.migrateHistory(); err != nil {
		return nil, err
	}
	s.followEdits()
	accounts.BeforeDelete(s.DeleteAllOf)
	audits.Names("project", s.Names)
	return s, nil
}

// UseRuns hands projects the run capability: git imports and the running
// flag of the list. The run capability calls it once, from its
// constructor; until then imports are refused and nothing shows running.
func (s *Service) UseRuns(r Runs) {
	if r == nil || s.runs != nil {
		panic("project: UseRuns wants one run capability, once")
	}
	s.runs = r
}

// Templates lists the templates a project can start from.
func (s *Service) Templates() []Template { return s.templates.List() }

// Dir is where project id's working tree lives.
func (s *Service) Dir(id string) string { return filepath.Join(s.dir, id) }

// Tree returns p's working tree.
func (s *Service) Tree(p *Project) *Tree {
	s.mu.Lock()
	u := s.usages[p.ID]
	if u == nil {
		u = &usage{}
		s.usages[p.ID] = u
	}
	s.mu.Unlock()
	uid := -1
	if s.uid != nil {
		uid = s.uid(p.ID)
	}
	return &Tree{projectID: p.ID, dir: s.Dir(p.ID), limits: s.treeLimits(p.ID), usage: u, uid: uid, bus: s.bus}
}

// decorate fills in the fields derived for the caller.
func decorate(p *Project, actor *auth.User) *Project {
	p.URL = "/@" + p.Owner + "/" + p.Slug
	if actor != nil && actor.ID == p.OwnerID {
		p.Role = "owner"
	}
	p.CanEdit = access.Can(actor, access.Write, p.Access()) == nil
	return p
}

// CreateInput is what a new project is made from.
type CreateInput struct {
	Name       string
	Template   string
	Visibility string
	// Owner, when set, is the team to create the project in; the caller
	// must be a member.
	Owner string
	// Fill, when set, fills the new project's empty folder instead of a
	// template (an import), acting for actor. The project is not in the
	// database yet.
	Fill func(ctx context.Context, actor *auth.User, p *Project, dir string) error
}

// Create makes a project for actor: its row, its tree from the template and
// a first commit. A failure leaves neither row nor folder behind.
func (s *Service) Create(ctx context.Context, actor *auth.User, in CreateInput) (*Project, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	name, err := checkName(in.Name)
	if err != nil {
		return nil, err
	}
	if in.Visibility == "" {
		in.Visibility = Private
	}
	if err := checkVisibility(in.Visibility); err != nil {
		return nil, err
	}
	if in.Template == "" {
		in.Template = "blank"
	}
	now := store.Now()
	p := &Project{
		ID: store.NewID(), OwnerID: actor.ID, Owner: actor.Username, OwnerKind: "user", Slug: Slugify(name), Name: name,
		Visibility: in.Visibility, Template: in.Template, CreatedAt: now, UpdatedAt: now,
	}
	if in.Owner != "" && in.Owner != actor.Username {
		if err := s.inTeam(ctx, actor, in.Owner, p); err != nil {
			return nil, err
		}
	}
	if taken, err := slugTaken(ctx, s.db, p.OwnerID, p.Slug); err != nil || taken {
		if err == nil {
			err = errSlugTaken(p.Slug)
		}
		return nil, err // before any work: an import can take a while
	}
	dir := s.Dir(p.ID)
	if err := s.fill(ctx, p, dir, in, actor); err != nil {
		s.removeFiles(p.ID)
		return nil, err
	}
	if err := insertProject(ctx, s.db, p); err != nil {
		s.removeFiles(p.ID)
		return nil, err
	}
	slog.InfoContext(ctx, "project created", "project_id", p.ID, "owner", p.Owner, "slug", p.Slug)
	return decorate(p, actor), nil
}

// inTeam makes p the project of team name, if actor may create there.
func (s *Service) inTeam(ctx context.Context, actor *auth.User, name string, p *Project) error {
	owner, err := accountByName(ctx, s.db, name)
	if err != nil {
		return err
	}
	if owner.Kind != TeamOwned {
		return errs.Invalid("invalid_owner", "A project belongs to you or to one of your teams, and %q is not a team.", name)
	}
	role, err := s.access.Team(ctx, actor, owner.ID, access.CreateInTeam)
	if err != nil {
		return err
	}
	p.OwnerID, p.Owner, p.OwnerKind, p.Role = owner.ID, owner.Name, TeamOwned, access.ProjectRole(role)
	return nil
}

// fill puts the new project's first files in dir: a template with a first
// commit, or what in.Fill brings.
func (s *Service) fill(ctx context.Context, p *Project, dir string, in CreateInput, actor *auth.User) error {
	if in.Fill != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create project folder: %w", err)
		}
		if err := in.Fill(ctx, actor, p, dir); err != nil {
			return err
		}
		return s.adoptHistory(p.ID, actor.Username, actor.Email, "Import "+p.Name, false)
	}
	if err := s.templates.CopyTo(in.Template, dir); err != nil {
		if errs.Is(err, errs.KindInvalid) {
			return err
		}
		return fmt.Errorf("copy template %s: %w", in.Template, err)
	}
	return s.initHistory(p.ID, actor.Username, actor.Email, "Create "+p.Name+" from the "+in.Template+" template")
}

// Get returns project id when actor may do a to it.
func (s *Service) Get(ctx context.Context, actor *auth.User, id string, a access.Action) (*Project, error) {
	p, err := projectByID(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return s.authorize(ctx, actor, p, a)
}

// authorize asks access whether actor may do a to p, and fills in p as
// actor sees it.
func (s *Service) authorize(ctx context.Context, actor *auth.User, p *Project, a access.Action) (*Project, error) {
	seen, err := s.access.Project(ctx, actor, a, p.Access())
	if err != nil {
		return nil, err
	}
	p.Role = seen.Role
	return decorate(p, actor), nil
}

// BySlug returns owner's project slug when actor may read it.
func (s *Service) BySlug(ctx context.Context, actor *auth.User, owner, slug string) (*Project, error) {
	p, err := projectBySlug(ctx, s.db, owner, slug)
	if err != nil {
		return nil, err
	}
	return s.authorize(ctx, actor, p, access.Read)
}

// Lookup returns owner's project slug without asking who wants it: for
// the preview, which finds the project before it knows who asks, then
// asks access.
func (s *Service) Lookup(ctx context.Context, owner, slug string) (*Project, error) {
	return projectBySlug(ctx, s.db, owner, slug)
}

// Owner names who owns project id, without asking who wants to know: for
// billing, which charges a project's usage to its owner (a person or a
// team) whoever caused it.
func (s *Service) Owner(ctx context.Context, id string) (kind, ownerID, name string, err error) {
	p, err := projectByID(ctx, s.db, id)
	if err != nil {
		return "", "", "", err
	}
	return p.OwnerKind, p.OwnerID, p.Owner + "/" + p.Slug, nil
}

// List returns actor's projects and those shared with actor, most
// recently changed first.
func (s *Service) List(ctx context.Context, actor *auth.User) ([]Listed, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	teams, err := s.access.TeamRoles(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	ps, err := listVisibleTo(ctx, s.db, actor.ID, slices.Collect(maps.Keys(teams)))
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if team := p.TeamID(); team != "" {
			p.Role = access.Higher(p.Role, access.ProjectRole(teams[team]))
		}
	}
	out := make([]Listed, len(ps))
	for i, p := range ps {
		out[i] = s.listed(decorate(p, actor))
	}
	return out, nil
}

// OwnedBy lists the projects of team teamID as actor, whom the team
// capability found to be a member with teamRole (and admitted), sees them.
func (s *Service) OwnedBy(ctx context.Context, actor *auth.User, teamID, teamRole string) ([]*Project, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	ps, err := listOwnedSeenBy(ctx, s.db, teamID, actor.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		p.Role = access.Higher(p.Role, access.ProjectRole(teamRole))
		decorate(p, actor)
	}
	return ps, nil
}

// UpdateInput holds the fields a PATCH may change; nil leaves one as it is.
type UpdateInput struct {
	Name       *string
	Visibility *string
	Internet   *bool
}

// Update renames a project (its slug follows the name) or changes who sees it.
func (s *Service) Update(ctx context.Context, actor *auth.User, id string, in UpdateInput) (*Project, error) {
	p, err := s.Get(ctx, actor, id, access.Admin)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		name, err := checkName(*in.Name)
		if err != nil {
			return nil, err
		}
		p.Name, p.Slug = name, Slugify(name)
	}
	if in.Visibility != nil {
		if err := checkVisibility(*in.Visibility); err != nil {
			return nil, err
		}
		if *in.Visibility != p.Visibility {
			s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "project.visibility", audit.Target("project", p.ID), map[string]any{"from": p.Visibility, "to": *in.Visibility})
		}
		p.Visibility = *in.Visibility
	}
	if in.Internet != nil {
		p.Internet = *in.Internet
	}
	p.UpdatedAt = store.Now()
	if err := updateProject(ctx, s.db, p); err != nil {
		return nil, err
	}
	events.Publish(ctx, s.bus, Updated{Project: p})
	return decorate(p, actor), nil
}

// Transfer moves project id to owner: the caller, or a team the caller
// may create projects in. The project keeps its id, files, history,
// collaborators and own secrets; its URL follows the owner.
func (s *Service) Transfer(ctx context.Context, actor *auth.User, id, owner string) (*Project, error) {
	p, err := s.Get(ctx, actor, id, access.Admin)
	if err != nil {
		return nil, err
	}
	next := *p
	switch owner = strings.TrimSpace(owner); {
	case owner == "":
		return nil, errs.Invalid("invalid_owner", "Name the team, or yourself, to move the project to.")
	case strings.EqualFold(owner, actor.Username):
		next.OwnerID, next.Owner, next.OwnerKind = actor.ID, actor.Username, "user"
	default:
		if err := s.inTeam(ctx, actor, owner, &next); err != nil {
			return nil, err
		}
	}
	if next.OwnerID == p.OwnerID {
		return p, nil
	}
	next.UpdatedAt = store.Now()
	if err := moveProject(ctx, s.db, &next); err != nil {
		return nil, err
	}
	details := map[string]any{"from": p.Owner, "to": next.Owner, "slug": p.Slug}
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "project.transfer", audit.Target("project", p.ID), details)
	if team := next.TeamID(); team != "" && team != p.TeamID() {
		s.audit.RecordIn(ctx, team, actor.AuditActor(), "project.transfer", audit.Target("project", p.ID), details)
	}
	slog.InfoContext(ctx, "project transferred", "project_id", p.ID, "from", p.Owner, "to", next.Owner)
	events.Publish(ctx, s.bus, Transferred{Project: &next})
	return s.Get(ctx, actor, id, access.Read)
}

// DeleteAllOf removes every project u owns, for an account that goes.
func (s *Service) DeleteAllOf(ctx context.Context, u *auth.User) error {
	return s.DeleteOwned(ctx, u, u.ID)
}

// DeleteOwned removes, as actor, every project account ownerID owns: a
// person's or a team's that goes.
func (s *Service) DeleteOwned(ctx context.Context, actor *auth.User, ownerID string) error {
	ps, err := listProjects(ctx, s.db, ownerID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if err := s.Delete(ctx, actor, p.ID); err != nil {
			return fmt.Errorf("delete project %s: %w", p.Slug, err)
		}
	}
	return nil
}

// Delete removes a project, its files and its history.
func (s *Service) Delete(ctx context.Context, actor *auth.User, id string) error {
	p, err := s.Get(ctx, actor, id, access.Admin)
	if err != nil {
		return err
	}
	if err := deleteProject(ctx, s.db, p.ID); err != nil {
		return err
	}
	// What runs of it stops, here at least, before its files go.
	events.Publish(ctx, s.bus, Gone{ProjectID: p.ID})
	s.removeFiles(p.ID)
	s.mu.Lock()
	delete(s.usages, p.ID)
	s.mu.Unlock()
	events.Publish(ctx, s.bus, Deleted{ProjectID: p.ID})
	slog.InfoContext(ctx, "project deleted", "project_id", p.ID, "owner", p.Owner, "slug", p.Slug)
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "project.delete", audit.Target("project", p.ID), map[string]any{"slug": p.Owner + "/" + p.Slug})
	return nil
}

// removeFiles removes project id's tree and history. Each is moved aside
// first: the project is gone at once even if removing many files takes a
// while or fails half-way.
func (s *Service) removeFiles(id string) {
	for _, dir := range []string{s.Dir(id), s.historyDir(id)} {
		trash := dir + ".deleted"
		if err := os.Rename(dir, trash); err != nil {
			if os.IsNotExist(err) {
				continue
			}
			slog.Error("move deleted project aside", "project_id", id, "err", err)
			trash = dir
		}
		if err := os.RemoveAll(trash); err != nil {
			slog.Error("remove deleted project files", "project_id", id, "err", err)
		}
	}
}

// Touched records that p's files changed, for "recently updated" ordering.
func (s *Service) Touched(ctx context.Context, p *Project) {
	if err := touchProject(ctx, s.db, p.ID, store.Now()); err != nil {
		slog.WarnContext(ctx, "record project change", "project_id", p.ID, "err", err)
	}
}

// OwnedIDs lists the ids of account ownerID's projects, for callers that
// act on them all (a team's secrets changed, a member left).
func (s *Service) OwnedIDs(ctx context.Context, ownerID string) ([]string, error) {
	ids := []string{}
	if err := s.db.Select(ctx, &ids, `SELECT id FROM projects WHERE owner_id = ?`, ownerID); err != nil {
		return nil, fmt.Errorf("list project ids: %w", err)
	}
	return ids, nil
}

// TeamOf is the id of the team that owns project id, "" for a person's.
func (s *Service) TeamOf(ctx context.Context, id string) (string, error) {
	p, err := projectByID(ctx, s.db, id)
	if err != nil {
		return "", err
	}
	return p.TeamID(), nil
}
