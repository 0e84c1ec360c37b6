package stripebill

import (
	"context"
	"database/sql"
	"fmt"

	"ecode/internal/store"
)

type customerRow struct {
	Payer      string `db:"payer"`
	CustomerID string `db:"customer_id"`
	CreatedAt  int64  `db:"created_at"`
}

func customerOf(ctx context.Context, q store.Q, payer string) (string, error) {
	var id string
	err := q.Get(ctx, &id, `SELECT customer_id FROM stripe_customers WHERE payer = ?`, payer)
	if store.NoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("stripe customer of %s: %w", payer, err)
	}
	return id, nil
}

func payerOfCustomer(ctx context.Context, q store.Q, customer string) (string, error) {
	var payer string
	err := q.Get(ctx, &payer, `SELECT payer FROM stripe_customers WHERE customer_id = ?`, customer)
	if store.NoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("payer of stripe customer %s: %w", customer, err)
	}
	return payer, nil
}

// saveCustomer records payer's customer unless one is there already, and
// returns the one that is.
func saveCustomer(ctx context.Context, q store.Q, payer, customer string, now int64) (string, error) {
	if _, err := q.Exec(ctx, `INSERT INTO stripe_customers (payer, customer_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (payer) DO NOTHING`, payer, customer, now); err != nil {
		return "", fmt.Errorf("save stripe customer: %w", err)
	}
	return customerOf(ctx, q, payer)
}

func listCustomers(ctx context.Context, q store.Q) ([]customerRow, error) {
	var rows []customerRow
	if err := q.Select(ctx, &rows, `SELECT payer, customer_id, created_at FROM stripe_customers ORDER BY payer`); err != nil {
		return nil, fmt.Errorf("list stripe customers: %w", err)
	}
	return rows, nil
}

type eventRow struct {
	ID          string        `db:"id"`
	Claim       string        `db:"claim"`
	ClaimedAt   int64         `db:"claimed_at"`
	ProcessedAt sql.NullInt64 `db:"processed_at"`
}

// insertClaim records that claim is processing event id; false when the
// event has a row already.
func insertClaim(ctx context.Context, q store.Q, id, typ string, created int64, claim string, now int64) (bool, error) {
	n, err := q.Exec(ctx, `INSERT INTO stripe_events (id, type, created, claim, claimed_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, id, typ, created, claim, now)
	if err != nil {
		return false, fmt.Errorf("claim stripe event %s: %w", id, err)
	}
	return n == 1, nil
}

func eventByID(ctx context.Context, q store.Q, id string) (eventRow, bool, error) {
	var e eventRow
	err := q.Get(ctx, &e, `SELECT id, claim, claimed_at, processed_at FROM stripe_events WHERE id = ?`, id)
	if store.NoRows(err) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("read stripe event %s: %w", id, err)
	}
	return e, true, nil
}

// takeOver moves a stale claim to claim; false when someone else moved it.
func takeOver(ctx context.Context, q store.Q, id, old, claim string, now int64) (bool, error) {
	n, err := q.Exec(ctx, `UPDATE stripe_events SET claim = ?, claimed_at = ?
		WHERE id = ? AND claim = ? AND processed_at IS NULL`, claim, now, id, old)
	if err != nil {
		return false, fmt.Errorf("take over stripe event %s: %w", id, err)
	}
	return n == 1, nil
}

func markProcessed(ctx context.Context, q store.Q, id, claim string, now int64) error {
	if _, err := q.Exec(ctx, `UPDATE stripe_events SET processed_at = ? WHERE id = ? AND claim = ?`, now, id, claim); err != nil {
		return fmt.Errorf("mark stripe event %s processed: %w", id, err)
	}
	return nil
}

func releaseClaim(ctx context.Context, q store.Q, id, claim string) error {
	if _, err := q.Exec(ctx, `DELETE FROM stripe_events WHERE id = ? AND claim = ? AND processed_at IS NULL`, id, claim); err != nil {
		return fmt.Errorf("release stripe event %s: %w", id, err)
	}
	return nil
}

type subscriptionRow struct {
	Payer          string `db:"payer"`
	SubscriptionID string `db:"subscription_id"`
	Status         string `db:"status"`
	Plan           string `db:"plan"`
	EventAt        int64  `db:"event_at"`
	UpdatedAt      int64  `db:"updated_at"`
}

func subscriptionOf(ctx context.Context, q store.Q, payer string) (subscriptionRow, bool, error) {
	var r subscriptionRow
	err := q.Get(ctx, &r, `SELECT payer, subscription_id, status, plan, event_at, updated_at
		FROM stripe_subscriptions WHERE payer = ?`, payer)
	if store.NoRows(err) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("subscription of %s: %w", payer, err)
	}
	return r, true, nil
}

// applySubscription records r as payer's subscription state unless what is
// recorded came from a newer event, or r ends a subscription other than the
// payer's current one (the old one's last events after a new checkout). It
// reports whether r was applied.
func applySubscription(ctx context.Context, q store.Q, r subscriptionRow) (bool, error) {
	for range 5 {
		n, err := q.Exec(ctx, `INSERT INTO stripe_subscriptions (payer, subscription_id, status, plan, event_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (payer) DO NOTHING`,
			r.Payer, r.SubscriptionID, r.Status, r.Plan, r.EventAt, r.UpdatedAt)
		if err != nil {
			return false, fmt.Errorf("record subscription: %w", err)
		}
		if n == 1 {
			return true, nil
		}
		cur, ok, err := subscriptionOf(ctx, q, r.Payer)
		if err != nil {
			return false, err
		}
		if !ok {
			continue // deleted meanwhile; insert again
		}
		// Equal times apply again, so a retry after a failed effect runs it.
		if r.EventAt < cur.EventAt || (r.SubscriptionID != cur.SubscriptionID && !activeStatus(r.Status)) {
			return false, nil
		}
		// Compare-and-set on what was read: a concurrent newer event wins.
		n, err = q.Exec(ctx, `UPDATE stripe_subscriptions SET subscription_id = ?, status = ?, plan = ?, event_at = ?, updated_at = ?
			WHERE payer = ? AND subscription_id = ? AND event_at = ? AND status = ?`,
			r.SubscriptionID, r.Status, r.Plan, r.EventAt, r.UpdatedAt, r.Payer, cur.SubscriptionID, cur.EventAt, cur.Status)
		if err != nil {
			return false, fmt.Errorf("record subscription: %w", err)
		}
		if n == 1 {
			return true, nil
		}
	}
	return false, fmt.Errorf("record subscription of %s: changed concurrently too often", r.Payer)
}

func reportedSince(ctx context.Context, q store.Q, customer string, from int64) (map[string]bool, error) {
	var ids []string
	if err := q.Select(ctx, &ids, `SELECT identifier FROM stripe_meter_reports WHERE customer_id = ? AND hour >= ?`, customer, from); err != nil {
		return nil, fmt.Errorf("meter reports of %s: %w", customer, err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

func saveReport(ctx context.Context, q store.Q, identifier, customer string, hour, value, now int64) error {
	if _, err := q.Exec(ctx, `INSERT INTO stripe_meter_reports (identifier, customer_id, hour, value, sent_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (identifier) DO NOTHING`, identifier, customer, hour, value, now); err != nil {
		return fmt.Errorf("save meter report %s: %w", identifier, err)
	}
	return nil
}
