package deploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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
	rt.HandleFunc("GET /api/projects/{id}/deployment/webhook", h.webhook)
	rt.HandleFunc("PUT /api/projects/{id}/deployment/webhook", h.setWebhook)
	rt.HandleFunc("DELETE /api/projects/{id}/deployment/webhook", h.deleteWebhook)
	rt.HandleFunc("POST /api/projects/{id}/deployment/webhook/test", h.testWebhook)
	rt.HandleFunc("GET /api/projects/{id}/deployment/instances", h.instances)
	rt.HandleFunc("GET /api/projects/{id}/deployment/metrics", h.metrics)
	rt.HandleFunc("GET /api/projects/{id}/deployment/logs", h.logs)
	rt.HandleFunc("GET /api/projects/{id}/deployment/export", h.export)
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
	events := &sse{w: w}
	rel, err := h.svc.Log(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("releaseId"),
		func(chunk string) error { return events.send("log", chunk) })
	if err != nil {
		if !events.started {
			httpx.Error(w, r, err)
		}
		return
	}
	raw, err := json.Marshal(rel)
	if err != nil {
		return
	}
	_ = events.send("status", string(raw))
}

// sse writes server-sent events, the headers with the first one.
type sse struct {
	w       http.ResponseWriter
	started bool
}

// open sends the headers.
func (e *sse) open() error {
	if e.started {
		return nil
	}
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	e.w.WriteHeader(http.StatusOK)
	e.started = true
	return http.NewResponseController(e.w).Flush()
}

func (e *sse) send(event, data string) error {
	if err := e.open(); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "event: %s\n", event)
	for line := range strings.SplitSeq(data, "\n") {
		fmt.Fprintf(&b, "data: %s\n", line)
	}
	b.WriteString("\n")
	if _, err := e.w.Write([]byte(b.String())); err != nil {
		return err
	}
	return http.NewResponseController(e.w).Flush()
}

func (h handlers) instances(w http.ResponseWriter, r *http.Request) {
	list, sc, err := h.svc.Instances(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"instances": list, "scale": sc}, err)
}

func (h handlers) metrics(w http.ResponseWriter, r *http.Request) {
	step, points, err := h.svc.Metrics(r.Context(), auth.Actor(r), r.PathValue("id"), r.URL.Query().Get("window"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"stepMs": step.Milliseconds(), "points": points}, err)
}

// logs answers the runtime log as JSON, or follows it as server-sent
// events when the client asks for a stream.
func (h handlers) logs(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := LogQuery{Text: v.Get("q"), Source: v.Get("source")}
	if s := v.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			httpx.Error(w, r, errs.Invalid("invalid_query", "before must be a line's seq"))
			return
		}
		q.Before = n
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			httpx.Error(w, r, errs.Invalid("invalid_query", "limit must be between 1 and 1000"))
			return
		}
		q.Limit = n
	}
	lines, follow, err := h.svc.Logs(r.Context(), auth.Actor(r), r.PathValue("id"), q)
	if err != nil || !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		httpx.Reply(w, r, http.StatusOK, map[string]any{"lines": lines}, err)
		return
	}
	// The stream opens at once, also when no line matches yet.
	events := &sse{w: w}
	send := func(l LogLine) error {
		raw, err := json.Marshal(l)
		if err != nil {
			return err
		}
		return events.send("line", string(raw))
	}
	if err := events.open(); err != nil {
		return
	}
	for _, l := range lines {
		if err := send(l); err != nil {
			return
		}
	}
	_ = follow(r.Context(), send)
}
