package oauth

import (
	"log/slog"
	"net/http"
	"net/url"

	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
)

type handlers struct{ svc *Service }

// Routes mounts the provider login routes. start and callback are browser
// routes: they answer with redirects, errors included (/login?error=code,
// or /settings?error=code while linking), except for an unknown provider.
func (s *Service) Routes(rt *httpx.Router) {
	h := handlers{svc: s}
	rt.HandleFunc("GET /api/auth/providers", h.providers)
	rt.HandleFunc("GET /api/auth/oauth/{provider}/start", h.start)
	rt.HandleFunc("GET /api/auth/oauth/{provider}/callback", h.callback)
	rt.HandleFunc("POST /api/auth/oauth/username", h.finishSignup)
	rt.HandleFunc("GET /api/auth/identities", h.identities)
	rt.HandleFunc("DELETE /api/auth/identities/{provider}", h.unlink)
}

func (h handlers) providers(w http.ResponseWriter, r *http.Request) {
	httpx.JSON(w, http.StatusOK, map[string]any{"providers": h.svc.Providers()})
}

func (h handlers) start(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("provider")
	if h.svc.byID[id] == nil {
		httpx.Error(w, r, errUnknownProvider)
		return
	}
	actor, q := auth.Actor(r), r.URL.Query()
	if q.Get("link") == "1" && actor == nil {
		http.Redirect(w, r, "/login?next=%2Fsettings", http.StatusFound)
		return
	}
	next := safeNext(q.Get("next"), actor != nil)
	to, err := h.svc.Begin(r.Context(), id, actor, next)
	if err != nil {
		fail(w, r, id, Outcome{Next: next, Linking: actor != nil}, err)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

func (h handlers) callback(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("provider")
	if h.svc.byID[id] == nil {
		httpx.Error(w, r, errUnknownProvider)
		return
	}
	out, err := h.svc.Complete(r.Context(), r, id, r.URL.Query())
	if err != nil {
		fail(w, r, id, out, err)
		return
	}
	http.Redirect(w, r, out.Next, http.StatusFound)
}

// fail sends the browser where it can read what went wrong: the login page,
// or Settings when the person was linking a provider.
func fail(w http.ResponseWriter, r *http.Request, provider string, out Outcome, err error) {
	code, level := "server_error", slog.LevelError
	if e, ok := errs.As(err); ok && e.Kind != errs.KindInternal {
		code, level = e.Code, slog.LevelInfo
	}
	slog.Log(r.Context(), level, "provider login failed", "request_id", httpx.RequestID(r.Context()),
		"provider", provider, "code", code, "err", err)
	q := url.Values{"error": {code}, "provider": {provider}}
	if out.Linking {
		http.Redirect(w, r, "/settings?"+q.Encode()+"#linked-accounts", http.StatusFound)
		return
	}
	if out.Next != "" && out.Next != "/" {
		q.Set("next", out.Next)
	}
	http.Redirect(w, r, "/login?"+q.Encode(), http.StatusFound)
}

// safeNext keeps only paths on this site; anything else goes home, or back
// to Settings for a logged-in person linking a provider.
func safeNext(next string, linking bool) string {
	if linking {
		return httpx.LocalPath(next, "/settings")
	}
	return httpx.LocalPath(next, "/")
}

func (h handlers) finishSignup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	u, next, err := h.svc.FinishSignup(r.Context(), r, in.Username)
	httpx.Reply(w, r, http.StatusCreated, map[string]any{"user": u, "next": next}, err)
}

func (h handlers) identities(w http.ResponseWriter, r *http.Request) {
	if u := auth.Require(w, r); u != nil {
		ids, canUnlink, err := h.svc.Identities(r.Context(), u)
		httpx.Reply(w, r, http.StatusOK, map[string]any{"identities": ids, "canUnlink": canUnlink}, err)
	}
}

func (h handlers) unlink(w http.ResponseWriter, r *http.Request) {
	if u := auth.Require(w, r); u != nil {
		if err := h.svc.Unlink(r.Context(), u, r.PathValue("provider")); err != nil {
			httpx.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
