package stripebill

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"

	"ecode/internal/billing"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/ledger"
	"ecode/internal/store/testdb"
)

var _ Credits = (*billing.Service)(nil)

// nobody stands in for the projects and people billing asks about; the
// flows below never reach them.
type nobody struct{}

func (nobody) Owner(context.Context, string) (string, string, string, error) {
	return "", "", "", errs.NotFound("not_found", "no project")
}
func (nobody) Emails(context.Context, []string) (map[string]string, error) { return nil, nil }
func (nobody) Username(context.Context, string) (string, error) {
	return "", errs.NotFound("not_found", "nobody")
}
func (nobody) UserByName(context.Context, string) (string, error) {
	return "", errs.NotFound("not_found", "nobody")
}
func (nobody) TeamAdmins(context.Context, string) ([]string, error) { return nil, nil }
func (nobody) TeamRole(context.Context, string, string) (string, error) {
	return "", errs.NotFound("not_found", "nobody")
}
func (nobody) TeamByName(context.Context, string) (string, error) {
	return "", errs.NotFound("not_found", "nobody")
}
func (nobody) TeamName(context.Context, string) (string, error) {
	return "", errs.NotFound("not_found", "nobody")
}

// TestWebhooksThroughLedger runs deliveries into the real billing service
// and ledger: duplicates at once credit once, the books balance, and an
// old subscription event arriving late leaves the newer plan.
func TestWebhooksThroughLedger(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := testdb.Open(t, e)
			cat := billing.DefaultCatalog()
			var plans []Plan
			for i := range cat.Plans {
				if cat.Plans[i].ID != cat.DefaultPlan {
					cat.Plans[i].StripePrice = "price_" + cat.Plans[i].ID
				}
				plans = append(plans, Plan{ID: cat.Plans[i].ID, StripePrice: cat.Plans[i].StripePrice})
			}
			bill := billing.New(db, nobody{}, nobody{}, nil, nil, billing.Options{Catalog: cat})
			svc := New(db, bill, payers{}, Options{WebhookSecret: testSecret, Plans: plans,
				DefaultPlan: cat.DefaultPlan, DefaultTeamPlan: cat.DefaultTeamPlan})
			rt := httpx.NewRouter()
			svc.Routes(rt)
			env := &env{svc: svc, db: db}
			env.srv = newServer(t, rt)
			ctx := context.Background()

			start, err := bill.Summary(ctx, "user:alice")
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			completed := event("evt_l1", stripe.EventTypeCheckoutSessionCompleted, now, topUpSession("cs_l", "user:alice", 900, "paid"))
			async := event("evt_l2", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, now, topUpSession("cs_l", "user:alice", 900, "paid"))
			var wg sync.WaitGroup
			statuses := make([]int, 10)
			for i := range statuses {
				wg.Go(func() {
					body := completed
					if i%2 == 1 {
						body = async
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
			sum, err := bill.Summary(ctx, "user:alice")
			if err != nil {
				t.Fatal(err)
			}
			if sum.ToppedUp != 900*ledger.Micro || sum.Balance != start.Balance+900*ledger.Micro {
				t.Fatalf("after the top-up: toppedUp %d, balance %d; want %d and %d",
					sum.ToppedUp, sum.Balance, 900*ledger.Micro, start.Balance+900*ledger.Micro)
			}
			if rep, err := bill.Reconcile(ctx); err != nil || !rep.OK() {
				t.Fatalf("reconcile: %+v, %v", rep, err)
			}

			// Subscribed at t0, cancelled at t0+2m; the t0+1m update arrives last.
			t0 := now.Add(-time.Hour).Truncate(time.Second)
			cs := map[string]any{"id": "cs_p", "object": "checkout.session", "mode": "subscription", "status": "complete",
				"payment_status": "paid", "customer": "cus_test", "subscription": "sub_l",
				"metadata": map[string]string{"payer": "user:alice", "kind": "subscription", "plan": "pro"}}
			for _, d := range []struct {
				id  string
				typ stripe.EventType
				at  time.Time
				obj map[string]any
			}{
				{"evt_p0", stripe.EventTypeCheckoutSessionCompleted, t0, cs},
				{"evt_p2", stripe.EventTypeCustomerSubscriptionDeleted, t0.Add(2 * time.Minute), subscription("sub_l", "user:alice", "canceled", "price_pro")},
				{"evt_p1", stripe.EventTypeCustomerSubscriptionUpdated, t0.Add(time.Minute), subscription("sub_l", "user:alice", "active", "price_pro")},
			} {
				if status, out := env.deliver(t, event(d.id, d.typ, d.at, d.obj), testSecret, now); status != http.StatusOK {
					t.Fatalf("%s: %d %v", d.id, status, out)
				}
				if d.id == "evt_p0" {
					if sum, err := bill.Summary(ctx, "user:alice"); err != nil || sum.Plan.ID != "pro" {
						t.Fatalf("after checkout: plan %+v, %v; want pro", sum.Plan, err)
					}
				}
			}
			if sum, err := bill.Summary(ctx, "user:alice"); err != nil || sum.Plan.ID != cat.DefaultPlan {
				t.Fatalf("after a late update of a cancelled subscription: plan %+v, %v; want %s", sum.Plan, err, cat.DefaultPlan)
			}
			if rep, err := bill.Reconcile(ctx); err != nil || !rep.OK() {
				t.Fatalf("reconcile: %+v, %v", rep, err)
			}
		})
	}
}
