package audit_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"ecode/internal/audit"
	"ecode/internal/seal"
	"ecode/internal/testserver"
)

// serverKeys is the master keyring of s, loaded as the admin commands load it.
func serverKeys(t *testing.T, s *testserver.Server) *seal.Keyring {
	t.Helper()
	c := s.App.Config
	keys, err := seal.Load(c.MasterKey, filepath.Join(c.DataDir, "master.key"), c.PreviousKeys)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// serverLog opens s's audit log as `ecode admin verify-audit` does.
func serverLog(t *testing.T, s *testserver.Server) *audit.Log {
	t.Helper()
	log, err := audit.OpenInstall(t.Context(), s.App.DB, serverKeys(t, s), s.App.Config.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	return log
}

func TestAuditChain(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		amy := s.SignUp(t, "amy")
		s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "amy", "password": "wrong-password"}).WantStatus(t, 401)
		p := amy.CreateProject(t, "Audited")
		base := "/api/projects/" + p.ID
		amy.Post(t, "/api/tokens", map[string]string{"name": "ci"}).WantStatus(t, 201)
		amy.Put(t, base+"/secrets/KEY", map[string]string{"value": "very-secret"}).WantStatus(t, 204)
		amy.Get(t, base+"/secrets/KEY").WantStatus(t, 200)
		s.SignUp(t, "bob")
		amy.Post(t, base+"/members", map[string]string{"username": "bob", "role": "viewer"}).WantStatus(t, 201)
		amy.Patch(t, base, map[string]string{"visibility": "public"}).WantStatus(t, 200)

		var mine struct {
			Entries []struct{ Action, Target, IP, Details string }
		}
		amy.Get(t, "/api/user/audit").WantStatus(t, 200).Decode(t, &mine)
		var actions []string
		for _, e := range mine.Entries {
			actions = append(actions, e.Action)
			if strings.Contains(e.Details, "very-secret") {
				t.Fatalf("a secret's value is in the log: %+v", e)
			}
			if e.IP != "127.0.0.1" {
				t.Fatalf("entry without the caller's address: %+v", e)
			}
		}
		got := strings.Join(actions, ",")
		for _, want := range []string{"project.visibility", "member.add", "secret.reveal", "secret.set", "token.create", "login.failure", "login", "account.create"} {
			if !strings.Contains(got, want) {
				t.Errorf("amy's log lacks %s: %s", want, got)
			}
		}
		s.Anonymous().Get(t, "/api/user/audit").WantError(t, 401, "unauthenticated")
		jsonl := string(amy.Get(t, "/api/user/audit?format=jsonl").WantStatus(t, 200).Body)
		if strings.Count(jsonl, "\n") != len(mine.Entries) {
			t.Fatalf("JSON lines export: %q", jsonl)
		}

		for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
			var e audit.Entry
			if err := json.Unmarshal([]byte(line), &e); err != nil || len(e.MAC) != 64 || e.KeyID == "" {
				t.Fatalf("exported entry without its mac: %s", line)
			}
		}

		log := serverLog(t, s)
		rep, err := log.Verify(t.Context())
		if err != nil || rep.Entries < int64(len(mine.Entries)) || rep.Anchors != 1 {
			t.Fatalf("verify = %+v, %v", rep, err)
		}
		// Editing one entry is found, at that entry.
		if _, err := s.App.DB.Exec(t.Context(), `UPDATE audit_log SET target = 'project:someone-else' WHERE seq = 3`); err != nil {
			t.Fatal(err)
		}
		var broken *audit.Broken
		if _, err := log.Verify(t.Context()); !errors.As(err, &broken) || broken.Seq != 3 || !strings.Contains(broken.Reason, "changed") {
			t.Fatalf("an edit went unnoticed: %v", err)
		}
		// So is deleting one, even after recomputing its neighbour's hash would be needed.
		if _, err := s.App.DB.Exec(t.Context(), `DELETE FROM audit_log WHERE seq IN (3, 5)`); err != nil {
			t.Fatal(err)
		}
		if _, err := log.Verify(t.Context()); !errors.As(err, &broken) || broken.Seq != 3 || !strings.Contains(broken.Reason, "missing") {
			t.Fatalf("a deletion went unnoticed: %v", err)
		}
	})
}

func TestAdminAuditSearch(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		root := s.SignUp(t, "olive") // the first account administers the platform
		amy := s.SignUp(t, "amy")
		var me struct{ User struct{ IsAdmin bool } }
		root.Get(t, "/api/auth/me").Decode(t, &me)
		if !me.User.IsAdmin {
			t.Fatal("the first account is not an administrator")
		}
		amy.Get(t, "/api/auth/me").Decode(t, &me)
		if me.User.IsAdmin {
			t.Fatal("the second account is an administrator")
		}
		amy.Post(t, "/api/tokens", map[string]string{"name": "ci"}).WantStatus(t, 201)
		p := amy.CreateProject(t, "Mine")
		amy.Put(t, "/api/projects/"+p.ID+"/secrets/A", map[string]string{"value": "xyzzy-1"}).WantStatus(t, 204)

		amy.Get(t, "/api/admin/audit").WantError(t, 403, "forbidden")
		s.Anonymous().Get(t, "/api/admin/audit").WantError(t, 401, "unauthenticated")
		var found struct {
			Entries []struct{ Action, Actor, Target string }
		}
		root.Get(t, "/api/admin/audit?action=token").WantStatus(t, 200).Decode(t, &found)
		if len(found.Entries) != 1 || found.Entries[0].Action != "token.create" || found.Entries[0].Actor != "amy" {
			t.Fatalf("token entries = %+v", found.Entries)
		}
		root.Get(t, "/api/admin/audit?target=project:"+p.ID).WantStatus(t, 200).Decode(t, &found)
		if len(found.Entries) != 1 || found.Entries[0].Action != "secret.set" {
			t.Fatalf("project entries = %+v", found.Entries)
		}
		csv := string(root.Get(t, "/api/admin/audit?format=csv&action=account.create").WantStatus(t, 200).Body)
		if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "seq,at,actor_id") ||
			!strings.HasSuffix(lines[0], ",key_id,prev_mac,mac,actor_name,target_name") {
			t.Fatalf("csv = %q", csv)
		}

		var v struct {
			Intact   bool
			Entries  int
			BrokenAt int
			Head     audit.Head
		}
		root.Post(t, "/api/admin/audit/verify", nil).WantStatus(t, 200).Decode(t, &v)
		if !v.Intact || v.Entries == 0 || v.Head.Seq != int64(v.Entries) || len(v.Head.MAC) != 64 {
			t.Fatalf("verify = %+v", v)
		}
		if _, err := s.App.DB.Exec(t.Context(), `UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		root.Post(t, "/api/admin/audit/verify", nil).WantStatus(t, 200).Decode(t, &v)
		if v.Intact || v.BrokenAt != 2 {
			t.Fatalf("after tampering: %+v", v)
		}
	})
}

// TestAuditNames: listings name the people, projects and teams entries
// are about, as they are called now, keep the ids beside, and say when
// something is gone.
func TestAuditNames(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		root := s.SignUp(t, "olive")
		amy := s.SignUp(t, "amy")
		p := amy.CreateProject(t, "Garden")
		amy.Put(t, "/api/projects/"+p.ID+"/secrets/KEY", map[string]string{"value": "xyzzy-1"}).WantStatus(t, 204)
		amy.Patch(t, "/api/projects/"+p.ID, map[string]string{"visibility": "public"}).WantStatus(t, 200)
		amy.Post(t, "/api/teams", map[string]string{"name": "crew", "displayName": "The Crew"}).WantStatus(t, 201)

		type entry struct{ Action, ActorID, ActorName, Target, TargetName string }
		var found struct{ Entries []entry }
		byAction := func(c *testserver.Client, path string) map[string]entry {
			t.Helper()
			c.Get(t, path).WantStatus(t, 200).Decode(t, &found)
			out := map[string]entry{}
			for _, e := range found.Entries {
				out[e.Action] = e
			}
			return out
		}
		got := byAction(root, "/api/admin/audit")
		for action, want := range map[string]entry{
			"project.visibility": {ActorID: amy.User.ID, ActorName: "amy", Target: "project:" + p.ID, TargetName: "project Garden"},
			"secret.set":         {ActorID: amy.User.ID, ActorName: "amy", Target: "project:" + p.ID + "/KEY", TargetName: "project Garden / KEY"},
			"team.create":        {ActorID: amy.User.ID, ActorName: "amy", TargetName: "team crew"},
			"account.create":     {ActorName: "olive", TargetName: "user olive"},
		} {
			e := got[action]
			if e.ActorName != want.ActorName || e.TargetName != want.TargetName ||
				(want.ActorID != "" && e.ActorID != want.ActorID) || (want.Target != "" && e.Target != want.Target) {
				t.Errorf("%s: %+v, want %+v", action, e, want)
			}
		}
		// A person's own log is named too.
		if e := byAction(amy, "/api/user/audit")["account.create"]; e.TargetName != "user amy" {
			t.Errorf("own log: %+v", e)
		}

		amy.Do(t, "DELETE", "/api/projects/"+p.ID, nil).WantStatus(t, 204)
		got = byAction(root, "/api/admin/audit?target=project:"+p.ID)
		if e := got["secret.set"]; e.TargetName != "deleted project ("+p.ID+") / KEY" {
			t.Errorf("after the project went: %+v", e)
		}
		if e := got["project.delete"]; e.ActorName != "amy" || e.TargetName != "deleted project ("+p.ID+")" {
			t.Errorf("the deletion: %+v", e)
		}
		csv := string(root.Get(t, "/api/admin/audit?format=csv&action=team.create").WantStatus(t, 200).Body)
		if !strings.Contains(csv, ",amy,team crew") {
			t.Errorf("csv without names: %q", csv)
		}
	})
}
