package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Device is a character device by its major and minor number; a Minor of
// AnyMinor stands for every minor of Major (a devpts' terminals).
type Device struct{ Major, Minor int64 }

// AnyMinor is the Minor of a Device that matches every minor.
const AnyMinor = -1

// AllowDevices lets the group's processes open the character devices devs
// for reading and writing, and no other device: no block device, and no
// mknod of any. The kernel checks this on every open of a device node,
// whoever the process is and whatever file system holds the node, so it
// holds even where a node the sandbox should not have shows up inside.
//
// On v2 it is a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the group,
// as runc does; attached with BPF_PROG_ATTACH, it stays as long as the
// group, not as long as this process. On v1 it is the devices
// controller's lists. Call it before anything runs in the group.
func (g *Group) AllowDevices(devs []Device) error {
	if err := g.allowDevices(devs); err != nil {
		return fmt.Errorf("cgroup %s: device filter: %w", g.id, err)
	}
	return nil
}

func (g *Group) allowDevices(devs []Device) error {
	if g.m.v2 {
		return attachDeviceFilter(g.m.dir(g.id), devs)
	}
	if !slices.Contains(g.m.controllers(), "devices") {
		return errors.New("the cgroup v1 devices controller is not mounted")
	}
	dir := g.m.dirV1("devices", g.id)
	// A new group starts with its parent's list, which allows everything.
	if err := os.WriteFile(filepath.Join(dir, "devices.deny"), []byte("a"), 0); err != nil {
		return fmt.Errorf("deny all: %w", err)
	}
	for _, d := range devs {
		minor := "*"
		if d.Minor != AnyMinor {
			minor = strconv.FormatInt(d.Minor, 10)
		}
		rule := fmt.Sprintf("c %d:%s rw", d.Major, minor)
		if err := os.WriteFile(filepath.Join(dir, "devices.allow"), []byte(rule), 0); err != nil {
			return fmt.Errorf("allow %s: %w", rule, err)
		}
	}
	return nil
}

// deviceFilter is the program: 1 (allow) for a read or write of one of
// devs, 0 for anything else.
func deviceFilter(devs []Device) asm.Instructions {
	const deny = "deny"
	// The context is struct bpf_cgroup_dev_ctx: access_type (the device
	// type in its low 16 bits, the BPF_DEVCG_ACC_* bits in its high 16),
	// major, minor; all u32.
	insts := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
		asm.LoadMem(asm.R4, asm.R1, 8, asm.Word),
		asm.Mov.Reg(asm.R5, asm.R2),
		asm.And.Imm(asm.R5, 0xffff),
		asm.JNE.Imm(asm.R5, unix.BPF_DEVCG_DEV_CHAR, deny),
		asm.RSh.Imm(asm.R2, 16),
		asm.JSet.Imm(asm.R2, unix.BPF_DEVCG_ACC_MKNOD, deny),
	}
	for i, d := range devs {
		next := deny
		if i+1 < len(devs) {
			next = "dev" + strconv.Itoa(i+1)
		}
		insts = append(insts, asm.JNE.Imm(asm.R3, int32(d.Major), next).WithSymbol("dev"+strconv.Itoa(i)))
		if d.Minor != AnyMinor {
			insts = append(insts, asm.JNE.Imm(asm.R4, int32(d.Minor), next))
		}
		insts = append(insts, asm.Mov.Imm(asm.R0, 1), asm.Return())
	}
	return append(insts, asm.Mov.Imm(asm.R0, 0).WithSymbol(deny), asm.Return())
}

func attachDeviceFilter(dir string, devs []Device) error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.CGroupDevice, Instructions: deviceFilter(devs)})
	if err != nil {
		return fmt.Errorf("load BPF program: %w", err)
	}
	// The attachment holds its own reference to the program.
	defer prog.Close()
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	// ALLOW_MULTI, as runc and systemd attach theirs: programs of groups
	// above still run too, and each must allow an access.
	err = link.RawAttachProgram(link.RawAttachProgramOptions{
		Target: int(f.Fd()), Program: prog, Attach: ebpf.AttachCGroupDevice, Flags: unix.BPF_F_ALLOW_MULTI,
	})
	if err != nil {
		return fmt.Errorf("attach BPF program: %w", err)
	}
	return nil
}

// CheckDevices reports why this host's groups cannot have a device filter
// (a kernel without BPF for cgroups, a container that may not load BPF
// programs, no v1 devices controller), or nil where they can: it tries on
// a group made for the purpose.
func (m *Manager) CheckDevices() error {
	g, err := m.Create("device-check", Limits{})
	if err != nil {
		return err
	}
	defer g.Destroy()
	return g.AllowDevices(nil)
}
