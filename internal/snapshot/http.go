package snapshot

import (
	"net/http"

	"ecode/internal/auth"
	"ecode/internal/httpx"
)

// Routes mounts checkpoints with data.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/projects/{id}/snapshots", func(w http.ResponseWriter, r *http.Request) {
		env := r.URL.Query().Get("env")
		if env == "" {
			env = Env
		}
		list, err := s.List(r.Context(), auth.Actor(r), r.PathValue("id"), env)
		httpx.Reply(w, r, http.StatusOK, map[string]any{"snapshots": list}, err)
	})
	rt.HandleFunc("POST /api/projects/{id}/snapshots", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Message string `json:"message"`
		}
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		cp, snap, err := s.Checkpoint(r.Context(), auth.Actor(r), r.PathValue("id"), in.Message)
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"checkpoint": cp, "snapshot": snap}, err)
	})
	rt.HandleFunc("POST /api/projects/{id}/snapshots/{commit}/restore", func(w http.ResponseWriter, r *http.Request) {
		res, err := s.Restore(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("commit"))
		httpx.Reply(w, r, http.StatusOK, res, err)
	})
	rt.HandleFunc("POST /api/projects/{id}/data-snapshots/{snapshot}/restore", func(w http.ResponseWriter, r *http.Request) {
		res, err := s.RestoreData(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("snapshot"))
		httpx.Reply(w, r, http.StatusOK, res, err)
	})
}
