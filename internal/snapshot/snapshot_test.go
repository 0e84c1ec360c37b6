package snapshot_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ecode/internal/testserver"
)

type snapshotView struct {
	ID          string
	Env         string
	Commit      string
	Database    bool
	KVKeys      int64
	ObjectCount int64
	ObjectBytes int64
	CreatedBy   string
	Reason      string
}

type checkpointView struct{ ID, Message string }

// state is what the four parts of a project hold: a file, the rows of a
// table, a key and an object.
type state struct {
	File   string
	Items  string
	Color  string
	Photo  string
	Extras string // "", or the value of a key made after the snapshot
}

type project struct {
	srv *testserver.Server
	c   *testserver.Client
	id  string
}

func (p project) path(rest string) string { return "/api/projects/" + p.id + rest }

func (p project) sql(t *testing.T, sql string) [][]*string {
	t.Helper()
	var ans struct {
		Results []struct{ Rows [][]*string }
	}
	p.c.Post(t, p.path("/database/dev/query"), map[string]any{"sql": sql}).WantStatus(t, 200).Decode(t, &ans)
	return ans.Results[len(ans.Results)-1].Rows
}

func (p project) setKey(t *testing.T, key, value string) {
	t.Helper()
	p.c.Put(t, p.path("/kv/dev/value?key="+url.QueryEscape(key)), map[string]string{"value": value}).WantStatus(t, 200)
}

// key answers a key's value, or "" when there is none.
func (p project) key(t *testing.T, key string) string {
	t.Helper()
	res := p.c.Get(t, p.path("/kv/dev/value?key="+url.QueryEscape(key)))
	if res.StatusCode == 404 {
		return ""
	}
	var v struct{ Value string }
	res.WantStatus(t, 200).Decode(t, &v)
	return v.Value
}

func (p project) object(key string) string {
	return p.path("/storage/dev/buckets/default/object?key=" + url.QueryEscape(key))
}

// set changes all four parts.
func (p project) set(t *testing.T, s state) {
	t.Helper()
	p.c.Put(t, p.path("/files/notes.txt"), s.File).WantStatus(t, 204)
	p.sql(t, "DELETE FROM items; INSERT INTO items SELECT unnest(string_to_array('"+s.Items+"', ','))")
	p.setKey(t, "color", s.Color)
	if s.Extras != "" {
		p.setKey(t, "extra", s.Extras)
	}
	p.c.Put(t, p.object("photo.txt"), s.Photo).WantStatus(t, 200)
}

func (p project) get(t *testing.T) state {
	t.Helper()
	var names []string
	for _, r := range p.sql(t, "SELECT name FROM items ORDER BY name") {
		names = append(names, *r[0])
	}
	return state{
		File:   string(p.c.Get(t, p.path("/files/notes.txt")).WantStatus(t, 200).Body),
		Items:  strings.Join(names, ","),
		Color:  p.key(t, "color"),
		Extras: p.key(t, "extra"),
		Photo:  string(p.c.Get(t, p.object("photo.txt")).WantStatus(t, 200).Body),
	}
}

func (p project) want(t *testing.T, when string, want state) {
	t.Helper()
	if got := p.get(t); got != want {
		t.Fatalf("%s: %+v, want %+v", when, got, want)
	}
}

func newProject(t *testing.T, srv *testserver.Server) project {
	t.Helper()
	c := srv.SignUp(t, "alice")
	p := project{srv: srv, c: c, id: c.CreateProject(t, "Shop").ID}
	c.Post(t, p.path("/database"), map[string]string{"env": "dev"}).WantStatus(t, 201)
	p.sql(t, "CREATE TABLE items (name text PRIMARY KEY)")
	return p
}

func (p project) checkpointWithData(t *testing.T, msg string) (checkpointView, snapshotView) {
	t.Helper()
	var made struct {
		Checkpoint checkpointView
		Snapshot   snapshotView
	}
	p.c.Post(t, p.path("/snapshots"), map[string]string{"message": msg}).WantStatus(t, 201).Decode(t, &made)
	return made.Checkpoint, made.Snapshot
}

func (p project) snapshots(t *testing.T) []snapshotView {
	t.Helper()
	var list struct{ Snapshots []snapshotView }
	p.c.Get(t, p.path("/snapshots")).WantStatus(t, 200).Decode(t, &list)
	return list.Snapshots
}

// A checkpoint with data brings back the files, the database, the keys
// and the objects of its moment; restoring the checkpoint made just before
// the restore undoes it, all four.
func TestRestoreUndo(t *testing.T) {
	testserver.Each(t, func(t *testing.T, srv *testserver.Server) {
		p := newProject(t, srv)
		then := state{File: "v1", Items: "kept", Color: "blue", Photo: "old photo"}
		p.set(t, then)
		cp, snap := p.checkpointWithData(t, "With data")
		if !snap.Database || snap.KVKeys != 1 || snap.ObjectCount != 1 || snap.ObjectBytes != int64(len(then.Photo)) ||
			snap.Commit != cp.ID || snap.Reason != "manual" || snap.CreatedBy != p.c.User.ID {
			t.Fatalf("snapshot %+v of checkpoint %+v", snap, cp)
		}
		now := state{File: "v2", Items: "kept,later", Color: "red", Photo: "new photo", Extras: "made later"}
		p.set(t, now)

		var res struct {
			Checkpoint checkpointView
			Snapshot   snapshotView
			Undo       string
		}
		p.c.Post(t, p.path("/snapshots/"+cp.ID+"/restore"), nil).WantStatus(t, 200).Decode(t, &res)
		if res.Snapshot.ID != snap.ID || res.Undo == "" || res.Undo == cp.ID || !strings.HasPrefix(res.Checkpoint.Message, "Restore ") {
			t.Fatalf("restore %+v", res)
		}
		p.want(t, "restored", then)

		p.c.Post(t, p.path("/snapshots/"+res.Undo+"/restore"), nil).WantStatus(t, 200)
		p.want(t, "undone", now)

		list := p.snapshots(t)
		if len(list) != 3 || list[0].Reason != "restore" || list[1].Reason != "restore" || list[1].Commit != res.Undo || list[2].ID != snap.ID {
			t.Fatalf("snapshots, newest first: %+v", list)
		}
		bob := srv.SignUp(t, "bob")
		bob.Get(t, p.path("/snapshots")).WantStatus(t, 404)
		bob.Post(t, p.path("/snapshots/"+cp.ID+"/restore"), nil).WantStatus(t, 404)
		bob.Post(t, p.path("/snapshots"), map[string]string{}).WantStatus(t, 404)
		p.c.Post(t, p.path("/snapshots/"+strings.Repeat("0", 40)+"/restore"), nil).WantError(t, 404, "snapshot_not_found")
		p.want(t, "after refusals", now)
	})
}

// A restore whose database part fails leaves every part as it was: the
// database is put back, the keys, objects and files are never touched,
// and no checkpoint is made.
func TestRestoreFailureChangesNothing(t *testing.T) {
	testserver.Each(t, func(t *testing.T, srv *testserver.Server) {
		p := newProject(t, srv)
		p.set(t, state{File: "v1", Items: "kept", Color: "blue", Photo: "old photo"})
		cp, _ := p.checkpointWithData(t, "With data")
		now := state{File: "v2", Items: "kept,later", Color: "red", Photo: "new photo", Extras: "made later"}
		p.set(t, now)

		var backups struct{ Backups []struct{ ID, Kind string } }
		p.c.Get(t, p.path("/database/dev/backups")).WantStatus(t, 200).Decode(t, &backups)
		if len(backups.Backups) != 1 || backups.Backups[0].Kind != "snapshot" {
			t.Fatalf("backups %+v", backups.Backups)
		}
		dump := filepath.Join(srv.App.Config.DataDir, "backups", p.id, backups.Backups[0].ID+".dump")
		if err := os.WriteFile(dump, []byte("PGDMP and then nothing a restore can read"), 0o600); err != nil {
			t.Fatal(err)
		}
		var failed struct{ Error struct{ Message string } }
		p.c.Post(t, p.path("/snapshots/"+cp.ID+"/restore"), nil).WantError(t, 503, "snapshot_restore_failed").Decode(t, &failed)
		if m := failed.Error.Message; !strings.Contains(m, "The database was put back as it was.") || !strings.HasSuffix(m, "Nothing else was changed.") {
			t.Fatalf("the failure says: %s", m)
		}
		p.want(t, "after a failed restore", now)
		var history struct{ Checkpoints []checkpointView }
		p.c.Get(t, p.path("/history")).WantStatus(t, 200).Decode(t, &history)
		for _, c := range history.Checkpoints {
			if strings.Contains(c.Message, "estor") {
				t.Fatalf("history after a failed restore: %+v", history.Checkpoints)
			}
		}
		if list := p.snapshots(t); len(list) != 1 {
			t.Fatalf("snapshots after a failed restore: %+v", list)
		}
	})
}

// count answers how many rows of table name snapshot id.
func count(t *testing.T, srv *testserver.Server, table, id string) int {
	t.Helper()
	var n int
	if err := srv.App.DB.Get(context.Background(), &n, "SELECT count(*) FROM "+table+" WHERE snapshot_id = ?", id); err != nil {
		t.Fatal(err)
	}
	return n
}

// The newest 20 snapshots are kept, and those made by hand besides; the
// others are dropped with their parts. A deleted project's go with it.
func TestRetention(t *testing.T) {
	testserver.Each(t, func(t *testing.T, srv *testserver.Server) {
		c := srv.SignUp(t, "alice")
		p := project{srv: srv, c: c, id: c.CreateProject(t, "Notes").ID}
		p.setKey(t, "color", "blue")
		p.c.Put(t, p.object("photo.txt"), "photo").WantStatus(t, 200)
		// No file changed since the project was made: a checkpoint of its own all the same.
		cp, manual := p.checkpointWithData(t, "By hand")
		if cp.Message != "By hand" || manual.Database || manual.KVKeys != 1 || manual.ObjectCount != 1 {
			t.Fatalf("snapshot of a project without a database: %+v of %+v", manual, cp)
		}
		var first string
		for i := range 21 {
			p.c.Post(t, p.path("/snapshots/"+cp.ID+"/restore"), nil).WantStatus(t, 200)
			if i == 0 {
				first = p.snapshots(t)[0].ID
			}
		}
		list := p.snapshots(t)
		if len(list) != 21 || list[20].ID != manual.ID || list[19].ID == first {
			t.Fatalf("%d snapshots kept: %+v", len(list), list)
		}
		if n := count(t, srv, "kv_snapshot_entries", first) + count(t, srv, "storage_snapshot_objects", first); n != 0 {
			t.Fatalf("a dropped snapshot's parts: %d rows left", n)
		}
		if count(t, srv, "kv_snapshot_entries", manual.ID) != 1 || count(t, srv, "storage_snapshot_objects", manual.ID) != 1 {
			t.Fatal("the kept snapshot lost its parts")
		}

		c.Delete(t, p.path("")).WantStatus(t, 204)
		var left int
		if err := srv.App.DB.Get(context.Background(), &left, "SELECT count(*) FROM data_snapshots WHERE project_id = ?", p.id); err != nil {
			t.Fatal(err)
		}
		if left != 0 || count(t, srv, "storage_snapshot_objects", manual.ID) != 0 {
			t.Fatalf("a deleted project's snapshots: %d left", left)
		}
	})
}
