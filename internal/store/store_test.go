package store_test

import (
	"context"
	"testing"

	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

func TestMigrateAndConstraints(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, e)
			ctx := context.Background()
			// Migrating twice is a no-op.
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			now := store.Now()
			insert := `INSERT INTO users (id, username, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'h', ?, ?)`
			if _, err := db.Exec(ctx, insert, store.NewID(), "ann", "ann@example.com", now, now); err != nil {
				t.Fatal(err)
			}
			_, err := db.Exec(ctx, insert, store.NewID(), "ann", "other@example.com", now, now)
			if !store.IsUnique(err) {
				t.Fatalf("duplicate username: %v, want a unique violation", err)
			}
			var n int
			if err := db.Get(ctx, &n, `SELECT COUNT(*) FROM users WHERE username = ?`, "ann"); err != nil || n != 1 {
				t.Fatalf("count = %d, %v", n, err)
			}
			var missing string
			if err := db.Get(ctx, &missing, `SELECT id FROM users WHERE username = ?`, "nobody"); !store.NoRows(err) {
				t.Fatalf("missing row: %v", err)
			}
			// Deleting a user takes their projects with them.
			var uid string
			db.Get(ctx, &uid, `SELECT id FROM users WHERE username = ?`, "ann")
			if _, err := db.Exec(ctx, `INSERT INTO projects (id, owner_id, slug, name, created_at, updated_at) VALUES (?, ?, 's', 'S', ?, ?)`,
				store.NewID(), uid, now, now); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(ctx, `DELETE FROM users WHERE id = ?`, uid); err != nil {
				t.Fatal(err)
			}
			if err := db.Get(ctx, &n, `SELECT COUNT(*) FROM projects`); err != nil || n != 0 {
				t.Fatalf("projects after owner deleted = %d, %v", n, err)
			}
		})
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	a, b := store.NewID(), store.NewID()
	if len(a) != 26 || a >= b && a[:10] != b[:10] {
		t.Fatalf("ids %q %q", a, b)
	}
}

func TestTxIsOneUnitOfWork(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, e)
			ctx := context.Background()
			now := store.Now()
			insert := func(q store.Q, name string) error {
				_, err := q.Exec(ctx, `INSERT INTO users (id, username, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'h', ?, ?)`,
					store.NewID(), name, name+"@example.com", now, now)
				return err
			}
			count := func() int {
				var n int
				if err := db.Get(ctx, &n, `SELECT COUNT(*) FROM users`); err != nil {
					t.Fatal(err)
				}
				return n
			}
			// A store function runs alone on the DB or inside a unit of work.
			if err := insert(db, "solo"); err != nil {
				t.Fatal(err)
			}
			if err := db.Tx(ctx, func(q store.Q) error {
				if err := insert(q, "ann"); err != nil {
					return err
				}
				var n int
				if err := q.Get(ctx, &n, `SELECT COUNT(*) FROM users WHERE username = ?`, "ann"); err != nil || n != 1 {
					t.Errorf("the unit of work does not see its own write: %d, %v", n, err)
				}
				return insert(q, "bob")
			}); err != nil {
				t.Fatal(err)
			}
			if n := count(); n != 3 {
				t.Fatalf("after a committed unit of work: %d users, want 3", n)
			}
			// A failure part-way leaves nothing of the unit behind.
			err := db.Tx(ctx, func(q store.Q) error {
				if err := insert(q, "cy"); err != nil {
					return err
				}
				return insert(q, "ann") // taken
			})
			if !store.IsUnique(err) {
				t.Fatalf("second insert: %v, want the unique violation", err)
			}
			// So does a panic, which goes on to the caller.
			func() {
				defer func() {
					if recover() == nil {
						t.Error("the panic was swallowed")
					}
				}()
				_ = db.Tx(ctx, func(q store.Q) error {
					if err := insert(q, "dee"); err != nil {
						return err
					}
					panic("part-way")
				})
			}()
			if n := count(); n != 3 {
				t.Fatalf("after failed units of work: %d users, want 3", n)
			}
			// And the pool still answers: no connection is left holding a transaction.
			if err := insert(db, "eve"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
