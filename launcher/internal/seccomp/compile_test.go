package seccomp

import (
	"encoding/json"
	"math/rand"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// dockerCaps are docker's 14 default capabilities.
var dockerCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

const (
	allow  = unix.SECCOMP_RET_ALLOW
	eperm  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	enosys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
)

func compile(t *testing.T, p *specs.LinuxSeccomp) []unix.SockFilter {
	t.Helper()
	prog, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(prog); err != nil {
		t.Fatalf("the kernel would refuse the program: %v", err)
	}
	return prog
}

func expectRet(t *testing.T, prog []unix.SockFilter, c call, want uint32) {
	t.Helper()
	got, err := run(prog, c)
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	if got != want {
		t.Errorf("%v: got %#x, want %#x", c, got, want)
	}
}

func TestDefaultProfileDecisions(t *testing.T) {
	prog := compile(t, Default(dockerCaps))
	t.Logf("Default(docker's 14 caps) compiles to %d instructions", len(prog))
	const (
		newUser = unix.CLONE_NEWUSER
		sigchld = uint64(unix.SIGCHLD)
		afInet  = unix.AF_INET
	)
	for _, tc := range []struct {
		c    call
		want uint32
	}{
		// x86-64
		{x8664(unix.SYS_GETPID), allow},
		{x8664(unix.SYS_EXECVE), allow},
		{x8664(unix.SYS_KEYCTL), eperm},
		{x8664(unix.SYS_ADD_KEY), eperm},
		{x8664(unix.SYS_REQUEST_KEY), eperm},
		{x8664(unix.SYS_BPF), eperm},
		{x8664(unix.SYS_PERF_EVENT_OPEN), eperm},
		{x8664(unix.SYS_KEXEC_LOAD), eperm},
		{x8664(unix.SYS_KEXEC_FILE_LOAD), eperm},
		{x8664(unix.SYS_INIT_MODULE), eperm},
		{x8664(unix.SYS_FINIT_MODULE), eperm},
		{x8664(unix.SYS_DELETE_MODULE), eperm},
		{x8664(unix.SYS_REBOOT), eperm},
		{x8664(unix.SYS_SWAPON), eperm},
		{x8664(unix.SYS_SWAPOFF), eperm},
		{x8664(unix.SYS_OPEN_BY_HANDLE_AT), eperm},
		{x8664(unix.SYS_MOUNT), eperm},
		{x8664(unix.SYS_UMOUNT2), eperm},
		{x8664(unix.SYS_UNSHARE, newUser), eperm},
		{x8664(unix.SYS_SETNS), eperm},
		{x8664(unix.SYS_USERFAULTFD), eperm},
		{x8664(unix.SYS_IO_URING_SETUP), eperm},
		{x8664(unix.SYS_PTRACE), allow},
		{x8664(unix.SYS_PROCESS_VM_READV), allow},
		{x8664(unix.SYS_KCMP), eperm},
		{x8664(unix.SYS_SETTIMEOFDAY), eperm},
		{x8664(unix.SYS_ACCT), eperm},
		{x8664(unix.SYS_CHROOT), allow}, // CAP_SYS_CHROOT is a default cap
		{x8664(unix.SYS_CLONE3), enosys},
		{x8664(unix.SYS_CLONE, sigchld), allow},
		{x8664(unix.SYS_CLONE, newUser|sigchld), eperm},
		{x8664(unix.SYS_CLONE, unix.CLONE_NEWNS), eperm},
		{x8664(unix.SYS_CLONE, unix.CLONE_NEWCGROUP), eperm},
		// The mask covers the low half only: bits above it do not matter.
		{x8664(unix.SYS_CLONE, 1<<40|sigchld), allow},
		{x8664(unix.SYS_PERSONALITY, 0xffffffff), allow},
		{x8664(unix.SYS_PERSONALITY, 0), allow},
		{x8664(unix.SYS_PERSONALITY, 0x0040000), eperm}, // ADDR_NO_RANDOMIZE,
		// 64-bit equality: the high half must match too.
		{x8664(unix.SYS_PERSONALITY, 1<<32|0xffffffff), eperm},
		{x8664(unix.SYS_SOCKET, afInet), allow},
		{x8664(unix.SYS_SOCKET, unix.AF_NETLINK), allow},
		{x8664(unix.SYS_SOCKET, unix.AF_ALG), eperm},
		{x8664(unix.SYS_SOCKET, 39), allow},
		{x8664(unix.SYS_SOCKET, unix.AF_VSOCK), eperm},
		{x8664(unix.SYS_SOCKET, unix.AF_XDP), allow},
		{x8664(unix.SYS_SOCKET, 46), eperm},
		// The kernel reads the family as an int: a high half must not
		// slip AF_VSOCK or AF_INET past the range checks.
		{x8664(unix.SYS_SOCKET, 1<<32|unix.AF_VSOCK), eperm},
		{x8664(unix.SYS_SOCKET, 1<<32|afInet), eperm},
		{x8664(1000), eperm},
		{x8664(0x3fffffff), eperm},
		// i386
		{i386(20), allow},  // getpid
		{i386(288), eperm}, // keyctl
		{i386(11), allow},  // execve
		{i386(102), allow}, // socketcall
		{i386(359, afInet), allow},
		{i386(359, unix.AF_VSOCK), eperm},
		{i386(120, sigchld), allow},         // clone
		{i386(120, newUser|sigchld), eperm}, // clone
		{i386(435), enosys},                 // clone3
		{i386(136, 0xffffffff), allow},      // personality
		{i386(21), eperm},                   // mount
		{i386(26), allow},                   // ptrace, as docker allows it
		{i386(384), allow},                  // arch_prctl, as docker's amd64 profile allows
		// x32
		{x32(39), allow},  // getpid
		{x32(250), eperm}, // keyctl
		{x32(520), allow}, // execve, x32 number
		{x32(59), eperm},  // x86-64's execve number is not an x32 syscall
		{x32(41, unix.AF_VSOCK), eperm},
		{x32(41, afInet), allow},
		{x32(435), enosys},
		{x8664(0xffffffff), eperm}, // nr -1, as a tracer may set it
		// Neither AUDIT_ARCH_X86_64 nor AUDIT_ARCH_I386.
		{newCall(unix.AUDIT_ARCH_AARCH64, 172, nil), eperm},
	} {
		expectRet(t, prog, tc.c, tc.want)
	}
}

func TestDefaultProfileCaps(t *testing.T) {
	with := func(c ...string) []unix.SockFilter {
		return compile(t, Default(append(dockerCaps[:len(dockerCaps):len(dockerCaps)], c...)))
	}

	admin := with("CAP_SYS_ADMIN")
	for _, nr := range []uint32{unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_UNSHARE, unix.SYS_SETNS, unix.SYS_CLONE3, unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_SETHOSTNAME} {
		expectRet(t, admin, x8664(nr), allow)
	}
	expectRet(t, admin, x8664(unix.SYS_CLONE, unix.CLONE_NEWUSER), allow)
	expectRet(t, admin, i386(120, unix.CLONE_NEWUSER), allow)
	expectRet(t, admin, x8664(unix.SYS_REBOOT), eperm)
	expectRet(t, admin, x8664(unix.SYS_KEYCTL), eperm)

	for _, tc := range []struct {
		cap string
		nrs []uint32
	}{
		{"CAP_SYS_BOOT", []uint32{unix.SYS_REBOOT}},
		{"CAP_SYS_MODULE", []uint32{unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE}},
		{"CAP_SYS_PTRACE", []uint32{unix.SYS_KCMP, unix.SYS_PIDFD_GETFD}},
		{"CAP_SYS_TIME", []uint32{unix.SYS_SETTIMEOFDAY, unix.SYS_CLOCK_SETTIME}},
		{"CAP_SYS_PACCT", []uint32{unix.SYS_ACCT}},
		{"CAP_BPF", []uint32{unix.SYS_BPF}},
		{"CAP_PERFMON", []uint32{unix.SYS_PERF_EVENT_OPEN}},
		{"CAP_DAC_READ_SEARCH", []uint32{unix.SYS_OPEN_BY_HANDLE_AT}},
		{"sys_nice", []uint32{unix.SYS_MBIND}}, // docker's spelling works too
	} {
		prog := with(tc.cap)
		for _, nr := range tc.nrs {
			expectRet(t, prog, x8664(nr), allow)
		}
		expectRet(t, prog, x8664(unix.SYS_MOUNT), eperm)
		expectRet(t, prog, x8664(unix.SYS_CLONE3), enosys)
	}

	none := compile(t, Default(nil))
	expectRet(t, none, x8664(unix.SYS_CHROOT), eperm)
	expectRet(t, none, x8664(unix.SYS_GETPID), allow)
}

// An architecture left out of the profile gets the default action.
func TestArchitecturesNotListed(t *testing.T) {
	p := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getpid", "keyctl"}, Action: specs.ActAllow}},
	}
	prog := compile(t, p) // no architectures: x86-64 only, as libseccomp's native filter
	expectRet(t, prog, x8664(unix.SYS_GETPID), allow)
	expectRet(t, prog, i386(20), eperm)
	expectRet(t, prog, x32(39), eperm)

	p.Architectures = []specs.Arch{specs.ArchX86_64, specs.ArchX32}
	prog = compile(t, p)
	expectRet(t, prog, x32(39), allow)
	expectRet(t, prog, x32(250), allow)
	expectRet(t, prog, i386(20), eperm)

	p.Architectures = []specs.Arch{specs.ArchX86}
	prog = compile(t, p)
	expectRet(t, prog, i386(20), allow)
	expectRet(t, prog, i386(288), allow)
	expectRet(t, prog, x8664(unix.SYS_GETPID), allow) // native is always there
	expectRet(t, prog, x32(39), eperm)
}

func TestActions(t *testing.T) {
	e := func(n uint) *uint { return &n }
	p := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActKill},
			{Names: []string{"write"}, Action: specs.ActKillProcess},
			{Names: []string{"open"}, Action: specs.ActKillThread},
			{Names: []string{"close"}, Action: specs.ActTrap},
			{Names: []string{"stat"}, Action: specs.ActErrno},
			{Names: []string{"fstat"}, Action: specs.ActErrno, ErrnoRet: e(uint(unix.EACCES))},
			{Names: []string{"lstat"}, Action: specs.ActTrace, ErrnoRet: e(7)},
			{Names: []string{"poll"}, Action: specs.ActLog},
			{Names: []string{"lseek"}, Action: specs.ActAllow},
			{Names: []string{"no_such_syscall"}, Action: specs.ActKill}, // skipped, as runc does
		},
	}
	prog := compile(t, p)
	for nr, want := range map[uint32]uint32{
		unix.SYS_READ:  unix.SECCOMP_RET_KILL_THREAD,
		unix.SYS_WRITE: unix.SECCOMP_RET_KILL_PROCESS,
		unix.SYS_OPEN:  unix.SECCOMP_RET_KILL_THREAD,
		unix.SYS_CLOSE: unix.SECCOMP_RET_TRAP,
		unix.SYS_STAT:  eperm,
		unix.SYS_FSTAT: unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES),
		unix.SYS_LSTAT: unix.SECCOMP_RET_TRACE | 7,
		unix.SYS_POLL:  unix.SECCOMP_RET_LOG,
		unix.SYS_LSEEK: allow,
		unix.SYS_MMAP:  allow,
	} {
		expectRet(t, prog, x8664(nr), want)
	}

	for _, tc := range []struct {
		p    specs.LinuxSeccomp
		want string
	}{
		{specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"}, "unknown action SCMP_ACT_FOO in defaultAction"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: "SCMP_ACT_BAR"}}}, "unknown action SCMP_ACT_BAR in syscalls[0]"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActNotify}, "not supported"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActNotify}}}, "not supported"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Op: "SCMP_CMP_XX"}}}}}, "unknown operator SCMP_CMP_XX"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}}, "argument index 6"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: e(70000)}, "errnoRet 70000 out of range"},
	} {
		_, err := Compile(&tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%+v) = %v, want an error with %q", tc.p, err, tc.want)
		}
	}
	if _, err := Compile(nil); err == nil {
		t.Error("Compile(nil) succeeded")
	}
}

// TestArgumentComparisons checks every operator at the edges of both
// 32-bit halves against plain 64-bit (or, for i386, 32-bit) arithmetic.
func TestArgumentComparisons(t *testing.T) {
	ops := []specs.LinuxSeccompOperator{specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan,
		specs.OpLessEqual, specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpMaskedEqual}
	values := []uint64{0, 1, 0x7fffffff, 0xffffffff, 1 << 32, 1<<32 | 1, 0x1_ffff_ffff, 0xdead_beef_0000_0001, ^uint64(0)}
	for _, op := range ops {
		for _, v := range values {
			arg := specs.LinuxSeccompArg{Index: 3, Value: v, ValueTwo: v & 0xffff_0000_0000_ffff, Op: op}
			p := &specs.LinuxSeccomp{
				DefaultAction: specs.ActErrno,
				Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
				Syscalls:      []specs.LinuxSyscall{{Names: []string{"ioctl"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{arg}}},
			}
			prog := compile(t, p)
			for _, probe := range probes(values) {
				for _, c := range []call{x8664(unix.SYS_IOCTL, 0, 0, 0, probe), x32(514, 0, 0, 0, probe), i386(54, 0, 0, 0, probe)} {
					want := eperm
					if holds(arg, c.args[3], c.arch == unix.AUDIT_ARCH_I386) {
						want = allow
					}
					expectRet(t, prog, c, want)
				}
			}
		}
	}
}

// probes are the values and their neighbours, with the halves perturbed.
func probes(values []uint64) []uint64 {
	var out []uint64
	for _, v := range values {
		for _, d := range []uint64{0, 1, ^uint64(0), 1 << 32, 0xffffffff_00000000} {
			out = append(out, v+d)
		}
	}
	return out
}

// holds is the reference: what libseccomp means by each operator.
func holds(arg specs.LinuxSeccompArg, x uint64, narrow bool) bool {
	v, v2 := arg.Value, arg.ValueTwo
	if narrow {
		x, v, v2 = uint64(uint32(x)), uint64(uint32(v)), uint64(uint32(v2))
	}
	switch arg.Op {
	case specs.OpEqualTo:
		return x == v
	case specs.OpNotEqual:
		return x != v
	case specs.OpLessThan:
		return x < v
	case specs.OpLessEqual:
		return x <= v
	case specs.OpGreaterThan:
		return x > v
	case specs.OpGreaterEqual:
		return x >= v
	case specs.OpMaskedEqual:
		return x&v == v2
	}
	panic(arg.Op)
}

// reference decides a call from the profile directly, the way Compile
// documents: conditional rules first, then the first unconditional one.
func reference(p *specs.LinuxSeccomp, c call) uint32 {
	def, _ := retValue(p.DefaultAction, p.DefaultErrnoRet)
	listed := map[specs.Arch]bool{specs.ArchX86_64: true}
	for _, a := range p.Architectures {
		listed[a] = true
	}
	var table map[string]uint32
	narrow := false
	switch {
	case c.arch == unix.AUDIT_ARCH_X86_64 && c.nr&x32SyscallBit == 0:
		table = syscallsX86_64
	case c.arch == unix.AUDIT_ARCH_X86_64 && listed[specs.ArchX32]:
		table = syscallsX32
	case c.arch == unix.AUDIT_ARCH_I386 && listed[specs.ArchX86]:
		table, narrow = syscallsI386, true
	default:
		return def
	}
	var conditional, unconditional []specs.LinuxSyscall
	for _, sc := range p.Syscalls {
		for _, name := range sc.Names {
			if nr, ok := table[name]; ok && nr == c.nr {
				if len(sc.Args) > 0 {
					conditional = append(conditional, sc)
				} else {
					unconditional = append(unconditional, sc)
				}
				break
			}
		}
	}
	for _, sc := range append(conditional, unconditional...) {
		all := true
		for _, a := range sc.Args {
			all = all && holds(a, c.args[a.Index], narrow)
		}
		if all {
			ret, _ := retValue(sc.Action, sc.ErrnoRet)
			return ret
		}
	}
	return def
}

// TestAgainstReference runs every syscall number of every ABI, with
// arguments at the edges the profiles test, through the compiled program
// and the reference.
func TestAgainstReference(t *testing.T) {
	profiles := map[string]*specs.LinuxSeccomp{
		"default":           Default(dockerCaps),
		"default+SYS_ADMIN": Default(append(dockerCaps[:len(dockerCaps):len(dockerCaps)], "CAP_SYS_ADMIN")),
		"random 1":          randomProfile(rand.New(rand.NewSource(1))),
		"random 2":          randomProfile(rand.New(rand.NewSource(2))),
	}
	for name, p := range profiles {
		prog := compile(t, p)
		// The values a syscall's rules compare with, and their neighbours.
		edges := map[string][]uint64{}
		for _, sc := range p.Syscalls {
			for _, a := range sc.Args {
				for _, n := range sc.Names {
					edges[n] = append(edges[n], a.Value-1, a.Value, a.Value+1, a.Value|1<<32, a.Value^1<<32)
				}
			}
		}
		n := 0
		check := func(c call, table map[string]uint32) {
			vals := append([]uint64{0, 0xffffffff, 1 << 32}, edges[nameOf(table, c.nr)]...)
			for i, v := range vals {
				c.args[i%6] = v
				got, err := run(prog, c)
				if err != nil {
					t.Fatalf("%s: %v: %v", name, c, err)
				}
				if want := reference(p, c); got != want {
					t.Fatalf("%s: %v: got %#x, want %#x", name, c, got, want)
				}
				n++
			}
		}
		for _, nr := range numbers(0, 600) {
			check(x8664(nr), syscallsX86_64)
			check(i386(nr), syscallsI386)
			check(newCall(unix.AUDIT_ARCH_X86_64, x32SyscallBit|nr, nil), syscallsX32)
		}
		t.Logf("%s: %d instructions, %d calls agree", name, len(prog), n)
	}
}

// numbers is every syscall number in [lo, hi), the gaps included.
func numbers(lo, hi uint32) []uint32 {
	var out []uint32
	for nr := lo; nr < hi; nr++ {
		out = append(out, nr)
	}
	return out
}

// randomProfile has many conditional rules, so jumps overflow 255 and
// need trampolines.
func randomProfile(r *rand.Rand) *specs.LinuxSeccomp {
	ops := []specs.LinuxSeccompOperator{specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan,
		specs.OpLessEqual, specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpMaskedEqual}
	actions := []specs.LinuxSeccompAction{specs.ActAllow, specs.ActErrno, specs.ActTrap, specs.ActLog, specs.ActKillProcess}
	names := make([]string, 0, len(syscallsX86_64))
	for name := range syscallsX86_64 {
		names = append(names, name)
	}
	slices.Sort(names) // the same profile every run
	p := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
	}
	for i := 0; i < 150; i++ {
		sc := specs.LinuxSyscall{Action: actions[r.Intn(len(actions))]}
		for j := 0; j < 1+r.Intn(3); j++ {
			sc.Names = append(sc.Names, names[r.Intn(len(names))])
		}
		for j := 0; j < r.Intn(4); j++ {
			sc.Args = append(sc.Args, specs.LinuxSeccompArg{
				Index: uint(r.Intn(6)), Value: r.Uint64() >> uint(r.Intn(64)), ValueTwo: r.Uint64() >> uint(r.Intn(64)),
				Op: ops[r.Intn(len(ops))],
			})
		}
		p.Syscalls = append(p.Syscalls, sc)
	}
	return p
}

func TestTooLong(t *testing.T) {
	p := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}
	for v := uint64(0); v < 2000; v++ {
		p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{"ioctl"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{{Index: 1, Value: v, Op: specs.OpEqualTo}}})
	}
	if _, err := Compile(p); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("Compile = %v, want a too-long error", err)
	}
	p.Syscalls = p.Syscalls[:300] // far past 255 instructions: trampolines
	prog := compile(t, p)
	expectRet(t, prog, x8664(unix.SYS_IOCTL, 0, 299), allow)
	expectRet(t, prog, x8664(unix.SYS_IOCTL, 0, 0), allow)
	expectRet(t, prog, x8664(unix.SYS_IOCTL, 0, 300), eperm)
	expectRet(t, prog, x8664(unix.SYS_IOCTL, 0, 1<<32|5), eperm)
	expectRet(t, prog, x8664(unix.SYS_GETPID), eperm)
}

// TestFarJumps makes the assembler bridge conditional jumps past 255
// instructions, to returns and to other code.
func TestFarJumps(t *testing.T) {
	var a assembler
	toRet, toCode := a.newLabel(), a.newLabel()
	a.load(offNr)
	a.jump(unix.BPF_JEQ, 1, toRet, next)
	a.jump(unix.BPF_JEQ, 2, toCode, toRet) // both branches far
	pad := func() {
		for i := 0; i < 300; i++ {
			a.load(offArch)
		}
	}
	a.ret(0) // unreachable: nr is 1 or 2, else the second jump went to toRet
	pad()
	a.place(toRet)
	a.ret(7)
	pad()
	a.place(toCode)
	a.ret(9)
	prog, err := a.assemble()
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(prog); err != nil {
		t.Fatal(err)
	}
	if len(prog) <= 605 {
		t.Fatalf("%d instructions: no trampolines?", len(prog))
	}
	for nr, want := range map[uint32]uint32{1: 7, 2: 9, 3: 7} {
		expectRet(t, prog, x8664(nr), want)
	}
}

func TestProgramJSONRoundTrip(t *testing.T) {
	prog, err := Compile(Default(nil))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(Program(prog))
	if err != nil {
		t.Fatal(err)
	}
	var back Program
	if err := json.Unmarshal(data, &back); err != nil || !slices.Equal(back, Program(prog)) {
		t.Fatalf("round trip: %v, equal %v", err, slices.Equal(back, Program(prog)))
	}
	if data, _ := json.Marshal(Program(nil)); string(data) != "null" {
		t.Errorf("no program encodes as %s, want null", data)
	}
	if err := json.Unmarshal([]byte(`"AAAA"`), &back); err == nil {
		t.Error("3 bytes decoded as a program")
	}
}
