package gpu

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The device nodes follow what the NVIDIA container toolkit gives a
// container: the GPU's own /dev/nvidiaN, the control and unified-memory
// nodes every CUDA process opens, and for a MIG slice the two capability
// nodes that grant its GPU instance and compute instance (the "config" and
// "monitor" capabilities, which manage MIG, are never given). Each function
// takes root, the folder the host's / is found at ("" for /), so tests can
// lay out a fake /dev and /proc; the paths returned are the host's.

// Nodes are the device nodes a sandbox needs to use the whole GPU. Of the
// shared ones, only those that exist are listed: nvidia-uvm appears once its
// module is loaded (nvidia-modprobe -u -c=0 at boot sees to it).
func (d Device) Nodes(root string) []string {
	return append([]string{fmt.Sprintf("/dev/nvidia%d", d.Minor)}, sharedNodes(root)...)
}

// Nodes are the device nodes a sandbox needs to use the slice: its GPU's,
// the shared ones, and its capability nodes, found through
// /proc/driver/nvidia-caps/mig-minors as nvidia-container-toolkit does.
// An error says what is missing and how the host gets it.
func (s Slice) Nodes(root string) ([]string, error) {
	if s.GI < 0 || s.CI < 0 {
		return nil, fmt.Errorf("MIG device %s: its GPU and compute instance ids are unknown (nvidia-smi -q -x did not say)", s.UUID)
	}
	minors, err := migMinors(root)
	if err != nil {
		return nil, err
	}
	nodes := append([]string{fmt.Sprintf("/dev/nvidia%d", s.GPUMinor)}, sharedNodes(root)...)
	caps := []string{
		fmt.Sprintf("gpu%d/gi%d/access", s.GPUMinor, s.GI),
		fmt.Sprintf("gpu%d/gi%d/ci%d/access", s.GPUMinor, s.GI, s.CI),
	}
	for _, c := range caps {
		minor, ok := minors[c]
		if !ok {
			return nil, fmt.Errorf("MIG device %s: %s has no %s", s.UUID, migMinorsPath, c)
		}
		node := fmt.Sprintf("/dev/nvidia-caps/nvidia-cap%d", minor)
		if !exists(root, node) {
			// The driver makes capability nodes on demand, not at boot.
			gpu, rest, _ := strings.Cut(c, "/")
			return nil, fmt.Errorf("MIG device %s: %s is missing (create it with nvidia-modprobe -f /proc/driver/nvidia/capabilities/%s/mig/%s)", s.UUID, node, gpu, rest)
		}
		nodes = append(nodes, node)
	}
	return nodes, nil
}

func sharedNodes(root string) []string {
	var nodes []string
	for _, n := range []string{"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"} {
		if exists(root, n) {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

func exists(root, path string) bool {
	_, err := os.Stat(filepath.Join(root, path))
	return err == nil
}

const migMinorsPath = "/proc/driver/nvidia-caps/mig-minors"

// migMinors reads the driver's table from MIG capability ("gpu0/gi1/access",
// "gpu0/gi1/ci0/access", "config", "monitor") to the minor of its
// /dev/nvidia-caps node. It lists every capability that could exist, so a
// slice made after the server started is found too.
func migMinors(root string) (map[string]int, error) {
	f, err := os.Open(filepath.Join(root, migMinorsPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is missing: the loaded NVIDIA driver does not support MIG", migMinorsPath)
	}
	if err != nil {
		return nil, fmt.Errorf("read MIG minors: %w", err)
	}
	defer f.Close()
	minors := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, num, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(num)); err == nil && n >= 0 {
			minors[name] = n
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read MIG minors: %w", err)
	}
	return minors, nil
}
