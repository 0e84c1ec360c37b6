package stripebill

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"ecode/internal/billing"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/ledger"
	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

const testSecret = "whsec_test_secret"

// credits is the outside of this package as billing promises it: top-ups
// idempotent by key (the ledger's rule), plan changes that ignore an older
// one than the last applied, hourly charges from a table. It records every
// call, so tests can tell an effect from a call.
type credits struct {
	mu      sync.Mutex
	calls   []string                        // "topup <payer> <amount> <key>", "plan <payer> <plan>"
	topups  map[string]int64                // key -> amount, once
	balance map[string]int64                // payer -> µcr
	plans   map[string]string               // payer -> plan
	planAt  map[string]time.Time            // payer -> time of the plan's change
	hourly  map[string][]billing.HourCharge // payer -> charges
	fail    int                             // fail this many calls next
	delay   time.Duration                   // each top-up takes this long
}

func newCredits() *credits {
	return &credits{topups: map[string]int64{}, balance: map[string]int64{}, plans: map[string]string{},
		planAt: map[string]time.Time{}, hourly: map[string][]billing.HourCharge{}}
}

func (c *credits) TopUp(_ context.Context, payer string, amount int64, key, _ string) (ledger.Transfer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	time.Sleep(c.delay)
	c.calls = append(c.calls, fmt.Sprintf("topup %s %d %s", payer, amount, key))
	if c.fail > 0 {
		c.fail--
		return ledger.Transfer{}, fmt.Errorf("ledger unavailable")
	}
	t := ledger.Transfer{Key: key, Debit: ledger.TopUps, Credit: ledger.Account(payer), Amount: amount, Kind: "topup", Status: ledger.Posted}
	if prev, ok := c.topups[key]; ok {
		if prev != amount {
			return ledger.Transfer{}, errs.Conflict("idempotency_key_reused", "key %s reused", key)
		}
		return t, nil
	}
	c.topups[key] = amount
	c.balance[payer] += amount
	return t, nil
}

func (c *credits) SetPlan(_ context.Context, payer, plan string, at time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, fmt.Sprintf("plan %s %s", payer, plan))
	if at.Before(c.planAt[payer]) {
		return nil
	}
	c.plans[payer], c.planAt[payer] = plan, at
	return nil
}

func (c *credits) HourlyCharges(_ context.Context, payer string, from, to time.Time) ([]billing.HourCharge, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []billing.HourCharge
	for _, h := range c.hourly[payer] {
		if !h.Hour.Before(from) && h.Hour.Before(to) {
			out = append(out, h)
		}
	}
	return out, nil
}

func (c *credits) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func (c *credits) Balance(payer string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.balance[payer]
}

func (c *credits) Plan(payer string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.plans[payer]
}

// payers answers like billing's: the caller's own account, or team "t1"
// that the caller administers; anything else is forbidden.
type payers struct{}

func (payers) Payer(r *http.Request, team string) (string, string, error) {
	switch team {
	case "":
		return "user:alice", "alice@example.com", nil
	case "t1":
		return "team:t1", "alice@example.com", nil
	}
	return "", "", errs.Forbidden("not_team_admin", "Only the team's admins can pay for it.")
}

// env is a Service on a fresh database behind a real HTTP server.
type env struct {
	svc     *Service
	db      *store.DB
	credits *credits
	srv     *httptest.Server
}

func newEnv(t *testing.T, e testdb.Engine, opts Options) *env {
	t.Helper()
	db := testdb.Open(t, e)
	c := newCredits()
	if opts.WebhookSecret == "" {
		opts.WebhookSecret = testSecret
	}
	if opts.PublicURL == "" {
		opts.PublicURL = "https://ecode.example"
	}
	if opts.Plans == nil {
		opts.Plans = []Plan{{ID: "free"}, {ID: "pro", StripePrice: "price_pro"}, {ID: "team", StripePrice: "price_team"}}
	}
	svc := New(db, c, payers{}, opts)
	rt := httpx.NewRouter()
	svc.Routes(rt)
	return &env{svc: svc, db: db, credits: c, srv: newServer(t, rt)}
}

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// post sends body to path and returns the status and the decoded answer.
func (e *env) post(t *testing.T, path string, body []byte, header http.Header) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: answer %d is not JSON: %q", path, res.StatusCode, raw)
	}
	return res.StatusCode, out
}

// deliver posts a signed webhook delivery of payload, signed at ts.
func (e *env) deliver(t *testing.T, payload []byte, secret string, ts time.Time) (int, map[string]any) {
	t.Helper()
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: ts})
	return e.post(t, "/api/billing/stripe/webhook", sp.Payload, http.Header{"Stripe-Signature": {sp.Header}})
}

func errCode(out map[string]any) string {
	if e, ok := out["error"].(map[string]any); ok {
		code, _ := e["code"].(string)
		return code
	}
	return ""
}

// event renders a Stripe event around object, as Stripe sends it.
func event(id string, typ stripe.EventType, created time.Time, object map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": stripe.APIVersion, "created": created.Unix(),
		"type": typ, "livemode": false, "pending_webhooks": 1,
		"data": map[string]any{"object": object},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func topUpSession(id, payer string, credits int64, paymentStatus string) map[string]any {
	return map[string]any{
		"id": id, "object": "checkout.session", "mode": "payment", "status": "complete",
		"payment_status": paymentStatus, "customer": "cus_test", "amount_total": credits,
		"currency": "usd", "metadata": map[string]string{"payer": payer, "kind": "topup", "credits": fmt.Sprint(credits)},
	}
}

func subscription(id, payer, status, price string) map[string]any {
	return map[string]any{
		"id": id, "object": "subscription", "status": status, "customer": "cus_test",
		"metadata": map[string]string{"payer": payer},
		"items": map[string]any{"object": "list", "data": []any{
			map[string]any{"id": "si_" + id, "object": "subscription_item", "price": map[string]any{"id": price, "object": "price"}},
		}},
	}
}

// stripeCall is one request that reached stripe-mock.
type stripeCall struct {
	Method, Path, IdempotencyKey string
	Form                         url.Values
}

// stripeMock is a real stripe-mock process behind a proxy that records
// what reaches it.
type stripeMock struct {
	URL   string
	mu    sync.Mutex
	calls []stripeCall
}

func (m *stripeMock) Calls() []stripeCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]stripeCall(nil), m.calls...)
}

func (m *stripeMock) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = nil
}

// startStripeMock runs the pinned stripe-mock (go.mod's tool) on a free
// port. It skips the test only when the binary cannot be built here.
func startStripeMock(t *testing.T) *stripeMock {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("stripe-mock needs the go command to build it: %v", err)
	}
	// -n builds the tool and prints its path on stdout; the first build's
	// "go: downloading" lines go to stderr.
	var stderr bytes.Buffer
	build := exec.Command(goBin, "tool", "-n", "stripe-mock")
	build.Stderr = &stderr
	out, err := build.Output()
	if err != nil {
		t.Skipf("stripe-mock (go tool stripe-mock) cannot be built here: %v: %s", err, stderr.Bytes())
	}
	cmd := exec.Command(strings.TrimSpace(string(out)), "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "Listening for HTTP at address: "); ok {
				addr <- a
			}
		}
	}()
	var target *url.URL
	select {
	case a := <-addr:
		target = &url.URL{Scheme: "http", Host: a}
	case <-time.After(30 * time.Second):
		t.Fatal("stripe-mock did not start listening within 30 s")
	}
	m := &stripeMock{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		m.mu.Lock()
		m.calls = append(m.calls, stripeCall{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key"), Form: form})
		m.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)
	m.URL = rec.URL
	return m
}

func wantForm(t *testing.T, c stripeCall, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := c.Form.Get(k); got != v {
			t.Errorf("%s %s: %s = %q, want %q", c.Method, c.Path, k, got, v)
		}
	}
}
