package billing

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"time"

	"ecode/internal/ledger"
	"ecode/internal/store"
)

// Summary is a payer's account as the usage page shows it (µcr; times in
// unix ms).
type Summary struct {
	Payer        string   `json:"payer"`
	Plan         PlanView `json:"plan"`
	Balance      int64    `json:"balance"`
	Available    int64    `json:"available"`
	Held         int64    `json:"held"`
	Period       Period   `json:"period"`
	Granted      int64    `json:"granted"`  // the plan's and administrators' grants this period
	ToppedUp     int64    `json:"toppedUp"` // bought this period
	Used         int64    `json:"used"`     // charged this period
	Forecast     int64    `json:"forecast"` // used by the period's end at this pace; 0 in its first hour
	Enforced     bool     `json:"enforced"`
	Stripe       bool     `json:"stripe"`
	OutOfCredits bool     `json:"outOfCredits"`
	SuspendAt    *int64   `json:"suspendAt"` // out of credits: when its deployments pause, once the sweep has seen it
	Alerts       []int    `json:"alerts"`    // thresholds reached this period
}

// PlanView is a plan as the summary shows it.
type PlanView struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	MonthlyCredits int64  `json:"monthlyCredits"`
	PriceCents     int64  `json:"priceCents"`
}

// Period is [Start, End) in unix ms.
type Period struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// Summary reads payer's account, making it (and granting its first
// credits) on first read and starting a new period when one has ended.
func (s *Service) Summary(ctx context.Context, payer string) (*Summary, error) {
	if err := validPayer(payer); err != nil {
		return nil, err
	}
	var a account
	err := s.db.Get(ctx, &a, `SELECT `+accountCols+` FROM billing_accounts WHERE payer = ?`, payer)
	if err != nil && !store.NoRows(err) {
		return nil, fmt.Errorf("billing summary: %w", err)
	}
	// A write only when there is something to write: the first read, or
	// a period that ended before Run got to it.
	if err != nil || a.PeriodEnd <= s.now().UnixMilli() {
		if err := s.rollover(ctx, payer); err != nil {
			return nil, fmt.Errorf("billing summary: %w", err)
		}
		if err := s.db.Get(ctx, &a, `SELECT `+accountCols+` FROM billing_accounts WHERE payer = ?`, payer); err != nil {
			return nil, fmt.Errorf("billing summary: %w", err)
		}
	}
	bal, err := s.ledger.Balance(ctx, ledger.Account(payer))
	if err != nil {
		return nil, fmt.Errorf("billing summary: %w", err)
	}
	used, err := usedIn(ctx, s.db, payer, a.PeriodStart, a.PeriodEnd)
	if err != nil {
		return nil, err
	}
	alerts := []int{}
	if err := s.db.Select(ctx, &alerts, `SELECT percent FROM billing_alerts WHERE payer = ? AND period_start = ? ORDER BY percent`,
		payer, a.PeriodStart); err != nil {
		return nil, fmt.Errorf("billing summary: %w", err)
	}
	plan, ok := s.cat.Plan(a.Plan)
	if !ok {
		plan = Plan{ID: a.Plan, Name: a.Plan}
	}
	var suspendAt *int64
	if out := s.opts.Enforce && bal.Available() <= 0; out && a.OutSince != nil {
		at := *a.OutSince + s.opts.Grace.Milliseconds()
		suspendAt = &at
	}
	return &Summary{
		Payer:        payer,
		Plan:         PlanView{ID: plan.ID, Name: plan.Name, MonthlyCredits: plan.MonthlyCredits, PriceCents: plan.PriceCents},
		Balance:      bal.Posted(),
		Available:    bal.Available(),
		Held:         bal.DebitsPending,
		Period:       Period{Start: a.PeriodStart, End: a.PeriodEnd},
		Granted:      a.PlanGranted + a.ExtraGranted,
		ToppedUp:     a.ToppedUp,
		Used:         used,
		Forecast:     forecast(used, a.PeriodStart, a.PeriodEnd, s.now().UnixMilli()),
		Enforced:     s.opts.Enforce,
		Stripe:       s.opts.Stripe,
		OutOfCredits: s.opts.Enforce && bal.Available() <= 0,
		SuspendAt:    suspendAt,
		Alerts:       alerts,
	}, nil
}

// forecast is used / (the fraction of the period gone), or 0 while under
// an hour of it has passed: too little to say.
func forecast(used, start, end, now int64) int64 {
	elapsed := now - start
	if elapsed < time.Hour.Milliseconds() || used <= 0 || end <= start {
		return 0
	}
	if elapsed >= end-start {
		return used
	}
	hi, lo := bits.Mul64(uint64(used), uint64(end-start))
	if hi >= uint64(elapsed) {
		return 1<<63 - 1
	}
	q, _ := bits.Div64(hi, lo, uint64(elapsed))
	return int64(min(q, 1<<63-1))
}

// UsageRow is what one project and person used of one meter on one day.
type UsageRow struct {
	Day       string `json:"day" db:"day"`
	Category  string `json:"category"`
	Meter     string `json:"meter" db:"meter"`
	Attr      string `json:"attr" db:"attr"` // the model of ai.*, the size of deploy.instance
	ProjectID string `json:"projectId" db:"project_id"`
	Project   string `json:"project"`
	UserID    string `json:"userId" db:"user_id"`
	User      string `json:"user"`
	Quantity  int64  `json:"quantity" db:"quantity"`
	Amount    int64  `json:"amount" db:"amount"`
	Waived    bool   `json:"waived"` // used and not charged: an agent run that made no progress
}

// usageRowsMax bounds one answer.
const usageRowsMax = 20000

// Usage lists what payer was charged in [from, to) by day, meter,
// project and person, with names to show.
func (s *Service) Usage(ctx context.Context, payer string, from, to time.Time) ([]UsageRow, error) {
	rows := []UsageRow{}
	if err := s.db.Select(ctx, &rows, `SELECT day, meter, attr, project_id, user_id,
		CAST(SUM(quantity) AS BIGINT) AS quantity, CAST(SUM(amount) AS BIGINT) AS amount
		FROM usage_charges WHERE payer = ? AND at >= ? AND at < ?
		GROUP BY day, meter, attr, project_id, user_id ORDER BY day, meter, attr, project_id, user_id LIMIT ?`,
		payer, from.UnixMilli(), to.UnixMilli(), usageRowsMax); err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	projects, users := map[string]string{}, map[string]string{}
	for i := range rows {
		r := &rows[i]
		r.Category = Category(r.Meter)
		r.Waived = r.Amount == 0 && r.Quantity > 0
		name, ok := projects[r.ProjectID]
		if !ok {
			if _, _, n, err := s.projects.Owner(ctx, r.ProjectID); err == nil {
				name = n
			} else {
				name = "(deleted project)"
			}
			projects[r.ProjectID] = name
		}
		r.Project = name
		if r.UserID == "" {
			r.User = "—"
			continue
		}
		user, ok := users[r.UserID]
		if !ok {
			if n, err := s.people.Username(ctx, r.UserID); err == nil {
				user = n
			} else {
				user = "(deleted account)"
			}
			users[r.UserID] = user
		}
		r.User = user
	}
	return rows, nil
}

// Statement writes payer's charges in [from, to) as CSV: a line per
// day, meter, project and person, then the total.
func (s *Service) Statement(ctx context.Context, w io.Writer, payer string, from, to time.Time) error {
	rows, err := s.Usage(ctx, payer, from, to)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"date", "category", "meter", "detail", "project", "person", "quantity", "unit", "credits"})
	var total int64
	for _, r := range rows {
		total += r.Amount
		_ = cw.Write([]string{r.Day, r.Category, r.Meter, r.Attr, r.Project, r.User, strconv.FormatInt(r.Quantity, 10),
			BaseUnit(r.Meter), Credits(r.Amount)})
	}
	_ = cw.Write([]string{"total", "", "", "", "", "", "", "", Credits(total)})
	cw.Flush()
	return cw.Error()
}

// Transaction is a ledger transfer as its payer sees it: Amount is signed,
// + into the account and − out of it.
type Transaction struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Amount    int64  `json:"amount"`
	Status    string `json:"status"`
	Memo      string `json:"memo"`
	CreatedAt int64  `json:"createdAt"`
}

// Transactions lists payer's transfers, newest first, leaving out those
// of the kinds in skip (the usage page leaves out "usage": its charts show
// it, and a running sandbox is charged every rating pass).
func (s *Service) Transactions(ctx context.Context, payer, before string, limit int, skip ...string) ([]Transaction, error) {
	acct := ledger.Account(payer)
	ts, err := s.ledger.Transfers(ctx, acct, before, limit, skip...)
	if err != nil {
		return nil, fmt.Errorf("transactions of %s: %w", payer, err)
	}
	out := make([]Transaction, 0, len(ts))
	for _, t := range ts {
		amount := t.Amount
		if t.Debit == acct {
			amount = -amount
		}
		out = append(out, Transaction{ID: t.ID, Kind: t.Kind, Amount: amount, Status: t.Status, Memo: t.Memo, CreatedAt: t.CreatedAt})
	}
	return out, nil
}

// HourCharge is what was charged in one hour.
type HourCharge struct {
	Hour   time.Time
	Amount int64
}

// HourlyCharges sums what payer was charged per whole hour in [from, to),
// for Stripe's meters; hours with nothing are left out.
func (s *Service) HourlyCharges(ctx context.Context, payer string, from, to time.Time) ([]HourCharge, error) {
	var rows []struct {
		Hour   int64 `db:"hour"`
		Amount int64 `db:"amount"`
	}
	if err := s.db.Select(ctx, &rows, `SELECT at / 3600000 AS hour, CAST(SUM(amount) AS BIGINT) AS amount
		FROM usage_charges WHERE payer = ? AND at >= ? AND at < ? AND amount > 0
		GROUP BY at / 3600000 ORDER BY hour`, payer, from.UnixMilli(), to.UnixMilli()); err != nil {
		return nil, fmt.Errorf("hourly charges of %s: %w", payer, err)
	}
	out := make([]HourCharge, len(rows))
	for i, r := range rows {
		out[i] = HourCharge{Hour: time.UnixMilli(r.Hour * 3600000).UTC(), Amount: r.Amount}
	}
	return out, nil
}
