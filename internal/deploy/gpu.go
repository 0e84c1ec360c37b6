package deploy

import (
	"context"
	"fmt"

	"ecode/internal/errs"
	"ecode/internal/gpu"
)

// leaseGPU waits for the GPU the release's instances ask for, writing
// where in's start stands in line to the deployment's log; nil when they
// ask for none. The caller releases the lease once the instance has ended.
func (p *pool) leaseGPU(in *instance) (*gpu.Lease, error) {
	want, ok, err := gpu.ParseWant(p.job.GPU)
	if err != nil || !ok {
		return nil, err
	}
	gpus := p.svc.opts.GPUs
	if gpus == nil {
		return nil, errs.Unavailable("gpu_unavailable", "The release asks for a GPU, and this server has none.")
	}
	owner := "instance " + in.id
	ctx, cancel := context.WithCancel(p.ctx)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		gpus.Follow(ctx, owner, func(pos gpu.Position) {
			p.stats.logs.add(SourcePlatform, in.id, pos.Message())
		})
	}()
	lease, err := gpus.Acquire(p.ctx, owner, want)
	cancel()
	<-followed
	if err != nil {
		return nil, fmt.Errorf("no GPU for %s: %w", in.id, err)
	}
	p.mu.Lock()
	in.gpu = &lease.Unit
	p.mu.Unlock()
	return lease, nil
}
