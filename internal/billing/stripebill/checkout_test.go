package stripebill

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecode/internal/billing"
	"ecode/internal/store/testdb"
)

func TestCheckoutAndPortal(t *testing.T) {
	mock := startStripeMock(t)
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			mock.Reset()
			env := newEnv(t, e, Options{SecretKey: "sk_test_ecode", APIURL: mock.URL, CentsPerCredit: 2, MinCredits: 500})
			post := func(path, body string) (int, map[string]any) {
				t.Helper()
				return env.post(t, path, []byte(body), http.Header{"Content-Type": {"application/json"}})
			}

			// The portal before any payment: nobody to send there.
			if status, out := post("/api/billing/portal", `{}`); status != http.StatusNotFound || errCode(out) != "no_stripe_customer" {
				t.Fatalf("portal without customer: %d %v", status, out)
			}
			// Below the minimum: refused before Stripe hears of it.
			if status, out := post("/api/billing/checkout", `{"credits":499}`); status != http.StatusBadRequest || errCode(out) != "credits_too_few" {
				t.Fatalf("499 credits: %d %v, want 400 credits_too_few", status, out)
			}
			for _, body := range []string{`{}`, `{"credits":500,"plan":"pro"}`, `{"plan":"gold"}`, `{"plan":"free"}`, `{"credits":-5}`} {
				if status, out := post("/api/billing/checkout", body); status != http.StatusBadRequest {
					t.Fatalf("checkout %s: %d %v, want 400", body, status, out)
				}
			}
			if status, out := post("/api/billing/checkout", `{"credits":500,"team":"other"}`); status != http.StatusForbidden {
				t.Fatalf("checkout for a team not administered: %d %v, want 403", status, out)
			}
			if calls := mock.Calls(); len(calls) != 0 {
				t.Fatalf("refused checkouts reached Stripe: %+v", calls)
			}

			// A top-up: a customer for the payer, then a payment session for 750 credits at 2 ¢.
			status, out := post("/api/billing/checkout", `{"credits":750}`)
			if status != http.StatusOK || !strings.HasPrefix(out["url"].(string), "https://checkout.stripe.com/") {
				t.Fatalf("top-up checkout: %d %v", status, out)
			}
			calls := mock.Calls()
			if len(calls) != 2 || calls[0].Path != "/v1/customers" || calls[1].Path != "/v1/checkout/sessions" {
				t.Fatalf("top-up reached Stripe as %+v, want a customer then a session", calls)
			}
			wantForm(t, calls[0], map[string]string{"metadata[payer]": "user:alice", "email": "alice@example.com"})
			if calls[0].IdempotencyKey != "ecode-customer-user:alice" {
				t.Errorf("customer idempotency key %q", calls[0].IdempotencyKey)
			}
			customer := storedCustomer(t, env, "user:alice")
			wantForm(t, calls[1], map[string]string{
				"mode":                                   "payment",
				"customer":                               customer,
				"client_reference_id":                    "user:alice",
				"line_items[0][price_data][currency]":    "usd",
				"line_items[0][price_data][unit_amount]": "1500",
				"line_items[0][quantity]":                "1",
				"metadata[payer]":                        "user:alice",
				"metadata[kind]":                         "topup",
				"metadata[credits]":                      "750",
				"success_url":                            "https://ecode.example/usage?checkout=done",
				"cancel_url":                             "https://ecode.example/usage",
			})

			// A subscription for the team: its own customer, the plan's price.
			mock.Reset()
			if status, out := post("/api/billing/checkout", `{"plan":"pro","team":"t1"}`); status != http.StatusOK || out["url"] == "" {
				t.Fatalf("subscription checkout: %d %v", status, out)
			}
			calls = mock.Calls()
			if len(calls) != 2 || calls[0].Path != "/v1/customers" || calls[1].Path != "/v1/checkout/sessions" {
				t.Fatalf("subscription reached Stripe as %+v", calls)
			}
			wantForm(t, calls[1], map[string]string{
				"mode":                               "subscription",
				"customer":                           storedCustomer(t, env, "team:t1"),
				"line_items[0][price]":               "price_pro",
				"line_items[0][quantity]":            "1",
				"metadata[payer]":                    "team:t1",
				"metadata[plan]":                     "pro",
				"subscription_data[metadata][payer]": "team:t1",
				"subscription_data[metadata][plan]":  "pro",
			})
			if calls[1].Form.Has("line_items[0][price_data][unit_amount]") {
				t.Errorf("a subscription sent an ad-hoc price: %v", calls[1].Form)
			}
			// Once it is paid, a second subscription is sent to the portal instead.
			paid := event("evt_t1", "checkout.session.completed", time.Now(), map[string]any{
				"id": "cs_t1", "object": "checkout.session", "mode": "subscription", "payment_status": "paid",
				"subscription": "sub_t1", "metadata": map[string]string{"payer": "team:t1", "kind": "subscription", "plan": "pro"}})
			if status, out := env.deliver(t, paid, testSecret, time.Now()); status != http.StatusOK {
				t.Fatalf("subscription paid: %d %v", status, out)
			}
			mock.Reset()
			if status, out := post("/api/billing/checkout", `{"plan":"team","team":"t1"}`); status != http.StatusConflict || errCode(out) != "already_subscribed" {
				t.Fatalf("second subscription: %d %v, want 409 already_subscribed", status, out)
			}
			if calls := mock.Calls(); len(calls) != 0 {
				t.Fatalf("a refused subscription reached Stripe: %+v", calls)
			}

			// A second top-up reuses the customer.
			mock.Reset()
			if status, _ := post("/api/billing/checkout", `{"credits":500}`); status != http.StatusOK {
				t.Fatalf("second top-up: %d", status)
			}
			if calls = mock.Calls(); len(calls) != 1 || calls[0].Path != "/v1/checkout/sessions" {
				t.Fatalf("second top-up reached Stripe as %+v, want one session", calls)
			}
			wantForm(t, calls[0], map[string]string{"customer": customer, "line_items[0][price_data][unit_amount]": "1000"})

			// The portal for the customer, back to the usage page.
			mock.Reset()
			if status, out := post("/api/billing/portal", ``); status != http.StatusOK || out["url"] == "" {
				t.Fatalf("portal: %d %v", status, out)
			}
			calls = mock.Calls()
			if len(calls) != 1 || calls[0].Path != "/v1/billing_portal/sessions" {
				t.Fatalf("portal reached Stripe as %+v", calls)
			}
			wantForm(t, calls[0], map[string]string{"customer": customer, "return_url": "https://ecode.example/usage"})
		})
	}
}

func TestNotConfigured(t *testing.T) {
	env := newEnv(t, testdb.Engines(t)[0], Options{})
	for _, path := range []string{"/api/billing/checkout", "/api/billing/portal"} {
		status, out := env.post(t, path, []byte(`{}`), nil)
		if status != http.StatusServiceUnavailable || errCode(out) != "stripe_not_configured" {
			t.Fatalf("%s without a key: %d %v, want 503 stripe_not_configured", path, status, out)
		}
	}
}

func TestMeterEvents(t *testing.T) {
	mock := startStripeMock(t)
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			mock.Reset()
			now := time.Now().Truncate(time.Hour).Add(30 * time.Minute)
			env := newEnv(t, e, Options{SecretKey: "sk_test_ecode", APIURL: mock.URL, Now: func() time.Time { return now }})
			ctx := context.Background()
			h := func(ago int) time.Time { return now.Truncate(time.Hour).Add(-time.Duration(ago) * time.Hour) }
			created := h(5).UnixMilli()
			if _, err := saveCustomer(ctx, env.db, "user:alice", "cus_alice", created); err != nil {
				t.Fatal(err)
			}
			if _, err := saveCustomer(ctx, env.db, "team:t1", "cus_team", created); err != nil {
				t.Fatal(err)
			}
			env.credits.hourly["user:alice"] = []billing.HourCharge{
				{Hour: h(6), Amount: 9_000_000}, // before the customer: never sent
				{Hour: h(3), Amount: 2_400_001},
				{Hour: h(2), Amount: 0}, // nothing charged: nothing sent
				{Hour: h(1), Amount: 750},
				{Hour: h(0), Amount: 5_000_000}, // the hour is not over
			}
			env.credits.hourly["team:t1"] = []billing.HourCharge{{Hour: h(4), Amount: 1}}

			n, err := env.svc.ReportUsage(ctx)
			if err != nil || n != 3 {
				t.Fatalf("ReportUsage = %d, %v; want 3 events", n, err)
			}
			got := map[string]stripeCall{}
			for _, c := range mock.Calls() {
				if c.Path != "/v1/billing/meter_events" {
					t.Fatalf("unexpected Stripe call %+v", c)
				}
				got[c.Form.Get("identifier")] = c
			}
			want := map[string]int64{
				"cus_alice:credits:" + strconv.FormatInt(h(3).Unix(), 10): 2_400_001,
				"cus_alice:credits:" + strconv.FormatInt(h(1).Unix(), 10): 750,
				"cus_team:credits:" + strconv.FormatInt(h(4).Unix(), 10):  1,
			}
			if len(got) != len(want) {
				t.Fatalf("meter events %v, want %v", keys(got), want)
			}
			for id, value := range want {
				c, ok := got[id]
				if !ok {
					t.Fatalf("no meter event %s (got %v)", id, keys(got))
				}
				customer, hour, _ := strings.Cut(id, ":credits:")
				wantForm(t, c, map[string]string{
					"event_name":                  "ecode_credits",
					"payload[stripe_customer_id]": customer,
					"payload[value]":              strconv.FormatInt(value, 10),
					"timestamp":                   hour,
				})
				if c.IdempotencyKey != "ecode-meter-"+id {
					t.Errorf("meter event %s: idempotency key %q", id, c.IdempotencyKey)
				}
			}

			// Sent hours are remembered: the next pass sends nothing.
			mock.Reset()
			if n, err := env.svc.ReportUsage(ctx); err != nil || n != 0 {
				t.Fatalf("second ReportUsage = %d, %v; want 0", n, err)
			}
			if calls := mock.Calls(); len(calls) != 0 {
				t.Fatalf("second pass reached Stripe: %+v", calls)
			}

			// An hour later the then-current hour is final and goes out.
			now = now.Add(time.Hour)
			if n, err := env.svc.ReportUsage(ctx); err != nil || n != 1 {
				t.Fatalf("next hour's ReportUsage = %d, %v; want 1", n, err)
			}
			if calls := mock.Calls(); len(calls) != 1 || calls[0].Form.Get("payload[value]") != "5000000" {
				t.Fatalf("next hour sent %+v", calls)
			}
		})
	}
}

func storedCustomer(t *testing.T, env *env, payer string) string {
	t.Helper()
	id, err := customerOf(context.Background(), env.db, payer)
	if err != nil || id == "" {
		t.Fatalf("customer of %s: %q, %v", payer, id, err)
	}
	return id
}

func keys(m map[string]stripeCall) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
