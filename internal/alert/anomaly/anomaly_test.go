package anomaly

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

const step = 5 * time.Minute

// traffic is two weeks of requests per 5 minutes with daily peaks, a
// weekend dip and Poisson-like noise from a seeded generator.
func traffic(seed uint64) []Point {
	rng := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday
	var out []Point
	for t := start; t.Before(start.Add(2 * Season)); t = t.Add(step) {
		hour := float64(t.Hour()) + float64(t.Minute())/60
		rate := 200 + 150*math.Sin((hour-8)/24*2*math.Pi) // peaks mid-afternoon
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			rate *= 0.4
		}
		out = append(out, Point{T: t, V: math.Max(0, rate+rng.NormFloat64()*math.Sqrt(rate))})
	}
	return out
}

func flagged(pts []Point) []int {
	half := len(pts) / 2
	var out []int
	for i, f := range Flags(pts[half:], pts[:half], Sqrt) {
		if f {
			out = append(out, half+i)
		}
	}
	return out
}

func TestSeasonalQuiet(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		if f := flagged(traffic(seed)); len(f) > 0 {
			t.Errorf("seed %d: ordinary week flagged at %v", seed, f)
		}
	}
}

func TestSeasonalSpike(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		pts := traffic(seed)
		at := len(pts) - 600 // a Thursday morning in the second week
		for i := at; i < at+4; i++ {
			pts[i].V *= 3
		}
		f := flagged(pts)
		if len(f) == 0 {
			t.Fatalf("seed %d: spike at %d not flagged", seed, at)
		}
		for _, i := range f {
			// The smoothed residual decays for a few steps after the spike.
			if i < at || i > at+12 {
				t.Errorf("seed %d: flagged %d, spike at %d..%d", seed, i, at, at+3)
			}
		}
	}
}

func TestModifiedZ(t *testing.T) {
	z := ModifiedZ([]float64{1, 2, 3, 4, 100})
	// median 3, MAD 1: M = 0.6745·97
	if math.Abs(z[4]-0.6745*97) > 1e-9 || math.Abs(z[2]) > 1e-9 {
		t.Fatalf("scores %v", z)
	}
	// MAD 0: the mean absolute deviation stands in.
	z = ModifiedZ([]float64{5, 5, 5, 5, 9})
	if want := 4 / (1.253314 * 0.8); math.Abs(z[4]-want) > 1e-9 || z[0] != 0 {
		t.Fatalf("MAD 0 scores %v, want %v last", z, want)
	}
	for _, v := range ModifiedZ([]float64{7, 7, 7}) {
		if v != 0 {
			t.Fatalf("constant series scored %v", v)
		}
	}
}

func TestEWMA(t *testing.T) {
	got := EWMA([]float64{10, 0, math.NaN(), 10}, 0.5)
	if got[0] != 10 || got[1] != 5 || !math.IsNaN(got[2]) || got[3] != 7.5 {
		t.Fatalf("ewma %v", got)
	}
}

func TestResidualsSkip(t *testing.T) {
	now := time.Unix(1e9, 0)
	cur := []Point{{T: now, V: 9}, {T: now.Add(step), V: math.NaN()}, {T: now.Add(time.Hour), V: 4}}
	earlier := []Point{{T: now.Add(-Season - 10*time.Minute), V: 1}, {T: now.Add(-Season + 20*time.Minute), V: 9}}
	r := Residuals(cur, earlier, Sqrt)
	if r[0] != 3-2 /* √9 − mean(√1, √9) */ || !math.IsNaN(r[1]) || !math.IsNaN(r[2]) {
		t.Fatalf("residuals %v", r)
	}
	if !math.IsNaN(Rate(3, MinSample-1)) || Rate(5, 100) != 0.05 {
		t.Fatal("rate under the minimum sample")
	}
}
