// Package anomaly scores a metric's recent points against the same time
// a week earlier: each point's residual from that seasonal baseline is
// smoothed (EWMA) and scored with the modified z-score of Iglewicz and
// Hoaglin, robust to the outliers it looks for. Pure functions only.
package anomaly

import (
	"math"
	"slices"
	"time"
)

const (
	// Threshold is the |modified z| above which a point is anomalous.
	Threshold = 3.5
	// Lambda is the EWMA weight of the newest residual.
	Lambda = 0.2
	// Season is how far back the baseline is taken.
	Season = 7 * 24 * time.Hour
	// Span is how far either side of the same time last week the
	// baseline's points are averaged.
	Span = 30 * time.Minute
	// MinSample is the fewest requests a window needs before a rate
	// (errors per request) measured on it means anything.
	MinSample = 50
)

// Point is one value of a metric at T; NaN when it was not measured
// (too small a sample, no data).
type Point struct {
	T time.Time
	V float64
}

// Transform makes a metric's noise about the same size at every level
// before residuals are taken. MinShift is the smallest smoothed residual,
// in transformed units, that is news: over a week of points pure noise
// reaches |M| > 3.5 now and then, and a change too small to matter should
// not page anyone however unusual it is.
type Transform struct {
	F        func(float64) float64
	MinShift float64
}

var (
	// Sqrt stabilises counts (Poisson noise grows as the square root); a
	// shift of 1 is about 2√n more events than usual.
	Sqrt = Transform{F: func(v float64) float64 { return math.Sqrt(math.Max(v, 0)) }, MinShift: 1}
	// Log stabilises latencies, whose noise grows with their size; a shift
	// of 0.25 is about 28% slower or faster.
	Log = Transform{F: func(v float64) float64 { return math.Log1p(math.Max(v, 0)) }, MinShift: 0.25}
	// Ratio leaves rates and scores as they are; a shift of 0.01 is one
	// percentage point.
	Ratio = Transform{F: func(v float64) float64 { return v }, MinShift: 0.01}
)

// Median of xs (NaN for none); xs is not changed.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// ModifiedZ scores each of xs: 0.6745·(x − median)/MAD. When more than
// half the values are equal MAD is 0, and the mean absolute deviation
// stands in (M = (x − median)/(1.253314·meanAD)); when every value is the
// median, nothing stands out and every score is 0.
func ModifiedZ(xs []float64) []float64 {
	out := make([]float64, len(xs))
	if len(xs) == 0 {
		return out
	}
	med := Median(xs)
	dev := make([]float64, len(xs))
	var sum float64
	for i, x := range xs {
		dev[i] = math.Abs(x - med)
		sum += dev[i]
	}
	scale := Median(dev) / 0.6745
	if scale == 0 {
		scale = 1.253314 * sum / float64(len(xs))
	}
	if scale == 0 {
		return out
	}
	for i, x := range xs {
		out[i] = (x - med) / scale
	}
	return out
}

// EWMA smooths xs with weight lambda on the newest value; NaN values stay
// NaN in the output and leave the running average as it was.
func EWMA(xs []float64, lambda float64) []float64 {
	out := make([]float64, len(xs))
	avg, started := 0.0, false
	for i, x := range xs {
		switch {
		case math.IsNaN(x):
			out[i] = math.NaN()
			continue
		case !started:
			avg, started = x, true
		default:
			avg = lambda*x + (1-lambda)*avg
		}
		out[i] = avg
	}
	return out
}

// Residuals is each current point's transformed value less the mean of
// the transformed points within Span of the same time a Season earlier;
// NaN where either side has nothing.
func Residuals(cur, earlier []Point, tr Transform) []float64 {
	out := make([]float64, len(cur))
	for i, p := range cur {
		out[i] = math.NaN()
		if math.IsNaN(p.V) {
			continue
		}
		at := p.T.Add(-Season)
		var sum float64
		var n int
		for _, q := range earlier {
			if d := q.T.Sub(at); d >= -Span && d <= Span && !math.IsNaN(q.V) {
				sum += tr.F(q.V)
				n++
			}
		}
		if n > 0 {
			out[i] = tr.F(p.V) - sum/float64(n)
		}
	}
	return out
}

// Scores is the modified z-score of each current point's smoothed
// residual, taken over all of cur's measured points, and the smoothed
// residuals themselves; NaN where a point could not be scored. earlier
// must cover cur's span a Season back, with Span to spare on either side.
func Scores(cur, earlier []Point, tr Transform) (scores, shifts []float64) {
	smooth := EWMA(Residuals(cur, earlier, tr), Lambda)
	var vals []float64
	for _, v := range smooth {
		if !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	z := ModifiedZ(vals)
	out := make([]float64, len(cur))
	j := 0
	for i, v := range smooth {
		if math.IsNaN(v) {
			out[i] = math.NaN()
			continue
		}
		out[i] = z[j]
		j++
	}
	return out, smooth
}

// Flags marks each current point that is anomalous: its score beyond
// Threshold and its smoothed residual at least tr.MinShift.
func Flags(cur, earlier []Point, tr Transform) []bool {
	scores, shifts := Scores(cur, earlier, tr)
	out := make([]bool, len(cur))
	for i, m := range scores {
		out[i] = math.Abs(m) > Threshold && math.Abs(shifts[i]) >= tr.MinShift
	}
	return out
}

// Rate is errors per request, NaN under MinSample requests.
func Rate(errors, requests int64) float64 {
	if requests < MinSample {
		return math.NaN()
	}
	return float64(errors) / float64(requests)
}
