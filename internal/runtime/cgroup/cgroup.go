// Package cgroup gives each sandbox a control group with memory, process
// and CPU limits and the devices it may open, and kills everything in it
// at once. It speaks cgroup v2 where the unified hierarchy is mounted and
// v1 (memory, pids, cpu, freezer, devices) otherwise. It needs root;
// without it sandboxes run with rlimits only, and the driver says so in
// health.
package cgroup

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Limits for one sandbox; zero leaves a limit unset.
type Limits struct {
	MemoryBytes int64
	Pids        int
	CPUs        float64 // cores of CPU time per wall second
}

// Manager creates groups under one parent named for the platform, the
// server instance and the process that owns it.
type Manager struct {
	root   string // /sys/fs/cgroup
	parent string // e.g. "ecode-1a2b3c4d@4242-987654"
	v2     bool
	ctrls  []string // v1 hierarchies a group is made in; nil: v1Controllers
}

var v1Controllers = []string{"memory", "pids", "cpu", "freezer"}

// controllers are the v1 hierarchies of this manager's groups: devices
// joins where it is mounted; cpuacct where it is mounted apart from cpu,
// since CPU time is counted there (comounted, cpu's group counts it).
func (m *Manager) controllers() []string {
	if m.ctrls != nil {
		return m.ctrls
	}
	return v1Controllers
}

func v1Hierarchies(root string) []string {
	h := slices.Clone(v1Controllers)
	// The devices hierarchy, where mounted, holds the device filter
	// (AllowDevices).
	if _, err := os.Stat(filepath.Join(root, "devices", "devices.allow")); err == nil {
		h = append(h, "devices")
	}
	cpu, err1 := filepath.EvalSymlinks(filepath.Join(root, "cpu"))
	acct, err2 := filepath.EvalSymlinks(filepath.Join(root, "cpuacct"))
	if err1 == nil && err2 == nil && cpu != acct {
		h = append(h, "cpuacct")
	}
	return h
}

// prefix starts the name of every parent group the platform makes.
const prefix = "ecode-"

// New returns a manager for groups under a parent of this process named
// for instance (which tells servers on one host apart, e.g. by their data
// dir), or an error saying why cgroups cannot be used here.
//
// The parent's name also carries its owner, "@PID-STARTTIME": groups never
// outlive the server that made them, even one killed outright, because
// the next server to start on the host, whatever its data dir, ends those
// whose owner is gone (Orphans).
func New(instance string) (*Manager, error) {
	owner, err := processID(os.Getpid())
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	m := &Manager{root: "/sys/fs/cgroup", parent: prefix + instance + "@" + owner}
	if _, err := os.Stat(filepath.Join(m.root, "cgroup.controllers")); err == nil {
		m.v2 = true
		if err := os.MkdirAll(m.dir(""), 0o755); err != nil {
			return nil, fmt.Errorf("cgroup v2: %w", err)
		}
		// Controllers must be enabled on the way down to the sandboxes.
		for _, d := range []string{m.root, m.dir("")} {
			if err := os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+memory +pids +cpu"), 0); err != nil {
				return nil, fmt.Errorf("cgroup v2: enable controllers in %s: %w", d, err)
			}
		}
		return m, nil
	}
	m.ctrls = v1Hierarchies(m.root)
	for _, c := range m.controllers() {
		if err := os.MkdirAll(m.dirV1(c, ""), 0o755); err != nil {
			return nil, fmt.Errorf("cgroup v1 %s: %w", c, err)
		}
	}
	return m, nil
}

// processID names a running process for as long as it runs: its pid and
// the time it started (in clock ticks since boot), since pids are reused.
func processID(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	// The command name, field 2, is in parentheses and may hold anything;
	// the fields after the last ')' start with field 3, the start time is 22.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return "", fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return fmt.Sprintf("%d-%s", pid, f[19]), nil
}

// ownerGone reports whether the parent group name belongs to a process
// that no longer runs. A name without an owner is from a server before
// owners were recorded: gone as well.
func ownerGone(name string) bool {
	_, owner, ok := strings.Cut(name, "@")
	if !ok {
		return true
	}
	pidText, _, _ := strings.Cut(owner, "-")
	pid, err := strconv.Atoi(pidText)
	if err != nil {
		return true
	}
	now, err := processID(pid)
	return err != nil || now != owner
}

// Version is 1 or 2.
func (m *Manager) Version() int {
	if m.v2 {
		return 2
	}
	return 1
}

func (m *Manager) dir(id string) string { return filepath.Join(m.root, m.parent, id) }

func (m *Manager) dirV1(controller, id string) string {
	return filepath.Join(m.root, controller, m.parent, id)
}

// Group is one sandbox's control group.
type Group struct {
	m  *Manager
	id string
}

// Create makes the group for id with limits l.
func (m *Manager) Create(id string, l Limits) (*Group, error) {
	g := &Group{m: m, id: id}
	if err := g.create(l); err != nil {
		_ = g.Destroy()
		return nil, fmt.Errorf("cgroup %s: %w", id, err)
	}
	return g, nil
}

func (g *Group) create(l Limits) error {
	m := g.m
	if m.v2 {
		d := m.dir(g.id)
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
		writes := map[string]string{}
		if l.MemoryBytes > 0 {
			writes["memory.max"] = strconv.FormatInt(l.MemoryBytes, 10)
			writes["memory.swap.max"] = "0"
		}
		if l.Pids > 0 {
			writes["pids.max"] = strconv.Itoa(l.Pids)
		}
		if l.CPUs > 0 {
			writes["cpu.max"] = fmt.Sprintf("%d 100000", int(l.CPUs*100000))
		}
		return writeAll(d, writes)
	}
	for _, c := range m.controllers() {
		if err := os.Mkdir(m.dirV1(c, g.id), 0o755); err != nil {
			return err
		}
	}
	if l.MemoryBytes > 0 {
		d := m.dirV1("memory", g.id)
		if err := writeAll(d, map[string]string{"memory.limit_in_bytes": strconv.FormatInt(l.MemoryBytes, 10)}); err != nil {
			return err
		}
		// Where swap accounting exists, swap counts against the limit too.
		_ = os.WriteFile(filepath.Join(d, "memory.memsw.limit_in_bytes"), []byte(strconv.FormatInt(l.MemoryBytes, 10)), 0)
	}
	if l.Pids > 0 {
		if err := writeAll(m.dirV1("pids", g.id), map[string]string{"pids.max": strconv.Itoa(l.Pids)}); err != nil {
			return err
		}
	}
	if l.CPUs > 0 {
		if err := writeAll(m.dirV1("cpu", g.id), map[string]string{
			"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": strconv.Itoa(int(l.CPUs * 100000)),
		}); err != nil {
			return err
		}
	}
	return nil
}

func writeAll(dir string, kv map[string]string) error {
	for k, v := range kv {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0); err != nil {
			return fmt.Errorf("set %s=%s: %w", k, v, err)
		}
	}
	return nil
}

// procsFiles are the group's cgroup.procs files.
func (g *Group) procsFiles() []string {
	if g.m.v2 {
		return []string{filepath.Join(g.m.dir(g.id), "cgroup.procs")}
	}
	out := make([]string, 0, len(g.m.controllers()))
	for _, c := range g.m.controllers() {
		out = append(out, filepath.Join(g.m.dirV1(c, g.id), "cgroup.procs"))
	}
	return out
}

// StartIn starts cmd, in the group from its first instruction where the
// kernel can clone into a group (v2). It reports whether it did; on v1 the
// caller must Adopt the sandbox's processes before they run user code.
func (g *Group) StartIn(cmd *exec.Cmd) (bool, error) {
	if !g.m.v2 {
		return false, cmd.Start()
	}
	f, err := os.Open(g.m.dir(g.id))
	if err != nil {
		return false, err
	}
	defer f.Close()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(f.Fd())
	return true, cmd.Start()
}

// Adopt moves processes into the group, with all their threads.
func (g *Group) Adopt(pids ...int) error {
	for _, f := range g.procsFiles() {
		for _, pid := range pids {
			if err := os.WriteFile(f, []byte(strconv.Itoa(pid)), 0); err != nil {
				return fmt.Errorf("move %d into %s: %w", pid, f, err)
			}
		}
	}
	return nil
}

// OOMKilled reports whether the kernel killed something in the group for
// want of memory.
func (g *Group) OOMKilled() bool {
	if g.m.v2 {
		return OOMKilledDir(g.m.dir(g.id))
	}
	return oomKilledV1(g.m.dirV1("memory", g.id))
}

// oomKilledV1 reads cgroup v1's memory folder dir.
func oomKilledV1(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "oom_kill" && f[1] != "0" {
			return true
		}
	}
	// Kernels without the oom_kill counter still count failed charges.
	b, err = os.ReadFile(filepath.Join(dir, "memory.failcnt"))
	return err == nil && strings.TrimSpace(string(b)) != "0"
}

// Usage is what a group's processes use now, and the CPU time they have
// used since the group was made.
type Usage struct {
	MemoryBytes int64
	Pids        int
	CPUUsec     int64 // microseconds of CPU time, user and system
}

// Read returns the limits the kernel holds the group to, zero where a
// limit is unset, and its usage.
func (g *Group) Read() (Limits, Usage, error) {
	if g.m.v2 {
		return ReadDir(g.m.dir(g.id))
	}
	l, u, err := readV1(func(controller string) string { return g.m.dirV1(controller, g.id) })
	u.CPUUsec = g.cpuUsec()
	return l, u, err
}

// readV1 reads cgroup v1's figures from the folder dir gives per
// controller.
func readV1(dir func(controller string) string) (Limits, Usage, error) {
	var f files
	read := func(controller, file string) string { return f.read(filepath.Join(dir(controller), file)) }
	l := Limits{MemoryBytes: num(read("memory", "memory.limit_in_bytes")), Pids: int(num(read("pids", "pids.max")))}
	if q, p := num(read("cpu", "cpu.cfs_quota_us")), num(read("cpu", "cpu.cfs_period_us")); q > 0 && p > 0 {
		l.CPUs = float64(q) / float64(p)
	}
	if l.MemoryBytes >= 1<<62 {
		l.MemoryBytes = 0 // v1 writes "no limit" as a page-rounded maximum
	}
	u := Usage{MemoryBytes: num(read("memory", "memory.usage_in_bytes")), Pids: int(num(read("pids", "pids.current"))), CPUUsec: cpuUsecV1(dir("cpuacct"))}
	return l, u, f.err
}

// ReadOwn reads the cgroup a container sees as its own under root
// (/sys/fs/cgroup): v2's one folder, or v1's folder per controller.
func ReadOwn(root string) (Limits, Usage, bool, error) {
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		l, u, err := ReadDir(root)
		return l, u, OOMKilledDir(root), err
	}
	l, u, err := readV1(func(controller string) string { return filepath.Join(root, controller) })
	return l, u, oomKilledV1(filepath.Join(root, "memory")), err
}

// cpuUsec reads the group's CPU time: v2's cpu.stat usage_usec, or v1's
// cpuacct.usage (nanoseconds). It is 0 where the kernel does not count it,
// which leaves the rest of Read usable.
func (g *Group) cpuUsec() int64 {
	if g.m.v2 {
		return cpuUsecV2(g.m.dir(g.id))
	}
	dir := g.m.dirV1("cpu", g.id)
	if slices.Contains(g.m.controllers(), "cpuacct") {
		dir = g.m.dirV1("cpuacct", g.id)
	}
	return cpuUsecV1(dir)
}

// cpuUsecV1 reads cpuacct.usage (nanoseconds) in dir.
func cpuUsecV1(dir string) int64 {
	b, err := os.ReadFile(filepath.Join(dir, "cpuacct.usage"))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return max(n, 0) / 1000
}

// Kill ends every process in the group at once.
func (g *Group) Kill() error {
	if g.m.v2 {
		err := os.WriteFile(filepath.Join(g.m.dir(g.id), "cgroup.kill"), []byte("1"), 0)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	// v1 has no cgroup.kill: freeze so nothing can fork, kill all, thaw.
	freezer := g.m.dirV1("freezer", g.id)
	state := filepath.Join(freezer, "freezer.state")
	if err := os.WriteFile(state, []byte("FROZEN"), 0); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for range 100 {
		if b, _ := os.ReadFile(state); strings.TrimSpace(string(b)) == "FROZEN" {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for _, pid := range pids(filepath.Join(freezer, "cgroup.procs")) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return os.WriteFile(state, []byte("THAWED"), 0)
}

func pids(procs string) []int {
	b, err := os.ReadFile(procs)
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// Empty reports whether no process is left in the group.
func (g *Group) Empty() bool {
	return len(pids(g.procsFiles()[0])) == 0
}

// Destroy kills what is left and removes the group.
func (g *Group) Destroy() error {
	_ = g.Kill()
	dirs := []string{g.m.dir(g.id)}
	if !g.m.v2 {
		dirs = dirs[:0]
		for _, c := range g.m.controllers() {
			dirs = append(dirs, g.m.dirV1(c, g.id))
		}
	}
	var errs []error
	for _, d := range dirs {
		// The kernel removes a group only once its last process is gone.
		var err error
		for range 200 {
			if err = os.Remove(d); err == nil || errors.Is(err, os.ErrNotExist) {
				err = nil
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Leftovers destroys the groups under this manager's parent: sandboxes
// of a server that stopped without Close.
func (m *Manager) Leftovers() (int, error) { return m.destroyChildren(m.parent) }

func (m *Manager) destroyChildren(parent string) (int, error) {
	base := filepath.Join(m.root, parent)
	if !m.v2 {
		base = filepath.Join(m.root, "memory", parent)
	}
	entries, err := os.ReadDir(base)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if err := (&Group{m: &Manager{root: m.root, parent: parent, v2: m.v2, ctrls: m.ctrls}, id: e.Name()}).Destroy(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Orphans ends the sandboxes of servers that are gone and removes their
// groups: those whose owner process no longer runs, whatever data dir it
// served, and those of an earlier server of the same instance. It returns
// how many sandboxes it ended.
func (m *Manager) Orphans() (int, error) {
	instance, _, _ := strings.Cut(m.parent, "@")
	base := m.root
	if !m.v2 {
		base = filepath.Join(m.root, "memory")
	}
	entries, err := os.ReadDir(base)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, prefix) || name == m.parent {
			continue
		}
		if same, _, _ := strings.Cut(name, "@"); same != instance && !ownerGone(name) {
			continue
		}
		k, err := m.destroyChildren(name)
		n += k
		if err == nil {
			err = m.removeParent(name)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("cgroup %s: %w", name, err))
		}
	}
	return n, errors.Join(errs...)
}

func (m *Manager) removeParent(parent string) error {
	if m.v2 {
		return os.Remove(filepath.Join(m.root, parent))
	}
	var errs []error
	for _, c := range m.controllers() {
		if err := os.Remove(filepath.Join(m.root, c, parent)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close destroys every group left and removes the parent.
func (m *Manager) Close() error {
	if _, err := m.Leftovers(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return m.removeParent(m.parent)
}

// ReadDir reads the limits and usage of the cgroup v2 folder dir: a
// group's, or a container's own /sys/fs/cgroup.
func ReadDir(dir string) (Limits, Usage, error) {
	var r files
	var cpus float64
	quota, period, _ := strings.Cut(r.read(filepath.Join(dir, "cpu.max")), " ")
	if q, p := num(quota), num(period); q > 0 && p > 0 {
		cpus = float64(q) / float64(p)
	}
	l := Limits{MemoryBytes: num(r.read(filepath.Join(dir, "memory.max"))), Pids: int(num(r.read(filepath.Join(dir, "pids.max")))), CPUs: cpus}
	u := Usage{MemoryBytes: num(r.read(filepath.Join(dir, "memory.current"))), Pids: int(num(r.read(filepath.Join(dir, "pids.current")))), CPUUsec: cpuUsecV2(dir)}
	return l, u, r.err
}

// files reads the one-value files of a cgroup, keeping the first error.
type files struct{ err error }

func (f *files) read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil && f.err == nil {
		f.err = err
	}
	return strings.TrimSpace(string(b))
}

// num reads a count; "max" (no limit) and -1 (unset) are 0.
func num(v string) int64 {
	n, _ := strconv.ParseInt(v, 10, 64)
	return max(n, 0)
}

// OOMKilledDir reports whether the memory limit of the cgroup v2 folder
// dir has killed something.
func OOMKilledDir(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "memory.events"))
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "oom_kill" && f[1] != "0" {
			return true
		}
	}
	return false
}

func cpuUsecV2(dir string) int64 {
	b, err := os.ReadFile(filepath.Join(dir, "cpu.stat"))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return max(n, 0)
		}
	}
	return 0
}
