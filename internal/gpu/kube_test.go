package gpu

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestKubeResource(t *testing.T) {
	inv, err := Simulated("1xA100-80GB,1xA100-80GB:mig=3g.40gb+1g.10gb+me+2g.20gb")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"GPU-SIMULATED-0":   "nvidia.com/gpu",
		"MIG-SIMULATED-1-0": "nvidia.com/mig-3g.40gb",
		"MIG-SIMULATED-1-1": "nvidia.com/mig-1g.10gb", // the device plugin counts +me slices as their base profile
		"MIG-SIMULATED-1-2": "nvidia.com/mig-2g.20gb",
	}
	units := NewPool(inv, Options{}).Snapshot().Units
	if len(units) != len(want) {
		t.Fatalf("%d units, want %d", len(units), len(want))
	}
	for _, u := range units {
		got := u.KubeResource()
		if got != want[u.UUID] {
			t.Errorf("%s (%q): %q, want %q", u.UUID, u.Profile, got, want[u.UUID])
		}
		// The API server refuses a pod whose resource name is not one.
		if errs := validation.IsQualifiedName(got); len(errs) > 0 {
			t.Errorf("%q is not a resource name: %v", got, errs)
		}
	}
}

// KubeSlice reads back what KubeResource asks for: the unit it describes
// asks for the same resource again.
func TestKubeSliceReadsKubeResource(t *testing.T) {
	for _, tc := range []struct {
		resource string
		profile  string // "": not a MIG resource
		mib      int
	}{
		{"nvidia.com/mig-1g.10gb", "1g.10gb", 10240},
		{"nvidia.com/mig-3g.40gb", "3g.40gb", 40960},
		{"nvidia.com/mig-1c.3g.20gb", "1c.3g.20gb", 20480},
		{"nvidia.com/mig-1g.12gb.me", "1g.12gb.me", 12288},
		{"nvidia.com/gpu", "", 0},
		{"nvidia.com/mig-", "", 0},
		{"nvidia.com/mig-1g.10gb+me", "", 0}, // no resource name has a '+'
		{"nvidia.com/gpu.shared", "", 0},
		{"cpu", "", 0},
	} {
		profile, mib, ok := KubeSlice(tc.resource)
		if ok != (tc.profile != "") || profile != tc.profile || mib != tc.mib {
			t.Errorf("KubeSlice(%q) = %q, %d, %v; want %q, %d", tc.resource, profile, mib, ok, tc.profile, tc.mib)
		}
		if ok {
			if back := (Unit{Profile: profile, MemoryMiB: mib}).KubeResource(); back != tc.resource {
				t.Errorf("a unit of %s asks for %s", tc.resource, back)
			}
		}
	}
}
