package projectdb

import (
	"net/http"

	"ecode/internal/auth"
	"ecode/internal/httpx"
)

// Routes registers the project database routes.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/projects/{id}/database", func(w http.ResponseWriter, r *http.Request) {
		list, err := s.List(r.Context(), auth.Actor(r), r.PathValue("id"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"databases": list, "status": s.Status()}, err)
	})
	rt.HandleFunc("POST /api/projects/{id}/database", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Env string `json:"env"`
		}
		if err := httpx.Decode(w, r, &body); err != nil {
			httpx.Error(w, r, err)
			return
		}
		if body.Env == "" {
			body.Env = Dev
		}
		info, err := s.Create(r.Context(), auth.Actor(r), r.PathValue("id"), body.Env)
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"database": info}, err)
	})
	rt.HandleFunc("GET /api/projects/{id}/database/{env}/credentials", func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Credentials(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"credentials": c}, err)
	})
	rt.HandleFunc("POST /api/projects/{id}/database/{env}/rotate", func(w http.ResponseWriter, r *http.Request) {
		info, err := s.Rotate(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"database": info}, err)
	})
	rt.HandleFunc("DELETE /api/projects/{id}/database/{env}", func(w http.ResponseWriter, r *http.Request) {
		httpx.NoContent(w, r, s.Drop(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env")))
	})
	s.consoleRoutes(rt)
	s.backupRoutes(rt)
}
