package bwrap

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"ecode/internal/runtime"
)

// Inside the sandbox: where the agent binary and the host socket folder go.
const (
	agentPath = runtime.AgentBinary
	runDir    = "/run/sbx"
	agentSock = runDir + "/agent.sock"
)

// fd 3, passed through to the agent, is closed when it is ready; on fd 4
// bwrap reports the agent's host pid; from fd 5 it reads the seccomp filter.
const (
	readyFD   = 3
	infoFD    = 4
	seccompFD = 5
)

// etcDirs are the host folders bound read-only over the generated /etc:
// certificates for TLS through the egress proxy, and the alternatives that
// Debian's command links point through.
var etcDirs = []string{"/etc/ssl", "/etc/ca-certificates", "/etc/alternatives"}

// etcFiles are copied from the host into the generated /etc when present.
var etcFiles = []string{"nsswitch.conf", "localtime", "mime.types", "protocols", "services"}

const (
	passwd = "root:x:0:0:root:/root:/usr/sbin/nologin\nrunner:x:1000:1000:runner:/home/runner:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	group  = "root:x:0:\nrunner:x:1000:\nnogroup:x:65534:\n"
	hosts  = "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n"
)

// makeEtc writes the /etc every sandbox sees: its own users and hosts (no
// host names leak in) and a few host files, in one folder that is bound
// whole, since each bind mount costs time at every start.
func makeEtc(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]string{"passwd": passwd, "group": group, "hosts": hosts}
	for _, name := range etcFiles {
		if b, err := os.ReadFile(filepath.Join("/etc", name)); err == nil {
			files[name] = string(b)
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	for _, d := range etcDirs {
		if err := os.Mkdir(filepath.Join(dir, filepath.Base(d)), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// args is the hardened bwrap command line of docs/SANDBOX.md, with the agent as
// PID 1. Every namespace is new; nothing of the host is writable but the
// project and the socket folder. nproc > 0 sets RLIMIT_NPROC, for hosts
// where no cgroup limits the sandbox's processes.
func args(spec runtime.Spec, gs gpuSetup, l Limits, nproc int, binary, etc, hostRun string) []string {
	a := []string{
		"--unshare-user", "--unshare-all", "--disable-userns", "--die-with-parent", "--new-session",
		"--cap-drop", "ALL", "--uid", "1000", "--gid", "1000", "--hostname", "sandbox", "--as-pid-1",
		"--info-fd", strconv.Itoa(infoFD), "--seccomp", strconv.Itoa(seccompFD),
		"--ro-bind", "/usr", "/usr",
		"--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/sbin", "/sbin",
	}
	if _, err := os.Stat("/usr/lib64"); err == nil {
		a = append(a, "--symlink", "usr/lib64", "/lib64")
	}
	a = append(a, "--ro-bind", etc, "/etc")
	for _, d := range etcDirs {
		a = append(a, "--ro-bind-try", d, d)
	}
	a = append(a,
		"--proc", "/proc", "--dev", "/dev",
		"--size", strconv.FormatInt(l.TmpBytes, 10), "--tmpfs", "/tmp",
		"--size", strconv.FormatInt(l.HomeBytes, 10), "--tmpfs", runtime.HomeDir,
	)
	a = append(a, gs.args...)
	if spec.CacheDir != "" {
		a = append(a, "--bind", spec.CacheDir, runtime.HomeDir+"/.cache")
	}
	if spec.ToolCacheDir != "" {
		a = append(a, "--ro-bind", spec.ToolCacheDir, runtime.ToolCache)
	}
	bind := "--bind"
	if spec.ReadOnly {
		bind = "--ro-bind"
	}
	a = append(a,
		bind, spec.ProjectDir, runtime.ProjectDir,
		"--ro-bind", binary, agentPath,
		"--bind", hostRun, runDir,
		"--remount-ro", "/",
		"--chdir", runtime.ProjectDir,
		"--clearenv",
	)
	for _, kv := range gs.sandboxEnv(spec, spec.Egress) {
		k, v := splitEnv(kv)
		a = append(a, "--setenv", k, v)
	}
	a = append(a, agentPath, "sandbox-agent", "-ready-fd", strconv.Itoa(readyFD), "-nofile", strconv.FormatUint(l.NoFile, 10))
	if nproc > 0 {
		a = append(a, "-nproc", strconv.Itoa(nproc))
	}
	for _, r := range spec.Relays {
		a = append(a, "-relay", fmt.Sprintf("%d=%s/%s", r.Port, runDir, relaySocket(r.Port)))
		if r.File != "" {
			a = append(a, "-relay-file", fmt.Sprintf("%d=%s", r.Port, r.File))
		}
	}
	return append(a, agentSock)
}

// relaySocket names the host socket of the relay of port, in the sandbox's
// socket folder.
func relaySocket(port int) string { return fmt.Sprintf("relay-%d.sock", port) }

func splitEnv(kv string) (string, string) {
	for i := range len(kv) {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:]
		}
	}
	panic(fmt.Sprintf("environment entry %q has no '='", kv))
}
