package auth

import (
	"net"
	"net/http"

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
	rt.HandleFunc("POST /api/tokens", h.createToken)
	rt.HandleFunc("GET /api/tokens", h.listTokens)
	rt.HandleFunc("DELETE /api/tokens/{id}", h.revokeToken)
}

// clientIP is the peer address; the platform is reached directly or through
// a proxy that the operator configures to pass the real address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
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
	u, err := h.svc.signup(r.Context(), clientIP(r), in.Username, in.Email, in.Password)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
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
	u, err := h.svc.login(r.Context(), clientIP(r), in.Login, in.Password)
	if err == errRateLimited {
		w.Header().Set("Retry-After", "60")
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"user": u})
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
