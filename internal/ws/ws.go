// Package ws is the one WebSocket of a workspace tab. Channels share it by
// message type: the project's console (run output and status), the tab's
// shells, the project's agent, its documents and presence.
package ws

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"ecode/internal/access"
	"ecode/internal/agent"
	"ecode/internal/auth"
	"ecode/internal/collab"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/project"
	"ecode/internal/run"
	"ecode/internal/runtime"
)

// Handler serves /api/projects/{id}/ws.
type Handler struct {
	Projects *project.Service
	Runs     *run.Service
	Agents   *agent.Service
	Collab   *collab.Service
}

// Routes mounts the endpoint.
func (h *Handler) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/projects/{id}/ws", h.serve)
}

// msg is every message, both ways; fields are used per type.
type msg struct {
	Type    string    `json:"type"`
	ID      string    `json:"id,omitempty"`
	Data    []byte    `json:"data,omitempty"` // base64 in JSON
	Rows    uint16    `json:"rows,omitempty"`
	Cols    uint16    `json:"cols,omitempty"`
	Code    *int      `json:"code,omitempty"`
	Run     *run.View `json:"run,omitempty"`
	RunID   string    `json:"runId,omitempty"`
	Agent   any       `json:"agent,omitempty"` // agent.snapshot: {run}; agent.event: an agent.Event
	ErrCode string    `json:"-"`
	// Collaboration, from the client.
	Path      string            `json:"path,omitempty"`
	Version   *int              `json:"version,omitempty"`
	Epoch     string            `json:"epoch,omitempty"`
	Updates   []collab.Update   `json:"updates,omitempty"`
	File      *string           `json:"file,omitempty"`
	Selection *collab.Selection `json:"selection,omitempty"`
	Message   string            `json:"message,omitempty"`
}

// MarshalJSON writes the error code under "code" for error messages.
func (m msg) MarshalJSON() ([]byte, error) {
	type plain msg
	if m.Type == "error" {
		return json.Marshal(struct {
			plain
			Code string `json:"code"`
		}{plain(m), m.ErrCode})
	}
	return json.Marshal(plain(m))
}

const maxShells = 8

// Needs is what each message a tab sends asks of the tab's person, checked
// before the message is handled as routes check HTTP callers: the socket's
// part of the permission matrix (the server's permission test walks it).
// A type missing here is refused as unknown.
var Needs = map[string]access.Action{
	"console.subscribe": access.Read, "agent.subscribe": access.Read,
	"doc.open": access.Read, "doc.close": access.Read, "presence.update": access.Read,
	"doc.push":   access.Write,
	"shell.open": access.Write, "shell.input": access.Write, "shell.resize": access.Write, "shell.close": access.Write,
}

type session struct {
	h      *Handler
	actor  *auth.User
	access access.Project // the person's access as the tab connected; a change reconnects the tab
	projID string
	conn   *websocket.Conn
	out    chan any // msg, or collab.Message
	ctx    context.Context
	peer   *collab.Peer

	mu     sync.Mutex
	shells map[string]runtime.Process
	subbed bool
	agent  bool // following the agent
	wg     sync.WaitGroup
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	actor := auth.Actor(r)
	p, err := h.Projects.Get(r.Context(), actor, r.PathValue("id"), access.Read)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	// Accept refuses cross-origin handshakes: the socket acts as the user.
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	conn.SetReadLimit(1 << 20)
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	s := &session{h: h, actor: actor, access: p.Access(), projID: p.ID, conn: conn, out: make(chan any, 512), ctx: ctx, shells: map[string]runtime.Process{}}
	go s.write(cancel)
	if s.peer, err = h.Collab.Join(ctx, actor, p.ID, s.deliver, s.hangUp); err != nil {
		cancel()
		conn.Close(websocket.StatusPolicyViolation, "no access")
		return
	}
	defer h.Collab.Leave(s.peer)
	s.read()
	cancel()
	s.mu.Lock()
	for _, proc := range s.shells {
		_ = proc.Kill()
	}
	s.mu.Unlock()
	s.wg.Wait()
	conn.Close(websocket.StatusNormalClosure, "")
}

// write sends queued messages and pings, ending the session on failure.
func (s *session) write(cancel context.CancelFunc) {
	defer cancel()
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case m := <-s.out:
			if _, ok := m.(hangUp); ok {
				s.conn.Close(websocket.StatusPolicyViolation, "access changed")
				return
			}
			b, err := json.Marshal(m)
			if err != nil {
				slog.Error("encode ws message", "err", err)
				continue
			}
			wctx, wcancel := context.WithTimeout(s.ctx, 10*time.Second)
			err = s.conn.Write(wctx, websocket.MessageText, b)
			wcancel()
			if err != nil {
				s.conn.CloseNow()
				return
			}
		case <-ping.C:
			pctx, pcancel := context.WithTimeout(s.ctx, 10*time.Second)
			err := s.conn.Ping(pctx)
			pcancel()
			if err != nil {
				s.conn.CloseNow()
				return
			}
		}
	}
}

func (s *session) send(m msg) {
	select {
	case s.out <- m:
	case <-s.ctx.Done():
	}
}

// deliver queues a collaboration message without blocking the document
// that sends it: a tab too far behind is dropped, and reconnects.
// hangUp is queued behind what the tab is still to be told (why it is
// being closed), then closes it.
type hangUp struct{}

func (s *session) hangUp() {
	select {
	case s.out <- hangUp{}:
	case <-s.ctx.Done():
	default:
		s.conn.CloseNow()
	}
}

func (s *session) deliver(m collab.Message) {
	select {
	case s.out <- m:
	case <-s.ctx.Done():
	default:
		slog.Warn("workspace tab too slow; closing it", "project_id", s.projID)
		s.conn.CloseNow()
	}
}

func (s *session) fail(id string, err error) {
	m := msg{Type: "error", ID: id, ErrCode: "internal", Message: "Something went wrong on our side; it has been logged."}
	if e, ok := errs.As(err); ok && e.Kind != errs.KindInternal {
		m.ErrCode, m.Message = e.Code, e.Message
	} else {
		slog.Error("ws request failed", "project_id", s.projID, "err", err)
	}
	s.send(m)
}

func (s *session) read() {
	for {
		_, data, err := s.conn.Read(s.ctx)
		if err != nil {
			return
		}
		var m msg
		if err := json.Unmarshal(data, &m); err != nil {
			s.fail("", errs.Invalid("invalid_message", "Messages are JSON objects with a type."))
			continue
		}
		need, known := Needs[m.Type]
		if !known {
			s.fail(m.ID, errs.Invalid("unknown_type", "Unknown message type %q.", m.Type))
			continue
		}
		if err := access.Can(s.actor, need, s.access); err != nil {
			s.fail(m.ID, err)
			continue
		}
		switch m.Type {
		case "console.subscribe":
			s.subscribe()
		case "agent.subscribe":
			s.followAgent()
		case "doc.open":
			if err := s.h.Collab.Open(s.ctx, s.peer, m.Path, m.Version, m.Epoch); err != nil {
				s.fail(m.Path, err)
			}
		case "doc.push":
			version := 0
			if m.Version != nil {
				version = *m.Version
			}
			if err := s.h.Collab.Push(s.peer, m.Path, version, m.Updates); err != nil {
				s.fail(m.Path, err)
			}
		case "doc.close":
			s.h.Collab.Close(s.peer, m.Path)
		case "presence.update":
			s.h.Collab.SetPresence(s.peer, m.File, m.Selection)
		case "shell.open":
			s.openShell(m)
		case "shell.input":
			if proc := s.shell(m.ID); proc != nil {
				_, _ = proc.Write(m.Data)
			}
		case "shell.resize":
			if proc := s.shell(m.ID); proc != nil && m.Rows > 0 && m.Cols > 0 {
				_ = proc.Resize(m.Rows, m.Cols)
			}
		case "shell.close":
			if proc := s.shell(m.ID); proc != nil {
				_ = proc.Kill()
			}
		}
	}
}

func (s *session) shell(id string) runtime.Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shells[id]
}

func (s *session) subscribe() {
	follow(s, &s.subbed, func() (msg, <-chan run.Event, func(), error) {
		snap, events, cancel, err := s.h.Runs.Subscribe(s.ctx, s.actor, s.projID)
		return msg{Type: "console.reset", Run: snap.Run, Data: snap.Data}, events, cancel, err
	}, func(e run.Event) (msg, bool) {
		switch e.Type {
		case "reset":
			return msg{Type: "console.reset", Run: e.Run, Data: e.Data}, true
		case "output":
			return msg{Type: "console.output", RunID: e.RunID, Data: e.Data}, true
		case "status":
			return msg{Type: "run.status", Run: e.Run}, true
		}
		return msg{}, false
	})
}

// followAgent sends the project's latest agent run, then its events.
func (s *session) followAgent() {
	follow(s, &s.agent, func() (msg, <-chan agent.Event, func(), error) {
		latest, events, cancel, err := s.h.Agents.Subscribe(s.ctx, s.actor, s.projID)
		return msg{Type: "agent.snapshot", Agent: map[string]any{"run": latest}}, events, cancel, err
	}, func(e agent.Event) (msg, bool) {
		return msg{Type: "agent.event", Agent: e}, true
	})
}

// follow relays a feed to the tab, once per session: its snapshot, then
// its events. A feed closes when the tab falls behind; it then starts
// over from a fresh snapshot.
func follow[E any](s *session, following *bool, open func() (msg, <-chan E, func(), error), relay func(E) (msg, bool)) {
	s.mu.Lock()
	already := *following
	*following = true
	s.mu.Unlock()
	if already {
		return
	}
	s.wg.Go(func() {
		for s.ctx.Err() == nil {
			first, events, cancel, err := open()
			if err != nil {
				s.fail("", err)
				return
			}
			s.send(first)
		relaying:
			for {
				select {
				case <-s.ctx.Done():
					break relaying
				case e, ok := <-events:
					if !ok {
						break relaying
					}
					if m, ok := relay(e); ok {
						s.send(m)
					}
				}
			}
			cancel()
		}
	})
}

func (s *session) openShell(m msg) {
	if m.ID == "" || len(m.ID) > 64 {
		s.fail(m.ID, errs.Invalid("invalid_id", "A shell needs an id of 1 to 64 characters."))
		return
	}
	s.mu.Lock()
	_, exists := s.shells[m.ID]
	full := len(s.shells) >= maxShells
	s.mu.Unlock()
	switch {
	case exists:
		s.fail(m.ID, errs.Conflict("shell_exists", "A shell with this id is already open."))
		return
	case full:
		s.fail(m.ID, errs.Invalid("too_many_shells", "At most %d shells per tab.", maxShells))
		return
	}
	rows, cols := m.Rows, m.Cols
	if rows == 0 || cols == 0 {
		rows, cols = 24, 80
	}
	proc, release, err := s.h.Runs.Shell(s.ctx, s.actor, s.projID, rows, cols)
	if err != nil {
		s.fail(m.ID, err)
		return
	}
	s.mu.Lock()
	s.shells[m.ID] = proc
	s.mu.Unlock()
	s.send(msg{Type: "shell.opened", ID: m.ID})
	s.wg.Go(func() {
		defer release()
		e, err := proc.Wait(s.ctx, shellWriter{s: s, id: m.ID}, nil)
		s.mu.Lock()
		delete(s.shells, m.ID)
		s.mu.Unlock()
		code := e.Code
		if err != nil && !errors.Is(err, context.Canceled) {
			code = -1
		}
		s.send(msg{Type: "shell.exit", ID: m.ID, Code: &code})
	})
}

type shellWriter struct {
	s  *session
	id string
}

func (w shellWriter) Write(p []byte) (int, error) {
	w.s.send(msg{Type: "shell.output", ID: w.id, Data: append([]byte(nil), p...)}) // masked by the run capability
	return len(p), nil
}
