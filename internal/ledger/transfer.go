package ledger

import (
	"context"
	"fmt"
	"time"

	"ecode/internal/errs"
	"ecode/internal/store"
)

// Post makes a posted transfer in q's transaction and reports whether it is
// new. A retry with the same key and fields returns the first transfer; the
// same key with another debit, credit, amount or kind is a Conflict. A payer
// debit that would leave less than zero available is PaymentRequired unless
// o.AllowOverdraft. On an error the caller's transaction must not commit.
func Post(ctx context.Context, q store.Q, t Transfer, o Options) (Transfer, bool, error) {
	t.Status, t.PendingID, t.ExpiresAt = Posted, "", 0
	if err := check(&t); err != nil {
		return Transfer{}, false, err
	}
	prev, created, err := claim(ctx, q, t)
	if err != nil || !created {
		return prev, false, err
	}
	guard := IsPayer(t.Debit) && !o.AllowOverdraft
	if err := apply(ctx, q, t, "debits_posted", "credits_posted", t.Amount, guard); err != nil {
		return Transfer{}, false, err
	}
	return t, true, nil
}

// Hold makes a pending transfer in q's transaction: the amount is reserved
// on both sides until Settle posts or voids it, or ExpireHolds voids it
// after ExpiresAt (unix ms; 0 = never). A payer is never overdrawn by a hold.
func Hold(ctx context.Context, q store.Q, t Transfer) (Transfer, bool, error) {
	t.Status, t.PendingID = Pending, ""
	if t.ExpiresAt < 0 {
		return Transfer{}, false, errs.Invalid("invalid_transfer", "A hold's expiry must be a time, or 0 for none.")
	}
	if err := check(&t); err != nil {
		return Transfer{}, false, err
	}
	prev, created, err := claim(ctx, q, t)
	if err != nil || !created {
		return prev, false, err
	}
	if err := apply(ctx, q, t, "debits_pending", "credits_pending", t.Amount, IsPayer(t.Debit)); err != nil {
		return Transfer{}, false, err
	}
	if t.ExpiresAt > 0 {
		if _, err := q.Exec(ctx, `INSERT INTO ledger_holds (pending_id, expires_at) VALUES (?, ?)`, t.ID, t.ExpiresAt); err != nil {
			return Transfer{}, false, fmt.Errorf("note hold %s: %w", t.Key, err)
		}
	}
	return t, true, nil
}

// Settle posts amount (at most what is held; 0 voids) of the pending
// transfer pendingID in q's transaction and releases the rest. A pending
// transfer is settled once: a retry with the same key returns the
// settlement; another key gets the settlement already made when it agrees
// (same amount), and a Conflict "hold_settled" with that settlement when it
// does not. An empty key is "settle:<pendingID>".
func Settle(ctx context.Context, q store.Q, pendingID string, amount int64, key string) (Transfer, error) {
	s, _, err := settle(ctx, q, pendingID, amount, key)
	return s, err
}

// settle is Settle, also saying whether the settlement is new.
func settle(ctx context.Context, q store.Q, pendingID string, amount int64, key string) (Transfer, bool, error) {
	if key == "" {
		key = "settle:" + pendingID
	}
	p, err := byID(ctx, q, pendingID)
	if err != nil {
		return Transfer{}, false, err
	}
	if p.Status != Pending {
		return Transfer{}, false, errs.Invalid("not_a_hold", "Transfer %s is not a hold; only a pending transfer can be settled.", pendingID)
	}
	if amount < 0 || amount > p.Amount {
		return Transfer{}, false, errs.Invalid("invalid_amount",
			"A hold of %d µcr can be settled for 0 to %d µcr, not %d.", p.Amount, p.Amount, amount)
	}
	// A void carries the held amount (amounts are positive) and posts nothing.
	s := Transfer{ID: store.NewID(), Key: key, Debit: p.Debit, Credit: p.Credit, Amount: amount,
		Kind: p.Kind, Status: Posted, PendingID: p.ID, Memo: p.Memo, CreatedAt: store.Now()}
	if amount == 0 {
		s.Status, s.Amount = Voided, p.Amount
	}
	n, err := insert(ctx, q, s)
	if err != nil {
		return Transfer{}, false, err
	}
	if n == 0 {
		// The key is taken, or the hold is already settled (the unique
		// index on pending_id): return what is there.
		prev, found, err := byKey(ctx, q, key)
		if err != nil {
			return Transfer{}, false, err
		}
		if found {
			if prev.PendingID != s.PendingID || prev.Status != s.Status || prev.Amount != s.Amount {
				return Transfer{}, false, reused(key)
			}
			return prev, false, nil
		}
		var done Transfer
		if err := q.Get(ctx, &done, `SELECT `+columns+` FROM ledger_transfers WHERE pending_id = ?`, p.ID); err != nil {
			return Transfer{}, false, fmt.Errorf("read settlement of %s: %w", p.ID, err)
		}
		if done.Status != s.Status || done.Amount != s.Amount {
			return done, false, errs.Conflict("hold_settled",
				"This hold was already settled (%s, %d µcr) by %s.", done.Status, done.Amount, done.Key)
		}
		return done, false, nil
	}
	// Release the whole hold and post what was charged, on both sides, in
	// one statement per account (no guard: the hold reserved it).
	if err := settleSide(ctx, q, p, amount); err != nil {
		return Transfer{}, false, err
	}
	if p.ExpiresAt > 0 {
		if _, err := q.Exec(ctx, `DELETE FROM ledger_holds WHERE pending_id = ?`, p.ID); err != nil {
			return Transfer{}, false, fmt.Errorf("settle hold %s: %w", p.ID, err)
		}
	}
	return s, true, nil
}

// BalanceOf reads an account's balance in q; an account never used has zeros.
func BalanceOf(ctx context.Context, q store.Q, account string) (Balance, error) {
	var b Balance
	err := q.Get(ctx, &b, `SELECT account, debits_posted, credits_posted, debits_pending, credits_pending
		FROM ledger_balances WHERE account = ?`, account)
	if store.NoRows(err) {
		return Balance{Account: account}, nil
	}
	if err != nil {
		return Balance{}, fmt.Errorf("read balance of %s: %w", account, err)
	}
	return b, nil
}

// check validates a new transfer and fills in its id, time and kind.
func check(t *Transfer) error {
	switch {
	case t.Key == "":
		return errs.Invalid("invalid_transfer", "A transfer needs an idempotency key.")
	case len(t.Key) > 200:
		return errs.Invalid("invalid_transfer", "An idempotency key is at most 200 characters.")
	case t.Debit == "" || t.Credit == "":
		return errs.Invalid("invalid_transfer", "A transfer needs a debit and a credit account.")
	case t.Debit == t.Credit:
		return errs.Invalid("invalid_transfer", "A transfer's debit and credit accounts must differ (both %s).", t.Debit)
	case t.Amount <= 0:
		return errs.Invalid("invalid_amount", "A transfer's amount must be more than 0 µcr, not %d.", t.Amount)
	}
	if t.Kind == "" {
		t.Kind = "transfer"
	}
	t.ID, t.CreatedAt = store.NewID(), store.Now()
	return nil
}

// claim inserts t unless its key is taken. When it is, it returns the
// transfer made with the key, or a Conflict when that one differs.
func claim(ctx context.Context, q store.Q, t Transfer) (Transfer, bool, error) {
	n, err := insert(ctx, q, t)
	if err != nil {
		return Transfer{}, false, err
	}
	if n == 1 {
		return t, true, nil
	}
	prev, found, err := byKey(ctx, q, t.Key)
	if err != nil {
		return Transfer{}, false, err
	}
	if !found {
		return Transfer{}, false, fmt.Errorf("transfer %s: insert ignored but no row has its key", t.Key)
	}
	if prev.Debit != t.Debit || prev.Credit != t.Credit || prev.Amount != t.Amount ||
		prev.Kind != t.Kind || prev.Status != t.Status || prev.PendingID != "" {
		return Transfer{}, false, reused(t.Key)
	}
	return prev, false, nil
}

func reused(key string) error {
	return errs.Conflict("idempotency_key_reused",
		"The idempotency key %q was already used for a different transfer; use a new key for a new transfer.", key)
}

// apply adds amount to the debit account's debitCol and the credit
// account's creditCol. With guard, the debit must leave the account's
// available balance at or above zero; when it would not, the transfer just
// inserted is taken back (it was never visible outside this transaction)
// and the answer is PaymentRequired. The two rows are updated in account
// order so that concurrent transfers between the same accounts on
// PostgreSQL lock them in the same order.
func apply(ctx context.Context, q store.Q, t Transfer, debitCol, creditCol string, amount int64, guard bool) error {
	debitFirst := t.Debit < t.Credit
	for i := range 2 {
		var err error
		if (i == 0) == debitFirst {
			err = debitSide(ctx, q, t, debitCol, amount, guard)
		} else {
			err = addTo(ctx, q, t.Credit, creditCol+" = "+creditCol+" + ?", amount)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func debitSide(ctx context.Context, q store.Q, t Transfer, col string, amount int64, guard bool) error {
	if !guard {
		return addTo(ctx, q, t.Debit, col+" = "+col+" + ?", amount)
	}
	// The guard: the row is updated only while it can afford the debit. A
	// missing row has nothing, so it cannot.
	n, err := q.Exec(ctx, `UPDATE ledger_balances SET `+col+` = `+col+` + ?
		WHERE account = ? AND credits_posted - debits_posted - debits_pending >= ?`, amount, t.Debit, amount)
	if err != nil {
		return fmt.Errorf("debit %s: %w", t.Debit, err)
	}
	if n == 1 {
		return nil
	}
	if _, err := q.Exec(ctx, `DELETE FROM ledger_transfers WHERE id = ?`, t.ID); err != nil {
		return fmt.Errorf("take back transfer %s: %w", t.Key, err)
	}
	b, err := BalanceOf(ctx, q, t.Debit)
	if err != nil {
		return err
	}
	return errs.PaymentRequired("out_of_credits",
		"Out of credits: %s has %s credits available and this needs %s. Top up to go on.",
		t.Debit, Credits(b.Available()), Credits(amount))
}

// addTo runs "UPDATE ledger_balances SET <set> WHERE account = ?", creating
// the account's row first when it has none.
func addTo(ctx context.Context, q store.Q, account, set string, args ...any) error {
	stmt := `UPDATE ledger_balances SET ` + set + ` WHERE account = ?`
	args = append(args, account)
	n, err := q.Exec(ctx, stmt, args...)
	if err == nil && n == 0 {
		if _, err = q.Exec(ctx, `INSERT INTO ledger_balances (account, debits_posted, credits_posted, debits_pending, credits_pending)
			VALUES (?, 0, 0, 0, 0) ON CONFLICT DO NOTHING`, account); err == nil {
			n, err = q.Exec(ctx, stmt, args...)
		}
	}
	if err == nil && n != 1 {
		err = fmt.Errorf("no balance row")
	}
	if err != nil {
		return fmt.Errorf("update balance of %s: %w", account, err)
	}
	return nil
}

// settleSide releases hold p on both accounts and posts amount of it.
func settleSide(ctx context.Context, q store.Q, p Transfer, amount int64) error {
	debit := func() error {
		return addTo(ctx, q, p.Debit, `debits_pending = debits_pending - ?, debits_posted = debits_posted + ?`, p.Amount, amount)
	}
	credit := func() error {
		return addTo(ctx, q, p.Credit, `credits_pending = credits_pending - ?, credits_posted = credits_posted + ?`, p.Amount, amount)
	}
	first, second := debit, credit
	if p.Credit < p.Debit {
		first, second = credit, debit
	}
	if err := first(); err != nil {
		return err
	}
	return second()
}

// Credits formats µcr as credits with up to 6 decimals: 1500000 → "1.5".
func Credits(micro int64) string {
	sign := ""
	u := uint64(micro)
	if micro < 0 {
		sign, u = "-", uint64(-micro)
	}
	s := fmt.Sprintf("%s%d", sign, u/Micro)
	if f := u % Micro; f != 0 {
		frac := fmt.Sprintf("%06d", f)
		for frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		s += "." + frac
	}
	return s
}

// expireHolds voids due holds, a batch at a time, each in its own
// transaction so that one hold settled meanwhile does not stop the rest.
func (l *Ledger) expireHolds(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.UnixMilli()
	voided := 0
	after := ""
	for {
		var ids []string
		if err := l.db.Select(ctx, &ids, `SELECT pending_id FROM ledger_holds
			WHERE expires_at <= ? AND pending_id > ? ORDER BY pending_id LIMIT 500`, cutoff, after); err != nil {
			return voided, fmt.Errorf("list expired holds: %w", err)
		}
		for _, id := range ids {
			var created bool
			err := l.db.Tx(ctx, func(q store.Q) error {
				var err error
				_, created, err = settle(ctx, q, id, 0, "expire:"+id)
				return err
			})
			if errs.Is(err, errs.KindConflict) {
				continue // settled meanwhile by its owner
			}
			if err != nil {
				return voided, fmt.Errorf("expire hold %s: %w", id, err)
			}
			if created {
				voided++
			}
		}
		if len(ids) < 500 {
			return voided, nil
		}
		after = ids[len(ids)-1]
	}
}
