package stripebill

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v82"

	"ecode/internal/store"
)

// meterWindow is how far back meter events go: Stripe takes timestamps up
// to 35 days old.
const meterWindow = 34 * 24 * time.Hour

// Run reports usage to Billing Meters every Interval until ctx ends.
func (s *Service) Run(ctx context.Context) {
	if s.sc == nil {
		return
	}
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		if n, err := s.ReportUsage(ctx); err != nil {
			s.log.Error("stripe meter report", "err", err)
		} else if n > 0 {
			s.log.Info("stripe meter events sent", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReportUsage sends each payer's finished hours not yet reported as meter
// events and returns how many it sent. An event's value is the hour's
// charges in micro-credits, exact (no rounding); the meter's price is per
// micro-credit accordingly (CentsPerCredit / 1,000,000 cents, a
// unit_amount_decimal). Its identifier "<customer>:credits:<hour unix>"
// makes a resend after a crash one event at Stripe too.
func (s *Service) ReportUsage(ctx context.Context) (int, error) {
	if s.sc == nil {
		return 0, notConfigured()
	}
	customers, err := listCustomers(ctx, s.db)
	if err != nil {
		return 0, err
	}
	now := s.opts.Now()
	end := now.Add(-s.opts.MeterDelay).Truncate(time.Hour) // hours before end are final
	earliest := now.Add(-meterWindow).Truncate(time.Hour).Add(time.Hour)
	sent := 0
	var firstErr error
	for _, c := range customers {
		from := time.UnixMilli(c.CreatedAt).Truncate(time.Hour)
		if from.Before(earliest) {
			from = earliest
		}
		n, err := s.reportCustomer(ctx, c, from, end)
		sent += n
		if err != nil {
			// One payer's failure does not hold up the others.
			s.log.Error("stripe meter report", "payer", c.Payer, "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return sent, firstErr
}

func (s *Service) reportCustomer(ctx context.Context, c customerRow, from, end time.Time) (int, error) {
	if !from.Before(end) {
		return 0, nil
	}
	charges, err := s.credits.HourlyCharges(ctx, c.Payer, from, end)
	if err != nil {
		return 0, fmt.Errorf("hourly charges of %s: %w", c.Payer, err)
	}
	done, err := reportedSince(ctx, s.db, c.CustomerID, from.UnixMilli())
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, ch := range charges {
		hour := ch.Hour.Truncate(time.Hour)
		if ch.Amount <= 0 || hour.Before(from) || !hour.Before(end) {
			continue
		}
		id := c.CustomerID + ":credits:" + strconv.FormatInt(hour.Unix(), 10)
		if done[id] {
			continue
		}
		params := &stripe.BillingMeterEventCreateParams{
			EventName:  stripe.String(s.opts.MeterEvent),
			Identifier: stripe.String(id),
			Payload:    map[string]string{"stripe_customer_id": c.CustomerID, "value": strconv.FormatInt(ch.Amount, 10)},
			Timestamp:  stripe.Int64(hour.Unix()),
		}
		params.SetIdempotencyKey("ecode-meter-" + id)
		if _, err := s.sc.V1BillingMeterEvents.Create(ctx, params); err != nil {
			return sent, fmt.Errorf("stripe meter event %s: %w", id, err)
		}
		if err := saveReport(ctx, s.db, id, c.CustomerID, hour.UnixMilli(), ch.Amount, store.Now()); err != nil {
			return sent, err
		}
		done[id] = true
		sent++
	}
	return sent, nil
}
