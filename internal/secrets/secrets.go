// Package secrets keeps a project's secrets: sealed at rest under the
// master key, shown only to people who may change the project, handed to
// its runs, shells and commands as environment variables, and masked in
// whatever those print.
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
}

// Service stores secrets.
type Service struct {
	db       *store.DB
	keys     *seal.Keyring
	projects Projects
	// OnChange, when set, hears that a project's secrets changed.
	OnChange func(projectID string)
	// Audit records every reveal and change; nil records nothing.
	Audit *audit.Log
}

// NewService returns the secrets store.
func NewService(db *store.DB, keys *seal.Keyring, projects Projects) *Service {
	return &Service{db: db, keys: keys, projects: projects}
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

const maxValue = 64 << 10

// aad binds a sealed value to its project and name: copied elsewhere in
// the table, it does not open.
func aad(projectID, name string) []byte { return []byte(projectID + "/" + name) }

// List names the project's secrets, for people who may change it.
func (s *Service) List(ctx context.Context, actor *auth.User, projectID string) ([]Secret, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	out := []Secret{}
	if err := s.db.Select(ctx, &out, `SELECT name, updated_by, updated_at FROM project_secrets WHERE project_id = ? ORDER BY name`, p.ID); err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	return out, nil
}

// Reveal returns one secret's value.
func (s *Service) Reveal(ctx context.Context, actor *auth.User, projectID, name string) (string, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return "", err
	}
	var sealed string
	err = s.db.Get(ctx, &sealed, `SELECT value FROM project_secrets WHERE project_id = ? AND name = ?`, p.ID, name)
	if store.NoRows(err) {
		return "", errs.NotFound("not_found", "No secret %q in this project.", name)
	}
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	v, err := s.keys.Open(sealed, aad(p.ID, name))
	if err != nil {
		return "", fmt.Errorf("open secret %s: %w", name, err)
	}
	s.Audit.Record(ctx, actor.AuditActor(), "secret.reveal", audit.Target("project", p.ID, name), nil)
	return string(v), nil
}

// Set creates or replaces a secret.
func (s *Service) Set(ctx context.Context, actor *auth.User, projectID, name, value string) error {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return err
	}
	if !validName.MatchString(name) {
		return errs.Invalid("invalid_name", "A secret's name is letters, digits and _, not starting with a digit (like API_KEY).")
	}
	if len(value) > maxValue || !utf8.ValidString(value) || strings.ContainsRune(value, 0) {
		return errs.Invalid("invalid_value", "A secret's value is text of at most 64 KB.")
	}
	_, err = s.db.Exec(ctx, `INSERT INTO project_secrets (project_id, name, value, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (project_id, name) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		p.ID, name, s.keys.Seal([]byte(value), aad(p.ID, name)), actor.Username, store.Now())
	if err != nil {
		return fmt.Errorf("set secret: %w", err)
	}
	s.Audit.Record(ctx, actor.AuditActor(), "secret.set", audit.Target("project", p.ID, name), nil)
	s.changed(p.ID)
	return nil
}

// Delete removes a secret.
func (s *Service) Delete(ctx context.Context, actor *auth.User, projectID, name string) error {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return err
	}
	n, err := s.db.Exec(ctx, `DELETE FROM project_secrets WHERE project_id = ? AND name = ?`, p.ID, name)
	if err != nil {
		return fmt.Errorf("delete secret: %w", err)
	}
	if n == 0 {
		return errs.NotFound("not_found", "No secret %q in this project.", name)
	}
	s.Audit.Record(ctx, actor.AuditActor(), "secret.delete", audit.Target("project", p.ID, name), nil)
	s.changed(p.ID)
	return nil
}

func (s *Service) changed(projectID string) {
	if s.OnChange != nil {
		s.OnChange(projectID)
	}
}

// Env is the project's secrets as NAME=value, for the sandbox: the run
// capability asks, having checked the caller itself.
func (s *Service) Env(ctx context.Context, projectID string) ([]string, error) {
	var rows []struct {
		Name  string `db:"name"`
		Value string `db:"value"`
	}
	if err := s.db.Select(ctx, &rows, `SELECT name, value FROM project_secrets WHERE project_id = ?`, projectID); err != nil {
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	env := make([]string, 0, len(rows))
	for _, r := range rows {
		v, err := s.keys.Open(r.Value, aad(projectID, r.Name))
		if err != nil {
			return nil, fmt.Errorf("open secret %s: %w", r.Name, err)
		}
		env = append(env, r.Name+"="+string(v))
	}
	sort.Strings(env)
	return env, nil
}

// Reseal re-encrypts every secret under the keyring's current key, after
// the master key changed; it returns how many it re-sealed.
func (s *Service) Reseal(ctx context.Context) (int, error) {
	var rows []struct {
		ProjectID string `db:"project_id"`
		Name      string `db:"name"`
		Value     string `db:"value"`
	}
	if err := s.db.Select(ctx, &rows, `SELECT project_id, name, value FROM project_secrets`); err != nil {
		return 0, fmt.Errorf("read secrets: %w", err)
	}
	for _, r := range rows {
		v, err := s.keys.Open(r.Value, aad(r.ProjectID, r.Name))
		if err != nil {
			return 0, fmt.Errorf("open secret %s of %s: %w", r.Name, r.ProjectID, err)
		}
		_, err = s.db.Exec(ctx, `UPDATE project_secrets SET value = ? WHERE project_id = ? AND name = ?`,
			s.keys.Seal(v, aad(r.ProjectID, r.Name)), r.ProjectID, r.Name)
		if err != nil {
			return 0, fmt.Errorf("reseal: %w", err)
		}
	}
	return len(rows), nil
}

// Routes mounts the secrets routes.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/projects/{id}/secrets", func(w http.ResponseWriter, r *http.Request) {
		list, err := s.List(r.Context(), auth.Actor(r), r.PathValue("id"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"secrets": list}, err)
	})
	rt.HandleFunc("GET /api/projects/{id}/secrets/{name}", func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Reveal(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("name"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"name": r.PathValue("name"), "value": v}, err)
	})
	rt.HandleFunc("PUT /api/projects/{id}/secrets/{name}", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Value string `json:"value"`
		}
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		httpx.NoContent(w, r, s.Set(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("name"), in.Value))
	})
	rt.HandleFunc("DELETE /api/projects/{id}/secrets/{name}", func(w http.ResponseWriter, r *http.Request) {
		httpx.NoContent(w, r, s.Delete(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("name")))
	})
}
