package secrets_test

import (
	"slices"
	"strings"
	"testing"

	"ecode/internal/access"
	"ecode/internal/seal"
	"ecode/internal/secrets"
	"ecode/internal/testserver"
)

// A deployment's overrides: sealed, listed by name beside the secrets they
// inherit, revealed one at a time to whom may change the project, and
// winning over the project's and team's same-named secrets in what a
// deploy gets, which the workspace's runs never see.
func TestDeploymentEnv(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		dee := s.SignUp(t, "dee")
		dee.Post(t, "/api/teams", map[string]string{"name": "shippers"}).WantStatus(t, 201)
		dee.Put(t, "/api/teams/shippers/secrets/REGION", map[string]string{"value": "eu"}).WantStatus(t, 204)
		var created struct{ Project struct{ ID string } }
		dee.Post(t, "/api/projects", map[string]string{"name": "Ship", "owner": "shippers"}).WantStatus(t, 201).Decode(t, &created)
		base := "/api/projects/" + created.Project.ID
		dee.Put(t, base+"/secrets/DATABASE_URL", map[string]string{"value": "postgres://dev"}).WantStatus(t, 204)
		dee.Put(t, base+"/secrets/API_KEY", map[string]string{"value": "dev-key"}).WantStatus(t, 204)

		const prod = "postgres://prod-5ecret"
		dee.Put(t, base+"/deployment/env/DATABASE_URL", map[string]string{"value": prod}).WantStatus(t, 204)
		dee.Put(t, base+"/deployment/env/REGION", map[string]string{"value": "us"}).WantStatus(t, 204)
		dee.Put(t, base+"/deployment/env/NODE_ENV", map[string]string{"value": "production"}).WantStatus(t, 204)
		dee.Put(t, base+"/deployment/env/9BAD", map[string]string{"value": "x"}).WantError(t, 400, "invalid_name")

		var list struct {
			Overrides, Secrets, TeamSecrets []struct{ Name, UpdatedBy string }
		}
		res := dee.Get(t, base+"/deployment/env").WantStatus(t, 200)
		res.Decode(t, &list)
		names := func(l []struct{ Name, UpdatedBy string }) (out []string) {
			for _, s := range l {
				out = append(out, s.Name)
			}
			return out
		}
		if got := names(list.Overrides); !slices.Equal(got, []string{"DATABASE_URL", "NODE_ENV", "REGION"}) || list.Overrides[0].UpdatedBy != "dee" {
			t.Fatalf("overrides %v", list.Overrides)
		}
		if got := names(list.Secrets); !slices.Equal(got, []string{"API_KEY", "DATABASE_URL"}) {
			t.Fatalf("inherited %v", got)
		}
		if got := names(list.TeamSecrets); !slices.Equal(got, []string{"REGION"}) {
			t.Fatalf("team's %v", got)
		}
		if strings.Contains(string(res.Body), prod) {
			t.Fatalf("the list shows a value: %s", res.Body)
		}
		var one struct{ Value string }
		dee.Get(t, base+"/deployment/env/DATABASE_URL").WantStatus(t, 200).Decode(t, &one)
		if one.Value != prod {
			t.Fatalf("revealed %q", one.Value)
		}
		var stored string
		if err := s.App.DB.Get(t.Context(), &stored, `SELECT value FROM deployment_env WHERE name = 'DATABASE_URL'`); err != nil || strings.Contains(stored, prod) || !strings.HasPrefix(stored, "v1:") {
			t.Fatalf("stored %q, %v", stored, err)
		}

		// What a deploy gets, and what the workspace still gets.
		keys, err := seal.Load(s.App.Config.MasterKey, s.App.Config.DataDir+"/master.key", s.App.Config.PreviousKeys)
		if err != nil {
			t.Fatal(err)
		}
		vault := secrets.NewService(s.App.DB, keys, s.App.Projects, access.NewResolver(s.App.DB), nil)
		env, err := vault.DeploymentEnv(t.Context(), created.Project.ID)
		if want := []string{"API_KEY=dev-key", "DATABASE_URL=" + prod, "NODE_ENV=production", "REGION=us"}; err != nil || !slices.Equal(env, want) {
			t.Fatalf("deployment env %v, %v; want %v", env, err, want)
		}
		env, err = vault.Env(t.Context(), created.Project.ID)
		if want := []string{"API_KEY=dev-key", "DATABASE_URL=postgres://dev", "REGION=eu"}; err != nil || !slices.Equal(env, want) {
			t.Fatalf("workspace env %v, %v; want %v", env, err, want)
		}

		// Viewers do not see the overrides; strangers do not see the project.
		vic := s.SignUp(t, "vic")
		dee.Post(t, base+"/members", map[string]string{"username": "vic", "role": "viewer"}).WantStatus(t, 201)
		vic.Get(t, base+"/deployment/env").WantError(t, 403, "forbidden")
		vic.Get(t, base+"/deployment/env/DATABASE_URL").WantError(t, 403, "forbidden")
		sly := s.SignUp(t, "sly")
		sly.Get(t, base+"/deployment/env").WantError(t, 404, "not_found")
		sly.Put(t, base+"/deployment/env/NODE_ENV", map[string]string{"value": "x"}).WantError(t, 404, "not_found")

		// Every change and reveal is in the audit log.
		var actions []string
		if err := s.App.DB.Select(t.Context(), &actions, `SELECT action FROM audit_log WHERE target LIKE 'deployment%' ORDER BY seq`); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(actions, "secret.set") || !slices.Contains(actions, "secret.reveal") {
			t.Fatalf("audit %v", actions)
		}

		// Resealing after a key change takes the overrides too.
		if n, err := vault.Reseal(t.Context()); err != nil || n != 6 {
			t.Fatalf("reseal = %d, %v; want the 3 secrets and 3 overrides", n, err)
		}

		dee.Delete(t, base+"/deployment/env/NODE_ENV").WantStatus(t, 204)
		dee.Delete(t, base+"/deployment/env/NODE_ENV").WantError(t, 404, "not_found")
		env, _ = vault.DeploymentEnv(t.Context(), created.Project.ID)
		if slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "NODE_ENV=") }) {
			t.Fatalf("deleted override still given: %v", env)
		}
	})
}
