package auth

import (
	"errors"
	"net/http"

	"ecode/internal/errs"
	"ecode/internal/httpx"
)

type handlers struct{ svc *Service }

// Routes mounts the account, session and token routes.
func (s *Service) Routes(rt *httpx.Router) {
	h := handlers{svc: s}
	rt.HandleFunc("POST /api/auth/signup", h.signup)
	rt.HandleFunc("POST /api/auth/login", h.login)
	rt.HandleFunc("POST /api/auth/logout", h.logout)
	rt.HandleFunc("GET /api/auth/me", h.me)
	rt.HandleFunc("PATCH /api/auth/me", h.updateMe)
	rt.HandleFunc("DELETE /api/auth/me", h.deleteMe)
	rt.HandleFunc("POST /api/auth/password", h.changePassword)
	rt.HandleFunc("GET /api/auth/sessions", h.listSessions)
	rt.HandleFunc("DELETE /api/auth/sessions", h.endOtherSessions)
	rt.HandleFunc("DELETE /api/auth/sessions/{id}", h.endSession)
	rt.HandleFunc("POST /api/tokens", h.createToken)
	rt.HandleFunc("GET /api/tokens", h.listTokens)
	rt.HandleFunc("DELETE /api/tokens/{id}", h.revokeToken)
	rt.HandleFunc("DELETE /api/tokens/current", h.revokeCurrentToken)
	rt.HandleFunc("POST /api/auth/device/code", h.startDeviceLogin)
	rt.HandleFunc("POST /api/auth/device/token", h.pollDeviceLogin)
	rt.HandleFunc("GET /api/auth/device", h.pendingDeviceLogin)
	rt.HandleFunc("POST /api/auth/device/approve", h.decideDeviceLogin)
}

func (h handlers) signup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	u, err := h.svc.signup(r.Context(), r, in.Username, in.Email, in.Password)
	if err != nil {
		fail(w, r, err)
		return
	}
	h.svc.rememberDevice(w, u)
	httpx.JSON(w, http.StatusCreated, map[string]any{"user": u})
}

func (h handlers) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	u, err := h.svc.login(r.Context(), r, in.Login, in.Password)
	if err == errSecondFactor {
		// The password was right; the client asks the security key next.
		// Knowing the password is what the device cookie vouches for.
		h.svc.rememberDevice(w, u)
		httpx.JSON(w, http.StatusOK, map[string]any{"user": nil, "secondFactor": "webauthn", "username": u.Username})
		return
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	h.svc.rememberDevice(w, u)
	httpx.JSON(w, http.StatusOK, map[string]any{"user": u})
}

// fail answers err, saying when to try again if it is a rate limit.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	var lim *limited
	if errors.As(err, &lim) {
		w.Header().Set("Retry-After", lim.RetryAfter())
	}
	httpx.Error(w, r, err)
}

func (h handlers) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.Sessions.Destroy(r.Context()); err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Require returns the caller, or answers 401 and returns nil when anonymous.
func Require(w http.ResponseWriter, r *http.Request) *User {
	u := Actor(r)
	if u == nil {
		httpx.Error(w, r, ErrUnauthenticated)
	}
	return u
}

func (h handlers) me(w http.ResponseWriter, r *http.Request) {
	if u := Require(w, r); u != nil {
		httpx.JSON(w, http.StatusOK, map[string]any{"user": u})
	}
}

func (h handlers) createToken(w http.ResponseWriter, r *http.Request) {
	u := Require(w, r)
	if u == nil {
		return
	}
	var in struct {
		Name          string `json:"name"`
		ExpiresInDays int    `json:"expiresInDays"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	secret, t, err := h.svc.CreateToken(r.Context(), u, in.Name, in.ExpiresInDays)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, map[string]any{
		"token": secret, "id": t.ID, "name": t.Name, "createdAt": t.CreatedAt, "expiresAt": t.ExpiresAt,
	})
}

func (h handlers) listTokens(w http.ResponseWriter, r *http.Request) {
	u := Require(w, r)
	if u == nil {
		return
	}
	ts, err := h.svc.ListTokens(r.Context(), u)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

func (h handlers) revokeToken(w http.ResponseWriter, r *http.Request) {
	u := Require(w, r)
	if u == nil {
		return
	}
	if err := h.svc.RevokeToken(r.Context(), u, r.PathValue("id")); err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h handlers) revokeCurrentToken(w http.ResponseWriter, r *http.Request) {
	if u := Require(w, r); u != nil {
		httpx.NoContent(w, r, h.svc.RevokeCurrentToken(r.Context(), u))
	}
}

func (h handlers) startDeviceLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ClientName string `json:"clientName"`
	}
	if r.ContentLength != 0 { // the body is optional
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
	}
	codes, err := h.svc.StartDeviceLogin(r.Context(), r, in.ClientName)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, codes)
}

func (h handlers) pollDeviceLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DeviceCode string `json:"deviceCode"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	token, u, err := h.svc.PollDeviceLogin(r.Context(), in.DeviceCode)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"token": token, "user": u}, err)
}

func (h handlers) pendingDeviceLogin(w http.ResponseWriter, r *http.Request) {
	if u := Require(w, r); u != nil {
		d, err := h.svc.PendingDeviceLogin(r.Context(), r, u, r.URL.Query().Get("code"))
		if err != nil {
			fail(w, r, err)
			return
		}
		httpx.JSON(w, http.StatusOK, d)
	}
}

func (h handlers) decideDeviceLogin(w http.ResponseWriter, r *http.Request) {
	u := Require(w, r)
	if u == nil {
		return
	}
	var in struct {
		UserCode string `json:"userCode"`
		Approve  *bool  `json:"approve"` // required: a missing answer is not a no
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	if in.Approve == nil {
		httpx.Error(w, r, errs.Invalid("invalid_decision", "Say whether to approve the login: approve true or false."))
		return
	}
	if err := h.svc.DecideDeviceLogin(r.Context(), r, u, in.UserCode, *in.Approve); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h handlers) updateMe(w http.ResponseWriter, r *http.Request) {
	u := Require(w, r)
	if u == nil {
		return
	}
	var in AccountChange
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	next, err := h.svc.UpdateAccount(r.Context(), u, in)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"user": next})
}

func (h handlers) deleteMe(w http.ResponseWriter, r *http.Request) {
	u := Require(w, r)
	if u == nil {
		return
	}
	var in struct {
		Confirm  string `json:"confirm"`
		Password string `json:"password"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	if err := h.svc.DeleteAccount(r.Context(), u, in.Confirm, in.Password); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h handlers) changePassword(w http.ResponseWriter, r *http.Request) {
	u := Require(w, r)
	if u == nil {
		return
	}
	var in struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	if err := h.svc.ChangePassword(r.Context(), u, in.CurrentPassword, in.NewPassword); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h handlers) listSessions(w http.ResponseWriter, r *http.Request) {
	if u := Require(w, r); u != nil {
		list, err := h.svc.ListSessions(r.Context(), u)
		httpx.Reply(w, r, http.StatusOK, map[string]any{"sessions": list}, err)
	}
}

func (h handlers) endOtherSessions(w http.ResponseWriter, r *http.Request) {
	if u := Require(w, r); u != nil {
		httpx.NoContent(w, r, h.svc.EndOtherSessions(r.Context(), u))
	}
}

func (h handlers) endSession(w http.ResponseWriter, r *http.Request) {
	if u := Require(w, r); u != nil {
		httpx.NoContent(w, r, h.svc.EndSession(r.Context(), u, r.PathValue("id")))
	}
}
