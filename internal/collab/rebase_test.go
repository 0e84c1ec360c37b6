package collab

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"unicode/utf16"
)

func update(client, changes string) Update {
	return Update{ClientID: client, Changes: json.RawMessage(changes)}
}

// state is the document's text, version and kept log.
func (d *doc) state() (string, int, []Update) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return string(utf16.Decode(d.text)), d.version, append([]Update{}, d.log...)
}

// A push made before others' updates is rebased over them, not turned
// away; one sent again after it was accepted is not applied twice.
func TestStalePush(t *testing.T) {
	d := newDoc("a.txt", "hello", func(string, string) error { return nil })
	defer BenchDoc{d}.Settle()
	if err := d.push(0, []Update{update("ann", `[5,[0," world"]]`)}); err != nil {
		t.Fatal(err)
	}
	// bob typed "!" at the end without having seen ann's words.
	if err := d.push(0, []Update{update("bob", `[5,[0,"!"]]`)}); err != nil {
		t.Fatalf("stale push: %v", err)
	}
	text, version, log := d.state()
	if text != "hello world!" || version != 2 || string(log[1].Changes) != `[11,[0,"!"]]` {
		t.Fatalf("text %q at version %d, log %s", text, version, log[1].Changes)
	}

	// ann's confirmation got lost: she sends her update again, with a new one.
	if err := d.push(0, []Update{update("ann", `[5,[0," world"]]`), update("ann", `[[1,"H"],10]`)}); err != nil {
		t.Fatal(err)
	}
	text, version, log = d.state()
	if text != "Hello world!" || version != 3 || string(log[2].Changes) != `[[1,"H"],11]` {
		t.Fatalf("text %q at version %d, last %s", text, version, log[2].Changes)
	}
	// Nothing new in it at all: nothing happens.
	if err := d.push(1, []Update{update("bob", `[11,[0,"!"]]`)}); err != nil {
		t.Fatal(err)
	}
	if _, version, _ := d.state(); version != 3 {
		t.Fatalf("a duplicate moved the version to %d", version)
	}
}

// Only a push from before the kept log, or from a version the document
// never had, is rejected; a change that does not fit is refused.
func TestPushRejected(t *testing.T) {
	d := newDoc("a.txt", "", func(string, string) error { return nil })
	defer BenchDoc{d}.Settle()
	if err := d.push(0, []Update{update("ann", `[[0,"x"]]`)}); err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 2*maxLog; v++ { // the document at version v is v x's
		if err := d.push(v, []Update{update("ann", `[[0,"x"],`+strconv.Itoa(v)+`]`)}); err != nil {
			t.Fatal(err)
		}
	}
	d.mu.Lock()
	base, version := d.logBase, d.version
	d.mu.Unlock()
	if base == 0 {
		t.Fatal("the log was not trimmed")
	}
	for _, v := range []int{base - 1, version + 1} {
		if err := d.push(v, []Update{update("bob", `[[0,"y"]]`)}); !errors.Is(err, ErrRejected) {
			t.Fatalf("push at version %d of %d..%d: %v", v, base, version, err)
		}
	}
	if err := d.push(base, []Update{update("bob", `[[0,"y"]]`)}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a change of the wrong length at an old version: %v", err)
	}
	if err := d.push(base, []Update{update("bob", `[`+strconv.Itoa(base)+`,[0,"y"]]`)}); err != nil {
		t.Fatalf("push at the oldest kept version: %v", err)
	}
	if text, _, _ := d.state(); text[len(text)-1] != 'y' {
		t.Fatalf("bob's y is not at the end: %q", text[len(text)-5:])
	}
}
