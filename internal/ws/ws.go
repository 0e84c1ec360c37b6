// Package ws is the one WebSocket of a workspace tab. Channels share it by
// message type: the project's console (run output and status), its
// shells, its agent, its documents and presence.
package ws

import (
	"context"
	"encoding/json"
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
	// Shells: the project's live shells and whom each person looks at.
	Shells []run.ShellView   `json:"shells,omitempty"`
	Active map[string]string `json:"active,omitempty"`
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

// Needs is what each message a tab sends asks of the tab's person, checked
// before the message is handled as routes check HTTP callers: the socket's
// part of the permission matrix (the server's permission test walks it).
// A type missing here is refused as unknown.
var Needs = map[string]access.Action{
	"console.subscribe": access.Read, "agent.subscribe": access.Read,
	"doc.open": access.Read, "doc.close": access.Read, "presence.update": access.Read,
	"shells.subscribe": access.Watch, "shell.attach": access.Watch, "shell.detach": access.Watch, "shell.focus": access.Watch,
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

	shells *run.Shells

	mu       sync.Mutex
	attached map[string]context.CancelFunc // the shells this tab watches, by id
	subbed   bool
	agent    bool // following the agent
	listing  bool // following the list of shells
	wg       sync.WaitGroup
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
	s := &session{h: h, actor: actor, access: p.Access(), projID: p.ID, conn: conn, out: make(chan any, 512), ctx: ctx, attached: map[string]context.CancelFunc{}}
	go s.write(cancel)
	if s.shells, err = h.Runs.Shells(ctx, actor, p.ID); err != nil {
		cancel()
		conn.Close(websocket.StatusPolicyViolation, "no access")
		return
	}
	if s.peer, err = h.Collab.Join(ctx, actor, p.ID, s.deliver, s.hangUp); err != nil {
		cancel()
		conn.Close(websocket.StatusPolicyViolation, "no access")
		return
	}
	defer h.Collab.Leave(s.peer)
	s.read()
	cancel() // the tab's shells live on: it only stops watching them
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
		case "shells.subscribe":
			s.followShells()
		case "shell.open":
			s.watchShell(m.ID, true, m.Rows, m.Cols)
		case "shell.attach":
			s.watchShell(m.ID, false, 0, 0)
		case "shell.detach":
			s.unwatchShell(m.ID)
		case "shell.focus":
			s.shells.Focus(m.ID)
		case "shell.input":
			s.check(m.ID, s.shells.Input(m.ID, m.Data))
		case "shell.resize":
			s.check(m.ID, s.shells.Resize(m.ID, m.Rows, m.Cols))
		case "shell.close":
			s.check(m.ID, s.shells.Close(m.ID))
		}
	}
}

// check tells the tab why the message for id failed, if it did.
func (s *session) check(id string, err error) {
	if err != nil {
		s.fail(id, err)
	}
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

// followShells sends the project's list of shells, then again whenever
// it changes.
func (s *session) followShells() {
	s.mu.Lock()
	already := s.listing
	s.listing = true
	s.mu.Unlock()
	if already {
		return
	}
	changed, cancel := s.shells.Follow()
	s.wg.Go(func() {
		defer cancel()
		for {
			l := s.shells.List()
			s.send(msg{Type: "shells", Shells: l.Shells, Active: l.Active})
			select {
			case <-s.ctx.Done():
				return
			case <-changed:
			}
		}
	})
}

// watchShell opens a shell (open) or joins one, and relays it to the tab:
// shell.opened or shell.attached (its screen so far), its output, and its
// exit, until then or shell.detach. A tab that falls behind is sent the
// screen again (shell.attached) and goes on from there.
func (s *session) watchShell(id string, open bool, rows, cols uint16) {
	var (
		screen run.ShellScreen
		events <-chan run.ShellEvent
		stop   func()
		err    error
	)
	if open {
		screen, events, stop, err = s.shells.Open(s.ctx, id, rows, cols)
	} else {
		screen, events, stop, err = s.shells.Attach(id)
	}
	if err != nil {
		s.fail(id, err)
		return
	}
	wctx, cancel := context.WithCancel(s.ctx)
	s.mu.Lock()
	if prev := s.attached[id]; prev != nil {
		prev() // attached twice: the newer one stands
	}
	s.attached[id] = cancel
	s.mu.Unlock()
	first := msg{Type: "shell.attached", ID: id, Data: screen.Data, Rows: screen.Rows, Cols: screen.Cols}
	if open {
		first = msg{Type: "shell.opened", ID: id, Rows: screen.Rows, Cols: screen.Cols}
	}
	s.wg.Go(func() {
		defer func() { stop() }()
		defer s.forgetShell(wctx, id)
		s.send(first)
		for {
			select {
			case <-wctx.Done():
				return
			case e, ok := <-events:
				switch {
				case !ok && wctx.Err() != nil:
					return
				case !ok:
					stop()
					if screen, events, stop, err = s.shells.Attach(id); err != nil {
						code := -1
						s.send(msg{Type: "shell.exit", ID: id, Code: &code})
						return
					}
					s.send(msg{Type: "shell.attached", ID: id, Data: screen.Data, Rows: screen.Rows, Cols: screen.Cols})
				case e.Type == "output":
					s.send(msg{Type: "shell.output", ID: id, Data: e.Data}) // masked by the run capability
				case e.Type == "exit":
					code := e.Code
					s.send(msg{Type: "shell.exit", ID: id, Code: &code})
					return
				}
			}
		}
	})
}

// forgetShell drops the tab's watch of id, unless a newer one replaced it.
func (s *session) forgetShell(wctx context.Context, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cancel := s.attached[id]; cancel != nil && wctx.Err() == nil {
		cancel()
		delete(s.attached, id)
	}
}

// unwatchShell stops relaying id to the tab; the shell goes on.
func (s *session) unwatchShell(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cancel := s.attached[id]; cancel != nil {
		cancel()
		delete(s.attached, id)
	}
}
