package project

import (
	"slices"
	"testing"
	"time"
)

// TestAutoCheckpointSchedule: a project is checkpointed once its edits
// have been quiet for Quiet, and no sooner than Gap after its last
// automatic checkpoint.
func TestAutoCheckpointSchedule(t *testing.T) {
	opts := AutoCheckpoints{Quiet: time.Minute, Gap: 5 * time.Minute}
	t0 := time.Unix(1_700_000_000, 0)
	q := &autoQueue{changed: map[string]time.Time{}, took: map[string]time.Time{}, wake: make(chan struct{}, 1)}
	due := func(at time.Duration) ([]string, time.Duration) {
		ids, next := q.due(t0.Add(at), opts)
		if next.IsZero() {
			return ids, 0
		}
		return ids, next.Sub(t0)
	}

	q.edited("p", t0)
	q.edited("p", t0.Add(30*time.Second)) // still typing: the wait starts again
	if ids, next := due(60 * time.Second); len(ids) != 0 || next != 90*time.Second {
		t.Fatalf("during the edits: %v, next at %v", ids, next)
	}
	if ids, next := due(90 * time.Second); !slices.Equal(ids, []string{"p"}) || next != 0 {
		t.Fatalf("once quiet: %v, next at %v", ids, next)
	}
	q.checkpointed("p", t0.Add(90*time.Second))

	// Edits right after a checkpoint wait for the gap, not just the quiet.
	q.edited("p", t0.Add(2*time.Minute))
	if ids, next := due(4 * time.Minute); len(ids) != 0 || next != 6*time.Minute+30*time.Second {
		t.Fatalf("within the gap: %v, next at %v", ids, next)
	}
	if ids, _ := due(6*time.Minute + 30*time.Second); !slices.Equal(ids, []string{"p"}) {
		t.Fatalf("after the gap: %v", ids)
	}
	// Nothing waiting: nothing due, and the gap is forgotten once over.
	if ids, next := due(20 * time.Minute); len(ids) != 0 || next != 0 || len(q.took) != 0 {
		t.Fatalf("idle: %v, next %v, took %v", ids, next, q.took)
	}
	q.edited("gone", t0.Add(20*time.Minute))
	q.forget("gone")
	if ids, _ := due(time.Hour); len(ids) != 0 {
		t.Fatalf("a deleted project is checkpointed: %v", ids)
	}
}

func TestAutoLabel(t *testing.T) {
	for _, c := range []struct {
		files []string
		want  string
	}{
		{[]string{"a.js"}, "Auto: 1 file changed: a.js"},
		{[]string{"a.js", "b/c.css", "d.md"}, "Auto: 3 files changed: a.js, b/c.css, d.md"},
		{[]string{"1", "2", "3", "4", "5"}, "Auto: 5 files changed: 1, 2, 3 and 2 more"},
	} {
		if got := autoLabel(c.files); got != c.want {
			t.Errorf("autoLabel(%q) = %q, want %q", c.files, got, c.want)
		}
	}
}
