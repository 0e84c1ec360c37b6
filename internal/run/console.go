package run

import "sync"

// ring keeps the last n bytes written.
type ring struct {
	buf []byte
	max int
}

func (r *ring) write(p []byte) {
	r.buf = append(r.buf, p...)
	if over := len(r.buf) - r.max; over > 0 {
		r.buf = append(r.buf[:0], r.buf[over:]...)
	}
}

// Event is what a console subscriber receives.
type Event struct {
	Type  string // "reset", "output", "status"
	Run   *View  // reset, status
	RunID string // output
	Data  []byte // reset, output
}

// console is a project's shared console: the current run, the output it
// has printed (kept in a ring so a reload or a second tab sees it), and
// the subscribers that get every change. One lock orders output and
// subscriptions, so a new subscriber's snapshot and its live events never
// overlap or leave a gap.
type console struct {
	mu      sync.Mutex
	current *Run
	history []*Run
	out     ring
	subs    map[chan Event]struct{}
}

const (
	keptOutput = 1 << 20 // bytes of output kept per project
	keptRuns   = 20
	subBuffer  = 256 // events a subscriber may lag behind before it is dropped
)

func newConsole() *console {
	return &console{out: ring{max: keptOutput}, subs: map[chan Event]struct{}{}}
}

// subscribe returns the current state and a channel of what follows. The
// channel is closed when the subscriber falls too far behind or cancels.
func (c *console) subscribe() (Event, <-chan Event, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	snap := Event{Type: "reset", Data: append([]byte(nil), c.out.buf...)}
	if c.current != nil {
		v := c.current.view()
		snap.Run = &v
	}
	ch, cancel := c.addSubLocked()
	return snap, ch, cancel
}

// addSubLocked adds a subscriber; c.mu must be held.
func (c *console) addSubLocked() (chan Event, func()) {
	ch := make(chan Event, subBuffer)
	c.subs[ch] = struct{}{}
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.subs[ch]; ok {
			delete(c.subs, ch)
			close(ch)
		}
	}
}

// publishLocked sends e to every subscriber; c.mu must be held.
func (c *console) publishLocked(e Event) {
	for ch := range c.subs {
		select {
		case ch <- e:
		default: // too slow: drop it rather than stall the run
			delete(c.subs, ch)
			close(ch)
		}
	}
}

// begin makes r the current run with a fresh console.
func (c *console) begin(r *Run) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current = r
	c.history = append([]*Run{r}, c.history...)
	if len(c.history) > keptRuns {
		c.history = c.history[:keptRuns]
	}
	c.out.buf = c.out.buf[:0]
	v := r.view()
	c.publishLocked(Event{Type: "reset", Run: &v})
}

// write appends output of run r.
func (c *console) write(r *Run, p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.out.write(p)
	if c.current == r {
		c.out.write(p)
		c.publishLocked(Event{Type: "output", RunID: r.ID, Data: append([]byte(nil), p...)})
	}
}

// changed publishes r's new status.
func (c *console) changed(r *Run) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := r.view()
	c.publishLocked(Event{Type: "status", Run: &v})
}

func (c *console) find(id string) *Run {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.history {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (c *console) list() ([]View, *View) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]View, 0, len(c.history))
	for _, r := range c.history {
		out = append(out, r.view())
	}
	var cur *View
	if c.current != nil {
		v := c.current.view()
		cur = &v
	}
	return out, cur
}

// consoleWriter is an io.Writer into a run's console. What it is given
// must already be masked: a run writes through a maskWriter.
type consoleWriter struct {
	c *console
	r *Run
}

func (w consoleWriter) Write(p []byte) (int, error) {
	w.c.write(w.r, p)
	return len(p), nil
}

// attach returns what run r has printed so far and, while it is still
// going, a channel of what follows.
func (c *console) attach(r *Run) ([]byte, <-chan Event, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	snap := append([]byte(nil), r.out.buf...)
	if r.over() {
		return snap, nil, func() {}
	}
	ch, cancel := c.addSubLocked()
	return snap, ch, cancel
}
