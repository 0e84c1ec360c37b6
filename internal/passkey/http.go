package passkey

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"

	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
)

type handlers struct{ svc *Service }

// Routes mounts the passkey management routes (for the signed-in owner)
// and the login ceremonies (for anyone, or the pending login).
func (s *Service) Routes(rt *httpx.Router) {
	h := handlers{svc: s}
	rt.HandleFunc("GET /api/passkeys", h.list)
	rt.HandleFunc("POST /api/passkeys/register/begin", h.beginRegistration)
	rt.HandleFunc("POST /api/passkeys/register/finish", h.finishRegistration)
	rt.HandleFunc("PATCH /api/passkeys/{id}", h.rename)
	rt.HandleFunc("DELETE /api/passkeys/{id}", h.remove)
	rt.HandleFunc("GET /api/auth/passkey", h.availability)
	rt.HandleFunc("POST /api/auth/passkey/begin", beginLogin(s.BeginLogin))
	rt.HandleFunc("POST /api/auth/passkey/finish", finishLogin(s.FinishLogin))
	rt.HandleFunc("POST /api/auth/second-factor/begin", beginLogin(s.BeginSecondFactor))
	rt.HandleFunc("POST /api/auth/second-factor/finish", finishLogin(s.FinishSecondFactor))
	rt.HandleFunc("PUT /api/auth/second-factor", h.setRequired)
}

// maxAnswer bounds a browser's credential JSON; attestation certificates
// make the largest, a few kilobytes.
const maxAnswer = 64 << 10

// answer reads the browser's credential JSON as it came, for the WebAuthn
// parser: it must see the exact bytes.
func answer(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAnswer))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errs.TooLarge("body_too_large", "The request body is larger than %d bytes.", maxAnswer)
	}
	if err != nil {
		return nil, errUnreadable.With(err)
	}
	return body, nil
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	if u := auth.Require(w, r); u != nil {
		list, err := h.svc.List(r.Context(), u)
		httpx.Reply(w, r, http.StatusOK, map[string]any{"passkeys": list}, err)
	}
}

// named reads {"name": ...}, answering the error itself when it cannot.
func named(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Name string `json:"name"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return "", false
	}
	return in.Name, true
}

func (h handlers) beginRegistration(w http.ResponseWriter, r *http.Request) {
	if u := auth.Require(w, r); u != nil {
		if name, ok := named(w, r); ok {
			options, err := h.svc.BeginRegistration(r.Context(), u, name)
			httpx.Reply(w, r, http.StatusOK, options, err)
		}
	}
}

func (h handlers) finishRegistration(w http.ResponseWriter, r *http.Request) {
	u := auth.Require(w, r)
	if u == nil {
		return
	}
	body, err := answer(w, r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := h.svc.FinishRegistration(r.Context(), u, body)
	httpx.Reply(w, r, http.StatusCreated, map[string]any{"passkey": p}, err)
}

func (h handlers) rename(w http.ResponseWriter, r *http.Request) {
	if u := auth.Require(w, r); u != nil {
		if name, ok := named(w, r); ok {
			p, err := h.svc.Rename(r.Context(), u, r.PathValue("id"), name)
			httpx.Reply(w, r, http.StatusOK, map[string]any{"passkey": p}, err)
		}
	}
}

func (h handlers) remove(w http.ResponseWriter, r *http.Request) {
	u := auth.Require(w, r)
	if u == nil {
		return
	}
	if err := h.svc.Delete(r.Context(), u, r.PathValue("id")); err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// beginLogin answers a login ceremony's options for the browser.
func beginLogin(begin func(context.Context) (*protocol.CredentialAssertion, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		options, err := begin(r.Context())
		httpx.Reply(w, r, http.StatusOK, options, err)
	}
}

// finishLogin hands the browser's answer to finish and answers with the
// account it logged in.
func finishLogin(finish func(context.Context, *http.Request, []byte) (*auth.User, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := answer(w, r)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		u, err := finish(r.Context(), r, body)
		httpx.Reply(w, r, http.StatusOK, map[string]any{"user": u}, err)
	}
}

func (h handlers) setRequired(w http.ResponseWriter, r *http.Request) {
	u := auth.Require(w, r)
	if u == nil {
		return
	}
	var in struct {
		Required *bool `json:"required"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	if in.Required == nil {
		httpx.Error(w, r, errs.Invalid("invalid_required", "Send {\"required\": true} or {\"required\": false}."))
		return
	}
	next, err := h.svc.SetRequired(r.Context(), u, *in.Required)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"user": next}, err)
}

// availability tells the sign-in page whether to offer passkeys here, send
// the browser to the origin where they work, or say how to turn them on.
func (h handlers) availability(w http.ResponseWriter, r *http.Request) {
	httpx.JSON(w, http.StatusOK, h.svc.Availability())
}
