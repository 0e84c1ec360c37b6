package attack_test

import (
	"strings"
	"testing"
	"time"

	"ecode/internal/testserver"
)

// socket is a project's WebSocket as c (nil: anonymous) opens it.
// noSecret fails unless out shows the mask and no part of the value a
// split print could have let through.
func noSecret(t *testing.T, who, out string) {
	t.Helper()
	if strings.Contains(out, "hunter2") || strings.Contains(out, "hun\x1b") || strings.Contains(out, "ter2") || !strings.Contains(out, "********") {
		t.Fatalf("%s sees %q", who, out)
	}
}

// A secret printed in two writes with a pause between them, as the
// console, run output, exec and a shell carry it: nobody sees it, and
// nothing of it, neither the owner nor a viewer nor an anonymous visitor
// of the public project.
func TestSecretSplitAcrossWrites(t *testing.T) {
	testserver.NeedSandbox(t)
	s := sqlite(t)
	ona := s.SignUp(t, "ona")
	p := ona.CreateProject(t, "Leaky")
	base := "/api/projects/" + p.ID
	ona.Patch(t, base, map[string]string{"visibility": "public"}).WantStatus(t, 200)
	ona.Put(t, base+"/secrets/PASSWORD", map[string]string{"value": "hunter2"}).WantStatus(t, 204)
	vic := s.SignUp(t, "vic")
	ona.Post(t, base+"/members", map[string]string{"username": "vic", "role": "viewer"}).WantStatus(t, 201)
	anon := s.Anonymous()

	const split = `printf 'hun'; sleep 0.2; printf 'ter2'; sleep 0.2; printf ' [%s]' "$PASSWORD" >&2; echo`
	res := sh(t, ona, p.ID, split)
	noSecret(t, "exec stdout", res.Stdout)
	noSecret(t, "exec stderr", res.Stderr)

	// Everyone follows the console from before the run starts.
	watchers := map[string]*socket{"owner": dialProject(t, s, ona, p.ID), "viewer": dialProject(t, s, vic, p.ID), "anonymous": dialProject(t, s, nil, p.ID)}
	for _, w := range watchers {
		w.send(map[string]any{"type": "console.subscribe"})
	}
	ona.Put(t, base+"/files/leak.sh", split+"\necho done\n").WantStatus(t, 204)
	ona.Put(t, base+"/files/ecode.toml", "run = \"sh leak.sh\"\n").WantStatus(t, 204)
	var started struct{ Run struct{ ID string } }
	ona.Post(t, base+"/run", nil).WantStatus(t, 202).Decode(t, &started)
	for who, w := range watchers {
		out := w.collect("", func(m wsMsg, seen string) bool {
			return m.Type == "run.status" && m.Run != nil && m.Run.ID == started.Run.ID && m.Run.Status != "starting" && m.Run.Status != "running"
		})
		if !strings.Contains(out, "done") {
			t.Fatalf("%s's console ended without the run's output: %q", who, out)
		}
		noSecret(t, who+"'s console", out)
	}
	for who, c := range map[string]*testserver.Client{"owner": ona, "viewer": vic, "anonymous": anon} {
		noSecret(t, who+"'s run output", string(c.Get(t, base+"/runs/"+started.Run.ID+"/output").WantStatus(t, 200).Body))
	}

	// A shell: typed there, the command's own echo is split anyway. Only
	// its editor sees a shell, and its held output is shown after a short
	// pause so typing stays immediate: pieces printed without pausing are
	// masked as one.
	const quick = `printf 'hun'; printf 'ter2'; printf ' [%s]' "$PASSWORD" >&2; echo`
	out := shellOutput(t, s, ona, p.ID, quick+"; echo shell-done; exit\n")
	if !strings.Contains(out, "shell-done") {
		t.Fatalf("shell: %q", out)
	}
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "********") {
		t.Fatalf("the shell shows %q", out)
	}
	healthy(t, s)
}

// Team secrets: a team's admins see and change their values; everyone
// who may edit a team project runs code with them in its environment (so
// masking, not the pane, is all that stands between them and the value,
// and the documentation says so); a team viewer runs nothing and sees the
// console masked.
func TestTeamSecretsReachEditorsRunsOnly(t *testing.T) {
	testserver.NeedSandbox(t)
	s := sqlite(t)
	adi := s.SignUp(t, "adi")
	adi.Post(t, "/api/teams", map[string]string{"name": "acme"}).WantStatus(t, 201)
	const value = "team-tok-4242"
	adi.Put(t, "/api/teams/acme/secrets/TEAM_TOKEN", map[string]string{"value": value}).WantStatus(t, 204)
	mel, vee := s.SignUp(t, "mel"), s.SignUp(t, "vee")
	adi.Post(t, "/api/teams/acme/members", map[string]string{"username": "mel", "role": "member"}).WantStatus(t, 201)
	adi.Post(t, "/api/teams/acme/members", map[string]string{"username": "vee", "role": "viewer"}).WantStatus(t, 201)
	var created struct{ Project testserver.Project }
	mel.Post(t, "/api/projects", map[string]string{"name": "Tool", "owner": "acme"}).WantStatus(t, 201).Decode(t, &created)
	base := "/api/projects/" + created.Project.ID

	// The pane: values are the admins'; a member sees only the names.
	var one struct{ Value string }
	adi.Get(t, "/api/teams/acme/secrets/TEAM_TOKEN").WantStatus(t, 200).Decode(t, &one)
	if one.Value != value {
		t.Fatalf("the admin reads %q", one.Value)
	}
	mel.Get(t, "/api/teams/acme/secrets").WantError(t, 403, "forbidden")
	mel.Get(t, "/api/teams/acme/secrets/TEAM_TOKEN").WantError(t, 403, "forbidden")
	mel.Put(t, "/api/teams/acme/secrets/TEAM_TOKEN", map[string]string{"value": "mine"}).WantError(t, 403, "forbidden")
	names := mel.Get(t, base+"/secrets").WantStatus(t, 200)
	if !strings.Contains(string(names.Body), `"TEAM_TOKEN"`) || strings.Contains(string(names.Body), value) {
		t.Fatalf("a member's project secrets: %s", names.Body)
	}

	// The member's code has it, and what prints it shows the mask.
	res := sh(t, mel, created.Project.ID, `[ "$TEAM_TOKEN" = "`+value+`" ] && echo has-it; echo "$TEAM_TOKEN"`)
	if res.Stdout != "has-it\n********\n" {
		t.Fatalf("a member's command printed %q", res.Stdout)
	}

	// A team viewer reads the project, runs nothing, and sees output masked.
	vee.Post(t, base+"/exec", map[string]any{"command": "echo $TEAM_TOKEN"}).WantError(t, 403, "forbidden")
	vee.Get(t, base+"/secrets").WantError(t, 403, "forbidden")
	mel.Put(t, base+"/files/ecode.toml", "run = \"echo token=$TEAM_TOKEN\"\n").WantStatus(t, 204)
	var started struct{ Run struct{ ID string } }
	mel.Post(t, base+"/run", nil).WantStatus(t, 202).Decode(t, &started)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := string(vee.Get(t, base+"/runs/"+started.Run.ID+"/output").WantStatus(t, 200).Body) // streams until the run ends
		if strings.Contains(out, value) {
			t.Fatalf("a team viewer sees the team secret: %q", out)
		}
		if strings.Contains(out, "token=********") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the viewer's console: %q", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	healthy(t, s)
}
