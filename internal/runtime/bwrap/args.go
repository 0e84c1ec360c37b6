package bwrap

import (
	"fmt"
	"os"
	"strconv"

	"ecode/internal/runtime"
)

// Inside the sandbox: where the agent binary and the host socket folder go.
const (
	agentPath  = "/opt/sbx/ecode"
	runDir     = "/run/sbx"
	agentSock  = runDir + "/agent.sock"
	egressSock = runDir + "/egress.sock"
)

// fds 3 and 4 of bwrap carry the generated /etc/passwd and /etc/group;
// fd 5, passed through to the agent, is closed when it is ready; on fd 6
// bwrap reports the agent's host pid.
const (
	passwdFD = 3
	groupFD  = 4
	readyFD  = 5
	infoFD   = 6
)

const (
	passwd = "root:x:0:0:root:/root:/usr/sbin/nologin\nrunner:x:1000:1000:runner:/home/runner:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	group  = "root:x:0:\nrunner:x:1000:\nnogroup:x:65534:\n"
)

// etcFiles are bound read-only when the host has them: certificates for
// TLS through the egress proxy, and what name lookups of localhost need.
var etcFiles = []string{"/etc/ssl", "/etc/ca-certificates", "/etc/alternatives", "/etc/hosts",
	"/etc/nsswitch.conf", "/etc/localtime", "/etc/mime.types", "/etc/protocols", "/etc/services"}

// args is the hardened bwrap command line of SANDBOX.md, with the agent as
// PID 1. Every namespace is new; nothing of the host is writable but the
// project and the socket folder. nproc > 0 sets RLIMIT_NPROC, for hosts
// where no cgroup limits the sandbox's processes.
func args(spec runtime.Spec, l Limits, nproc int, binary, hostRun string) []string {
	a := []string{
		"--unshare-user", "--unshare-all", "--disable-userns", "--die-with-parent", "--new-session",
		"--cap-drop", "ALL", "--uid", "1000", "--gid", "1000", "--hostname", "sandbox", "--as-pid-1",
		"--info-fd", strconv.Itoa(infoFD),
		"--ro-bind", "/usr", "/usr",
		"--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/sbin", "/sbin",
	}
	if _, err := os.Stat("/usr/lib64"); err == nil {
		a = append(a, "--symlink", "usr/lib64", "/lib64")
	}
	for _, f := range etcFiles {
		a = append(a, "--ro-bind-try", f, f)
	}
	a = append(a,
		"--ro-bind-data", strconv.Itoa(passwdFD), "/etc/passwd",
		"--ro-bind-data", strconv.Itoa(groupFD), "/etc/group",
		"--proc", "/proc", "--dev", "/dev",
		"--size", strconv.FormatInt(l.TmpBytes, 10), "--tmpfs", "/tmp",
		"--size", strconv.FormatInt(l.HomeBytes, 10), "--tmpfs", runtime.HomeDir,
		"--bind", spec.ProjectDir, runtime.ProjectDir,
		"--ro-bind", binary, agentPath,
		"--bind", hostRun, runDir,
		"--remount-ro", "/",
		"--chdir", runtime.ProjectDir,
		"--clearenv",
	)
	for _, kv := range runtime.BaseEnv(spec.Egress) {
		k, v := splitEnv(kv)
		a = append(a, "--setenv", k, v)
	}
	a = append(a, agentPath, "sandbox-agent", "-ready-fd", strconv.Itoa(readyFD), "-nofile", strconv.FormatUint(l.NoFile, 10))
	if nproc > 0 {
		a = append(a, "-nproc", strconv.Itoa(nproc))
	}
	if spec.Egress {
		a = append(a, "-egress", egressSock)
	}
	return append(a, agentSock)
}

func splitEnv(kv string) (string, string) {
	for i := range len(kv) {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:]
		}
	}
	panic(fmt.Sprintf("environment entry %q has no '='", kv))
}
