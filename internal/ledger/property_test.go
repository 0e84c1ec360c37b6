package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"ecode/internal/errs"
	"ecode/internal/ledger"
	"ecode/internal/store"
)

// model is the ledger as a few maps: what every balance must be.
type model struct {
	bal   map[string]*ledger.Balance
	holds map[string]*modelHold // by pending transfer id
	ids   []string              // hold ids in the order made
	done  []madeOp              // what succeeded, for retries
	free  []crashed             // keys whose transfer never landed
}

type modelHold struct {
	t       ledger.Transfer
	settled bool
	status  string
	amount  int64 // the settlement's amount (the held amount for a void)
}

type madeOp struct {
	kind    string // post, hold, settle
	in      ledger.Transfer
	o       ledger.Options
	pending string
	amount  int64
	id      string
}

type crashed struct {
	hold bool
	in   ledger.Transfer
	o    ledger.Options
}

func (m *model) b(account string) *ledger.Balance {
	b := m.bal[account]
	if b == nil {
		b = &ledger.Balance{Account: account}
		m.bal[account] = b
	}
	return b
}

func (m *model) affords(account string, amount int64) bool {
	return !ledger.IsPayer(account) || m.b(account).Available() >= amount
}

func (m *model) post(t ledger.Transfer) {
	m.b(t.Debit).DebitsPosted += t.Amount
	m.b(t.Credit).CreditsPosted += t.Amount
}

func (m *model) hold(t ledger.Transfer) {
	m.b(t.Debit).DebitsPending += t.Amount
	m.b(t.Credit).CreditsPending += t.Amount
	m.holds[t.ID] = &modelHold{t: t}
	m.ids = append(m.ids, t.ID)
}

func (m *model) settle(id string, amount int64) {
	h := m.holds[id]
	d, c := m.b(h.t.Debit), m.b(h.t.Credit)
	d.DebitsPending -= h.t.Amount
	c.CreditsPending -= h.t.Amount
	d.DebitsPosted += amount
	c.CreditsPosted += amount
	h.settled, h.status, h.amount = true, ledger.Posted, amount
	if amount == 0 {
		h.status, h.amount = ledger.Voided, h.t.Amount
	}
}

// TestLedgerProperties runs a seeded random sequence of top-ups, transfers,
// usage with overdraft, holds, settles, voids, expiry, retries of earlier
// keys and crashed transactions against the model, and checks after every
// 100 operations that the ledger reconciles and every balance is the
// model's. LEDGER_SEED=<n> replays a sequence.
func TestLedgerProperties(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LEDGER_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	ops := 2000
	if testing.Short() {
		ops = 400
	}
	each(t, func(t *testing.T, db *store.DB, l *ledger.Ledger) {
		t.Logf("seed %d (LEDGER_SEED=%d replays it)", seed, seed)
		if err := runProperties(t, db, l, seed, ops); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	})
}

func runProperties(t *testing.T, db *store.DB, l *ledger.Ledger, seed uint64, ops int) error {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	m := &model{bal: map[string]*ledger.Balance{}, holds: map[string]*modelHold{}}
	payers := make([]string, 5)
	for i := range payers {
		payers[i] = ledger.Account(fmt.Sprintf("user:p%d", i))
	}
	payer := func() string { return payers[rng.IntN(len(payers))] }
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	seq := 0
	stats := map[string]int{}
	defer func() { t.Logf("outcomes: %v", stats) }()
	key := func(prefix string) string { seq++; return fmt.Sprintf("%s:%d", prefix, seq) }

	// post runs one posting (or hold) and checks the outcome the model predicts.
	post := func(step int, in ledger.Transfer, o ledger.Options, hold bool) error {
		var (
			got     ledger.Transfer
			created bool
			err     error
		)
		can := m.affords(in.Debit, in.Amount) || (!hold && o.AllowOverdraft)
		if hold {
			got, created, err = l.Hold(ctx, in)
		} else {
			got, created, err = l.Post(ctx, in, o)
		}
		switch {
		case !can:
			if !errs.Is(err, errs.KindPaymentRequired) {
				return fmt.Errorf("op %d: %s of %d from %s (available %d): %v, want out_of_credits",
					step, in.Key, in.Amount, in.Debit, m.b(in.Debit).Available(), err)
			}
			stats["refused"]++
			return nil
		case err != nil || !created:
			return fmt.Errorf("op %d: %s: created %v, %v", step, in.Key, created, err)
		}
		stats["made"]++
		if hold {
			m.hold(got)
			m.done = append(m.done, madeOp{kind: "hold", in: in, id: got.ID})
		} else {
			m.post(got)
			m.done = append(m.done, madeOp{kind: "post", in: in, o: o, id: got.ID})
		}
		return nil
	}

	check := func(step int) error {
		r, err := l.Reconcile(ctx)
		if err != nil {
			return err
		}
		if !r.OK() {
			return fmt.Errorf("op %d: reconcile: total %d, %v", step, r.Total, r.Problems)
		}
		var total int64
		for a, want := range m.bal {
			got, err := l.Balance(ctx, a)
			if err != nil {
				return err
			}
			if got != *want {
				return fmt.Errorf("op %d: %s is %+v, model says %+v", step, a, got, *want)
			}
			total += got.Posted()
		}
		if total != 0 {
			return fmt.Errorf("op %d: balances add up to %d", step, total)
		}
		return nil
	}

	for step := range ops {
		var err error
		switch r := rng.IntN(100); {
		case r < 14: // top-up
			err = post(step, ledger.Transfer{Key: key("topup"), Debit: ledger.TopUps, Credit: payer(), Amount: 1 + rng.Int64N(1000), Kind: "topup"}, ledger.Options{}, false)
		case r < 28: // between payers
			from, to := payer(), payer()
			if from == to {
				continue
			}
			err = post(step, ledger.Transfer{Key: key("gift"), Debit: from, Credit: to, Amount: 1 + rng.Int64N(600), Kind: "gift"}, ledger.Options{}, false)
		case r < 42: // usage already consumed
			err = post(step, ledger.Transfer{Key: key("use"), Debit: payer(), Credit: ledger.Consumption, Amount: 1 + rng.Int64N(300), Kind: "usage"}, ledger.Options{AllowOverdraft: true}, false)
		case r < 45: // the rating job: a batch of charges, some retried
			var in []ledger.Transfer
			for range 1 + rng.IntN(20) {
				if len(m.done) > 0 && rng.IntN(5) == 0 {
					if d := m.done[rng.IntN(len(m.done))]; d.kind == "post" {
						in = append(in, d.in)
						continue
					}
				}
				in = append(in, ledger.Transfer{Key: key("rate"), Debit: payer(), Credit: ledger.Consumption, Amount: 1 + rng.Int64N(100), Kind: "usage"})
			}
			o := ledger.Options{AllowOverdraft: rng.IntN(4) != 0}
			known := map[string]bool{}
			for _, d := range m.done {
				known[d.in.Key] = true
			}
			need := map[string]int64{}
			for _, tr := range in {
				if !known[tr.Key] {
					need[tr.Debit] += tr.Amount
					need[tr.Credit] -= tr.Amount
				}
			}
			can := true
			for a, n := range need {
				if !o.AllowOverdraft && n > 0 && !m.affords(a, n) {
					can = false
				}
			}
			var (
				got     []ledger.Transfer
				created []bool
				berr    error
			)
			berr = db.Tx(ctx, func(q store.Q) error {
				got, created, berr = ledger.PostBatch(ctx, q, in, o)
				return berr
			})
			if !can {
				if !errs.Is(berr, errs.KindPaymentRequired) {
					err = fmt.Errorf("op %d: unaffordable batch: %v", step, berr)
				}
				stats["batch refused"]++
				break
			}
			if berr != nil {
				err = fmt.Errorf("op %d: batch: %v", step, berr)
				break
			}
			for i, tr := range got {
				if created[i] == known[tr.Key] {
					err = fmt.Errorf("op %d: batch %s created %v", step, tr.Key, created[i])
					break
				}
				if created[i] {
					m.post(tr)
					m.done = append(m.done, madeOp{kind: "post", in: in[i], o: o, id: tr.ID})
				}
			}
			stats["batch"]++
		case r < 47: // a charge that must be affordable
			err = post(step, ledger.Transfer{Key: key("buy"), Debit: payer(), Credit: ledger.Consumption, Amount: 1 + rng.Int64N(300), Kind: "usage"}, ledger.Options{}, false)
		case r < 59: // hold
			var exp int64
			if rng.IntN(2) == 0 {
				exp = now.Add(time.Duration(1+rng.IntN(600)) * time.Second).UnixMilli()
			}
			err = post(step, ledger.Transfer{Key: key("hold"), Debit: payer(), Credit: ledger.Consumption, Amount: 1 + rng.Int64N(500), Kind: "agent", ExpiresAt: exp}, ledger.Options{}, true)
		case r < 72: // settle or void some hold, open or not
			if len(m.ids) == 0 {
				continue
			}
			id := m.ids[rng.IntN(len(m.ids))]
			h := m.holds[id]
			amount := rng.Int64N(h.t.Amount + 1)
			if r < 66 && rng.IntN(3) == 0 {
				amount = 0
			}
			if h.settled && rng.IntN(2) == 0 {
				amount = h.amount // agree with the settlement made
				if h.status == ledger.Voided {
					amount = 0
				}
			}
			k := key("settle")
			s, serr := l.Settle(ctx, id, amount, k)
			switch {
			case !h.settled:
				if serr != nil || s.PendingID != id || s.Key != k {
					err = fmt.Errorf("op %d: settle %s for %d: %+v %v", step, id, amount, s, serr)
					break
				}
				m.settle(id, amount)
				stats["settled"]++
				m.done = append(m.done, madeOp{kind: "settle", pending: id, amount: amount, in: ledger.Transfer{Key: k}, id: s.ID})
			case (amount == 0 && h.status == ledger.Voided) || (amount > 0 && h.status == ledger.Posted && amount == h.amount):
				if serr != nil || s.PendingID != id {
					err = fmt.Errorf("op %d: agreeing settle of settled %s: %+v %v", step, id, s, serr)
				}
				stats["settled again"]++
			default:
				if e, ok := errs.As(serr); !ok || e.Code != "hold_settled" {
					err = fmt.Errorf("op %d: settle of settled %s for %d (was %s %d): %v, want hold_settled", step, id, amount, h.status, h.amount, serr)
				}
				stats["settle refused"]++
			}
		case r < 84: // retry something that succeeded
			if len(m.done) == 0 {
				continue
			}
			d := m.done[rng.IntN(len(m.done))]
			var (
				got     ledger.Transfer
				created bool
				rerr    error
			)
			switch d.kind {
			case "post":
				got, created, rerr = l.Post(ctx, d.in, d.o)
			case "hold":
				got, created, rerr = l.Hold(ctx, d.in)
			case "settle":
				got, rerr = l.Settle(ctx, d.pending, d.amount, d.in.Key)
			}
			stats["retried "+d.kind]++
			if rerr != nil || created || got.ID != d.id {
				err = fmt.Errorf("op %d: retry of %s %s: %+v created %v, %v", step, d.kind, d.in.Key, got, created, rerr)
			}
		case r < 92: // a unit of work that posts, then fails or panics
			hold := rng.IntN(3) == 0
			in := ledger.Transfer{Key: key("crash"), Debit: payer(), Credit: ledger.Consumption, Amount: 1 + rng.Int64N(200), Kind: "usage"}
			o := ledger.Options{AllowOverdraft: !hold}
			boom := errors.New("crash")
			panics := rng.IntN(2) == 0
			func() {
				defer func() { _ = recover() }()
				terr := db.Tx(ctx, func(q store.Q) error {
					if hold {
						_, _, _ = ledger.Hold(ctx, q, in)
					} else {
						_, _, _ = ledger.Post(ctx, q, in, o)
					}
					if panics {
						panic(boom)
					}
					return boom
				})
				if !errors.Is(terr, boom) {
					err = fmt.Errorf("op %d: crashed tx returned %v", step, terr)
				}
			}()
			m.free = append(m.free, crashed{hold: hold, in: in, o: o})
			stats["crashed"]++
		case r < 96: // a crashed key retried for real: it lands once
			if len(m.free) == 0 {
				continue
			}
			i := rng.IntN(len(m.free))
			c := m.free[i]
			m.free = append(m.free[:i], m.free[i+1:]...)
			err = post(step, c.in, c.o, c.hold)
		default: // time passes; due holds expire
			now = now.Add(time.Duration(rng.IntN(300)) * time.Second)
			want := 0
			for _, id := range m.ids {
				h := m.holds[id]
				if !h.settled && h.t.ExpiresAt > 0 && h.t.ExpiresAt <= now.UnixMilli() {
					m.settle(id, 0)
					want++
				}
			}
			stats["expired"] += want
			n, eerr := l.ExpireHolds(ctx, now)
			if eerr != nil || n != want {
				err = fmt.Errorf("op %d: expired %d holds, want %d: %v", step, n, want, eerr)
			}
		}
		if err == nil && (step+1)%100 == 0 {
			err = check(step)
		}
		if err != nil {
			return err
		}
	}
	return check(ops)
}
