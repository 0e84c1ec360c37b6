package bwrap

import (
	"bytes"
	"encoding/binary"
	"fmt"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// denied are the system calls no project needs and kernel exploits love:
// kernel keyrings, eBPF, perf, userfaultfd, io_uring, mounts and
// namespaces, modules, kexec, and clock or swap changes. Everything else is
// allowed; namespaces, dropped capabilities and cgroups do the rest.
var denied = []string{
	"add_key", "request_key", "keyctl",
	"bpf", "perf_event_open", "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"mount", "umount2", "pivot_root", "setns", "unshare", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
	"swapon", "swapoff", "acct", "quotactl", "syslog", "vhangup", "iopl", "ioperm",
	"open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "uselib", "ustat", "sysfs", "_sysctl",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "fanotify_init",
}

// seccompFilter is the compiled filter in the form bwrap's --seccomp reads:
// an array of struct sock_filter.
func seccompFilter() ([]byte, error) {
	policy := seccomp.Policy{
		DefaultAction: seccomp.ActionAllow,
		Syscalls: []seccomp.SyscallGroup{{
			Action: seccomp.ActionErrno | seccomp.Action(unix.EPERM),
			Names:  denied,
		}},
	}
	insns, err := policy.Assemble()
	if err != nil {
		return nil, fmt.Errorf("assemble seccomp filter: %w", err)
	}
	raw, err := bpf.Assemble(insns)
	if err != nil {
		return nil, fmt.Errorf("encode seccomp filter: %w", err)
	}
	var b bytes.Buffer
	for _, in := range raw {
		_ = binary.Write(&b, binary.NativeEndian, struct {
			Op     uint16
			Jt, Jf uint8
			K      uint32
		}{in.Op, in.Jt, in.Jf, in.K})
	}
	return b.Bytes(), nil
}
