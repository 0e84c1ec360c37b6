package billing

import (
	"context"
	"testing"
	"time"

	"ecode/internal/errs"
	"ecode/internal/ledger"
)

func TestPeriodAt(t *testing.T) {
	anchor := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ at, start, end time.Time }{
		{anchor, anchor, anchor.AddDate(0, 1, 0)},
		{anchor.Add(time.Hour), anchor, anchor.AddDate(0, 1, 0)},
		{time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), anchor.AddDate(0, 1, 0), anchor.AddDate(0, 2, 0)},
		{time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), anchor.AddDate(0, 12, 0), anchor.AddDate(0, 13, 0)},
	} {
		s, e := periodAt(anchor, tc.at)
		if !s.Equal(tc.start) || !e.Equal(tc.end) || tc.at.Before(s) || !tc.at.Before(e) {
			t.Errorf("periodAt(%s) = [%s, %s), want [%s, %s)", tc.at, s, e, tc.start, tc.end)
		}
	}
}

func TestPeriods(t *testing.T) {
	each(t, Options{}, func(t *testing.T, w *world) {
		ctx := context.Background()
		payer := UserPayer(alice)

		// The first read makes the account and grants the plan's credits.
		sum, err := w.svc.Summary(ctx, payer)
		if err != nil {
			t.Fatal(err)
		}
		day := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
		if sum.Plan.ID != "free" || sum.Granted != free || sum.Balance != free ||
			sum.Period.Start != day.UnixMilli() || sum.Period.End != day.AddDate(0, 1, 0).UnixMilli() {
			t.Fatalf("first summary: %+v", sum)
		}
		if sum, err := w.svc.Summary(ctx, TeamPayer(acme)); err != nil || sum.Plan.ID != "team" || sum.Balance != 4000*ledger.Micro {
			t.Fatalf("a team's first summary: %+v, %v", sum, err)
		}

		// 100 credits used, 1,000 bought.
		w.record(t, cpu("k1", blog, 100*ledger.Micro/2400))
		w.rate(t)
		used := int64(100*ledger.Micro/2400) * 2400
		if _, err := w.svc.TopUp(ctx, payer, 1000*ledger.Micro, "stripe:cs_1", "Top-up"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.TopUp(ctx, payer, 1000*ledger.Micro, "stripe:cs_1", "Top-up"); err != nil {
			t.Fatal(err)
		}
		wantPosted(t, w.balance(t, payer), free-used+1000*ledger.Micro)
		w.clock.Add(10 * 24 * time.Hour)
		sum, err = w.svc.Summary(ctx, payer)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Used != used || sum.ToppedUp != 1000*ledger.Micro || sum.Forecast != used*31*24/(10*24+10) {
			t.Fatalf("summary after use: %+v", sum)
		}

		// The period ends: what is left of the grant expires, bought
		// credits stay, the new period's grant comes.
		w.clock.Set(day.AddDate(0, 1, 0).Add(time.Minute))
		w.svc.tick(ctx)
		wantPosted(t, w.balance(t, payer), 1000*ledger.Micro+free)
		w.svc.tick(ctx)
		wantPosted(t, w.balance(t, payer), 1000*ledger.Micro+free)
		sum, err = w.svc.Summary(ctx, payer)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Period.Start != day.AddDate(0, 1, 0).UnixMilli() || sum.Used != 0 || sum.Granted != free || sum.ToppedUp != 0 || sum.Forecast != 0 {
			t.Fatalf("summary in the new period: %+v", sum)
		}
		ts, err := w.svc.Transactions(ctx, payer, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var expired int64
		for _, tr := range ts {
			if tr.Kind == "expiry" {
				expired += tr.Amount
			}
		}
		if expired != -(free - used) {
			t.Fatalf("expired %d, want %d: %+v", expired, -(free - used), ts)
		}

		// Upgrading grants the difference once; a late, older change is ignored.
		at := w.clock.Now()
		if err := w.svc.SetPlan(ctx, payer, "pro", at); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.SetPlan(ctx, payer, "pro", at); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.SetPlan(ctx, payer, "free", at.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantPosted(t, w.balance(t, payer), 1000*ledger.Micro+2500*ledger.Micro)
		if sum, _ := w.svc.Summary(ctx, payer); sum.Plan.ID != "pro" {
			t.Fatalf("plan = %s after a stale downgrade", sum.Plan.ID)
		}
		wantKind(t, w.svc.SetPlan(ctx, payer, "gold", at), errs.KindInvalid, "unknown_plan")

		// Two months with no server: one expiry, then the current period.
		w.clock.Set(day.AddDate(0, 3, 2))
		w.svc.tick(ctx)
		sum, _ = w.svc.Summary(ctx, payer)
		if sum.Period.Start != day.AddDate(0, 3, 0).UnixMilli() || sum.Balance != 1000*ledger.Micro+2500*ledger.Micro {
			t.Fatalf("after a long pause: %+v", sum)
		}
		w.reconciled(t)
	})
}

func TestHourlyCharges(t *testing.T) {
	each(t, Options{}, func(t *testing.T, w *world) {
		ctx := context.Background()
		w.record(t, cpu("k1", blog, 1), cpu("k2", blog, 2))
		w.rate(t)
		w.clock.Add(90 * time.Minute)
		w.record(t, cpu("k3", blog, 3))
		w.rate(t)
		w.record(t, Usage{Key: "k4", Meter: MeterCPU, Quantity: 0, ProjectID: blog}) // free: not sent
		w.rate(t)
		got, err := w.svc.HourlyCharges(ctx, UserPayer(alice), start.Add(-time.Hour), start.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []HourCharge{{start, 3 * 2400}, {start.Add(time.Hour), 3 * 2400}}
		if len(got) != 2 || !got[0].Hour.Equal(want[0].Hour) || got[0].Amount != want[0].Amount ||
			!got[1].Hour.Equal(want[1].Hour) || got[1].Amount != want[1].Amount {
			t.Fatalf("hourly = %+v, want %+v", got, want)
		}
	})
}
