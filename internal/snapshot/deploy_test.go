package snapshot_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// The test binary is also the sandbox agent: deploys build in sandboxes.
func TestMain(m *testing.M) { testserver.Main(m) }

// A deploy keeps production's data with the checkpoint it deploys, when
// there is any (the database part is a backup the Database pane lists);
// restoring that snapshot brings production's data back alone, undoably.
func TestDeployKeepsProductionData(t *testing.T) {
	testserver.NeedSandbox(t)
	srv := testserver.New(t, testdb.Engines(t)[0])
	c := srv.SignUp(t, "alice")
	p := project{srv: srv, c: c, id: c.CreateProject(t, "Site").ID}
	c.Put(t, p.path("/files/ecode.toml"), "[deployment]\npublicDir = \"web\"\n").WantStatus(t, 204)
	c.Put(t, p.path("/files/web/index.html"), "<h1>hi</h1>").WantStatus(t, 204)
	c.Post(t, p.path("/database"), map[string]string{"env": "prod"}).WantStatus(t, 201)
	c.Put(t, p.path("/kv/prod/value?key="+url.QueryEscape("visits")), map[string]string{"value": "41"}).WantStatus(t, 200)

	var out struct{ Release struct{ ID string } }
	c.Post(t, p.path("/deployments"), map[string]any{}).WantStatus(t, 202).Decode(t, &out)
	// The log streams until the release is built.
	log := string(c.Get(t, p.path("/releases/"+out.Release.ID+"/log")).WantStatus(t, 200).Body)
	var state struct {
		Releases []struct{ Status, Commit string }
	}
	c.Get(t, p.path("/deployment")).WantStatus(t, 200).Decode(t, &state)
	if len(state.Releases) != 1 || state.Releases[0].Status != "ready" {
		t.Fatalf("releases %+v: %s", state.Releases, log)
	}
	commit := state.Releases[0].Commit
	if !strings.Contains(log, "Kept production's data with checkpoint "+commit[:7]+": the database, 1 key, 0 objects.") {
		t.Fatalf("deploy log: %s", log)
	}
	var kept struct {
		Commit string `db:"commit_hash"`
		Reason string `db:"reason"`
		Keys   int    `db:"kv_keys"`
	}
	if err := srv.App.DB.Get(context.Background(), &kept, `SELECT commit_hash, reason, kv_keys FROM data_snapshots WHERE project_id = ? AND env = 'prod'`, p.id); err != nil {
		t.Fatal(err)
	}
	if kept.Commit != commit || kept.Reason != "deploy" || kept.Keys != 1 {
		t.Fatalf("production's snapshot %+v, want of %s", kept, commit)
	}
	var backups struct{ Backups []struct{ Kind string } }
	c.Get(t, p.path("/database/prod/backups")).WantStatus(t, 200).Decode(t, &backups)
	if len(backups.Backups) != 1 || backups.Backups[0].Kind != "snapshot" {
		t.Fatalf("production backups %+v", backups.Backups)
	}

	// Production's data changes after the deploy; its snapshot brings it back.
	visits := p.path("/kv/prod/value?key=visits")
	c.Put(t, visits, map[string]string{"value": "99"}).WantStatus(t, 200)
	c.Put(t, p.path("/kv/prod/value?key=later"), map[string]string{"value": "1"}).WantStatus(t, 200)
	var list struct {
		Snapshots []struct{ ID, Env, Reason string }
	}
	c.Get(t, p.path("/snapshots?env=prod")).WantStatus(t, 200).Decode(t, &list)
	if len(list.Snapshots) != 1 || list.Snapshots[0].Env != "prod" || list.Snapshots[0].Reason != "deploy" {
		t.Fatalf("production's snapshots %+v", list.Snapshots)
	}
	value := func() string {
		var v struct{ Value string }
		c.Get(t, visits).WantStatus(t, 200).Decode(t, &v)
		return v.Value
	}
	srv.SignUp(t, "mallory").Post(t, p.path("/data-snapshots/"+list.Snapshots[0].ID+"/restore"), nil).WantStatus(t, 404)
	var restored struct {
		Snapshot struct{ ID string }
		Undo     string
	}
	c.Post(t, p.path("/data-snapshots/"+list.Snapshots[0].ID+"/restore"), nil).WantStatus(t, 200).Decode(t, &restored)
	if value() != "41" || restored.Undo == "" {
		t.Fatalf("after the restore: visits %q, %+v", value(), restored)
	}
	c.Get(t, p.path("/kv/prod/value?key=later")).WantStatus(t, 404)
	c.Post(t, p.path("/data-snapshots/"+restored.Undo+"/restore"), nil).WantStatus(t, 200)
	if value() != "99" {
		t.Fatalf("after the undo: visits %q", value())
	}
	c.Get(t, p.path("/kv/prod/value?key=later")).WantStatus(t, 200)
	c.Get(t, p.path("/snapshots?env=staging")).WantError(t, 400, "invalid_env")
}
