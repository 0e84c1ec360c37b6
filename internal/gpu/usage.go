package gpu

import (
	"context"
	"strconv"
	"strings"
)

// Usage is what a unit uses now, as the resources view shows it.
type Usage struct {
	Measured           bool   `json:"measured"`
	MemoryUsedMiB      int    `json:"memoryUsedMiB,omitempty"`
	MemoryTotalMiB     int    `json:"memoryTotalMiB,omitempty"`
	UtilizationPercent int    `json:"utilizationPercent,omitempty"`
	Reason             string `json:"reason,omitempty"` // why it is not measured
}

// Usage reads what u uses from nvidia-smi. A simulated unit and a
// cluster node's have nothing to read here, and a MIG slice no
// utilisation of its own; each says so.
func (p *Pool) Usage(ctx context.Context, u Unit) Usage {
	switch {
	case p.simulated:
		return Usage{Reason: "simulated GPU: no readings"}
	case p.remote:
		return Usage{Reason: "the GPU is on a Kubernetes node: no readings from the server"}
	case u.Profile != "":
		return Usage{Reason: "nvidia-smi reports no utilisation for a MIG slice"}
	}
	out, err := p.run(ctx, "nvidia-smi", "--query-gpu=memory.used,memory.total,utilization.gpu",
		"--format=csv,noheader,nounits", "-i", u.UUID)
	if err != nil {
		return Usage{Reason: "nvidia-smi: " + firstLine(err.Error())}
	}
	f := strings.Split(strings.TrimSpace(string(out)), ",")
	if len(f) != 3 {
		return Usage{Reason: "nvidia-smi: unexpected answer " + strconv.Quote(firstLine(string(out)))}
	}
	n := make([]int, 3)
	for i, v := range f {
		n[i] = atoiOr(strings.TrimSpace(v), -1)
		if n[i] < 0 {
			return Usage{Reason: "nvidia-smi: unexpected answer " + strconv.Quote(firstLine(string(out)))}
		}
	}
	return Usage{Measured: true, MemoryUsedMiB: n[0], MemoryTotalMiB: n[1], UtilizationPercent: n[2]}
}
