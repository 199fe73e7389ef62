package seccomp

import (
	"errors"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// struct seccomp_data (linux/seccomp.h), little-endian.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// x32SyscallBit marks an x32 call: same AUDIT_ARCH_X86_64, number ORed with it.
const x32SyscallBit = 0x40000000

// abi is one way into the x86-64 kernel.
type abi struct {
	table map[string]uint32
	wide  bool // 64-bit arguments; i386's are 32-bit, zero-extended
}

var (
	abiX86_64 = abi{syscallsX86_64, true}
	abiX32    = abi{syscallsX32, true}
	abiI386   = abi{syscallsI386, false}
)

// rule is one compiled syscalls[] entry.
type rule struct {
	args []specs.LinuxSeccompArg
	ret  uint32
}

// Compile turns p into a classic BPF program for x86-64 that also covers
// the i386 and x32 entry points, each matched with its own syscall
// numbers. x86-64, the native ABI, is always filtered (as libseccomp
// does); i386 and x32 calls get p's rules only when p.Architectures lists
// SCMP_ARCH_X86 / SCMP_ARCH_X32, the default action otherwise. Syscall
// names the kernel does not know are skipped, as runc does.
//
// For one syscall the rules with argument conditions are tried first, in
// profile order, then the first unconditional one; all conditions of a
// rule must hold (AND), as in libseccomp. Comparisons are unsigned and
// 64-bit: both halves of the argument are checked. Errors do not start
// with "seccomp": callers say that.
func Compile(p *specs.LinuxSeccomp) ([]unix.SockFilter, error) {
	if p == nil {
		return nil, errors.New("no profile")
	}
	if err := checkSupported(p); err != nil {
		return nil, err
	}
	def, err := retValue(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("%w in defaultAction", err)
	}
	rules := make([]rule, len(p.Syscalls))
	for i, sc := range p.Syscalls {
		ret, err := retValue(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("%w in syscalls[%d]", err, i)
		}
		for j, arg := range sc.Args {
			if err := checkArg(arg); err != nil {
				return nil, fmt.Errorf("%w in syscalls[%d].args[%d]", err, i, j)
			}
		}
		rules[i] = rule{args: sc.Args, ret: ret}
	}
	listed := map[specs.Arch]bool{specs.ArchX86_64: true}
	for _, a := range p.Architectures {
		listed[a] = true
	}

	c := &compiler{def: def, shared: map[string]label{}}
	c.retDef = c.a.newLabel()
	l64, l32, lx32 := c.a.newLabel(), c.a.newLabel(), c.a.newLabel()
	c.a.load(offArch)
	c.a.jump(unix.BPF_JEQ, unix.AUDIT_ARCH_X86_64, l64, next)
	if listed[specs.ArchX86] {
		c.a.jump(unix.BPF_JEQ, unix.AUDIT_ARCH_I386, l32, next)
	}
	c.a.ret(def) // an ABI this filter was not asked to cover

	c.a.place(l64)
	c.a.load(offNr)
	if listed[specs.ArchX32] {
		c.a.jump(unix.BPF_JGE, x32SyscallBit, lx32, next)
	} else {
		c.a.jump(unix.BPF_JGE, x32SyscallBit, c.retDef, next)
	}
	c.dispatch(abiX86_64, p, rules)
	if listed[specs.ArchX32] {
		c.a.place(lx32)
		c.dispatch(abiX32, p, rules)
	}
	if listed[specs.ArchX86] {
		c.a.place(l32)
		c.a.load(offNr)
		c.dispatch(abiI386, p, rules)
	}
	for _, b := range c.blocks {
		b()
	}
	c.a.place(c.retDef)
	c.a.ret(def)
	return c.a.assemble()
}

type compiler struct {
	a      assembler
	def    uint32
	retDef label            // a shared return of the default action
	blocks []func()         // argument checks, emitted after the search trees
	shared map[string]label // argument checks by ABI width and rules
}

// span is a run of consecutive syscall numbers with one outcome: a return
// value, or the argument checks at block.
type span struct {
	lo, hi uint32
	ret    uint32
	block  label // 0: just return ret
}

// dispatch emits, for syscall number in A, a binary search over abi's
// syscalls that p names, ending in their returns or argument checks.
func (c *compiler) dispatch(ab abi, p *specs.LinuxSeccomp, rules []rule) {
	byNr := map[uint32][]int{}
	for i, sc := range p.Syscalls {
		for _, name := range sc.Names {
			if nr, ok := ab.table[name]; ok && !slices.Contains(byNr[nr], i) {
				byNr[nr] = append(byNr[nr], i)
			}
		}
	}
	nrs := make([]uint32, 0, len(byNr))
	for nr := range byNr {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)

	var spans []span
	for _, nr := range nrs {
		rs := c.order(byNr[nr], rules)
		if len(rs) == 0 {
			continue
		}
		s := span{lo: nr, hi: nr}
		if len(rs) == 1 && len(rules[rs[0]].args) == 0 {
			s.ret = rules[rs[0]].ret
		} else {
			s.block = c.argChecks(ab.wide, rs, rules)
		}
		if n := len(spans); n > 0 && spans[n-1].block == 0 && s.block == 0 && spans[n-1].ret == s.ret && spans[n-1].hi+1 == nr {
			spans[n-1].hi = nr
			continue
		}
		spans = append(spans, s)
	}
	c.search(spans)
}

// order lists the rules (indices) that decide one syscall: conditional
// ones first, then the first unconditional one; trailing rules that
// return what the default would are dropped.
func (c *compiler) order(idx []int, rules []rule) []int {
	var out []int
	for _, i := range idx {
		if len(rules[i].args) > 0 {
			out = append(out, i)
		}
	}
	for _, i := range idx {
		if len(rules[i].args) == 0 {
			out = append(out, i)
			break
		}
	}
	for len(out) > 0 && rules[out[len(out)-1]].ret == c.def {
		out = out[:len(out)-1]
	}
	return out
}

// search emits a binary search over sorted spans; A holds the number.
// Each leaf checks a few spans and carries its own returns, which a
// conditional jump can always reach.
func (c *compiler) search(spans []span) {
	if len(spans) > 4 {
		mid := len(spans) / 2
		upper := c.a.newLabel()
		c.a.jump(unix.BPF_JGE, spans[mid].lo, upper, next)
		c.search(spans[:mid])
		c.a.place(upper)
		c.search(spans[mid:])
		return
	}
	fallback := c.a.newLabel()
	local := map[uint32]label{}
	var values []uint32
	target := func(s span) label {
		if s.block != 0 {
			return s.block
		}
		if _, ok := local[s.ret]; !ok {
			local[s.ret] = c.a.newLabel()
			values = append(values, s.ret)
		}
		return local[s.ret]
	}
	for _, s := range spans {
		if s.lo == s.hi {
			c.a.jump(unix.BPF_JEQ, s.lo, target(s), next)
			continue
		}
		above := c.a.newLabel()
		c.a.jump(unix.BPF_JGT, s.hi, above, next)
		c.a.jump(unix.BPF_JGE, s.lo, target(s), fallback)
		c.a.place(above)
	}
	c.a.place(fallback)
	c.a.ret(c.def)
	for _, v := range values {
		c.a.place(local[v])
		c.a.ret(v)
	}
}

// argChecks queues the code for one syscall's rules (the first whose
// conditions all hold gives its return, else the default) and returns
// where it starts. x86-64 and x32 share it when their rules are the same.
func (c *compiler) argChecks(wide bool, rs []int, rules []rule) label {
	key := fmt.Sprint(wide, rs)
	if l, ok := c.shared[key]; ok {
		return l
	}
	start := c.a.newLabel()
	c.shared[key] = start
	c.blocks = append(c.blocks, func() {
		c.a.place(start)
		for _, i := range rs {
			r := rules[i]
			fail := c.a.newLabel()
			for _, arg := range r.args {
				if wide {
					c.cond64(arg, fail)
				} else {
					c.cond32(arg, fail)
				}
			}
			c.a.ret(r.ret)
			c.a.place(fail)
			if len(r.args) == 0 {
				return // unconditional: the default is never reached
			}
		}
		c.a.ret(c.def)
	})
	return start
}

// cond32 falls through when arg's condition holds on the low 32 bits,
// else jumps to fail. i386 arguments are 32-bit; libseccomp compares them
// the same way.
func (c *compiler) cond32(arg specs.LinuxSeccompArg, fail label) {
	v := uint32(arg.Value)
	c.a.load(offArgs + 8*uint32(arg.Index))
	switch arg.Op {
	case specs.OpEqualTo:
		c.a.jump(unix.BPF_JEQ, v, next, fail)
	case specs.OpNotEqual:
		c.a.jump(unix.BPF_JEQ, v, fail, next)
	case specs.OpGreaterThan:
		c.a.jump(unix.BPF_JGT, v, next, fail)
	case specs.OpGreaterEqual:
		c.a.jump(unix.BPF_JGE, v, next, fail)
	case specs.OpLessThan:
		c.a.jump(unix.BPF_JGE, v, fail, next)
	case specs.OpLessEqual:
		c.a.jump(unix.BPF_JGT, v, fail, next)
	case specs.OpMaskedEqual: // (arg & Value) == ValueTwo, as runc passes it on
		c.a.and(v)
		c.a.jump(unix.BPF_JEQ, uint32(arg.ValueTwo), next, fail)
	}
}

// cond64 is cond32 on 64-bit arguments: the high halves decide unless
// they are equal, then the low halves do.
func (c *compiler) cond64(arg specs.LinuxSeccompArg, fail label) {
	lo, hi := offArgs+8*uint32(arg.Index), offArgs+8*uint32(arg.Index)+4
	vlo, vhi := uint32(arg.Value), uint32(arg.Value>>32)
	pass := c.a.newLabel()
	switch arg.Op {
	case specs.OpEqualTo:
		c.a.load(hi)
		c.a.jump(unix.BPF_JEQ, vhi, next, fail)
		c.a.load(lo)
		c.a.jump(unix.BPF_JEQ, vlo, next, fail)
	case specs.OpNotEqual:
		c.a.load(hi)
		c.a.jump(unix.BPF_JEQ, vhi, next, pass)
		c.a.load(lo)
		c.a.jump(unix.BPF_JEQ, vlo, fail, next)
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		c.a.load(hi)
		c.a.jump(unix.BPF_JGT, vhi, pass, next)
		c.a.jump(unix.BPF_JEQ, vhi, next, fail)
		c.a.load(lo)
		if arg.Op == specs.OpGreaterThan {
			c.a.jump(unix.BPF_JGT, vlo, next, fail)
		} else {
			c.a.jump(unix.BPF_JGE, vlo, next, fail)
		}
	case specs.OpLessThan, specs.OpLessEqual:
		c.a.load(hi)
		c.a.jump(unix.BPF_JGE, vhi, next, pass)
		c.a.jump(unix.BPF_JEQ, vhi, next, fail)
		c.a.load(lo)
		if arg.Op == specs.OpLessThan {
			c.a.jump(unix.BPF_JGE, vlo, fail, next)
		} else {
			c.a.jump(unix.BPF_JGT, vlo, fail, next)
		}
	case specs.OpMaskedEqual:
		mlo, mhi := vlo, vhi
		wlo, whi := uint32(arg.ValueTwo), uint32(arg.ValueTwo>>32)
		c.a.load(hi)
		c.a.and(mhi)
		c.a.jump(unix.BPF_JEQ, whi, next, fail)
		c.a.load(lo)
		c.a.and(mlo)
		c.a.jump(unix.BPF_JEQ, wlo, next, fail)
	}
	c.a.place(pass)
}
