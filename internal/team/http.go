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
	return s.Audit.Search(ctx, f)
}

// Routes mounts the team routes under /api/teams and /api/team-invites.
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
	s.memberRoutes(rt)
	s.policyRoutes(rt)
}

func (s *Service) memberRoutes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/teams/{team}/members", func(w http.ResponseWriter, r *http.Request) {
		members, invites, err := s.Members(r.Context(), auth.Actor(r), r.PathValue("team"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"members": members, "invites": invites}, err)
	})
	rt.HandleFunc("POST /api/teams/{team}/members", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Username, Role string }
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		m, err := s.AddMember(r.Context(), auth.Actor(r), r.PathValue("team"), in.Username, in.Role)
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"member": m}, err)
	})
	rt.HandleFunc("PATCH /api/teams/{team}/members/{userId}", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Role string }
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		m, err := s.SetRole(r.Context(), auth.Actor(r), r.PathValue("team"), r.PathValue("userId"), in.Role)
		httpx.Reply(w, r, http.StatusOK, map[string]any{"member": m}, err)
	})
	rt.HandleFunc("DELETE /api/teams/{team}/members/{userId}", func(w http.ResponseWriter, r *http.Request) {
		httpx.NoContent(w, r, s.RemoveMember(r.Context(), auth.Actor(r), r.PathValue("team"), r.PathValue("userId")))
	})
	rt.HandleFunc("POST /api/teams/{team}/invites", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Role           string
			ExpiresInHours int
		}
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		inv, err := s.CreateInvite(r.Context(), auth.Actor(r), r.PathValue("team"), in.Role, in.ExpiresInHours)
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"invite": inv}, err)
	})
	rt.HandleFunc("DELETE /api/teams/{team}/invites/{inviteId}", func(w http.ResponseWriter, r *http.Request) {
		httpx.NoContent(w, r, s.RevokeInvite(r.Context(), auth.Actor(r), r.PathValue("team"), r.PathValue("inviteId")))
	})
	rt.HandleFunc("GET /api/team-invites/{token}", func(w http.ResponseWriter, r *http.Request) {
		if auth.Require(w, r) == nil {
			return
		}
		v, err := s.Invitation(r.Context(), r.PathValue("token"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"invite": v}, err)
	})
	rt.HandleFunc("POST /api/team-invites/{token}/accept", func(w http.ResponseWriter, r *http.Request) {
		t, err := s.AcceptInvite(r.Context(), auth.Actor(r), r.PathValue("token"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"team": t}, err)
	})
}

// policyRoutes mounts what a team's admins govern: secrets, the
// allowlist and the audit log.
func (s *Service) policyRoutes(rt *httpx.Router) {
	manage := func(r *http.Request) (secrets.Scope, error) {
		t, err := s.authorize(r.Context(), auth.Actor(r), r.PathValue("team"), access.ManageTeam)
		if err != nil {
			return secrets.Scope{}, err
		}
		return secrets.ForTeam(t.ID), nil
	}
	rt.HandleFunc("GET /api/teams/{team}/secrets", func(w http.ResponseWriter, r *http.Request) {
		sc, err := manage(r)
		var list []secrets.Secret
		if err == nil {
			list, err = s.Secrets.List(r.Context(), sc)
		}
		httpx.Reply(w, r, http.StatusOK, map[string]any{"secrets": list}, err)
	})
	s.Secrets.ItemRoutes(rt, "/api/teams/{team}/secrets", manage)
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
