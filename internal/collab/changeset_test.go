package collab

import (
	"encoding/json"
	"errors"
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
	for _, bad := range []string{`{}`, `[-1]`, `[[-2]]`, `[[]]`, `[["x"]]`, `[[1,2]]`, `["a"]`, `[1.5]`, `null`, `[[0,"a\r","b"]]`, `[[0,"\r"]]`} {
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
		want := 0
		for _, s := range cs {
			want += s.keep + len(s.insert)
		}
		if len(out) != want {
			t.Fatalf("applied length %d, want %d", len(out), want)
		}
	})
}
