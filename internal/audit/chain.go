package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"

	"ecode/internal/seal"
	"ecode/internal/store"
)

// keyPurpose names the audit chain's key among those derived from the
// master key: changing it would orphan every entry.
const keyPurpose = "ecode audit log mac v1"

// Log appends to the audit log. A nil *Log records nothing, so services
// built without one (tools, tests of other things) need no special case.
type Log struct {
	db      *store.DB
	current string            // id of the key new entries are made under
	keys    map[string][]byte // MAC keys by the id of the master key they come from
	anchor  string            // path of the anchor file; "" keeps none
	names   map[string]Namer  // by kind; a kind without one shows its ids alone

	mu sync.Mutex // one writer: the chain has one end
	// stuck is set once the anchor could not follow the log (its end
	// differs from the anchored head): the anchor keeps the evidence, and
	// later appends stop trying to move it until a restart.
	stuck bool
}

// New returns the audit log kept in db, chained under keys derived from
// the master keyring, its head anchored in the file at anchor ("" for
// none). Open also brings an older log up to date; New is for reading.
func New(db *store.DB, keyring *seal.Keyring, anchor string) *Log {
	return &Log{db: db, current: keyring.Current(), keys: keyring.Derive(keyPurpose), anchor: anchor}
}

// Open is New, then, once, re-chains a log written before chains were
// keyed (see upgrade). A missing anchor is made again at the next append,
// after the whole chain verifies.
func Open(ctx context.Context, db *store.DB, keyring *seal.Keyring, anchor string) (*Log, error) {
	l := New(db, keyring, anchor)
	n, err := l.upgrade(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		l.Record(ctx, Actor{}, "audit.rechain", "audit:log", map[string]any{"entries": n, "key": l.current, "from": "unkeyed"})
	}
	return l, nil
}

// OpenInstall opens the audit log of the installation whose data
// directory is dataDir, as the server and every admin command do: keyed
// by the master keyring, anchored in dataDir.
func OpenInstall(ctx context.Context, db *store.DB, keyring *seal.Keyring, dataDir string) (*Log, error) {
	return Open(ctx, db, keyring, filepath.Join(dataDir, AnchorFile))
}

// Head names the newest entry of a chain: enough, kept elsewhere, to show
// later that no entry up to it was removed or rewritten.
type Head struct {
	Seq int64  `json:"seq"`
	MAC string `json:"mac"`
}

// String is the head as `ecode admin verify-audit` prints and -anchor reads it.
func (h Head) String() string { return strconv.FormatInt(h.Seq, 10) + ":" + h.MAC }

// Broken says where the chain stopped holding.
type Broken struct {
	Seq    int64
	Reason string
}

func (b *Broken) Error() string {
	return fmt.Sprintf("audit log broken at entry %d: %s", b.Seq, b.Reason)
}

// Report is what Verify found.
type Report struct {
	Entries int64 // entries that hold
	Head    Head  // the newest entry that holds
	Anchors int   // anchors the head was checked against
}

// write feeds e's fields to h, each length-prefixed so no two entries
// read the same. The team joins only when set, so entries from before
// teams keep their sums; the key id joins only in keyed chains.
func (e *Entry) write(h hash.Hash, keyed bool) {
	fields := []string{strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.At, 10), e.ActorID, e.Actor, e.Action,
		e.Target, e.IP, e.UserAgent, e.Details, e.PrevMAC}
	if e.Team != "" {
		fields = append(fields, "team", e.Team)
	}
	if keyed {
		fields = append(fields, "key", e.KeyID)
	}
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
}

// sum is e's MAC under key.
func (e *Entry) sum(key []byte) string {
	h := hmac.New(sha256.New, key)
	e.write(h, true)
	return hex.EncodeToString(h.Sum(nil))
}

// legacySum is the unkeyed SHA-256 that entries carried before chains
// were keyed; only re-chaining reads it.
func (e *Entry) legacySum() string {
	h := sha256.New()
	e.write(h, false)
	return hex.EncodeToString(h.Sum(nil))
}

// check says why e does not hold under the log's keys, or "".
func (l *Log) check(e *Entry) string {
	if e.KeyID == "" {
		return "it carries no key: it was made before the chain was keyed and never re-chained"
	}
	key, ok := l.keys[e.KeyID]
	if !ok {
		return fmt.Sprintf("it was made under master key %s, which this server does not hold (put that key in ECODE_MASTER_KEY_PREVIOUS)", e.KeyID)
	}
	if !hmac.Equal([]byte(e.sum(key)), []byte(e.MAC)) {
		return "its contents were changed"
	}
	return ""
}

func (l *Log) append(ctx context.Context, e *Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last Head
	err := l.db.Get(ctx, &last, `SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1`)
	if err != nil && !store.NoRows(err) {
		return fmt.Errorf("read the chain's end: %w", err)
	}
	e.Seq, e.PrevMAC, e.KeyID = last.Seq+1, last.MAC, l.current
	e.MAC = e.sum(l.keys[l.current])
	_, err = l.db.Exec(ctx, `INSERT INTO audit_log (`+entryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At, e.ActorID, e.Actor, e.Action, e.Target, e.IP, e.UserAgent, e.Details, e.Team, e.KeyID, e.PrevMAC, e.MAC)
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	l.advance(ctx, Head{Seq: e.Seq, MAC: e.MAC}, e.PrevMAC)
	return nil
}

// advance moves the anchor to head, the entry just appended, whose
// predecessor's mac is prev. It moves only over entries that verify:
// when the log's end no longer meets the anchor (entries were removed or
// rewritten), the anchor stays as evidence and the error is logged.
func (l *Log) advance(ctx context.Context, head Head, prev string) {
	if l.anchor == "" || l.stuck {
		return
	}
	a, err := readAnchor(l.anchor)
	if err != nil {
		slog.ErrorContext(ctx, "audit anchor unreadable; left as it is", "path", l.anchor, "err", err)
		l.stuck = true
		return
	}
	follows := (a == nil && head.Seq == 1) || (a != nil && a.Seq == head.Seq-1 && a.MAC == prev)
	if !follows {
		// Another process appended too, or the anchor was lost: move it
		// only if the whole chain, anchor included, still holds.
		if _, err := l.verify(ctx, a, nil); err != nil {
			slog.ErrorContext(ctx, "audit log does not meet its anchor; the anchor is left as evidence (run ecode admin verify-audit)",
				"path", l.anchor, "err", err)
			l.stuck = true
			return
		}
		if a == nil {
			slog.WarnContext(ctx, "audit anchor was missing; anchored the verified head", "path", l.anchor, "seq", head.Seq)
		}
	}
	if err := writeAnchor(l.anchor, head); err != nil {
		slog.ErrorContext(ctx, "write audit anchor", "path", l.anchor, "err", err)
	}
}

// Verify walks the whole chain under the log's keys and checks its end
// against the anchor file and against each head in external (kept
// elsewhere by an operator). It returns what holds and, if an entry was
// changed, removed or added out of turn, where.
func (l *Log) Verify(ctx context.Context, external ...Head) (Report, error) {
	// No lock: the anchor is read before the walk, so entries appended
	// meanwhile only lengthen the log past it.
	var a *Head
	if l.anchor != "" {
		var err error
		if a, err = readAnchor(l.anchor); err != nil {
			return Report{}, err
		}
	}
	rep, err := l.verify(ctx, a, external)
	if err == nil && l.anchor != "" && a == nil && rep.Entries > 0 {
		err = &Broken{Seq: rep.Head.Seq, Reason: fmt.Sprintf(
			"the anchor file %s is missing, so removal of the newest entries cannot be ruled out (pass a head kept elsewhere with -anchor)", l.anchor)}
	}
	return rep, err
}

func (l *Log) verify(ctx context.Context, fileAnchor *Head, external []Head) (Report, error) {
	anchors := external
	if fileAnchor != nil {
		anchors = append([]Head{*fileAnchor}, external...)
	}
	at := map[int64]string{} // the macs the anchors name, as the walk meets them
	for _, a := range anchors {
		at[a.Seq] = ""
	}
	var rep Report
	err := walk(ctx, l.db, func(e *Entry) error {
		switch {
		case e.Seq != rep.Head.Seq+1:
			return &Broken{Seq: rep.Head.Seq + 1, Reason: fmt.Sprintf("entries %d to %d are missing", rep.Head.Seq+1, e.Seq-1)}
		case e.PrevMAC != rep.Head.MAC:
			return &Broken{Seq: e.Seq, Reason: "it does not follow the entry before it"}
		}
		if why := l.check(e); why != "" {
			return &Broken{Seq: e.Seq, Reason: why}
		}
		if _, ok := at[e.Seq]; ok {
			at[e.Seq] = e.MAC
		}
		rep.Head = Head{Seq: e.Seq, MAC: e.MAC}
		rep.Entries++
		return nil
	})
	if err != nil {
		return rep, err
	}
	for _, a := range anchors {
		switch {
		case a.Seq > rep.Head.Seq:
			return rep, &Broken{Seq: rep.Head.Seq + 1, Reason: fmt.Sprintf(
				"the log was truncated: it ends at entry %d, but its anchor names entry %d", rep.Head.Seq, a.Seq)}
		case a.Seq > 0 && !hmac.Equal([]byte(at[a.Seq]), []byte(a.MAC)):
			return rep, &Broken{Seq: a.Seq, Reason: "it is not the entry its anchor names: the log was rewritten from here"}
		}
		rep.Anchors++
	}
	return rep, nil
}

// walk calls fn with every entry in order of seq, a page at a time, read
// through q: the database, or the unit of work that rewrites them.
func walk(ctx context.Context, q store.Q, fn func(e *Entry) error) error {
	var from int64
	for {
		var page []Entry
		if err := q.Select(ctx, &page, `SELECT `+entryCols+` FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1000`, from); err != nil {
			return fmt.Errorf("read the audit log: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		from = page[len(page)-1].Seq
	}
}

// upgrade re-chains, under the current key, a log written before chains
// were keyed: once, while there is no anchor yet and every entry is
// unkeyed, and only if its old SHA-256 chain still holds, so re-chaining
// never launders an edit. Unkeyed entries found later stay unkeyed, and
// Verify reports them. It returns how many entries it re-chained.
func (l *Log) upgrade(ctx context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n struct {
		All     int64 `db:"all_entries"`
		Unkeyed int64 `db:"unkeyed"`
	}
	if err := l.db.Get(ctx, &n, `SELECT COUNT(*) AS all_entries,
		COALESCE(SUM(CASE WHEN key_id = '' THEN 1 ELSE 0 END), 0) AS unkeyed FROM audit_log`); err != nil {
		return 0, fmt.Errorf("count audit entries: %w", err)
	}
	if n.Unkeyed == 0 {
		return 0, nil
	}
	if l.anchor != "" {
		a, err := readAnchor(l.anchor)
		if err != nil {
			return 0, err
		}
		if a != nil {
			slog.ErrorContext(ctx, "audit log holds unkeyed entries after it was keyed; verify-audit reports them", "entries", n.Unkeyed)
			return 0, nil
		}
	}
	if n.Unkeyed != n.All {
		slog.ErrorContext(ctx, "audit log mixes unkeyed and keyed entries; not re-chained", "unkeyed", n.Unkeyed, "entries", n.All)
		return 0, nil
	}
	var want Head
	err := walk(ctx, l.db, func(e *Entry) error {
		if e.Seq != want.Seq+1 || e.PrevMAC != want.MAC || e.legacySum() != e.MAC {
			return &Broken{Seq: want.Seq + 1, Reason: "the unkeyed chain does not hold here"}
		}
		want = Head{Seq: e.Seq, MAC: e.MAC}
		return nil
	})
	var broken *Broken
	if errors.As(err, &broken) {
		slog.ErrorContext(ctx, "audit log's unkeyed chain is broken; not re-chained, so verify-audit shows where", "err", err)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	head, err := l.rechain(ctx, func(e *Entry) bool { return e.legacySum() == e.MAC })
	if err != nil {
		return 0, err
	}
	slog.WarnContext(ctx, "audit log re-chained under the master key: its entries were unkeyed", "entries", n.All, "key", l.current, "head", head.String())
	return n.All, nil
}

// Rechain re-makes every entry's mac under the current master key, as
// `ecode admin reseal` does after a rotation, so the old key can go. It
// refuses a chain that does not verify (anchor included): re-chaining must
// not launder an edit. It returns the entries re-chained and the new head.
func (l *Log) Rechain(ctx context.Context) (int64, Head, error) {
	l.mu.Lock()
	rep, err := l.verifyLocked(ctx)
	if err != nil {
		l.mu.Unlock()
		return 0, Head{}, fmt.Errorf("re-chain the audit log: %w", err)
	}
	head, err := l.rechain(ctx, func(e *Entry) bool { return l.check(e) == "" })
	l.mu.Unlock()
	if err != nil {
		return 0, Head{}, err
	}
	l.Record(ctx, Actor{}, "audit.rechain", "audit:log", map[string]any{"entries": rep.Entries, "key": l.current})
	return rep.Entries, head, nil
}

func (l *Log) verifyLocked(ctx context.Context) (Report, error) {
	var a *Head
	if l.anchor != "" {
		var err error
		if a, err = readAnchor(l.anchor); err != nil {
			return Report{}, err
		}
	}
	return l.verify(ctx, a, nil)
}

// rechain rewrites every mac under the current key in one transaction,
// checking each entry with holds as it goes (the caller verified the
// chain; this keeps a write racing the transaction from slipping in), and
// anchors the new head. l.mu is held.
func (l *Log) rechain(ctx context.Context, holds func(e *Entry) bool) (Head, error) {
	var head Head
	err := l.db.Tx(ctx, func(q store.Q) error {
		return walk(ctx, q, func(e *Entry) error {
			if !holds(e) {
				return &Broken{Seq: e.Seq, Reason: "it changed while the log was re-chained"}
			}
			e.KeyID, e.PrevMAC = l.current, head.MAC
			e.MAC = e.sum(l.keys[l.current])
			if _, err := q.Exec(ctx, `UPDATE audit_log SET key_id = ?, prev_mac = ?, mac = ? WHERE seq = ?`, e.KeyID, e.PrevMAC, e.MAC, e.Seq); err != nil {
				return fmt.Errorf("re-chain entry %d: %w", e.Seq, err)
			}
			head = Head{Seq: e.Seq, MAC: e.MAC}
			return nil
		})
	})
	if err != nil {
		return Head{}, fmt.Errorf("re-chain the audit log: %w", err)
	}
	if l.anchor != "" {
		if err := writeAnchor(l.anchor, head); err != nil {
			return head, err
		}
	}
	return head, nil
}
