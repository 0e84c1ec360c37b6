package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"ecode/internal/billing"
	"ecode/internal/errs"
	"ecode/internal/gpu"
	"ecode/internal/runtime"
	"ecode/internal/store"
)

const defaultMeterInterval = 30 * time.Second

// metering is what deployments cost as it happens, and which projects'
// deployments are paused because their payer is out of credits. Paused is
// kept in memory: billing asserts it again on every sweep, a restart
// included.
type metering struct {
	meter    billing.Recorder // nil: nothing metered
	interval time.Duration
	era      int64 // this server's start, unix ms: egress keys of another run differ
	log      *slog.Logger

	mu        sync.Mutex
	instances map[*instance]*meteredInstance
	egress    map[string]*egressCount // by project id
	paused    map[string]string       // project id → why
	out       *billing.Outbox
}

type meteredInstance struct {
	projectID, size string
	gpu             *gpu.Unit // the GPU it holds, charged for as long
	from            time.Time // charged up to here
}

type egressCount struct {
	bytes atomic.Int64
	seq   int
}

func newMetering(m billing.Recorder, interval time.Duration, log *slog.Logger) *metering {
	if interval <= 0 {
		interval = defaultMeterInterval
	}
	return &metering{meter: m, out: billing.NewOutbox(m, "deployment usage"), interval: interval, era: store.Now(), log: log,
		instances: map[*instance]*meteredInstance{}, egress: map[string]*egressCount{}, paused: map[string]string{}}
}

// sizeOf names an instance's size as prices know it: "0.5cpu-512mib".
// An instance without a limit (0) is charged as 1 CPU and 1 GiB: prices
// need a size, and it may use at least that much.
func sizeOf(cpus float64, memoryBytes int64) string {
	if cpus <= 0 {
		cpus = 1
	}
	mib := memoryBytes >> 20
	if mib <= 0 {
		mib = 1024
	}
	return strconv.FormatFloat(cpus, 'f', -1, 64) + "cpu-" + strconv.FormatInt(mib, 10) + "mib"
}

// instanceStarted starts the clock of an instance whose sandbox runs.
func (m *metering) instanceStarted(p *pool, in *instance, at time.Time) {
	if m.meter == nil {
		return
	}
	m.mu.Lock()
	m.instances[in] = &meteredInstance{projectID: p.projectID, size: sizeOf(p.spec.Limits.CPUs, p.spec.Limits.MemoryBytes), gpu: in.gpu, from: at}
	m.mu.Unlock()
}

// instanceEnded charges an instance's last stretch as it stops.
func (m *metering) instanceEnded(in *instance) {
	if m.meter == nil {
		return
	}
	m.mu.Lock()
	us := m.chargeLocked(in, time.Now())
	delete(m.instances, in)
	m.mu.Unlock()
	if len(us) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // no request waits on a stop
		defer cancel()
		m.send(ctx, us)
	}
}

// chargeLocked is in's usage since it was last charged; m.mu held. The
// sequence lives on the instance, which a vm's restart keeps. An
// instance with a GPU is charged its GPU time too.
func (m *metering) chargeLocked(in *instance, now time.Time) []billing.Usage {
	mi := m.instances[in]
	if mi == nil {
		return nil
	}
	ms := now.Sub(mi.from).Milliseconds()
	if ms <= 0 {
		return nil
	}
	mi.from = now
	in.meterSeq++
	key := "inst:" + in.id + ":" + strconv.Itoa(in.meterSeq)
	us := []billing.Usage{{Key: key, Meter: billing.MeterInstance, Attr: mi.size, Quantity: ms, ProjectID: mi.projectID, At: now}}
	if mi.gpu != nil {
		us = append(us, billing.Usage{Key: key + ":gpu", Meter: billing.MeterGPU, Attr: mi.gpu.Profile, Quantity: ms, ProjectID: mi.projectID, At: now})
	}
	return us
}

// counted counts what the edge writes for the project.
func (m *metering) counted(w http.ResponseWriter, projectID string) http.ResponseWriter {
	if m.meter == nil {
		return w
	}
	m.mu.Lock()
	c := m.egress[projectID]
	if c == nil {
		c = &egressCount{}
		m.egress[projectID] = c
	}
	m.mu.Unlock()
	return &egressWriter{ResponseWriter: w, n: &c.bytes}
}

// egressWriter counts a response's body bytes. What passes through a
// hijacked connection (a WebSocket) is not counted.
type egressWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w *egressWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n.Add(int64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack underneath.
func (w *egressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// pass is every running instance's time and every deployment's egress
// since the last pass.
func (m *metering) pass(now time.Time) []billing.Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []billing.Usage
	for in := range m.instances {
		out = append(out, m.chargeLocked(in, now)...)
	}
	for projectID, c := range m.egress {
		n := c.bytes.Swap(0)
		if n == 0 {
			continue
		}
		c.seq++
		out = append(out, billing.Usage{Key: fmt.Sprintf("egress:%s:%d:%d", projectID, m.era, c.seq), Meter: billing.MeterEgress,
			Quantity: n, ProjectID: projectID, At: now})
	}
	return out
}

// send records us and what an earlier failure left, in one call.
func (m *metering) send(ctx context.Context, us []billing.Usage) { m.out.Send(ctx, us) }

// run meters every interval until ctx ends, then once more.
func (m *metering) run(ctx context.Context) {
	if m.meter == nil {
		return
	}
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			m.send(fctx, m.pass(time.Now()))
			return
		case now := <-t.C:
			m.send(ctx, m.pass(now))
		}
	}
}

func (m *metering) pausedWhy(projectID string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	why, ok := m.paused[projectID]
	return why, ok
}

// servePaused answers for a paused deployment, and reports whether it did.
func (m *metering) servePaused(w http.ResponseWriter, projectID string) bool {
	if _, ok := m.pausedWhy(projectID); !ok {
		return false
	}
	w.Header().Set("Retry-After", "3600")
	sitePage(w, http.StatusPaymentRequired, "This app is paused", "This app is paused: its owner's credits have run out.")
	return true
}

// errPaused refuses a scheduled deployment's run while it is paused.
func (m *metering) errPaused(projectID string) error {
	if _, ok := m.pausedWhy(projectID); !ok {
		return nil
	}
	return errs.PaymentRequired("out_of_credits", "This deployment is paused: its owner's credits have run out. Top up to run it again.")
}

// LiveProjects lists the projects with a live release (billing's
// Deployments).
func (s *Service) LiveProjects(ctx context.Context) ([]string, error) {
	var ids []string
	if err := s.db.Select(ctx, &ids, `SELECT project_id FROM deployments WHERE live_release_id IS NOT NULL`); err != nil {
		return nil, fmt.Errorf("list live deployments: %w", err)
	}
	return ids, nil
}

// Suspend pauses the project's deployment: its instances stop, the edge
// answers 402 with a page that says why, scheduled runs wait. Nothing is
// deleted and the live release stays live.
func (s *Service) Suspend(ctx context.Context, projectID, reason string) error {
	s.bill.mu.Lock()
	_, already := s.bill.paused[projectID]
	s.bill.paused[projectID] = reason
	s.bill.mu.Unlock()
	s.mu.Lock()
	p := s.apps[projectID]
	delete(s.apps, projectID)
	clear(s.lives)
	s.mu.Unlock()
	if p != nil {
		p.stop()
	}
	if !already {
		s.statsFor(projectID).logs.add(SourcePlatform, "", "Paused: "+reason)
		s.log.InfoContext(ctx, "deployment paused", "project_id", projectID, "reason", reason)
	}
	return nil
}

// Resume serves the project's deployment again: a vm's instances (and an
// autoscale's minimum) start now, an autoscale at zero on its next request.
func (s *Service) Resume(ctx context.Context, projectID string) error {
	s.bill.mu.Lock()
	_, was := s.bill.paused[projectID]
	delete(s.bill.paused, projectID)
	s.bill.mu.Unlock()
	if !was {
		return nil
	}
	s.mu.Lock()
	clear(s.lives)
	s.mu.Unlock()
	s.statsFor(projectID).logs.add(SourcePlatform, "", "Resumed")
	s.log.InfoContext(ctx, "deployment resumed", "project_id", projectID)
	d, err := getDeployment(ctx, s.db, projectID)
	if store.NoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read deployment: %w", err)
	}
	if d.Live == nil || !isApp(d.Target) {
		return nil
	}
	j, err := readJob(s.releaseDir(projectID, *d.Live))
	if err != nil {
		return fmt.Errorf("resume deployment: %w", err)
	}
	if scalingOf(j).min == 0 {
		return nil
	}
	p, err := s.livePool(ctx, projectID, *d.Live)
	if err != nil {
		return fmt.Errorf("resume deployment: %w", err)
	}
	p.mu.Lock()
	for range max(p.sc.min-len(p.instances), 0) {
		p.startLocked(nil)
	}
	p.mu.Unlock()
	return nil
}

// buildUsed returns what a release's build reports its sandbox's use to,
// recorded as sandbox usage of the person who deployed; nil without a
// meter.
func (m *metering) buildUsed(projectID, releaseID, userID string) func(cpuUsec, memoryByteSeconds int64) {
	if m.meter == nil {
		return nil
	}
	return func(cpu, mem int64) {
		now := time.Now()
		var us []billing.Usage
		if cpu > 0 {
			us = append(us, billing.Usage{Key: "build:" + releaseID + ":cpu", Meter: billing.MeterCPU, Quantity: cpu,
				ProjectID: projectID, UserID: userID, At: now})
		}
		if mem > 0 {
			us = append(us, billing.Usage{Key: "build:" + releaseID + ":mem", Meter: billing.MeterMemory, Quantity: mem,
				ProjectID: projectID, UserID: userID, At: now})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // the build's own may have timed out
		defer cancel()
		m.send(ctx, us)
	}
}

// buildSampleEvery is how often a build's memory is sampled.
const buildSampleEvery = time.Second

// measureUse samples sb's memory while work runs in it; the returned
// func, called before sb stops, takes the last reading and tells used the
// CPU µs and memory byte-seconds it used. A sandbox the driver cannot
// measure reports nothing.
func measureUse(sb runtime.Sandbox, used func(cpuUsec, memoryByteSeconds int64)) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	var mem int64
	last := time.Now()
	sample := func(now time.Time) {
		if r, ok := sb.Resources(); ok {
			mem += r.MemoryUsed * now.Sub(last).Milliseconds() / 1000
		}
		last = now
	}
	go func() {
		defer close(done)
		t := time.NewTicker(buildSampleEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				sample(now)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		sample(time.Now())
		if r, ok := sb.Resources(); ok {
			used(r.CPUUsec, mem)
		}
	}
}
