package run

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"ecode/internal/gpu"
	"ecode/internal/runtime"
)

// pool keeps one sandbox per active project: started on first need,
// shared by runs, shells and exec calls, stopped once nothing has used it
// for the idle timeout.
type pool struct {
	rt   runtime.Runtime
	idle time.Duration
	// prepare, when set, runs before each sandbox starts, while none of
	// the project's is up: the cache is trimmed there.
	prepare func(runtime.Spec)
	// beforeStop, when set, is called with each sandbox the pool is about
	// to stop, while it can still be measured.
	beforeStop func(runtime.Sandbox)
	// gpus leases the GPUs of sandboxes that want one.
	gpus *gpu.Pool

	mu    sync.Mutex
	boxes map[string]*box
}

type box struct {
	ready    chan struct{} // closed once the start has finished
	sb       runtime.Sandbox
	err      error
	users    int
	lastUsed time.Time
	// abandon ends the start's wait for a GPU once nobody waits for the
	// sandbox any more.
	abandon context.CancelFunc
}

// withGPU is a sandbox holding a GPU lease, which ends with it.
type withGPU struct {
	runtime.Sandbox
	lease *gpu.Lease
}

// GPUOwner names a project's sandbox among the holders of GPU leases.
func GPUOwner(projectID string) string { return "sandbox " + projectID }

func newPool(rt runtime.Runtime, idle time.Duration) *pool {
	return &pool{rt: rt, idle: idle, boxes: map[string]*box{}}
}

// acquire returns the project's sandbox, starting it when needed, with a
// GPU that fits want when want is set (waiting in line for one as long as
// someone waits for the sandbox). The caller must call release when done
// with it.
func (p *pool) acquire(ctx context.Context, spec runtime.Spec, want *gpu.Want) (runtime.Sandbox, func(), error) {
	p.mu.Lock()
	b := p.boxes[spec.ID]
	if b != nil {
		select {
		case <-b.ready:
			if b.err != nil || isDone(b.sb) {
				b = nil // failed or died: start afresh
			}
		default:
		}
	}
	if b == nil {
		b = &box{ready: make(chan struct{})}
		wait, abandon := context.WithCancel(context.WithoutCancel(ctx))
		b.abandon = abandon
		p.boxes[spec.ID] = b
		go func() {
			defer abandon()
			b.sb, b.err = p.start(ctx, wait, spec, want)
			close(b.ready)
		}()
	}
	b.users++
	p.mu.Unlock()

	release := func() {
		p.mu.Lock()
		b.users--
		b.lastUsed = time.Now()
		if b.users == 0 {
			b.abandon() // a start still waiting for a GPU waits for nobody
		}
		p.mu.Unlock()
	}
	select {
	case <-b.ready:
	case <-ctx.Done():
		release()
		return nil, nil, ctx.Err()
	}
	if b.err != nil {
		release()
		p.mu.Lock()
		if p.boxes[spec.ID] == b {
			delete(p.boxes, spec.ID)
		}
		p.mu.Unlock()
		return nil, nil, b.err
	}
	return b.sb, release, nil
}

// start starts spec's sandbox. The start outlives the request that asked
// for it, so a cancelled request does not waste the work of others; only
// the wait for a GPU ends with wait.
func (p *pool) start(ctx, wait context.Context, spec runtime.Spec, want *gpu.Want) (runtime.Sandbox, error) {
	var lease *gpu.Lease
	if want != nil {
		var err error
		if lease, err = p.gpus.Acquire(wait, GPUOwner(spec.ID), *want); err != nil {
			return nil, err
		}
		spec.GPU = &lease.Unit
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if p.prepare != nil {
		p.prepare(spec)
	}
	sb, err := p.rt.Start(sctx, spec)
	if lease == nil {
		return sb, err
	}
	if err != nil {
		lease.Release()
		return nil, err
	}
	go func() {
		<-sb.Done()
		lease.Release()
	}()
	return withGPU{sb, lease}, nil
}

func isDone(sb runtime.Sandbox) bool {
	select {
	case <-sb.Done():
		return true
	default:
		return false
	}
}

// running returns the project's sandbox if one is up, without starting it.
func (p *pool) running(id string) runtime.Sandbox {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.boxes[id]
	if b == nil {
		return nil
	}
	select {
	case <-b.ready:
		if b.err == nil && !isDone(b.sb) {
			return b.sb
		}
	default:
	}
	return nil
}

// stop ends the project's sandbox now, if it runs.
func (p *pool) stop(id string) {
	p.mu.Lock()
	b := p.boxes[id]
	delete(p.boxes, id)
	p.mu.Unlock()
	if b == nil {
		return
	}
	b.abandon()
	<-b.ready
	if b.sb != nil {
		p.measure(b.sb)
		_ = b.sb.Stop()
	}
}

func (p *pool) measure(sb runtime.Sandbox) {
	if p.beforeStop != nil {
		p.beforeStop(sb)
	}
}

// ids lists the projects whose sandbox is up.
func (p *pool) ids() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for id, b := range p.boxes {
		select {
		case <-b.ready:
			if b.err == nil && !isDone(b.sb) {
				out = append(out, id)
			}
		default:
		}
	}
	return out
}

// reap stops idle sandboxes until ctx ends, then stops them all.
func (p *pool) reap(ctx context.Context) {
	t := time.NewTicker(max(p.idle/4, 50*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.stopAll(func(*box) bool { return true })
			return
		case <-t.C:
			p.stopAll(func(b *box) bool { return b.users == 0 && time.Since(b.lastUsed) > p.idle })
		}
	}
}

func (p *pool) stopAll(which func(*box) bool) {
	p.mu.Lock()
	var stop []runtime.Sandbox
	for id, b := range p.boxes {
		select {
		case <-b.ready:
		default:
			continue // still starting
		}
		if b.err != nil || isDone(b.sb) || which(b) {
			delete(p.boxes, id)
			if b.sb != nil {
				stop = append(stop, b.sb)
			}
		}
	}
	p.mu.Unlock()
	for _, sb := range stop {
		p.measure(sb)
		if err := sb.Stop(); err != nil {
			slog.Warn("stop sandbox", "sandbox", sb.ID(), "err", err)
		}
	}
}
