package testserver

import (
	"os"
	"os/exec"
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
