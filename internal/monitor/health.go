// Package monitor reports the platform's own health: the checks behind
// /api/monitoring/health and the Prometheus endpoint.
package monitor

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ecode/internal/httpx"
)

// Check is one named health check; nil means healthy.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
	// Detail, when set, is shown with the check's result whatever it is:
	// what the check found (GPUs and their use).
	Detail func() any
}

// Health runs the checks for /api/monitoring/health.
type Health struct {
	checks []Check
	reg    *prometheus.Registry
}

func NewHealth(reg *prometheus.Registry, checks ...Check) *Health {
	return &Health{checks: checks, reg: reg}
}

type result struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	Ms     int64  `json:"ms"`
	Detail any    `json:"detail,omitempty"`
}

// Routes mounts health and metrics.
func (h *Health) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/monitoring/health", h.serve)
	rt.Handle("GET /metrics", promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{}))
}

func (h *Health) serve(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	results := make(map[string]result, len(h.checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range h.checks {
		wg.Go(func() {
			start := time.Now()
			err := c.Run(ctx)
			res := result{Status: "ok", Ms: time.Since(start).Milliseconds()}
			if err != nil {
				res.Status, res.Error = "fail", err.Error()
			}
			if c.Detail != nil {
				res.Detail = c.Detail()
			}
			mu.Lock()
			results[c.Name] = res
			mu.Unlock()
		})
	}
	wg.Wait()
	status, code := "ok", http.StatusOK
	var failing []string
	for name, res := range results {
		if res.Status != "ok" {
			failing = append(failing, name)
		}
	}
	body := map[string]any{"checks": results}
	if len(failing) > 0 {
		sort.Strings(failing)
		status, code = "fail", http.StatusServiceUnavailable
		body["failing"] = failing
	}
	body["status"] = status
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, code, body)
}

// DiskCheck fails when dir is not writable or has less than minFree bytes free.
func DiskCheck(dir string, minFree uint64) Check {
	return Check{Name: "disk", Run: func(context.Context) error {
		f, err := os.CreateTemp(dir, ".health-*")
		if err != nil {
			return fmt.Errorf("data dir %s is not writable: %w", dir, err)
		}
		name := f.Name()
		f.Close()
		os.Remove(name)
		var st syscall.Statfs_t
		if err := syscall.Statfs(filepath.Clean(dir), &st); err != nil {
			return fmt.Errorf("statfs %s: %w", dir, err)
		}
		if free := st.Bavail * uint64(st.Bsize); free < minFree {
			return fmt.Errorf("only %d MiB free in %s; free some space", free>>20, dir)
		}
		return nil
	}}
}
