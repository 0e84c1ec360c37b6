package stripebill

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"ecode/internal/errs"
	"ecode/internal/ledger"
	"ecode/internal/store/testdb"
)

func TestWebhookTopUp(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			env := newEnv(t, e, Options{})
			now := time.Now()
			paid := event("evt_1", stripe.EventTypeCheckoutSessionCompleted, now, topUpSession("cs_1", "user:alice", 700, "paid"))

			// A bad signature, a tampered body and a stale delivery change nothing.
			status, out := env.deliver(t, paid, "whsec_wrong", now)
			if status != http.StatusBadRequest || errCode(out) != "bad_signature" {
				t.Fatalf("wrong secret: %d %v, want 400 bad_signature", status, out)
			}
			status, out = env.deliver(t, paid, testSecret, now.Add(-10*time.Minute))
			if status != http.StatusBadRequest || errCode(out) != "bad_signature" {
				t.Fatalf("stale signature: %d %v, want 400 bad_signature", status, out)
			}
			sp := signed(paid, testSecret, now)
			tampered := bytes.Replace(paid, []byte(`"credits":"700"`), []byte(`"credits":"70000"`), 1)
			status, out = env.post(t, "/api/billing/stripe/webhook", tampered, http.Header{"Stripe-Signature": {sp}})
			if status != http.StatusBadRequest || errCode(out) != "bad_signature" {
				t.Fatalf("tampered body: %d %v, want 400 bad_signature", status, out)
			}
			status, out = env.post(t, "/api/billing/stripe/webhook", paid, nil)
			if status != http.StatusBadRequest || errCode(out) != "bad_signature" {
				t.Fatalf("unsigned: %d %v, want 400 bad_signature", status, out)
			}
			if calls := env.credits.Calls(); len(calls) != 0 {
				t.Fatalf("refused deliveries reached billing: %v", calls)
			}
			if n := countEvents(t, env); n != 0 {
				t.Fatalf("refused deliveries recorded %d events", n)
			}

			// The valid delivery credits 700 credits, once; its replay is a 200 that does nothing.
			for range 2 {
				status, out = env.deliver(t, paid, testSecret, time.Now())
				if status != http.StatusOK || out["received"] != true {
					t.Fatalf("valid delivery: %d %v, want 200 received", status, out)
				}
			}
			want := []string{"topup user:alice 700000000 stripe:checkout:cs_1"}
			if calls := env.credits.Calls(); !slices.Equal(calls, want) {
				t.Fatalf("billing calls %v, want %v", calls, want)
			}
			if b := env.credits.Balance("user:alice"); b != 700*ledger.Micro {
				t.Fatalf("balance %d, want %d", b, 700*ledger.Micro)
			}
		})
	}
}

func TestWebhookAsyncPayment(t *testing.T) {
	env := newEnv(t, testdb.Engines(t)[0], Options{})
	now := time.Now()
	// A bank debit: the session completes unpaid, then its payment succeeds.
	status, _ := env.deliver(t, event("evt_a1", stripe.EventTypeCheckoutSessionCompleted, now,
		topUpSession("cs_a", "team:t1", 1000, "unpaid")), testSecret, now)
	if status != http.StatusOK {
		t.Fatalf("unpaid completion: %d", status)
	}
	if calls := env.credits.Calls(); len(calls) != 0 {
		t.Fatalf("an unpaid session credited: %v", calls)
	}
	status, _ = env.deliver(t, event("evt_a2", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, now.Add(time.Hour),
		topUpSession("cs_a", "team:t1", 1000, "paid")), testSecret, now)
	if status != http.StatusOK {
		t.Fatalf("async success: %d", status)
	}
	if b := env.credits.Balance("team:t1"); b != 1000*ledger.Micro {
		t.Fatalf("team balance %d, want %d", b, 1000*ledger.Micro)
	}
}

func TestWebhookRefusals(t *testing.T) {
	env := newEnv(t, testdb.Engines(t)[0], Options{})
	now := time.Now()

	// An endpoint left on another API version: a clear 400, nothing applied.
	old := bytes.Replace(event("evt_v", stripe.EventTypeCheckoutSessionCompleted, now, topUpSession("cs_v", "user:alice", 500, "paid")),
		[]byte(`"`+stripe.APIVersion+`"`), []byte(`"2024-06-20"`), 1)
	status, out := env.deliver(t, old, testSecret, now)
	if status != http.StatusBadRequest || errCode(out) != "stripe_api_version" {
		t.Fatalf("old API version: %d %v, want 400 stripe_api_version", status, out)
	}

	// A type this server does not act on: 200, ignored.
	status, _ = env.deliver(t, event("evt_u", "customer.created", now, map[string]any{"id": "cus_1", "object": "customer"}), testSecret, now)
	if status != http.StatusOK {
		t.Fatalf("unknown type: %d, want 200", status)
	}

	// More than 64 KiB is refused before it is read as an event.
	big := bytes.Repeat([]byte("x"), maxWebhookBody+1)
	status, out = env.deliver(t, big, testSecret, now)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("big body: %d %v, want 413", status, out)
	}

	// Without a signing secret nothing is accepted.
	off := New(env.db, env.credits, payers{}, Options{})
	if _, err := off.Webhook(context.Background(), []byte("{}"), "t=1,v1=00"); codeOf(err) != "stripe_not_configured" {
		t.Fatalf("no secret: %v, want stripe_not_configured", err)
	}
	if calls := env.credits.Calls(); len(calls) != 0 {
		t.Fatalf("refused deliveries reached billing: %v", calls)
	}
}

func TestWebhookRetryAfterFailure(t *testing.T) {
	env := newEnv(t, testdb.Engines(t)[0], Options{})
	now := time.Now()
	paid := event("evt_f", stripe.EventTypeCheckoutSessionCompleted, now, topUpSession("cs_f", "user:alice", 600, "paid"))
	env.credits.fail = 1
	if status, _ := env.deliver(t, paid, testSecret, now); status != http.StatusInternalServerError {
		t.Fatalf("failed effect: %d, want 500 so Stripe retries", status)
	}
	if n := countEvents(t, env); n != 0 {
		t.Fatalf("a failed event stayed recorded (%d rows): its retry would be skipped", n)
	}
	if status, _ := env.deliver(t, paid, testSecret, time.Now()); status != http.StatusOK {
		t.Fatalf("retry: %d, want 200", status)
	}
	if b := env.credits.Balance("user:alice"); b != 600*ledger.Micro {
		t.Fatalf("balance after retry %d, want %d", b, 600*ledger.Micro)
	}

	// A worker that died mid-effect left a claim: while fresh, a duplicate
	// answers 409 (Stripe retries); once stale, a delivery takes it over.
	env.svc.inFlightWait = 100 * time.Millisecond
	ctx := context.Background()
	claimed := time.Now()
	if _, err := env.db.Exec(ctx, `INSERT INTO stripe_events (id, type, created, claim, claimed_at) VALUES ('evt_d', 'checkout.session.completed', 0, 'dead', ?)`,
		claimed.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	died := event("evt_d", stripe.EventTypeCheckoutSessionCompleted, now, topUpSession("cs_d", "user:alice", 500, "paid"))
	if status, out := env.deliver(t, died, testSecret, time.Now()); status != http.StatusConflict || errCode(out) != "stripe_event_in_flight" {
		t.Fatalf("duplicate of an event in flight: %d %v, want 409 stripe_event_in_flight", status, out)
	}
	if _, err := env.db.Exec(ctx, `UPDATE stripe_events SET claimed_at = ? WHERE id = 'evt_d'`, claimed.Add(-staleClaim-time.Second).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if status, _ := env.deliver(t, died, testSecret, time.Now()); status != http.StatusOK {
		t.Fatalf("retry after a dead worker: %d, want 200", status)
	}
	if b := env.credits.Balance("user:alice"); b != 1100*ledger.Micro {
		t.Fatalf("balance after the takeover %d, want %d", b, 1100*ledger.Micro)
	}
}

func TestWebhookConcurrentDuplicates(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			env := newEnv(t, e, Options{})
			env.credits.delay = 50 * time.Millisecond // duplicates arrive while the first is at work
			now := time.Now()
			same := event("evt_c", stripe.EventTypeCheckoutSessionCompleted, now, topUpSession("cs_c", "user:alice", 900, "paid"))
			// Two different events about one session (completed, then async
			// success), each delivered several times, all at once.
			other := event("evt_c2", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, now, topUpSession("cs_c", "user:alice", 900, "paid"))
			var wg sync.WaitGroup
			statuses := make([]int, 8)
			for i := range statuses {
				wg.Go(func() {
					body := same
					if i%2 == 1 {
						body = other
					}
					statuses[i], _ = env.deliver(t, body, testSecret, now)
				})
			}
			wg.Wait()
			for i, s := range statuses {
				if s != http.StatusOK {
					t.Errorf("delivery %d: %d, want 200", i, s)
				}
			}
			if b := env.credits.Balance("user:alice"); b != 900*ledger.Micro {
				t.Fatalf("balance %d, want one top-up of %d", b, 900*ledger.Micro)
			}
			// Each event id reached billing once; the session's key made the second a no-op.
			if calls := env.credits.Calls(); len(calls) != 2 {
				t.Fatalf("billing calls %v, want one per event id", calls)
			}
		})
	}
}

func TestWebhookSubscriptionOrder(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			env := newEnv(t, e, Options{})
			t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
			deliver := func(id string, typ stripe.EventType, at time.Time, obj map[string]any) {
				t.Helper()
				if status, out := env.deliver(t, event(id, typ, at, obj), testSecret, time.Now()); status != http.StatusOK {
					t.Fatalf("%s: %d %v", id, status, out)
				}
			}
			cs := map[string]any{"id": "cs_s", "object": "checkout.session", "mode": "subscription", "status": "complete",
				"payment_status": "paid", "customer": "cus_test", "subscription": "sub_1",
				"metadata": map[string]string{"payer": "user:alice", "kind": "subscription", "plan": "pro"}}
			deliver("evt_s0", stripe.EventTypeCheckoutSessionCompleted, t0, cs)
			if p := env.credits.Plan("user:alice"); p != "pro" {
				t.Fatalf("after checkout: plan %q, want pro", p)
			}
			// Upgraded at t0+2m; the t0+1m update (still pro) arrives after it.
			deliver("evt_s2", stripe.EventTypeCustomerSubscriptionUpdated, t0.Add(2*time.Minute), subscription("sub_1", "user:alice", "active", "price_team"))
			deliver("evt_s1", stripe.EventTypeCustomerSubscriptionUpdated, t0.Add(time.Minute), subscription("sub_1", "user:alice", "active", "price_pro"))
			if p := env.credits.Plan("user:alice"); p != "team" {
				t.Fatalf("after out-of-order updates: plan %q, want team", p)
			}
			want := []string{"plan user:alice pro", "plan user:alice team"}
			if calls := env.credits.Calls(); !slices.Equal(calls, want) {
				t.Fatalf("billing calls %v, want %v (the older update never reaches billing)", calls, want)
			}
			// Cancelled: back to the default plan.
			deliver("evt_s3", stripe.EventTypeCustomerSubscriptionDeleted, t0.Add(3*time.Minute), subscription("sub_1", "user:alice", "canceled", "price_team"))
			if p := env.credits.Plan("user:alice"); p != "free" {
				t.Fatalf("after cancel: plan %q, want free", p)
			}
			// A new subscription; then a late event that ends the old one changes nothing.
			deliver("evt_s4", stripe.EventTypeCustomerSubscriptionCreated, t0.Add(4*time.Minute), subscription("sub_2", "user:alice", "active", "price_pro"))
			deliver("evt_s5", stripe.EventTypeCustomerSubscriptionUpdated, t0.Add(5*time.Minute), subscription("sub_1", "user:alice", "unpaid", "price_team"))
			if p := env.credits.Plan("user:alice"); p != "pro" {
				t.Fatalf("after the old subscription's late event: plan %q, want pro", p)
			}
			// Unpaid on the current one ends it.
			deliver("evt_s6", stripe.EventTypeCustomerSubscriptionUpdated, t0.Add(6*time.Minute), subscription("sub_2", "user:alice", "unpaid", "price_pro"))
			if p := env.credits.Plan("user:alice"); p != "free" {
				t.Fatalf("after unpaid: plan %q, want free", p)
			}
		})
	}
}

func signed(payload []byte, secret string, ts time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: ts}).Header
}

func codeOf(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Code
	}
	return ""
}

func countEvents(t *testing.T, env *env) int {
	t.Helper()
	var n int
	if err := env.db.Get(context.Background(), &n, `SELECT COUNT(*) FROM stripe_events`); err != nil {
		t.Fatal(err)
	}
	return n
}
