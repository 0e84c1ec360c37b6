package collab

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"unicode/utf16"
)

// Update is one accepted change, as clients push it and receive it.
type Update struct {
	ClientID string          `json:"clientID"`
	Changes  json.RawMessage `json:"changes"`
}

// ServerClient is the clientID of changes the server makes itself: a file
// changed on disk by a run, the agent or a checkpoint restore.
const ServerClient = "server"

// maxLog bounds the updates a document keeps for clients catching up
// after a drop; one further behind reloads the text.
const maxLog = 10_000

// ErrRejected answers a push made at a version whose later updates are
// no longer kept (or one the document never reached): the client opens
// the document again.
var ErrRejected = errors.New("pushed at a version no longer kept")

// doc is the authority for one open file: its text in UTF-16 code units
// with "\n" line breaks (see eol.go), its version (updates applied since
// it was loaded) and recent updates.
// Accepted updates reach every subscriber, the author included (that is
// the author's confirmation), only once the text holding them is on disk.
type doc struct {
	epoch string // tells a reloaded document from the one a client knew
	save  func(path, content string) error

	mu       sync.Mutex
	path     string // moves when the file does
	text     []uint16
	version  int
	log      []Update // the updates from version logBase on
	logBase  int
	pending  []Update // accepted, not yet on disk nor sent
	saved    int      // version up to which updates were written and sent
	flushing bool
	disk     string // the file's content last written to (or read from) disk
	eol      string // the file's line ending, written back in place of "\n"
	writing  bool   // a save is under way
	saves    int    // saves finished: a file read across one may be stale
	subs     map[*Peer]bool
	idle     func() // called once the last subscriber has left and all is flushed
}

// newDoc makes the document of a file holding file; save writes the
// file's new content.
func newDoc(path, file string, save func(path, content string) error) *doc {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &doc{path: path, epoch: hex.EncodeToString(b), save: save, text: utf16.Encode([]rune(toLF(file))),
		disk: file, eol: lineEnding(file, "\n"), subs: map[*Peer]bool{}}
}

// join subscribes p and sends it opened with the text and its version.
// The text may hold updates not yet on disk; p sees them again in the
// next doc.update, whose version tells it to skip them. Sent under the
// lock, opened is queued before any doc.update that p is a subscriber of.
func (d *doc) join(p *Peer, opened Message) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.subs[p] = true
	text, v := string(utf16.Decode(d.text)), d.version
	opened.Text, opened.Version, opened.Epoch = &text, &v, d.epoch
	p.send(opened)
}

// rejoin subscribes p, which knew the document at version of epoch, and
// sends it opened with the updates it missed; false when they are no
// longer kept. Only updates already on disk are handed out here: one of
// them may be p's own, and receiving it is p's confirmation. The rest
// reach p in the flush that writes them, after opened.
func (d *doc) rejoin(p *Peer, version int, epoch string, opened Message) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if epoch != d.epoch || version < d.logBase || version > d.version {
		return false
	}
	d.subs[p] = true
	opened.Updates = []Update{}
	if version < d.saved {
		opened.Updates = append(opened.Updates, d.log[version-d.logBase:d.saved-d.logBase]...)
	}
	opened.Version, opened.Epoch = &version, d.epoch
	p.send(opened)
	return true
}

// leave unsubscribes p; it reports whether no one is left.
func (d *doc) leave(p *Peer) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.subs, p)
	return len(d.subs) == 0
}

// push applies updates made at version; all of them or none. Updates
// made at an older version are rebased first (see rebase), so a client
// behind by a few updates is not turned away.
func (d *doc) push(version int, updates []Update) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pushLocked(version, updates)
}

func (d *doc) pushLocked(version int, updates []Update) error {
	if version < d.logBase || version > d.version {
		return ErrRejected
	}
	// The updates accepted since version, which the pushed ones have not seen.
	over := d.log[version-d.logBase:]
	overSets := make([]ChangeSet, len(over))
	for i, u := range over {
		cs, err := ParseChangeSet(u.Changes)
		if err != nil {
			return fmt.Errorf("logged update %d: %w", version+i, err) // it parsed when it came in
		}
		overSets[i] = cs
	}
	length := len(d.text) // at version
	if len(over) > 0 {
		length = overSets[0].Len()
	}
	// Check every update before applying any: all or none.
	sets := make([]ChangeSet, len(updates))
	for i, u := range updates {
		cs, err := ParseChangeSet(u.Changes)
		if err != nil {
			return fmt.Errorf("update %d: %w", i, err)
		}
		if cs.Len() != length {
			return fmt.Errorf("update %d: %w", i, invalid("changes a document of length %d, the document has %d", cs.Len(), length))
		}
		if u.ClientID == "" || len(u.ClientID) > 64 {
			return invalid("update %d has no clientID", i)
		}
		sets[i], length = cs, cs.NewLen()
	}
	if len(over) > 0 {
		var err error
		if updates, sets, err = rebase(updates, sets, over, overSets); err != nil {
			return err
		}
	}
	length = len(d.text)
	for i, cs := range sets {
		if cs.Len() != length {
			return invalid("update %d does not fit the document once rebased", i)
		}
		length = cs.NewLen()
	}
	for _, cs := range sets {
		d.text = cs.applyInPlace(d.text)
	}
	d.version += len(updates)
	d.log = append(d.log, updates...)
	d.pending = append(d.pending, updates...)
	if len(d.log) > 2*maxLog { // trimmed in halves, so a push costs no copy of the log
		drop := len(d.log) - maxLog
		d.log = append([]Update(nil), d.log[drop:]...)
		d.logBase += drop
	}
	if len(updates) > 0 && !d.flushing {
		d.flushing = true
		go d.flush()
	}
	return nil
}

// rebase moves updates, pushed with their parsed sets at an older
// version, over the updates accepted since (over, with theirs), one at a
// time: as @codemirror/collab's rebaseUpdates(updates, [o]) for each o in
// turn. A pushed update already among them (sent again after a lost
// confirmation: the leading ones from the same client) is dropped; the
// rest are mapped over each other update, placed after what it inserted
// at the same position.
//
// This is what each editor does to its unconfirmed changes when it
// receives the same updates one at a time (web/src/collab/live.ts calls
// receiveUpdates per update), so the editor's changes and the server's
// rebased ones are the same change sets and the texts converge. Mapping
// over several updates composed first, as rebaseUpdates does with all of
// over at once, can place an insertion differently from mapping over them
// one after another, and an editor that received them in other batches
// would drift apart.
func rebase(updates []Update, sets []ChangeSet, over []Update, overSets []ChangeSet) (_ []Update, _ []ChangeSet, err error) {
	// The lengths were checked, and CodeMirror's clients never send what
	// the operations cannot take; anything else a client makes them choke
	// on is its change's fault.
	defer func() {
		if r := recover(); r != nil {
			err = invalid("the changes cannot be rebased: %v", r)
		}
	}()
	sets = slices.Clone(sets)
	for i, o := range over {
		if len(sets) == 0 {
			break
		}
		if updates[0].ClientID == o.ClientID {
			updates, sets = updates[1:], sets[1:]
			continue
		}
		other := overSets[i]
		for j, cs := range sets {
			sets[j] = cs.Map(other, false)
			other = other.Map(cs, true)
		}
	}
	out := make([]Update, len(updates))
	for i, u := range updates {
		changes, merr := json.Marshal(sets[i])
		if merr != nil {
			return nil, nil, fmt.Errorf("rebased update %d: %w", i, merr)
		}
		out[i] = Update{ClientID: u.ClientID, Changes: changes}
	}
	return out, sets, nil
}

// flush writes the text to disk, then sends what it holds, and repeats
// while more arrives: one write covers every update that came meanwhile
// (group commit), so typing speed does not wait on fsync per keystroke.
func (d *doc) flush() {
	for {
		d.mu.Lock()
		batch, base := d.pending, d.saved
		if len(batch) == 0 {
			d.flushing = false
			idle := len(d.subs) == 0 && d.idle != nil
			d.mu.Unlock()
			if idle {
				d.idle()
			}
			return
		}
		d.pending = nil
		units, path, eol := slices.Clone(d.text), d.path, d.eol
		d.writing = true
		d.mu.Unlock()
		text := fromLF(string(utf16.Decode(units)), eol) // outside the lock: pushes go on meanwhile

		err := d.save(path, text)
		d.mu.Lock()
		d.writing = false
		d.saves++
		d.saved += len(batch) // with the subscribers taken below: a rejoin sees the batch here or in its doc.update
		if err == nil {
			d.disk = text
		}
		subs, path := d.peers(), d.path
		d.mu.Unlock()
		if err != nil {
			slog.Error("save collaborative document", "path", path, "err", err)
			for _, p := range subs {
				p.send(Message{Type: "error", ID: path, Code: "save_failed", Message: "Your changes could not be saved: " + describe(err)})
			}
		}
		for _, p := range subs {
			p.send(Message{Type: "doc.update", Path: path, Version: &base, Updates: batch})
		}
	}
}

func (d *doc) peers() []*Peer {
	out := make([]*Peer, 0, len(d.subs))
	for p := range d.subs {
		out = append(out, p)
	}
	return out
}

// saveCount is taken before reading the file, for external.
func (d *doc) saveCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.saves
}

// external takes what the file now holds on disk when the document did
// not write it: it becomes one update from the server, so open editors
// follow it and keep their own unconfirmed changes, and its line ending
// is the one written from then on. What was read while the document was
// saving (saves moved past the count taken before reading) may be the
// document's own write: it is left to the next file event.
func (d *doc) external(file string, saves int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if file == d.disk || d.writing || d.saves != saves {
		return
	}
	cur, text := string(utf16.Decode(d.text)), toLF(file)
	d.disk, d.eol = file, lineEnding(file, d.eol)
	if text == cur {
		return
	}
	changes, _ := json.Marshal(replaceAll(cur, text))
	if err := d.pushLocked(d.version, []Update{{ClientID: ServerClient, Changes: changes}}); err != nil {
		slog.Error("take a file's change on disk", "path", d.path, "err", err)
	}
}

// replaceAll is the smallest single replacement turning a into b: keep
// the common prefix and suffix, replace the middle.
func replaceAll(a, b string) ChangeSet {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	pre := 0
	for pre < len(ua) && pre < len(ub) && ua[pre] == ub[pre] {
		pre++
	}
	suf := 0
	for suf < len(ua)-pre && suf < len(ub)-pre && ua[len(ua)-1-suf] == ub[len(ub)-1-suf] {
		suf++
	}
	// Do not cut a surrogate pair in two.
	for pre > 0 && utf16.IsSurrogate(rune(ua[pre-1])) && ua[pre-1] < 0xdc00 {
		pre--
	}
	for suf > 0 && utf16.IsSurrogate(rune(ua[len(ua)-suf])) && ua[len(ua)-suf] >= 0xdc00 {
		suf--
	}
	var cs ChangeSet
	if pre > 0 {
		cs = append(cs, section{len: pre, ins: -1})
	}
	cs = append(cs, section{len: len(ua) - pre - suf, ins: len(ub) - pre - suf, text: ub[pre : len(ub)-suf]})
	if suf > 0 {
		cs = append(cs, section{len: suf, ins: -1})
	}
	return cs
}

func describe(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i < 200 {
		return msg[i+2:]
	}
	return msg
}
