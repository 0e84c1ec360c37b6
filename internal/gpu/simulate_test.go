package gpu

import (
	"strings"
	"testing"
)

func TestSimulated(t *testing.T) {
	inv, err := Simulated("2xA100-80GB,1xA100-40GB:mig=3g.20gb+3g.20gb")
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Simulated || !strings.Contains(inv.Reason, "simulated") {
		t.Errorf("inventory does not say it is simulated: %+v", inv)
	}
	if len(inv.Devices) != 3 {
		t.Fatalf("%d devices, want 3", len(inv.Devices))
	}
	for i, d := range inv.Devices {
		if !strings.HasPrefix(d.Name, "simulated ") || !strings.Contains(d.UUID, "SIMULATED") || d.Index != i {
			t.Errorf("device %+v is not clearly simulated", d)
		}
	}
	if d := inv.Devices[0]; d.MemoryMiB != 80*1024 || d.MIG || d.Name != "simulated A100-80GB" {
		t.Errorf("GPU 0 = %+v", d)
	}
	d := inv.Devices[2]
	if !d.MIG || d.MemoryMiB != 40*1024 || len(d.Slices) != 2 {
		t.Fatalf("GPU 2 = %+v", d)
	}
	if s := d.Slices[1]; s.Name != "3g.20gb" || s.MemoryMiB != 20*1024 || s.GPUIndex != 2 || s.Index != 1 || s.UUID != "MIG-SIMULATED-2-1" {
		t.Errorf("slice = %+v", s)
	}
}

func TestSimulatedProfiles(t *testing.T) {
	inv, err := Simulated("H100-80GB:mig=1g.10gb+me+1g.10gb+1c.3g.40gb")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range inv.Devices[0].Slices {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "1g.10gb+me 1g.10gb 1c.3g.40gb" {
		t.Errorf("profiles = %s", got)
	}
}

func TestSimulatedRefuses(t *testing.T) {
	for _, spec := range []string{
		"",
		"A100",                  // no memory in the name
		"0xA100-80GB",           // none
		"65xA100-80GB",          // too many
		"A100-40GB:mig=",        // no profiles
		"A100-40GB:mig=big",     // not a profile
		"A100-40GB:mig=7g.80gb", // more than the GPU has
		"A100-40GB,,A100-40GB",
	} {
		if inv, err := Simulated(spec); err == nil {
			t.Errorf("Simulated(%q) = %+v, want an error", spec, inv)
		}
	}
}
