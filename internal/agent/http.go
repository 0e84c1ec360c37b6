package agent

import (
	"net/http"

	"ecode/internal/auth"
	"ecode/internal/httpx"
)

// Routes mounts the agent's routes.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/ai/status", func(w http.ResponseWriter, r *http.Request) {
		if auth.Require(w, r) != nil {
			httpx.JSON(w, http.StatusOK, s.Status())
		}
	})
	rt.HandleFunc("GET /api/user/ai-usage", func(w http.ResponseWriter, r *http.Request) {
		if u := auth.Require(w, r); u != nil {
			usage, err := s.Usage(r.Context(), u)
			httpx.Reply(w, r, http.StatusOK, map[string]any{"usage": usage}, err)
		}
	})
	rt.HandleFunc("POST /api/projects/{id}/agent/runs", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Prompt string `json:"prompt"`
		}
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		run, err := s.Start(r.Context(), auth.Actor(r), r.PathValue("id"), in.Prompt)
		httpx.Reply(w, r, http.StatusAccepted, map[string]any{"run": run}, err)
	})
	rt.HandleFunc("GET /api/projects/{id}/agent/runs", func(w http.ResponseWriter, r *http.Request) {
		runs, err := s.List(r.Context(), auth.Actor(r), r.PathValue("id"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"runs": runs}, err)
	})
	rt.HandleFunc("GET /api/projects/{id}/agent/runs/{runId}", func(w http.ResponseWriter, r *http.Request) {
		run, err := s.Get(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("runId"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"run": run}, err)
	})
	rt.HandleFunc("POST /api/projects/{id}/agent/runs/{runId}/stop", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Stop(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("runId")); err != nil {
			httpx.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	rt.HandleFunc("POST /api/projects/{id}/complete", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Path   string `json:"path"`
			Prefix string `json:"prefix"`
			Suffix string `json:"suffix"`
		}
		if err := httpx.Decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
		text, err := s.Complete(r.Context(), auth.Actor(r), r.PathValue("id"), in.Path, in.Prefix, in.Suffix)
		httpx.Reply(w, r, http.StatusOK, map[string]any{"completion": text}, err)
	})
}
