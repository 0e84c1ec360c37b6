package deploy

import (
	"testing"

	"ecode/internal/billing"
)

// TestSizeOf: every instance's size is one prices can read, an instance
// without limits included.
func TestSizeOf(t *testing.T) {
	for _, c := range []struct {
		cpus     float64
		mem      int64
		want     string
		milliCPU int64
	}{
		{0.5, 512 << 20, "0.5cpu-512mib", 500},
		{2, 4 << 30, "2cpu-4096mib", 2000},
		{0, 0, "1cpu-1024mib", 1000},
	} {
		got := sizeOf(c.cpus, c.mem)
		if got != c.want {
			t.Errorf("sizeOf(%v, %d) = %q, want %q", c.cpus, c.mem, got, c.want)
		}
		if milli, _, err := billing.ParseSize(got); err != nil || milli != c.milliCPU {
			t.Errorf("billing reads %q as %d m CPU, %v", got, milli, err)
		}
	}
}
