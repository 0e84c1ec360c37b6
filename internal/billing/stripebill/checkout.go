package stripebill

import (
	"context"
	"strconv"

	"github.com/stripe/stripe-go/v82"

	"ecode/internal/errs"
	"ecode/internal/store"
)

// CheckoutRequest asks for a top-up of Credits whole credits, or for a
// subscription to Plan; exactly one of the two.
type CheckoutRequest struct {
	Credits int64
	Plan    string
}

// Metadata keys on Checkout sessions and subscriptions: what the webhook
// reads back to know whom to credit and for what.
const (
	metaPayer   = "payer"
	metaKind    = "kind"
	metaCredits = "credits"
	metaPlan    = "plan"
	kindTopUp   = "topup"
	kindPlan    = "subscription"
)

// Checkout opens a Stripe Checkout session for payer and returns its URL.
func (s *Service) Checkout(ctx context.Context, payer, email string, in CheckoutRequest) (string, error) {
	if s.sc == nil {
		return "", notConfigured()
	}
	switch {
	case (in.Credits != 0) == (in.Plan != ""):
		return "", errs.Invalid("checkout_invalid", "Ask for either credits (a top-up) or a plan (a subscription).")
	case in.Plan != "":
		return s.subscribe(ctx, payer, email, in.Plan)
	}
	if in.Credits < s.opts.MinCredits {
		return "", errs.Invalid("credits_too_few", "A top-up is at least %d credits.", s.opts.MinCredits)
	}
	if in.Credits > maxCents/s.opts.CentsPerCredit {
		return "", errs.Invalid("credits_too_many", "A top-up is at most %d credits.", maxCents/s.opts.CentsPerCredit)
	}
	customer, err := s.customer(ctx, payer, email)
	if err != nil {
		return "", err
	}
	credits := strconv.FormatInt(in.Credits, 10)
	meta := map[string]string{metaPayer: payer, metaKind: kindTopUp, metaCredits: credits}
	sess, err := s.sc.V1CheckoutSessions.Create(ctx, &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		Customer:          stripe.String(customer),
		ClientReferenceID: stripe.String(payer),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:   stripe.String(string(stripe.CurrencyUSD)),
				UnitAmount: stripe.Int64(in.Credits * s.opts.CentsPerCredit),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{
					Name: stripe.String(credits + " E-Code credits"),
				},
			},
			Quantity: stripe.Int64(1),
		}},
		Metadata:          meta,
		PaymentIntentData: &stripe.CheckoutSessionCreatePaymentIntentDataParams{Metadata: meta},
		SuccessURL:        stripe.String(s.opts.PublicURL + "/usage?checkout=done"),
		CancelURL:         stripe.String(s.opts.PublicURL + "/usage"),
	})
	if err != nil {
		return "", stripeUnavailable("create checkout session", err)
	}
	return sess.URL, nil
}

func (s *Service) subscribe(ctx context.Context, payer, email, planID string) (string, error) {
	p, ok := s.plan(planID)
	if !ok {
		return "", errs.Invalid("unknown_plan", "There is no plan %q.", planID)
	}
	if p.StripePrice == "" {
		return "", errs.Invalid("plan_not_for_sale", "The %s plan cannot be bought through Stripe.", p.ID)
	}
	if cur, ok, err := subscriptionOf(ctx, s.db, payer); err != nil {
		return "", err
	} else if ok && activeStatus(cur.Status) {
		return "", errs.Conflict("already_subscribed", "There is a subscription already (%s); change or cancel it in the billing portal.", cur.Plan)
	}
	customer, err := s.customer(ctx, payer, email)
	if err != nil {
		return "", err
	}
	meta := map[string]string{metaPayer: payer, metaKind: kindPlan, metaPlan: p.ID}
	sess, err := s.sc.V1CheckoutSessions.Create(ctx, &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		Customer:          stripe.String(customer),
		ClientReferenceID: stripe.String(payer),
		LineItems:         []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(p.StripePrice), Quantity: stripe.Int64(1)}},
		Metadata:          meta,
		// The subscription's own events carry the payer too.
		SubscriptionData: &stripe.CheckoutSessionCreateSubscriptionDataParams{Metadata: meta},
		SuccessURL:       stripe.String(s.opts.PublicURL + "/usage?checkout=done"),
		CancelURL:        stripe.String(s.opts.PublicURL + "/usage"),
	})
	if err != nil {
		return "", stripeUnavailable("create checkout session", err)
	}
	return sess.URL, nil
}

// Portal opens a billing portal session for payer's customer: payment
// methods, invoices, the subscription.
func (s *Service) Portal(ctx context.Context, payer string) (string, error) {
	if s.sc == nil {
		return "", notConfigured()
	}
	customer, err := customerOf(ctx, s.db, payer)
	if err != nil {
		return "", err
	}
	if customer == "" {
		return "", errs.NotFound("no_stripe_customer", "Nothing has been paid through Stripe yet: buy credits or a plan first.")
	}
	sess, err := s.sc.V1BillingPortalSessions.Create(ctx, &stripe.BillingPortalSessionCreateParams{
		Customer:  stripe.String(customer),
		ReturnURL: stripe.String(s.opts.PublicURL + "/usage"),
	})
	if err != nil {
		return "", stripeUnavailable("create portal session", err)
	}
	return sess.URL, nil
}

// customer returns payer's Stripe customer, creating it on first use. The
// idempotency key makes two concurrent first checkouts one customer.
func (s *Service) customer(ctx context.Context, payer, email string) (string, error) {
	id, err := customerOf(ctx, s.db, payer)
	if err != nil || id != "" {
		return id, err
	}
	params := &stripe.CustomerCreateParams{Metadata: map[string]string{metaPayer: payer}}
	if email != "" {
		params.Email = stripe.String(email)
	}
	params.SetIdempotencyKey("ecode-customer-" + payer)
	c, err := s.sc.V1Customers.Create(ctx, params)
	if err != nil {
		return "", stripeUnavailable("create customer", err)
	}
	return saveCustomer(ctx, s.db, payer, c.ID, store.Now())
}

func activeStatus(status string) bool {
	return status == string(stripe.SubscriptionStatusActive) || status == string(stripe.SubscriptionStatusTrialing) ||
		status == string(stripe.SubscriptionStatusPastDue)
}
