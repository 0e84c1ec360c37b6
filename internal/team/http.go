package team

import (
	"context"
	"net/http"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/secrets"
)

// AuditLog returns the team's view of the audit log, for its admins. The
// filter's ActorID may be a username.
func (s *Service) AuditLog(ctx context.Context, actor *auth.User, name string, f audit.Filter) ([]audit.Entry, error) {
	t, err := s.authorize(ctx, actor, name, access.ManageTeam)
	if err != nil {
		return nil, err
	}
	if f.ActorID != "" {
		u, err := s.accounts.UserByUsername(ctx, f.ActorID)
		if errs.Is(err, errs.KindNotFound) {
			return []audit.Entry{}, nil
		}
		if err != nil {
			return nil, err
		}
		f.ActorID = u.ID
	}
	f.Team = t.ID
	return s.audit.Search(ctx, f)
}

// Routes mounts the team routes under /api/teams; its roster and invite
// links are mounted by package membership.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("POST /api/teams", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Name, DisplayName string }
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		t, err := s.Create(r.Context(), auth.Actor(r), in.Name, in.DisplayName)
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"team": t}, err)
	})
	rt.HandleFunc("GET /api/teams", func(w http.ResponseWriter, r *http.Request) {
		list, err := s.List(r.Context(), auth.Actor(r))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"teams": list}, err)
	})
	rt.HandleFunc("GET /api/teams/{team}", func(w http.ResponseWriter, r *http.Request) {
		t, err := s.Get(r.Context(), auth.Actor(r), r.PathValue("team"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"team": t}, err)
	})
	rt.HandleFunc("PATCH /api/teams/{team}", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ DisplayName string }
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		t, err := s.Update(r.Context(), auth.Actor(r), r.PathValue("team"), in.DisplayName)
		httpx.Reply(w, r, http.StatusOK, map[string]any{"team": t}, err)
	})
	rt.HandleFunc("DELETE /api/teams/{team}", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Confirm string }
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		httpx.NoContent(w, r, s.Delete(r.Context(), auth.Actor(r), r.PathValue("team"), in.Confirm))
	})
	rt.HandleFunc("GET /api/teams/{team}/projects", func(w http.ResponseWriter, r *http.Request) {
		ps, err := s.Projects(r.Context(), auth.Actor(r), r.PathValue("team"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"projects": ps}, err)
	})
	s.policyRoutes(rt)
}

// policyRoutes mounts what a team's admins govern: secrets, the
// allowlist and the audit log.
func (s *Service) policyRoutes(rt *httpx.Router) {
	manage := func(r *http.Request) (secrets.Scope, error) {
		t, err := s.authorize(r.Context(), auth.Actor(r), r.PathValue("team"), access.ManageTeam)
		if err != nil {
			return secrets.Scope{}, err
		}
		return s.secrets.ForTeam(r.Context(), auth.Actor(r), t.ID)
	}
	rt.HandleFunc("GET /api/teams/{team}/secrets", func(w http.ResponseWriter, r *http.Request) {
		sc, err := manage(r)
		var list []secrets.Secret
		if err == nil {
			list, err = s.secrets.List(r.Context(), sc)
		}
		httpx.Reply(w, r, http.StatusOK, map[string]any{"secrets": list}, err)
	})
	s.secrets.ItemRoutes(rt, "/api/teams/{team}/secrets", manage)
	rt.HandleFunc("GET /api/teams/{team}/allowlist", func(w http.ResponseWriter, r *http.Request) {
		a, err := s.Allowlist(r.Context(), auth.Actor(r), r.PathValue("team"))
		httpx.Reply(w, r, http.StatusOK, a, err)
	})
	rt.HandleFunc("PUT /api/teams/{team}/allowlist", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Allowlist []string
			Confirm   bool
		}
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		a, err := s.SetAllowlist(r.Context(), auth.Actor(r), r.PathValue("team"), in.Allowlist, in.Confirm)
		httpx.Reply(w, r, http.StatusOK, a, err)
	})
	rt.HandleFunc("GET /api/teams/{team}/audit", func(w http.ResponseWriter, r *http.Request) {
		entries, err := s.AuditLog(r.Context(), auth.Actor(r), r.PathValue("team"), audit.FilterFrom(r))
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		audit.Write(w, r, entries)
	})
}
