package membership

import (
	"net/http"

	"ecode/internal/auth"
	"ecode/internal/httpx"
)

// Routes mounts each kind's roster under its Path (members, invites) and
// its links' routes under its Invites.
func (s *Service) Routes(rt *httpx.Router) {
	for _, k := range s.kinds {
		s.kindRoutes(rt, k)
	}
}

func (s *Service) kindRoutes(rt *httpx.Router, k *Kind) {
	place := func(r *http.Request) string { return r.PathValue(k.Param) }
	rt.HandleFunc("GET "+k.Path+"/members", func(w http.ResponseWriter, r *http.Request) {
		members, links, err := s.Members(r.Context(), k, auth.Actor(r), place(r))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"members": members, "invites": links}, err)
	})
	rt.HandleFunc("POST "+k.Path+"/members", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Username, Role string }
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		m, err := s.Add(r.Context(), k, auth.Actor(r), place(r), in.Username, in.Role)
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"member": m}, err)
	})
	rt.HandleFunc("PATCH "+k.Path+"/members/{userId}", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Role string }
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		m, err := s.SetRole(r.Context(), k, auth.Actor(r), place(r), r.PathValue("userId"), in.Role)
		httpx.Reply(w, r, http.StatusOK, map[string]any{"member": m}, err)
	})
	rt.HandleFunc("DELETE "+k.Path+"/members/{userId}", func(w http.ResponseWriter, r *http.Request) {
		httpx.NoContent(w, r, s.Remove(r.Context(), k, auth.Actor(r), place(r), r.PathValue("userId")))
	})
	rt.HandleFunc("POST "+k.Path+"/invites", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Role           string
			ExpiresInHours int
		}
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		link, err := s.CreateInvite(r.Context(), k, auth.Actor(r), place(r), in.Role, in.ExpiresInHours)
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"invite": link}, err)
	})
	rt.HandleFunc("DELETE "+k.Path+"/invites/{inviteId}", func(w http.ResponseWriter, r *http.Request) {
		httpx.NoContent(w, r, s.RevokeInvite(r.Context(), k, auth.Actor(r), place(r), r.PathValue("inviteId")))
	})
	rt.HandleFunc("GET "+k.Invites+"/{token}", func(w http.ResponseWriter, r *http.Request) {
		if auth.Require(w, r) == nil {
			return
		}
		v, err := s.Invitation(r.Context(), k, r.PathValue("token"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"invite": v}, err)
	})
	rt.HandleFunc("POST "+k.Invites+"/{token}/accept", func(w http.ResponseWriter, r *http.Request) {
		joined, err := s.AcceptInvite(r.Context(), k, auth.Actor(r), r.PathValue("token"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{k.Name: joined}, err)
	})
}
