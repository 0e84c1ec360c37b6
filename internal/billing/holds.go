package billing

import (
	"context"
	"errors"
	"fmt"

	"ecode/internal/ledger"
	"ecode/internal/store"
)

// Hold statuses (billing_holds.status).
const (
	holdPending = "pending"
	holdCharged = "charged"
	holdWaived  = "waived"
)

type hold struct {
	Key        string `db:"hold_key"`
	TransferID string `db:"transfer_id"`
	Payer      string `db:"payer"`
	ProjectID  string `db:"project_id"`
	UserID     string `db:"user_id"`
	Amount     int64  `db:"amount"`
	Status     string `db:"status"`
	ExpiresAt  int64  `db:"expires_at"`
}

const holdCols = `hold_key, transfer_id, payer, project_id, user_id, amount, status, expires_at`

// Reserve opens hold key for work in progress on projectID (an agent
// run): with Enforce it refuses a payer with nothing available and holds
// min(estimate, available) µcr. Usage recorded with Hold = key waits for
// Settle. Reserving a key again does nothing.
func (s *Service) Reserve(ctx context.Context, projectID, userID, key string, estimate int64) error {
	if key == "" {
		return fmt.Errorf("reserve: empty key")
	}
	payer, err := s.payerOf(ctx, projectID)
	if err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	now := s.now()
	return s.db.Tx(ctx, func(q store.Q) error {
		if _, err := s.ensureAccount(ctx, q, payer); err != nil {
			return err
		}
		var exists int
		if err := q.Get(ctx, &exists, `SELECT COUNT(*) FROM billing_holds WHERE hold_key = ?`, key); err != nil {
			return fmt.Errorf("reserve: %w", err)
		}
		if exists > 0 {
			return nil
		}
		var amount int64
		var transferID string
		expires := now.Add(holdTTL).UnixMilli()
		if s.opts.Enforce {
			bal, err := ledger.BalanceOf(ctx, q, ledger.Account(payer))
			if err != nil {
				return fmt.Errorf("reserve: %w", err)
			}
			if bal.Available() <= 0 {
				return s.errOutOfCredits()
			}
			amount = min(estimate, bal.Available())
			if amount > 0 {
				t, _, err := ledger.Hold(ctx, q, ledger.Transfer{Key: "hold:" + key, Debit: ledger.Account(payer),
					Credit: ledger.Consumption, Amount: amount, Kind: "agent", ExpiresAt: expires, Memo: "Agent run in progress"})
				if err != nil {
					return fmt.Errorf("reserve: %w", err)
				}
				transferID = t.ID
			} else {
				amount = 0
			}
		}
		if _, err := q.Exec(ctx, `INSERT INTO billing_holds (`+holdCols+`, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			key, transferID, payer, projectID, userID, amount, holdPending, expires, now.UnixMilli()); err != nil {
			return fmt.Errorf("reserve: %w", err)
		}
		return nil
	})
}

// heldUsage groups the unrated usage of hold key.
func heldUsage(ctx context.Context, q store.Q, key string) ([]*group, error) {
	var evs []event
	if err := q.Select(ctx, &evs, `SELECT id, meter, attr, quantity, project_id, user_id, payer, hold_key, at, 0 AS waived
		FROM usage_events WHERE hold_key = ? AND charge_id IS NULL ORDER BY id`, key); err != nil {
		return nil, fmt.Errorf("read usage of hold %s: %w", key, err)
	}
	return groupEvents(evs), nil
}

// Within says whether the run holding key may go on: with Enforce, not
// once its usage so far costs more than its hold and what is available.
func (s *Service) Within(ctx context.Context, key string) error {
	if !s.opts.Enforce {
		return nil
	}
	var h hold
	if err := s.db.Get(ctx, &h, `SELECT `+holdCols+` FROM billing_holds WHERE hold_key = ?`, key); err != nil {
		if store.NoRows(err) {
			return nil
		}
		return fmt.Errorf("within: %w", err)
	}
	if h.Status != holdPending {
		return nil
	}
	gs, err := heldUsage(ctx, s.db, key)
	if err != nil {
		return err
	}
	var cost int64
	for _, g := range gs {
		a, err := s.priceGroup(g)
		if err != nil {
			return err
		}
		cost += a
	}
	bal, err := s.ledger.Balance(ctx, ledger.Account(h.Payer))
	if err != nil {
		return fmt.Errorf("within: %w", err)
	}
	if cost > h.Amount+bal.Available() {
		return s.errOutOfCredits()
	}
	return nil
}

var errSettled = errors.New("hold settled already")

// Settle ends hold key: charge prices its usage and charges it (up to the
// hold from it, the rest past it); !charge voids the hold and marks its
// usage charged at 0 (a run that made no progress). All in one
// transaction; settling again does nothing.
func (s *Service) Settle(ctx context.Context, key string, charge bool) error {
	status := holdWaived
	if charge {
		status = holdCharged
	}
	var payer string
	err := s.db.Tx(ctx, func(q store.Q) error {
		now := s.now().UnixMilli()
		// The update first: it takes the row, so two settles run one after the other.
		n, err := q.Exec(ctx, `UPDATE billing_holds SET status = ? WHERE hold_key = ? AND status = ?`, status, key, holdPending)
		if err != nil {
			return fmt.Errorf("settle %s: %w", key, err)
		}
		var h hold
		if n == 0 {
			err := q.Get(ctx, &h, `SELECT `+holdCols+` FROM billing_holds WHERE hold_key = ?`, key)
			if err == nil {
				return errSettled
			}
			if !store.NoRows(err) {
				return fmt.Errorf("settle %s: %w", key, err)
			}
			// Never reserved: settle its usage all the same, and remember
			// the outcome for usage that comes later.
			h = hold{Key: key, Status: status}
			gs, err := heldUsage(ctx, q, key)
			if err != nil {
				return err
			}
			if len(gs) > 0 {
				h.Payer, h.ProjectID, h.UserID = gs[0].Payer, gs[0].ProjectID, gs[0].UserID
			}
			if _, err := q.Exec(ctx, `INSERT INTO billing_holds (`+holdCols+`, created_at) VALUES (?, '', ?, ?, ?, 0, ?, ?, ?)`,
				key, h.Payer, h.ProjectID, h.UserID, status, now, now); err != nil {
				return fmt.Errorf("settle %s: %w", key, err)
			}
		} else if err := q.Get(ctx, &h, `SELECT `+holdCols+` FROM billing_holds WHERE hold_key = ?`, key); err != nil {
			return fmt.Errorf("settle %s: %w", key, err)
		}
		payer = h.Payer
		gs, err := heldUsage(ctx, q, key)
		if err != nil {
			return err
		}
		amounts := make([]int64, len(gs))
		var cost int64
		for i, g := range gs {
			if !charge {
				continue
			}
			if amounts[i], err = s.priceGroup(g); err != nil {
				return err
			}
			cost += amounts[i]
		}
		// A hold past its time is the ledger's to void; usage is then
		// charged as if there were none.
		held := h.TransferID != "" && h.ExpiresAt > now
		var transferID string
		switch {
		case held:
			t, err := ledger.Settle(ctx, q, h.TransferID, min(cost, h.Amount), "settle:"+key)
			if err != nil {
				return fmt.Errorf("settle %s: %w", key, err)
			}
			if cost > 0 {
				transferID = t.ID
			}
			if excess := cost - h.Amount; excess > 0 {
				t, _, err := ledger.Post(ctx, q, ledger.Transfer{Key: "excess:" + key, Debit: ledger.Account(h.Payer),
					Credit: ledger.Consumption, Amount: excess, Kind: "agent", Memo: "Agent run past its hold"},
					ledger.Options{AllowOverdraft: true})
				if err != nil {
					return fmt.Errorf("settle %s: %w", key, err)
				}
				if transferID == "" {
					transferID = t.ID
				}
			}
		case cost > 0:
			t, _, err := ledger.Post(ctx, q, ledger.Transfer{Key: "settle:" + key, Debit: ledger.Account(h.Payer),
				Credit: ledger.Consumption, Amount: cost, Kind: "agent", Memo: "Agent run"},
				ledger.Options{AllowOverdraft: true})
			if err != nil {
				return fmt.Errorf("settle %s: %w", key, err)
			}
			transferID = t.ID
		}
		if s.failPost != nil {
			if err := s.failPost(); err != nil {
				return err
			}
		}
		for i, g := range gs {
			tid := transferID
			if amounts[i] == 0 {
				tid = ""
			}
			if err := writeCharge(ctx, q, g, amounts[i], tid, now); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errSettled) {
		return nil
	}
	if err != nil {
		return err
	}
	if charge && payer != "" {
		s.checkAlerts(ctx, payer)
	}
	return nil
}
