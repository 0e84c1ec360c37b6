package telemetry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

// Writes that arrive together are committed together on SQLite, each gets
// its own outcome, and one failing write costs the others nothing.
func TestCommitterGroupsAndIsolates(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := testdb.Open(t, e)
			ctx := context.Background()
			if _, err := db.Exec(ctx, `CREATE TABLE commit_probe (n INTEGER PRIMARY KEY)`); err != nil {
				t.Fatal(err)
			}
			c := &committer{db: db}
			const writers = 40
			errBad := errors.New("bad write")
			var (
				wg   sync.WaitGroup
				errc = make([]error, writers)
			)
			for i := range writers {
				wg.Go(func() {
					errc[i] = c.do(ctx, func(q store.Q) error {
						if _, err := q.Exec(ctx, `INSERT INTO commit_probe (n) VALUES (?)`, i); err != nil {
							return err
						}
						if i%10 == 3 {
							return fmt.Errorf("write %d: %w", i, errBad)
						}
						return nil
					})
				})
			}
			wg.Wait()
			var stored []int
			if err := db.Select(ctx, &stored, `SELECT n FROM commit_probe ORDER BY n`); err != nil {
				t.Fatal(err)
			}
			want := map[int]bool{}
			for i, err := range errc {
				if i%10 == 3 {
					if !errors.Is(err, errBad) {
						t.Errorf("write %d: err %v, want its own failure", i, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("write %d: %v", i, err)
				}
				want[i] = true
			}
			if len(stored) != len(want) {
				t.Fatalf("stored %d rows, want %d: %v", len(stored), len(want), stored)
			}
			for _, n := range stored {
				if !want[n] {
					t.Errorf("row %d stored, though its write failed", n)
				}
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.leading || len(c.queue) != 0 {
				t.Errorf("after the writes: leading %v, queue %d", c.leading, len(c.queue))
			}
		})
	}
}
