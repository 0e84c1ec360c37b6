package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"ecode/internal/auth"
	"ecode/internal/config"
	"ecode/internal/gpu"
	"ecode/internal/httpx"
	"ecode/internal/monitor"
	"ecode/internal/runtime"
	"ecode/internal/runtime/kube"
)

// gpus is the server's GPU inventory and the pool leasing it; pool is nil
// when there is nothing to lease, and off says why.
type gpus struct {
	inv  gpu.Inventory
	pool *gpu.Pool
	off  string
}

// findGPUs takes the simulated inventory the operator asked for, or asks
// where sandboxes run: the host's nvidia-smi, or the kube runtime's nodes.
// A server without GPUs has no pool, only a reason.
func findGPUs(ctx context.Context, cfg config.Config, driver runtime.Runtime) gpus {
	if cfg.GPUs == "off" {
		return gpus{off: "GPUs are turned off (ECODE_GPUS=off)."}
	}
	var inv gpu.Inventory
	if cfg.GPUSimulate != "" {
		inv, _ = gpu.Simulated(cfg.GPUSimulate) // checked by cfg.Validate
	} else {
		dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		var err error
		if k, ok := driver.(*kube.Driver); ok {
			inv, err = k.GPUInventory(dctx)
		} else {
			inv, err = gpu.Discover(dctx, gpu.ExecRunner)
		}
		if err != nil {
			slog.Warn("GPU discovery", "err", err)
			return gpus{inv: inv, off: "GPU discovery failed: " + err.Error()}
		}
	}
	if len(inv.Devices) == 0 {
		return gpus{inv: inv, off: inv.Reason}
	}
	for _, w := range inv.Warnings {
		slog.Warn("GPU discovery", "warning", w)
	}
	slog.Info("GPUs", "devices", len(inv.Devices), "simulated", inv.Simulated)
	return gpus{inv: inv, pool: gpu.NewPool(inv, gpu.Options{})}
}

// check is health's view of the GPUs: how many units are leased and
// waited for; it fails only when the host has GPUs none of which can be
// leased (a driver or device node problem the admin page names).
func (g gpus) check() monitor.Check {
	return monitor.Check{Name: "gpus", Run: func(context.Context) error {
		if g.pool == nil {
			return nil
		}
		snap := g.pool.Snapshot()
		for _, u := range snap.Units {
			if u.Problem == "" {
				return nil
			}
		}
		return fmt.Errorf("no GPU can be leased: %s; see GET /api/admin/gpus", snap.Units[0].Problem)
	}, Detail: func() any { return g.summary() }}
}

// gpuSummary is what health says of the GPUs.
type gpuSummary struct {
	Units     int    `json:"units"`
	InUse     int    `json:"inUse"`
	Waiting   int    `json:"waiting"`
	Simulated bool   `json:"simulated"`
	Reason    string `json:"reason,omitempty"`
}

func (g gpus) summary() gpuSummary {
	if g.pool == nil {
		return gpuSummary{Reason: g.off}
	}
	snap := g.pool.Snapshot()
	s := gpuSummary{Units: len(snap.Units), Waiting: len(snap.Queue), Simulated: snap.Simulated, Reason: snap.Reason}
	for _, u := range snap.Units {
		if u.Owner != "" {
			s.InUse++
		}
	}
	return s
}

// routes serves the inventory and the pool to site admins.
func (g gpus) routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/admin/gpus", func(w http.ResponseWriter, r *http.Request) {
		if auth.RequireAdmin(w, r) == nil {
			return
		}
		snap := gpu.Snapshot{Units: []gpu.UnitState{}, Queue: []gpu.Waiting{}, Reason: g.off}
		if g.pool != nil {
			snap = g.pool.Snapshot()
		}
		inv := g.inv
		if inv.Devices == nil {
			inv.Devices = []gpu.Device{}
		}
		if inv.Reason == "" {
			inv.Reason = g.off
		}
		httpx.JSON(w, http.StatusOK, map[string]any{"inventory": inv, "pool": snap})
	})
}
