// Package audit is the append-only record of what happened to accounts,
// projects and their secrets: who did what to which, from where, when.
// Each entry holds the hash of the entry before it, so editing or
// deleting any entry breaks the chain, and Verify finds where.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"ecode/internal/httpx"
	"ecode/internal/store"
)

// Entry is one thing that happened.
type Entry struct {
	Seq       int64  `json:"seq" db:"seq"`
	At        int64  `json:"at" db:"at"`
	ActorID   string `json:"actorId" db:"actor_id"`
	Actor     string `json:"actor" db:"actor"`
	Action    string `json:"action" db:"action"`
	Target    string `json:"target" db:"target"`
	IP        string `json:"ip" db:"ip"`
	UserAgent string `json:"userAgent" db:"user_agent"`
	Details   string `json:"details" db:"details"` // JSON
	PrevHash  string `json:"-" db:"prev_hash"`
	Hash      string `json:"-" db:"hash"`
}

// Log appends to the audit log. A nil *Log records nothing, so services
// built without one (tools, tests of other things) need no special case.
type Log struct {
	db *store.DB
	mu sync.Mutex // one writer: the chain has one end
}

// New returns the audit log kept in db.
func New(db *store.DB) *Log { return &Log{db: db} }

// Actor is who did something: an account's id and name, or "" for the
// platform itself (an operator's command).
type Actor struct{ ID, Name string }

// Record appends what actor did to target. IP and user agent come from
// the request in ctx. A failure to record is logged, never the caller's
// problem: the action already happened.
func (l *Log) Record(ctx context.Context, actor Actor, action, target string, details map[string]any) {
	if l == nil {
		return
	}
	c := httpx.ClientFrom(ctx)
	d := "{}"
	if len(details) > 0 {
		b, _ := json.Marshal(details) // map keys sorted: the text is stable
		d = string(b)
	}
	e := Entry{At: store.Now(), ActorID: actor.ID, Actor: actor.Name, Action: action, Target: target, IP: c.IP, UserAgent: clip(c.UserAgent), Details: d}
	if err := l.append(context.WithoutCancel(ctx), &e); err != nil {
		slog.ErrorContext(ctx, "audit log", "action", action, "target", target, "err", err)
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300]
	}
	return s
}

func (l *Log) append(ctx context.Context, e *Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last struct {
		Seq  int64  `db:"seq"`
		Hash string `db:"hash"`
	}
	err := l.db.Get(ctx, &last, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`)
	if err != nil && !store.NoRows(err) {
		return fmt.Errorf("read the chain's end: %w", err)
	}
	e.Seq, e.PrevHash = last.Seq+1, last.Hash
	e.Hash = e.digest()
	_, err = l.db.Exec(ctx, `INSERT INTO audit_log (seq, at, actor_id, actor, action, target, ip, user_agent, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Seq, e.At, e.ActorID, e.Actor, e.Action, e.Target, e.IP, e.UserAgent, e.Details, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	return nil
}

// digest is the entry's hash: every field, each length-prefixed so no two
// entries read the same, and the previous entry's hash.
func (e *Entry) digest() string {
	h := sha256.New()
	for _, f := range []string{strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.At, 10), e.ActorID, e.Actor, e.Action,
		e.Target, e.IP, e.UserAgent, e.Details, e.PrevHash} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Broken says where the chain stopped holding.
type Broken struct {
	Seq    int64
	Reason string
}

func (b *Broken) Error() string {
	return fmt.Sprintf("audit log broken at entry %d: %s", b.Seq, b.Reason)
}

// Verify walks the whole chain. It returns the number of entries and, if
// an entry was changed or removed, where.
func (l *Log) Verify(ctx context.Context) (int64, error) {
	var n, want int64 = 0, 1
	prev := ""
	for {
		var page []Entry
		err := l.db.Select(ctx, &page, `SELECT seq, at, actor_id, actor, action, target, ip, user_agent, details, prev_hash, hash
			FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT 1000`, want)
		if err != nil {
			return n, fmt.Errorf("read the audit log: %w", err)
		}
		if len(page) == 0 {
			return n, nil
		}
		for _, e := range page {
			switch {
			case e.Seq != want:
				return n, &Broken{Seq: want, Reason: fmt.Sprintf("entries %d to %d are missing", want, e.Seq-1)}
			case e.PrevHash != prev:
				return n, &Broken{Seq: e.Seq, Reason: "it does not follow the entry before it"}
			case e.digest() != e.Hash:
				return n, &Broken{Seq: e.Seq, Reason: "its contents were changed"}
			}
			prev, want = e.Hash, want+1
			n++
		}
	}
}

// Mine lists the entries about an account, newest first: what it did,
// and what was done to it.
func (l *Log) Mine(ctx context.Context, userID string, limit int) ([]Entry, error) {
	out := []Entry{}
	err := l.db.Select(ctx, &out, `SELECT seq, at, actor_id, actor, action, target, ip, user_agent, details FROM audit_log
		WHERE actor_id = ? OR target = ? ORDER BY seq DESC LIMIT ?`, userID, "user:"+userID, limit)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	return out, nil
}

// Routes mounts GET /api/user/audit: the caller's own security log.
func (l *Log) Routes(rt *httpx.Router, caller func(r *http.Request) (string, bool)) {
	rt.HandleFunc("GET /api/user/audit", func(w http.ResponseWriter, r *http.Request) {
		id, ok := caller(r)
		if !ok {
			httpx.WriteError(w, http.StatusUnauthorized, "unauthenticated", "Log in to continue.")
			return
		}
		entries, err := l.Mine(r.Context(), id, 200)
		if r.URL.Query().Get("format") == "jsonl" && err == nil {
			w.Header().Set("Content-Type", "application/x-ndjson")
			enc := json.NewEncoder(w)
			for _, e := range entries {
				_ = enc.Encode(e)
			}
			return
		}
		httpx.Reply(w, r, http.StatusOK, map[string]any{"entries": entries}, err)
	})
}

// Target names a thing in the log: "user:ID", "project:ID", ...
func Target(kind, id string, more ...string) string {
	return kind + ":" + strings.Join(append([]string{id}, more...), "/")
}
