// Package audit is the append-only record of what happened to accounts,
// projects and their secrets: who did what to which, from where, when.
//
// Each entry carries an HMAC-SHA256 over its fields and the entry before
// it, under a key derived from the master key, which the database never
// holds: whoever can write to the database cannot edit an entry and
// recompute the chain after it. The newest entry (its seq and mac, the
// head) is also written to an anchor file outside the database, so
// removing the newest entries shows too. Verify walks the chain and
// compares its end with the anchor, and with any head an operator kept
// elsewhere. What it cannot show: someone who holds the master key and
// the anchor file (root on the server) can rewrite both.
package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

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
	Team      string `json:"-" db:"team"`          // the team whose view of the log shows it, if any
	KeyID     string `json:"keyId" db:"key_id"`    // which master key's derived key made MAC
	PrevMAC   string `json:"prevMac" db:"prev_mac"`
	MAC       string `json:"mac" db:"mac"`

	// Names as they are when the log is listed (see Log.name).
	ActorName  string `json:"actorName" db:"-"`
	TargetName string `json:"targetName" db:"-"`
}

// entryCols are the columns an Entry reads.
const entryCols = `seq, at, actor_id, actor, action, target, ip, user_agent, details, team, key_id, prev_mac, mac`

// Actor is who did something: an account's id and name, or "" for the
// platform itself (an operator's command).
type Actor struct{ ID, Name string }

// Record appends what actor did to target. IP and user agent come from
// the request in ctx. A failure to record is logged, never the caller's
// problem: the action already happened.
func (l *Log) Record(ctx context.Context, actor Actor, action, target string, details map[string]any) {
	l.RecordIn(ctx, "", actor, action, target, details)
}

// RecordIn is Record for something in a team (team is its id; "" for
// none): the team's owners and admins see the entry in their view.
func (l *Log) RecordIn(ctx context.Context, team string, actor Actor, action, target string, details map[string]any) {
	if l == nil {
		return
	}
	c := httpx.ClientFrom(ctx)
	d := "{}"
	if len(details) > 0 {
		b, _ := json.Marshal(details) // map keys sorted: the text is stable
		d = string(b)
	}
	e := Entry{At: store.Now(), ActorID: actor.ID, Actor: actor.Name, Action: action, Target: target, IP: c.IP, UserAgent: clip(c.UserAgent), Details: d, Team: team}
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

// Mine lists the entries about an account, newest first: what it did,
// and what was done to it.
func (l *Log) Mine(ctx context.Context, userID string, limit int) ([]Entry, error) {
	out := []Entry{}
	err := l.db.Select(ctx, &out, `SELECT `+entryCols+` FROM audit_log
		WHERE actor_id = ? OR target = ? ORDER BY seq DESC LIMIT ?`, userID, "user:"+userID, limit)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	return out, l.name(ctx, out)
}

// Filter narrows a search of the whole log; empty fields match anything.
type Filter struct {
	ActorID, Action, Target, Team string
	Since, Until                  int64 // unix ms
	Limit                         int
}

// Search lists entries of the whole log matching f, newest first.
func (l *Log) Search(ctx context.Context, f Filter) ([]Entry, error) {
	q := `SELECT ` + entryCols + ` FROM audit_log WHERE 1 = 1`
	var args []any
	if f.ActorID != "" {
		q, args = q+` AND actor_id = ?`, append(args, f.ActorID)
	}
	if f.Action != "" {
		q, args = q+` AND (action = ? OR action LIKE ?)`, append(args, f.Action, f.Action+".%")
	}
	if f.Target != "" {
		q, args = q+` AND (target = ? OR target LIKE ?)`, append(args, f.Target, f.Target+"/%")
	}
	if f.Team != "" {
		q, args = q+` AND team = ?`, append(args, f.Team)
	}
	if f.Since > 0 {
		q, args = q+` AND at >= ?`, append(args, f.Since)
	}
	if f.Until > 0 {
		q, args = q+` AND at < ?`, append(args, f.Until)
	}
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 1000
	}
	out := []Entry{}
	if err := l.db.Select(ctx, &out, q+` ORDER BY seq DESC LIMIT ?`, append(args, f.Limit)...); err != nil {
		return nil, fmt.Errorf("search the audit log: %w", err)
	}
	return out, l.name(ctx, out)
}

// FilterFrom reads a search's filters from r's query: actor (an account
// id), action (itself or a prefix, like "secret"), target, since and
// until (unix ms), limit.
func FilterFrom(r *http.Request) Filter {
	q := r.URL.Query()
	since, _ := strconv.ParseInt(q.Get("since"), 10, 64)
	until, _ := strconv.ParseInt(q.Get("until"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	return Filter{ActorID: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Since: since, Until: until, Limit: limit}
}

// Write answers entries as JSON, JSON lines or CSV, as r's format asks.
func Write(w http.ResponseWriter, r *http.Request, entries []Entry) {
	switch r.URL.Query().Get("format") {
	case "jsonl":
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for _, e := range entries {
			_ = enc.Encode(e)
		}
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="audit-log.csv"`)
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"seq", "at", "actor_id", "actor", "action", "target", "ip", "user_agent", "details", "key_id", "prev_mac", "mac", "actor_name", "target_name"})
		for _, e := range entries {
			_ = cw.Write([]string{strconv.FormatInt(e.Seq, 10), time.UnixMilli(e.At).UTC().Format(time.RFC3339Nano), e.ActorID, e.Actor,
				e.Action, e.Target, e.IP, e.UserAgent, e.Details, e.KeyID, e.PrevMAC, e.MAC, e.ActorName, e.TargetName})
		}
		cw.Flush()
	default:
		httpx.JSON(w, http.StatusOK, map[string]any{"entries": entries})
	}
}

// Routes mounts the caller's own security log, GET /api/user/audit, and
// for administrators the whole log with filters and its verification.
func (l *Log) Routes(rt *httpx.Router, caller func(r *http.Request) (string, bool), admin func(w http.ResponseWriter, r *http.Request) bool) {
	rt.HandleFunc("GET /api/admin/audit", func(w http.ResponseWriter, r *http.Request) {
		if !admin(w, r) {
			return
		}
		entries, err := l.Search(r.Context(), FilterFrom(r))
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		Write(w, r, entries)
	})
	rt.HandleFunc("POST /api/admin/audit/verify", func(w http.ResponseWriter, r *http.Request) {
		if !admin(w, r) {
			return
		}
		rep, err := l.Verify(r.Context())
		var broken *Broken
		switch {
		case errors.As(err, &broken):
			httpx.JSON(w, http.StatusOK, map[string]any{"intact": false, "entries": rep.Entries, "brokenAt": broken.Seq, "reason": broken.Reason})
		case err != nil:
			httpx.Error(w, r, err)
		default:
			httpx.JSON(w, http.StatusOK, map[string]any{"intact": true, "entries": rep.Entries, "head": rep.Head})
		}
	})
	rt.HandleFunc("GET /api/user/audit", func(w http.ResponseWriter, r *http.Request) {
		id, ok := caller(r)
		if !ok {
			httpx.WriteError(w, http.StatusUnauthorized, "unauthenticated", "Log in to continue.")
			return
		}
		entries, err := l.Mine(r.Context(), id, 200)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		Write(w, r, entries)
	})
}

// Target names a thing in the log: "user:ID", "project:ID", ...
func Target(kind, id string, more ...string) string {
	return kind + ":" + strings.Join(append([]string{id}, more...), "/")
}
