package project_test

import (
	"testing"

	"ecode/internal/testserver"
)

type checkpoint struct{ ID, Short, Message, Author string }

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
		lia.Get(t, base+"/files/b/new.txt").WantError(t, 404, "not_found")
		lia.Get(t, base+"/history").Decode(t, &hist)
		if len(hist.Checkpoints) != 4 || hist.Checkpoints[1].Message != "Before restoring "+one[:7] {
			t.Fatalf("history after restore = %+v", hist.Checkpoints)
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
