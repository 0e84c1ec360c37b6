package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/jmoiron/sqlx"

	"ecode/internal/errs"
	"ecode/internal/store"
)

const columns = `id, idem_key, debit_account, credit_account, amount, kind, status, pending_id, expires_at, memo, created_at`

// insert adds t unless a row already has its key (or, for a settlement, its
// pending_id), and returns the rows it added. ON CONFLICT DO NOTHING rather
// than a unique violation: on PostgreSQL an error would abort the caller's
// transaction.
func insert(ctx context.Context, q store.Q, t Transfer) (int64, error) {
	n, err := q.Exec(ctx, `INSERT INTO ledger_transfers (`+columns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		t.ID, t.Key, t.Debit, t.Credit, t.Amount, t.Kind, t.Status, t.PendingID, t.ExpiresAt, t.Memo, t.CreatedAt)
	if err != nil {
		return 0, fmt.Errorf("insert transfer %s: %w", t.Key, err)
	}
	return n, nil
}

func byKey(ctx context.Context, q store.Q, key string) (Transfer, bool, error) {
	var t Transfer
	err := q.Get(ctx, &t, `SELECT `+columns+` FROM ledger_transfers WHERE idem_key = ?`, key)
	if store.NoRows(err) {
		return Transfer{}, false, nil
	}
	if err != nil {
		return Transfer{}, false, fmt.Errorf("read transfer %s: %w", key, err)
	}
	return t, true, nil
}

func byID(ctx context.Context, q store.Q, id string) (Transfer, error) {
	var t Transfer
	err := q.Get(ctx, &t, `SELECT `+columns+` FROM ledger_transfers WHERE id = ?`, id)
	if store.NoRows(err) {
		return Transfer{}, errs.NotFound("transfer_not_found", "No transfer %s.", id)
	}
	if err != nil {
		return Transfer{}, fmt.Errorf("read transfer %s: %w", id, err)
	}
	return t, nil
}

// listTransfers merges the newest transfers on each side of account; each
// side is one index range scan.
func listTransfers(ctx context.Context, q store.Q, account, before string, limit int, skip []string) ([]Transfer, error) {
	if limit <= 0 || limit > 500 {
		limit = min(max(limit, 50), 500)
	}
	if before == "" {
		before = "~" // above every id: ids are lower-case ULIDs
	}
	side := func(col string) (string, []any) {
		where, args := col+" = ? AND id < ?", []any{account, before}
		if len(skip) > 0 {
			where += " AND kind NOT IN (?" + strings.Repeat(", ?", len(skip)-1) + ")"
			for _, k := range skip {
				args = append(args, k)
			}
		}
		return `SELECT * FROM (SELECT ` + columns + ` FROM ledger_transfers WHERE ` + where + ` ORDER BY id DESC LIMIT ?)`, append(args, limit)
	}
	debits, dargs := side("debit_account")
	credits, cargs := side("credit_account")
	out := []Transfer{}
	args := append(append(dargs, cargs...), limit)
	if err := q.Select(ctx, &out, debits+` d UNION ALL `+credits+` c ORDER BY id DESC LIMIT ?`, args...); err != nil {
		return nil, fmt.Errorf("list transfers of %s: %w", account, err)
	}
	return out, nil
}

// reconcile recomputes each account's sums from the transfers (posted ones
// and settlements count as posted; holds count as pending until settled)
// and compares them with the balance rows.
func reconcile(ctx context.Context, db *store.DB) (Report, error) {
	var r Report
	r.Problems = []string{}
	// Read everything in one read-only transaction, so that the sums and
	// the balance rows are the same moment's: a snapshot that blocks no
	// writer (SQLite's WAL reader; PostgreSQL's repeatable read).
	err := readOnly(ctx, db, func(q store.Q) error {
		r = Report{Problems: []string{}}
		var sums []struct {
			Account string `db:"account"`
			Side    string `db:"side"`
			Posted  int64  `db:"posted"`
			Pending int64  `db:"pending"`
		}
		// One pass per side; an unsettled hold is found through the unique
		// index on pending_id, looked up for holds only.
		const side = `SELECT t.%[1]s_account AS account, '%[1]s' AS side,
				COALESCE(SUM(CASE WHEN t.status = 'posted' THEN t.amount ELSE 0 END), 0) AS posted,
				COALESCE(SUM(CASE WHEN t.status = 'pending' AND NOT EXISTS (SELECT 1 FROM ledger_transfers s
					WHERE s.pending_id = t.id AND s.pending_id <> '') THEN t.amount ELSE 0 END), 0) AS pending
			FROM ledger_transfers t GROUP BY t.%[1]s_account`
		if err := q.Select(ctx, &sums, fmt.Sprintf(side, "debit")+" UNION ALL "+fmt.Sprintf(side, "credit")); err != nil {
			return fmt.Errorf("sum transfers: %w", err)
		}
		want := map[string]*Balance{}
		for _, s := range sums {
			b := want[s.Account]
			if b == nil {
				b = &Balance{Account: s.Account}
				want[s.Account] = b
			}
			if s.Side == "debit" {
				b.DebitsPosted, b.DebitsPending = s.Posted, s.Pending
			} else {
				b.CreditsPosted, b.CreditsPending = s.Posted, s.Pending
			}
		}
		var have []Balance
		if err := q.Select(ctx, &have, `SELECT account, debits_posted, credits_posted, debits_pending, credits_pending
			FROM ledger_balances ORDER BY account`); err != nil {
			return fmt.Errorf("read balances: %w", err)
		}
		r.Accounts = len(have)
		var pendingTotal int64
		for _, b := range have {
			r.Total += b.Posted()
			pendingTotal += b.CreditsPending - b.DebitsPending
			w, ok := want[b.Account]
			if !ok {
				w = &Balance{Account: b.Account}
			}
			delete(want, b.Account)
			if *w != b {
				r.Problems = append(r.Problems, fmt.Sprintf(
					"account %s: balance row says posted debits %d, credits %d, pending debits %d, credits %d; its transfers add up to %d, %d, %d, %d",
					b.Account, b.DebitsPosted, b.CreditsPosted, b.DebitsPending, b.CreditsPending,
					w.DebitsPosted, w.CreditsPosted, w.DebitsPending, w.CreditsPending))
			}
		}
		missing := make([]string, 0, len(want))
		for a := range want {
			missing = append(missing, a)
		}
		sort.Strings(missing)
		for _, a := range missing {
			r.Problems = append(r.Problems, fmt.Sprintf("account %s has transfers but no balance row", a))
		}
		if r.Total != 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("posted credits minus debits over all accounts is %d µcr, not 0", r.Total))
		}
		if pendingTotal != 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("pending credits minus debits over all accounts is %d µcr, not 0", pendingTotal))
		}

		var n struct {
			Count int `db:"n"`
		}
		if err := q.Get(ctx, &n, `SELECT COUNT(*) AS n FROM ledger_transfers`); err != nil {
			return fmt.Errorf("count transfers: %w", err)
		}
		r.Transfers = n.Count

		var orphans []struct {
			ID      string `db:"id"`
			Key     string `db:"idem_key"`
			Pending string `db:"pending_id"`
			Why     string `db:"why"`
		}
		if err := q.Select(ctx, &orphans, `SELECT s.id, s.idem_key, s.pending_id,
				CASE WHEN p.id IS NULL THEN 'names no transfer'
				     WHEN p.status <> 'pending' THEN 'names a transfer that is not a hold'
				     WHEN p.debit_account <> s.debit_account OR p.credit_account <> s.credit_account THEN 'moves between other accounts than its hold'
				     WHEN s.status = 'posted' AND s.amount > p.amount THEN 'posts more than its hold'
				     WHEN s.status = 'voided' AND s.amount <> p.amount THEN 'voids another amount than its hold'
				     ELSE 'is a hold itself' END AS why
			FROM ledger_transfers s LEFT JOIN ledger_transfers p ON p.id = s.pending_id
			WHERE s.pending_id <> '' AND (p.id IS NULL OR p.status <> 'pending' OR s.status = 'pending'
				OR p.debit_account <> s.debit_account OR p.credit_account <> s.credit_account
				OR (s.status = 'posted' AND s.amount > p.amount) OR (s.status = 'voided' AND s.amount <> p.amount))
			ORDER BY s.id LIMIT 100`); err != nil {
			return fmt.Errorf("check settlements: %w", err)
		}
		for _, o := range orphans {
			r.Problems = append(r.Problems, fmt.Sprintf("settlement %s (key %s) of %s %s", o.ID, o.Key, o.Pending, o.Why))
		}
		var twice []struct {
			Pending string `db:"pending_id"`
			N       int    `db:"n"`
		}
		if err := q.Select(ctx, &twice, `SELECT pending_id, COUNT(*) AS n FROM ledger_transfers
			WHERE pending_id <> '' GROUP BY pending_id HAVING COUNT(*) > 1 ORDER BY pending_id LIMIT 100`); err != nil {
			return fmt.Errorf("check settlements: %w", err)
		}
		for _, t := range twice {
			r.Problems = append(r.Problems, fmt.Sprintf("hold %s is settled %d times", t.Pending, t.N))
		}
		var holds []struct {
			ID  string `db:"id"`
			Why string `db:"why"`
		}
		if err := q.Select(ctx, &holds, `SELECT h.pending_id AS id, 'is listed as an open hold but is settled or no hold' AS why
			FROM ledger_holds h LEFT JOIN ledger_transfers p ON p.id = h.pending_id
			WHERE p.id IS NULL OR p.status <> 'pending' OR p.expires_at <> h.expires_at
				OR EXISTS (SELECT 1 FROM ledger_transfers s WHERE s.pending_id = h.pending_id AND s.pending_id <> '')
			UNION ALL
			SELECT p.id, 'is an open hold with an expiry missing from ledger_holds' FROM ledger_transfers p
			WHERE p.status = 'pending' AND p.expires_at > 0
				AND NOT EXISTS (SELECT 1 FROM ledger_transfers s WHERE s.pending_id = p.id AND s.pending_id <> '')
				AND NOT EXISTS (SELECT 1 FROM ledger_holds h WHERE h.pending_id = p.id)
			ORDER BY id LIMIT 100`); err != nil {
			return fmt.Errorf("check open holds: %w", err)
		}
		for _, h := range holds {
			r.Problems = append(r.Problems, fmt.Sprintf("transfer %s %s", h.ID, h.Why))
		}
		var bad []struct {
			ID  string `db:"id"`
			Key string `db:"idem_key"`
		}
		if err := q.Select(ctx, &bad, `SELECT id, idem_key FROM ledger_transfers
			WHERE amount <= 0 OR status NOT IN ('posted', 'pending', 'voided') OR debit_account = credit_account
			ORDER BY id LIMIT 100`); err != nil {
			return fmt.Errorf("check transfers: %w", err)
		}
		for _, b := range bad {
			r.Problems = append(r.Problems, fmt.Sprintf("transfer %s (key %s) has a bad amount, status or pair of accounts", b.ID, b.Key))
		}
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("reconcile ledger: %w", err)
	}
	return r, nil
}

// readOnly runs fn in a read-only transaction: a deferred one on SQLite
// (store.DB.Tx would take the write lock for as long as fn reads) and a
// repeatable-read snapshot on PostgreSQL.
func readOnly(ctx context.Context, db *store.DB, fn func(q store.Q) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialect == store.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.BeginTxx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	return fn(txQ{tx})
}

// txQ is a store.Q over a transaction this package began itself.
type txQ struct{ tx *sqlx.Tx }

func (t txQ) Get(ctx context.Context, dst any, query string, args ...any) error {
	return t.tx.GetContext(ctx, dst, t.tx.Rebind(query), args...)
}

func (t txQ) Select(ctx context.Context, dst any, query string, args ...any) error {
	return t.tx.SelectContext(ctx, dst, t.tx.Rebind(query), args...)
}

func (t txQ) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, t.tx.Rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
