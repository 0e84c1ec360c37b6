package kv

import (
	"context"
	"slices"
	"testing"

	"ecode/internal/store/testdb"
)

// A snapshot brings back the scope's entries as they were, keys added
// since included; other scopes and other snapshots are left alone.
func TestSnapshot(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s, _ := newStore(t, e)
			ctx := context.Background()
			dev, prod := Scope{ProjectID: "p1", Env: "dev"}, Scope{ProjectID: "p1", Env: "prod"}
			set := func(sc Scope, k, v string) {
				t.Helper()
				if err := s.Set(ctx, sc, map[string]string{k: v}); err != nil {
					t.Fatal(err)
				}
			}
			set(dev, "a", "1")
			set(dev, "b/c", "2")
			set(prod, "a", "prod")
			if n, err := s.Snapshot(ctx, dev, "s1"); err != nil || n != 2 {
				t.Fatalf("snapshot: %d %v", n, err)
			}
			set(dev, "a", "changed")
			set(dev, "new", "3")
			if err := s.Delete(ctx, dev, "b/c"); err != nil {
				t.Fatal(err)
			}
			if err := s.RestoreSnapshot(ctx, dev, "s1"); err != nil {
				t.Fatal(err)
			}
			keys, _ := s.List(ctx, dev, "")
			if a, _ := s.Get(ctx, dev, "a"); !slices.Equal(keys, []string{"a", "b/c"}) || a != "1" {
				t.Errorf("after restore: %v a=%q", keys, a)
			}
			if v, _ := s.Get(ctx, prod, "a"); v != "prod" {
				t.Errorf("prod touched: %q", v)
			}
			if err := s.DropSnapshot(ctx, "s1"); err != nil {
				t.Fatal(err)
			}
			if err := s.RestoreSnapshot(ctx, dev, "s1"); err != nil {
				t.Fatal(err)
			}
			if keys, _ := s.List(ctx, dev, ""); len(keys) != 0 {
				t.Errorf("a dropped snapshot restored %v", keys)
			}
		})
	}
}
