package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/runtime/egress"
	"ecode/internal/seal"
	"ecode/internal/store"
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

// A project's failure webhook is posted a signed JSON event (Standard
// Webhooks: webhook-id, webhook-timestamp, webhook-signature) when a
// scheduled run fails or times out and when a build fails. Each event is
// tried up to webhookTries times with growing pauses; how its last try
// went is kept.
const (
	webhookTries     = 4
	webhookBackoff   = time.Second // before the second try; ×4 before each next
	webhookTimeout   = 10 * time.Second
	keepDeliveries   = 20
	maxWebhookURL    = 2048
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

// event is the body posted: Standard Webhooks' type, timestamp, data.
type event struct {
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
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
	if err := checkWebhookURL(rawURL); err != nil {
		return nil, "", err
	}
	var had int
	if err := s.db.Get(ctx, &had, `SELECT COUNT(*) FROM deployment_webhooks WHERE project_id = ?`, p.ID); err != nil {
		return nil, "", fmt.Errorf("read webhook: %w", err)
	}
	w := Webhook{URL: rawURL, UpdatedBy: actor.Username, UpdatedAt: store.Now()}
	secret := ""
	if had == 0 || rotate {
		key := make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand never fails on Linux
		secret = "whsec_" + base64.StdEncoding.EncodeToString(key)
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

func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || len(raw) > maxWebhookURL {
		return errs.Invalid("invalid_webhook_url", "A webhook URL is an http:// or https:// address without a user name, such as https://hooks.example.com/ecode.")
	}
	return nil
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
	body, err := json.Marshal(event{Type: typ, Timestamp: time.UnixMilli(now).UTC().Format(time.RFC3339), Data: data})
	if err != nil {
		return nil, err
	}
	// The id is the message's, kept across tries, so a receiver can drop
	// a repeat.
	d := &outgoing{Delivery: Delivery{ID: "msg_" + store.NewID(), Event: typ, URL: row.URL, Status: DeliveryPending, CreatedAt: now},
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
	hook, err := standardwebhooks.NewWebhook(d.secret)
	client := s.webhookClient()
	pause := webhookBackoff
	for d.Attempts < tries && err == nil {
		d.Attempts++
		var retry bool
		d.Code, retry, err = post(ctx, client, hook, d)
		if err == nil || !retry || d.Attempts == tries {
			break
		}
		d.Error = err.Error()
		s.record(dbctx, d)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			err = errors.New("the server stopped before the next try")
		case <-t.C:
			err = nil
		}
		pause *= 4
	}
	now := store.Now()
	d.FinishedAt = &now
	d.Status, d.Error = DeliveryDelivered, ""
	if err != nil {
		d.Status, d.Error = DeliveryFailed, err.Error()
		s.log.Info("webhook not delivered", "project_id", d.projectID, "delivery_id", d.ID, "err", err)
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

// post makes one attempt: the answer's status code (nil without one),
// whether another try may go better, and why this one failed.
func post(ctx context.Context, client *http.Client, hook *standardwebhooks.Webhook, d *outgoing) (*int, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	at := time.Now()
	sig, err := hook.Sign(d.ID, at, d.body)
	if err != nil {
		return nil, false, fmt.Errorf("sign: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.body))
	if err != nil {
		return nil, false, fmt.Errorf("the webhook URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "E-Code-Webhooks")
	req.Header.Set(standardwebhooks.HeaderWebhookID, d.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(at.Unix()))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	res, err := client.Do(req)
	if err != nil {
		var refused *egress.RefusedError
		if errors.As(err, &refused) {
			return nil, false, refused
		}
		return nil, true, fmt.Errorf("no answer: %w", errors.Unwrap(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	code := res.StatusCode
	if code >= 200 && code < 300 {
		return &code, false, nil
	}
	retry := code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
	return &code, retry, fmt.Errorf("answered %d %s", code, http.StatusText(code))
}

// webhookClient dials only the addresses the policy allows, checked on
// the address connected to (after DNS), follows no redirect and uses no
// proxy.
func (s *Service) webhookClient() *http.Client {
	allowed := s.opts.Policy.WebhookAddr
	if allowed == nil {
		allowed = egress.Reachable(nil)
	}
	dialer := egress.Dialer(webhookTimeout, allowed)
	return &http.Client{
		Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: webhookTimeout, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
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
