package billing

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"ecode/internal/errs"
	"ecode/internal/ledger"
	"ecode/internal/notify"
	"ecode/internal/store"
)

// Allow says whether projectID may start new work: with Enforce, not
// while its payer has nothing available.
func (s *Service) Allow(ctx context.Context, projectID string) error {
	if !s.opts.Enforce {
		return nil
	}
	payer, err := s.payerOf(ctx, projectID)
	if err != nil {
		return fmt.Errorf("allow: %w", err)
	}
	avail, err := s.available(ctx, payer)
	if err != nil {
		return err
	}
	if avail <= 0 {
		return s.errOutOfCredits()
	}
	return nil
}

// available is payer's available balance, its account made on first need.
func (s *Service) available(ctx context.Context, payer string) (int64, error) {
	var known int
	if err := s.db.Get(ctx, &known, `SELECT COUNT(*) FROM billing_accounts WHERE payer = ?`, payer); err != nil {
		return 0, fmt.Errorf("balance of %s: %w", payer, err)
	}
	if known > 0 {
		bal, err := s.ledger.Balance(ctx, ledger.Account(payer))
		if err != nil {
			return 0, fmt.Errorf("balance of %s: %w", payer, err)
		}
		return bal.Available(), nil
	}
	var avail int64
	err := s.db.Tx(ctx, func(q store.Q) error {
		if _, err := s.ensureAccount(ctx, q, payer); err != nil {
			return err
		}
		bal, err := ledger.BalanceOf(ctx, q, ledger.Account(payer))
		avail = bal.Available()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("balance of %s: %w", payer, err)
	}
	return avail, nil
}

// Run rates usage every RatingInterval and, each time, lets lapsed holds
// go, starts new periods, enforces quotas and sends budget alerts. It
// returns when ctx ends, after a last rating pass.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.RatingInterval)
	defer t.Stop()
	for {
		s.tick(ctx)
		select {
		case <-ctx.Done():
			// Rate what the sources sent last, on a context of its own.
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if _, err := s.RateNow(final); err != nil {
				slog.Error("billing: last rating pass", "err", err)
			}
			cancel()
			return
		case <-t.C:
		}
	}
}

// tick is one round of Run's work; each part goes on when another fails.
func (s *Service) tick(ctx context.Context) {
	if _, err := s.ledger.ExpireHolds(ctx, s.now()); err != nil && ctx.Err() == nil {
		slog.Error("billing: expire holds", "err", err)
	}
	_, payers, err := s.rateAll(ctx)
	if err != nil && ctx.Err() == nil {
		slog.Error("billing: rating", "err", err)
	}
	if err := s.rollovers(ctx); err != nil && ctx.Err() == nil {
		slog.Error("billing: new periods", "err", err)
	}
	if s.opts.Enforce {
		if err := s.enforce(ctx); err != nil && ctx.Err() == nil {
			slog.Error("billing: enforcement", "err", err)
		}
	}
	for p := range payers {
		s.checkAlerts(ctx, p)
	}
}

// enforce stops the running sandboxes of payers with nothing available,
// suspends their deployments once Grace has passed since they reached
// zero, and resumes them when credits came back. Nothing is deleted.
func (s *Service) enforce(ctx context.Context) error {
	var accts []account
	if err := s.db.Select(ctx, &accts, `SELECT `+accountCols+` FROM billing_accounts`); err != nil {
		return fmt.Errorf("read accounts: %w", err)
	}
	now := s.now().UnixMilli()
	out := map[string]bool{}     // payers with nothing available
	expired := map[string]bool{} // and past their grace
	for _, a := range accts {
		bal, err := s.ledger.Balance(ctx, ledger.Account(a.Payer))
		if err != nil {
			return fmt.Errorf("balance of %s: %w", a.Payer, err)
		}
		switch {
		case bal.Available() <= 0:
			out[a.Payer] = true
			since := now
			if a.OutSince == nil {
				if _, err := s.db.Exec(ctx, `UPDATE billing_accounts SET out_since = ? WHERE payer = ? AND out_since IS NULL`, now, a.Payer); err != nil {
					return fmt.Errorf("mark %s out of credits: %w", a.Payer, err)
				}
			} else {
				since = *a.OutSince
			}
			if now-since >= s.opts.Grace.Milliseconds() {
				expired[a.Payer] = true
			}
		case a.OutSince != nil:
			if _, err := s.db.Exec(ctx, `UPDATE billing_accounts SET out_since = NULL WHERE payer = ?`, a.Payer); err != nil {
				return fmt.Errorf("mark %s in credit: %w", a.Payer, err)
			}
		}
	}
	reason := "Out of credits: top up at " + s.topUpURL()
	if s.opts.Workloads != nil && len(out) > 0 {
		for _, p := range s.opts.Workloads.RunningProjects() {
			payer, err := s.payerOf(ctx, p)
			if err != nil {
				slog.Warn("billing: owner of running project", "project", p, "err", err)
				continue
			}
			if out[payer] {
				s.opts.Workloads.StopProject(ctx, p, reason)
			}
		}
	}
	if s.opts.Deployments == nil {
		return nil
	}
	var suspended []struct {
		ProjectID string `db:"project_id"`
		Payer     string `db:"payer"`
	}
	if err := s.db.Select(ctx, &suspended, `SELECT project_id, payer FROM billing_suspended`); err != nil {
		return fmt.Errorf("read suspended deployments: %w", err)
	}
	isSuspended := map[string]bool{}
	for _, d := range suspended {
		isSuspended[d.ProjectID] = true
	}
	if len(expired) > 0 {
		live, err := s.opts.Deployments.LiveProjects(ctx)
		if err != nil {
			return fmt.Errorf("live deployments: %w", err)
		}
		for _, p := range live {
			payer, err := s.payerOf(ctx, p)
			if err != nil || !expired[payer] || isSuspended[p] {
				continue
			}
			if err := s.opts.Deployments.Suspend(ctx, p, reason); err != nil {
				slog.Error("billing: suspend deployment", "project", p, "err", err)
				continue
			}
			if _, err := s.db.Exec(ctx, `INSERT INTO billing_suspended (project_id, payer, at) VALUES (?, ?, ?)
				ON CONFLICT (project_id) DO NOTHING`, p, payer, now); err != nil {
				return fmt.Errorf("record suspended deployment: %w", err)
			}
		}
	}
	for _, d := range suspended {
		if out[d.Payer] {
			continue
		}
		if err := s.opts.Deployments.Resume(ctx, d.ProjectID); err != nil {
			slog.Error("billing: resume deployment", "project", d.ProjectID, "err", err)
			continue
		}
		if _, err := s.db.Exec(ctx, `DELETE FROM billing_suspended WHERE project_id = ?`, d.ProjectID); err != nil {
			return fmt.Errorf("record resumed deployment: %w", err)
		}
	}
	return nil
}

// alertPercents are the budget thresholds.
var alertPercents = []int{50, 80, 100}

// checkAlerts tells payer's people, once per threshold and period, that
// their usage crossed 50, 80 or 100 % of what they had this period.
func (s *Service) checkAlerts(ctx context.Context, payer string) {
	if err := s.alerts(ctx, payer); err != nil && ctx.Err() == nil {
		slog.Error("billing: budget alerts", "payer", payer, "err", err)
	}
}

func (s *Service) alerts(ctx context.Context, payer string) error {
	var a account
	if err := s.db.Get(ctx, &a, `SELECT `+accountCols+` FROM billing_accounts WHERE payer = ?`, payer); err != nil {
		if store.NoRows(err) {
			return nil
		}
		return fmt.Errorf("read account: %w", err)
	}
	allowance := a.allowance()
	if allowance <= 0 {
		return nil
	}
	used, err := usedIn(ctx, s.db, payer, a.PeriodStart, a.PeriodEnd)
	if err != nil {
		return err
	}
	crossed := 0
	for _, p := range alertPercents {
		if used*100 < allowance*int64(p) { // µcr stay far below 2^63/100
			break
		}
		n, err := s.db.Exec(ctx, `INSERT INTO billing_alerts (payer, period_start, percent, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (payer, period_start, percent) DO NOTHING`, payer, a.PeriodStart, p, s.now().UnixMilli())
		if err != nil {
			return fmt.Errorf("record budget alert: %w", err)
		}
		if n == 1 {
			crossed = p
		}
	}
	if crossed == 0 {
		return nil
	}
	return s.tell(ctx, payer, crossed, used, allowance)
}

// tell sends one budget alert: the highest threshold newly crossed.
func (s *Service) tell(ctx context.Context, payer string, percent int, used, allowance int64) error {
	users, link, err := s.payerPeople(ctx, payer)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		return nil
	}
	title := fmt.Sprintf("You have used %d%% of this period's credits", percent)
	if percent >= 100 {
		title = "You have used all of this period's credits"
	}
	body := fmt.Sprintf("%s of %s credits used this period.", Credits(used), Credits(allowance))
	if s.opts.Enforce && percent >= 100 {
		body += " New runs wait until you top up."
	}
	if s.notes != nil {
		if err := s.notes.Send(ctx, users, notify.Notification{Kind: "billing.budget", Title: title, Body: body, Link: link}); err != nil {
			return fmt.Errorf("notify budget alert: %w", err)
		}
	}
	if s.mailer == nil {
		return nil
	}
	emails, err := s.people.Emails(ctx, users)
	if err != nil {
		return fmt.Errorf("emails for budget alert: %w", err)
	}
	var to []string
	for _, u := range users {
		if e := emails[u]; e != "" {
			to = append(to, e)
		}
	}
	if len(to) == 0 {
		return nil
	}
	if err := s.mailer.Send(ctx, to, "[E-Code] "+title, body+"\n\nSee your usage: "+s.opts.PublicURL+link+"\n"); err != nil {
		return fmt.Errorf("email budget alert: %w", err)
	}
	return nil
}

// payerPeople are who hear about payer's account (the person, or the
// team's admins and owners) and where they see it.
func (s *Service) payerPeople(ctx context.Context, payer string) ([]string, string, error) {
	kind, id, _ := strings.Cut(payer, ":")
	if kind == "user" {
		return []string{id}, "/usage", nil
	}
	admins, err := s.people.TeamAdmins(ctx, id)
	if err != nil {
		return nil, "", fmt.Errorf("admins of team %s: %w", id, err)
	}
	name, err := s.people.TeamName(ctx, id)
	if err != nil {
		return nil, "", fmt.Errorf("name of team %s: %w", id, err)
	}
	return admins, "/usage?team=" + url.QueryEscape(name), nil
}

// Credits writes µcr as credits with up to six decimals ("12.5").
func Credits(micro int64) string { return ledger.Credits(micro) }

// AllowGPU says whether project's payer's plan lets it ask for a GPU.
// Without enforcement every project may, as with credits.
func (s *Service) AllowGPU(ctx context.Context, projectID string) error {
	if !s.opts.Enforce {
		return nil
	}
	payer, err := s.payerOf(ctx, projectID)
	if err != nil {
		return fmt.Errorf("allow a GPU: %w", err)
	}
	var a *account
	if err := s.db.Tx(ctx, func(q store.Q) error {
		a, err = s.ensureAccount(ctx, q, payer)
		return err
	}); err != nil {
		return err
	}
	if plan, ok := s.cat.Plan(a.Plan); ok && plan.GPU {
		return nil
	}
	var with []string
	for _, p := range s.cat.Plans {
		if p.GPU {
			with = append(with, p.Name)
		}
	}
	if len(with) == 0 {
		return errs.Forbidden("gpu_not_in_plan", "No plan on this server includes GPUs.")
	}
	return errs.Forbidden("gpu_not_in_plan", "GPUs come with the %s plan; change the plan on the Usage page to use one.", strings.Join(with, " or "))
}
