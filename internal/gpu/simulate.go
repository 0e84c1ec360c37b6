package gpu

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	simGroup   = regexp.MustCompile(`^(?:(\d+)x)?([A-Za-z0-9][A-Za-z0-9._-]*?-(\d+)GB)(?::mig=(.+))?$`)
	simProfile = regexp.MustCompile(`^(?:\d+c\.)?\d+g\.(\d+)gb(?:\+me)?$`)
)

// maxSimulated keeps a typo ("1000xA100-80GB") from making a huge pool.
const maxSimulated = 64

// Simulated makes an Inventory of GPUs that do not exist, for tests and for
// trying GPU projects on a machine without one. The spec is a comma-separated
// list of groups, each [COUNTx]MODEL-<GB>GB with an optional :mig= list of
// MIG profiles joined by '+':
//
//	2xA100-80GB,1xA100-40GB:mig=3g.20gb+3g.20gb
//
// Everything about the result says it is simulated: the Simulated flag, the
// Reason, the names ("simulated A100-80GB") and the UUIDs (GPU-SIMULATED-0).
// Its devices have no device nodes; a lease of one gives only the env.
func Simulated(spec string) (Inventory, error) {
	inv := Inventory{Simulated: true, Reason: fmt.Sprintf("simulated GPUs (%q): there is no hardware behind them", spec)}
	if strings.TrimSpace(spec) == "" {
		return Inventory{}, fmt.Errorf("simulated GPUs: empty spec")
	}
	for _, group := range strings.Split(spec, ",") {
		group = strings.TrimSpace(group)
		m := simGroup.FindStringSubmatch(group)
		if m == nil {
			return Inventory{}, fmt.Errorf("simulated GPUs: %q is not COUNTxMODEL-<GB>GB[:mig=PROFILE+PROFILE...]", group)
		}
		count := 1
		if m[1] != "" {
			count, _ = strconv.Atoi(m[1])
		}
		gb, _ := strconv.Atoi(m[3])
		if count < 1 || gb < 1 || len(inv.Devices)+count > maxSimulated {
			return Inventory{}, fmt.Errorf("simulated GPUs: %q: between 1 and %d GPUs of at least 1 GB", group, maxSimulated)
		}
		profiles, err := simProfiles(m[4], gb)
		if err != nil {
			return Inventory{}, fmt.Errorf("simulated GPUs: %q: %w", group, err)
		}
		for range count {
			i := len(inv.Devices)
			d := Device{
				Index: i, Minor: i,
				UUID:      fmt.Sprintf("GPU-SIMULATED-%d", i),
				Name:      "simulated " + m[2],
				MemoryMiB: gb * 1024,
				MIG:       m[4] != "",
			}
			for j, p := range profiles {
				d.Slices = append(d.Slices, Slice{
					UUID: fmt.Sprintf("MIG-SIMULATED-%d-%d", i, j), Name: p,
					GPUIndex: i, GPUMinor: i, Index: j,
					MemoryMiB: profileMiB(p), GI: j + 1, CI: 0,
				})
			}
			inv.Devices = append(inv.Devices, d)
		}
	}
	return inv, nil
}

// simProfiles reads "3g.20gb+1g.10gb+me+1g.10gb": '+' joins profiles, except
// in the "+me" (media extensions) suffix some profiles carry.
func simProfiles(list string, gb int) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	var profiles []string
	for _, p := range strings.Split(list, "+") {
		if p == "me" && len(profiles) > 0 {
			profiles[len(profiles)-1] += "+me"
			continue
		}
		profiles = append(profiles, p)
	}
	total := 0
	for _, p := range profiles {
		m := simProfile.FindStringSubmatch(p)
		if m == nil {
			return nil, fmt.Errorf("%q is not a MIG profile like 1g.10gb", p)
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q has no memory", p)
		}
		total += n
	}
	if total > gb {
		return nil, fmt.Errorf("its MIG slices add up to %d GB, more than the GPU's %d GB", total, gb)
	}
	return profiles, nil
}
