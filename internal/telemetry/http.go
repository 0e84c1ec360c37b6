package telemetry

import (
	"net/http"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/httpx"
)

// Routes registers the ingest route, the settings and the dashboards'
// queries, for projects and (admins only) the platform.
func (s *Service) Routes(rt *httpx.Router) {
	ingest := Ingest(http.HandlerFunc(s.handleEvent))
	rt.Handle("POST /api/monitoring/event", ingest)
	rt.Handle("OPTIONS /api/monitoring/event", ingest)

	rt.HandleFunc("GET /api/projects/{id}/monitoring", s.project(access.Read, s.getSettings))
	rt.HandleFunc("PUT /api/projects/{id}/monitoring", s.project(access.Write, s.putSettings))
	rt.HandleFunc("POST /api/projects/{id}/monitoring/key", s.project(access.Admin, s.rotateKey))

	rt.HandleFunc("GET /api/projects/{id}/monitoring/overview", s.project(access.Read, s.overviewOf))
	rt.HandleFunc("GET /api/monitoring/platform/overview", s.platform(s.overviewOf))
	rt.HandleFunc("GET /api/projects/{id}/monitoring/errors", s.project(access.Read, s.groupsOf))
	rt.HandleFunc("GET /api/monitoring/platform/errors", s.platform(s.groupsOf))
	rt.HandleFunc("GET /api/projects/{id}/monitoring/errors/{fingerprint}", s.project(access.Read, s.groupOf))
	rt.HandleFunc("GET /api/monitoring/platform/errors/{fingerprint}", s.platform(s.groupOf))
	rt.HandleFunc("PATCH /api/projects/{id}/monitoring/errors/{fingerprint}", s.project(access.Write, s.patchGroup))
	rt.HandleFunc("PATCH /api/monitoring/platform/errors/{fingerprint}", s.platform(s.patchGroup))
}

// answer serves one request over a scope the caller may act on.
type answer func(w http.ResponseWriter, r *http.Request, scope string) (any, error)

// project asks for access a to the project {id} before anything else, then
// answers fn over it.
func (s *Service) project(a access.Action, fn answer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.projects.Get(r.Context(), auth.Actor(r), r.PathValue("id"), a)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		v, err := fn(w, r, p.ID)
		httpx.Reply(w, r, http.StatusOK, v, err)
	}
}

// platform answers fn over the platform's scope, to administrators only.
func (s *Service) platform(fn answer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if auth.RequireAdmin(w, r) == nil {
			return
		}
		v, err := fn(w, r, Platform)
		httpx.Reply(w, r, http.StatusOK, v, err)
	}
}

func (s *Service) getSettings(_ http.ResponseWriter, r *http.Request, id string) (any, error) {
	return s.settings(r.Context(), id)
}

func (s *Service) putSettings(w http.ResponseWriter, r *http.Request, id string) (any, error) {
	var c Change
	if err := httpx.Decode(w, r, &c); err != nil {
		return nil, err
	}
	return s.update(r.Context(), id, c)
}

func (s *Service) rotateKey(_ http.ResponseWriter, r *http.Request, id string) (any, error) {
	return s.rotate(r.Context(), id)
}

func (s *Service) patchGroup(w http.ResponseWriter, r *http.Request, scope string) (any, error) {
	var in struct {
		Status string `json:"status"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		return nil, err
	}
	g, err := s.SetStatus(r.Context(), scope, r.PathValue("fingerprint"), in.Status)
	return map[string]any{"group": g}, err
}
