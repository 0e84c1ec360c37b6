// Package webhook posts signed JSON events to addresses people give the
// platform: Standard Webhooks (webhook-id, webhook-timestamp,
// webhook-signature), retried with growing pauses, and only to addresses
// the operator allows, checked on the address connected to after DNS so
// that a name re-pointed at a private address is refused too.
package webhook

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

	"ecode/internal/errs"
	"ecode/internal/runtime/egress"
	"ecode/internal/store"
)

const (
	timeout = 10 * time.Second
	// Backoff is the pause before the second try; each next one is 4×.
	Backoff = time.Second
	maxURL  = 2048
)

// Sender posts events. Its zero value is not usable: see New.
type Sender struct {
	client  *http.Client
	backoff time.Duration
}

// New returns a sender that dials only addresses allowed says yes to
// (nil: egress.Reachable(nil), public addresses that are not this
// host's), follows no redirect and uses no proxy. backoff 0 is Backoff.
func New(allowed func(netip.Addr) bool, backoff time.Duration) *Sender {
	if allowed == nil {
		allowed = egress.Reachable(nil)
	}
	if backoff <= 0 {
		backoff = Backoff
	}
	dialer := egress.Dialer(timeout, allowed)
	return &Sender{backoff: backoff, client: &http.Client{
		Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: timeout, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// NewSecret makes a signing secret in Standard Webhooks' form.
func NewSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand never fails on Linux
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// NewID makes a message id; it is kept across tries, so a receiver can
// drop a repeat.
func NewID() string { return "msg_" + store.NewID() }

// CheckURL refuses what cannot be a webhook's address.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || len(raw) > maxURL {
		return errs.Invalid("invalid_webhook_url", "A webhook URL is an http:// or https:// address without a user name, such as https://hooks.example.com/ecode.")
	}
	return nil
}

// Body is an event as Standard Webhooks lays it out: type, timestamp,
// data.
func Body(typ string, at time.Time, data any) ([]byte, error) {
	b, err := json.Marshal(struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      any    `json:"data"`
	}{typ, at.UTC().Format(time.RFC3339), data})
	if err != nil {
		return nil, fmt.Errorf("encode webhook event: %w", err)
	}
	return b, nil
}

// Message is one event on its way to one address.
type Message struct {
	ID     string
	URL    string
	Secret string
	Body   []byte
}

// Result is how the tries at a message went: the last answer's status
// code (nil without one) and, when it was not delivered, why.
type Result struct {
	Attempts int
	Code     *int
	Err      error
}

// Deliver makes up to tries attempts at m, pausing Backoff, then 4× as
// long, between them, until it is delivered, refused for good (a 4xx, an
// address not allowed), out of tries or ctx ends. retrying, when not nil,
// hears of each failed try that will be followed by another.
func (s *Sender) Deliver(ctx context.Context, m Message, tries int, retrying func(Result)) Result {
	var r Result
	hook, err := standardwebhooks.NewWebhook(m.Secret)
	if err != nil {
		r.Err = fmt.Errorf("signing secret: %w", err)
		return r
	}
	pause := s.backoff
	for r.Attempts < tries {
		r.Attempts++
		var retry bool
		r.Code, retry, r.Err = s.post(ctx, hook, m)
		if r.Err == nil || !retry || r.Attempts == tries {
			return r
		}
		if retrying != nil {
			retrying(r)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			r.Err = errors.New("the server stopped before the next try")
			return r
		case <-t.C:
		}
		pause *= 4
	}
	return r
}

// post makes one attempt: the answer's status code (nil without one),
// whether another try may go better, and why this one failed.
func (s *Sender) post(ctx context.Context, hook *standardwebhooks.Webhook, m Message) (*int, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	at := time.Now()
	sig, err := hook.Sign(m.ID, at, m.Body)
	if err != nil {
		return nil, false, fmt.Errorf("sign: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return nil, false, fmt.Errorf("the webhook URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "E-Code-Webhooks")
	req.Header.Set(standardwebhooks.HeaderWebhookID, m.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(at.Unix()))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	res, err := s.client.Do(req)
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
