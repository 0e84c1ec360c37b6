package replay

import (
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"

	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/telemetry"
)

type handlers struct{ svc *Service }

// Routes mounts the replay routes. The upload route answers any origin:
// deployed apps post from their own.
func (s *Service) Routes(rt *httpx.Router) {
	h := handlers{svc: s}
	upload := telemetry.Ingest(http.HandlerFunc(h.upload)) // answers the preflight itself
	rt.Handle("POST /api/monitoring/replay", upload)
	rt.Handle("OPTIONS /api/monitoring/replay", upload)
	rt.HandleFunc("GET /api/projects/{id}/monitoring/replays", h.list)
	rt.HandleFunc("GET /api/projects/{id}/monitoring/replays/{session}", h.get)
	rt.HandleFunc("GET /api/projects/{id}/monitoring/replays/{session}/chunks/{seq}", h.chunk)
}

func (h handlers) upload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("key") == "" && q.Get("scope") == telemetry.Platform {
		httpx.Error(w, r, errs.Invalid("replay_off", "The platform's pages do not record replays."))
		return
	}
	seq, err := strconv.ParseInt(q.Get("seq"), 10, 64)
	if err != nil {
		httpx.Error(w, r, errs.Invalid("bad_seq", "seq must be the chunk's number, from 0."))
		return
	}
	// One byte past the limit is enough to know a body is too large.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.svc.opts.MaxChunkBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		httpx.Error(w, r, tooLarge(h.svc.opts.MaxChunkBytes))
		return
	}
	if err != nil {
		httpx.Error(w, r, errs.Invalid("bad_chunk", "The chunk could not be read: %v.", err))
		return
	}
	err = h.svc.Ingest(r.Context(), Upload{Key: q.Get("key"), Session: q.Get("session"), Seq: seq,
		Error: q.Get("error") == "1", Client: httpx.ClientFrom(r.Context()).IP, Body: body})
	if err != nil {
		var lim *limited
		if errors.As(err, &lim) {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(lim.after.Seconds()))))
		}
		httpx.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Replays(r.Context(), auth.Actor(r), r.PathValue("id"), r.URL.Query().Get("range"), r.URL.Query().Get("errors") == "1")
	httpx.Reply(w, r, http.StatusOK, map[string]any{"replays": list}, err)
}

func (h handlers) get(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Replay(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("session"))
	httpx.Reply(w, r, http.StatusOK, d, err)
}

// chunk answers a chunk's bytes as stored; the browser decompresses them.
func (h handlers) chunk(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil {
		seq = -1 // no chunk has it: answered as missing once access is granted
	}
	body, size, err := h.svc.Chunk(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("session"), seq)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	defer body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	// A repeated upload may replace a chunk: the browser asks again each time.
	w.Header().Set("Cache-Control", "private, no-cache")
	_, _ = io.Copy(w, body)
}
