package project_test

import (
	"bytes"
	"strings"
	"testing"

	"ecode/internal/testserver"
)

type fileChange struct {
	Path, From, Change string
	Added, Removed     int
	Binary             bool
	Diff, Note         string
}

type checkpointDiff struct {
	Checkpoint checkpoint
	Against    *checkpoint
	Files      []fileChange
	Truncated  bool
}

func byPath(t *testing.T, d checkpointDiff) map[string]fileChange {
	t.Helper()
	out := map[string]fileChange{}
	for _, f := range d.Files {
		out[f.Path] = f
	}
	return out
}

// TestCheckpointDiff opens a checkpoint and sees each kind of change
// against the one before: created, modified, deleted, renamed, binary and
// too large to compare.
func TestCheckpointDiff(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ivy := s.SignUp(t, "ivy")
		p := ivy.CreateProject(t, "Diffs")
		base := "/api/projects/" + p.ID
		checkpointNow := func(msg string) string {
			var out struct{ Checkpoint checkpoint }
			ivy.Post(t, base+"/checkpoints", map[string]string{"message": msg}).WantStatus(t, 201).Decode(t, &out)
			return out.Checkpoint.ID
		}
		var hist struct{ Checkpoints []checkpoint }
		ivy.Get(t, base+"/history").WantStatus(t, 200).Decode(t, &hist)
		created := hist.Checkpoints[0].ID

		big := strings.Repeat("a line of a large generated file\n", 40_000) // over 1 MiB
		moved := strings.Repeat("a file that only moves keeps its lines\n", 20)
		ivy.Put(t, base+"/files/a.txt", "one\ntwo\nthree\n").WantStatus(t, 204)
		ivy.Put(t, base+"/files/gone.txt", "bye\n").WantStatus(t, 204)
		ivy.Put(t, base+"/files/img.bin", []byte{0x89, 'P', 'N', 'G', 0, 1, 2}).WantStatus(t, 204)
		ivy.Put(t, base+"/files/big.txt", big).WantStatus(t, 204)
		ivy.Put(t, base+"/files/old/name.txt", moved).WantStatus(t, 204)
		first := checkpointNow("first")

		var d checkpointDiff
		ivy.Get(t, base+"/history/"+first+"/diff").WantStatus(t, 200).Decode(t, &d)
		if d.Against == nil || d.Against.ID != created || d.Checkpoint.ID != first || len(d.Files) != 5 {
			t.Fatalf("first diff = %+v", d)
		}
		if a := byPath(t, d)["a.txt"]; a.Change != "created" || a.Added != 3 || a.Removed != 0 || !strings.Contains(a.Diff, "+two\n") {
			t.Fatalf("a.txt created = %+v", a)
		}

		ivy.Put(t, base+"/files/a.txt", "one\n2\nthree\nfour\n").WantStatus(t, 204)
		ivy.Delete(t, base+"/files/gone.txt").WantStatus(t, 204)
		ivy.Put(t, base+"/files/img.bin", []byte{0x89, 'P', 'N', 'G', 0, 9, 9, 9}).WantStatus(t, 204)
		ivy.Put(t, base+"/files/big.txt", big+"one more\n").WantStatus(t, 204)
		ivy.Post(t, base+"/move", map[string]string{"from": "old/name.txt", "to": "new/name.txt"}).WantStatus(t, 204)
		second := checkpointNow("second")

		ivy.Get(t, base+"/history/"+second+"/diff").WantStatus(t, 200).Decode(t, &d)
		files := byPath(t, d)
		if len(files) != 5 || d.Against.ID != first || d.Truncated {
			t.Fatalf("second diff = %+v", d)
		}
		a := files["a.txt"]
		if a.Change != "modified" || a.Added != 2 || a.Removed != 1 {
			t.Fatalf("a.txt = %+v", a)
		}
		for _, want := range []string{"--- a/a.txt\n", "+++ b/a.txt\n", "@@ ", "-two\n", "+2\n", "+four\n"} {
			if !strings.Contains(a.Diff, want) {
				t.Errorf("a.txt diff lacks %q:\n%s", want, a.Diff)
			}
		}
		if g := files["gone.txt"]; g.Change != "deleted" || g.Removed != 1 || !strings.Contains(g.Diff, "-bye") {
			t.Errorf("gone.txt = %+v", g)
		}
		if b := files["img.bin"]; b.Change != "modified" || !b.Binary || b.Diff != "" || !strings.HasPrefix(b.Note, "Binary file") {
			t.Errorf("img.bin = %+v", b)
		}
		if b := files["big.txt"]; b.Change != "modified" || b.Diff != "" || !strings.HasPrefix(b.Note, "Large file") {
			t.Errorf("big.txt = %+v", b)
		}
		if m := files["new/name.txt"]; m.Change != "renamed" || m.From != "old/name.txt" || m.Added != 0 || m.Removed != 0 {
			t.Errorf("new/name.txt = %+v", m)
		}

		// Against any other checkpoint: here the project's first, so a.txt is new again.
		ivy.Get(t, base+"/history/"+second+"/diff?against="+created).WantStatus(t, 200).Decode(t, &d)
		if a := byPath(t, d)["a.txt"]; d.Against.ID != created || a.Change != "created" || a.Added != 4 {
			t.Fatalf("against the first checkpoint: %+v", d)
		}
		// The first checkpoint of all has nothing before it.
		ivy.Get(t, base+"/history/"+created+"/diff").WantStatus(t, 200).Decode(t, &d)
		if d.Against != nil || d.Checkpoint.ID != created {
			t.Fatalf("first checkpoint's diff = %+v", d)
		}

		ivy.Get(t, base+"/history/nope/diff").WantError(t, 400, "invalid_checkpoint")
		ivy.Get(t, base+"/history/"+second+"/diff?against=nope").WantError(t, 400, "invalid_checkpoint")
		ivy.Get(t, base+"/history/"+strings.Repeat("0", 40)+"/diff").WantError(t, 404, "not_found")
		s.SignUp(t, "jon").Get(t, base+"/history/"+second+"/diff").WantError(t, 404, "not_found")
	})
}

// TestCheckpointDiffLimits: one answer never grows past its cap, however
// many lines change.
func TestCheckpointDiffLimits(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		kai := s.SignUp(t, "kai")
		p := kai.CreateProject(t, "Many")
		base := "/api/projects/" + p.ID
		var lines bytes.Buffer
		for i := range 9000 { // under the size compared line by line, over what one file shows
			lines.WriteString(strings.Repeat("x", 90) + string(rune('a'+i%26)) + "\n")
		}
		for _, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r"} {
			kai.Put(t, base+"/files/"+name+".txt", lines.String()).WantStatus(t, 204)
		}
		var out struct{ Checkpoint checkpoint }
		kai.Post(t, base+"/checkpoints", map[string]string{"message": "lots"}).WantStatus(t, 201).Decode(t, &out)
		var d checkpointDiff
		res := kai.Get(t, base+"/history/"+out.Checkpoint.ID+"/diff").WantStatus(t, 200)
		res.Decode(t, &d)
		if len(res.Body) > 1<<20+64<<10 {
			t.Fatalf("the answer is %d bytes", len(res.Body))
		}
		if len(d.Files) != 18 {
			t.Fatalf("%d files listed, want 18", len(d.Files))
		}
		a := d.Files[0]
		if a.Added != 9000 || !strings.HasSuffix(a.Diff, "[diff truncated]\n") {
			t.Fatalf("a.txt: +%d, diff ends %q", a.Added, a.Diff[max(0, len(a.Diff)-40):])
		}
		if last := d.Files[17]; last.Diff != "" || !strings.Contains(last.Note, "size limit") || last.Added != 9000 {
			t.Fatalf("past the cap: %+v", last.Note)
		}
	})
}
