package gpu

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Runner runs a command and returns its standard output. A command that is
// not installed gives an error wrapping exec.ErrNotFound; one that fails, a
// *CommandError. Tests pass recorded outputs through one.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// CommandError is a command that ran and failed.
type CommandError struct {
	Command string
	Err     error  // the exit status, or the timeout
	Output  string // what it said: standard error, else standard output
}

func (e *CommandError) Error() string {
	if e.Output == "" {
		return fmt.Sprintf("%s: %v", e.Command, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Command, e.Err, e.Output)
}

func (e *CommandError) Unwrap() error { return e.Err }

// execTimeout bounds one nvidia-smi call: a wedged driver makes it hang, and
// discovery must not hold the server's start for long.
const execTimeout = 30 * time.Second

// ExecRunner is the Runner of the real host.
func ExecRunner(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, execTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A child that keeps the pipes open must not keep us waiting.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrNotFound) {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	if err != nil {
		// nvidia-smi prints its own failures on standard output.
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", err, ctx.Err())
		}
		return stdout.Bytes(), &CommandError{Command: name + " " + strings.Join(args, " "), Err: err, Output: msg}
	}
	return stdout.Bytes(), nil
}

// The questions discovery asks. The CSV is the source of truth for which
// GPUs exist; -L names the MIG devices; -q -x adds what only it knows (the
// device minor, MIG instance ids, a slice's exact memory) and may fail.
var (
	queryArgs = []string{"--query-gpu=index,uuid,name,memory.total,mig.mode.current,pci.bus_id", "--format=csv,noheader,nounits"}
	listArgs  = []string{"-L"}
	xmlArgs   = []string{"-q", "-x"}
)

const reasonNoDriver = "no NVIDIA driver found (nvidia-smi is not installed)"

// Discover asks nvidia-smi what the host has. A host without nvidia-smi
// gives an empty Inventory with a Reason and no error. When nvidia-smi fails
// or answers what cannot be read, the error says so and the Inventory still
// carries a Reason fit to show.
func Discover(ctx context.Context, run Runner) (Inventory, error) {
	out, err := run(ctx, "nvidia-smi", queryArgs...)
	if err != nil {
		return failed(err)
	}
	devs, err := parseQuery(out)
	if err != nil {
		return Inventory{Reason: "nvidia-smi answered in a form this version cannot read"}, fmt.Errorf("discover GPUs: %w", err)
	}
	if len(devs) == 0 {
		return Inventory{Reason: "nvidia-smi found no GPUs"}, nil
	}
	out, err = run(ctx, "nvidia-smi", listArgs...)
	if err != nil {
		return failed(err)
	}
	slices, err := parseList(out)
	if err != nil {
		return Inventory{Reason: "nvidia-smi answered in a form this version cannot read"}, fmt.Errorf("discover GPUs: %w", err)
	}
	inv := Inventory{Devices: devs}
	var details map[string]xmlGPU
	if out, err := run(ctx, "nvidia-smi", xmlArgs...); err != nil {
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("nvidia-smi -q -x failed (%v): device minors are taken to equal indexes, MIG slice memory comes from the profile name", err))
	} else if details, err = parseXML(out); err != nil {
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("nvidia-smi -q -x could not be read (%v): device minors are taken to equal indexes, MIG slice memory comes from the profile name", err))
	}
	for i := range inv.Devices {
		inv.Warnings = append(inv.Warnings, complete(&inv.Devices[i], slices[inv.Devices[i].UUID], details)...)
	}
	return inv, nil
}

// failed turns a failed nvidia-smi into the Inventory and error to return.
func failed(err error) (Inventory, error) {
	if errors.Is(err, exec.ErrNotFound) {
		return Inventory{Reason: reasonNoDriver}, nil
	}
	reason := "nvidia-smi failed"
	var ce *CommandError
	if errors.As(err, &ce) && ce.Output != "" {
		reason += ": " + firstLine(ce.Output)
	}
	return Inventory{Reason: reason}, fmt.Errorf("discover GPUs: %w", err)
}

// complete joins a device with its MIG devices from -L and the details of
// -q -x, falling back to what the names say where -q -x did not answer.
func complete(d *Device, slices []Slice, details map[string]xmlGPU) []string {
	var warnings []string
	det, haveDet := details[d.UUID]
	d.Minor = d.Index
	if haveDet && det.minor >= 0 {
		d.Minor = det.minor
	}
	if !d.MIG {
		return nil
	}
	for _, s := range slices {
		s.GPUIndex, s.GPUMinor = d.Index, d.Minor
		if m, ok := det.mig[s.Index]; ok {
			s.GI, s.CI = m.gi, m.ci
			if m.memMiB > 0 {
				s.MemoryMiB = m.memMiB
			}
		}
		if s.MemoryMiB == 0 {
			s.MemoryMiB = profileMiB(s.Name)
		}
		if s.GI < 0 || s.CI < 0 {
			warnings = append(warnings, fmt.Sprintf("GPU %d: MIG device %d (%s) has no known instance ids: its capability nodes cannot be named", d.Index, s.Index, s.Name))
		}
		d.Slices = append(d.Slices, s)
	}
	if len(d.Slices) == 0 {
		warnings = append(warnings, fmt.Sprintf("GPU %d is in MIG mode with no MIG devices: nothing on it can be used", d.Index))
	}
	return warnings
}

// parseQuery reads the CSV of queryArgs: "0, GPU-..., NVIDIA A100-SXM4-80GB,
// 81920, Enabled, 00000000:10:00.0" per GPU. Values nvidia-smi does not know
// read "[N/A]" (memory on unified-memory boards, MIG mode on GPUs without it).
func parseQuery(out []byte) ([]Device, error) {
	var devs []Device
	for n, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 6 {
			return nil, fmt.Errorf("line %d of the GPU query: %d fields, want 6: %q", n+1, len(f), line)
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		last := len(f) - 1
		idx, err := strconv.Atoi(f[0])
		if err != nil || idx < 0 {
			return nil, fmt.Errorf("line %d of the GPU query: index %q", n+1, f[0])
		}
		if !strings.HasPrefix(f[1], "GPU-") {
			return nil, fmt.Errorf("line %d of the GPU query: uuid %q", n+1, f[1])
		}
		mem := 0
		if !notAvailable(f[last-2]) {
			if mem, err = strconv.Atoi(f[last-2]); err != nil || mem < 0 {
				return nil, fmt.Errorf("line %d of the GPU query: memory %q", n+1, f[last-2])
			}
		}
		bus := f[last]
		if notAvailable(bus) {
			bus = ""
		}
		devs = append(devs, Device{
			Index: idx, Minor: idx, UUID: f[1],
			// A name with a comma in it spans the fields between.
			Name:      strings.Join(f[2:last-2], ", "),
			MemoryMiB: mem,
			MIG:       strings.EqualFold(f[last-1], "Enabled"),
			BusID:     bus,
		})
	}
	sort.Slice(devs, func(i, j int) bool { return devs[i].Index < devs[j].Index })
	for i := 1; i < len(devs); i++ {
		if devs[i].Index == devs[i-1].Index || devs[i].UUID == devs[i-1].UUID {
			return nil, fmt.Errorf("the GPU query lists GPU %d twice", devs[i].Index)
		}
	}
	return devs, nil
}

func notAvailable(v string) bool { return v == "[N/A]" || v == "N/A" || v == "" }

var (
	listGPU = regexp.MustCompile(`^GPU (\d+): (.*) \(UUID: (GPU-[^)]+)\)$`)
	// Drivers before R470 wrote a MIG device's UUID as MIG-GPU-<gpu>/<gi>/<ci>;
	// later ones as MIG-<uuid>, and pad the columns with more spaces.
	listMIG     = regexp.MustCompile(`^MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[^)]+)\)$`)
	oldMIGUUID  = regexp.MustCompile(`^MIG-GPU-[^/]+/(\d+)/(\d+)$`)
	profileSize = regexp.MustCompile(`(\d+)gb`)
)

// parseList reads nvidia-smi -L: the MIG devices of each GPU, by its UUID.
// Lines it does not know are skipped; a MIG device outside a GPU is not.
func parseList(out []byte) (map[string][]Slice, error) {
	slices := map[string][]Slice{}
	gpu := ""
	for n, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if m := listGPU.FindStringSubmatch(line); m != nil {
			gpu = m[3]
			continue
		}
		m := listMIG.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if gpu == "" {
			return nil, fmt.Errorf("line %d of nvidia-smi -L: a MIG device before any GPU", n+1)
		}
		idx, err := strconv.Atoi(m[2])
		if err != nil {
			return nil, fmt.Errorf("line %d of nvidia-smi -L: MIG device %q", n+1, m[2])
		}
		s := Slice{UUID: m[3], Name: m[1], Index: idx, GI: -1, CI: -1}
		if old := oldMIGUUID.FindStringSubmatch(s.UUID); old != nil {
			s.GI, _ = strconv.Atoi(old[1])
			s.CI, _ = strconv.Atoi(old[2])
		}
		slices[gpu] = append(slices[gpu], s)
	}
	return slices, nil
}

// profileMiB is a MIG profile's nominal memory ("3g.20gb" → 20 GiB): a
// little more than the slice really has (19968 MiB for 2g.20gb on an A100).
func profileMiB(profile string) int {
	m := profileSize.FindStringSubmatch(profile)
	if m == nil {
		return 0
	}
	gb, err := strconv.Atoi(m[1])
	if err != nil || gb > 1<<20 {
		return 0
	}
	return gb * 1024
}

type xmlGPU struct {
	minor int
	mig   map[int]xmlMIG // by MIG device index, the N of -L's "Device N"
}

type xmlMIG struct{ gi, ci, memMiB int }

// parseXML reads the parts of nvidia-smi -q -x that discovery needs, by GPU
// UUID. Values it cannot read are left unknown (-1, 0), not guessed.
func parseXML(out []byte) (map[string]xmlGPU, error) {
	var log struct {
		GPUs []struct {
			UUID  string `xml:"uuid"`
			Minor string `xml:"minor_number"`
			MIG   []struct {
				Index string `xml:"index"`
				GI    string `xml:"gpu_instance_id"`
				CI    string `xml:"compute_instance_id"`
				Total string `xml:"fb_memory_usage>total"`
			} `xml:"mig_devices>mig_device"`
		} `xml:"gpu"`
	}
	if err := xml.Unmarshal(out, &log); err != nil {
		return nil, fmt.Errorf("nvidia-smi -q -x: %w", err)
	}
	gpus := map[string]xmlGPU{}
	for _, g := range log.GPUs {
		x := xmlGPU{minor: atoiOr(g.Minor, -1), mig: map[int]xmlMIG{}}
		for _, m := range g.MIG {
			idx := atoiOr(m.Index, -1)
			if idx < 0 {
				continue
			}
			x.mig[idx] = xmlMIG{
				gi:     atoiOr(m.GI, -1),
				ci:     atoiOr(m.CI, -1),
				memMiB: max(atoiOr(strings.TrimSuffix(strings.TrimSpace(m.Total), " MiB"), 0), 0),
			}
		}
		gpus[strings.TrimSpace(g.UUID)] = x
	}
	return gpus, nil
}

func atoiOr(s string, or int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return or
	}
	return n
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return strings.TrimSpace(s)
}
