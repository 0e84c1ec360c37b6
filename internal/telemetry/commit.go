package telemetry

import (
	"context"
	"sync"

	"ecode/internal/store"
)

// committer runs the service's writes. On PostgreSQL each is a transaction
// of its own. SQLite takes one writer at a time, and each commit rewrites
// the WAL frames of every page it touched, so there the writes that arrive
// while one commits wait in a queue and go in together, as one transaction
// (a group commit): four batches then cost little more than one.
//
// A writer waiting here wakes the moment its group is done, where one
// waiting in SQLite's busy handler sleeps in steps (which took ingest's p99
// past a second under load).
type committer struct {
	db      *store.DB
	mu      sync.Mutex
	queue   []*write
	leading bool // a writer is committing groups; the rest wait
}

type write struct {
	fn   func(store.Q) error
	done chan error    // the write's outcome
	lead chan struct{} // closed when this writer is to commit the next group
}

// do runs fn in a transaction, with other writes on SQLite. fn may run
// twice (alone, after its group failed), and runs to its end whatever
// becomes of ctx, so the batch it holds is either stored or answered with
// an error.
func (c *committer) do(ctx context.Context, fn func(store.Q) error) error {
	if c.db.Dialect != store.SQLite {
		return c.db.Tx(ctx, fn)
	}
	w := &write{fn: fn, done: make(chan error, 1), lead: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, w)
	first := !c.leading
	c.leading = true
	c.mu.Unlock()
	if !first {
		select {
		case err := <-w.done:
			return err
		case <-w.lead:
		}
	}
	c.commitNext(context.WithoutCancel(ctx))
	return <-w.done
}

// commitNext commits what is queued, then hands the lead to the first
// writer queued meanwhile, so no writer waits on groups after its own.
func (c *committer) commitNext(ctx context.Context) {
	c.mu.Lock()
	group := c.queue
	c.queue = nil
	c.mu.Unlock()

	err := c.db.Tx(ctx, func(q store.Q) error {
		for _, w := range group {
			if err := w.fn(q); err != nil {
				return err
			}
		}
		return nil
	})
	for _, w := range group {
		if err != nil && len(group) > 1 {
			// One write's fault must not cost the others theirs.
			w.done <- c.db.Tx(ctx, w.fn)
			continue
		}
		w.done <- err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		c.leading = false
		return
	}
	close(c.queue[0].lead)
}
