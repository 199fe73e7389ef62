package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// call is struct seccomp_data, what the kernel hands the filter.
type call struct {
	nr   uint32
	arch uint32
	args [6]uint64
}

func x8664(nr uint32, args ...uint64) call { return newCall(unix.AUDIT_ARCH_X86_64, nr, args) }
func x32(nr uint32, args ...uint64) call {
	return newCall(unix.AUDIT_ARCH_X86_64, nr|x32SyscallBit, args)
}
func i386(nr uint32, args ...uint64) call { return newCall(unix.AUDIT_ARCH_I386, nr, args) }

func newCall(arch, nr uint32, args []uint64) call {
	c := call{nr: nr, arch: arch}
	copy(c.args[:], args)
	return c
}

func (c call) String() string {
	name := "?"
	switch {
	case c.arch == unix.AUDIT_ARCH_I386:
		name = "i386/" + nameOf(syscallsI386, c.nr)
	case c.arch == unix.AUDIT_ARCH_X86_64 && c.nr&x32SyscallBit != 0:
		name = "x32/" + nameOf(syscallsX32, c.nr)
	case c.arch == unix.AUDIT_ARCH_X86_64:
		name = "x86_64/" + nameOf(syscallsX86_64, c.nr)
	}
	return fmt.Sprintf("%s(nr %#x, arch %#x, args %#x)", name, c.nr, c.arch, c.args[:3])
}

func nameOf(table map[string]uint32, nr uint32) string {
	for name, n := range table {
		if n == nr {
			return name
		}
	}
	return "?"
}

func (c call) bytes() []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b[0:], c.nr)
	binary.LittleEndian.PutUint32(b[4:], c.arch)
	for i, a := range c.args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// run interprets prog on c the way the kernel's seccomp BPF does, for the
// instructions the compiler emits; anything else is an error.
func run(prog []unix.SockFilter, c call) (uint32, error) {
	data := c.bytes()
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		jump := func(cond bool) {
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		}
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if in.K%4 != 0 || in.K+4 > uint32(len(data)) {
				return 0, fmt.Errorf("pc %d: load at %d", pc, in.K)
			}
			a = binary.LittleEndian.Uint32(data[in.K:])
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			jump(a == in.K)
		case unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K:
			jump(a > in.K)
		case unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			jump(a >= in.K)
		case unix.BPF_RET | unix.BPF_K:
			return in.K, nil
		default:
			return 0, fmt.Errorf("pc %d: unexpected opcode %#x", pc, in.Code)
		}
	}
	return 0, fmt.Errorf("fell off the end of the program")
}

// verify checks what the kernel's seccomp_check_filter and bpf_check_classic
// check: every jump lands inside, the program ends in a return.
func verify(prog []unix.SockFilter) error {
	if len(prog) == 0 || len(prog) > unix.BPF_MAXINSNS {
		return fmt.Errorf("length %d", len(prog))
	}
	for pc, in := range prog {
		switch {
		case in.Code == unix.BPF_JMP|unix.BPF_JA:
			if pc+1+int(in.K) >= len(prog) {
				return fmt.Errorf("pc %d: ja out of range", pc)
			}
		case in.Code&0x07 == unix.BPF_JMP:
			if pc+1+int(in.Jt) >= len(prog) || pc+1+int(in.Jf) >= len(prog) {
				return fmt.Errorf("pc %d: jump out of range", pc)
			}
		}
	}
	if last := prog[len(prog)-1]; last.Code != unix.BPF_RET|unix.BPF_K {
		return fmt.Errorf("does not end in a return")
	}
	return nil
}
