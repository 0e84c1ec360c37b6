package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/mail"
	"ecode/internal/project"
	"ecode/internal/store"
	"ecode/internal/webhook"
)

// Rule kinds.
const (
	Threshold = "threshold"
	BurnRate  = "burn_rate"
	Anomaly   = "anomaly"
)

const (
	maxRules  = 50
	maxName   = 100
	maxEmails = 10
	maxWindow = 24 * 60
)

// Metrics a rule can watch.
var Metrics = []string{"error_rate", "p95_ms", "requests", "browser_errors",
	"vital:LCP", "vital:INP", "vital:CLS", "vital:FCP", "vital:TTFB"}

// Channels is where a rule's alerts are told.
type Channels struct {
	InApp      bool     `json:"inApp"`
	WebhookURL string   `json:"webhookUrl"`
	Emails     []string `json:"emails"`
}

// RuleInput is what a person sets of a rule.
type RuleInput struct {
	Name          string   `json:"name"`
	Kind          string   `json:"kind"`
	Metric        string   `json:"metric"`
	Op            string   `json:"op"`
	Threshold     float64  `json:"threshold"`
	WindowMinutes int      `json:"windowMinutes"`
	SLO           float64  `json:"slo"`
	Channels      Channels `json:"channels"`
	Enabled       bool     `json:"enabled"`
}

// Rule is a rule as the API shows it.
type Rule struct {
	ID string `json:"id"`
	RuleInput
	CreatedAt int64 `json:"createdAt"`
	UpdatedAt int64 `json:"updatedAt"`

	projectID  string
	projectURL string
}

// NewRuleInput is a new rule's settings before the request's own.
func NewRuleInput() RuleInput {
	return RuleInput{Op: ">", WindowMinutes: 5, SLO: 0.999, Enabled: true, Channels: Channels{InApp: true}}
}

type ruleRow struct {
	ID            string  `db:"id"`
	ProjectID     string  `db:"project_id"`
	Name          string  `db:"name"`
	Kind          string  `db:"kind"`
	Metric        string  `db:"metric"`
	Op            string  `db:"op"`
	Threshold     float64 `db:"threshold"`
	WindowMinutes int     `db:"window_minutes"`
	SLO           float64 `db:"slo"`
	Channels      string  `db:"channels"`
	ProjectURL    string  `db:"project_url"`
	Enabled       bool    `db:"enabled"`
	CreatedAt     int64   `db:"created_at"`
	UpdatedAt     int64   `db:"updated_at"`
}

const ruleCols = `id, project_id, name, kind, metric, op, threshold, window_minutes, slo, channels, project_url, enabled, created_at, updated_at`

func (r ruleRow) rule() (Rule, error) {
	out := Rule{ID: r.ID, RuleInput: RuleInput{Name: r.Name, Kind: r.Kind, Metric: r.Metric, Op: r.Op, Threshold: r.Threshold,
		WindowMinutes: r.WindowMinutes, SLO: r.SLO, Enabled: r.Enabled}, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		projectID: r.ProjectID, projectURL: r.ProjectURL}
	if err := json.Unmarshal([]byte(r.Channels), &out.Channels); err != nil {
		return out, fmt.Errorf("rule %s channels: %w", r.ID, err)
	}
	if out.Channels.Emails == nil {
		out.Channels.Emails = []string{}
	}
	return out, nil
}

func (s *Service) selectRules(ctx context.Context, q store.Q, where string, args ...any) ([]Rule, error) {
	var rows []ruleRow
	if err := q.Select(ctx, &rows, `SELECT `+ruleCols+` FROM alert_rules WHERE `+where+` ORDER BY created_at, id`, args...); err != nil {
		return nil, fmt.Errorf("read alert rules: %w", err)
	}
	out := make([]Rule, 0, len(rows))
	for _, r := range rows {
		rule, err := r.rule()
		if err != nil {
			return nil, err
		}
		out = append(out, rule)
	}
	return out, nil
}

var errNoRule = errs.NotFound("rule_not_found", "No such alert rule in this project.")

// Rules lists a project's rules to whom may see the project.
func (s *Service) Rules(ctx context.Context, actor *auth.User, projectID string) ([]Rule, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	rules, err := s.selectRules(ctx, s.db, `project_id = ?`, p.ID)
	if err != nil {
		return nil, err
	}
	if _, err := s.projects.Get(ctx, actor, p.ID, access.Write); err != nil {
		// A viewer sees where alerts go, not the hook's path (chat hooks
		// carry their token there) nor whole addresses.
		for i := range rules {
			rules[i].Channels = rules[i].Channels.redacted()
		}
	}
	return rules, nil
}

func (c Channels) redacted() Channels {
	if u, err := url.Parse(c.WebhookURL); err == nil && c.WebhookURL != "" {
		c.WebhookURL = u.Scheme + "://" + u.Host + "/…"
	}
	emails := make([]string, len(c.Emails))
	for i, e := range c.Emails {
		_, domain, _ := strings.Cut(e, "@")
		emails[i] = "…@" + domain
	}
	c.Emails = emails
	return c
}

// CreateRule adds a rule to the project: decode fills in the input once
// the actor may change the project.
func (s *Service) CreateRule(ctx context.Context, actor *auth.User, projectID string, decode func(*RuleInput) error) (*Rule, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	in := NewRuleInput()
	if err := decode(&in); err != nil {
		return nil, err
	}
	if err := s.check(&in); err != nil {
		return nil, err
	}
	now := store.Now()
	r := Rule{ID: store.NewID(), RuleInput: in, CreatedAt: now, UpdatedAt: now, projectID: p.ID, projectURL: p.URL}
	err = s.db.Tx(ctx, func(q store.Q) error {
		var n int
		if err := q.Get(ctx, &n, `SELECT COUNT(*) FROM alert_rules WHERE project_id = ?`, p.ID); err != nil {
			return fmt.Errorf("count alert rules: %w", err)
		}
		if n >= maxRules {
			return errs.Conflict("too_many_rules", "A project can have up to %d alert rules; delete one first.", maxRules)
		}
		return s.save(ctx, q, r, true)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// UpdateRule changes a rule: patch is applied over its settings.
func (s *Service) UpdateRule(ctx context.Context, actor *auth.User, projectID, ruleID string, patch func(*RuleInput) error) (*Rule, error) {
	p, r, err := s.editRule(ctx, actor, projectID, ruleID)
	if err != nil {
		return nil, err
	}
	if err := patch(&r.RuleInput); err != nil {
		return nil, err
	}
	if err := s.check(&r.RuleInput); err != nil {
		return nil, err
	}
	r.UpdatedAt, r.projectURL = store.Now(), p.URL
	if err := s.save(ctx, s.db, *r, false); err != nil {
		return nil, err
	}
	if !r.Enabled {
		// A rule turned off watches nothing: what it had open is over.
		if err := s.resolveRule(ctx, r, "auto"); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// DeleteRule removes a rule; an alert it had open is resolved, and its
// history stays.
func (s *Service) DeleteRule(ctx context.Context, actor *auth.User, projectID, ruleID string) error {
	_, r, err := s.editRule(ctx, actor, projectID, ruleID)
	if err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM alert_rules WHERE id = ?`, r.ID); err != nil {
		return fmt.Errorf("delete alert rule: %w", err)
	}
	return s.resolveRule(ctx, r, "user")
}

// editRule is the project and its rule ruleID, to whom may change the
// project.
func (s *Service) editRule(ctx context.Context, actor *auth.User, projectID, ruleID string) (*project.Project, *Rule, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.rule(ctx, p.ID, ruleID)
	return p, r, err
}

func (s *Service) rule(ctx context.Context, projectID, ruleID string) (*Rule, error) {
	rules, err := s.selectRules(ctx, s.db, `project_id = ? AND id = ?`, projectID, ruleID)
	if err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, errNoRule
	}
	return &rules[0], nil
}

func (s *Service) save(ctx context.Context, q store.Q, r Rule, insert bool) error {
	ch, err := json.Marshal(r.Channels)
	if err != nil {
		return fmt.Errorf("encode channels: %w", err)
	}
	if insert {
		_, err = q.Exec(ctx, `INSERT INTO alert_rules (`+ruleCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.projectID, r.Name, r.Kind, r.Metric, r.Op, r.Threshold, r.WindowMinutes, r.SLO, string(ch), r.projectURL, r.Enabled, r.CreatedAt, r.UpdatedAt)
	} else {
		_, err = q.Exec(ctx, `UPDATE alert_rules SET name = ?, kind = ?, metric = ?, op = ?, threshold = ?, window_minutes = ?, slo = ?,
			channels = ?, project_url = ?, enabled = ?, updated_at = ? WHERE id = ?`,
			r.Name, r.Kind, r.Metric, r.Op, r.Threshold, r.WindowMinutes, r.SLO, string(ch), r.projectURL, r.Enabled, r.UpdatedAt, r.ID)
	}
	if err != nil {
		return fmt.Errorf("save alert rule: %w", err)
	}
	return nil
}

func invalid(format string, args ...any) error { return errs.Invalid("invalid_rule", format, args...) }

// check validates in and tidies it (names trimmed, emails deduplicated).
func (s *Service) check(in *RuleInput) error {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "" || len(in.Name) > maxName:
		return invalid("A rule needs a name of up to %d characters.", maxName)
	case !slices.Contains(Metrics, in.Metric):
		return invalid("The metric is one of %s.", strings.Join(Metrics, ", "))
	case in.Op != ">" && in.Op != "<":
		return invalid(`A rule's op is ">" or "<".`)
	}
	switch in.Kind {
	case Threshold:
		if in.WindowMinutes < 1 || in.WindowMinutes > maxWindow {
			return invalid("A threshold rule's windowMinutes is from 1 to %d.", maxWindow)
		}
		if math.IsNaN(in.Threshold) || math.IsInf(in.Threshold, 0) {
			return invalid("A threshold rule needs a threshold.")
		}
	case BurnRate:
		if in.Metric != "error_rate" {
			return invalid("A burn-rate rule watches error_rate.")
		}
		if !(in.SLO > 0 && in.SLO < 1) {
			return invalid("The SLO is the share of requests that should succeed, between 0 and 1, such as 0.999.")
		}
	case Anomaly:
	default:
		return invalid("The kind is threshold, burn_rate or anomaly.")
	}
	c := &in.Channels
	c.WebhookURL = strings.TrimSpace(c.WebhookURL)
	if c.WebhookURL != "" {
		if err := webhook.CheckURL(c.WebhookURL); err != nil {
			return err
		}
		if s.opts.Keys == nil {
			return errs.Unavailable("webhooks_unavailable", "This server cannot keep webhook secrets.")
		}
	}
	if c.Emails == nil {
		c.Emails = []string{}
	}
	slices.Sort(c.Emails)
	c.Emails = slices.Compact(c.Emails)
	if len(c.Emails) > 0 && s.opts.Mail == nil {
		return errs.Invalid("email_unavailable", "email is not configured on this server")
	}
	if len(c.Emails) > maxEmails {
		return invalid("A rule can email up to %d addresses.", maxEmails)
	}
	for _, e := range c.Emails {
		if err := mail.CheckAddress(e); err != nil {
			return invalid("%v.", err)
		}
	}
	if !c.InApp && c.WebhookURL == "" && len(c.Emails) == 0 {
		return invalid("Choose at least one channel: in the app, a webhook or email.")
	}
	return nil
}
