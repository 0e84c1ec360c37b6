// Package ledger is the double-entry credit ledger: integer micro-credits
// moved by transfers from one account's debit side to another's credit side.
//
// It guarantees:
//   - Transfers are append-only. A hold is a pending transfer; settling it is
//     a new transfer (posted or voided) that names it, made at most once.
//   - Every transfer carries an idempotency key, unique for ever: a retry
//     with the same fields returns the first transfer and changes nothing; a
//     key reused with other fields is refused.
//   - Each account's cumulative sums live in one balance row, updated in the
//     same transaction as the transfer, so a balance read is one row and the
//     sum over all accounts of posted credits minus debits is always zero.
//   - A payer account ("credits:...") is never debited past what it has
//     available, unless the caller says the usage was already consumed
//     (Options.AllowOverdraft). System accounts may go negative.
//
// Reconcile recomputes every balance from the transfers and says in words
// what, if anything, does not add up.
package ledger

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"ecode/internal/store"
)

// Micro is the number of micro-credits (µcr) in one credit.
const Micro = 1_000_000

// System accounts: the other side of every payer's transfers.
const (
	Grants      = "system:grants"
	TopUps      = "system:topups"
	Consumption = "system:consumption"
	Expiry      = "system:expiry"
	Adjustments = "system:adjustments"
)

// payerPrefix marks the accounts that must not be overdrawn.
const payerPrefix = "credits:"

// Account is the ledger account of a payer ("user:<id>" or "team:<id>").
func Account(payer string) string { return payerPrefix + payer }

// IsPayer reports whether account is a payer's balance (as opposed to a
// system account).
func IsPayer(account string) bool { return strings.HasPrefix(account, payerPrefix) }

// Transfer statuses. A hold is a transfer with status Pending; it keeps that
// status for ever, and its settlement is a second transfer, Posted (the
// amount charged) or Voided (nothing charged), whose PendingID names it.
const (
	Pending = "pending"
	Posted  = "posted"
	Voided  = "voided"
)

// Transfer moves Amount from the Debit account to the Credit account.
type Transfer struct {
	ID        string `json:"id" db:"id"`
	Key       string `json:"key" db:"idem_key"` // idempotency key: unique for ever; required
	Debit     string `json:"debit" db:"debit_account"`
	Credit    string `json:"credit" db:"credit_account"`
	Amount    int64  `json:"amount" db:"amount"` // µcr, > 0
	Kind      string `json:"kind" db:"kind"`     // grant, topup, usage, agent, expiry, adjustment, ...
	Status    string `json:"status" db:"status"`
	PendingID string `json:"pendingId,omitempty" db:"pending_id"` // a settlement's pending transfer
	ExpiresAt int64  `json:"expiresAt,omitempty" db:"expires_at"` // pending only; unix ms, 0 = never
	Memo      string `json:"memo" db:"memo"`
	CreatedAt int64  `json:"createdAt" db:"created_at"`
}

// Balance is an account's cumulative sums. Pending sums are the holds not
// yet settled.
type Balance struct {
	Account        string `json:"account" db:"account"`
	DebitsPosted   int64  `json:"debitsPosted" db:"debits_posted"`
	CreditsPosted  int64  `json:"creditsPosted" db:"credits_posted"`
	DebitsPending  int64  `json:"debitsPending" db:"debits_pending"`
	CreditsPending int64  `json:"creditsPending" db:"credits_pending"`
}

// Posted is the account's balance: what it has been credited less what it
// has been debited.
func (b Balance) Posted() int64 { return b.CreditsPosted - b.DebitsPosted }

// Available is the balance less what holds reserve.
func (b Balance) Available() int64 { return b.Posted() - b.DebitsPending }

// Options change how Post treats the debit account.
type Options struct {
	// AllowOverdraft lets a payer's balance go below zero: usage already
	// consumed must be charged even past zero.
	AllowOverdraft bool
}

// Report is what Reconcile found.
type Report struct {
	Accounts  int      `json:"accounts"`
	Transfers int      `json:"transfers"`
	Total     int64    `json:"total"` // sum over accounts of posted credits − debits: 0
	Problems  []string `json:"problems"`
}

// OK reports whether the ledger adds up.
func (r Report) OK() bool { return len(r.Problems) == 0 && r.Total == 0 }

// MarshalJSON adds "ok" and never writes problems as null.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	p := plain(r)
	if p.Problems == nil {
		p.Problems = []string{}
	}
	return json.Marshal(struct {
		plain
		OK bool `json:"ok"`
	}{p, r.OK()})
}

// Ledger runs each operation in a transaction of its own. The package
// functions (Post, Hold, Settle, BalanceOf) do the same inside a caller's
// transaction, so the caller can mark its own rows in the same unit.
type Ledger struct {
	db *store.DB
}

// New returns the ledger kept in db.
func New(db *store.DB) *Ledger {
	if db == nil {
		panic("ledger.New: nil db")
	}
	return &Ledger{db: db}
}

// Post makes a posted transfer, or returns the one already made with its key.
func (l *Ledger) Post(ctx context.Context, t Transfer, o Options) (Transfer, bool, error) {
	var (
		out     Transfer
		created bool
	)
	err := l.db.Tx(ctx, func(q store.Q) error {
		var err error
		out, created, err = Post(ctx, q, t, o)
		return err
	})
	return out, created, err
}

// Hold makes a pending transfer, or returns the one already made with its key.
func (l *Ledger) Hold(ctx context.Context, t Transfer) (Transfer, bool, error) {
	var (
		out     Transfer
		created bool
	)
	err := l.db.Tx(ctx, func(q store.Q) error {
		var err error
		out, created, err = Hold(ctx, q, t)
		return err
	})
	return out, created, err
}

// Settle posts amount of the pending transfer pendingID (0 voids it) and
// releases the rest.
func (l *Ledger) Settle(ctx context.Context, pendingID string, amount int64, key string) (Transfer, error) {
	var out Transfer
	err := l.db.Tx(ctx, func(q store.Q) error {
		var err error
		out, err = Settle(ctx, q, pendingID, amount, key)
		return err
	})
	return out, err
}

// Balance reads an account's balance; an account never used has zeros.
func (l *Ledger) Balance(ctx context.Context, account string) (Balance, error) {
	return BalanceOf(ctx, l.db, account)
}

// Transfers lists account's transfers, newest first, before the one with
// id before ("" from the newest), at most limit (≤ 0: 50, at most 500),
// leaving out those of the kinds in skip.
func (l *Ledger) Transfers(ctx context.Context, account, before string, limit int, skip ...string) ([]Transfer, error) {
	return listTransfers(ctx, l.db, account, before, limit, skip)
}

// ExpireHolds voids the pending transfers whose ExpiresAt is at or before
// now and returns how many it voided.
func (l *Ledger) ExpireHolds(ctx context.Context, now time.Time) (int, error) {
	return l.expireHolds(ctx, now)
}

// Reconcile recomputes every balance from the transfers and checks the
// ledger's invariants.
func (l *Ledger) Reconcile(ctx context.Context) (Report, error) {
	return reconcile(ctx, l.db)
}
