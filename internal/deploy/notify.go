package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/seal"
	"ecode/internal/store"
	"ecode/internal/webhook"
)

// Policy is what the operator decides of deployments beyond their
// settings.
type Policy struct {
	// MinInterval is the shortest time a schedule may leave between two
	// runs; 0: a minute.
	MinInterval time.Duration
	// WebhookAddr says which addresses a failure webhook may reach; nil:
	// egress.Reachable(nil), public addresses that are not this host's.
	WebhookAddr func(netip.Addr) bool
	// Keys seals the webhooks' signing secrets; without it no webhook can
	// be set.
	Keys *seal.Keyring
}

// floor is the shortest time between two runs of a schedule.
func (s *Service) floor() time.Duration {
	if s.opts.Policy.MinInterval > 0 {
		return s.opts.Policy.MinInterval
	}
	return time.Minute
}

// A project's failure webhook is posted a signed JSON event (package
// webhook) when a scheduled run fails or times out and when a build
// fails. Each event is tried up to webhookTries times with growing
// pauses; how its last try went is kept.
const (
	webhookTries     = 4
	keepDeliveries   = 20
	webhookTypeRun   = "execution.failed"
	webhookTypeBuild = "release.failed"
	webhookTypeTest  = "webhook.test"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Webhook is a project's failure webhook as the API shows it.
type Webhook struct {
	URL       string `json:"url" db:"url"`
	UpdatedBy string `json:"updatedBy" db:"updated_by"`
	UpdatedAt int64  `json:"updatedAt" db:"updated_at"`
}

// Delivery is one event posted to a webhook, as its last try left it.
type Delivery struct {
	ID         string `json:"id" db:"id"`
	Event      string `json:"event" db:"event"`
	URL        string `json:"url" db:"url"`
	Status     string `json:"status" db:"status"`
	Attempts   int    `json:"attempts" db:"attempts"`
	Code       *int   `json:"code" db:"code"`
	Error      string `json:"error" db:"error"`
	CreatedAt  int64  `json:"createdAt" db:"created_at"`
	FinishedAt *int64 `json:"finishedAt" db:"finished_at"`
}

func webhookAAD(projectID string) []byte { return []byte("deployment webhook:" + projectID) }

// WebhookState returns the project's webhook (nil when none is set) and
// its latest deliveries, newest first, to whom may change the project.
func (s *Service) WebhookState(ctx context.Context, actor *auth.User, projectID string) (*Webhook, []Delivery, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, nil, err
	}
	var hook *Webhook
	var w Webhook
	switch err := s.db.Get(ctx, &w, `SELECT url, updated_by, updated_at FROM deployment_webhooks WHERE project_id = ?`, p.ID); {
	case err == nil:
		hook = &w
	case !store.NoRows(err):
		return nil, nil, fmt.Errorf("read webhook: %w", err)
	}
	out := []Delivery{}
	if err := s.db.Select(ctx, &out, `SELECT id, event, url, status, attempts, code, error, created_at, finished_at
		FROM webhook_deliveries WHERE project_id = ? ORDER BY created_at DESC, id DESC`, p.ID); err != nil {
		return nil, nil, fmt.Errorf("list deliveries: %w", err)
	}
	return hook, out, nil
}

// SetWebhook sets the project's webhook URL. The first time, it makes the
// signing secret and returns it: the one time it is shown. Changing the
// URL keeps the secret, unless rotate asks for a new one.
func (s *Service) SetWebhook(ctx context.Context, actor *auth.User, projectID, rawURL string, rotate bool) (*Webhook, string, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, "", err
	}
	if s.opts.Policy.Keys == nil {
		return nil, "", errs.Unavailable("webhooks_unavailable", "This server cannot keep webhook secrets.")
	}
	if err := webhook.CheckURL(rawURL); err != nil {
		return nil, "", err
	}
	var had int
	if err := s.db.Get(ctx, &had, `SELECT COUNT(*) FROM deployment_webhooks WHERE project_id = ?`, p.ID); err != nil {
		return nil, "", fmt.Errorf("read webhook: %w", err)
	}
	w := Webhook{URL: rawURL, UpdatedBy: actor.Username, UpdatedAt: store.Now()}
	secret := ""
	if had == 0 || rotate {
		secret = webhook.NewSecret()
		_, err = s.db.Exec(ctx, `INSERT INTO deployment_webhooks (project_id, url, secret, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (project_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			p.ID, w.URL, s.opts.Policy.Keys.Seal([]byte(secret), webhookAAD(p.ID)), w.UpdatedBy, w.UpdatedAt)
	} else {
		_, err = s.db.Exec(ctx, `UPDATE deployment_webhooks SET url = ?, updated_by = ?, updated_at = ? WHERE project_id = ?`,
			w.URL, w.UpdatedBy, w.UpdatedAt, p.ID)
	}
	if err != nil {
		return nil, "", fmt.Errorf("set webhook: %w", err)
	}
	return &w, secret, nil
}

// DeleteWebhook removes the project's webhook; its deliveries stay listed.
func (s *Service) DeleteWebhook(ctx context.Context, actor *auth.User, projectID string) error {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return err
	}
	n, err := s.db.Exec(ctx, `DELETE FROM deployment_webhooks WHERE project_id = ?`, p.ID)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	if n == 0 {
		return errNoWebhook
	}
	return nil
}

var errNoWebhook = errs.NotFound("webhook_not_found", "This project has no webhook; set its URL first.")

// TestWebhook posts a test event to the project's webhook once, now, and
// returns how it went.
func (s *Service) TestWebhook(ctx context.Context, actor *auth.User, projectID string) (*Delivery, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	d, err := s.prepare(ctx, p.ID, webhookTypeTest, map[string]any{"projectId": p.ID, "sentBy": actor.Username})
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, errNoWebhook
	}
	return s.deliver(ctx, d, 1), nil
}

// outgoing is an event on its way to a webhook.
type outgoing struct {
	Delivery
	projectID string
	secret    string
	body      []byte
}

// prepare records a delivery of an event of type typ to the project's
// webhook; nil when the project has none.
func (s *Service) prepare(ctx context.Context, projectID, typ string, data map[string]any) (*outgoing, error) {
	if s.opts.Policy.Keys == nil {
		return nil, nil
	}
	var row struct {
		URL    string `db:"url"`
		Secret string `db:"secret"`
	}
	err := s.db.Get(ctx, &row, `SELECT url, secret FROM deployment_webhooks WHERE project_id = ?`, projectID)
	if store.NoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook: %w", err)
	}
	secret, err := s.opts.Policy.Keys.Open(row.Secret, webhookAAD(projectID))
	if err != nil {
		return nil, fmt.Errorf("open webhook secret: %w", err)
	}
	now := store.Now()
	body, err := webhook.Body(typ, time.UnixMilli(now), data)
	if err != nil {
		return nil, err
	}
	d := &outgoing{Delivery: Delivery{ID: webhook.NewID(), Event: typ, URL: row.URL, Status: DeliveryPending, CreatedAt: now},
		projectID: projectID, secret: string(secret), body: body}
	if _, err := s.db.Exec(ctx, `INSERT INTO webhook_deliveries (id, project_id, event, url, status, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		d.ID, projectID, typ, d.URL, d.Status, now); err != nil {
		return nil, fmt.Errorf("record delivery: %w", err)
	}
	_, err = s.db.Exec(ctx, `DELETE FROM webhook_deliveries WHERE project_id = ? AND id NOT IN
		(SELECT id FROM webhook_deliveries WHERE project_id = ? ORDER BY created_at DESC, id DESC LIMIT ?)`, projectID, projectID, keepDeliveries)
	if err != nil {
		return nil, fmt.Errorf("prune deliveries: %w", err)
	}
	return d, nil
}

// notify posts an event to the project's webhook in the background,
// trying again with growing pauses, until it is delivered, refused for
// good, out of tries, or the server stops.
func (s *Service) notify(projectID, typ string, data map[string]any) {
	ctx := context.WithoutCancel(s.ctx)
	d, err := s.prepare(ctx, projectID, typ, data)
	if err != nil {
		s.log.Error("webhook", "project_id", projectID, "event", typ, "err", err)
		return
	}
	if d == nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.deliver(s.ctx, d, webhookTries)
	}()
}

// deliver makes up to tries attempts at d and records each.
func (s *Service) deliver(ctx context.Context, d *outgoing, tries int) *Delivery {
	dbctx := context.WithoutCancel(ctx)
	msg := webhook.Message{ID: d.ID, URL: d.URL, Secret: d.secret, Body: d.body}
	res := webhook.New(s.opts.Policy.WebhookAddr, 0).Deliver(ctx, msg, tries, func(r webhook.Result) {
		d.Attempts, d.Code, d.Error = r.Attempts, r.Code, r.Err.Error()
		s.record(dbctx, d)
	})
	now := store.Now()
	d.Attempts, d.Code, d.FinishedAt = res.Attempts, res.Code, &now
	d.Status, d.Error = DeliveryDelivered, ""
	if res.Err != nil {
		d.Status, d.Error = DeliveryFailed, res.Err.Error()
		s.log.Info("webhook not delivered", "project_id", d.projectID, "delivery_id", d.ID, "err", res.Err)
	}
	s.record(dbctx, d)
	return &d.Delivery
}

func (s *Service) record(ctx context.Context, d *outgoing) {
	_, err := s.db.Exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, code = ?, error = ?, finished_at = ? WHERE id = ?`,
		d.Status, d.Attempts, d.Code, d.Error, d.FinishedAt, d.ID)
	if err != nil {
		s.log.Error("record webhook delivery", "project_id", d.projectID, "delivery_id", d.ID, "err", err)
	}
}

// runFailed posts a failed or timed-out scheduled run.
func (s *Service) runFailed(row execRow, status string, code *int, msg string) {
	s.notify(row.ProjectID, webhookTypeRun, map[string]any{"projectId": row.ProjectID, "executionId": row.ID,
		"releaseId": row.ReleaseID, "source": row.Source, "status": status, "exitCode": code, "error": msg,
		"startedAt": row.StartedAt})
}

// buildFailed posts a release whose build failed; one cancelled by a
// person is not news to them.
func (s *Service) buildFailed(r *releaseRow, msg string, err error) {
	if errors.Is(err, errCancelled) {
		return
	}
	s.notify(r.ProjectID, webhookTypeBuild, map[string]any{"projectId": r.ProjectID, "releaseId": r.ID,
		"number": r.Number, "commit": r.Commit, "target": r.Target, "error": msg, "createdBy": r.Username})
}

func (h handlers) webhook(w http.ResponseWriter, r *http.Request) {
	hook, list, err := h.svc.WebhookState(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"webhook": hook, "deliveries": list}, err)
}

func (h handlers) setWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL    string `json:"url"`
		Rotate bool   `json:"rotateSecret"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	hook, secret, err := h.svc.SetWebhook(r.Context(), auth.Actor(r), r.PathValue("id"), in.URL, in.Rotate)
	var shown *string
	if secret != "" {
		shown = &secret
	}
	httpx.Reply(w, r, http.StatusOK, map[string]any{"webhook": hook, "secret": shown}, err)
}

func (h handlers) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	httpx.NoContent(w, r, h.svc.DeleteWebhook(r.Context(), auth.Actor(r), r.PathValue("id")))
}

func (h handlers) testWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	d, err := h.svc.TestWebhook(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"delivery": d}, err)
}

// ResealWebhooks re-encrypts every webhook's signing secret under the
// keyring's current key, after the master key changed (ecode admin
// reseal); it returns how many it re-sealed.
func ResealWebhooks(ctx context.Context, db *store.DB, keys *seal.Keyring) (int, error) {
	var rows []struct {
		ProjectID string `db:"project_id"`
		Secret    string `db:"secret"`
	}
	if err := db.Select(ctx, &rows, `SELECT project_id, secret FROM deployment_webhooks`); err != nil {
		return 0, fmt.Errorf("read webhooks: %w", err)
	}
	for i, r := range rows {
		v, err := keys.Open(r.Secret, webhookAAD(r.ProjectID))
		if err != nil {
			return i, fmt.Errorf("open the webhook secret of %s: %w", r.ProjectID, err)
		}
		if _, err := db.Exec(ctx, `UPDATE deployment_webhooks SET secret = ? WHERE project_id = ?`, keys.Seal(v, webhookAAD(r.ProjectID)), r.ProjectID); err != nil {
			return i, fmt.Errorf("reseal webhook: %w", err)
		}
	}
	return len(rows), nil
}
