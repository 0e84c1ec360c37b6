package runtime

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"ecode/internal/gpu"
	"ecode/internal/runtime/agent"
	"ecode/internal/safefs"
)

// Spec describes the sandbox of one project.
type Spec struct {
	ID         string // unique among running sandboxes: the project id
	ProjectDir string // the project's working tree on the host
	// ReadOnly mounts ProjectDir read-only and leaves its owner as it is:
	// a release, which no instance may change.
	ReadOnly bool
	Env      []string // KEY=VALUE added to every command (the project's secrets)
	Egress   bool     // whether the sandbox may reach the egress proxy
	// CacheDir, when set, is a host folder kept across the project's
	// sandboxes and mounted at ~/.cache: package and build caches.
	CacheDir string
	// ToolCacheDir, when set, is a host folder of caches the platform
	// built itself (Go's standard library), mounted read-only at ToolCache
	// in every sandbox: no project can change what all of them read.
	ToolCacheDir string
	// Limits are the project's own; a zero field takes the driver's default.
	Limits Limits
	// Relays are ports on the sandbox's loopback whose connections reach a
	// service of the host (the project's database), each through a socket
	// of the sandbox's own: nothing else of the host is reachable.
	Relays []Relay
	// GPU, when set, is the GPU (or MIG slice) leased to this sandbox for
	// its whole life: its device nodes are the only GPU devices it may
	// open, and its environment names it. Nil: no GPU at all.
	GPU *gpu.Unit
}

// Relay is a port inside a sandbox served by the host.
type Relay struct {
	Port int
	// Serve accepts the relayed connections on ln until ln is closed,
	// which happens when the sandbox stops.
	Serve func(ln net.Listener)
	// Env tells commands how to reach the service (NAME=value); nothing
	// secret, for what is here is not masked in output.
	Env []string
	// File, when set, is a file inside the sandbox that the agent keeps
	// holding what the relay answers to GET agent.RelayFilePath: fetched at start
	// and again every hour, so a long-lived process that reads it finds a
	// credential that has not expired.
	File string
}

// Limits bound what one sandbox may use.
type Limits struct {
	MemoryBytes int64   `json:"memoryBytes"`
	CPUs        float64 `json:"cpus"` // cores of CPU time per wall second
	Pids        int     `json:"pids"` // processes and threads
}

// Over is l with each limit it leaves unset taken from def.
func (l Limits) Over(def Limits) Limits {
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = def.MemoryBytes
	}
	if l.CPUs <= 0 {
		l.CPUs = def.CPUs
	}
	if l.Pids <= 0 {
		l.Pids = def.Pids
	}
	return l
}

// Resources are what a running sandbox is held to, as the kernel has it,
// and what it uses now.
type Resources struct {
	Limits
	MemoryUsed int64 `json:"memoryUsed"`
	PidsUsed   int   `json:"pidsUsed"`
	CPUUsec    int64 `json:"cpuUsec"` // CPU time used since the sandbox started, µs (metering)
}

// Command is what runs in a sandbox.
type Command struct {
	Argv []string
	Env  []string // added to the sandbox's environment
	Dir  string   // inside the sandbox; default the project folder
	TTY  bool
	Rows uint16
	Cols uint16
}

// Exit is how a command ended: Code, or Signal when it was killed.
type Exit = agent.Exit

// Process is a running command.
type Process interface {
	io.Writer // stdin, or the terminal's input
	CloseStdin() error
	Resize(rows, cols uint16) error
	Kill() error
	// Wait copies output until the command ends; ending ctx kills it.
	Wait(ctx context.Context, stdout, stderr io.Writer) (Exit, error)
}

// Sandbox is one project's isolated machine: runs, shells and exec calls
// of the project all happen in it and share its files and ports.
type Sandbox interface {
	ID() string
	Exec(ctx context.Context, cmd Command) (Process, error)
	// Ports lists the TCP ports something listens on inside.
	Ports(ctx context.Context) ([]int, error)
	// Dial connects to a port inside, as a preview does.
	Dial(ctx context.Context, port int) (net.Conn, error)
	// Resources reads the limits the sandbox is held to and its usage;
	// false where the driver cannot tell (no cgroup).
	Resources() (Resources, bool)
	// OOMKilled reports whether the memory limit has killed something.
	OOMKilled() bool
	// Done is closed when the sandbox has ended, whatever the reason.
	Done() <-chan struct{}
	// Stop ends everything in the sandbox and frees what it held.
	Stop() error
}

// Runtime starts sandboxes. Drivers: bwrap (local, default); docker and
// kube implement the same interface.
type Runtime interface {
	Name() string
	// Check tells whether sandboxes can start here; the error says the fix.
	Check(ctx context.Context) error
	Start(ctx context.Context, spec Spec) (Sandbox, error)
}

// Inside the sandbox. AgentBinary is PID 1's binary, which also serves
// `connect HOST PORT`: the ssh ProxyCommand through the egress proxy.
const (
	ProjectDir  = "/home/runner/project"
	HomeDir     = "/home/runner"
	AgentBinary = "/opt/sbx/ecode"
	ToolCache   = "/opt/sbx/toolcache"
)

// SandboxEnv is BaseEnv, with what the relays tell commands, and with the
// platform's tool caches the go command's cache program: it reads the
// shared Go cache first and writes only to the project's own
// (agent.GoCache). The mounted folder is bound whole, so a cache the
// platform finishes later shows up in sandboxes already running.
func SandboxEnv(spec Spec, egress bool) []string {
	env := append(BaseEnv(egress), RelayEnv(spec.Relays)...)
	if spec.ToolCacheDir != "" {
		env = append(env, "GOCACHEPROG="+AgentBinary+" gocache -shared "+ToolCache+"/go")
	}
	return env
}

// RelayEnv is what relays tell commands of the services they reach.
func RelayEnv(relays []Relay) []string {
	var env []string
	for _, r := range relays {
		env = append(env, r.Env...)
	}
	return env
}

// SandboxPath is the PATH of every sandbox command.
const SandboxPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/go/bin"

// BaseEnv is the environment every sandbox command starts from: nothing of
// the server's own.
func BaseEnv(egress bool) []string {
	env := []string{
		"HOME=" + HomeDir, "USER=runner", "LOGNAME=runner", "SHELL=/bin/bash",
		"PATH=" + SandboxPath,
		"LANG=C.UTF-8", "TERM=xterm-256color", "npm_config_update_notifier=false", "npm_config_fund=false",
		"PYTHONUNBUFFERED=1", "GOPATH=" + HomeDir + "/go", "GOCACHE=" + HomeDir + "/.cache/go-build",
		"GOMODCACHE=" + HomeDir + "/.cache/go-mod", "npm_config_cache=" + HomeDir + "/.cache/npm",
	}
	if egress {
		proxy := "http://127.0.0.1:3128"
		env = append(env, "HTTP_PROXY="+proxy, "HTTPS_PROXY="+proxy, "http_proxy="+proxy, "https_proxy="+proxy,
			"NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1")
	}
	return env
}

// MergeEnv returns base with extra's entries added, an entry of extra
// replacing one of base with the same key: programs read the first of
// duplicate keys, so appending alone would not override.
func MergeEnv(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra))
	index := map[string]int{}
	for _, kv := range append(append([]string(nil), base...), extra...) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			out[i] = kv
			continue
		}
		index[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// SandboxUID is the host uid a project's sandbox runs as when the server
// is root: stable per project, so the files it leaves stay its own, and
// far above any uid a host hands out.
func SandboxUID(projectID string) int {
	h := fnv.New32a()
	h.Write([]byte(projectID))
	return 1_000_000_000 + int(h.Sum32()%100_000_000)
}

// HandOver gives the sandbox's uid its project (unless read-only) and its
// cache folder; what is inside the cache the sandbox wrote itself, so only
// the folder may still be the server's.
func HandOver(spec Spec, uid int) error {
	if !spec.ReadOnly {
		if err := safefs.ChownTree(spec.ProjectDir, uid, uid); err != nil {
			return fmt.Errorf("hand the project to its sandbox: %w", err)
		}
	}
	if spec.CacheDir != "" {
		if err := os.Lchown(spec.CacheDir, uid, uid); err != nil {
			return fmt.Errorf("hand the cache to its sandbox: %w", err)
		}
	}
	return nil
}

// AgentExec starts c through a sandbox's agent, with env as the
// sandbox's environment, unless done says the sandbox has stopped.
func AgentExec(ctx context.Context, a agent.Client, done <-chan struct{}, env []string, c Command) (Process, error) {
	select {
	case <-done:
		return nil, errors.New("the sandbox has stopped")
	default:
	}
	dir := c.Dir
	if dir == "" {
		dir = ProjectDir
	}
	p, err := a.Exec(ctx, agent.Request{
		Argv: c.Argv, Env: MergeEnv(env, c.Env), Dir: dir,
		TTY: c.TTY, Rows: c.Rows, Cols: c.Cols,
	})
	if err != nil {
		return nil, err // not a nil *agent.Process in a non-nil Process
	}
	return p, nil
}

// AgentOnHost is the host file of the agent sandboxes run: the small ecode-agent beside
// the running binary when it is there (it starts in half the time), else
// the binary itself.
func AgentOnHost() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find own binary: %w", err)
	}
	small := filepath.Join(filepath.Dir(self), "ecode-agent")
	if info, err := os.Stat(small); err == nil && info.Mode().IsRegular() {
		return small, nil
	}
	return self, nil
}
