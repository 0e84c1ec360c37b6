package collab

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"

	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"
	"unicode/utf16"
)

// The differential tests: the change set operations and the rebase
// against the real @codemirror/state and @codemirror/collab the web
// client runs (testdata/codemirror.mjs under node).

// codemirror starts testdata/codemirror.mjs with args, or skips the test
// when node or the web client's packages are not installed.
func codemirror(t *testing.T, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the differential test against CodeMirror needs it")
	}
	web, err := filepath.Abs("../../web")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"state", "collab"} {
		if _, err := os.Stat(filepath.Join(web, "node_modules/@codemirror", pkg, "dist/index.js")); err != nil {
			t.Skipf("web/node_modules has no @codemirror/%s (run npm ci in web/): the differential test against CodeMirror needs it", pkg)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, node, append([]string{"testdata/codemirror.mjs", web}, args...)...)
	cmd.Stderr = &testWriter{t}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	lines.Buffer(nil, 16<<20)
	return cmd, in, lines
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(b []byte) (int, error) {
	w.t.Logf("node: %s", b)
	return len(b), nil
}

// TestCodeMirrorOps compares Map, Compose and MapPos with CodeMirror's on
// random change sets: the sections must come out cut the same way, not
// only apply the same.
func TestCodeMirrorOps(t *testing.T) {
	const seed = 20261203
	cases := 3000
	if testing.Short() {
		cases = 300
	}
	_, _, lines := codemirror(t, "ops", strconv.Itoa(seed), strconv.Itoa(cases))
	n := 0
	for lines.Scan() {
		var c struct {
			A, B, C, Map, MapBefore, Compose    json.RawMessage
			MapDesc, MapDescBefore, ComposeDesc []int
			Positions                           [][3]int
		}
		if err := json.Unmarshal(lines.Bytes(), &c); err != nil {
			t.Fatalf("case %d: %v", n, err)
		}
		parse := func(raw json.RawMessage) ChangeSet {
			cs, err := ParseChangeSet(raw)
			if err != nil {
				t.Fatalf("case %d: %s: %v", n, raw, err)
			}
			return cs
		}
		a, b, cc := parse(c.A), parse(c.B), parse(c.C)
		for _, check := range []struct {
			what string
			got  ChangeSet
			want json.RawMessage
		}{
			{"a.map(b)", a.Map(b, false), c.Map},
			{"a.map(b, true)", a.Map(b, true), c.MapBefore},
			{"a.compose(c)", a.Compose(cc), c.Compose},
		} {
			got, _ := json.Marshal(check.got)
			if !sameJSON(got, check.want) {
				t.Fatalf("case %d: a=%s b=%s c=%s: %s = %s, CodeMirror %s", n, c.A, c.B, c.C, check.what, got, check.want)
			}
		}
		for _, check := range []struct {
			what string
			got  ChangeSet
			want []int
		}{
			{"a.mapDesc(b)", a.Map(b, false), c.MapDesc},
			{"a.mapDesc(b, true)", a.Map(b, true), c.MapDescBefore},
			{"a.composeDesc(c)", a.Compose(cc), c.ComposeDesc},
		} {
			if got := shape(check.got); !slices.Equal(got, check.want) {
				t.Fatalf("case %d: a=%s b=%s c=%s: %s = %v, CodeMirror %v", n, c.A, c.B, c.C, check.what, got, check.want)
			}
		}
		for _, p := range c.Positions {
			if got := a.MapPos(p[0], p[1]); got != p[2] {
				t.Fatalf("case %d: %s.mapPos(%d, %d) = %d, CodeMirror %d", n, c.A, p[0], p[1], got, p[2])
			}
		}
		n++
	}
	if n != cases {
		t.Fatalf("%d cases of %d: %v", n, cases, lines.Err())
	}
}

// shape is a change set as a ChangeDesc's JSON: length, then -1 or the
// length of the replacement, for each section.
func shape(cs ChangeSet) []int {
	out := []int{}
	for _, s := range cs {
		out = append(out, s.len, s.ins)
	}
	return out
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// TestCodeMirrorRebase has real CodeMirror editors (EditorState with the
// collab extension) work on one document with the document authority as
// their server: they type, push late and twice, and receive the updates
// in random batches. Every push the authority takes must come out as
// CodeMirror's own rebaseUpdates would make it, and in the end every
// editor holds the authority's text.
func TestCodeMirrorRebase(t *testing.T) {
	seeds, steps := 40, 400
	if n, err := strconv.Atoi(os.Getenv("CM_SEEDS")); err == nil {
		seeds = n // CM_SEEDS=1000 for a longer search; CM_TRACE=1 logs every step
	}
	if testing.Short() {
		seeds = 5
	}
	rebased := 0
	for seed := 1; seed <= seeds; seed++ {
		rebased += simulate(t, seed, steps)
	}
	if rebased == 0 {
		t.Fatal("no push was rebased: the simulation tests nothing")
	}
}

// simulate runs one seed of TestCodeMirrorRebase and returns how many
// pushes were rebased.
func simulate(t *testing.T, seed, steps int) int {
	_, in, lines := codemirror(t, "sim", strconv.Itoa(seed), strconv.Itoa(steps))
	var d *doc
	reply := func(v any) {
		b, _ := json.Marshal(v)
		if _, err := in.Write(append(b, '\n')); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	for lines.Scan() {
		var m struct {
			Op      string
			Text    string
			Version int
			From    int
			Updates []Update
			Message string
			Pushes  int
			Rebased int
			Edits   int
			Editors int
			Length  int
		}
		if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
			t.Fatalf("seed %d: %s: %v", seed, lines.Bytes(), err)
		}
		switch m.Op {
		case "start":
			d = newDoc("sim.txt", m.Text, func(string, string) error { return nil })
			reply(struct{}{})
		case "push":
			d.mu.Lock()
			before := d.version
			d.mu.Unlock()
			err := d.push(m.Version, m.Updates)
			switch {
			case errors.Is(err, ErrRejected):
				reply(map[string]bool{"rejected": true})
			case err != nil:
				reply(map[string]string{"error": err.Error()})
			default:
				reply(map[string][]Update{"accepted": d.updatesSince(before)})
			}
		case "pull":
			reply(map[string][]Update{"updates": d.updatesSince(m.From)})
		case "text":
			d.mu.Lock()
			text := string(utf16.Decode(d.text))
			d.mu.Unlock()
			reply(map[string]string{"text": text})
		case "fail":
			t.Fatalf("seed %d: %s", seed, m.Message)
		case "done":
			t.Logf("seed %d: %d editors, %d edits, %d pushes, %d rebased, %d units", seed, m.Editors, m.Edits, m.Pushes, m.Rebased, m.Length)
			return m.Rebased
		default:
			t.Fatalf("seed %d: %s", seed, lines.Bytes())
		}
	}
	t.Fatalf("seed %d: node ended early: %v", seed, lines.Err())
	return 0
}

func (d *doc) updatesSince(version int) []Update {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Update{}, d.log[version-d.logBase:]...)
}
