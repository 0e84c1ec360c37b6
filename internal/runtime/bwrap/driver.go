// Package bwrap is the default sandbox driver: bubblewrap with every
// namespace new (user explicitly, nested user namespaces off), no
// capabilities, a read-only host toolchain, the project read-write, and
// the platform's agent as PID 1. When the server runs as root each
// sandbox gets a cgroup (memory, processes, CPU, and a device filter that
// allows only the devices of its /dev) and an unprivileged host uid of its
// own; otherwise rlimits are the only limits.
//
// A sandbox with a GPU gets what the NVIDIA container toolkit gives a
// container: that GPU's device nodes and no other's, the driver's
// libraries and programs read-only, that GPU alone in
// /proc/driver/nvidia/gpus, and the environment naming it. It starts only
// where the device filter can hold it to those nodes.
//
// A sandbox ends with the server that started it: bwrap is started from
// one locked OS thread with a parent-death signal and --die-with-parent,
// the agent inside also dies with bwrap, Close ends every sandbox, and a
// server killed outright leaves cgroups named for it that the next server
// on the host ends, whatever its data dir.
//
// What it does not isolate: the host kernel is shared, so a kernel bug is
// an escape. Multi-tenant hosts should use the gVisor or microVM drivers.
package bwrap

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"ecode/internal/gpu"
	"ecode/internal/runtime"
	"ecode/internal/runtime/agent"
	"ecode/internal/runtime/cgroup"
	"ecode/internal/runtime/netns"
)

// Limits of each sandbox.
type Limits struct {
	cgroup.Limits
	TmpBytes  int64 // size of /tmp
	HomeBytes int64 // size of the home folder (outside the project)
	NoFile    uint64
}

// DefaultLimits are those of docs/SANDBOX.md: 1 GiB, 256 processes, 1 CPU.
func DefaultLimits() Limits {
	return Limits{
		Limits:   cgroup.Limits{MemoryBytes: 1 << 30, Pids: 256, CPUs: 1},
		TmpBytes: 256 << 20, HomeBytes: 512 << 20, NoFile: 4096,
	}
}

// Egress accepts the connections of one sandbox's egress relay.
type Egress interface {
	Serve(ln net.Listener, sandboxID string)
}

// Config of the driver.
type Config struct {
	StateDir string // host folder for per-sandbox socket folders
	Limits   Limits
	Egress   Egress // nil: sandboxes have no way out
	// GPURoot is where the host's / is found for GPU device nodes and
	// driver files ("" is /): tests lay out a fake one.
	GPURoot string
	// GPURunner runs ldconfig to find the driver's libraries;
	// gpu.ExecRunner when nil.
	GPURunner gpu.Runner
}

// Driver starts bwrap sandboxes.
type Driver struct {
	cfg       Config
	binary    func() (string, error) // the ecode binary the sandbox runs as its agent
	cg        *cgroup.Manager        // nil without root
	root      bool
	preflight runtime.Preflight
	launch    chan func()
	etc       string // the generated /etc
	seccomp   []byte // the compiled seccomp filter
	// devicesErr is why cgroups here cannot filter devices; nil: every
	// sandbox with a cgroup gets the filter.
	devicesErr error

	gpuMu    sync.Mutex
	gpuFiles *gpu.DriverFiles // found at the first start with a GPU

	launcherDone chan struct{} // closed when the launcher thread has ended
	mu           sync.Mutex
	live         map[*sandbox]bool // started and not yet stopped
	closed       bool
	starting     sync.WaitGroup // Start calls under way, which Close waits for
}

// New prepares the driver: it finds or copies the agent binary, sets up
// cgroups when root, and ends sandboxes a previous server left behind.
// The returned driver's launcher runs until ctx ends.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if err := os.MkdirAll(cfg.StateDir, 0o711); err != nil {
		return nil, fmt.Errorf("sandbox state dir: %w", err)
	}
	if err := os.Chmod(cfg.StateDir, 0o711); err != nil {
		return nil, err
	}
	d := &Driver{cfg: cfg, root: os.Geteuid() == 0, launch: make(chan func()), launcherDone: make(chan struct{}), live: map[*sandbox]bool{}}
	var err error
	if d.root {
		// One parent group per state dir: servers sharing a host (tests,
		// staging beside production) never end each other's sandboxes.
		h := fnv.New32a()
		h.Write([]byte(cfg.StateDir))
		if d.cg, err = cgroup.New(fmt.Sprintf("%08x", h.Sum32())); err != nil {
			slog.Warn("sandboxes run without cgroup limits", "err", err)
		} else {
			// Servers killed outright leave their groups; whoever starts
			// next on this host ends what is still in them.
			n, err := d.cg.Orphans()
			if err != nil {
				slog.Warn("end sandboxes of servers that are gone", "err", err)
			}
			k, err := d.cg.Leftovers()
			if err != nil {
				slog.Warn("end leftover sandboxes", "err", err)
			}
			if n+k > 0 {
				slog.Info("ended sandboxes left by a previous server", "count", n+k)
			}
			// A host whose groups cannot filter devices (a container that
			// may not load BPF programs) still runs sandboxes, but none
			// with a GPU.
			if d.devicesErr = d.cg.CheckDevices(); d.devicesErr != nil {
				slog.Warn("sandboxes run without a device filter, and none can have a GPU", "err", d.devicesErr)
			}
		}
	}
	d.binary = sync.OnceValues(func() (string, error) { return agentBinary(cfg.StateDir) })
	d.removeStaleRunDirs()
	if d.seccomp, err = seccompFilter(); err != nil {
		return nil, err
	}
	d.etc = filepath.Join(cfg.StateDir, "etc")
	if err := makeEtc(d.etc); err != nil {
		return nil, fmt.Errorf("sandbox /etc: %w", err)
	}
	go d.launcher(ctx)
	return d, nil
}

// Close ends every sandbox of this driver, refuses new ones, and removes
// its cgroups.
func (d *Driver) Close() error {
	d.mu.Lock()
	d.closed = true
	live := make([]*sandbox, 0, len(d.live))
	for s := range d.live {
		live = append(live, s)
	}
	d.mu.Unlock()
	for _, s := range live {
		_ = s.Stop()
	}
	// A Start under way finds the driver closed and removes what it made.
	d.starting.Wait()
	if d.cg == nil {
		return nil
	}
	return d.cg.Close()
}

// track adds s to the sandboxes Close ends, unless the driver is closed.
func (d *Driver) track(s *sandbox) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	d.live[s] = true
	go func() {
		<-s.done
		d.mu.Lock()
		delete(d.live, s)
		d.mu.Unlock()
	}()
	return nil
}

var errClosed = errors.New("the sandbox driver is shutting down")

// Name implements runtime.Runtime.
func (d *Driver) Name() string { return "bwrap" }

// Check implements runtime.Runtime: the bwrap probe of the preflight.
func (d *Driver) Check(ctx context.Context) error { return d.preflight.Check(ctx) }

// launcher starts every sandbox from one OS thread that lives as long as
// the driver: the parent-death signal (Pdeathsig) fires when the thread
// that forked bwrap ends, not the process (Go issue 27505), and Go may end
// other threads at any time.
func (d *Driver) launcher(ctx context.Context) {
	goruntime.LockOSThread()
	defer close(d.launcherDone)
	for {
		select {
		case <-ctx.Done():
			return // the thread ends with the goroutine, and the sandboxes with it
		case f := <-d.launch:
			f()
		}
	}
}

// agentBinary returns a path to runtime.AgentOnHost that sandbox uids may
// read: copied into the state dir when its own location is private.
func agentBinary(stateDir string) (string, error) {
	self, err := runtime.AgentOnHost()
	if err != nil {
		return "", err
	}
	if publiclyReadable(self) {
		return self, nil
	}
	dst := filepath.Join(stateDir, "ecode-agent")
	src, err := os.Open(self)
	if err != nil {
		return "", err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(stateDir, ".agent-*")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf("copy agent binary: %w", err)
	}
	tmp.Chmod(0o755)
	tmp.Close()
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", err
	}
	return dst, nil
}

// publiclyReadable reports whether any uid can read path: every folder on
// the way is searchable by others and the file readable by others.
func publiclyReadable(path string) bool {
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm()&0o004 == 0 {
		return false
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		info, err := os.Stat(dir)
		if err != nil || info.Mode().Perm()&0o001 == 0 {
			return false
		}
		if dir == "/" {
			return true
		}
	}
}

func (d *Driver) removeStaleRunDirs() {
	entries, _ := os.ReadDir(d.cfg.StateDir)
	for _, e := range entries {
		if e.IsDir() {
			os.RemoveAll(filepath.Join(d.cfg.StateDir, e.Name()))
		}
	}
}

// Start implements runtime.Runtime.
func (d *Driver) Start(ctx context.Context, spec runtime.Spec) (runtime.Sandbox, error) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, errClosed
	}
	d.starting.Add(1)
	d.mu.Unlock()
	defer d.starting.Done()
	if err := d.Check(ctx); err != nil {
		return nil, err
	}
	gs, err := d.gpuSetup(ctx, spec)
	if err != nil {
		return nil, err
	}
	if !publiclyReadable(spec.ProjectDir) && d.root {
		return nil, fmt.Errorf("sandbox users cannot reach %s: every folder above the data dir must be searchable by others (chmod o+x), or move the data dir (e.g. /var/lib/ecode)", spec.ProjectDir)
	}
	uid := -1
	if d.root {
		uid = runtime.SandboxUID(spec.ID)
		if err := runtime.HandOver(spec, uid); err != nil {
			return nil, err
		}
	}
	// A folder of its own per start: a sandbox being cleaned up never
	// takes the folder of the next one for the same project.
	// Short, because unix socket paths are limited to 107 bytes.
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	hostRun := filepath.Join(d.cfg.StateDir, hex.EncodeToString(rnd[:]))
	if len(hostRun)+len("/"+relaySocket(65535)) > 107 {
		return nil, fmt.Errorf("the sandbox state dir %s is too deep for unix sockets; use a shorter data dir", d.cfg.StateDir)
	}
	if err := os.Mkdir(hostRun, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox run dir: %w", err)
	}
	if uid >= 0 {
		if err := os.Chown(hostRun, uid, uid); err != nil {
			return nil, err
		}
	}
	s := &sandbox{id: spec.ID, hostRun: hostRun, root: d.root, done: make(chan struct{}), agentPidfd: -1, agent: agent.Client{Socket: filepath.Join(hostRun, "agent.sock")}}
	s.env = runtime.MergeEnv(gs.sandboxEnv(spec, spec.Egress && d.cfg.Egress != nil), spec.Env)
	fail := func(err error) (runtime.Sandbox, error) {
		s.cleanup()
		return nil, err
	}
	// The egress proxy is one more relay, on the proxy's port.
	relays := slices.Clone(spec.Relays)
	if spec.Egress && d.cfg.Egress != nil {
		relays = append(relays, runtime.Relay{Port: agent.EgressPort, Serve: func(ln net.Listener) { d.cfg.Egress.Serve(ln, spec.ID) }})
	} else {
		spec.Egress = false
	}
	spec.Relays = relays
	for _, r := range relays {
		path := filepath.Join(hostRun, relaySocket(r.Port))
		ln, err := net.Listen("unix", path)
		if err != nil {
			return fail(fmt.Errorf("relay socket: %w", err))
		}
		s.relays = append(s.relays, ln)
		if uid >= 0 {
			if err := os.Chown(path, uid, uid); err != nil {
				return fail(err)
			}
		}
		go r.Serve(ln)
	}
	limits := d.limits(spec)
	if d.cg != nil {
		g, err := d.cg.Create(filepath.Base(hostRun), limits.Limits)
		if err != nil {
			return fail(err)
		}
		s.cg = g
		if d.devicesErr == nil {
			if err := g.AllowDevices(gs.devices); err != nil {
				return fail(err)
			}
		}
	}
	if err := d.spawn(s, spec, gs, limits, uid); err != nil {
		return fail(err)
	}
	if err := d.track(s); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// limits are the driver's, with each limit the spec sets in their place.
func (d *Driver) limits(spec runtime.Spec) Limits {
	l := d.cfg.Limits
	o := spec.Limits.Over(runtime.Limits{MemoryBytes: l.MemoryBytes, CPUs: l.CPUs, Pids: l.Pids})
	l.MemoryBytes, l.CPUs, l.Pids = o.MemoryBytes, o.CPUs, o.Pids
	return l
}

// spawn starts bwrap, and through it the agent, from the launcher thread:
// as the sandbox's own uid, and inside its cgroup from the first fork.
func (d *Driver) spawn(s *sandbox, spec runtime.Spec, gs gpuSetup, l Limits, uid int) error {
	bwrapPath, err := exec.LookPath("bwrap")
	if err != nil {
		return err
	}
	nproc := 0
	if s.cg == nil && uid >= 0 {
		nproc = l.Pids // RLIMIT_NPROC counts per host uid: this sandbox's own
	}
	binary, err := d.binary()
	if err != nil {
		return fmt.Errorf("agent binary: %w", err)
	}
	cmd := exec.Command(bwrapPath, args(spec, gs, l, nproc, binary, d.etc, s.hostRun)...)
	cmd.Env = []string{}
	cmd.Stderr = &s.stderr
	// The agent inherits bwrap's stderr: should it outlive bwrap, Wait
	// must still end (and Stop then kills the agent by its pidfd).
	cmd.WaitDelay = 2 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if uid >= 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid), Groups: []uint32{}}
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	infoR, infoW, err := os.Pipe()
	if err != nil {
		return err
	}
	s.ready, s.info = readyR, infoR
	filterR, filterW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer filterR.Close()
	// The filter is far smaller than a pipe's buffer: write it all now.
	if _, err := filterW.Write(d.seccomp); err != nil {
		return fmt.Errorf("seccomp filter: %w", err)
	}
	filterW.Close()
	cmd.ExtraFiles = []*os.File{readyW, infoW, filterR} // fds 3, 4, 5: readyFD, infoFD, seccompFD
	errc := make(chan error, 1)
	select {
	case d.launch <- func() {
		if s.cg != nil {
			in, err := s.cg.StartIn(cmd)
			s.adopt = !in
			errc <- err
			return
		}
		errc <- cmd.Start()
	}:
		err = <-errc
	case <-d.launcherDone:
		err = errors.New("the sandbox driver has stopped")
	}
	readyW.Close()
	infoW.Close()
	if err != nil {
		return fmt.Errorf("start bwrap: %w", err)
	}
	s.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(s.done)
		s.cleanup()
	}()
	return nil
}

type sandbox struct {
	id      string
	hostRun string
	env     []string
	agent   agent.Client
	cg      *cgroup.Group
	relays  []net.Listener // host ends of the agent's relays, closed by cleanup
	cmd     *exec.Cmd
	stderr  bytes.Buffer
	done    chan struct{}
	ready   *os.File // read end of the agent's ready pipe
	info    *os.File // read end of bwrap's --info-fd
	netns   string   // the sandbox's network namespace, for direct dials; "" without root
	adopt   bool     // the cgroup must adopt bwrap and the agent once they are up
	root    bool
	once    sync.Once

	mu         sync.Mutex
	agentPidfd int // the agent (PID 1 inside), for Stop to kill without a pid that may be reused; -1: none
}

func (s *sandbox) ID() string { return s.id }

func (s *sandbox) Done() <-chan struct{} { return s.done }

// waitReady waits until the agent closes its end of the ready pipe (EOF
// here), which it does once it accepts requests, or bwrap fails (EOF too).
func (s *sandbox) waitReady(ctx context.Context) error {
	defer s.ready.Close()
	defer s.info.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.ready.SetReadDeadline(dl)
	} else {
		_ = s.ready.SetReadDeadline(time.Now().Add(10 * time.Second))
	}
	_, err := s.ready.Read(make([]byte, 1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("sandbox agent did not start in time")
	}
	var info struct {
		ChildPID int `json:"child-pid"`
	}
	_ = s.info.SetReadDeadline(time.Now().Add(time.Second))
	if err := json.NewDecoder(s.info).Decode(&info); err != nil || info.ChildPID <= 0 {
		return fmt.Errorf("sandbox did not report its agent: %v; %s", err, strings.TrimSpace(s.stderr.String()))
	}
	if s.root {
		s.netns = fmt.Sprintf("/proc/%d/ns/net", info.ChildPID)
	}
	if fd, err := unix.PidfdOpen(info.ChildPID, 0); err == nil {
		s.mu.Lock()
		s.agentPidfd = fd
		s.mu.Unlock()
	}
	if s.adopt {
		// Inside, nothing but the agent runs yet, and it starts user code
		// only on request: moving it now limits everything that will ever
		// run in the sandbox. (bwrap itself, outside, only waits.)
		if err := s.cg.Adopt(info.ChildPID); err != nil {
			return err
		}
	}
	if err := s.agent.Ping(ctx); err != nil {
		if ctx.Err() != nil { // given up on (the server is stopping): Start stops the sandbox
			return fmt.Errorf("sandbox start: %w", ctx.Err())
		}
		// bwrap's last words say why, once it has ended (stderr is whole
		// then); an agent that is up but does not answer is stopped by Start.
		select {
		case <-s.done:
			return fmt.Errorf("sandbox failed to start: %s", strings.TrimSpace(s.stderr.String()))
		case <-time.After(2 * time.Second):
			return fmt.Errorf("sandbox agent does not answer: %w", err)
		}
	}
	return nil
}

func (s *sandbox) Exec(ctx context.Context, c runtime.Command) (runtime.Process, error) {
	return runtime.AgentExec(ctx, s.agent, s.done, s.env, c)
}

func (s *sandbox) Ports(ctx context.Context) ([]int, error) { return s.agent.Ports(ctx) }

// Dial connects to a port inside. As root the server enters the sandbox's
// network namespace for the dial and talks to the app directly; otherwise
// the agent relays.
func (s *sandbox) Dial(ctx context.Context, port int) (net.Conn, error) {
	if s.netns != "" {
		c, err := netns.Dial(ctx, s.netns, "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			return c, nil
		}
		if c, err6 := netns.Dial(ctx, s.netns, "[::1]:"+strconv.Itoa(port)); err6 == nil {
			return c, nil
		}
		return nil, err
	}
	return s.agent.Dial(ctx, port)
}

func (s *sandbox) Resources() (runtime.Resources, bool) {
	if s.cg == nil {
		return runtime.Resources{}, false
	}
	l, u, err := s.cg.Read()
	if err != nil {
		return runtime.Resources{}, false
	}
	return runtime.Resources{
		Limits:     runtime.Limits{MemoryBytes: l.MemoryBytes, CPUs: l.CPUs, Pids: l.Pids},
		MemoryUsed: u.MemoryBytes, PidsUsed: u.Pids, CPUUsec: u.CPUUsec,
	}, true
}

func (s *sandbox) OOMKilled() bool { return s.cg != nil && s.cg.OOMKilled() }

// Stop kills everything in the sandbox: through the cgroup when there is
// one, else by killing bwrap, whose death ends the PID namespace.
func (s *sandbox) Stop() error {
	if s.cg != nil {
		_ = s.cg.Kill()
	}
	// The agent too, by its pidfd: it leads a session of its own, and a
	// cgroup kill can miss a process the group had not adopted yet.
	s.mu.Lock()
	if s.agentPidfd >= 0 {
		_ = unix.PidfdSendSignal(s.agentPidfd, unix.SIGKILL, nil, 0)
	}
	s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cleanup()
	return nil
}

func (s *sandbox) cleanup() {
	s.once.Do(func() {
		// bwrap is gone, so the sandbox is: nothing in it may stay.
		s.mu.Lock()
		if s.agentPidfd >= 0 {
			_ = unix.PidfdSendSignal(s.agentPidfd, unix.SIGKILL, nil, 0)
			unix.Close(s.agentPidfd)
			s.agentPidfd = -1
		}
		s.mu.Unlock()
		if s.cg != nil {
			_ = s.cg.Kill()
		}
		for _, ln := range s.relays {
			ln.Close()
		}
		if s.cg != nil {
			if err := s.cg.Destroy(); err != nil {
				slog.Warn("remove sandbox cgroup", "sandbox", s.id, "err", err)
			}
		}
		os.RemoveAll(s.hostRun)
	})
}
