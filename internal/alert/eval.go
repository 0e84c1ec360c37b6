package alert

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"ecode/internal/alert/anomaly"
	"ecode/internal/store"
	"ecode/internal/telemetry"
)

// Alert statuses.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// Alert is one time a rule's condition held.
type Alert struct {
	ID            string   `json:"id" db:"id"`
	ProjectID     string   `json:"-" db:"project_id"`
	RuleID        string   `json:"ruleId" db:"rule_id"`
	RuleName      string   `json:"ruleName" db:"rule_name"`
	Kind          string   `json:"kind" db:"kind"`
	Metric        string   `json:"metric" db:"metric"`
	Status        string   `json:"status" db:"status"`
	StartedAt     int64    `json:"startedAt" db:"started_at"`
	ResolvedAt    *int64   `json:"resolvedAt" db:"resolved_at"`
	Value         float64  `json:"value" db:"value"`
	Threshold     *float64 `json:"threshold" db:"threshold"`
	Message       string   `json:"message" db:"message"`
	SilencedUntil *int64   `json:"silencedUntil" db:"silenced_until"`
	ResolvedBy    *string  `json:"resolvedBy" db:"resolved_by"`
}

const alertCols = `id, project_id, rule_id, rule_name, kind, metric, status, started_at, resolved_at, value, threshold, message, silenced_until, resolved_by`

// silenced reports whether a's notifications are held at now.
func (a *Alert) silenced(now int64) bool { return a.SilencedUntil != nil && *a.SilencedUntil > now }

// verdict is what one evaluation found: whether the condition holds, the
// value it measured, and a sentence for people.
type verdict struct {
	holds     bool
	value     float64
	threshold *float64
	message   string
}

// The SRE workbook's multiwindow burn-rate alerts: a fast burn (a 2%
// budget in an hour) seen over an hour and still over 5 minutes, or a
// slow one (5% in 6 hours) over 6 hours and still over 30 minutes.
var burnWindows = []struct {
	long, short time.Duration
	factor      float64
}{{time.Hour, 5 * time.Minute, 14.4}, {6 * time.Hour, 30 * time.Minute, 6}}

// Burn is how fast errors spend the error budget of an SLO: 1 spends it
// exactly over the SLO's period.
func Burn(errors, requests int64, slo float64) float64 {
	if requests == 0 {
		return 0
	}
	return float64(errors) / float64(requests) / (1 - slo)
}

// anomaly's lookback: the points scored, at anomalyStep.
const (
	anomalyLookback = 24 * time.Hour
	anomalyStep     = 5 * time.Minute
)

// Evaluate checks every enabled rule once: it opens an alert for a rule
// whose condition holds and has none open, and resolves the open alert
// of one whose condition cleared.
func (s *Service) Evaluate(ctx context.Context) error {
	rules, err := s.selectRules(ctx, s.db, `enabled = ?`, true)
	if err != nil {
		return err
	}
	now := s.opts.Now()
	for i := range rules {
		r := &rules[i]
		v, err := s.judge(ctx, r, now)
		if err != nil {
			s.log.Error("evaluate alert rule", "project_id", r.projectID, "rule_id", r.ID, "err", err)
			continue
		}
		if err := s.settle(ctx, r, v, now); err != nil {
			return err
		}
	}
	return nil
}

// settle opens or resolves r's alert after verdict v.
func (s *Service) settle(ctx context.Context, r *Rule, v verdict, now time.Time) error {
	open, err := s.firing(ctx, r.ID)
	if err != nil {
		return err
	}
	switch {
	case v.holds && open == nil:
		a := &Alert{ID: store.NewID(), ProjectID: r.projectID, RuleID: r.ID, RuleName: r.Name, Kind: r.Kind, Metric: r.Metric,
			Status: Firing, StartedAt: now.UnixMilli(), Value: v.value, Threshold: v.threshold, Message: v.message}
		n, err := s.db.Exec(ctx, `INSERT INTO alerts (id, project_id, rule_id, rule_name, kind, metric, status, started_at, value, threshold, message)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			a.ID, a.ProjectID, a.RuleID, a.RuleName, a.Kind, a.Metric, a.Status, a.StartedAt, a.Value, a.Threshold, a.Message)
		if err != nil {
			return fmt.Errorf("open alert: %w", err)
		}
		if n == 1 { // 0: another evaluator opened it first
			s.tell(ctx, r, a)
		}
	case v.holds:
		if _, err := s.db.Exec(ctx, `UPDATE alerts SET value = ?, threshold = ?, message = ? WHERE id = ?`, v.value, v.threshold, v.message, open.ID); err != nil {
			return fmt.Errorf("update alert: %w", err)
		}
	case open != nil:
		return s.resolve(ctx, r, open, "auto", now)
	}
	return nil
}

// resolve closes a and tells of it, unless it was closed meanwhile.
func (s *Service) resolve(ctx context.Context, r *Rule, a *Alert, by string, now time.Time) error {
	at := now.UnixMilli()
	n, err := s.db.Exec(ctx, `UPDATE alerts SET status = ?, resolved_at = ?, resolved_by = ? WHERE id = ? AND status = ?`,
		Resolved, at, by, a.ID, Firing)
	if err != nil {
		return fmt.Errorf("resolve alert: %w", err)
	}
	if n == 1 {
		a.Status, a.ResolvedAt, a.ResolvedBy = Resolved, &at, &by
		s.tell(ctx, r, a)
	}
	return nil
}

// resolveRule resolves r's open alert, if any.
func (s *Service) resolveRule(ctx context.Context, r *Rule, by string) error {
	open, err := s.firing(ctx, r.ID)
	if err != nil || open == nil {
		return err
	}
	return s.resolve(ctx, r, open, by, s.opts.Now())
}

func (s *Service) firing(ctx context.Context, ruleID string) (*Alert, error) {
	var a Alert
	err := s.db.Get(ctx, &a, `SELECT `+alertCols+` FROM alerts WHERE rule_id = ? AND status = ?`, ruleID, Firing)
	if store.NoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read open alert: %w", err)
	}
	return &a, nil
}

// judge evaluates r's condition at now.
func (s *Service) judge(ctx context.Context, r *Rule, now time.Time) (verdict, error) {
	switch r.Kind {
	case Threshold:
		return s.threshold(ctx, r, now)
	case BurnRate:
		return s.burnRate(ctx, r, now)
	default:
		return s.anomaly(ctx, r, now)
	}
}

// measure is the rule's metric over w; false when w holds no data for it.
func measure(metric string, w telemetry.Window) (float64, bool) {
	switch metric {
	case "error_rate":
		if w.Requests == 0 {
			return 0, false
		}
		return float64(w.Errors) / float64(w.Requests), true
	case "p95_ms":
		return w.P95Ms, w.Requests > 0
	case "requests":
		return float64(w.Requests), true
	case "browser_errors":
		return float64(w.BrowserErrors), true
	}
	v, ok := w.Vitals[strings.TrimPrefix(metric, "vital:")]
	return v, ok
}

func (s *Service) threshold(ctx context.Context, r *Rule, now time.Time) (verdict, error) {
	w, err := s.source.Window(ctx, r.projectID, now.Add(-time.Duration(r.WindowMinutes)*time.Minute), now)
	if err != nil {
		return verdict{}, fmt.Errorf("read %s: %w", r.Metric, err)
	}
	v, ok := measure(r.Metric, w)
	t := r.Threshold
	out := verdict{value: v, threshold: &t}
	out.holds = ok && (r.Op == ">" && v > t || r.Op == "<" && v < t)
	out.message = fmt.Sprintf("%s was %s over the last %d min (alert when %s %s).", label(r.Metric), format(r.Metric, v),
		r.WindowMinutes, r.Op, format(r.Metric, t))
	return out, nil
}

func (s *Service) burnRate(ctx context.Context, r *Rule, now time.Time) (verdict, error) {
	var out verdict
	for _, bw := range burnWindows {
		long, err := s.source.Window(ctx, r.projectID, now.Add(-bw.long), now)
		if err != nil {
			return verdict{}, fmt.Errorf("read error rate: %w", err)
		}
		short, err := s.source.Window(ctx, r.projectID, now.Add(-bw.short), now)
		if err != nil {
			return verdict{}, fmt.Errorf("read error rate: %w", err)
		}
		lb, sb := Burn(long.Errors, long.Requests, r.SLO), Burn(short.Errors, short.Requests, r.SLO)
		if lb > bw.factor && sb > bw.factor {
			f := bw.factor
			return verdict{holds: true, value: lb, threshold: &f, message: fmt.Sprintf(
				"The error budget of a %s SLO burns %.1f× too fast over %s (%.1f× over %s; alert above %g×).",
				percent(r.SLO), lb, bw.long, sb, bw.short, bw.factor)}, nil
		}
		if lb > out.value {
			f := bw.factor
			out = verdict{value: lb, threshold: &f}
		}
	}
	out.message = fmt.Sprintf("The error budget of a %s SLO burns %.1f× its rate.", percent(r.SLO), out.value)
	return out, nil
}

// transform is how a metric's noise is tamed before anomalies are scored.
func transform(metric string) anomaly.Transform {
	switch {
	case metric == "requests" || metric == "browser_errors":
		return anomaly.Sqrt
	case metric == "error_rate" || metric == "vital:CLS":
		return anomaly.Ratio
	}
	return anomaly.Log
}

// points is the metric's value at each step; NaN where there is none, and
// for error_rate where the requests are too few to say.
func points(metric string, series []telemetry.Point) []anomaly.Point {
	out := make([]anomaly.Point, len(series))
	for i, p := range series {
		v, ok := measure(metric, p.Window)
		if metric == "error_rate" {
			v, ok = anomaly.Rate(p.Errors, p.Requests), true
		}
		if !ok {
			v = math.NaN()
		}
		out[i] = anomaly.Point{T: p.T, V: v}
	}
	return out
}

func (s *Service) anomaly(ctx context.Context, r *Rule, now time.Time) (verdict, error) {
	to := now.Truncate(anomalyStep) // the step under way is not whole yet
	cur, err := s.source.Series(ctx, r.projectID, to.Add(-anomalyLookback), to, anomalyStep)
	if err != nil {
		return verdict{}, fmt.Errorf("read %s: %w", r.Metric, err)
	}
	then := to.Add(-anomaly.Season)
	earlier, err := s.source.Series(ctx, r.projectID, then.Add(-anomalyLookback-anomaly.Span), then.Add(anomaly.Span), anomalyStep)
	if err != nil {
		return verdict{}, fmt.Errorf("read %s a week ago: %w", r.Metric, err)
	}
	pts := points(r.Metric, cur)
	if len(pts) == 0 {
		return verdict{message: "No data."}, nil
	}
	flags := anomaly.Flags(pts, points(r.Metric, earlier), transform(r.Metric))
	last := pts[len(pts)-1].V
	if math.IsNaN(last) {
		return verdict{message: fmt.Sprintf("%s: too little data to judge.", label(r.Metric))}, nil
	}
	v := verdict{holds: flags[len(flags)-1], value: last,
		message: fmt.Sprintf("%s was %s in the last %s, unlike the same time last week.", label(r.Metric), format(r.Metric, last), anomalyStep)}
	return v, nil
}

func label(metric string) string {
	switch metric {
	case "error_rate":
		return "The error rate"
	case "p95_ms":
		return "The p95 latency"
	case "requests":
		return "Requests"
	case "browser_errors":
		return "Browser errors"
	}
	return strings.TrimPrefix(metric, "vital:") + " (p75)"
}

func format(metric string, v float64) string {
	switch {
	case metric == "error_rate":
		return percent(v)
	case metric == "vital:CLS":
		return fmt.Sprintf("%.3f", v)
	case metric == "p95_ms" || strings.HasPrefix(metric, "vital:"):
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func percent(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", v*100), "0"), ".") + "%"
}
