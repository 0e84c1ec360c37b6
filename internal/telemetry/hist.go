package telemetry

import "math"

// Latencies and vitals are counted in log buckets growing by growth from
// base: 60 of them reach past a minute, and a percentile read from them is
// within 25 % of the truth. CLS, unitless, is counted in thousandths.
const (
	buckets = 60
	base    = 0.1
	growth  = 1.25
)

var logGrowth = math.Log(growth)

func bucketOf(v float64) int {
	if v <= base {
		return 0
	}
	return min(int(math.Log(v/base)/logGrowth)+1, buckets-1)
}

// upper is the upper bound of bucket i.
func upper(i int) float64 { return base * math.Pow(growth, float64(i)) }

// hist counts values per bucket.
type hist [buckets]int64

func (h *hist) total() int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// quantile is the upper bound of the bucket that holds the q-quantile, nil
// without values.
func (h *hist) quantile(q float64) *float64 {
	n := h.total()
	if n == 0 {
		return nil
	}
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i, c := range h {
		seen += c
		if seen >= rank {
			v := math.Round(upper(i)*100) / 100
			return &v
		}
	}
	return nil
}

// scaleOf is what a vital's values are multiplied by before bucketing.
func scaleOf(vital string) float64 {
	if vital == "CLS" {
		return 1000
	}
	return 1
}
