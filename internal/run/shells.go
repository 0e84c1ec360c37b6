package run

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/project"
	"ecode/internal/runtime"
)

// Shells belong to the project, not to the tab that opened them: everyone
// who may edit the project sees the list, joins any of them and types in
// it; everyone who may read the project watches. A shell outlives the tab
// that opened it (a reload re-attaches), and ends when someone who may
// edit closes it, when it exits, or once nobody has watched it for the
// idle timeout.

const (
	defaultShellIdle = 10 * time.Minute
	defaultMaxShells = 16
	shellScrollback  = 256 << 10 // bytes of output a newcomer is shown

	// shellEcho is how long editors' output may wait for the rest of what
	// could be a secret: short enough that typing feels immediate.
	shellEcho = 30 * time.Millisecond
)

// ShellPerson is who opened a shell.
type ShellPerson struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// ShellView is a live shell as the project's tabs list it.
type ShellView struct {
	ID        string      `json:"id"`
	Title     string      `json:"title"`
	Opener    ShellPerson `json:"opener"`
	Rows      uint16      `json:"rows"`
	Cols      uint16      `json:"cols"`
	CreatedAt int64       `json:"createdAt"` // unix ms
}

// ShellList is the project's live shells, oldest first, and the shell
// each person last looked at (by user id), which is what following them
// shows.
type ShellList struct {
	Shells []ShellView       `json:"shells"`
	Active map[string]string `json:"active"`
}

// ShellScreen is what a shell shows someone who joins it: its recent
// output, to replay, and its size.
type ShellScreen struct {
	Data       []byte
	Rows, Cols uint16
}

// ShellEvent is what a shell's watcher receives: "output" (Data), then at
// most one "exit" (Code), after which the channel closes. A channel closed
// without an exit means the watcher fell behind: it may attach again.
type ShellEvent struct {
	Type string
	Data []byte
	Code int
}

var errNoShell = errs.NotFound("no_such_shell", "This shell has ended, or never existed: open a new one.")

// audience is who a shell's output is masked for. Editors run code with
// the secrets in its environment anyway, so what their stream holds back
// (the start of what may be a secret) is let go after shellEcho without
// more output, to keep typing immediate. Viewers may not know the
// secrets: their stream holds it back until the output shows it is not one.
type audience int

const (
	editors audience = iota
	viewers
)

// shellHub is one project's shells and who follows their list.
type shellHub struct {
	mu       sync.Mutex
	shells   map[string]*shell
	starting map[string]bool // ids being opened: taken, and counted in the limit
	active   map[string]string
	watchers map[chan struct{}]struct{}
	opened   int // shells ever opened here, to number their titles
}

func newShellHub() *shellHub {
	return &shellHub{shells: map[string]*shell{}, starting: map[string]bool{}, active: map[string]string{}, watchers: map[chan struct{}]struct{}{}}
}

// changed tells every follower of the list that it changed. Each has room
// for one notice: they read the list itself, so notices coalesce.
func (h *shellHub) changed() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.changedLocked()
}

func (h *shellHub) changedLocked() {
	for ch := range h.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (h *shellHub) list() ShellList {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := ShellList{Shells: make([]ShellView, 0, len(h.shells)), Active: make(map[string]string, len(h.active))}
	for _, sh := range h.shells {
		out.Shells = append(out.Shells, sh.view())
	}
	slices.SortFunc(out.Shells, func(a, b ShellView) int {
		return cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	for user, id := range h.active {
		out.Active[user] = id
	}
	return out
}

func (h *shellHub) get(id string) *shell {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.shells[id]
}

// shell is one live terminal in the project's sandbox.
type shell struct {
	id, title string
	opener    ShellPerson
	created   time.Time
	proc      runtime.Process
	idleAfter time.Duration

	mu         sync.Mutex
	rows, cols uint16
	screens    [2]ring // the recent output, as each audience was shown it
	subs       map[*shellSub]struct{}
	idle       *time.Timer // runs while nobody is attached
	ended      bool
}

type shellSub struct {
	ch  chan ShellEvent
	who audience
}

func (sh *shell) view() ShellView {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return ShellView{ID: sh.id, Title: sh.title, Opener: sh.opener, Rows: sh.rows, Cols: sh.cols, CreatedAt: sh.created.UnixMilli()}
}

// output records and sends what who is shown.
func (sh *shell) output(who audience, p []byte) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.screens[who].write(p)
	for sub := range sh.subs {
		if sub.who != who {
			continue
		}
		// One place is kept free for the exit, which must always arrive.
		if len(sub.ch) >= cap(sub.ch)-1 {
			sh.dropLocked(sub) // too slow: it attaches again, from the screen
			continue
		}
		sub.ch <- ShellEvent{Type: "output", Data: append([]byte(nil), p...)}
	}
}

// attach adds a watcher: what the shell shows now, then what follows.
func (sh *shell) attach(who audience) (ShellScreen, <-chan ShellEvent, func(), error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.ended {
		return ShellScreen{}, nil, nil, errNoShell
	}
	sub := &shellSub{ch: make(chan ShellEvent, subBuffer+1), who: who}
	sh.subs[sub] = struct{}{}
	if sh.idle != nil {
		sh.idle.Stop()
		sh.idle = nil
	}
	screen := ShellScreen{Data: sinceLine(sh.screens[who]), Rows: sh.rows, Cols: sh.cols}
	return screen, sub.ch, func() {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		sh.dropLocked(sub)
	}, nil
}

// dropLocked detaches sub; sh.mu must be held. A shell nobody watches any
// more starts its idle countdown.
func (sh *shell) dropLocked(sub *shellSub) {
	if _, ok := sh.subs[sub]; !ok {
		return
	}
	delete(sh.subs, sub)
	close(sub.ch)
	if len(sh.subs) == 0 && !sh.ended && sh.idle == nil {
		sh.idle = time.AfterFunc(sh.idleAfter, func() {
			slog.Info("shell closed: nobody watched it", "shell", sh.id, "idle", sh.idleAfter)
			_ = sh.proc.Kill()
		})
	}
}

// exit tells every watcher how the shell ended and lets them go.
func (sh *shell) exit(code int) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.ended = true
	if sh.idle != nil {
		sh.idle.Stop()
	}
	for sub := range sh.subs {
		sub.ch <- ShellEvent{Type: "exit", Code: code}
		close(sub.ch)
	}
	sh.subs = nil
}

// sinceLine is a screen's output to replay. Once the ring has cut its
// start, that start may be the middle of a line or an escape sequence:
// the replay begins at the next line instead.
func sinceLine(r ring) []byte {
	buf := r.buf
	if len(buf) >= r.max {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	return append([]byte(nil), buf...)
}

// Shells is one workspace tab's hold on its project's shells, with the
// access the tab's person had when they asked: a change of role reconnects
// the tab, which asks again.
type Shells struct {
	svc      *Service
	hub      *shellHub
	p        *project.Project
	actor    *auth.User
	watchErr error // why this person may not see the shells (a public project's visitor); nil when they may
	writeErr error // why this person may not type, resize, open or close; nil when they may
}

// Shells returns the person's hold on the project's shells; its members
// may list and watch them, its editors change them.
func (s *Service) Shells(ctx context.Context, actor *auth.User, projectID string) (*Shells, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	h := s.shells[p.ID]
	if h == nil {
		h = newShellHub()
		s.shells[p.ID] = h
	}
	s.mu.Unlock()
	return &Shells{svc: s, hub: h, p: p, actor: actor,
		watchErr: access.Can(actor, access.Watch, p.Access()), writeErr: access.Can(actor, access.Write, p.Access())}, nil
}

func (d *Shells) audience() audience {
	if d.writeErr == nil {
		return editors
	}
	return viewers
}

// List is the project's live shells now.
func (d *Shells) List() ShellList { return d.hub.list() }

// Follow notifies the returned channel whenever the list changes, until
// cancel; read List for what it is then.
func (d *Shells) Follow() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	d.hub.mu.Lock()
	d.hub.watchers[ch] = struct{}{}
	d.hub.mu.Unlock()
	return ch, func() {
		d.hub.mu.Lock()
		delete(d.hub.watchers, ch)
		d.hub.mu.Unlock()
	}
}

// Open starts a shell under the id the tab chose (unique in the project)
// and attaches the tab to it, as Attach does.
func (d *Shells) Open(ctx context.Context, id string, rows, cols uint16) (ShellScreen, <-chan ShellEvent, func(), error) {
	if d.writeErr != nil {
		return ShellScreen{}, nil, nil, d.writeErr
	}
	if id == "" || len(id) > 64 {
		return ShellScreen{}, nil, nil, errs.Invalid("invalid_id", "A shell needs an id of 1 to 64 characters.")
	}
	if rows == 0 || cols == 0 {
		rows, cols = 24, 80
	}
	h, limit := d.hub, d.svc.opts.MaxShells
	h.mu.Lock()
	switch {
	case h.shells[id] != nil || h.starting[id]:
		h.mu.Unlock()
		return ShellScreen{}, nil, nil, errs.Conflict("shell_exists", "A shell with this id is already open.")
	case len(h.shells)+len(h.starting) >= limit:
		h.mu.Unlock()
		return ShellScreen{}, nil, nil, errs.Conflict("too_many_shells", "This project already has %d shells open, the most it may have: close one to open another.", limit)
	}
	h.starting[id] = true
	h.opened++
	title := fmt.Sprintf("Shell %d", h.opened)
	h.mu.Unlock()

	sh, err := d.start(ctx, id, title, rows, cols)
	h.mu.Lock()
	delete(h.starting, id)
	if err == nil {
		h.shells[id] = sh
		h.changedLocked()
	}
	h.mu.Unlock()
	if err != nil {
		return ShellScreen{}, nil, nil, err
	}
	return sh.attach(editors)
}

// start runs bash in the sandbox and relays its output, masked for each
// audience, until it ends; then the shell leaves the list.
func (d *Shells) start(ctx context.Context, id, title string, rows, cols uint16) (*shell, error) {
	sb, release, err := d.svc.sandbox(startedBy(ctx, d.actor), d.p)
	if err != nil {
		return nil, err
	}
	secrets := d.svc.secretEnv(ctx, d.p.ID)
	// The shell outlives the request that opened it; the sandbox's end ends it.
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	proc, err := sb.Exec(pctx, runtime.Command{Argv: []string{"bash", "-i"}, TTY: true, Rows: rows, Cols: cols,
		Env: append(secrets, "PS1=\\[\\e[32m\\]\\w\\[\\e[0m\\]$ ")})
	if err != nil {
		cancel()
		release()
		return nil, errs.Unavailable("shell_failed", "The shell did not start: %v.", err)
	}
	sh := &shell{id: id, title: title, created: time.Now(), proc: proc, idleAfter: d.svc.opts.ShellIdle,
		rows: rows, cols: cols, subs: map[*shellSub]struct{}{},
		screens: [2]ring{{max: shellScrollback}, {max: shellScrollback}}}
	if d.actor != nil {
		sh.opener = ShellPerson{ID: d.actor.ID, Username: d.actor.Username}
	}
	m := newMasker(secrets)
	forEditors, forViewers := m.Writer(screenWriter{sh, editors}), m.Writer(screenWriter{sh, viewers})
	forEditors.idle = shellEcho
	go func() {
		defer release()
		defer cancel()
		e, err := proc.Wait(pctx, io.MultiWriter(forEditors, forViewers), nil)
		_ = forEditors.Flush()
		_ = forViewers.Flush()
		code := e.Code
		if err != nil && !errors.Is(err, context.Canceled) {
			code = -1
		}
		sh.exit(code)
		d.hub.mu.Lock()
		if d.hub.shells[id] == sh {
			delete(d.hub.shells, id)
		}
		for user, active := range d.hub.active {
			if active == id {
				delete(d.hub.active, user)
			}
		}
		d.hub.changedLocked()
		d.hub.mu.Unlock()
	}()
	return sh, nil
}

// screenWriter is an audience's masked output of a shell.
type screenWriter struct {
	sh  *shell
	who audience
}

func (w screenWriter) Write(p []byte) (int, error) {
	w.sh.output(w.who, p)
	return len(p), nil
}

// Attach follows a shell: what it shows now, then its output until it
// exits or cancel. Viewers see it read-only, masked strictly.
func (d *Shells) Attach(id string) (ShellScreen, <-chan ShellEvent, func(), error) {
	if d.watchErr != nil {
		return ShellScreen{}, nil, nil, d.watchErr
	}
	sh := d.hub.get(id)
	if sh == nil {
		return ShellScreen{}, nil, nil, errNoShell
	}
	return sh.attach(d.audience())
}

// writable returns the shell id names, when this person may change it.
func (d *Shells) writable(id string) (*shell, error) {
	if d.writeErr != nil {
		return nil, d.writeErr
	}
	sh := d.hub.get(id)
	if sh == nil {
		return nil, errNoShell
	}
	return sh, nil
}

// Input types into a shell.
func (d *Shells) Input(id string, data []byte) error {
	sh, err := d.writable(id)
	if err != nil {
		return err
	}
	if _, err := sh.proc.Write(data); err != nil {
		return errs.Unavailable("shell_lost", "The shell is not answering: %v.", err).With(err)
	}
	return nil
}

// Resize sets a shell's terminal size for everyone: the last to resize wins.
func (d *Shells) Resize(id string, rows, cols uint16) error {
	sh, err := d.writable(id)
	if err != nil {
		return err
	}
	if rows == 0 || cols == 0 || rows > 1000 || cols > 1000 {
		return errs.Invalid("invalid_size", "A terminal has 1 to 1000 rows and columns.")
	}
	sh.mu.Lock()
	same := sh.rows == rows && sh.cols == cols
	sh.rows, sh.cols = rows, cols
	sh.mu.Unlock()
	if same {
		return nil
	}
	if err := sh.proc.Resize(rows, cols); err != nil {
		return errs.Unavailable("shell_lost", "The shell is not answering: %v.", err).With(err)
	}
	d.hub.changed()
	return nil
}

// Close ends a shell for everyone watching it.
func (d *Shells) Close(id string) error {
	sh, err := d.writable(id)
	if err != nil {
		return err
	}
	_ = sh.proc.Kill()
	return nil
}

// Focus records the shell this person is looking at ("" or a shell that
// has just ended: none), which is what those following them see.
func (d *Shells) Focus(id string) {
	if d.actor == nil {
		return // a visitor is not someone to follow
	}
	h := d.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shells[id] == nil {
		id = ""
	}
	prev, had := h.active[d.actor.ID]
	switch {
	case id == "" && !had, id == prev:
		return
	case id == "":
		delete(h.active, d.actor.ID)
	default:
		h.active[d.actor.ID] = id
	}
	h.changedLocked()
}
