package cgroups

// cgroup2 has no devices files: the kernel asks a BPF_PROG_TYPE_CGROUP_DEVICE
// program instead, on every open and mknod of a device node by a process
// in the cgroup or below. The program is written out here by hand (no BPF
// library: the launcher is one static binary with few dependencies),
// loaded with bpf(2) and attached to the container's cgroup2 directory.
// It lives as long as the cgroup: rmdir frees it.
//
// The program gets a struct bpf_cgroup_dev_ctx:
//
//	u32 access_type  low 16 bits: BPF_DEVCG_DEV_BLOCK (1) or _CHAR (2);
//	                 high 16 bits: BPF_DEVCG_ACC_MKNOD (1) | _READ (2) | _WRITE (4)
//	u32 major
//	u32 minor
//
// and returns 1 to allow, 0 to deny (EPERM). It walks the rules from the
// last to the first, keeping in r3 the accesses no rule has decided yet:
// a matching deny that names one of them denies; a matching allow clears
// the ones it names, and allows once none are left. Past the first rule,
// the list's default decides.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bpfInsn is the kernel's struct bpf_insn.
type bpfInsn struct {
	code uint8
	regs uint8 // dst_reg and src_reg: 4-bit C bitfields
	off  int16
	imm  int32
}

// The program's registers.
const (
	rRet    = 0 // return value
	rCtx    = 1 // struct bpf_cgroup_dev_ctx *
	rType   = 2 // BPF_DEVCG_DEV_*
	rAccess = 3 // BPF_DEVCG_ACC_* bits not decided yet
	rMajor  = 4
	rMinor  = 5
)

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func insn(code, dst, src uint8, off int16, imm int32) bpfInsn {
	regs := dst | src<<4 // bitfields fill from the low bits on little-endian
	if !littleEndian {
		regs = dst<<4 | src
	}
	return bpfInsn{code: code, regs: regs, off: off, imm: imm}
}

// dst = *(u32 *)(src + off)
func loadWord(dst, src uint8, off int16) bpfInsn {
	return insn(unix.BPF_LDX|unix.BPF_MEM|unix.BPF_W, dst, src, off, 0)
}

// 32-bit dst op= imm
func alu32(op, dst uint8, imm int32) bpfInsn {
	return insn(unix.BPF_ALU|op|unix.BPF_K, dst, 0, 0, imm)
}

// if dst op imm: skip off instructions (off filled in later)
func jumpIf(op, dst uint8, imm int32) bpfInsn {
	return insn(unix.BPF_JMP|op|unix.BPF_K, dst, 0, 0, imm)
}

// deviceProgram compiles l (see the top of this file).
func deviceProgram(l *deviceList) []bpfInsn {
	prog := []bpfInsn{
		loadWord(rType, rCtx, 0),
		insn(unix.BPF_ALU|unix.BPF_MOV|unix.BPF_X, rAccess, rType, 0, 0),
		alu32(unix.BPF_AND, rType, 0xffff),
		alu32(unix.BPF_RSH, rAccess, 16),
		loadWord(rMajor, rCtx, 4),
		loadWord(rMinor, rCtx, 8),
	}
	// Jumps to the exits, which come last: patched once they are placed.
	type exitJump struct {
		at    int
		allow bool
	}
	var exits []exitJump
	for i := len(l.rules) - 1; i >= 0; i-- {
		r := l.rules[i]
		var toNext []int // the checks that skip to the next rule
		check := func(reg uint8, want int64) {
			toNext = append(toNext, len(prog))
			prog = append(prog, jumpIf(unix.BPF_JNE, reg, int32(want)))
		}
		if r.kind == 'c' {
			check(rType, unix.BPF_DEVCG_DEV_CHAR)
		} else {
			check(rType, unix.BPF_DEVCG_DEV_BLOCK)
		}
		if r.major >= 0 {
			check(rMajor, r.major)
		}
		if r.minor >= 0 {
			check(rMinor, r.minor)
		}
		switch {
		case !r.allow:
			// if (access & rule's) deny
			exits = append(exits, exitJump{len(prog), false})
			prog = append(prog, jumpIf(unix.BPF_JSET, rAccess, int32(r.access)))
		case r.access == accAll:
			// Grants whatever is left.
			exits = append(exits, exitJump{len(prog), true})
			prog = append(prog, insn(unix.BPF_JMP|unix.BPF_JA, 0, 0, 0, 0))
		default:
			// access &= ~rule's; if none left, allow
			prog = append(prog, alu32(unix.BPF_AND, rAccess, ^int32(r.access)))
			exits = append(exits, exitJump{len(prog), true})
			prog = append(prog, jumpIf(unix.BPF_JEQ, rAccess, 0))
		}
		for _, at := range toNext {
			prog[at].off = int16(len(prog) - at - 1)
		}
	}
	// The default's exit first: the last rule that does not match falls
	// through to it.
	exitAt := map[bool]int{}
	for _, allow := range []bool{l.defaultAllow, !l.defaultAllow} {
		exitAt[allow] = len(prog)
		ret := int32(0)
		if allow {
			ret = 1
		}
		prog = append(prog,
			insn(unix.BPF_ALU64|unix.BPF_MOV|unix.BPF_K, rRet, 0, 0, ret),
			insn(unix.BPF_JMP|unix.BPF_EXIT, 0, 0, 0, 0))
	}
	for _, j := range exits {
		prog[j.at].off = int16(exitAt[j.allow] - j.at - 1)
	}
	return prog
}

// union bpf_attr for BPF_PROG_LOAD, up to prog_name.
type bpfProgLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       uint64 // pointers, pinned for the call
	license     uint64
	logLevel    uint32
	logSize     uint32
	logBuf      uint64
	kernVersion uint32
	progFlags   uint32
	progName    [16]byte
}

// union bpf_attr for BPF_PROG_ATTACH, up to attach_flags.
type bpfAttachAttr struct {
	targetFD    uint32
	attachBPFFD uint32
	attachType  uint32
	attachFlags uint32
}

// Device programs call no GPL-only helpers: any license will do (runc's).
var bpfLicense = []byte("Apache\x00")

func bpf(cmd uintptr, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// attachDeviceProgram loads prog and attaches it to the cgroup2 directory
// dir, alongside any program its ancestors have. The program fd is closed
// here: the attachment keeps the program.
func (realFS) attachDeviceProgram(dir string, prog []bpfInsn) error {
	progFD, err := loadDeviceProgram(prog)
	if err != nil {
		return err
	}
	defer unix.Close(progFD)
	dirFD, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dirFD)
	attr := bpfAttachAttr{
		targetFD:    uint32(dirFD),
		attachBPFFD: uint32(progFD),
		attachType:  unix.BPF_CGROUP_DEVICE,
		attachFlags: unix.BPF_F_ALLOW_MULTI,
	}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("attaching the BPF device program to %s: %w", dir, err)
	}
	return nil
}

func loadDeviceProgram(prog []bpfInsn) (int, error) {
	var pin runtime.Pinner // the kernel reads them through the attr's plain numbers
	defer pin.Unpin()
	pin.Pin(&prog[0])
	pin.Pin(&bpfLicense[0])
	attr := bpfProgLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(prog)),
		insns:    uint64(uintptr(unsafe.Pointer(&prog[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&bpfLicense[0]))),
	}
	copy(attr.progName[:], "stdc_devices") // for bpftool
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err == nil {
		return fd, nil
	}
	why := ""
	if errors.Is(err, unix.EPERM) {
		why = " (kernels before 5.11 count BPF programs against RLIMIT_MEMLOCK)"
	}
	// The verifier says why only when asked: load again with its log.
	log := make([]byte, 64<<10)
	pin.Pin(&log[0])
	attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(log)), uint64(uintptr(unsafe.Pointer(&log[0])))
	if fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err == nil {
		unix.Close(fd)
	}
	if lines := strings.Split(strings.TrimSpace(strings.TrimRight(string(log), "\x00")), "\n"); lines[0] != "" {
		why += "; verifier: " + strings.Join(lines[max(0, len(lines)-3):], "; ")
	}
	return -1, fmt.Errorf("loading the BPF device program (%d instructions): %w%s", len(prog), err, why)
}
