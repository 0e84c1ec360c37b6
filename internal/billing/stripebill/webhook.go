package stripebill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"ecode/internal/errs"
	"ecode/internal/ledger"
	"ecode/internal/store"
)

const (
	// staleClaim is how long an unfinished claim on an event blocks others:
	// past it, the worker is taken to have died and a retry runs the effect
	// (which is idempotent on its own).
	staleClaim = 2 * time.Minute
	// inFlightWait is how long a duplicate waits for the claim's outcome
	// before answering 409, so that Stripe retries it later.
	inFlightWait = 5 * time.Second
)

// Webhook verifies and applies one webhook delivery. duplicate is true when
// the event had taken effect already.
func (s *Service) Webhook(ctx context.Context, payload []byte, signature string) (duplicate bool, err error) {
	if s.opts.WebhookSecret == "" {
		return false, notConfigured()
	}
	ev, err := webhook.ConstructEventWithOptions(payload, signature, s.opts.WebhookSecret,
		webhook.ConstructEventOptions{Tolerance: s.opts.Tolerance, IgnoreAPIVersionMismatch: true})
	switch {
	case errors.Is(err, webhook.ErrTooOld):
		return false, errs.Invalid("bad_signature", "The Stripe-Signature timestamp is older than %s; a replayed delivery is refused.", s.opts.Tolerance).With(err)
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader), errors.Is(err, webhook.ErrNoValidSignature):
		return false, errs.Invalid("bad_signature", "The Stripe-Signature header does not match this body and the endpoint's signing secret.").With(err)
	case err != nil:
		return false, errs.Invalid("invalid_event", "The webhook body is not a Stripe event.").With(err)
	}
	// The same rule stripe-go applies: objects are decoded as its pinned
	// version shapes them, which holds within one release train.
	if !sameTrain(stripe.APIVersion, ev.APIVersion) {
		return false, errs.Invalid("stripe_api_version",
			"The event is rendered for Stripe API version %q, but this server reads %s: set the webhook endpoint's API version to %s.",
			ev.APIVersion, stripe.APIVersion, stripe.APIVersion)
	}
	if ev.ID == "" || ev.Data == nil {
		return false, errs.Invalid("invalid_event", "The webhook body is not a Stripe event.")
	}
	if !handled(ev.Type) {
		s.log.Debug("stripe event ignored", "event", ev.ID, "type", ev.Type)
		return false, nil
	}
	return s.once(ctx, &ev)
}

func sameTrain(sdk, event string) bool {
	_, want, _ := strings.Cut(sdk, ".")
	_, got, ok := strings.Cut(event, ".")
	return ok && got == want
}

func handled(t stripe.EventType) bool {
	switch t {
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded,
		stripe.EventTypeCustomerSubscriptionCreated, stripe.EventTypeCustomerSubscriptionUpdated,
		stripe.EventTypeCustomerSubscriptionDeleted, stripe.EventTypeInvoicePaid:
		return true
	}
	return false
}

// once applies ev unless its id has taken effect: it claims the id, runs the
// effect and marks it processed; a failed effect gives the claim back so
// Stripe's retry runs it again.
func (s *Service) once(ctx context.Context, ev *stripe.Event) (bool, error) {
	claim := store.NewID()
	created := time.Unix(ev.Created, 0).UnixMilli()
	ok, err := insertClaim(ctx, s.db, ev.ID, string(ev.Type), created, claim, store.Now())
	if err != nil {
		return false, err
	}
	if !ok {
		if done, err := s.awaitClaim(ctx, ev, created, claim); err != nil || done {
			return done, err
		}
	}
	if err := s.apply(ctx, ev); err != nil {
		if rerr := releaseClaim(context.WithoutCancel(ctx), s.db, ev.ID, claim); rerr != nil {
			s.log.Error("release stripe event", "event", ev.ID, "err", rerr)
		}
		return false, fmt.Errorf("stripe event %s (%s): %w", ev.ID, ev.Type, err)
	}
	return false, markProcessed(context.WithoutCancel(ctx), s.db, ev.ID, claim, store.Now())
}

// awaitClaim handles an event someone else claimed: true when it has taken
// effect; false once this call holds the claim (the other gave it back or
// died); 409 when the other is still working after s.inFlightWait.
func (s *Service) awaitClaim(ctx context.Context, ev *stripe.Event, created int64, claim string) (bool, error) {
	id := ev.ID
	deadline := time.Now().Add(s.inFlightWait)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		row, ok, err := eventByID(ctx, s.db, id)
		if err != nil {
			return false, err
		}
		switch {
		case !ok:
			// Given back after a failure: claim it afresh.
			if ok, err := insertClaim(ctx, s.db, id, string(ev.Type), created, claim, store.Now()); err != nil || ok {
				return false, err
			}
			continue
		case row.ProcessedAt.Valid:
			return true, nil
		case time.Since(time.UnixMilli(row.ClaimedAt)) > staleClaim:
			if ok, err := takeOver(ctx, s.db, id, row.Claim, claim, store.Now()); err != nil || ok {
				return false, err
			}
			continue
		}
		if time.Now().After(deadline) {
			return false, errs.Conflict("stripe_event_in_flight", "This event is being processed by another delivery; retry later.")
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (s *Service) apply(ctx context.Context, ev *stripe.Event) error {
	at := time.Unix(ev.Created, 0)
	switch ev.Type {
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		var cs stripe.CheckoutSession
		if err := json.Unmarshal(ev.Data.Raw, &cs); err != nil {
			return fmt.Errorf("decode checkout session: %w", err)
		}
		return s.checkoutCompleted(ctx, &cs, at)
	case stripe.EventTypeCustomerSubscriptionCreated, stripe.EventTypeCustomerSubscriptionUpdated,
		stripe.EventTypeCustomerSubscriptionDeleted:
		var sub stripe.Subscription
		if err := json.Unmarshal(ev.Data.Raw, &sub); err != nil {
			return fmt.Errorf("decode subscription: %w", err)
		}
		return s.subscriptionChanged(ctx, &sub, ev.Type == stripe.EventTypeCustomerSubscriptionDeleted, at)
	case stripe.EventTypeInvoicePaid:
		var inv stripe.Invoice
		if err := json.Unmarshal(ev.Data.Raw, &inv); err != nil {
			return fmt.Errorf("decode invoice: %w", err)
		}
		// Plans move with the subscription's events; an invoice only informs.
		s.log.Info("stripe invoice paid", "invoice", inv.ID, "amount", inv.AmountPaid, "currency", inv.Currency)
	}
	return nil
}

// checkoutCompleted credits a paid top-up or starts a paid subscription.
// A session that is not paid yet (a bank debit) waits for its
// async_payment_succeeded event.
func (s *Service) checkoutCompleted(ctx context.Context, cs *stripe.CheckoutSession, at time.Time) error {
	payer := cs.Metadata[metaPayer]
	if payer == "" {
		s.log.Warn("stripe checkout without payer ignored", "session", cs.ID)
		return nil
	}
	paid := cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid ||
		(cs.Mode == stripe.CheckoutSessionModeSubscription && cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusNoPaymentRequired)
	if !paid {
		s.log.Info("stripe checkout not paid yet", "session", cs.ID, "payment_status", cs.PaymentStatus)
		return nil
	}
	switch cs.Metadata[metaKind] {
	case kindTopUp:
		credits, err := strconv.ParseInt(cs.Metadata[metaCredits], 10, 64)
		if err != nil || credits <= 0 || credits > maxCents {
			return fmt.Errorf("checkout session %s: bad credits %q", cs.ID, cs.Metadata[metaCredits])
		}
		// The key is the session, not the event: completed and
		// async_payment_succeeded of one session credit once.
		_, err = s.credits.TopUp(ctx, payer, credits*ledger.Micro, "stripe:checkout:"+cs.ID,
			fmt.Sprintf("Top-up of %d credits (Stripe %s)", credits, cs.ID))
		if err != nil {
			return fmt.Errorf("top up %s: %w", payer, err)
		}
		s.log.Info("stripe top-up credited", "payer", payer, "credits", credits, "session", cs.ID)
		return nil
	case kindPlan:
		planID := cs.Metadata[metaPlan]
		if _, ok := s.plan(planID); !ok {
			return fmt.Errorf("checkout session %s: unknown plan %q", cs.ID, planID)
		}
		subID := ""
		if cs.Subscription != nil {
			subID = cs.Subscription.ID
		}
		return s.setPlan(ctx, subscriptionRow{Payer: payer, SubscriptionID: subID,
			Status: string(stripe.SubscriptionStatusActive), Plan: planID}, at)
	}
	s.log.Warn("stripe checkout of unknown kind ignored", "session", cs.ID, "kind", cs.Metadata[metaKind])
	return nil
}

// subscriptionChanged follows a subscription's status: live statuses give
// the plan of its price, ended ones the default plan.
func (s *Service) subscriptionChanged(ctx context.Context, sub *stripe.Subscription, deleted bool, at time.Time) error {
	payer := sub.Metadata[metaPayer]
	if payer == "" && sub.Customer != nil {
		p, err := payerOfCustomer(ctx, s.db, sub.Customer.ID)
		if err != nil {
			return err
		}
		payer = p
	}
	if payer == "" {
		s.log.Warn("stripe subscription of unknown payer ignored", "subscription", sub.ID)
		return nil
	}
	status := string(sub.Status)
	if deleted {
		status = string(stripe.SubscriptionStatusCanceled)
	}
	var plan string
	switch {
	case activeStatus(status):
		plan = s.subscriptionPlan(sub)
		if plan == "" {
			return fmt.Errorf("subscription %s: no plan has its price", sub.ID)
		}
	case status == string(stripe.SubscriptionStatusIncomplete):
		return nil // the first payment is still due; checkout's event starts it
	default: // canceled, unpaid, incomplete_expired, paused
		plan = s.defaultPlan(payer)
	}
	return s.setPlan(ctx, subscriptionRow{Payer: payer, SubscriptionID: sub.ID, Status: status, Plan: plan}, at)
}

func (s *Service) subscriptionPlan(sub *stripe.Subscription) string {
	if sub.Items != nil {
		for _, it := range sub.Items.Data {
			if it != nil && it.Price != nil {
				if p, ok := s.planOfPrice(it.Price.ID); ok {
					return p.ID
				}
			}
		}
	}
	if p, ok := s.plan(sub.Metadata[metaPlan]); ok {
		return p.ID
	}
	return ""
}

// setPlan applies r as of at unless a newer event has been applied.
func (s *Service) setPlan(ctx context.Context, r subscriptionRow, at time.Time) error {
	r.EventAt, r.UpdatedAt = at.UnixMilli(), store.Now()
	applied, err := applySubscription(ctx, s.db, r)
	if err != nil {
		return err
	}
	if !applied {
		s.log.Info("stripe subscription event older than the applied one", "payer", r.Payer, "subscription", r.SubscriptionID, "status", r.Status)
		return nil
	}
	if err := s.credits.SetPlan(ctx, r.Payer, r.Plan, at); err != nil {
		return fmt.Errorf("set plan of %s: %w", r.Payer, err)
	}
	s.log.Info("stripe plan applied", "payer", r.Payer, "plan", r.Plan, "status", r.Status, "subscription", r.SubscriptionID)
	return nil
}
