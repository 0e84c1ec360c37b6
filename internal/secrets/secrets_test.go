package secrets_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

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
		p := rex.CreateProject(t, "Rotate")
		rex.Put(t, "/api/projects/"+p.ID+"/secrets/DB_URL", map[string]string{"value": "postgres://secret"}).WantStatus(t, 204)

		both, err := seal.Load(newKey, "", oldKey)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := secrets.NewService(s.App.DB, both, nil).Reseal(t.Context()); err != nil || n != 1 {
			t.Fatalf("reseal = %d, %v", n, err)
		}
		onlyNew, _ := seal.Load(newKey, "", "")
		env, err := secrets.NewService(s.App.DB, onlyNew, nil).Env(t.Context(), p.ID)
		if err != nil || len(env) != 1 || env[0] != "DB_URL=postgres://secret" {
			t.Fatalf("env with the new key = %v, %v", env, err)
		}
		onlyOld, _ := seal.Load(oldKey, "", "")
		if _, err := secrets.NewService(s.App.DB, onlyOld, nil).Env(t.Context(), p.ID); !errors.Is(err, seal.ErrUnknownKey) {
			t.Fatalf("the old key still opens it: %v", err)
		}
	}, testserver.WithMasterKey(oldKey))
}
