package secrets_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"ecode/internal/access"
	"ecode/internal/seal"
	"ecode/internal/secrets"
	"ecode/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

func TestSecrets(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ona := s.SignUp(t, "ona")
		p := ona.CreateProject(t, "Keys")
		base := "/api/projects/" + p.ID
		const value = "sk-live-5ecret-value"
		ona.Put(t, base+"/secrets/API_KEY", map[string]string{"value": value}).WantStatus(t, 204)
		ona.Put(t, base+"/secrets/9BAD", map[string]string{"value": "x"}).WantError(t, 400, "invalid_name")

		var list struct {
			Secrets []struct{ Name, UpdatedBy string }
		}
		res := ona.Get(t, base+"/secrets").WantStatus(t, 200)
		res.Decode(t, &list)
		body := res.Body
		if len(list.Secrets) != 1 || list.Secrets[0].Name != "API_KEY" || list.Secrets[0].UpdatedBy != "ona" || strings.Contains(string(body), value) {
			t.Fatalf("list = %s", body)
		}
		var one struct{ Value string }
		ona.Get(t, base+"/secrets/API_KEY").WantStatus(t, 200).Decode(t, &one)
		if one.Value != value {
			t.Fatalf("revealed %q", one.Value)
		}
		// At rest it is sealed: the value is nowhere in the table.
		var stored string
		if err := s.App.DB.Get(t.Context(), &stored, `SELECT value FROM project_secrets`); err != nil || strings.Contains(stored, value) || !strings.HasPrefix(stored, "v1:") {
			t.Fatalf("stored %q, %v", stored, err)
		}

		// Viewers do not see secrets; strangers do not see the project.
		vic := s.SignUp(t, "vic")
		ona.Post(t, base+"/members", map[string]string{"username": "vic", "role": "viewer"}).WantStatus(t, 201)
		vic.Get(t, base+"/secrets").WantError(t, 403, "forbidden")
		vic.Get(t, base+"/secrets/API_KEY").WantError(t, 403, "forbidden")
		s.SignUp(t, "sly").Get(t, base+"/secrets/API_KEY").WantError(t, 404, "not_found")

		ona.Delete(t, base+"/secrets/API_KEY").WantStatus(t, 204)
		ona.Delete(t, base+"/secrets/API_KEY").WantError(t, 404, "not_found")
	})
}

// A secret reaches the sandbox's environment, and what prints it shows
// the mask.
func TestSecretsReachRunsMasked(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		pat := s.SignUp(t, "pat")
		p := pat.CreateProject(t, "Env")
		base := "/api/projects/" + p.ID
		const value = "tok-123456789"
		pat.Put(t, base+"/secrets/TOKEN", map[string]string{"value": value}).WantStatus(t, 204)

		var res struct {
			ExitCode int
			Stdout   string
		}
		pat.Post(t, base+"/exec", map[string]string{"command": `echo "token=$TOKEN"; [ "$TOKEN" = "` + value + `" ] && echo same`}).
			WantStatus(t, 200).Decode(t, &res)
		if res.Stdout != "token=********\nsame\n" {
			t.Fatalf("exec printed %q", res.Stdout)
		}

		pat.Put(t, base+"/files/ecode.toml", "run = \"echo run sees $TOKEN\"\n").WantStatus(t, 204)
		var run struct{ Run struct{ ID string } }
		pat.Post(t, base+"/run", nil).WantStatus(t, 202).Decode(t, &run)
		deadline := time.Now().Add(20 * time.Second)
		for {
			out := string(pat.Get(t, base+"/runs/"+run.Run.ID+"/output").Body) // streams until the run ends
			if strings.Contains(out, value) {
				t.Fatalf("the console shows the secret: %q", out)
			}
			if strings.Contains(out, "run sees ********") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("console: %q", out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// Rotation: with the new master key current and the old one kept as
// previous, resealing moves every value to the new key; the old key alone
// opens nothing afterwards, the new one alone opens everything.
func TestReseal(t *testing.T) {
	oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, seal.KeySize))
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, seal.KeySize))
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		rex := s.SignUp(t, "rex")
		rex.Post(t, "/api/teams", map[string]string{"name": "rotators"}).WantStatus(t, 201)
		rex.Put(t, "/api/teams/rotators/secrets/SHARED", map[string]string{"value": "team-secret"}).WantStatus(t, 204)
		var created struct{ Project struct{ ID string } }
		rex.Post(t, "/api/projects", map[string]string{"name": "Rotate", "owner": "rotators"}).WantStatus(t, 201).Decode(t, &created)
		p := created.Project
		rex.Put(t, "/api/projects/"+p.ID+"/secrets/DB_URL", map[string]string{"value": "postgres://secret"}).WantStatus(t, 204)

		with := func(current, previous string) *secrets.Service {
			keys, err := seal.Load(current, "", previous)
			if err != nil {
				t.Fatal(err)
			}
			return secrets.NewService(s.App.DB, keys, s.App.Projects, access.NewResolver(s.App.DB), nil)
		}
		if n, err := with(newKey, oldKey).Reseal(t.Context()); err != nil || n != 2 {
			t.Fatalf("reseal = %d, %v", n, err)
		}
		env, err := with(newKey, "").Env(t.Context(), p.ID)
		if err != nil || strings.Join(env, " ") != "DB_URL=postgres://secret SHARED=team-secret" {
			t.Fatalf("env with the new key = %v, %v", env, err)
		}
		if _, err := with(oldKey, "").Env(t.Context(), p.ID); !errors.Is(err, seal.ErrUnknownKey) {
			t.Fatalf("the old key still opens it: %v", err)
		}
	}, testserver.WithMasterKey(oldKey))
}

// A team's secrets reach every team project's sandbox, masked; a
// project's own secret of the same name wins; changing a team secret
// reaches the next command.
func TestTeamSecretsReachProjects(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		tia := s.SignUp(t, "tia")
		tia.Post(t, "/api/teams", map[string]string{"name": "vault"}).WantStatus(t, 201)
		tia.Put(t, "/api/teams/vault/secrets/SHARED", map[string]string{"value": "shared-value-1"}).WantStatus(t, 204)
		tia.Put(t, "/api/teams/vault/secrets/REGION", map[string]string{"value": "team-region"}).WantStatus(t, 204)
		var created struct{ Project struct{ ID string } }
		tia.Post(t, "/api/projects", map[string]string{"name": "App", "owner": "vault"}).WantStatus(t, 201).Decode(t, &created)
		base := "/api/projects/" + created.Project.ID
		tia.Put(t, base+"/secrets/REGION", map[string]string{"value": "project-region"}).WantStatus(t, 204)

		exec := func() string {
			var res struct{ Stdout string }
			tia.Post(t, base+"/exec", map[string]string{"command": `echo "$SHARED $REGION"; [ "$REGION" = project-region ] && echo own-wins`}).
				WantStatus(t, 200).Decode(t, &res)
			return res.Stdout
		}
		if got := exec(); got != "******** ********\nown-wins\n" {
			t.Fatalf("exec printed %q", got)
		}
		tia.Put(t, "/api/teams/vault/secrets/SHARED", map[string]string{"value": "shared-value-2"}).WantStatus(t, 204)
		var res struct{ Stdout string }
		tia.Post(t, base+"/exec", map[string]string{"command": `[ "$SHARED" = shared-value-2 ] && echo changed`}).WantStatus(t, 200).Decode(t, &res)
		if res.Stdout != "changed\n" {
			t.Fatalf("after the change: %q", res.Stdout)
		}
		var stored string
		if err := s.App.DB.Get(t.Context(), &stored, `SELECT value FROM team_secrets WHERE name = 'SHARED'`); err != nil || strings.Contains(stored, "shared-value") {
			t.Fatalf("stored %q, %v", stored, err)
		}
		// The project's editors see which team secrets it gets, not their values.
		var list struct{ Secrets, TeamSecrets []struct{ Name string } }
		tia.Get(t, base+"/secrets").WantStatus(t, 200).Decode(t, &list)
		if len(list.Secrets) != 1 || len(list.TeamSecrets) != 2 || list.TeamSecrets[0].Name != "REGION" {
			t.Fatalf("project secrets = %+v", list)
		}
		// Members edit the projects but do not read the team's secrets.
		mo := s.SignUp(t, "moe")
		tia.Post(t, "/api/teams/vault/members", map[string]string{"username": "moe", "role": "member"}).WantStatus(t, 201)
		mo.Get(t, "/api/teams/vault/secrets").WantError(t, 403, "forbidden")
		mo.Get(t, "/api/teams/vault/secrets/SHARED").WantError(t, 403, "forbidden")
	})
}
