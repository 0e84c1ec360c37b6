package stripebill

import (
	"errors"
	"io"
	"net/http"

	"ecode/internal/errs"
	"ecode/internal/httpx"
)

// maxWebhookBody bounds a webhook delivery; Stripe's events are far smaller.
const maxWebhookBody = 64 << 10

// Routes registers checkout, the portal and the webhook. The webhook has no
// session: its signature is its authentication, so the server exempts it
// from cross-origin protection.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("POST /api/billing/checkout", s.handleCheckout)
	rt.HandleFunc("POST /api/billing/portal", s.handlePortal)
	rt.HandleFunc("POST /api/billing/stripe/webhook", s.handleWebhook)
}

func (s *Service) handleCheckout(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Team    string `json:"team"`
		Credits int64  `json:"credits"`
		Plan    string `json:"plan"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	payer, email, err := s.payers.Payer(r, in.Team)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	url, err := s.Checkout(r.Context(), payer, email, CheckoutRequest{Credits: in.Credits, Plan: in.Plan})
	httpx.Reply(w, r, http.StatusOK, map[string]string{"url": url}, err)
}

func (s *Service) handlePortal(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Team string `json:"team"`
	}
	// The body is optional: a person's own portal needs nothing.
	if r.ContentLength != 0 {
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
	}
	payer, _, err := s.payers.Payer(r, in.Team)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	url, err := s.Portal(r.Context(), payer)
	httpx.Reply(w, r, http.StatusOK, map[string]string{"url": url}, err)
}

func (s *Service) handleWebhook(w http.ResponseWriter, r *http.Request) {
	// The signature covers the exact bytes: read them once, bounded, and
	// hand them over unparsed.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		httpx.Error(w, r, errs.TooLarge("body_too_large", "A webhook body is at most %d bytes.", maxWebhookBody))
		return
	case err != nil:
		httpx.Error(w, r, errs.Invalid("invalid_event", "The webhook body could not be read.").With(err))
		return
	}
	_, err = s.Webhook(r.Context(), body, r.Header.Get("Stripe-Signature"))
	httpx.Reply(w, r, http.StatusOK, map[string]bool{"received": true}, err)
}
