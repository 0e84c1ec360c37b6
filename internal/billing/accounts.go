package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"ecode/internal/errs"
	"ecode/internal/ledger"
	"ecode/internal/store"
)

// account is a payer's billing row. The period is [PeriodStart,
// PeriodEnd) in unix ms; the three sums are what was put in during it.
type account struct {
	Payer         string `db:"payer"`
	Plan          string `db:"plan"`
	PlanChangedAt int64  `db:"plan_changed_at"`
	PeriodStart   int64  `db:"period_start"`
	PeriodEnd     int64  `db:"period_end"`
	PlanGranted   int64  `db:"plan_granted"`
	ExtraGranted  int64  `db:"extra_granted"`
	ToppedUp      int64  `db:"topped_up"`
	OutSince      *int64 `db:"out_since"`
	CreatedAt     int64  `db:"created_at"`
}

// allowance is what the payer had to spend this period.
func (a *account) allowance() int64 { return a.PlanGranted + a.ExtraGranted + a.ToppedUp }

const accountCols = `payer, plan, plan_changed_at, period_start, period_end, plan_granted, extra_granted, topped_up, out_since, created_at`

func validPayer(payer string) error {
	kind, id, ok := strings.Cut(payer, ":")
	if !ok || id == "" || kind != "user" && kind != "team" {
		return errs.Invalid("invalid_payer", "A payer is user:<id> or team:<id>, not %q.", payer)
	}
	return nil
}

// periodAt is the monthly period that holds t, counted in whole months
// from the day the account began (anchor, midnight UTC).
func periodAt(anchor, t time.Time) (start, end time.Time) {
	k := (t.Year()-anchor.Year())*12 + int(t.Month()) - int(anchor.Month())
	for k > 0 && anchor.AddDate(0, k, 0).After(t) {
		k--
	}
	for !anchor.AddDate(0, k+1, 0).After(t) {
		k++
	}
	if k < 0 {
		k = 0
	}
	return anchor.AddDate(0, k, 0), anchor.AddDate(0, k+1, 0)
}

func dayOf(ms int64) time.Time {
	t := time.UnixMilli(ms).UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (s *Service) defaultPlan(payer string) Plan {
	id := s.cat.DefaultPlan
	if strings.HasPrefix(payer, "team:") {
		id = s.cat.DefaultTeamPlan
	}
	p, _ := s.cat.Plan(id)
	return p
}

// ensureAccount returns payer's account, making it and granting its
// plan's first credits when it has none yet, in q's transaction.
func (s *Service) ensureAccount(ctx context.Context, q store.Q, payer string) (*account, error) {
	var a account
	err := q.Get(ctx, &a, `SELECT `+accountCols+` FROM billing_accounts WHERE payer = ?`, payer)
	if err == nil {
		return &a, nil
	}
	if !store.NoRows(err) {
		return nil, fmt.Errorf("read billing account %s: %w", payer, err)
	}
	if err := validPayer(payer); err != nil {
		return nil, err
	}
	now := s.now()
	plan := s.defaultPlan(payer)
	start, end := periodAt(dayOf(now.UnixMilli()), now)
	n, err := q.Exec(ctx, `INSERT INTO billing_accounts (`+accountCols+`) VALUES (?, ?, 0, ?, ?, 0, 0, 0, NULL, ?)
		ON CONFLICT (payer) DO NOTHING`, payer, plan.ID, start.UnixMilli(), end.UnixMilli(), now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("create billing account %s: %w", payer, err)
	}
	if n == 1 {
		if err := s.grantPlan(ctx, q, payer, plan, start.UnixMilli()); err != nil {
			return nil, err
		}
	}
	if err := q.Get(ctx, &a, `SELECT `+accountCols+` FROM billing_accounts WHERE payer = ?`, payer); err != nil {
		return nil, fmt.Errorf("read billing account %s: %w", payer, err)
	}
	return &a, nil
}

// grantPlan grants plan's monthly credits for the period starting at start.
func (s *Service) grantPlan(ctx context.Context, q store.Q, payer string, plan Plan, start int64) error {
	amount := plan.MonthlyCredits * ledger.Micro
	if amount <= 0 {
		return nil
	}
	_, _, err := ledger.Post(ctx, q, ledger.Transfer{
		Key: fmt.Sprintf("grant:%s:%d", payer, start), Debit: ledger.Grants, Credit: ledger.Account(payer),
		Amount: amount, Kind: "grant",
		Memo: fmt.Sprintf("%s plan credits for the period from %s", plan.Name, time.UnixMilli(start).UTC().Format(time.DateOnly)),
	}, ledger.Options{})
	if err != nil {
		return fmt.Errorf("grant plan credits to %s: %w", payer, err)
	}
	if _, err := q.Exec(ctx, `UPDATE billing_accounts SET plan_granted = ? WHERE payer = ?`, amount, payer); err != nil {
		return fmt.Errorf("record plan grant of %s: %w", payer, err)
	}
	return nil
}

// usedIn is what payer was charged in [from, to).
func usedIn(ctx context.Context, q store.Q, payer string, from, to int64) (int64, error) {
	var used int64
	if err := q.Get(ctx, &used, `SELECT COALESCE(CAST(SUM(amount) AS BIGINT), 0) FROM usage_charges WHERE payer = ? AND at >= ? AND at < ?`,
		payer, from, to); err != nil {
		return 0, fmt.Errorf("usage of %s: %w", payer, err)
	}
	return used, nil
}

// rollover ends payer's period when it is over: what is left of the
// plan's grant expires (usage draws on the grant first), and the period
// that holds now begins with the plan's grant.
func (s *Service) rollover(ctx context.Context, payer string) error {
	now := s.now()
	return s.db.Tx(ctx, func(q store.Q) error {
		a, err := s.ensureAccount(ctx, q, payer)
		if err != nil {
			return err
		}
		if a.PeriodEnd > now.UnixMilli() {
			return nil
		}
		used, err := usedIn(ctx, q, payer, a.PeriodStart, a.PeriodEnd)
		if err != nil {
			return err
		}
		bal, err := ledger.BalanceOf(ctx, q, ledger.Account(payer))
		if err != nil {
			return fmt.Errorf("balance of %s: %w", payer, err)
		}
		// What holds reserve stays: expiring it would overdraw the hold.
		left := min(bal.Available(), a.PlanGranted-used)
		if left > 0 {
			if _, _, err := ledger.Post(ctx, q, ledger.Transfer{
				Key: fmt.Sprintf("expire:%s:%d", payer, a.PeriodStart), Debit: ledger.Account(payer), Credit: ledger.Expiry,
				Amount: left, Kind: "expiry", Memo: "Unused plan credits of the period expired",
			}, ledger.Options{}); err != nil {
				return fmt.Errorf("expire credits of %s: %w", payer, err)
			}
		}
		start, end := periodAt(dayOf(a.CreatedAt), now)
		n, err := q.Exec(ctx, `UPDATE billing_accounts SET period_start = ?, period_end = ?, plan_granted = 0,
			extra_granted = 0, topped_up = 0 WHERE payer = ? AND period_start = ?`,
			start.UnixMilli(), end.UnixMilli(), payer, a.PeriodStart)
		if err != nil {
			return fmt.Errorf("start period of %s: %w", payer, err)
		}
		if n == 0 {
			return nil
		}
		plan, ok := s.cat.Plan(a.Plan)
		if !ok {
			plan = s.defaultPlan(payer)
		}
		return s.grantPlan(ctx, q, payer, plan, start.UnixMilli())
	})
}

// rollovers rolls every account whose period has ended.
func (s *Service) rollovers(ctx context.Context) error {
	var payers []string
	if err := s.db.Select(ctx, &payers, `SELECT payer FROM billing_accounts WHERE period_end <= ?`, s.now().UnixMilli()); err != nil {
		return fmt.Errorf("accounts to roll over: %w", err)
	}
	for _, p := range payers {
		if err := s.rollover(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// Grant gives payer amount µcr from the platform (an administrator's
// grant), once per key.
func (s *Service) Grant(ctx context.Context, payer string, amount int64, key, memo string) (ledger.Transfer, error) {
	return s.credit(ctx, payer, amount, key, memo, ledger.Adjustments, "grant", "extra_granted")
}

// TopUp credits payer with amount µcr bought, once per key.
func (s *Service) TopUp(ctx context.Context, payer string, amount int64, key, memo string) (ledger.Transfer, error) {
	return s.credit(ctx, payer, amount, key, memo, ledger.TopUps, "topup", "topped_up")
}

func (s *Service) credit(ctx context.Context, payer string, amount int64, key, memo, from, kind, col string) (ledger.Transfer, error) {
	if err := validPayer(payer); err != nil {
		return ledger.Transfer{}, err
	}
	if amount <= 0 {
		return ledger.Transfer{}, errs.Invalid("invalid_amount", "Give a positive number of credits.")
	}
	if key == "" {
		return ledger.Transfer{}, errs.Invalid("invalid_key", "A credit needs an idempotency key.")
	}
	var out ledger.Transfer
	err := s.db.Tx(ctx, func(q store.Q) error {
		if _, err := s.ensureAccount(ctx, q, payer); err != nil {
			return err
		}
		t, made, err := ledger.Post(ctx, q, ledger.Transfer{Key: key, Debit: from, Credit: ledger.Account(payer),
			Amount: amount, Kind: kind, Memo: memo}, ledger.Options{})
		if err != nil {
			return fmt.Errorf("%s to %s: %w", kind, payer, err)
		}
		out = t
		if made {
			// col is one of two constants above, never input.
			if _, err := q.Exec(ctx, `UPDATE billing_accounts SET `+col+` = `+col+` + ? WHERE payer = ?`, amount, payer); err != nil {
				return fmt.Errorf("record %s of %s: %w", kind, payer, err)
			}
		}
		return nil
	})
	return out, err
}

// SetPlan moves payer to plan as of at. A change older than the last one
// applied is ignored (webhooks arrive out of order). Moving to a plan with
// a larger grant grants the difference for the current period.
func (s *Service) SetPlan(ctx context.Context, payer, planID string, at time.Time) error {
	plan, ok := s.cat.Plan(planID)
	if !ok {
		return errs.Invalid("unknown_plan", "There is no plan %q.", planID)
	}
	if err := validPayer(payer); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(q store.Q) error {
		a, err := s.ensureAccount(ctx, q, payer)
		if err != nil {
			return err
		}
		if at.UnixMilli() < a.PlanChangedAt {
			return nil
		}
		granted := a.PlanGranted
		if diff := plan.MonthlyCredits*ledger.Micro - a.PlanGranted; diff > 0 {
			if _, _, err := ledger.Post(ctx, q, ledger.Transfer{
				Key:   fmt.Sprintf("plan:%s:%d:%s", payer, a.PeriodStart, plan.ID),
				Debit: ledger.Grants, Credit: ledger.Account(payer), Amount: diff, Kind: "grant",
				Memo: fmt.Sprintf("%s plan credits for the rest of the period", plan.Name),
			}, ledger.Options{}); err != nil {
				return fmt.Errorf("grant %s plan to %s: %w", plan.ID, payer, err)
			}
			granted += diff
		}
		if _, err := q.Exec(ctx, `UPDATE billing_accounts SET plan = ?, plan_changed_at = ?, plan_granted = ? WHERE payer = ?`,
			plan.ID, at.UnixMilli(), granted, payer); err != nil {
			return fmt.Errorf("set plan of %s: %w", payer, err)
		}
		return nil
	})
}
