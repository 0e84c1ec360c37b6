package billing

import (
	"context"
	"errors"
	"testing"
	"time"

	"ecode/internal/errs"
	"ecode/internal/ledger"
)

func aiUsage(key, hold string, tokens int64) Usage {
	return Usage{Key: key, Meter: MeterAIOut, Attr: "claude-haiku", Quantity: tokens, ProjectID: blog, UserID: alice, Hold: hold}
}

func TestHolds(t *testing.T) {
	each(t, Options{Enforce: true}, func(t *testing.T, w *world) {
		ctx := context.Background()
		payer := UserPayer(alice)

		// A run reserves credits; its usage waits for it to settle.
		if err := w.svc.Reserve(ctx, blog, alice, "run1", 10*ledger.Micro); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.Reserve(ctx, blog, alice, "run1", 10*ledger.Micro); err != nil {
			t.Fatal(err)
		}
		if b := w.balance(t, payer); b.DebitsPending != 10*ledger.Micro || b.Available() != free-10*ledger.Micro {
			t.Fatalf("after reserve: %+v", b)
		}
		w.record(t, aiUsage("a1", "run1", 1000), aiUsage("a2", "run1", 1000))
		if n := w.rate(t); n != 0 {
			t.Fatalf("rating charged %d events of a pending hold", n)
		}
		if err := w.svc.Within(ctx, "run1"); err != nil {
			t.Fatalf("within: %v", err)
		}
		// A crash while settling leaves the hold as it was.
		w.svc.failPost = func() error { return errors.New("power cut") }
		if err := w.svc.Settle(ctx, "run1", true); err == nil {
			t.Fatal("the failing settle succeeded")
		}
		w.svc.failPost = nil
		if b := w.balance(t, payer); b.Posted() != free || b.DebitsPending != 10*ledger.Micro || w.unrated(t) != 2 {
			t.Fatalf("after a failed settle: %+v, %d unrated", b, w.unrated(t))
		}
		w.reconciled(t)
		if err := w.svc.Settle(ctx, "run1", true); err != nil {
			t.Fatal(err)
		}
		want := int64(2000 * 500) // haiku output
		b := w.balance(t, payer)
		if b.Posted() != free-want || b.DebitsPending != 0 {
			t.Fatalf("after settle: %+v, want %d charged and nothing held", b, want)
		}
		if err := w.svc.Settle(ctx, "run1", true); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.Settle(ctx, "run1", false); err != nil {
			t.Fatal(err)
		}
		wantPosted(t, w.balance(t, payer), free-want)
		if sum, _ := w.charged(t, payer); sum != want {
			t.Fatalf("charged %d, want %d", sum, want)
		}
		w.reconciled(t)

		// A run that made no progress is not charged: its usage is
		// marked, at 0, and so is usage that comes after.
		if err := w.svc.Reserve(ctx, blog, alice, "run2", 10*ledger.Micro); err != nil {
			t.Fatal(err)
		}
		w.record(t, aiUsage("b1", "run2", 5000))
		if err := w.svc.Settle(ctx, "run2", false); err != nil {
			t.Fatal(err)
		}
		w.record(t, aiUsage("b2", "run2", 5000))
		w.rate(t)
		if b := w.balance(t, payer); b.Posted() != free-want || b.DebitsPending != 0 {
			t.Fatalf("after a waived run: %+v", b)
		}
		if sum, rows := w.charged(t, payer); sum != want || rows != 3 {
			t.Fatalf("charges = %d in %d rows, want %d in 3 (two at 0)", sum, rows, want)
		}
		if n := w.unrated(t); n != 0 {
			t.Fatalf("%d events left unrated", n)
		}

		// Usage past the hold is charged all the same, beyond it.
		if err := w.svc.Reserve(ctx, blog, alice, "run3", 1000); err != nil {
			t.Fatal(err)
		}
		w.record(t, aiUsage("c1", "run3", 100))
		if err := w.svc.Settle(ctx, "run3", true); err != nil {
			t.Fatal(err)
		}
		want += 100 * 500
		wantPosted(t, w.balance(t, payer), free-want)

		// A hold that lapses lets rating charge its usage.
		if err := w.svc.Reserve(ctx, blog, alice, "run4", 1000); err != nil {
			t.Fatal(err)
		}
		w.record(t, aiUsage("d1", "run4", 10))
		w.clock.Add(25 * time.Hour)
		w.svc.tick(ctx)
		want += 10 * 500
		if b := w.balance(t, payer); b.Posted() != free-want || b.DebitsPending != 0 {
			t.Fatalf("after a lapsed hold: %+v, want %d", b, free-want)
		}
		if err := w.svc.Settle(ctx, "run4", true); err != nil {
			t.Fatal(err)
		}
		wantPosted(t, w.balance(t, payer), free-want)
		w.reconciled(t)

		// A run whose usage outgrows its hold and the balance must stop.
		if err := w.svc.Reserve(ctx, blog, alice, "run5", 1000); err != nil {
			t.Fatal(err)
		}
		w.record(t, aiUsage("e1", "run5", 2_000_000)) // 1,000 credits
		wantKind(t, w.svc.Within(ctx, "run5"), errs.KindPaymentRequired, "out_of_credits")
		if err := w.svc.Settle(ctx, "run5", true); err != nil {
			t.Fatal(err)
		}
		if b := w.balance(t, payer); b.Posted() >= 0 {
			t.Fatalf("usage past zero was not charged: %+v", b)
		}
		wantKind(t, w.svc.Reserve(ctx, blog, alice, "run6", 1000), errs.KindPaymentRequired, "out_of_credits")
		w.reconciled(t)
	})
}

func TestSettleWithoutEnforcement(t *testing.T) {
	each(t, Options{}, func(t *testing.T, w *world) {
		ctx := context.Background()
		payer := UserPayer(alice)
		if err := w.svc.Reserve(ctx, blog, alice, "run1", 10*ledger.Micro); err != nil {
			t.Fatal(err)
		}
		if b := w.balance(t, payer); b.DebitsPending != 0 {
			t.Fatalf("held %d without enforcement", b.DebitsPending)
		}
		w.record(t, aiUsage("a1", "run1", 1000))
		if n := w.rate(t); n != 0 {
			t.Fatalf("rating charged %d events of an open run", n)
		}
		if err := w.svc.Settle(ctx, "run1", true); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.Settle(ctx, "run1", true); err != nil {
			t.Fatal(err)
		}
		wantPosted(t, w.balance(t, payer), free-500_000)
		// Settling a run never reserved still charges, or waives, its usage.
		w.record(t, aiUsage("x1", "never", 1000))
		if err := w.svc.Settle(ctx, "never", false); err != nil {
			t.Fatal(err)
		}
		w.rate(t)
		wantPosted(t, w.balance(t, payer), free-500_000)
		w.reconciled(t)
	})
}
