package cgroups

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// maxListID bounds the CPU and node numbers a list may name: the kernel's
// NR_CPUS tops out at 8192, and it keeps range checks cheap.
const maxListID = 1 << 16

// cpuRange is an inclusive range of a cpuset list ("0-3,7").
type cpuRange struct{ lo, hi int }

// parseList parses the kernel's list format: "N" and "N-M" items joined
// by commas, as docker accepts them.
func parseList(s string) ([]cpuRange, error) {
	var rs []cpuRange
	for _, item := range strings.Split(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := listID(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = listID(hi); err != nil {
				return nil, err
			}
		}
		if b < a {
			return nil, fmt.Errorf("%s: range goes backwards", item)
		}
		rs = append(rs, cpuRange{a, b})
	}
	return rs, nil
}

func listID(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= maxListID {
		return 0, fmt.Errorf("%s is out of range", s)
	}
	return n, nil
}

// validateList checks a --cpuset-cpus/--cpuset-mems value before anything
// is created.
func validateList(flag, v string) error {
	if v == "" {
		return nil
	}
	if _, err := parseList(v); err != nil {
		return fmt.Errorf("%s %s: invalid (%v; want a list like 0-3,7)", flag, v, err)
	}
	return nil
}

// notIn returns the first id of want missing from have, or -1.
func notIn(want, have []cpuRange) int {
	for _, w := range want {
		for id := w.lo; id <= w.hi; id++ {
			ok := false
			for _, h := range have {
				if id >= h.lo && id <= h.hi {
					ok = true
					break
				}
			}
			if !ok {
				return id
			}
		}
	}
	return -1
}

// checkSubset refuses CPUs or nodes the parent cannot give, in words
// better than the kernel's EINVAL (and on fixtures, which have no kernel).
func checkSubset(s setter, flag, file, v, parentFile, what string) error {
	if v == "" {
		return nil
	}
	want, err := parseList(v)
	if err != nil {
		return validateList(flag, v)
	}
	pf := filepath.Join(filepath.Dir(s.dir), parentFile)
	pv, err := readString(pf)
	if err != nil || pv == "" {
		return nil // the kernel will judge
	}
	have, err := parseList(pv)
	if err != nil {
		return nil
	}
	if id := notIn(want, have); id >= 0 {
		return fmt.Errorf("%s %s: invalid (%s: %s %d is not in the parent's %s, %s)",
			flag, v, filepath.Join(s.dir, file), what, id, pv, pf)
	}
	return nil
}

// inheritCpuset fills a new v1 cpuset cgroup's cpus and mems from its
// parent: v1 starts them empty (unless cgroup.clone_children is set), and
// no task can join a cpuset without CPUs or memory nodes.
func (d v1Driver) inheritCpuset(dir string) error {
	parent := filepath.Dir(dir)
	for _, f := range []struct{ own, eff, flag string }{
		{"cpuset.cpus", "cpuset.effective_cpus", "--cpuset-cpus"},
		{"cpuset.mems", "cpuset.effective_mems", "--cpuset-mems"},
	} {
		if cur, err := readString(filepath.Join(dir, f.own)); err == nil && cur != "" {
			continue
		}
		v, err := readString(filepath.Join(parent, f.eff))
		if err != nil || v == "" {
			if v, err = readString(filepath.Join(parent, f.own)); err != nil {
				return fmt.Errorf("cgroups: cpuset: %w", err)
			}
		}
		if v == "" {
			// Copying it would leave dir unjoinable (ENOSPC).
			return fmt.Errorf("cgroups: %s is empty: %s has nothing to inherit", filepath.Join(parent, f.own), dir)
		}
		p := filepath.Join(dir, f.own)
		if err := d.fs.write(p, v); err != nil {
			return fmt.Errorf("cgroups: copying the parent's %s to %s: %w", f.own, p, unwrapErrno(err))
		}
	}
	return nil
}

func (d v1Driver) setCpuset(s setter, c *specs.LinuxCPU) error {
	return writeCpuset(s, c, "cpuset.effective_cpus", "cpuset.effective_mems")
}

func (d v2Driver) setCpuset(s setter, c *specs.LinuxCPU) error {
	return writeCpuset(s, c, "cpuset.cpus.effective", "cpuset.mems.effective")
}

// writeCpuset writes cpuset.cpus and cpuset.mems (same names in v1 and
// v2), checking them against the parent's effective sets first.
func writeCpuset(s setter, c *specs.LinuxCPU, effCpus, effMems string) error {
	if err := checkSubset(s, "--cpuset-cpus", "cpuset.cpus", c.Cpus, effCpus, "CPU"); err != nil {
		return err
	}
	if err := checkSubset(s, "--cpuset-mems", "cpuset.mems", c.Mems, effMems, "memory node"); err != nil {
		return err
	}
	if c.Cpus != "" {
		if err := s.set("--cpuset-cpus", "cpuset.cpus", c.Cpus); err != nil {
			return err
		}
	}
	if c.Mems != "" {
		return s.set("--cpuset-mems", "cpuset.mems", c.Mems)
	}
	return nil
}
