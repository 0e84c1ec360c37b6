package audit

import (
	"cmp"
	"context"
	"fmt"
	"strings"
)

// Namer resolves the ids of one kind of thing ("user", "project" or
// "team") to what people call them now. An id left out of the answer
// names something that is gone.
type Namer func(ctx context.Context, ids []string) (map[string]string, error)

// Names lets listings show names beside the ids of kind. The capability
// that keeps those things calls it from its constructor, so the log,
// which they all record to, is built before them. Kinds nobody names
// show their ids alone. A nil Log ignores it.
func (l *Log) Names(kind string, n Namer) {
	if l == nil {
		return
	}
	if l.names == nil {
		l.names = map[string]Namer{}
	}
	l.names[kind] = n
}

// namedKinds are the kinds of target the log can name.
var namedKinds = []string{"user", "project", "team"}

// nameBatch bounds the ids asked in one query, under every engine's limit
// on bound parameters.
const nameBatch = 500

// name fills each entry's ActorName and TargetName with names as they are
// now: what someone did to a project reads with the project's name, and
// something deleted since as "deleted project (ID)".
func (l *Log) name(ctx context.Context, entries []Entry) error {
	if len(l.names) == 0 || len(entries) == 0 {
		return nil
	}
	want := map[string]map[string]bool{}
	add := func(kind, id string) {
		if want[kind] == nil {
			want[kind] = map[string]bool{}
		}
		want[kind][id] = true
	}
	for _, e := range entries {
		if e.ActorID != "" {
			add("user", e.ActorID)
		}
		if kind, id, _, ok := splitTarget(e.Target); ok {
			add(kind, id)
		}
	}
	known := map[string]map[string]string{}
	for kind, set := range want {
		namer := l.names[kind]
		if namer == nil {
			continue
		}
		ids := make([]string, 0, len(set))
		for id := range set {
			ids = append(ids, id)
		}
		known[kind] = map[string]string{}
		for i := 0; i < len(ids); i += nameBatch {
			got, err := namer(ctx, ids[i:min(i+nameBatch, len(ids))])
			if err != nil {
				return fmt.Errorf("name %ss in the audit log: %w", kind, err)
			}
			for id, name := range got {
				known[kind][id] = name
			}
		}
	}
	label := func(kind, id string) string {
		if name, ok := known[kind][id]; ok || known[kind] == nil {
			return cmp.Or(name, id)
		}
		return fmt.Sprintf("deleted %s (%s)", kind, id)
	}
	for i := range entries {
		e := &entries[i]
		e.ActorName = e.Actor // the platform itself, or an operator's command
		if e.ActorID != "" {
			e.ActorName = label("user", e.ActorID)
		}
		e.TargetName = e.Target
		if kind, id, more, ok := splitTarget(e.Target); ok {
			e.TargetName = label(kind, id)
			if !strings.HasPrefix(e.TargetName, "deleted ") {
				e.TargetName = kind + " " + e.TargetName
			}
			if more != "" {
				e.TargetName += " / " + more
			}
		}
	}
	return nil
}

// splitTarget reads "kind:id" or "kind:id/more" (a secret's name) for a
// kind the log can name.
func splitTarget(target string) (kind, id, more string, ok bool) {
	kind, rest, found := strings.Cut(target, ":")
	if !found {
		return "", "", "", false
	}
	for _, k := range namedKinds {
		if k == kind {
			id, more, _ = strings.Cut(rest, "/")
			return kind, id, more, id != ""
		}
	}
	return "", "", "", false
}
