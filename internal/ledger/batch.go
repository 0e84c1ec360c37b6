package ledger

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"ecode/internal/errs"
	"ecode/internal/store"
)

// batchRows bounds one multi-row INSERT (11 parameters a row, well under
// SQLite's and PostgreSQL's limits).
const batchRows = 500

// PostBatch is Post for many transfers in q's transaction, in a few
// statements: one INSERT per 500 transfers and one balance update per
// account touched, however many transfers touch it. That is the rating
// job's shape: many charges, few accounts. Each transfer is idempotent as
// with Post (created[i] says whether ts[i] is new; a key reused with other
// fields is a Conflict). Without o.AllowOverdraft a payer must afford the
// sum of its new debits in the batch, or the whole batch is
// PaymentRequired. On an error the caller's transaction must not commit.
func PostBatch(ctx context.Context, q store.Q, ts []Transfer, o Options) ([]Transfer, []bool, error) {
	out := make([]Transfer, len(ts))
	created := make([]bool, len(ts))
	for i, t := range ts {
		t.Status, t.PendingID, t.ExpiresAt = Posted, "", 0
		if err := check(&t); err != nil {
			return nil, nil, fmt.Errorf("transfer %d: %w", i, err)
		}
		out[i] = t
	}
	for start := 0; start < len(out); start += batchRows {
		chunk := out[start:min(start+batchRows, len(out))]
		var b strings.Builder
		args := make([]any, 0, 11*len(chunk))
		b.WriteString(`INSERT INTO ledger_transfers (` + columns + `) VALUES `)
		for i, t := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, t.ID, t.Key, t.Debit, t.Credit, t.Amount, t.Kind, t.Status, t.PendingID, t.ExpiresAt, t.Memo, t.CreatedAt)
		}
		b.WriteString(" ON CONFLICT DO NOTHING RETURNING id")
		var ids []string
		if err := q.Select(ctx, &ids, b.String(), args...); err != nil {
			return nil, nil, fmt.Errorf("insert transfers: %w", err)
		}
		made := make(map[string]bool, len(ids))
		for _, id := range ids {
			made[id] = true
		}
		for i := range chunk {
			created[start+i] = made[chunk[i].ID]
		}
	}
	// Keys already taken (before, or earlier in this batch): the transfer
	// made with the key, when it agrees.
	for i := range out {
		if created[i] {
			continue
		}
		prev, found, err := byKey(ctx, q, out[i].Key)
		if err != nil {
			return nil, nil, err
		}
		t := out[i]
		if !found || prev.Debit != t.Debit || prev.Credit != t.Credit || prev.Amount != t.Amount ||
			prev.Kind != t.Kind || prev.Status != Posted || prev.PendingID != "" {
			return nil, nil, reused(t.Key)
		}
		out[i] = prev
	}
	type delta struct{ debit, credit int64 }
	sums := map[string]*delta{}
	add := func(account string) *delta {
		d := sums[account]
		if d == nil {
			d = &delta{}
			sums[account] = d
		}
		return d
	}
	for i, t := range out {
		if created[i] {
			add(t.Debit).debit += t.Amount
			add(t.Credit).credit += t.Amount
		}
	}
	accounts := make([]string, 0, len(sums))
	for a := range sums {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts) // the same lock order as Post
	for _, a := range accounts {
		d := sums[a]
		if d.debit > d.credit && IsPayer(a) && !o.AllowOverdraft {
			n, err := q.Exec(ctx, `UPDATE ledger_balances SET debits_posted = debits_posted + ?, credits_posted = credits_posted + ?
				WHERE account = ? AND credits_posted - debits_posted - debits_pending >= ?`, d.debit, d.credit, a, d.debit-d.credit)
			if err != nil {
				return nil, nil, fmt.Errorf("debit %s: %w", a, err)
			}
			if n == 1 {
				continue
			}
			b, err := BalanceOf(ctx, q, a)
			if err != nil {
				return nil, nil, err
			}
			return nil, nil, errs.PaymentRequired("out_of_credits",
				"Out of credits: %s has %s credits available and these charges need %s. Top up to go on.",
				a, Credits(b.Available()), Credits(d.debit-d.credit))
		}
		if err := addTo(ctx, q, a, `debits_posted = debits_posted + ?, credits_posted = credits_posted + ?`, d.debit, d.credit); err != nil {
			return nil, nil, err
		}
	}
	return out, created, nil
}
