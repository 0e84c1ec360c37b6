package run

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"ecode/internal/auth"
	"ecode/internal/billing"
	"ecode/internal/runtime"
	"ecode/internal/store"
)

// Meter is where runs report what their sandboxes use and ask whether a
// project's payer may start more work (billing.Service). Record ignores a
// Key it has seen, so a batch may be sent again after a failure.
type Meter interface {
	Record(ctx context.Context, us ...billing.Usage) error
	Allow(ctx context.Context, projectID string) error
}

const (
	defaultMeterInterval = 30 * time.Second
	// finalWait bounds a sandbox's last sample's Record: it is taken on the
	// way to stopping, which no request waits on.
	finalWait = 5 * time.Second
)

// meters samples each running sandbox's cgroup: the CPU time since the
// last sample and memory held × the seconds between samples. A sandbox is
// sampled every interval, and once more just before the platform stops
// it, while its cgroup can still be read; one that dies of itself loses
// only what it used since its last sample.
type meters struct {
	meter    Meter
	interval time.Duration

	mu    sync.Mutex
	boxes map[runtime.Sandbox]*metered
	out   *billing.Outbox
}

// metered is one sandbox instance, named apart from its project: a
// project's next sandbox starts its counters afresh.
type metered struct {
	id, projectID, userID string

	mu    sync.Mutex
	seq   int
	cpu   int64     // the cgroup's CPU µs at the last sample
	gpuMs int64     // how long its GPU had been held at the last sample
	at    time.Time // the last sample
	ended bool
}

func newMeters(m Meter, interval time.Duration) *meters {
	if m == nil {
		return nil
	}
	if interval <= 0 {
		interval = defaultMeterInterval
	}
	return &meters{meter: m, interval: interval, boxes: map[runtime.Sandbox]*metered{}, out: billing.NewOutbox(m, "sandbox usage")}
}

type starterKey struct{}

// startedBy notes who asks for the sandbox in ctx, so that a sandbox this
// starts is charged to them as a person (its project's payer pays).
func startedBy(ctx context.Context, actor *auth.User) context.Context {
	if actor == nil {
		return ctx
	}
	return context.WithValue(ctx, starterKey{}, actor.ID)
}

// allow asks the meter whether the project may start work; without one,
// everything may.
func (s *Service) allow(ctx context.Context, projectID string) error {
	if s.meters == nil {
		return nil
	}
	return s.meters.meter.Allow(ctx, projectID)
}

// track starts metering sb, if it is not metered already: the first
// person to use a sandbox is the one who started it.
func (ms *meters) track(ctx context.Context, projectID string, sb runtime.Sandbox) {
	if ms == nil {
		return
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.boxes[sb] != nil || isDone(sb) {
		return
	}
	userID, _ := ctx.Value(starterKey{}).(string)
	ms.boxes[sb] = &metered{id: store.NewID(), projectID: projectID, userID: userID, at: time.Now()}
}

// sample reads what m's sandbox used since the last sample.
func (m *metered) sample(sb runtime.Sandbox, now time.Time, final bool) []billing.Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended {
		return nil
	}
	m.ended = final
	m.seq++
	prefix := "sbx:" + m.id + ":" + strconv.Itoa(m.seq)
	var out []billing.Usage
	if g, ok := sb.(withGPU); ok {
		held := g.lease.Held().Milliseconds()
		if d := held - m.gpuMs; d > 0 {
			out = append(out, billing.Usage{Key: prefix + ":gpu", Meter: billing.MeterGPU, Quantity: d, Attr: g.lease.Unit.Profile,
				ProjectID: m.projectID, UserID: m.userID, At: now})
		}
		m.gpuMs = max(held, m.gpuMs)
	}
	r, ok := sb.Resources()
	if !ok {
		return out
	}
	elapsed := now.Sub(m.at).Milliseconds()
	cpu := max(r.CPUUsec-m.cpu, 0)
	mem := r.MemoryUsed * max(elapsed, 0) / 1000
	m.cpu, m.at = max(r.CPUUsec, m.cpu), now
	if cpu > 0 {
		out = append(out, billing.Usage{Key: prefix + ":cpu", Meter: billing.MeterCPU, Quantity: cpu,
			ProjectID: m.projectID, UserID: m.userID, At: now})
	}
	if mem > 0 {
		out = append(out, billing.Usage{Key: prefix + ":mem", Meter: billing.MeterMemory, Quantity: mem,
			ProjectID: m.projectID, UserID: m.userID, At: now})
	}
	return out
}

// pass samples every metered sandbox and forgets those that have ended.
func (ms *meters) pass(now time.Time) []billing.Usage {
	ms.mu.Lock()
	boxes := make(map[runtime.Sandbox]*metered, len(ms.boxes))
	for sb, m := range ms.boxes {
		boxes[sb] = m
		if isDone(sb) {
			delete(ms.boxes, sb)
		}
	}
	ms.mu.Unlock()
	var out []billing.Usage
	for sb, m := range boxes {
		out = append(out, m.sample(sb, now, isDone(sb))...)
	}
	return out
}

// send records us and what an earlier failure left, in one call.
func (ms *meters) send(ctx context.Context, us []billing.Usage) { ms.out.Send(ctx, us) }

// final takes sb's last sample before the platform stops it.
func (ms *meters) final(sb runtime.Sandbox) {
	if ms == nil {
		return
	}
	ms.mu.Lock()
	m := ms.boxes[sb]
	delete(ms.boxes, sb)
	ms.mu.Unlock()
	if m == nil {
		return
	}
	us := m.sample(sb, time.Now(), true)
	if len(us) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), finalWait)
	defer cancel()
	ms.send(ctx, us)
}

// run samples every interval until ctx ends; the closed channel says it
// has. Sandboxes stopped at the end are sampled by final.
func (ms *meters) run(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if ms == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		t := time.NewTicker(ms.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				ms.send(ctx, ms.pass(now))
			}
		}
	}()
	return done
}

// RunningProjects lists the projects whose sandbox is up (billing's
// Workloads).
func (s *Service) RunningProjects() []string { return s.pool.ids() }

// StopProject ends the project's run, shells and sandbox, whoever started
// them, and says why in its console (billing: its payer is out of credits).
func (s *Service) StopProject(ctx context.Context, projectID, reason string) {
	c := s.console(projectID)
	c.mu.Lock()
	r := c.current
	c.mu.Unlock()
	if reason != "" {
		if r == nil {
			// A console with no run yet: a stopped one to carry the reason.
			r = &Run{ID: store.NewID(), ProjectID: projectID, StartedAt: time.Now(), status: Stopped, endedAt: time.Now(),
				out: ring{max: keptOutput}, cancel: func() {}, done: make(chan struct{})}
			close(r.done)
			c.begin(r)
		}
		// Before the stop, so whoever sees the run end sees why.
		c.write(r, fmt.Appendf(nil, "\r\n%s[%s]%s\r\n", red, reason, reset))
	}
	if r != nil && r.active() {
		r.stop()
		select {
		case <-r.done:
		case <-ctx.Done():
		}
	}
	s.pool.stop(projectID) // its shells end with it
	slog.InfoContext(ctx, "project's workloads stopped", "project_id", projectID, "reason", reason)
}
