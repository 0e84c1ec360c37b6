// Package runtime runs project code in sandboxes. This file is the
// preflight: a real bubblewrap start that tells, before any run, whether
// this host can sandbox at all and, when not, what the operator must fix.
package runtime

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Preflight probes bubblewrap and remembers the answer for a while.
type Preflight struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

const preflightTTL = 30 * time.Second

// Check returns nil when sandboxes can start here, else an error that says
// how to fix the host. A failed probe is retried at most every 30 s.
func (p *Preflight) Check(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && (p.err == nil || time.Since(p.at) < preflightTTL) {
		return p.err
	}
	p.err, p.at = probe(ctx), time.Now()
	return p.err
}

func probe(ctx context.Context) error {
	path, err := exec.LookPath("bwrap")
	if err != nil {
		return fmt.Errorf("bubblewrap is not installed: run `apt-get install bubblewrap` (Debian/Ubuntu)")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path,
		"--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
		"--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
		"--symlink", "usr/bin", "/bin", "/usr/bin/true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// Should anything inherit stderr and linger, Wait still returns.
	cmd.WaitDelay = time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		switch {
		case strings.Contains(msg, "uid map") || strings.Contains(msg, "RTM_NEWADDR"):
			return fmt.Errorf("bubblewrap cannot create user namespaces (%s): on Ubuntu 24.04 install the bwrap-userns-restrict AppArmor profile or set kernel.apparmor_restrict_unprivileged_userns=0; on older Debian set kernel.unprivileged_userns_clone=1", msg)
		case msg != "":
			return fmt.Errorf("bubblewrap probe failed: %s", msg)
		}
		return fmt.Errorf("bubblewrap probe failed: %w", err)
	}
	return nil
}
