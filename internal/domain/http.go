package domain

import (
	"net/http"

	"ecode/internal/auth"
	"ecode/internal/httpx"
)

type handlers struct{ svc *Service }

// Routes mounts the custom domain routes.
func (s *Service) Routes(rt *httpx.Router) {
	h := handlers{svc: s}
	rt.HandleFunc("GET /api/projects/{id}/domains", h.list)
	rt.HandleFunc("POST /api/projects/{id}/domains", h.add)
	rt.HandleFunc("POST /api/projects/{id}/domains/{domainId}/verify", h.verify)
	rt.HandleFunc("DELETE /api/projects/{id}/domains/{domainId}", h.remove)
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.List(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"domains": list}, err)
}

func (h handlers) add(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	d, err := h.svc.Add(r.Context(), auth.Actor(r), r.PathValue("id"), in.Name)
	httpx.Reply(w, r, http.StatusCreated, map[string]any{"domain": d}, err)
}

func (h handlers) verify(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	d, err := h.svc.Verify(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("domainId"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"domain": d}, err)
}

func (h handlers) remove(w http.ResponseWriter, r *http.Request) {
	httpx.NoContent(w, r, h.svc.Remove(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("domainId")))
}
