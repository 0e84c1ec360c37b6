package testserver

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"ecode/internal/runtime/bwrap"
)

// Main runs a test binary that is also the sandbox agent, as the ecode
// binary is: packages whose tests start sandboxes call it from TestMain.
func Main(m *testing.M) {
	if handled, err := bwrap.Main(os.Args[1:]); handled {
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// NeedSandbox skips a test on a machine without bubblewrap.
func NeedSandbox(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bubblewrap is not installed")
	}
}

// MarkedProcesses answers the host's processes whose environment holds
// kv: a secret set to a fresh value finds a project's sandboxed programs.
func MarkedProcesses(kv string) []string {
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err == nil && slices.Contains(strings.Split(string(env), "\x00"), kv) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
