package run

import (
	"context"
	"fmt"

	"ecode/internal/errs"
	"ecode/internal/gpu"
	"ecode/internal/runtime"
)

// gpuWant is what a project's sandbox asks of the GPUs, nil for none.
func (s *Service) gpuWant(key string) (*gpu.Want, error) {
	w, ok, err := gpu.ParseWant(key)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, nil
	case s.opts.GPUs == nil:
		return nil, errs.Unavailable("gpu_unavailable", "This project asks for a GPU, and this server has none; turn the GPU off in the project's settings.")
	}
	return &w, nil
}

// tellGPUWait writes the project's place in line for a GPU to the run's
// console each time it changes, until the returned func is called (once
// the sandbox has started or failed).
func (s *Service) tellGPUWait(ctx context.Context, projectID string, out MaskedWriter) (stop func()) {
	if s.opts.GPUs == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		s.opts.GPUs.Follow(ctx, GPUOwner(projectID), func(pos gpu.Position) {
			fmt.Fprintf(out, "%s%s…%s\r\n", dim, pos.Message(), reset)
			_ = out.Flush()
		})
	}()
	return func() {
		cancel()
		<-ended
	}
}

// GPUStatus is how a project's GPU stands, for the resources view.
type GPUStatus struct {
	// State is "waiting" in line, "held" by the running sandbox, or "idle":
	// the project asks for a GPU and no sandbox of it runs.
	State   string     `json:"state"`
	Message string     `json:"message,omitempty"` // the wait message
	Unit    *GPUUnit   `json:"unit,omitempty"`
	Usage   *gpu.Usage `json:"usage,omitempty"`
}

// GPUUnit is the unit a sandbox holds, as people see it.
type GPUUnit struct {
	Name      string `json:"name"`
	Profile   string `json:"profile,omitempty"`
	MemoryMiB int    `json:"memoryMiB"`
	Simulated bool   `json:"simulated"`
}

// gpuStatus is the GPU state of project id, whose sandbox is sb (nil when
// none runs), for a project that asks for a GPU.
func (s *Service) gpuStatus(ctx context.Context, id string, sb runtime.Sandbox) *GPUStatus {
	pool := s.opts.GPUs
	if pool == nil {
		return &GPUStatus{State: "idle", Message: "This server has no GPU."}
	}
	if pos, ok := pool.Queue(GPUOwner(id)); ok {
		return &GPUStatus{State: "waiting", Message: pos.Message()}
	}
	g, ok := sb.(withGPU)
	if !ok {
		return &GPUStatus{State: "idle"}
	}
	u := g.lease.Unit
	use := pool.Usage(ctx, u)
	return &GPUStatus{State: "held", Usage: &use,
		Unit: &GPUUnit{Name: u.Name, Profile: u.Profile, MemoryMiB: u.MemoryMiB, Simulated: pool.Simulated()}}
}
