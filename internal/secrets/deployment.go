package secrets

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/httpx"
	"ecode/internal/project"
)

// A deployment's overrides are a scope of their own: sealed, audited and
// listed like the project's secrets, and seen only by deploys (builds and
// scheduled runs), never by the workspace's runs and shells.

// forDeployment is the overrides of project p's deployment.
func forDeployment(p *project.Project) Scope {
	return Scope{kind: "deployment", id: p.ID, team: p.TeamID()}
}

// deployment returns the scope of project id's deployment overrides when
// actor may change the project, as for its own secrets.
func (s *Service) deployment(ctx context.Context, actor *auth.User, id string) (Scope, error) {
	p, err := s.projects.Get(ctx, actor, id, access.Write)
	if err != nil {
		return Scope{}, err
	}
	return forDeployment(p), nil
}

// DeploymentEnv is what a deploy of the project gets as NAME=value: the
// project's secrets (Env) with the deployment's overrides replacing the
// same-named ones and adding the rest. Deploys read it when they build,
// when a release goes live and at each scheduled run, so a change applies
// from the next of those.
func (s *Service) DeploymentEnv(ctx context.Context, projectID string) ([]string, error) {
	base, err := s.Env(ctx, projectID)
	if err != nil {
		return nil, err
	}
	over := map[string]string{}
	if err := s.open(ctx, Scope{kind: "deployment", id: projectID}, over); err != nil {
		return nil, err
	}
	env := make([]string, 0, len(base)+len(over))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := over[name]; !ok {
			env = append(env, kv)
		}
	}
	for k, v := range over {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env, nil
}

// deploymentRoutes mounts the deployment's environment: its overrides,
// read one value at a time like a project's secrets, and the names it
// inherits from the project and its team.
func (s *Service) deploymentRoutes(rt *httpx.Router) {
	const prefix = "/api/projects/{id}/deployment/env"
	rt.HandleFunc("GET "+prefix, func(w http.ResponseWriter, r *http.Request) {
		sc, err := s.deployment(r.Context(), auth.Actor(r), r.PathValue("id"))
		overrides, inherited, team := []Secret{}, []Secret{}, []Secret{}
		if err == nil {
			overrides, err = s.List(r.Context(), sc)
		}
		if err == nil {
			inherited, err = s.List(r.Context(), Scope{kind: "project", id: sc.id})
		}
		if err == nil && sc.team != "" {
			team, err = s.List(r.Context(), forTeam(sc.team))
		}
		httpx.Reply(w, r, http.StatusOK, map[string]any{"overrides": overrides, "secrets": inherited, "teamSecrets": team}, err)
	})
	s.ItemRoutes(rt, prefix, func(r *http.Request) (Scope, error) {
		return s.deployment(r.Context(), auth.Actor(r), r.PathValue("id"))
	})
}
