package alert

import (
	"context"
	"fmt"
	"strings"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/notify"
	"ecode/internal/store"
	"ecode/internal/webhook"
)

// Webhook event types.
const (
	eventFiring   = "alert.firing"
	eventResolved = "alert.resolved"
	eventTest     = "alert.test"
	webhookTries  = 4
)

func secretAAD(projectID string) []byte { return []byte("alert webhook:" + projectID) }

// Secret returns the project's webhook signing secret to whom may change
// the project, making it the first time; rotate replaces it.
func (s *Service) Secret(ctx context.Context, actor *auth.User, projectID string, rotate bool) (string, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return "", err
	}
	return s.secret(ctx, p.ID, rotate)
}

func (s *Service) secret(ctx context.Context, projectID string, rotate bool) (string, error) {
	if s.opts.Keys == nil {
		return "", errs.Unavailable("webhooks_unavailable", "This server cannot keep webhook secrets.")
	}
	if !rotate {
		var sealed string
		err := s.db.Get(ctx, &sealed, `SELECT secret FROM alert_webhook_secrets WHERE project_id = ?`, projectID)
		if err == nil {
			v, err := s.opts.Keys.Open(sealed, secretAAD(projectID))
			if err != nil {
				return "", fmt.Errorf("open alert webhook secret: %w", err)
			}
			return string(v), nil
		}
		if !store.NoRows(err) {
			return "", fmt.Errorf("read alert webhook secret: %w", err)
		}
	}
	secret := webhook.NewSecret()
	_, err := s.db.Exec(ctx, `INSERT INTO alert_webhook_secrets (project_id, secret, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (project_id) DO UPDATE SET secret = excluded.secret, updated_at = excluded.updated_at`,
		projectID, s.opts.Keys.Seal([]byte(secret), secretAAD(projectID)), store.Now())
	if err != nil {
		return "", fmt.Errorf("save alert webhook secret: %w", err)
	}
	return secret, nil
}

// ChannelResult is how a test notification went on one channel.
type ChannelResult struct {
	Channel string `json:"channel"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
}

// TestRule sends a test notification on every channel of the rule, now,
// once each, and says how each went.
func (s *Service) TestRule(ctx context.Context, actor *auth.User, projectID, ruleID string) ([]ChannelResult, error) {
	p, r, err := s.editRule(ctx, actor, projectID, ruleID)
	if err != nil {
		return nil, err
	}
	a := &Alert{ID: "test", ProjectID: p.ID, RuleID: r.ID, RuleName: r.Name, Kind: r.Kind, Metric: r.Metric, Status: Firing,
		StartedAt: s.opts.Now().UnixMilli(), Message: "A test notification sent by " + actor.Username + "."}
	out := []ChannelResult{}
	result := func(ch string, err error) {
		res := ChannelResult{Channel: ch, OK: err == nil}
		if err != nil {
			res.Error = err.Error()
		}
		out = append(out, res)
	}
	if r.Channels.InApp {
		result("inApp", s.inApp(ctx, r, a, "Test: "))
	}
	if r.Channels.WebhookURL != "" {
		result("webhook", s.post(ctx, r, a, eventTest, 1))
	}
	if len(r.Channels.Emails) > 0 {
		result("email", s.email(ctx, r, a, "Test: "))
	}
	return out, nil
}

// tell sends a's news on each of r's channels, unless a is silenced: in
// the app now, webhooks and email in the background.
func (s *Service) tell(ctx context.Context, r *Rule, a *Alert) {
	if a.silenced(s.opts.Now().UnixMilli()) {
		return
	}
	typ, prefix := eventFiring, "Firing: "
	if a.Status == Resolved {
		typ, prefix = eventResolved, "Resolved: "
	}
	if r.Channels.InApp {
		if err := s.inApp(ctx, r, a, prefix); err != nil {
			s.log.Error("notify alert in app", "rule_id", r.ID, "alert_id", a.ID, "err", err)
		}
	}
	if r.Channels.WebhookURL != "" {
		s.background(func(ctx context.Context) error { return s.post(ctx, r, a, typ, webhookTries) }, "webhook", a)
	}
	if len(r.Channels.Emails) > 0 && s.opts.Mail != nil {
		s.background(func(ctx context.Context) error { return s.email(ctx, r, a, prefix) }, "email", a)
	}
}

// background runs a delivery that Run stops and waits for when it ends.
func (s *Service) background(fn func(context.Context) error, channel string, a *Alert) {
	s.wg.Go(func() {
		ctx, cancel := context.WithTimeout(s.deliveries, 2*time.Minute)
		defer cancel()
		if err := fn(ctx); err != nil {
			s.log.Info("alert not delivered", "channel", channel, "alert_id", a.ID, "err", err)
		}
	})
}

func (s *Service) inApp(ctx context.Context, r *Rule, a *Alert, prefix string) error {
	users, err := s.audience.Editors(ctx, r.projectID)
	if err != nil {
		return err
	}
	return s.notifier.Send(ctx, users, notify.Notification{Kind: "alert", Title: prefix + r.Name, Body: a.Message, Link: r.link()})
}

func (s *Service) post(ctx context.Context, r *Rule, a *Alert, typ string, tries int) error {
	secret, err := s.secret(ctx, r.projectID, false)
	if err != nil {
		return err
	}
	body, err := webhook.Body(typ, s.opts.Now(), map[string]any{"projectId": r.projectID, "alert": a, "link": s.opts.PublicURL + r.link()})
	if err != nil {
		return err
	}
	res := s.hooks.Deliver(ctx, webhook.Message{ID: webhook.NewID(), URL: r.Channels.WebhookURL, Secret: secret, Body: body}, tries, nil)
	return res.Err
}

func (s *Service) email(ctx context.Context, r *Rule, a *Alert, prefix string) error {
	if s.opts.Mail == nil {
		return errs.Invalid("email_unavailable", "email is not configured on this server")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nRule: %s (%s, %s)\nSince: %s\n", a.Message, r.Name, r.Kind, r.Metric,
		time.UnixMilli(a.StartedAt).UTC().Format(time.RFC1123))
	if a.ResolvedAt != nil {
		fmt.Fprintf(&b, "Resolved: %s\n", time.UnixMilli(*a.ResolvedAt).UTC().Format(time.RFC1123))
	}
	fmt.Fprintf(&b, "\n%s%s\n", s.opts.PublicURL, r.link())
	return s.opts.Mail.Send(ctx, r.Channels.Emails, "[E-Code] "+prefix+r.Name, b.String())
}

// link is where a person sees the rule's alerts: the project's workspace
// on the Deploy pane's Monitoring tab, Alerts section.
func (r *Rule) link() string { return r.projectURL + "?pane=deploy&monitoring=alerts" }
