package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// label names a position in the program. Conditional jumps reach at most
// 255 instructions ahead, so the assembler, not the code generator,
// decides where a far target needs a trampoline.
type label int

// next is the instruction right after a jump.
const next label = 0

type insn struct {
	code   uint16
	k      uint32
	jt, jf label // conditional jumps
	to     label // unconditional jump (trampolines)
	mark   label // a pseudo-instruction: this label's position
}

type assembler struct {
	prog   []insn
	labels int
}

func (a *assembler) newLabel() label {
	a.labels++
	return label(a.labels)
}

// place puts l at the current position.
func (a *assembler) place(l label) { a.prog = append(a.prog, insn{mark: l}) }

// load puts the 32-bit word at off in struct seccomp_data into A.
func (a *assembler) load(off uint32) {
	a.prog = append(a.prog, insn{code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, k: off})
}

func (a *assembler) and(k uint32) {
	a.prog = append(a.prog, insn{code: unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, k: k})
}

// jump compares A with k (op is BPF_JEQ, BPF_JGT or BPF_JGE).
func (a *assembler) jump(op uint16, k uint32, jt, jf label) {
	a.prog = append(a.prog, insn{code: unix.BPF_JMP | op | unix.BPF_K, k: k, jt: jt, jf: jf})
}

func (a *assembler) ret(k uint32) {
	a.prog = append(a.prog, insn{code: unix.BPF_RET | unix.BPF_K, k: k})
}

func isCondJump(code uint16) bool {
	return code&0x07 == unix.BPF_JMP && code&0xf0 != unix.BPF_JA
}

// assemble resolves labels, inserting a trampoline after every conditional
// jump whose target is out of reach, until every jump fits.
func (a *assembler) assemble() ([]unix.SockFilter, error) {
	prog := a.prog
	for {
		pos := positions(prog)
		grown := make([]insn, 0, len(prog))
		changed := false
		for i, in := range prog {
			here := pos.of(i)
			far := func(l label) bool { return l != next && pos.label[l]-here-1 > 255 }
			if in.mark != 0 || !isCondJump(in.code) || !far(in.jt) && !far(in.jf) {
				grown = append(grown, in)
				continue
			}
			changed = true
			// The far branch now lands on a trampoline right below; a
			// fall-through gets a label past the trampolines.
			after := a.newLabel()
			var tramps []insn
			retarget := func(l label) label {
				switch {
				case l == next:
					return after
				case !far(l):
					return l
				}
				t := a.newLabel()
				tramps = append(tramps, insn{mark: t}, a.trampoline(prog, pos, l))
				return t
			}
			in.jt = retarget(in.jt)
			in.jf = retarget(in.jf)
			grown = append(grown, in)
			grown = append(grown, tramps...)
			grown = append(grown, insn{mark: after})
		}
		prog = grown
		if !changed {
			break
		}
	}
	return encode(prog)
}

// trampoline jumps to l, or is a copy of the return l names: no need to
// jump to a single instruction that can be repeated.
func (a *assembler) trampoline(prog []insn, pos layout, l label) insn {
	if in, ok := pos.at(prog, l); ok && in.code == unix.BPF_RET|unix.BPF_K {
		return in
	}
	return insn{code: unix.BPF_JMP | unix.BPF_JA, to: l}
}

// layout holds where each real instruction and each label lands.
type layout struct {
	index []int         // prog index → program counter
	label map[label]int // label → program counter
	first map[int]int   // program counter → prog index
}

func positions(prog []insn) layout {
	l := layout{index: make([]int, len(prog)), label: map[label]int{}, first: map[int]int{}}
	pc := 0
	for i, in := range prog {
		l.index[i] = pc
		if in.mark != 0 {
			l.label[in.mark] = pc
			continue
		}
		l.first[pc] = i
		pc++
	}
	return l
}

func (l layout) of(i int) int { return l.index[i] }

// at is the instruction l points at.
func (l layout) at(prog []insn, lb label) (insn, bool) {
	pc, ok := l.label[lb]
	if !ok {
		return insn{}, false
	}
	i, ok := l.first[pc]
	if !ok {
		return insn{}, false
	}
	return prog[i], true
}

func encode(prog []insn) ([]unix.SockFilter, error) {
	pos := positions(prog)
	var out []unix.SockFilter
	for i, in := range prog {
		if in.mark != 0 {
			continue
		}
		here := pos.of(i)
		f := unix.SockFilter{Code: in.code, K: in.k}
		offset := func(l label) (int, error) {
			if l == next {
				return 0, nil
			}
			to, ok := pos.label[l]
			if !ok {
				return 0, fmt.Errorf("internal error: label %d never placed", l)
			}
			if to <= here {
				return 0, fmt.Errorf("internal error: backward jump at %d", here)
			}
			return to - here - 1, nil
		}
		switch {
		case in.code == unix.BPF_JMP|unix.BPF_JA:
			off, err := offset(in.to)
			if err != nil {
				return nil, err
			}
			f.K = uint32(off)
		case isCondJump(in.code):
			jt, err := offset(in.jt)
			if err != nil {
				return nil, err
			}
			jf, err := offset(in.jf)
			if err != nil {
				return nil, err
			}
			if jt > 255 || jf > 255 {
				return nil, fmt.Errorf("internal error: jump too far at %d", here)
			}
			f.Jt, f.Jf = uint8(jt), uint8(jf)
		}
		out = append(out, f)
	}
	if len(out) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("filter too long: %d instructions, the kernel takes at most %d", len(out), unix.BPF_MAXINSNS)
	}
	return out, nil
}
