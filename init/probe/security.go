package probe

import (
	"strings"
	"syscall"
)

// statusValue returns a /proc/self/status field with blanks squeezed
// ("Seccomp:\t2" → "2", "NSpid:\t3488\t1" → "3488 1"); "?" when absent.
func (p *prober) statusValue(name string) string {
	name += ":"
	for s := p.status; s != ""; {
		var line string
		line, s = nextLine(s)
		if v, ok := strings.CutPrefix(line, name); ok && trim(v) != "" {
			return squeeze(v)
		}
	}
	return "?"
}

// macSecurity reports seccomp, no_new_privs, the capability bounding set
// and the LSM label; any one of them in force counts as confinement.
func (p *prober) macSecurity() {
	seccomp := p.statusValue("Seccomp")
	nnp := p.statusValue("NoNewPrivs")
	bnd := p.statusValue("CapBnd")
	label := p.lsmLabel()
	confined := seccomp == "1" || seccomp == "2" || nnp == "1" || label != "none" && label[0] != '?'
	switch seccomp {
	case "0":
		seccomp = "none"
	case "1":
		seccomp = "strict"
	case "2":
		seccomp = "filter"
	}
	ev := "seccomp=" + seccomp + " nnp=" + nnp + " capbnd=" + bnd
	if p.capsReduced(bnd) {
		confined = true
		ev += "(reduced)"
	}
	p.addBool(confined, ev+" capeff="+p.statusValue("CapEff")+" label="+label)
}

// capsReduced compares a hex capability mask with the full set: bits
// 0..cap_last_cap. Without cap_last_cap only a hole below the highest set
// bit counts, so an unknown kernel never yields a false "reduced".
func (p *prober) capsReduced(hex string) bool {
	mask, ok := parseUint(hex, 16)
	if !ok {
		return false
	}
	var full uint64
	if s, err := p.line("/proc/sys/kernel/cap_last_cap"); err == nil {
		if last, ok := parseUint(s, 10); ok && last < 63 {
			full = 1<<(last+1) - 1
		}
	}
	for full < mask {
		full = full<<1 | 1
	}
	return mask&full != full
}

// lsmLabel reads the current LSM's label. EINVAL (or no file) means no LSM
// provides one; AppArmor's "unconfined" is not confinement either.
func (p *prober) lsmLabel() string {
	label, err := p.line("/proc/self/attr/current")
	switch {
	case err == syscall.EINVAL || err == syscall.ENOENT:
		return "none"
	case err != nil:
		return "?(" + err.Error() + ")"
	case label == "" || label == "unconfined":
		return "none"
	}
	return clip(label, 80)
}
