// Package secrets keeps projects' and teams' secrets: sealed at rest under
// the master key, shown only to people who may change the project (or
// administer the team), and handed to runs, shells and commands as
// environment variables, whoever starts them. That last part is why "only
// admins see a team's values" is about this package's routes and nothing
// more: everyone who may edit a team project runs code that can read them.
// The run capability masks the values in what that code prints, which
// keeps them from being shown by accident, not from being read on purpose.
package secrets

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/project"
	"ecode/internal/seal"
	"ecode/internal/store"
)

// Secret is a secret as listed: its value is read one at a time.
type Secret struct {
	Name      string `json:"name" db:"name"`
	UpdatedBy string `json:"updatedBy" db:"updated_by"`
	UpdatedAt int64  `json:"updatedAt" db:"updated_at"`
}

// Projects is what secrets needs of the project capability.
type Projects interface {
	Get(ctx context.Context, actor *auth.User, id string, a access.Action) (*project.Project, error)
	TeamOf(ctx context.Context, projectID string) (string, error)
}

// Service stores secrets.
type Service struct {
	db       *store.DB
	keys     *seal.Keyring
	projects Projects
	roles    *access.Resolver
	audit    *audit.Log // records every reveal and change; nil records nothing
}

// NewService returns the secrets store, recording to audits; a team's
// scope is handed out to whom roles says manages the team.
func NewService(db *store.DB, keys *seal.Keyring, projects Projects, roles *access.Resolver, audits *audit.Log) *Service {
	if db == nil || keys == nil || projects == nil || roles == nil {
		panic("secrets.NewService: nil db, keys, projects or roles")
	}
	return &Service{db: db, keys: keys, projects: projects, roles: roles, audit: audits}
}

// Scope is where secrets live: a project's own, or a team's, which every
// project of the team gets.
type Scope struct {
	kind string // "project" or "team"
	id   string
	team string // the team whose audit view shows what happens here
}

// forProject is project p's own secrets.
func forProject(p *project.Project) Scope { return Scope{kind: "project", id: p.ID, team: p.TeamID()} }

// forTeam is the secrets of team teamID.
func forTeam(teamID string) Scope { return Scope{kind: "team", id: teamID, team: teamID} }

// ForTeam is team teamID's secrets, when actor manages the team: the one
// way another capability gets a team's scope.
func (s *Service) ForTeam(ctx context.Context, actor *auth.User, teamID string) (Scope, error) {
	if _, err := s.roles.Team(ctx, actor, teamID, access.ManageTeam); err != nil {
		return Scope{}, err
	}
	return forTeam(teamID), nil
}

var scopes = map[string]struct{ table, key string }{
	"project": {"project_secrets", "project_id"},
	"team":    {"team_secrets", "team_id"},
	// A deployment's overrides of the project's secrets (deployment.go).
	"deployment": {"deployment_env", "project_id"},
}

func (sc Scope) table() string { return scopes[sc.kind].table }
func (sc Scope) key() string   { return scopes[sc.kind].key }

// aad binds a sealed value to its scope and name: copied elsewhere in the
// tables, it does not open. A project's stays "ID/NAME", as before teams.
func (sc Scope) aad(name string) []byte {
	if sc.kind == "project" {
		return []byte(sc.id + "/" + name)
	}
	return []byte(sc.kind + ":" + sc.id + "/" + name)
}

func (sc Scope) target(name string) string { return audit.Target(sc.kind, sc.id, name) }

func (sc Scope) notFound(name string) error {
	return errs.NotFound("not_found", "No secret %q in this %s.", name, sc.kind)
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

const maxValue = 64 << 10

// project returns project id's scope when actor may change the project.
func (s *Service) project(ctx context.Context, actor *auth.User, id string) (Scope, error) {
	p, err := s.projects.Get(ctx, actor, id, access.Write)
	if err != nil {
		return Scope{}, err
	}
	return forProject(p), nil
}

// List names the secrets in sc; the caller has checked who asks.
func (s *Service) List(ctx context.Context, sc Scope) ([]Secret, error) {
	out := []Secret{}
	err := s.db.Select(ctx, &out, `SELECT name, updated_by, updated_at FROM `+sc.table()+` WHERE `+sc.key()+` = ? ORDER BY name`, sc.id)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	return out, nil
}

// Reveal returns one secret's value to actor, and records that it did.
func (s *Service) Reveal(ctx context.Context, actor *auth.User, sc Scope, name string) (string, error) {
	var sealed string
	err := s.db.Get(ctx, &sealed, `SELECT value FROM `+sc.table()+` WHERE `+sc.key()+` = ? AND name = ?`, sc.id, name)
	if store.NoRows(err) {
		return "", sc.notFound(name)
	}
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	v, err := s.keys.Open(sealed, sc.aad(name))
	if err != nil {
		return "", fmt.Errorf("open secret %s: %w", name, err)
	}
	s.audit.RecordIn(ctx, sc.team, actor.AuditActor(), "secret.reveal", sc.target(name), nil)
	return string(v), nil
}

// Set creates or replaces a secret.
func (s *Service) Set(ctx context.Context, actor *auth.User, sc Scope, name, value string) error {
	if !validName.MatchString(name) {
		return errs.Invalid("invalid_name", "A secret's name is letters, digits and _, not starting with a digit (like API_KEY).")
	}
	if len(value) > maxValue || !utf8.ValidString(value) || strings.ContainsRune(value, 0) {
		return errs.Invalid("invalid_value", "A secret's value is text of at most 64 KB.")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO `+sc.table()+` (`+sc.key()+`, name, value, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (`+sc.key()+`, name) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		sc.id, name, s.keys.Seal([]byte(value), sc.aad(name)), actor.Username, store.Now())
	if err != nil {
		return fmt.Errorf("set secret: %w", err)
	}
	s.audit.RecordIn(ctx, sc.team, actor.AuditActor(), "secret.set", sc.target(name), nil)
	return nil
}

// Delete removes a secret.
func (s *Service) Delete(ctx context.Context, actor *auth.User, sc Scope, name string) error {
	n, err := s.db.Exec(ctx, `DELETE FROM `+sc.table()+` WHERE `+sc.key()+` = ? AND name = ?`, sc.id, name)
	if err != nil {
		return fmt.Errorf("delete secret: %w", err)
	}
	if n == 0 {
		return sc.notFound(name)
	}
	s.audit.RecordIn(ctx, sc.team, actor.AuditActor(), "secret.delete", sc.target(name), nil)
	return nil
}

// open reads every secret in sc as name -> value.
func (s *Service) open(ctx context.Context, sc Scope, into map[string]string) error {
	var rows []struct {
		Name  string `db:"name"`
		Value string `db:"value"`
	}
	if err := s.db.Select(ctx, &rows, `SELECT name, value FROM `+sc.table()+` WHERE `+sc.key()+` = ?`, sc.id); err != nil {
		return fmt.Errorf("read secrets: %w", err)
	}
	for _, r := range rows {
		v, err := s.keys.Open(r.Value, sc.aad(r.Name))
		if err != nil {
			return fmt.Errorf("open secret %s: %w", r.Name, err)
		}
		into[r.Name] = string(v)
	}
	return nil
}

// Env is the project's secrets as NAME=value, for the sandbox: its team's,
// then its own, which win. The run capability asks, having checked the
// caller itself.
func (s *Service) Env(ctx context.Context, projectID string) ([]string, error) {
	team, err := s.projects.TeamOf(ctx, projectID)
	if err != nil {
		return nil, err
	}
	vals := map[string]string{}
	if team != "" {
		if err := s.open(ctx, forTeam(team), vals); err != nil {
			return nil, err
		}
	}
	if err := s.open(ctx, Scope{kind: "project", id: projectID}, vals); err != nil {
		return nil, err
	}
	env := make([]string, 0, len(vals))
	for k, v := range vals {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env, nil
}

// Reseal re-encrypts every secret under the keyring's current key, after
// the master key changed; it returns how many it re-sealed.
func (s *Service) Reseal(ctx context.Context) (int, error) {
	n := 0
	for kind, sc := range scopes {
		var rows []struct {
			ID    string `db:"id"`
			Name  string `db:"name"`
			Value string `db:"value"`
		}
		if err := s.db.Select(ctx, &rows, `SELECT `+sc.key+` AS id, name, value FROM `+sc.table); err != nil {
			return n, fmt.Errorf("read secrets: %w", err)
		}
		for _, r := range rows {
			scope := Scope{kind: kind, id: r.ID}
			v, err := s.keys.Open(r.Value, scope.aad(r.Name))
			if err != nil {
				return n, fmt.Errorf("open secret %s of %s %s: %w", r.Name, kind, r.ID, err)
			}
			_, err = s.db.Exec(ctx, `UPDATE `+sc.table+` SET value = ? WHERE `+sc.key+` = ? AND name = ?`, s.keys.Seal(v, scope.aad(r.Name)), r.ID, r.Name)
			if err != nil {
				return n, fmt.Errorf("reseal: %w", err)
			}
			n++
		}
	}
	return n, nil
}

// Routes mounts a project's secrets routes; a team's are the team's.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/projects/{id}/secrets", func(w http.ResponseWriter, r *http.Request) {
		sc, err := s.project(r.Context(), auth.Actor(r), r.PathValue("id"))
		list, inherited := []Secret{}, []Secret{}
		if err == nil {
			list, err = s.List(r.Context(), sc)
		}
		if err == nil && sc.team != "" {
			inherited, err = s.List(r.Context(), forTeam(sc.team)) // names only: the team's admins hold the values
		}
		httpx.Reply(w, r, http.StatusOK, map[string]any{"secrets": list, "teamSecrets": inherited}, err)
	})
	s.ItemRoutes(rt, "/api/projects/{id}/secrets", func(r *http.Request) (Scope, error) {
		return s.project(r.Context(), auth.Actor(r), r.PathValue("id"))
	})
	s.deploymentRoutes(rt)
}

// ItemRoutes mounts GET (reveal), PUT and DELETE of prefix/{name} for the
// scope scope finds for the request, having checked the caller.
func (s *Service) ItemRoutes(rt *httpx.Router, prefix string, scope func(r *http.Request) (Scope, error)) {
	rt.HandleFunc("GET "+prefix+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		sc, err := scope(r)
		var v string
		if err == nil {
			v, err = s.Reveal(r.Context(), auth.Actor(r), sc, r.PathValue("name"))
		}
		httpx.Reply(w, r, http.StatusOK, map[string]any{"name": r.PathValue("name"), "value": v}, err)
	})
	rt.HandleFunc("PUT "+prefix+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Value string `json:"value"`
		}
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		sc, err := scope(r)
		if err == nil {
			err = s.Set(r.Context(), auth.Actor(r), sc, r.PathValue("name"), in.Value)
		}
		httpx.NoContent(w, r, err)
	})
	rt.HandleFunc("DELETE "+prefix+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		sc, err := scope(r)
		if err == nil {
			err = s.Delete(r.Context(), auth.Actor(r), sc, r.PathValue("name"))
		}
		httpx.NoContent(w, r, err)
	})
}
