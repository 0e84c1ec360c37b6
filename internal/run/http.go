package run

import (
	"net/http"
	"time"

	"ecode/internal/auth"
	"ecode/internal/httpx"
)

type handlers struct{ svc *Service }

// Routes mounts the run, exec and preview-pass routes.
func (s *Service) Routes(rt *httpx.Router) {
	h := handlers{svc: s}
	rt.HandleFunc("GET /api/projects/{id}/run-config", h.config)
	rt.HandleFunc("POST /api/projects/{id}/run", h.start)
	rt.HandleFunc("POST /api/projects/{id}/stop", h.stop)
	rt.HandleFunc("GET /api/projects/{id}/runs", h.list)
	rt.HandleFunc("GET /api/projects/{id}/runs/{runId}", h.get)
	rt.HandleFunc("GET /api/projects/{id}/runs/{runId}/output", h.output)
	rt.HandleFunc("POST /api/projects/{id}/exec", h.exec)
	rt.HandleFunc("GET /api/projects/{id}/sandbox", h.sandbox)
	rt.HandleFunc("POST /api/projects/{id}/sandbox/restart", h.restart)
	rt.HandleFunc("GET /api/preview/pass", s.pass)
}

func (h handlers) config(w http.ResponseWriter, r *http.Request) {
	cfg, source, err := h.svc.RunConfig(r.Context(), auth.Actor(r), r.PathValue("id"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"config": cfg, "source": source})
}

func (h handlers) start(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Start(r.Context(), auth.Actor(r), r.PathValue("id"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusAccepted, map[string]any{"run": v})
}

func (h handlers) stop(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.Stop(r.Context(), auth.Actor(r), r.PathValue("id")); err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	runs, cur, err := h.svc.List(r.Context(), auth.Actor(r), r.PathValue("id"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"runs": runs, "current": cur})
}

func (h handlers) get(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Get(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("runId"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"run": v})
}

func (h handlers) output(w http.ResponseWriter, r *http.Request) {
	// Errors are only answerable before the first byte: look the run up first.
	if _, err := h.svc.Get(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("runId")); err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	rc := http.NewResponseController(w)
	_ = h.svc.Output(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("runId"), w, func() { _ = rc.Flush() })
}

func (h handlers) exec(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Command    string `json:"command"`
		TimeoutSec int    `json:"timeoutSec"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	res, err := h.svc.Exec(r.Context(), auth.Actor(r), r.PathValue("id"), in.Command, time.Duration(in.TimeoutSec)*time.Second)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, res)
}
