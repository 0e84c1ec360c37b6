package collab

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
	"unicode/utf16"
)

func u16(s string) []uint16 { return utf16.Encode([]rune(s)) }

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		doc, changes, want string
	}{
		{"hello", `[5,[0," world"]]`, "hello world"},
		{"hello world", `[[6],5]`, "world"},
		{"a😀b", `[1,[2,"🎉","x"],1]`, "a🎉\nxb"}, // the emoji is two UTF-16 units
		{"", `[[0,"line one","line two"]]`, "line one\nline two"},
		{"abc", `[]`, ""}, // length mismatch, checked below
	} {
		cs, err := ParseChangeSet(json.RawMessage(tc.changes))
		if err != nil {
			t.Fatalf("%s: %v", tc.changes, err)
		}
		got, err := cs.Apply(u16(tc.doc))
		if tc.changes == `[]` {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("length mismatch accepted: %v", err)
			}
			continue
		}
		if err != nil || string(utf16.Decode(got)) != tc.want {
			t.Fatalf("%q + %s = %q, %v; want %q", tc.doc, tc.changes, string(utf16.Decode(got)), err, tc.want)
		}
		// It writes back what it read.
		back, _ := json.Marshal(cs)
		if string(back) != tc.changes {
			t.Fatalf("round trip %s -> %s", tc.changes, back)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, bad := range []string{`{}`, `[-1]`, `[[-2]]`, `[[]]`, `[["x"]]`, `[[1,2]]`, `["a"]`, `[1.5]`, `null`, `[[0,"a\r","b"]]`, `[[0,"\r"]]`, `[0]`, `[[0]]`, `[[0,""]]`, `[2,0,1]`} {
		if _, err := ParseChangeSet(json.RawMessage(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestMapPos(t *testing.T) {
	cs, _ := ParseChangeSet(json.RawMessage(`[2,[0,"xy"],1,[2],1]`)) // "abcdef": insert at 2, delete 3..5
	for _, tc := range []struct{ pos, assoc, want int }{
		{0, 1, 0}, {2, -1, 2}, {2, 1, 4}, {3, 1, 5}, {4, -1, 5}, {4, 1, 5}, {5, 1, 5}, {6, 1, 6},
	} {
		if got := cs.MapPos(tc.pos, tc.assoc); got != tc.want {
			t.Errorf("MapPos(%d, %d) = %d, want %d", tc.pos, tc.assoc, got, tc.want)
		}
	}
}

func TestReplaceAll(t *testing.T) {
	for _, tc := range [][2]string{{"hello", "help"}, {"a😀b", "a😃b"}, {"", "new"}, {"same", "same"}, {"x\ny", "x\n\ny"}} {
		got, err := replaceAll(tc[0], tc[1]).Apply(u16(tc[0]))
		if err != nil || string(utf16.Decode(got)) != tc[1] {
			t.Errorf("%q -> %q: got %q, %v", tc[0], tc[1], string(utf16.Decode(got)), err)
		}
	}
}

// Whatever a client sends, parsing and applying never panic, and an
// applied change set always produces the length it promises.
func FuzzChangeSet(f *testing.F) {
	for _, seed := range []string{`[5,[0," world"]]`, `[[6],5]`, `[1,[2,"🎉","x"],1]`, `[]`, `[[0,""]]`, `[[99999999999]]`} {
		f.Add("hello world", seed)
	}
	f.Fuzz(func(t *testing.T, doc, changes string) {
		cs, err := ParseChangeSet(json.RawMessage(changes))
		if err != nil {
			return
		}
		out, err := cs.Apply(u16(doc))
		if err != nil {
			return
		}
		if want := cs.NewLen(); len(out) != want {
			t.Fatalf("applied length %d, want %d", len(out), want)
		}
	})
}

func mustParse(t *testing.T, raw string) ChangeSet {
	t.Helper()
	cs, err := ParseChangeSet(json.RawMessage(raw))
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return cs
}

func marshal(cs ChangeSet) string {
	b, _ := json.Marshal(cs)
	return string(b)
}

// Map and Compose give what @codemirror/state 6.7.6 gives for the same
// sets (TestCodeMirrorOps compares thousands more against it directly).
func TestMapAndCompose(t *testing.T) {
	for _, tc := range []struct{ a, b, mapped, before string }{
		// Two insertions at one place: b's first, unless a comes before.
		{`[2,[0,"x"],3]`, `[2,[0,"y"],3]`, `[3,[0,"x"],3]`, `[2,[0,"x"],4]`},
		// An insertion inside a range b deleted survives, at the range's place.
		{`[1,[0,"x"],4]`, `[[3],2]`, `[[0,"x"],2]`, `[[0,"x"],2]`},
		// Overlapping replacements: a keeps only what b left of its range.
		{`[1,[3,"ab"],1]`, `[2,[2,"Z"],1]`, `[1,[1,"ab"],2]`, `[1,[1,"ab"],2]`},
		{`[[5,"bc"],[0,"😀"],[3],4]`, `[[7,"🎉x"],[5]]`, `[[0,"bc"],3,[0,"😀"]]`, `[[0,"bc"],3,[0,"😀"]]`},
	} {
		a, b := mustParse(t, tc.a), mustParse(t, tc.b)
		if got := marshal(a.Map(b, false)); got != tc.mapped {
			t.Errorf("%s.Map(%s) = %s, want %s", tc.a, tc.b, got, tc.mapped)
		}
		if got := marshal(a.Map(b, true)); got != tc.before {
			t.Errorf("%s.Map(%s, before) = %s, want %s", tc.a, tc.b, got, tc.before)
		}
	}
	for _, tc := range []struct{ a, b, want string }{
		{`[[0,"ab"],3]`, `[1,[2,"X"],2]`, `[[1,"aX"],2]`},
		{`[1,[2,"xyz"],2]`, `[[2],3,[1]]`, `[[3,"yz"],1,[1]]`},
		{`[[7,"🎉x"],[5]]`, `[[0,"a"],3,[0,"🎉x"]]`, `[[0,"a"],[7,"🎉x"],[5],[0,"🎉x"]]`},
	} {
		if got := marshal(mustParse(t, tc.a).Compose(mustParse(t, tc.b))); got != tc.want {
			t.Errorf("%s.Compose(%s) = %s, want %s", tc.a, tc.b, got, tc.want)
		}
	}
}

// randomSet is a random change of a document of length n: up to three
// ranges, each replaced by up to two characters.
func randomSet(rng *rand.Rand, n int) ChangeSet {
	var cs ChangeSet
	pos := 0
	for range rng.IntN(4) {
		from := pos + rng.IntN(n-pos+1)
		to := from + rng.IntN(n-from+1)/2
		ins := u16("xy"[:rng.IntN(3)])
		if from == to && len(ins) == 0 {
			continue
		}
		cs.add(from-pos, -1, false)
		cs.add(to-from, len(ins), false)
		cs.addText(ins)
		pos = to
	}
	cs.add(n-pos, -1, false)
	return cs
}

// The guarantee rebasing rests on: two changes of one document, each
// mapped over the other (one of them before), make the same text
// whichever is applied first.
func TestMapConverges(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 5000 {
		doc := u16("abcdefghij"[:rng.IntN(11)])
		a, b := randomSet(rng, len(doc)), randomSet(rng, len(doc))
		ab, err1 := a.Compose(b.Map(a, false)).Apply(doc)
		ba, err2 := b.Compose(a.Map(b, true)).Apply(doc)
		if err1 != nil || err2 != nil || string(utf16.Decode(ab)) != string(utf16.Decode(ba)) {
			t.Fatalf("case %d: %q with a=%s b=%s: %q, %q (%v, %v)", i, string(utf16.Decode(doc)), marshal(a), marshal(b),
				string(utf16.Decode(ab)), string(utf16.Decode(ba)), err1, err2)
		}
	}
}
