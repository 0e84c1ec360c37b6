package agent

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"ecode/internal/billing"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// Meter is what the agent needs of billing (billing.Service): a hold on
// the payer's credits while a run works, its tokens recorded against the
// hold, and the hold settled when it ends. Completions are recorded
// without a hold.
type Meter interface {
	Record(ctx context.Context, us ...billing.Usage) error
	// Reserve refuses with out_of_credits (402) when the payer has none.
	Reserve(ctx context.Context, projectID, userID, key string, estimate int64) error
	// Within says out_of_credits once the run has used more than it can pay.
	Within(ctx context.Context, key string) error
	// Settle charges the hold's usage (charge) or waives it; idempotent.
	Settle(ctx context.Context, key string, charge bool) error
}

// ReserveEstimate is what a run holds when it starts, in µcr (2 credits).
// A fixed sum rather than the token budget priced at the model's rates:
// that budget (2M tokens) would hold hundreds of credits and refuse most
// payers for work that mostly costs a fraction of it. The hold only keeps
// the run from starting at zero; Within stops it when its usage outgrows
// the hold and what else is available.
const ReserveEstimate int64 = 2_000_000

func holdKey(runID string) string { return "agent:" + runID }

// reserveAndInsert holds credits for the run, then stores it; a run that
// could not be stored lets its hold go.
func (s *Service) reserveAndInsert(ctx context.Context, r *Run) error {
	m := s.cfg.Meter
	if m == nil {
		return insertRun(ctx, s.db, r)
	}
	if err := m.Reserve(ctx, r.ProjectID, r.UserID, holdKey(r.ID), ReserveEstimate); err != nil {
		return err
	}
	if err := insertRun(ctx, s.db, r); err != nil {
		if serr := m.Settle(context.WithoutCancel(ctx), holdKey(r.ID), false); serr != nil {
			s.log.Error("release agent hold", "run_id", r.ID, "err", serr)
		}
		return err
	}
	return nil
}

// meterTurn records one model call's tokens against the run's hold and
// asks whether the run may go on; the error is billing's out_of_credits.
func (s *Service) meterTurn(ctx context.Context, l *live, in, out int64) error {
	m := s.cfg.Meter
	if m == nil {
		return nil
	}
	l.mu.Lock()
	l.turns++
	r := l.run
	turn := l.turns
	l.mu.Unlock()
	ctx = context.WithoutCancel(ctx) // the tokens are spent even if the run was stopped meanwhile
	key := "agent:" + r.ID + ":" + strconv.Itoa(turn)
	now := time.Now()
	usage := func(suffix, meter string, n int64) billing.Usage {
		return billing.Usage{Key: key + suffix, Meter: meter, Attr: r.Model, Quantity: n, ProjectID: r.ProjectID,
			UserID: r.UserID, At: now, Hold: holdKey(r.ID)}
	}
	if err := m.Record(ctx, tokens(usage(":in", billing.MeterAIIn, in), usage(":out", billing.MeterAIOut, out))...); err != nil {
		s.log.Error("record agent usage", "run_id", r.ID, "err", err)
	}
	err := m.Within(ctx, holdKey(r.ID))
	if e, ok := errs.As(err); ok && e.Kind == errs.KindPaymentRequired {
		return err
	}
	if err != nil {
		s.log.Error("agent credit check", "run_id", r.ID, "err", err)
	}
	return nil
}

// outOfCredits ends the run that has spent what its payer has.
func (s *Service) outOfCredits(ctx context.Context, l *live, w *workspace, err error) {
	msg := "Out of credits: top up to let the agent go on."
	if e, ok := errs.As(err); ok {
		msg = e.Message
	}
	l.mu.Lock()
	l.run.Summary = msg
	l.mu.Unlock()
	s.end(ctx, l, w, &RunError{Code: "out_of_credits", Message: msg})
}

// settle charges the run's hold, or waives it when the loop guard stopped
// a run that changed nothing: a run that made no progress is not charged.
func (s *Service) settle(ctx context.Context, l *live) {
	m := s.cfg.Meter
	if m == nil {
		return
	}
	l.mu.Lock()
	id, charge := l.run.ID, !(l.guarded && l.run.NoProgress)
	l.mu.Unlock()
	if err := m.Settle(context.WithoutCancel(ctx), holdKey(id), charge); err != nil {
		s.log.Error("settle agent hold", "run_id", id, "charge", charge, "err", err)
	}
}

// unfinishedRuns are the runs a previous server left running.
func unfinishedRuns(ctx context.Context, db *store.DB, projectID string) ([]string, error) {
	var ids []string
	if err := db.Select(ctx, &ids, `SELECT id FROM agent_runs WHERE status = ? AND (? = '' OR project_id = ?)`, StatusRunning, projectID, projectID); err != nil {
		return nil, fmt.Errorf("list unfinished agent runs: %w", err)
	}
	return ids, nil
}

// settleInterrupted charges the holds of runs a crash cut short: their
// tokens were spent, and whether they made progress is not known.
func (s *Service) settleInterrupted(ctx context.Context, ids []string) {
	m := s.cfg.Meter
	if m == nil {
		return
	}
	for _, id := range ids {
		if err := m.Settle(ctx, holdKey(id), true); err != nil {
			s.log.Error("settle interrupted agent run", "run_id", id, "err", err)
		}
	}
}

// meterCompletion records an inline completion's tokens, charged as they
// come (no hold).
func (s *Service) meterCompletion(ctx context.Context, projectID, userID string, in, out int64) {
	m := s.cfg.Meter
	if m == nil {
		return
	}
	key, now, model := "complete:"+store.NewID(), time.Now(), s.model.modelName()
	if err := m.Record(context.WithoutCancel(ctx), tokens(
		billing.Usage{Key: key + ":in", Meter: billing.MeterAIIn, Attr: model, Quantity: in, ProjectID: projectID, UserID: userID, At: now},
		billing.Usage{Key: key + ":out", Meter: billing.MeterAIOut, Attr: model, Quantity: out, ProjectID: projectID, UserID: userID, At: now},
	)...); err != nil {
		s.log.Error("record completion usage", "project_id", projectID, "err", err)
	}
}

// tokens keeps the usage that counted something.
func tokens(us ...billing.Usage) []billing.Usage {
	out := us[:0]
	for _, u := range us {
		if u.Quantity > 0 {
			out = append(out, u)
		}
	}
	return out
}
