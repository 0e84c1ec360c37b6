package gpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// answers are what a fake nvidia-smi says, by its first argument.
type answers map[string]answer

type answer struct {
	out []byte
	err error
}

func fakeRunner(t *testing.T, a answers) Runner {
	t.Helper()
	return func(_ context.Context, name string, args ...string) ([]byte, error) {
		if name != "nvidia-smi" {
			t.Errorf("ran %s, want nvidia-smi", name)
		}
		if r, ok := a[args[0]]; ok {
			return r.out, r.err
		}
		return nil, &CommandError{Command: "nvidia-smi " + strings.Join(args, " "), Err: errors.New("exit status 2"), Output: "Invalid combination of input arguments."}
	}
}

// recorded answers from a testdata folder; without a query.xml, -q -x fails.
func recorded(t *testing.T, dir string) answers {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := answers{queryArgs[0]: {out: read("query.csv")}, "-L": {out: read("list.txt")}}
	if _, err := os.Stat(filepath.Join("testdata", dir, "query.xml")); err == nil {
		a["-q"] = answer{out: read("query.xml")}
	}
	return a
}

func TestDiscoverMixedMIG(t *testing.T) {
	inv, err := Discover(t.Context(), fakeRunner(t, recorded(t, "a100-mig-mixed")))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Simulated || inv.Reason != "" || len(inv.Warnings) != 0 {
		t.Fatalf("inventory %+v: want real, no reason, no warnings", inv)
	}
	if len(inv.Devices) != 4 {
		t.Fatalf("%d devices, want 4", len(inv.Devices))
	}
	whole := inv.Devices[0]
	want := Device{Index: 0, Minor: 0, UUID: "GPU-74edc72b-204b-7996-59f6-bff24ec89c23", Name: "NVIDIA A100-SXM4-80GB", BusID: "00000000:07:00.0", MemoryMiB: 81920}
	if !reflect.DeepEqual(whole, want) {
		t.Errorf("GPU 0 = %+v\nwant %+v", whole, want)
	}
	d := inv.Devices[1]
	if !d.MIG || len(d.Slices) != 3 {
		t.Fatalf("GPU 1 = %+v: want MIG with 3 slices", d)
	}
	wantSlice := Slice{UUID: "MIG-92112bb4-e588-5a08-bf41-47796a83a77c", Name: "2g.20gb", GPUIndex: 1, GPUMinor: 1, Index: 1, MemoryMiB: 19968, GI: 5, CI: 0}
	if !reflect.DeepEqual(d.Slices[1], wantSlice) {
		t.Errorf("GPU 1 slice 1 = %+v\nwant %+v", d.Slices[1], wantSlice)
	}
	var gis []int
	for _, s := range d.Slices {
		gis = append(gis, s.GI)
	}
	if !reflect.DeepEqual(gis, []int{3, 5, 6}) {
		t.Errorf("GPU 1's GPU instances = %v, want [3 5 6]", gis)
	}
	if got := inv.Devices[3].Slices[2].UUID; got != "MIG-25b5f0a3-8117-5671-8cfe-8f2fb65c7d8a" {
		t.Errorf("GPU 3's last slice = %s", got)
	}
}

func TestDiscoverR450MIGWithoutXML(t *testing.T) {
	inv, err := Discover(t.Context(), fakeRunner(t, recorded(t, "a100-mig-r450")))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Devices) != 1 || len(inv.Devices[0].Slices) != 7 {
		t.Fatalf("devices %+v: want one GPU with 7 slices", inv.Devices)
	}
	d := inv.Devices[0]
	if d.Name != "A100-SXM4-40GB" || !d.MIG || d.Minor != 0 {
		t.Errorf("GPU 0 = %+v", d)
	}
	var gis []int
	for _, s := range d.Slices {
		gis = append(gis, s.GI)
		if s.Name != "1g.5gb" || s.MemoryMiB != 5*1024 || s.CI != 0 {
			t.Errorf("slice %+v: want 1g.5gb of 5120 MiB (the profile's), compute instance 0", s)
		}
	}
	// The old UUIDs carry the instance ids themselves.
	if !reflect.DeepEqual(gis, []int{7, 8, 9, 11, 12, 13, 14}) {
		t.Errorf("GPU instances = %v", gis)
	}
	if len(inv.Warnings) != 1 || !strings.Contains(inv.Warnings[0], "nvidia-smi -q -x failed") {
		t.Errorf("warnings = %q: want the one about -q -x", inv.Warnings)
	}
}

func TestDiscoverEightGPUs(t *testing.T) {
	inv, err := Discover(t.Context(), fakeRunner(t, recorded(t, "h100x8")))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Devices) != 8 {
		t.Fatalf("%d devices, want 8", len(inv.Devices))
	}
	for i, d := range inv.Devices {
		if d.Index != i || d.Minor != i || d.Name != "NVIDIA H100 80GB HBM3" || d.MemoryMiB != 81559 || d.MIG || len(d.Slices) != 0 {
			t.Errorf("GPU %d = %+v", i, d)
		}
	}
	if inv.Devices[7].UUID != "GPU-5534d557-2a95-300a-81e6-7b626d87378a" {
		t.Errorf("GPU 7's UUID = %s", inv.Devices[7].UUID)
	}
}

func TestDiscoverTakesMinorsFromXML(t *testing.T) {
	// The device minor follows the driver's probe order, which need not be
	// nvidia-smi's PCI order; /dev/nvidiaN is named by the minor.
	a := answers{
		queryArgs[0]: {out: []byte("0, GPU-a, NVIDIA L4, 23034, [N/A], 00000000:01:00.0\n1, GPU-b, NVIDIA L4, 23034, [N/A], 00000000:02:00.0\n")},
		"-L":         {out: []byte("GPU 0: NVIDIA L4 (UUID: GPU-a)\nGPU 1: NVIDIA L4 (UUID: GPU-b)\n")},
		"-q":         {out: []byte(`<nvidia_smi_log><gpu id="00000000:01:00.0"><uuid>GPU-a</uuid><minor_number>1</minor_number></gpu><gpu id="00000000:02:00.0"><uuid>GPU-b</uuid><minor_number>0</minor_number></gpu></nvidia_smi_log>`)},
	}
	inv, err := Discover(t.Context(), fakeRunner(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Devices[0].Minor != 1 || inv.Devices[1].Minor != 0 {
		t.Errorf("minors = %d, %d; want 1, 0", inv.Devices[0].Minor, inv.Devices[1].Minor)
	}
	if got := inv.Devices[0].Nodes(t.TempDir())[0]; got != "/dev/nvidia1" {
		t.Errorf("GPU 0's node = %s, want /dev/nvidia1", got)
	}
}

func TestDiscoverWithoutDriver(t *testing.T) {
	notInstalled := func(context.Context, string, ...string) ([]byte, error) {
		return nil, fmt.Errorf("run nvidia-smi: %w", exec.ErrNotFound)
	}
	inv, err := Discover(t.Context(), notInstalled)
	if err != nil {
		t.Fatalf("a host without nvidia-smi is no error: %v", err)
	}
	if len(inv.Devices) != 0 || inv.Reason != "no NVIDIA driver found (nvidia-smi is not installed)" {
		t.Errorf("inventory = %+v", inv)
	}
}

func TestDiscoverOnThisHost(t *testing.T) {
	if _, err := exec.LookPath("nvidia-smi"); err == nil {
		t.Skip("this host has nvidia-smi; the device check covers it")
	}
	inv, err := Discover(t.Context(), ExecRunner)
	if err != nil || inv.Reason != reasonNoDriver {
		t.Errorf("Discover = %+v, %v; want the no-driver reason", inv, err)
	}
}

func TestDiscoverFailures(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	failing := func(status int, said string) answer {
		return answer{err: &CommandError{Command: "nvidia-smi", Err: fmt.Errorf("exit status %d", status), Output: said}}
	}
	good := recorded(t, "h100x8")
	for _, tc := range []struct {
		name    string
		a       answers
		reason  string
		wantErr bool
	}{
		{"driver not loaded", answers{queryArgs[0]: failing(9, read("no-driver.txt"))},
			"nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.", true},
		{"no devices", answers{queryArgs[0]: failing(6, read("no-devices.txt"))}, "nvidia-smi failed: No devices were found", true},
		{"silent failure", answers{queryArgs[0]: failing(255, "")}, "nvidia-smi failed", true},
		{"empty answer", answers{queryArgs[0]: {out: []byte("\n")}}, "nvidia-smi found no GPUs", false},
		{"garbled answer", answers{queryArgs[0]: {out: []byte("index, uuid\n")}}, "nvidia-smi answered in a form this version cannot read", true},
		{"-L fails", answers{queryArgs[0]: good[queryArgs[0]], "-L": failing(15, "GPU is lost")}, "nvidia-smi failed: GPU is lost", true},
		{"MIG line before a GPU", answers{queryArgs[0]: good[queryArgs[0]], "-L": {out: []byte("  MIG 1g.5gb Device 0: (UUID: MIG-x)\n")}},
			"nvidia-smi answered in a form this version cannot read", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := Discover(t.Context(), fakeRunner(t, tc.a))
			if (err != nil) != tc.wantErr {
				t.Errorf("error = %v, want one: %v", err, tc.wantErr)
			}
			if len(inv.Devices) != 0 || inv.Reason != tc.reason {
				t.Errorf("inventory = %+v\nwant reason %q", inv, tc.reason)
			}
		})
	}
}

func TestDiscoverWarnsOfUnreadableXMLAndEmptyMIG(t *testing.T) {
	a := answers{
		queryArgs[0]: {out: []byte("0, GPU-a, NVIDIA A30, 24576, Enabled, 00000000:01:00.0\n")},
		"-L":         {out: []byte("GPU 0: NVIDIA A30 (UUID: GPU-a)\n")},
		"-q":         {out: []byte("<nvidia_smi_log><gpu>")},
	}
	inv, err := Discover(t.Context(), fakeRunner(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Warnings) != 2 || !strings.Contains(inv.Warnings[0], "could not be read") || !strings.Contains(inv.Warnings[1], "MIG mode with no MIG devices") {
		t.Errorf("warnings = %q", inv.Warnings)
	}
	if inv.Devices[0].Minor != 0 {
		t.Errorf("minor = %d, want the index", inv.Devices[0].Minor)
	}
}

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Device
		err  string
	}{
		{"3, GPU-x, NVIDIA GeForce RTX 3090, 24576, [N/A], 00000000:65:00.0",
			Device{Index: 3, Minor: 3, UUID: "GPU-x", Name: "NVIDIA GeForce RTX 3090", MemoryMiB: 24576, BusID: "00000000:65:00.0"}, ""},
		{"0, GPU-x, Odd, Name, [N/A], Disabled, [N/A]", Device{UUID: "GPU-x", Name: "Odd, Name"}, ""},
		{"0, GPU-x, NVIDIA A100, 81920, Enabled", Device{}, "5 fields"},
		{"x, GPU-x, NVIDIA A100, 81920, Enabled, 0", Device{}, "index"},
		{"0, 12345, NVIDIA A100, 81920, Enabled, 0", Device{}, "uuid"},
		{"0, GPU-x, NVIDIA A100, lots, Enabled, 0", Device{}, "memory"},
		{"0, GPU-x, A, 1, Enabled, 0\n0, GPU-y, A, 1, Enabled, 0", Device{}, "twice"},
	} {
		devs, err := parseQuery([]byte(tc.line))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseQuery(%q) error = %v, want %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || len(devs) != 1 || !reflect.DeepEqual(devs[0], tc.want) {
			t.Errorf("parseQuery(%q) = %+v, %v\nwant %+v", tc.line, devs, err, tc.want)
		}
	}
}

func TestExecRunner(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	_, err := ExecRunner(t.Context(), "ecode-no-such-command")
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("a missing command: %v, want exec.ErrNotFound", err)
	}
	out, err := ExecRunner(t.Context(), "sh", "-c", "echo fine")
	if err != nil || string(out) != "fine\n" {
		t.Errorf("success: %q, %v", out, err)
	}
	var ce *CommandError
	_, err = ExecRunner(t.Context(), "sh", "-c", "echo partial; echo broken >&2; exit 3")
	if !errors.As(err, &ce) || ce.Output != "broken" || !strings.Contains(ce.Err.Error(), "exit status 3") {
		t.Errorf("failure with stderr: %v", err)
	}
	_, err = ExecRunner(t.Context(), "sh", "-c", "echo said on stdout; exit 9")
	if !errors.As(err, &ce) || ce.Output != "said on stdout" {
		t.Errorf("failure on stdout: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := ExecRunner(ctx, "sh", "-c", "exit 0"); err == nil {
		t.Error("a cancelled context ran anyway")
	}
}

func TestEnv(t *testing.T) {
	got := Env("GPU-a", "MIG-b")
	want := []string{"CUDA_VISIBLE_DEVICES=GPU-a,MIG-b", "NVIDIA_VISIBLE_DEVICES=GPU-a,MIG-b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Env = %q, want %q", got, want)
	}
	if got := Env(); !reflect.DeepEqual(got, []string{"CUDA_VISIBLE_DEVICES=", "NVIDIA_VISIBLE_DEVICES=void"}) {
		t.Errorf("Env() = %q", got)
	}
}

// FuzzDiscover feeds arbitrary nvidia-smi answers through the parsers: they
// may refuse, never panic, and what they accept is well formed.
func FuzzDiscover(f *testing.F) {
	for _, dir := range []string{"a100-mig-mixed", "a100-mig-r450", "h100x8"} {
		q, _ := os.ReadFile(filepath.Join("testdata", dir, "query.csv"))
		l, _ := os.ReadFile(filepath.Join("testdata", dir, "list.txt"))
		x, _ := os.ReadFile(filepath.Join("testdata", dir, "query.xml"))
		f.Add(q, l, x)
	}
	f.Fuzz(func(t *testing.T, query, list, xmlOut []byte) {
		a := answers{queryArgs[0]: {out: query}, "-L": {out: list}, "-q": {out: xmlOut}}
		inv, err := Discover(context.Background(), func(_ context.Context, _ string, args ...string) ([]byte, error) {
			return a[args[0]].out, nil
		})
		if err != nil || len(inv.Devices) == 0 {
			if inv.Reason == "" {
				t.Fatalf("no devices and no reason (err %v)", err)
			}
			return
		}
		for _, d := range inv.Devices {
			if d.Index < 0 || d.Minor < 0 || d.MemoryMiB < 0 || !strings.HasPrefix(d.UUID, "GPU-") {
				t.Fatalf("device %+v", d)
			}
			for _, s := range d.Slices {
				if s.GPUIndex != d.Index || s.MemoryMiB < 0 || !strings.HasPrefix(s.UUID, "MIG-") {
					t.Fatalf("slice %+v of %+v", s, d)
				}
			}
		}
	})
}
