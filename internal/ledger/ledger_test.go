package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ecode/internal/errs"
	"ecode/internal/ledger"
	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

// each runs fn on a fresh ledger on every engine.
func each(t *testing.T, fn func(t *testing.T, db *store.DB, l *ledger.Ledger)) {
	t.Helper()
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := testdb.Open(t, e)
			fn(t, db, ledger.New(db))
		})
	}
}

var alice, bob = ledger.Account("user:alice"), ledger.Account("user:bob")

func topUp(t *testing.T, l *ledger.Ledger, account string, amount int64, key string) ledger.Transfer {
	t.Helper()
	tr, _, err := l.Post(context.Background(), ledger.Transfer{Key: key, Debit: ledger.TopUps, Credit: account,
		Amount: amount, Kind: "topup"}, ledger.Options{})
	if err != nil {
		t.Fatalf("top up %s: %v", account, err)
	}
	return tr
}

func wantBalance(t *testing.T, l *ledger.Ledger, account string, posted, available int64) {
	t.Helper()
	b, err := l.Balance(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	if b.Posted() != posted || b.Available() != available {
		t.Fatalf("%s: posted %d available %d, want %d and %d (%+v)", account, b.Posted(), b.Available(), posted, available, b)
	}
}

func wantOK(t *testing.T, l *ledger.Ledger) ledger.Report {
	t.Helper()
	r, err := l.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("reconcile: total %d, problems:\n%s", r.Total, strings.Join(r.Problems, "\n"))
	}
	return r
}

func wantKind(t *testing.T, err error, k errs.Kind, code string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != k || e.Code != code {
		t.Fatalf("error %v, want kind %d code %s", err, k, code)
	}
}

func TestPostIdempotent(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		ctx := context.Background()
		in := ledger.Transfer{Key: "topup:1", Debit: ledger.TopUps, Credit: alice, Amount: 5 * ledger.Micro, Kind: "topup", Memo: "pack"}
		first, created, err := l.Post(ctx, in, ledger.Options{})
		if err != nil || !created {
			t.Fatalf("post: %v created %v", err, created)
		}
		if first.ID == "" || first.Status != ledger.Posted || first.CreatedAt == 0 {
			t.Fatalf("post returned %+v", first)
		}
		again, created, err := l.Post(ctx, in, ledger.Options{})
		if err != nil || created || again != first {
			t.Fatalf("retry: %+v created %v err %v; want %+v", again, created, err, first)
		}
		wantBalance(t, l, alice, 5*ledger.Micro, 5*ledger.Micro)
		wantBalance(t, l, ledger.TopUps, -5*ledger.Micro, -5*ledger.Micro)

		for _, change := range []func(*ledger.Transfer){
			func(t *ledger.Transfer) { t.Amount++ },
			func(t *ledger.Transfer) { t.Credit = bob },
			func(t *ledger.Transfer) { t.Debit = ledger.Grants },
			func(t *ledger.Transfer) { t.Kind = "grant" },
		} {
			other := in
			change(&other)
			_, _, err := l.Post(ctx, other, ledger.Options{})
			wantKind(t, err, errs.KindConflict, "idempotency_key_reused")
		}
		// A hold cannot take a posted transfer's key either.
		_, _, err = l.Hold(ctx, in)
		wantKind(t, err, errs.KindConflict, "idempotency_key_reused")
		wantBalance(t, l, alice, 5*ledger.Micro, 5*ledger.Micro)

		// Inside a caller's transaction, the same rule.
		err = db.Tx(ctx, func(q store.Q) error {
			got, created, err := ledger.Post(ctx, q, in, ledger.Options{})
			if err != nil || created || got.ID != first.ID {
				return fmt.Errorf("in tx: %+v %v %v", got, created, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r := wantOK(t, l)
		if r.Transfers != 1 || r.Accounts != 2 {
			t.Fatalf("report %+v", r)
		}
	})
}

func TestInvalid(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		ctx := context.Background()
		for _, tr := range []ledger.Transfer{
			{Key: "a", Debit: ledger.TopUps, Credit: alice, Amount: 0},
			{Key: "b", Debit: ledger.TopUps, Credit: alice, Amount: -5},
			{Key: "", Debit: ledger.TopUps, Credit: alice, Amount: 5},
			{Key: "c", Debit: alice, Credit: alice, Amount: 5},
			{Key: "d", Debit: "", Credit: alice, Amount: 5},
		} {
			_, _, err := l.Post(ctx, tr, ledger.Options{AllowOverdraft: true})
			if !errs.Is(err, errs.KindInvalid) {
				t.Errorf("post %+v: %v, want invalid", tr, err)
			}
		}
		_, err := l.Settle(ctx, "nope", 0, "")
		wantKind(t, err, errs.KindNotFound, "transfer_not_found")
		tr := topUp(t, l, alice, 10, "t")
		_, err = l.Settle(ctx, tr.ID, 0, "")
		wantKind(t, err, errs.KindInvalid, "not_a_hold")
		wantOK(t, l)
	})
}

func TestOverdraft(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		ctx := context.Background()
		topUp(t, l, alice, 100, "t1")
		spend := ledger.Transfer{Key: "use:1", Debit: alice, Credit: ledger.Consumption, Amount: 150, Kind: "usage"}
		_, _, err := l.Post(ctx, spend, ledger.Options{})
		wantKind(t, err, errs.KindPaymentRequired, "out_of_credits")
		wantBalance(t, l, alice, 100, 100)
		// The refused key was never used: it can carry the charge later.
		if _, created, err := l.Post(ctx, spend, ledger.Options{AllowOverdraft: true}); err != nil || !created {
			t.Fatalf("overdraft: %v %v", created, err)
		}
		wantBalance(t, l, alice, -50, -50)
		// Between payers the guard holds; exactly what is available passes.
		topUp(t, l, alice, 80, "t2")
		_, _, err = l.Post(ctx, ledger.Transfer{Key: "gift:1", Debit: alice, Credit: bob, Amount: 31, Kind: "gift"}, ledger.Options{})
		wantKind(t, err, errs.KindPaymentRequired, "out_of_credits")
		if _, _, err := l.Post(ctx, ledger.Transfer{Key: "gift:2", Debit: alice, Credit: bob, Amount: 30, Kind: "gift"}, ledger.Options{}); err != nil {
			t.Fatal(err)
		}
		wantBalance(t, l, alice, 0, 0)
		wantBalance(t, l, bob, 30, 30)
		// A payer never seen has nothing to spend.
		_, _, err = l.Post(ctx, ledger.Transfer{Key: "use:x", Debit: ledger.Account("user:nobody"), Credit: ledger.Consumption, Amount: 1}, ledger.Options{})
		wantKind(t, err, errs.KindPaymentRequired, "out_of_credits")
		// System accounts may go negative.
		if _, _, err := l.Post(ctx, ledger.Transfer{Key: "sys", Debit: ledger.Expiry, Credit: ledger.Adjustments, Amount: 7}, ledger.Options{}); err != nil {
			t.Fatal(err)
		}
		wantOK(t, l)
	})
}

func TestHoldSettle(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		ctx := context.Background()
		topUp(t, l, alice, 1000, "t1")
		hold := ledger.Transfer{Key: "agent:1:hold", Debit: alice, Credit: ledger.Consumption, Amount: 600, Kind: "agent"}
		h, created, err := l.Hold(ctx, hold)
		if err != nil || !created || h.Status != ledger.Pending {
			t.Fatalf("hold: %+v %v %v", h, created, err)
		}
		if again, created, err := l.Hold(ctx, hold); err != nil || created || again.ID != h.ID {
			t.Fatalf("hold retry: %+v %v %v", again, created, err)
		}
		wantBalance(t, l, alice, 1000, 400)
		// A hold never overdraws.
		_, _, err = l.Hold(ctx, ledger.Transfer{Key: "agent:2:hold", Debit: alice, Credit: ledger.Consumption, Amount: 401, Kind: "agent"})
		wantKind(t, err, errs.KindPaymentRequired, "out_of_credits")
		// Nor does a posting dip into what is held.
		_, _, err = l.Post(ctx, ledger.Transfer{Key: "gift", Debit: alice, Credit: bob, Amount: 401}, ledger.Options{})
		wantKind(t, err, errs.KindPaymentRequired, "out_of_credits")
		wantOK(t, l)

		_, err = l.Settle(ctx, h.ID, 601, "agent:1:settle")
		wantKind(t, err, errs.KindInvalid, "invalid_amount")
		s, err := l.Settle(ctx, h.ID, 250, "agent:1:settle")
		if err != nil || s.Status != ledger.Posted || s.Amount != 250 || s.PendingID != h.ID {
			t.Fatalf("settle: %+v %v", s, err)
		}
		wantBalance(t, l, alice, 750, 750)
		wantBalance(t, l, ledger.Consumption, 250, 250)
		// Settling twice: the same settlement, nothing posted again.
		if again, err := l.Settle(ctx, h.ID, 250, "agent:1:settle"); err != nil || again != s {
			t.Fatalf("settle retry: %+v %v", again, err)
		}
		if again, err := l.Settle(ctx, h.ID, 250, "other"); err != nil || again != s {
			t.Fatalf("settle again under another key: %+v %v", again, err)
		}
		again, err := l.Settle(ctx, h.ID, 0, "other")
		wantKind(t, err, errs.KindConflict, "hold_settled")
		if again.ID != s.ID {
			t.Fatalf("conflict returned %+v, want the settlement", again)
		}
		_, err = l.Settle(ctx, h.ID, 100, "agent:1:settle")
		wantKind(t, err, errs.KindConflict, "idempotency_key_reused")
		wantBalance(t, l, alice, 750, 750)

		// Settling for the whole hold.
		h2, _, err := l.Hold(ctx, ledger.Transfer{Key: "h2", Debit: alice, Credit: ledger.Consumption, Amount: 750, Kind: "agent"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Settle(ctx, h2.ID, 750, ""); err != nil {
			t.Fatal(err)
		}
		wantBalance(t, l, alice, 0, 0)
		r := wantOK(t, l)
		if r.Transfers != 5 {
			t.Fatalf("transfers %d, want 5", r.Transfers)
		}
	})
}

func TestVoidAndExpiry(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		ctx := context.Background()
		topUp(t, l, alice, 1000, "t1")
		now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
		hold := func(key string, amount int64, expires time.Time) ledger.Transfer {
			t.Helper()
			var at int64
			if !expires.IsZero() {
				at = expires.UnixMilli()
			}
			h, _, err := l.Hold(ctx, ledger.Transfer{Key: key, Debit: alice, Credit: ledger.Consumption, Amount: amount, Kind: "agent", ExpiresAt: at})
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		a := hold("a", 100, time.Time{})
		v, err := l.Settle(ctx, a.ID, 0, "a:void")
		if err != nil || v.Status != ledger.Voided || v.Amount != 100 {
			t.Fatalf("void: %+v %v", v, err)
		}
		wantBalance(t, l, alice, 1000, 1000)

		b := hold("b", 200, now.Add(time.Minute))
		c := hold("c", 300, now.Add(time.Hour))
		d := hold("d", 50, now.Add(time.Minute))
		if _, err := l.Settle(ctx, d.ID, 50, ""); err != nil { // settled before it expires
			t.Fatal(err)
		}
		wantBalance(t, l, alice, 950, 450)
		if n, err := l.ExpireHolds(ctx, now); err != nil || n != 0 {
			t.Fatalf("expire early: %d %v", n, err)
		}
		if n, err := l.ExpireHolds(ctx, now.Add(time.Minute)); err != nil || n != 1 {
			t.Fatalf("expire: %d %v", n, err)
		}
		wantBalance(t, l, alice, 950, 650)
		list, err := l.Transfers(ctx, alice, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var expired ledger.Transfer
		for _, tr := range list {
			if tr.PendingID == b.ID {
				expired = tr
			}
		}
		if expired.Key != "expire:"+b.ID || expired.Status != ledger.Voided {
			t.Fatalf("expiry settlement %+v", expired)
		}
		// Expired means settled: a late settle gets the void as a conflict.
		_, err = l.Settle(ctx, b.ID, 200, "b:settle")
		wantKind(t, err, errs.KindConflict, "hold_settled")
		if n, err := l.ExpireHolds(ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
			t.Fatalf("expire c: %d %v", n, err)
		}
		if _, err := l.Settle(ctx, c.ID, 0, ""); err != nil { // voiding again agrees
			t.Fatalf("void expired: %v", err)
		}
		wantBalance(t, l, alice, 950, 950)
		wantOK(t, l)
	})
}

func TestTransfersList(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		ctx := context.Background()
		for i := range 7 {
			topUp(t, l, alice, int64(i+1), fmt.Sprintf("t%d", i))
		}
		topUp(t, l, bob, 5, "tb")
		for i := range 3 {
			if _, _, err := l.Post(ctx, ledger.Transfer{Key: fmt.Sprintf("u%d", i), Debit: alice, Credit: ledger.Consumption, Amount: 1, Kind: "usage"}, ledger.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		var all []ledger.Transfer
		before := ""
		for {
			page, err := l.Transfers(ctx, alice, before, 4)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if len(page) < 4 {
				break
			}
			before = page[len(page)-1].ID
		}
		if len(all) != 10 {
			t.Fatalf("listed %d transfers of alice, want 10", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID >= all[i-1].ID {
				t.Fatalf("not newest first: %s then %s", all[i-1].ID, all[i].ID)
			}
		}
		for _, tr := range all {
			if tr.Debit != alice && tr.Credit != alice {
				t.Fatalf("listed %+v", tr)
			}
		}
		// Leaving out a kind: the usage charges go, the top-ups stay.
		noUsage, err := l.Transfers(ctx, alice, "", 50, "usage")
		if err != nil || len(noUsage) != 7 {
			t.Fatalf("without usage: %d transfers, %v; want alice's 7 top-ups", len(noUsage), err)
		}
		for _, tr := range noUsage {
			if tr.Kind == "usage" {
				t.Fatalf("listed %+v", tr)
			}
		}
		none, err := l.Transfers(ctx, ledger.Account("user:nobody"), "", 0)
		if err != nil || none == nil || len(none) != 0 {
			t.Fatalf("empty list: %v %v", none, err)
		}
	})
}

func TestReconcileFindsTampering(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		ctx := context.Background()
		topUp(t, l, alice, 100, "t1")
		h, _, err := l.Hold(ctx, ledger.Transfer{Key: "h", Debit: alice, Credit: ledger.Consumption, Amount: 40})
		if err != nil {
			t.Fatal(err)
		}
		h2, _, err := l.Hold(ctx, ledger.Transfer{Key: "h2", Debit: alice, Credit: ledger.Consumption, Amount: 10, ExpiresAt: store.Now() + 60_000})
		if err != nil {
			t.Fatal(err)
		}
		wantOK(t, l)
		if _, err := db.Exec(ctx, `DELETE FROM ledger_holds WHERE pending_id = ?`, h2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `UPDATE ledger_balances SET credits_posted = credits_posted + 5 WHERE account = ?`, alice); err != nil {
			t.Fatal(err)
		}
		// A settlement written behind the ledger's back, twice over.
		if _, err := db.Exec(ctx, `DROP INDEX ledger_transfers_settlement`); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if _, err := db.Exec(ctx, `INSERT INTO ledger_transfers (id, idem_key, debit_account, credit_account, amount, kind, status, pending_id, expires_at, memo, created_at)
				VALUES (?, ?, ?, ?, 40, 'agent', 'voided', ?, 0, '', 0)`, store.NewID(), fmt.Sprintf("x%d", i), alice, ledger.Consumption, h.ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec(ctx, `INSERT INTO ledger_transfers (id, idem_key, debit_account, credit_account, amount, kind, status, pending_id, expires_at, memo, created_at)
			VALUES (?, 'orphan', ?, ?, 3, 'agent', 'posted', 'missing', 0, '', 0)`, store.NewID(), alice, ledger.Consumption); err != nil {
			t.Fatal(err)
		}
		r, err := l.Reconcile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(r.Problems, "\n")
		for _, want := range []string{"account " + alice + ": balance row says", "not 0", "settled 2 times", "names no transfer", h2.ID + " is an open hold with an expiry missing"} {
			if !strings.Contains(text, want) {
				t.Errorf("problems lack %q:\n%s", want, text)
			}
		}
		if r.OK() {
			t.Fatal("tampered ledger reconciled OK")
		}
		js, _ := json.Marshal(r)
		if !strings.Contains(string(js), `"ok":false`) || !strings.Contains(string(js), `"problems":["`) {
			t.Fatalf("json %s", js)
		}
	})
}

func TestCrashLandsNothing(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		ctx := context.Background()
		topUp(t, l, alice, 100, "t1")
		boom := errors.New("crash after posting")
		err := db.Tx(ctx, func(q store.Q) error {
			if _, _, err := ledger.Post(ctx, q, ledger.Transfer{Key: "u1", Debit: alice, Credit: ledger.Consumption, Amount: 60}, ledger.Options{}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		func() {
			defer func() { _ = recover() }()
			_ = db.Tx(ctx, func(q store.Q) error {
				if _, _, err := ledger.Hold(ctx, q, ledger.Transfer{Key: "h1", Debit: alice, Credit: ledger.Consumption, Amount: 60}); err != nil {
					return err
				}
				panic("crash after holding")
			})
		}()
		wantBalance(t, l, alice, 100, 100)
		// The keys are free: a retry after the crash lands once.
		if _, created, err := l.Post(ctx, ledger.Transfer{Key: "u1", Debit: alice, Credit: ledger.Consumption, Amount: 60}, ledger.Options{}); err != nil || !created {
			t.Fatalf("retry after crash: %v %v", created, err)
		}
		wantBalance(t, l, alice, 40, 40)
		wantOK(t, l)
	})
}

func TestConcurrentTopUps(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		ctx := context.Background()
		const workers, each = 8, 100
		var wg sync.WaitGroup
		errc := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					// Every other top-up is retried at once by a second caller.
					tr := ledger.Transfer{Key: fmt.Sprintf("topup:%d:%d", w, i), Debit: ledger.TopUps, Credit: alice, Amount: 1_000 + int64(w), Kind: "topup"}
					if _, _, err := l.Post(ctx, tr, ledger.Options{}); err != nil {
						errc <- err
						return
					}
					if i%2 == 0 {
						if _, created, err := l.Post(ctx, tr, ledger.Options{}); err != nil || created {
							errc <- fmt.Errorf("retry %s: created %v, %v", tr.Key, created, err)
							return
						}
					}
					// And spend a little, racing the others' top-ups.
					if _, _, err := l.Post(ctx, ledger.Transfer{Key: fmt.Sprintf("use:%d:%d", w, i), Debit: alice, Credit: ledger.Consumption, Amount: 10, Kind: "usage"}, ledger.Options{}); err != nil {
						errc <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		var want int64
		for w := range workers {
			want += each * (1_000 + int64(w) - 10)
		}
		wantBalance(t, l, alice, want, want)
		r := wantOK(t, l)
		if r.Transfers != 2*workers*each {
			t.Fatalf("transfers %d", r.Transfers)
		}
	})
}

// TestConcurrentSettle races callers settling the same holds for different
// amounts, and expiry: each hold is settled exactly once and the losers are
// told so.
func TestConcurrentSettle(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		ctx := context.Background()
		topUp(t, l, alice, 100_000, "t1")
		past := time.Now().Add(-time.Minute).UnixMilli()
		var holds []ledger.Transfer
		for i := range 20 {
			h, _, err := l.Hold(ctx, ledger.Transfer{Key: fmt.Sprintf("h%d", i), Debit: alice, Credit: ledger.Consumption, Amount: 1000, ExpiresAt: past})
			if err != nil {
				t.Fatal(err)
			}
			holds = append(holds, h)
		}
		var wg sync.WaitGroup
		errc := make(chan error, 100)
		for w := range 4 {
			wg.Go(func() {
				for _, h := range holds {
					_, err := l.Settle(ctx, h.ID, int64(100*w), fmt.Sprintf("s:%s:%d", h.ID, w))
					if err != nil && !errs.Is(err, errs.KindConflict) {
						errc <- err
					}
				}
			})
		}
		wg.Go(func() {
			if _, err := l.ExpireHolds(ctx, time.Now()); err != nil {
				errc <- err
			}
		})
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		var charged int64
		for _, h := range holds {
			list, err := l.Transfers(ctx, alice, "", 500)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, tr := range list {
				if tr.PendingID == h.ID {
					n++
					if tr.Status == ledger.Posted {
						charged += tr.Amount
					}
				}
			}
			if n != 1 {
				t.Fatalf("hold %s settled %d times", h.ID, n)
			}
		}
		wantBalance(t, l, alice, 100_000-charged, 100_000-charged)
		wantOK(t, l)
	})
}

func TestPostBatch(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		ctx := context.Background()
		topUp(t, l, alice, 100, "t1")
		batch := func(ts []ledger.Transfer, o ledger.Options) ([]ledger.Transfer, []bool, error) {
			var (
				out     []ledger.Transfer
				created []bool
			)
			err := db.Tx(ctx, func(q store.Q) error {
				var err error
				out, created, err = ledger.PostBatch(ctx, q, ts, o)
				return err
			})
			return out, created, err
		}
		var in []ledger.Transfer
		for i := range 600 { // more than one INSERT
			in = append(in, ledger.Transfer{Key: fmt.Sprintf("rate:%d", i), Debit: alice, Credit: ledger.Consumption, Amount: 1, Kind: "usage"})
		}
		_, _, err := batch(in, ledger.Options{})
		wantKind(t, err, errs.KindPaymentRequired, "out_of_credits")
		wantBalance(t, l, alice, 100, 100)
		out, created, err := batch(in[:90], ledger.Options{})
		if err != nil || len(out) != 90 || !created[0] || !created[89] {
			t.Fatalf("batch: %d %v", len(out), err)
		}
		wantBalance(t, l, alice, 10, 10)
		// Retried with more: the first 90 are returned, not charged again.
		out2, created, err := batch(in, ledger.Options{AllowOverdraft: true})
		if err != nil {
			t.Fatal(err)
		}
		for i := range in {
			if created[i] != (i >= 90) || (i < 90 && out2[i] != out[i]) {
				t.Fatalf("retry %d: created %v %+v", i, created[i], out2[i])
			}
		}
		wantBalance(t, l, alice, -500, -500)
		// A key reused with another amount fails the batch.
		bad := in[0]
		bad.Amount = 2
		_, _, err = batch([]ledger.Transfer{in[1], bad}, ledger.Options{})
		wantKind(t, err, errs.KindConflict, "idempotency_key_reused")
		// A payer credited and debited in one batch needs only the net.
		_, _, err = batch([]ledger.Transfer{
			{Key: "in", Debit: ledger.TopUps, Credit: bob, Amount: 50, Kind: "topup"},
			{Key: "out", Debit: bob, Credit: ledger.Consumption, Amount: 50, Kind: "usage"},
		}, ledger.Options{})
		if err != nil {
			t.Fatal(err)
		}
		wantBalance(t, l, bob, 0, 0)
		wantOK(t, l)
	})
}
