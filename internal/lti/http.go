package lti

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/httpx"
)

// Routes registers the tool's endpoints and its administration API.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /lti/login", s.handleLogin)
	rt.HandleFunc("POST /lti/login", s.handleLogin)
	rt.HandleFunc("POST /lti/launch", s.handleLaunch)
	rt.HandleFunc("GET /lti/jwks", s.handleJWKS)
	rt.HandleFunc("GET /.well-known/jwks.json", s.handleJWKS)

	rt.HandleFunc("GET /api/admin/lti/platforms", func(w http.ResponseWriter, r *http.Request) {
		if auth.RequireAdmin(w, r) == nil {
			return
		}
		ps, err := s.Platforms(r.Context())
		if ps == nil {
			ps = []Platform{}
		}
		httpx.Reply(w, r, http.StatusOK, map[string]any{"platforms": ps, "tool": s.Tool()}, err)
	})
	rt.HandleFunc("POST /api/admin/lti/platforms", func(w http.ResponseWriter, r *http.Request) {
		u := auth.RequireAdmin(w, r)
		if u == nil {
			return
		}
		var in NewPlatform
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		p, err := s.AddPlatform(r.Context(), u, in)
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"platform": p}, err)
	})
	rt.HandleFunc("DELETE /api/admin/lti/platforms/{id}", func(w http.ResponseWriter, r *http.Request) {
		u := auth.RequireAdmin(w, r)
		if u == nil {
			return
		}
		httpx.NoContent(w, r, s.RemovePlatform(r.Context(), u, r.PathValue("id")))
	})
	rt.HandleFunc("POST /api/admin/lti/keys/rotate", func(w http.ResponseWriter, r *http.Request) {
		u := auth.RequireAdmin(w, r)
		if u == nil {
			return
		}
		kid, err := s.RotateKey(r.Context())
		if err == nil {
			s.audit.Record(r.Context(), u.AuditActor(), "lti.key.rotate", audit.Target("lti_key", kid), nil)
		}
		httpx.Reply(w, r, http.StatusOK, map[string]string{"kid": kid}, err)
	})

	rt.HandleFunc("GET /api/lti/deep-link/{token}", func(w http.ResponseWriter, r *http.Request) {
		out, err := s.DeepLinkOptions(r.Context(), auth.Actor(r), r.PathValue("token"))
		httpx.Reply(w, r, http.StatusOK, out, err)
	})
	rt.HandleFunc("POST /api/lti/deep-link/{token}", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			AssignmentIDs []string `json:"assignmentIds"`
		}
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		ret, jwt, err := s.DeepLinkResponse(r.Context(), auth.Actor(r), r.PathValue("token"), in.AssignmentIDs)
		httpx.Reply(w, r, http.StatusOK, map[string]string{"returnUrl": ret, "jwt": jwt}, err)
	})

	rt.HandleFunc("GET /api/courses/{id}/lti", func(w http.ResponseWriter, r *http.Request) {
		out, err := s.CourseStatus(r.Context(), auth.Actor(r), r.PathValue("id"))
		httpx.Reply(w, r, http.StatusOK, out, err)
	})
	rt.HandleFunc("POST /api/courses/{id}/lti/roster-sync", func(w http.ResponseWriter, r *http.Request) {
		out, err := s.SyncRoster(r.Context(), auth.Actor(r), r.PathValue("id"))
		httpx.Reply(w, r, http.StatusOK, out, err)
	})
	rt.HandleFunc("POST /api/courses/{id}/lti/passbacks/{submissionId}/retry", func(w http.ResponseWriter, r *http.Request) {
		err := s.RetryPassback(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("submissionId"))
		httpx.Reply(w, r, http.StatusAccepted, map[string]any{}, err)
	})
}

// handleLogin is the OIDC login initiation (GET or form POST).
func (s *Service) handleLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		httpx.WriteError(w, http.StatusBadRequest, "invalid_login", "The login request cannot be read.")
		return
	}
	f := r.Form
	redirect, state, err := s.Login(r.Context(), LoginRequest{
		Issuer: f.Get("iss"), LoginHint: f.Get("login_hint"), TargetLinkURI: f.Get("target_link_uri"),
		MessageHint: f.Get("lti_message_hint"), ClientID: f.Get("client_id"), DeploymentID: f.Get("lti_deployment_id"),
	})
	if err != nil {
		slog.WarnContext(r.Context(), "LTI login refused", "iss", f.Get("iss"), "client_id", f.Get("client_id"), "err", err)
		httpx.Error(w, r, err)
		return
	}
	http.SetCookie(w, s.stateCookie(state, int(stateTTL.Seconds())))
	http.Redirect(w, r, redirect, http.StatusFound)
}

// stateCookie binds a login's state to the browser. The launch is a
// cross-site form post, so over https the cookie is SameSite=None (with
// Secure); over plain http browsers refuse that and it is Lax, and the
// launch then checks the state alone.
func (s *Service) stateCookie(state string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: stateCookie, Value: state, Path: "/lti/", MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if s.secureCookies() {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	return c
}

// handleLaunch verifies an id_token post, logs the person in and sends
// them on.
func (s *Service) handleLaunch(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		httpx.WriteError(w, http.StatusBadRequest, "invalid_launch", "The launch cannot be read.")
		return
	}
	cookie := ""
	if c, err := r.Cookie(stateCookie); err == nil {
		cookie = c.Value
	}
	p, claims, err := s.Verify(ctx, r.PostForm.Get("id_token"), r.PostForm.Get("state"), cookie)
	if err == nil {
		var out *Launched
		if out, err = s.Launch(ctx, p, claims); err == nil {
			if err = s.accounts.StartSession(ctx, r, out.User); err == nil {
				http.SetCookie(w, s.stateCookie("", -1))
				http.Redirect(w, r, out.Redirect, http.StatusSeeOther)
				return
			}
		}
	}
	slog.WarnContext(ctx, "LTI launch refused", "err", err)
	httpx.Error(w, r, err)
}

func (s *Service) handleJWKS(w http.ResponseWriter, r *http.Request) {
	set, err := s.JWKS(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	raw, err := json.Marshal(set)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(raw)
}
