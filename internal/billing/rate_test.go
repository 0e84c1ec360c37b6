package billing

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"ecode/internal/errs"
)

func TestRatingExactlyOnce(t *testing.T) {
	each(t, Options{}, func(t *testing.T, w *world) {
		ctx := context.Background()
		payer := UserPayer(alice)

		// The same usage sent twice, in one call and again later: one charge.
		w.record(t, cpu("k1", blog, 10), cpu("k1", blog, 10))
		w.record(t, cpu("k1", blog, 10))
		if n := w.rate(t); n != 1 {
			t.Fatalf("rated %d events, want 1", n)
		}
		wantPosted(t, w.balance(t, payer), free-10*2400)
		w.record(t, cpu("k1", blog, 10)) // a retry after rating
		if n := w.rate(t); n != 0 {
			t.Fatalf("rated %d events again", n)
		}
		w.reconciled(t)

		// A crash between metering and rating: a new server rates it once.
		w.record(t, cpu("k2", blog, 5))
		restarted := w.fresh()
		if n, err := restarted.RateNow(ctx); err != nil || n != 1 {
			t.Fatalf("rate after restart = %d, %v", n, err)
		}
		if n, err := restarted.RateNow(ctx); err != nil || n != 0 {
			t.Fatalf("second pass = %d, %v", n, err)
		}
		wantPosted(t, w.balance(t, payer), free-15*2400)
		w.reconciled(t)

		// A crash inside the rating transaction, after the ledger post:
		// nothing of it lands, and the next pass charges it.
		w.record(t, cpu("k3", blog, 1), Usage{Key: "k4", Meter: MeterAIIn, Attr: "claude-haiku", Quantity: 1000, ProjectID: blog})
		w.svc.failPost = func() error { return errors.New("power cut") }
		if _, err := w.svc.RateNow(ctx); err == nil {
			t.Fatal("the failing pass succeeded")
		}
		wantPosted(t, w.balance(t, payer), free-15*2400)
		if sum, rows := w.charged(t, payer); sum != 15*2400 || rows != 2 {
			t.Fatalf("charges after the crash = %d in %d rows", sum, rows)
		}
		if n := w.unrated(t); n != 2 {
			t.Fatalf("%d events unrated after the crash, want 2", n)
		}
		w.reconciled(t)
		w.svc.failPost = nil
		if n := w.rate(t); n != 2 {
			t.Fatalf("rated %d after the crash, want 2", n)
		}
		wantPosted(t, w.balance(t, payer), free-16*2400-100_000)
		w.reconciled(t)

		// Many events in one call, more than one statement's worth, and
		// more than one rating batch: grouped per day, charged once each.
		var many []Usage
		for i := range 1500 {
			many = append(many, cpu(fmt.Sprintf("many:%d", i), blog, 1))
		}
		w.record(t, many...)
		w.record(t, many[:300]...)
		if n := w.rate(t); n != 1500 {
			t.Fatalf("rated %d of many, want 1500", n)
		}
		wantPosted(t, w.balance(t, payer), free-1516*2400-100_000)
		w.reconciled(t)

		// Bad usage is refused whole; a deleted project's is dropped.
		if err := w.svc.Record(ctx, Usage{Key: "bad", Meter: "gpu", Quantity: 1, ProjectID: blog}); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("unknown meter: %v", err)
		}
		if err := w.svc.Record(ctx, Usage{Key: "gone", Meter: MeterEgress, Quantity: 1, ProjectID: "p-gone"}); err != nil {
			t.Fatalf("usage of a deleted project: %v", err)
		}
	})
}

func TestConcurrentRating(t *testing.T) {
	each(t, Options{}, func(t *testing.T, w *world) {
		for i := range 200 {
			w.record(t, cpu(fmt.Sprintf("c:%d", i), blog, 1))
		}
		// Two servers rating the same rows: each event is charged once.
		other := w.fresh()
		errc := make(chan error, 2)
		for _, s := range []*Service{w.svc, other} {
			go func() { _, err := s.RateNow(context.Background()); errc <- err }()
		}
		for range 2 {
			if err := <-errc; err != nil {
				t.Fatalf("a rater that lost the race failed: %v", err)
			}
		}
		w.rate(t)
		wantPosted(t, w.balance(t, UserPayer(alice)), free-200*2400)
		w.reconciled(t)
	})
}
