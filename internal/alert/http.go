package alert

import (
	"context"
	"net/http"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/store"
)

const (
	listAlerts  = 200
	maxSilenceM = 7 * 24 * 60
)

var errNoAlert = errs.NotFound("alert_not_found", "No such alert in this project.")

// Alerts lists a project's alerts, newest first: status firing, resolved
// or all.
func (s *Service) Alerts(ctx context.Context, actor *auth.User, projectID, status string) ([]Alert, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	q, args := `SELECT `+alertCols+` FROM alerts WHERE project_id = ?`, []any{p.ID}
	switch status {
	case "", "all":
	case Firing, Resolved:
		q, args = q+` AND status = ?`, append(args, status)
	default:
		return nil, errs.Invalid("invalid_status", "The status is firing, resolved or all.")
	}
	out := []Alert{}
	if err := s.db.Select(ctx, &out, q+` ORDER BY started_at DESC, id DESC LIMIT ?`, append(args, listAlerts)...); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) alert(ctx context.Context, actor *auth.User, projectID, alertID string) (*Alert, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	var a Alert
	err = s.db.Get(ctx, &a, `SELECT `+alertCols+` FROM alerts WHERE project_id = ? AND id = ?`, p.ID, alertID)
	if err != nil {
		if store.NoRows(err) {
			return nil, errNoAlert
		}
		return nil, err
	}
	return &a, nil
}

// Silence holds an alert's notifications for the minutes decode reads,
// once the actor may change the project.
func (s *Service) Silence(ctx context.Context, actor *auth.User, projectID, alertID string, decode func(minutes *int) error) (*Alert, error) {
	a, err := s.alert(ctx, actor, projectID, alertID)
	if err != nil {
		return nil, err
	}
	var minutes int
	if err := decode(&minutes); err != nil {
		return nil, err
	}
	if minutes < 1 || minutes > maxSilenceM {
		return nil, errs.Invalid("invalid_silence", "Silence an alert for 1 to %d minutes.", maxSilenceM)
	}
	until := s.opts.Now().Add(time.Duration(minutes) * time.Minute).UnixMilli()
	if _, err := s.db.Exec(ctx, `UPDATE alerts SET silenced_until = ? WHERE id = ?`, until, a.ID); err != nil {
		return nil, err
	}
	a.SilencedUntil = &until
	return a, nil
}

// Resolve closes a firing alert by hand; if its condition still holds, the
// next evaluation opens a new one.
func (s *Service) Resolve(ctx context.Context, actor *auth.User, projectID, alertID string) (*Alert, error) {
	a, err := s.alert(ctx, actor, projectID, alertID)
	if err != nil {
		return nil, err
	}
	if a.Status != Firing {
		return nil, errs.Conflict("alert_resolved", "This alert is resolved already.")
	}
	r, err := s.rule(ctx, a.ProjectID, a.RuleID)
	if err != nil {
		return nil, err
	}
	if err := s.resolve(ctx, r, a, "user", s.opts.Now()); err != nil {
		return nil, err
	}
	return a, nil
}

// Routes registers the alert routes.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/projects/{id}/alerts/rules", s.listRules)
	rt.HandleFunc("POST /api/projects/{id}/alerts/rules", s.createRule)
	rt.HandleFunc("PATCH /api/projects/{id}/alerts/rules/{rule}", s.updateRule)
	rt.HandleFunc("DELETE /api/projects/{id}/alerts/rules/{rule}", s.deleteRule)
	rt.HandleFunc("POST /api/projects/{id}/alerts/rules/{rule}/test", s.testRule)
	rt.HandleFunc("GET /api/projects/{id}/alerts", s.listAlerts)
	rt.HandleFunc("POST /api/projects/{id}/alerts/{alert}/silence", s.silence)
	rt.HandleFunc("POST /api/projects/{id}/alerts/{alert}/resolve", s.resolveAlert)
	rt.HandleFunc("GET /api/projects/{id}/alerts/webhook-secret", s.webhookSecret)
	rt.HandleFunc("POST /api/projects/{id}/alerts/webhook-secret", s.webhookSecret)
}

func (s *Service) listRules(w http.ResponseWriter, r *http.Request) {
	rules, err := s.Rules(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"rules": rules}, err)
}

func (s *Service) createRule(w http.ResponseWriter, r *http.Request) {
	rule, err := s.CreateRule(r.Context(), auth.Actor(r), r.PathValue("id"), func(in *RuleInput) error {
		return httpx.Decode(w, r, in)
	})
	httpx.Reply(w, r, http.StatusCreated, map[string]any{"rule": rule}, err)
}

func (s *Service) updateRule(w http.ResponseWriter, r *http.Request) {
	// The body is decoded over the rule's settings: what it leaves out stays.
	rule, err := s.UpdateRule(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("rule"), func(in *RuleInput) error {
		return httpx.Decode(w, r, in)
	})
	httpx.Reply(w, r, http.StatusOK, map[string]any{"rule": rule}, err)
}

func (s *Service) deleteRule(w http.ResponseWriter, r *http.Request) {
	httpx.NoContent(w, r, s.DeleteRule(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("rule")))
}

func (s *Service) testRule(w http.ResponseWriter, r *http.Request) {
	results, err := s.TestRule(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("rule"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"results": results}, err)
}

func (s *Service) listAlerts(w http.ResponseWriter, r *http.Request) {
	list, err := s.Alerts(r.Context(), auth.Actor(r), r.PathValue("id"), r.URL.Query().Get("status"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"alerts": list}, err)
}

func (s *Service) silence(w http.ResponseWriter, r *http.Request) {
	a, err := s.Silence(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("alert"), func(minutes *int) error {
		var in struct {
			Minutes int `json:"minutes"`
		}
		err := httpx.Decode(w, r, &in)
		*minutes = in.Minutes
		return err
	})
	httpx.Reply(w, r, http.StatusOK, map[string]any{"alert": a}, err)
}

func (s *Service) resolveAlert(w http.ResponseWriter, r *http.Request) {
	a, err := s.Resolve(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("alert"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"alert": a}, err)
}

func (s *Service) webhookSecret(w http.ResponseWriter, r *http.Request) {
	secret, err := s.Secret(r.Context(), auth.Actor(r), r.PathValue("id"), r.Method == http.MethodPost)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"secret": secret}, err)
}
