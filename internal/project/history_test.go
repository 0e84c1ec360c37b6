package project_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ecode/internal/testserver"
)

type checkpoint struct {
	ID, Short, Message, Author string
	Auto                       bool
}

func TestCheckpointsAndRestore(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		lia := s.SignUp(t, "lia")
		p := lia.CreateProject(t, "History")
		base := "/api/projects/" + p.ID
		var hist struct{ Checkpoints []checkpoint }
		lia.Get(t, base+"/history").WantStatus(t, 200).Decode(t, &hist)
		if len(hist.Checkpoints) != 1 || hist.Checkpoints[0].Author != "lia" {
			t.Fatalf("first history = %+v", hist.Checkpoints)
		}

		lia.Put(t, base+"/files/a.txt", "one").WantStatus(t, 204)
		lia.Put(t, base+"/files/run.sh", "#!/bin/sh\necho hi\n").WantStatus(t, 204)
		script := filepath.Join(s.App.Projects.Dir(p.ID), "run.sh")
		if err := os.Chmod(script, 0o755); err != nil { // as chmod +x in the shell would
			t.Fatal(err)
		}
		var made struct {
			Checkpoint checkpoint
			Changed    bool
		}
		lia.Post(t, base+"/checkpoints", map[string]string{"message": "first words"}).WantStatus(t, 201).Decode(t, &made)
		if !made.Changed || made.Checkpoint.Message != "first words" {
			t.Fatalf("checkpoint = %+v", made)
		}
		one := made.Checkpoint.ID
		lia.Post(t, base+"/checkpoints", map[string]string{"message": "nothing new"}).WantStatus(t, 200).Decode(t, &made)
		if made.Changed || made.Checkpoint.ID != one {
			t.Fatalf("empty checkpoint = %+v", made)
		}

		lia.Put(t, base+"/files/a.txt", "two").WantStatus(t, 204)
		lia.Put(t, base+"/files/b/new.txt", "added later").WantStatus(t, 204)
		// Restoring keeps the unsaved state in a checkpoint of its own, then goes back.
		var restored struct{ Checkpoint checkpoint }
		lia.Post(t, base+"/restore", map[string]string{"checkpoint": one}).WantStatus(t, 200).Decode(t, &restored)
		if got := string(lia.Get(t, base+"/files/a.txt").Body); got != "one" {
			t.Fatalf("a.txt after restore = %q", got)
		}
		if info, err := os.Stat(script); err != nil || info.Mode().Perm()&0o111 == 0 {
			t.Fatalf("run.sh lost its executable bit in the restore: %v %v", info.Mode(), err)
		}
		lia.Get(t, base+"/files/b/new.txt").WantError(t, 404, "not_found")
		lia.Get(t, base+"/history").Decode(t, &hist)
		if len(hist.Checkpoints) != 4 || hist.Checkpoints[1].Message != "Before restoring "+one[:7] || !hist.Checkpoints[1].Auto {
			t.Fatalf("history after restore = %+v", hist.Checkpoints)
		}
		if hist.Checkpoints[0].Auto || hist.Checkpoints[2].Auto {
			t.Fatalf("only the checkpoint before the restore is automatic: %+v", hist.Checkpoints)
		}
		// Undo the restore: go back to the checkpoint made just before it.
		lia.Post(t, base+"/restore", map[string]string{"checkpoint": hist.Checkpoints[1].ID}).WantStatus(t, 200)
		if got := string(lia.Get(t, base+"/files/a.txt").Body); got != "two" {
			t.Fatalf("a.txt after undoing the restore = %q", got)
		}
		if got := string(lia.Get(t, base+"/files/b/new.txt").WantStatus(t, 200).Body); got != "added later" {
			t.Fatalf("b/new.txt after undo = %q", got)
		}

		lia.Post(t, base+"/restore", map[string]string{"checkpoint": "nope"}).WantError(t, 400, "invalid_checkpoint")
		lia.Post(t, base+"/restore", map[string]string{"checkpoint": "0123456789012345678901234567890123456789"}).WantError(t, 404, "not_found")
		s.SignUp(t, "max").Get(t, base+"/history").WantError(t, 404, "not_found")
	})
}

// eventually waits for cond, failing the test after a few seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

// TestAutoCheckpoints: edits that settle are checkpointed by themselves,
// named for the files they changed; nothing new, no checkpoint.
func TestAutoCheckpoints(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		uma := s.SignUp(t, "uma")
		p := uma.CreateProject(t, "Auto")
		base := "/api/projects/" + p.ID
		history := func() []checkpoint {
			var hist struct{ Checkpoints []checkpoint }
			uma.Get(t, base+"/history").WantStatus(t, 200).Decode(t, &hist)
			return hist.Checkpoints
		}
		uma.Put(t, base+"/files/a.txt", "one").WantStatus(t, 204)
		uma.Put(t, base+"/files/b.txt", "two").WantStatus(t, 204)
		uma.Put(t, base+"/files/c/d.txt", "three").WantStatus(t, 204)
		eventually(t, "an automatic checkpoint", func() bool { return len(history()) == 2 })
		auto := history()[0]
		if !auto.Auto || auto.Author != "E-Code" || auto.Message != "Auto: 3 files changed: a.txt, b.txt, c/d.txt" {
			t.Fatalf("automatic checkpoint = %+v", auto)
		}
		// The same bytes again change nothing: no checkpoint.
		uma.Put(t, base+"/files/a.txt", "one").WantStatus(t, 204)
		if made, err := s.App.Projects.AutoCheckpoint(t.Context(), p.ID); err != nil || made {
			t.Fatalf("checkpoint of nothing new: %v %v", made, err)
		}
		if h := history(); len(h) != 2 || h[0].ID != auto.ID {
			t.Fatalf("history after an unchanged edit = %+v", h)
		}
		// A person's checkpoint right after an automatic one names that state.
		var named struct {
			Checkpoint checkpoint
			Changed    bool
		}
		uma.Post(t, base+"/checkpoints", map[string]string{"message": "works"}).WantStatus(t, 201).Decode(t, &named)
		if !named.Changed || named.Checkpoint.Auto || named.Checkpoint.Message != "works" {
			t.Fatalf("named checkpoint = %+v", named)
		}
		uma.Post(t, base+"/checkpoints", map[string]string{"message": "again"}).WantStatus(t, 200)
	}, testserver.WithAutoCheckpoint(300*time.Millisecond, 0))
}

// TestAutoCheckpointsListed: the history lists every checkpoint people
// made and only the newest automatic ones.
func TestAutoCheckpointsListed(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		vic := s.SignUp(t, "vic")
		p := vic.CreateProject(t, "Busy")
		base := "/api/projects/" + p.ID
		const autos = 23 // three more than are listed
		for i := range autos {
			vic.Put(t, base+"/files/f.txt", fmt.Sprint(i)).WantStatus(t, 204)
			if i == 1 {
				vic.Post(t, base+"/checkpoints", map[string]string{"message": "mine"}).WantStatus(t, 201)
				continue
			}
			if made, err := s.App.Projects.AutoCheckpoint(t.Context(), p.ID); err != nil || !made {
				t.Fatalf("automatic checkpoint %d: %v %v", i, made, err)
			}
		}
		var hist struct {
			Checkpoints []checkpoint
			OmittedAuto int
		}
		vic.Get(t, base+"/history").WantStatus(t, 200).Decode(t, &hist)
		// The current one, the 20 automatic ones before it, "mine" and the first.
		if n := len(hist.Checkpoints); n != 23 || hist.OmittedAuto != 1 {
			t.Fatalf("%d listed, %d left out", n, hist.OmittedAuto)
		}
		if c := hist.Checkpoints[21]; c.Message != "mine" || c.Auto {
			t.Fatalf("the person's checkpoint among the old automatic ones: %+v", c)
		}
	})
}

func TestFork(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ned := s.SignUp(t, "ned")
		p := ned.CreateProject(t, "Original")
		base := "/api/projects/" + p.ID
		ned.Put(t, base+"/files/src/app.js", "app").WantStatus(t, 204)
		ned.Put(t, base+"/files/node_modules/dep/index.js", "dep").WantStatus(t, 204)
		ned.Post(t, base+"/checkpoints", map[string]string{"message": "work"}).WantStatus(t, 201)
		ned.Put(t, base+"/files/unsaved.txt", "not checkpointed").WantStatus(t, 204)

		ora := s.SignUp(t, "ora")
		ora.Post(t, base+"/fork", map[string]string{}).WantError(t, 404, "not_found") // private
		ned.Patch(t, base, map[string]string{"visibility": "public"}).WantStatus(t, 200)
		var out struct{ Project testserver.Project }
		ora.Post(t, base+"/fork", map[string]string{}).WantStatus(t, 201).Decode(t, &out)
		f := out.Project
		if f.Owner != "ora" || f.Slug != "original" || f.Visibility != "private" || !f.CanEdit {
			t.Fatalf("fork = %+v", f)
		}
		fb := "/api/projects/" + f.ID
		for path, want := range map[string]string{"src/app.js": "app", "unsaved.txt": "not checkpointed"} {
			if got := string(ora.Get(t, fb+"/files/"+path).WantStatus(t, 200).Body); got != want {
				t.Errorf("%s = %q", path, got)
			}
		}
		ora.Get(t, fb+"/files/node_modules/dep/index.js").WantError(t, 404, "not_found")
		var hist struct{ Checkpoints []checkpoint }
		ora.Get(t, fb+"/history").Decode(t, &hist)
		if len(hist.Checkpoints) != 2 || hist.Checkpoints[0].Message != "work" {
			t.Fatalf("fork history = %+v", hist.Checkpoints)
		}
		// Changing the fork leaves the original alone.
		ora.Put(t, fb+"/files/src/app.js", "mine").WantStatus(t, 204)
		if got := string(ned.Get(t, base+"/files/src/app.js").Body); got != "app" {
			t.Fatalf("original changed to %q", got)
		}
		ora.Post(t, base+"/fork", map[string]string{}).WantError(t, 409, "project_exists")
		ora.Post(t, base+"/fork", map[string]string{"name": "Copy Two"}).WantStatus(t, 201)
		s.Anonymous().Post(t, base+"/fork", map[string]string{}).WantError(t, 401, "unauthenticated")
	})
}
