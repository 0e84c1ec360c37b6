package gpu

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"slices"
	"strings"
)

// DriverFiles are the host driver's user-space files a process needs to
// use a GPU, found as the NVIDIA container toolkit finds them for a
// container with the compute and utility capabilities: the libraries
// through the dynamic loader's cache, the binaries on PATH, the daemons'
// sockets. Paths are the host's, as with device nodes: under the root
// FindDriverFiles was given.
type DriverFiles struct {
	// Version is the loaded kernel module's ("550.54.15"); every library
	// is of this version, as user space and kernel module must match.
	Version string
	Libs    []Library
	Bins    []Binary
	// Sockets are those of the daemons the utility libraries talk to
	// (nvidia-persistenced), where they run.
	Sockets []string
}

// Library is one driver library.
type Library struct {
	Path string // the file itself, symlinks resolved: .../libcuda.so.550.54.15
	// Names are those it is loaded by: its soname (libcuda.so.1), and the
	// linker name (libcuda.so) where there is one.
	Names []string
}

// Binary is one driver program.
type Binary struct {
	Name string // nvidia-smi
	Path string // the file itself, symlinks resolved
}

// The toolkit's lists (libnvidia-container's nvc_info.c) for the utility
// and compute capabilities: what nvidia-smi, NVML and CUDA programs load.
// Each library is named by its stem, matched up to the version suffix.
var (
	driverLibs = []string{
		"libnvidia-ml.so", "libnvidia-cfg.so", "libnvidia-nscq.so",
		"libcuda.so", "libcudadebugger.so", "libnvidia-opencl.so", "libnvidia-gpucomp.so",
		"libnvidia-ptxjitcompiler.so", "libnvidia-fatbinaryloader.so", "libnvidia-allocator.so",
		"libnvidia-compiler.so", "libnvidia-pkcs11.so", "libnvidia-pkcs11-openssl3.so",
		"libnvidia-nvvm.so", "libnvidia-tileiras.so",
	}
	driverBins = []string{
		"nvidia-smi", "nvidia-debugdump", "nvidia-persistenced",
		"nvidia-cuda-mps-control", "nvidia-cuda-mps-server",
	}
	driverSockets = []string{"/run/nvidia-persistenced/socket"}
)

const versionPath = "/proc/driver/nvidia/version"

var (
	// "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar ..."
	// "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build ..."
	nvrmVersion = regexp.MustCompile(`(?m)^NVRM version:.*?\s(\d+\.\d+(?:\.\d+)?)\s`)
	// "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1"
	ldEntry = regexp.MustCompile(`^\s+(\S+) \(([^)]*)\) => (\S+)$`)
)

// ldArch is how ldconfig -p tags the libraries of this machine's
// architecture (NVIDIA ships drivers for these three); 32-bit ones are
// never given.
var ldArch = map[string]string{"amd64": "x86-64", "arm64": "AArch64", "ppc64le": "64bit"}

// FindDriverFiles finds the driver's files under root ("" for /): the
// loaded module's version from /proc, the libraries of that version in
// the loader's cache (`ldconfig -p`, run through run), the binaries in the
// folders of PATH. An error says what is missing; a driver without
// libcuda is one, for no CUDA program could run.
func FindDriverFiles(ctx context.Context, root string, run Runner) (DriverFiles, error) {
	var f DriverFiles
	b, err := os.ReadFile(filepath.Join(root, versionPath))
	if errors.Is(err, fs.ErrNotExist) {
		return f, fmt.Errorf("no NVIDIA kernel module is loaded (%s is missing)", versionPath)
	}
	if err != nil {
		return f, fmt.Errorf("read the NVIDIA driver's version: %w", err)
	}
	m := nvrmVersion.FindSubmatch(b)
	if m == nil {
		return f, fmt.Errorf("%s names no driver version: %q", versionPath, firstLine(string(b)))
	}
	f.Version = string(m[1])
	cache, err := run(ctx, "ldconfig", "-p")
	if err != nil {
		return f, fmt.Errorf("list the loader's cache: %w", err)
	}
	if f.Libs, err = driverLibraries(root, cache, f.Version); err != nil {
		return f, err
	}
	if !slices.ContainsFunc(f.Libs, func(l Library) bool { return slices.Contains(l.Names, "libcuda.so.1") }) {
		return f, fmt.Errorf("the loader's cache has no libcuda.so.1 of the loaded driver %s (install its libraries, then run ldconfig)", f.Version)
	}
	for _, name := range driverBins {
		for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
			if p, err := resolve(root, filepath.Join(dir, name)); err == nil && isFile(root, p) {
				f.Bins = append(f.Bins, Binary{Name: name, Path: p})
				break
			}
		}
	}
	for _, s := range driverSockets {
		if _, err := os.Stat(filepath.Join(root, s)); err == nil {
			f.Sockets = append(f.Sockets, s)
		}
	}
	return f, nil
}

// driverLibraries picks from ldconfig -p's answer the driver's libraries
// of this architecture and of version: another version's (a CUDA forward
// compatibility package, an old driver left behind) would not work with
// the loaded module.
func driverLibraries(root string, cache []byte, version string) ([]Library, error) {
	arch, ok := ldArch[goruntime.GOARCH]
	if !ok {
		return nil, fmt.Errorf("NVIDIA drivers are not made for %s", goruntime.GOARCH)
	}
	var libs []Library
	byPath := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(cache))
	for sc.Scan() {
		m := ldEntry.FindStringSubmatch(sc.Text())
		if m == nil || !slices.Contains(strings.Split(m[2], ","), arch) || !isDriverLib(m[1]) {
			continue
		}
		p, err := resolve(root, m[3])
		if err != nil || !strings.HasSuffix(p, ".so."+version) {
			continue
		}
		i, seen := byPath[p]
		if !seen {
			i = len(libs)
			byPath[p] = i
			libs = append(libs, Library{Path: p})
		}
		if !slices.Contains(libs[i].Names, m[1]) {
			libs[i].Names = append(libs[i].Names, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the loader's cache: %w", err)
	}
	for i, l := range libs {
		// Programs dlopen "libcuda.so" though only a development package
		// makes that link; the toolkit makes it, and so do we.
		if slices.Contains(l.Names, "libcuda.so.1") && !slices.Contains(l.Names, "libcuda.so") {
			libs[i].Names = append(libs[i].Names, "libcuda.so")
		}
	}
	return libs, nil
}

func isDriverLib(name string) bool {
	return slices.ContainsFunc(driverLibs, func(stem string) bool {
		return name == stem || strings.HasPrefix(name, stem+".")
	})
}

// resolve follows the symlinks of path within root and returns the host
// path it ends at (without root).
func resolve(root, path string) (string, error) {
	p, err := filepath.EvalSymlinks(filepath.Join(root, path))
	if err != nil || root == "" {
		return p, err
	}
	base, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(base, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s leads out of %s", path, root)
	}
	return "/" + rel, nil
}

func isFile(root, path string) bool {
	info, err := os.Stat(filepath.Join(root, path))
	return err == nil && info.Mode().IsRegular()
}

// ProcGPUDir is the host's /proc/driver/nvidia/gpus folder of the GPU at
// busID (nvidia-smi's "00000000:10:00.0"), under root; "" where there is
// none. The driver names it in lower case, with the 32-bit PCI domain or,
// in older drivers, the 16-bit one ("0000:10:00.0").
func ProcGPUDir(root, busID string) string {
	if busID == "" {
		return ""
	}
	id := strings.ToLower(busID)
	names := []string{id}
	if domain, _, ok := strings.Cut(id, ":"); ok && len(domain) == 8 {
		names = append(names, id[4:])
	}
	for _, name := range names {
		dir := filepath.Join("/proc/driver/nvidia/gpus", name)
		if info, err := os.Stat(filepath.Join(root, dir)); err == nil && info.IsDir() {
			return dir
		}
	}
	return ""
}
