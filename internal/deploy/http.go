package deploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
)

type handlers struct{ svc *Service }

// Routes mounts the deployment routes.
func (s *Service) Routes(rt *httpx.Router) {
	h := handlers{svc: s}
	rt.HandleFunc("GET /api/projects/{id}/deployment", h.get)
	rt.HandleFunc("PUT /api/projects/{id}/deployment/config", h.config)
	rt.HandleFunc("POST /api/projects/{id}/deployments", h.deploy)
	rt.HandleFunc("GET /api/projects/{id}/releases/{releaseId}/log", h.log)
	rt.HandleFunc("POST /api/projects/{id}/releases/{releaseId}/promote", h.promote)
	rt.HandleFunc("POST /api/projects/{id}/releases/{releaseId}/cancel", h.cancel)
	rt.HandleFunc("GET /api/projects/{id}/deployment/executions", h.executions)
	rt.HandleFunc("GET /api/projects/{id}/deployment/executions/{executionId}/log", h.executionLog)
	rt.HandleFunc("POST /api/projects/{id}/deployment/run", h.runNow)
}

func (h handlers) executions(w http.ResponseWriter, r *http.Request) {
	list, sched, err := h.svc.Executions(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"executions": list, "schedule": sched}, err)
}

func (h handlers) executionLog(w http.ResponseWriter, r *http.Request) {
	e, log, err := h.svc.ExecutionLog(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("executionId"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"execution": e, "log": log}, err)
}

func (h handlers) runNow(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	e, err := h.svc.RunNow(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusAccepted, map[string]any{"execution": e}, err)
}

func (h handlers) get(w http.ResponseWriter, r *http.Request) {
	d, releases, err := h.svc.Get(r.Context(), auth.Actor(r), r.PathValue("id"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	// The settings also before the first deploy, when there is no
	// deployment; a mistake in them is shown, not in the way of the rest.
	out := map[string]any{"deployment": d, "releases": releases, "config": nil, "configError": nil}
	c, err := h.svc.Settings(r.Context(), auth.Actor(r), r.PathValue("id"))
	if e, ok := errs.As(err); ok && e.Kind == errs.KindInvalid {
		out["configError"] = e.Message
	} else if err != nil {
		httpx.Error(w, r, err)
		return
	} else {
		out["config"] = c
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (h handlers) config(w http.ResponseWriter, r *http.Request) {
	// What GET answers may be sent back as it is: install and serves are
	// read-only, derived from the rest.
	var in Settings
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := h.svc.SetConfig(r.Context(), auth.Actor(r), r.PathValue("id"), in.Config)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"config": c}, err)
}

func (h handlers) deploy(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	rel, err := h.svc.Deploy(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusAccepted, map[string]any{"release": rel}, err)
}

func (h handlers) promote(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Promote(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("releaseId"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"deployment": d}, err)
}

func (h handlers) cancel(w http.ResponseWriter, r *http.Request) {
	rel, err := h.svc.Cancel(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("releaseId"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"release": rel}, err)
}

// log streams a release's build log as server-sent events: "log" events
// of output as it comes, then one "status" event with the release.
func (h handlers) log(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	started := false
	emit := func(event, data string) error {
		if !started {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("X-Accel-Buffering", "no")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		var b strings.Builder
		fmt.Fprintf(&b, "event: %s\n", event)
		for line := range strings.SplitSeq(data, "\n") {
			fmt.Fprintf(&b, "data: %s\n", line)
		}
		b.WriteString("\n")
		if _, err := w.Write([]byte(b.String())); err != nil {
			return err
		}
		return rc.Flush()
	}
	rel, err := h.svc.Log(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("releaseId"),
		func(chunk string) error { return emit("log", chunk) })
	if err != nil {
		if !started {
			httpx.Error(w, r, err)
		}
		return
	}
	raw, err := json.Marshal(rel)
	if err != nil {
		return
	}
	_ = emit("status", string(raw))
}
