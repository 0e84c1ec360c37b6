package gpu

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"ecode/internal/errs"
)

// Want is what an owner asks for. The zero Want is any unit at all.
type Want struct {
	// Whole asks for a whole GPU, never a MIG slice.
	Whole bool `json:"whole,omitempty"`
	// MinMiB asks for at least this much GPU memory.
	MinMiB int `json:"minMiB,omitempty"`
	// Profile asks for a MIG slice of exactly this profile ("1g.10gb").
	Profile string `json:"profile,omitempty"`
}

func (w Want) validate() error {
	switch {
	case w.MinMiB < 0:
		return errs.Invalid("gpu_want_invalid", "GPU memory cannot be negative")
	case w.Whole && w.Profile != "":
		return errs.Invalid("gpu_want_invalid", "ask for a whole GPU or a MIG profile, not both")
	}
	return nil
}

func (w Want) fits(u Unit) bool {
	switch {
	case u.Problem != "":
		return false
	case w.Whole && u.Profile != "":
		return false
	case w.Profile != "" && u.Profile != w.Profile:
		return false
	}
	return u.MemoryMiB >= w.MinMiB
}

// String names the want for messages: "2nd in line for a whole GPU".
func (w Want) String() string {
	s := "a GPU"
	switch {
	case w.Profile != "":
		s = "a MIG " + w.Profile + " slice"
	case w.Whole:
		s = "a whole GPU"
	}
	if w.MinMiB > 0 {
		s += fmt.Sprintf(" with at least %d MiB", w.MinMiB)
	}
	return s
}

// Unit is what one lease holds: a whole GPU, or one MIG slice of a GPU in
// MIG mode (such a GPU is never leased whole).
type Unit struct {
	UUID      string   `json:"uuid"`
	Name      string   `json:"name"`              // "NVIDIA A100-SXM4-80GB", "MIG 2g.20gb"
	Profile   string   `json:"profile,omitempty"` // the MIG profile; "" for a whole GPU
	GPUIndex  int      `json:"gpuIndex"`
	MemoryMiB int      `json:"memoryMiB"`
	Nodes     []string `json:"nodes,omitempty"` // none for a simulated or remote unit
	// BusID is its GPU's PCI address: the one /proc/driver/nvidia/gpus
	// entry a sandbox should see, for nvidia-smi there to show this GPU only.
	BusID string `json:"busId,omitempty"`
	// Problem is why the unit cannot be leased (a capability node missing):
	// it is listed, for the admin page, and never handed out.
	Problem string `json:"problem,omitempty"`
}

// Options are a Pool's settings; the zero value is the real host.
type Options struct {
	// Root is the folder the host's / is found at, for device nodes; "" is /.
	Root string
	// Now is the clock leases are timed by; time.Now when nil.
	Now func() time.Time
	// Run runs nvidia-smi for Usage; ExecRunner when nil.
	Run Runner
}

// Pool hands an Inventory's units out, one lease per unit.
//
// Fairness: waiters queue in arrival order. A unit that comes free goes to
// the earliest waiter it can serve; so a later waiter goes ahead only with a
// unit that nobody before it can use (a free MIG slice while the head of the
// line waits for a whole GPU), and never takes one an earlier waiter wants.
// Among free units that fit, the smallest is chosen, keeping big GPUs for
// the wants only they can serve.
type Pool struct {
	now       func() time.Time
	run       Runner
	simulated bool
	remote    bool // the units are a cluster's: nothing to read here
	reason    string

	mu      sync.Mutex
	slots   []*slot
	queue   []*waiter
	changed chan struct{} // closed and replaced on every change
}

type slot struct {
	unit  Unit
	lease *Lease // nil while free
}

type waiter struct {
	owner string
	want  Want
	since time.Time
	grant chan *Lease // buffered: the granter never blocks
}

// NewPool makes the units of inv. A unit whose device nodes are missing is
// kept with its Problem and never leased: fix the host and make a new Pool.
func NewPool(inv Inventory, opts Options) *Pool {
	p := &Pool{now: opts.Now, run: opts.Run, simulated: inv.Simulated, remote: inv.Remote, reason: inv.Reason, changed: make(chan struct{})}
	if p.now == nil {
		p.now = time.Now
	}
	if p.run == nil {
		p.run = ExecRunner
	}
	// Simulated units have no nodes, and remote ones have theirs elsewhere.
	local := !inv.Simulated && !inv.Remote
	for _, d := range inv.Devices {
		if !d.MIG {
			u := Unit{UUID: d.UUID, Name: d.Name, GPUIndex: d.Index, MemoryMiB: d.MemoryMiB, BusID: d.BusID}
			if local {
				u.Nodes = d.Nodes(opts.Root)
				if !exists(opts.Root, u.Nodes[0]) {
					u.Problem = u.Nodes[0] + " is missing"
				}
			}
			p.slots = append(p.slots, &slot{unit: u})
			continue
		}
		for _, s := range d.Slices {
			u := Unit{UUID: s.UUID, Name: "MIG " + s.Name, Profile: s.Name, GPUIndex: d.Index, MemoryMiB: s.MemoryMiB, BusID: d.BusID}
			if local {
				nodes, err := s.Nodes(opts.Root)
				switch {
				case err != nil:
					u.Problem = err.Error()
				case !exists(opts.Root, nodes[0]):
					u.Problem = nodes[0] + " is missing"
				}
				u.Nodes = nodes
			}
			p.slots = append(p.slots, &slot{unit: u})
		}
	}
	return p
}

// Acquire leases a unit that fits want to owner, waiting in line while none
// is free. It fails at once when no unit could ever fit, and leaves the line
// when ctx ends.
func (p *Pool) Acquire(ctx context.Context, owner string, want Want) (*Lease, error) {
	if owner == "" {
		return nil, errs.Invalid("gpu_owner_missing", "a GPU lease needs an owner")
	}
	if err := want.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wait for %s: %w", want, err)
	}
	p.mu.Lock()
	if err := p.possible(want); err != nil {
		p.mu.Unlock()
		return nil, err
	}
	// No free unit fits any waiter (dispatch sees to that), so a free one
	// that fits is nobody else's: take it without queueing.
	if s := p.bestFree(want); s != nil {
		l := p.grant(s, owner)
		p.notify()
		p.mu.Unlock()
		return l, nil
	}
	w := &waiter{owner: owner, want: want, since: p.now(), grant: make(chan *Lease, 1)}
	p.queue = append(p.queue, w)
	p.notify()
	p.mu.Unlock()

	select {
	case l := <-w.grant:
		return l, nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	queued := slices.Contains(p.queue, w)
	if queued {
		p.queue = slices.DeleteFunc(p.queue, func(x *waiter) bool { return x == w })
		p.notify()
	}
	p.mu.Unlock()
	if !queued {
		// Served just as we gave up: pass the unit on.
		(<-w.grant).Release()
	}
	return nil, fmt.Errorf("wait for %s: %w", want, ctx.Err())
}

// possible fails when no usable unit could ever serve want.
func (p *Pool) possible(want Want) error {
	var usable []Unit
	for _, s := range p.slots {
		if want.fits(s.unit) {
			return nil
		}
		if s.unit.Problem == "" {
			usable = append(usable, s.unit)
		}
	}
	if len(usable) == 0 {
		why := p.reason
		if why == "" {
			why = "every GPU here has a problem; see the admin page"
		}
		return errs.Unavailable("gpu_unavailable", "no GPU is available: %s", why)
	}
	return errs.Invalid("gpu_unsatisfiable", "no GPU here can serve %s: there are %s", want, describe(usable))
}

// describe summarises units for a person: "2× NVIDIA A100-SXM4-80GB (81920 MiB)".
func describe(units []Unit) string {
	type kind struct {
		name string
		mib  int
	}
	var order []kind
	count := map[kind]int{}
	for _, u := range units {
		k := kind{u.Name, u.MemoryMiB}
		if count[k] == 0 {
			order = append(order, k)
		}
		count[k]++
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%d× %s (%d MiB)", count[k], k.name, k.mib)
	}
	return strings.Join(parts, ", ")
}

// bestFree is the smallest free unit that fits want, the first of equals.
func (p *Pool) bestFree(want Want) *slot {
	var best *slot
	for _, s := range p.slots {
		if s.lease == nil && want.fits(s.unit) && (best == nil || s.unit.MemoryMiB < best.unit.MemoryMiB) {
			best = s
		}
	}
	return best
}

func (p *Pool) grant(s *slot, owner string) *Lease {
	u := s.unit
	u.Nodes = slices.Clone(u.Nodes)
	l := &Lease{Unit: u, Owner: owner, Env: Env(u.UUID), Since: p.now(), pool: p, slot: s}
	s.lease = l
	return l
}

// dispatch hands free units to waiters, earliest first; a waiter no free
// unit fits stays, and those behind it may still be served.
func (p *Pool) dispatch() {
	p.queue = slices.DeleteFunc(p.queue, func(w *waiter) bool {
		s := p.bestFree(w.want)
		if s == nil {
			return false
		}
		w.grant <- p.grant(s, w.owner)
		return true
	})
}

func (p *Pool) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Changed is closed at the next change of leases or line: a page showing
// Snapshot or a wait message waits on it to refresh.
func (p *Pool) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// Position is where an owner's earliest wait stands.
type Position struct {
	Place int  `json:"place"` // 1 for the first in line
	Want  Want `json:"want"`  // what it waits for
	InUse int  `json:"inUse"` // units that could serve it, leased now
	Units int  `json:"units"` // units that could serve it
}

// String is the wait message: "2nd in line for a GPU; 3 of 3 in use".
func (p Position) String() string {
	return fmt.Sprintf("%s in line for %s; %d of %d in use", ordinal(p.Place), p.Want, p.InUse, p.Units)
}

// Message is the wait message with what it is about: "Waiting for a GPU:
// 2nd in line for a GPU; 3 of 3 in use".
func (p Position) Message() string { return "Waiting for a GPU: " + p.String() }

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// Queue says where owner waits; false when it is not waiting.
func (p *Pool) Queue(owner string) (Position, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, w := range p.queue {
		if w.owner != owner {
			continue
		}
		pos := Position{Place: i + 1, Want: w.want}
		for _, s := range p.slots {
			if w.want.fits(s.unit) {
				pos.Units++
				if s.lease != nil {
					pos.InUse++
				}
			}
		}
		return pos, true
	}
	return Position{}, false
}

// Snapshot is the pool at one moment, for the health and admin pages.
type Snapshot struct {
	Simulated bool        `json:"simulated"`
	Reason    string      `json:"reason,omitempty"`
	Units     []UnitState `json:"units"`
	Queue     []Waiting   `json:"queue"`
}

// UnitState is a unit and who holds it, if anyone.
type UnitState struct {
	Unit
	Owner string    `json:"owner,omitempty"`
	Since time.Time `json:"since,omitzero"`
}

// Waiting is one wait in line, first in line first.
type Waiting struct {
	Owner string    `json:"owner"`
	Want  Want      `json:"want"`
	Since time.Time `json:"since"`
}

// Snapshot lists the units, their holders and the line.
func (p *Pool) Snapshot() Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	snap := Snapshot{Simulated: p.simulated, Reason: p.reason, Units: []UnitState{}, Queue: []Waiting{}}
	for _, s := range p.slots {
		st := UnitState{Unit: s.unit}
		st.Nodes = slices.Clone(st.Nodes)
		if s.lease != nil {
			st.Owner, st.Since = s.lease.Owner, s.lease.Since
		}
		snap.Units = append(snap.Units, st)
	}
	for _, w := range p.queue {
		snap.Queue = append(snap.Queue, Waiting{Owner: w.owner, Want: w.want, Since: w.since})
	}
	return snap
}

// Lease is one unit held by one owner until Release.
type Lease struct {
	Unit  Unit      // what is held: its UUID and device nodes
	Owner string    // who holds it
	Env   []string  // CUDA_VISIBLE_DEVICES and NVIDIA_VISIBLE_DEVICES for it
	Since time.Time // when it was granted

	pool *Pool
	slot *slot
	// Guarded by pool.mu.
	released bool
	held     time.Duration
}

// Held is how long the unit has been held: until now, or until Release.
// Billing meters GPU-seconds from it.
func (l *Lease) Held() time.Duration {
	l.pool.mu.Lock()
	defer l.pool.mu.Unlock()
	if l.released {
		return l.held
	}
	return l.pool.now().Sub(l.Since)
}

// Release hands the unit to the next waiter it fits, or frees it. A second
// Release does nothing.
func (l *Lease) Release() {
	p := l.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if l.released {
		return
	}
	l.released = true
	l.held = p.now().Sub(l.Since)
	l.slot.lease = nil
	p.dispatch()
	p.notify()
}
