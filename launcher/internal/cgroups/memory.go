package cgroups

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// validateMemory checks docker's rules: Swap is memory+swap in total, -1
// for unlimited, and needs a memory limit below it.
func validateMemory(m *specs.LinuxMemory) error {
	if m == nil {
		return nil
	}
	limit := m.Limit != nil && *m.Limit > 0
	if m.Limit != nil && *m.Limit < -1 {
		return fmt.Errorf("--memory %d: invalid", *m.Limit)
	}
	if m.Reservation != nil && *m.Reservation < -1 {
		return fmt.Errorf("--memory-reservation %d: invalid", *m.Reservation)
	}
	if m.Swap == nil || *m.Swap == 0 || *m.Swap == -1 {
		return nil
	}
	switch {
	case *m.Swap < -1:
		return fmt.Errorf("--memory-swap %d: invalid", *m.Swap)
	case !limit:
		return errors.New("--memory-swap needs --memory")
	case *m.Swap < *m.Limit:
		return errors.New("--memory-swap must be at least --memory")
	}
	return nil
}

// swapOff words a missing swap file: the kernel has no swap accounting
// (v1 without swapaccount=1, or a kernel without CONFIG_MEMCG_SWAP).
func swapOff(p string) error {
	return fmt.Errorf("--memory-swap: %s does not exist (swap accounting is off)", p)
}

// bytesOrMax formats a byte count, with v2's "max" for -1.
func bytesOrMax(v int64) string {
	if v < 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

func (d v1Driver) setMemory(s setter, m *specs.LinuxMemory) error {
	limit, swap := int64(0), int64(0)
	if m.Limit != nil {
		limit = *m.Limit
	}
	if m.Swap != nil && limit != 0 {
		swap = *m.Swap // without a limit only -1 gets here: the default
	}
	memsw := filepath.Join(s.dir, "memory.memsw.limit_in_bytes")
	if swap != 0 && !exists(memsw) {
		if swap > 0 {
			return swapOff(memsw)
		}
		swap = 0 // -1 without swap accounting: swap is unlimited anyway
	}
	writeLimit := func() error {
		if limit == 0 {
			return nil
		}
		return s.set("--memory", "memory.limit_in_bytes", strconv.FormatInt(limit, 10))
	}
	writeSwap := func() error {
		if swap == 0 {
			return nil
		}
		return s.set("--memory-swap", "memory.memsw.limit_in_bytes", strconv.FormatInt(swap, 10))
	}
	// The kernel keeps memsw >= limit at every step. Writing the limit
	// first works while it stays below the current memsw; otherwise the
	// new memsw (>= the new limit > current memsw >= current limit) goes
	// first.
	first, second := writeLimit, writeSwap
	if swap != 0 && limit != 0 {
		eff := limit
		if eff < 0 {
			eff = math.MaxInt64
		}
		if cur := limitIn(memsw); cur >= 0 && eff > cur {
			first, second = writeSwap, writeLimit
		}
	}
	if err := first(); err != nil {
		return err
	}
	if err := second(); err != nil {
		return err
	}
	if nz(m.Reservation) {
		return s.set("--memory-reservation", "memory.soft_limit_in_bytes", strconv.FormatInt(*m.Reservation, 10))
	}
	return nil
}

func (d v2Driver) setMemory(s setter, m *specs.LinuxMemory) error {
	if nz(m.Limit) {
		if err := s.set("--memory", "memory.max", bytesOrMax(*m.Limit)); err != nil {
			return err
		}
		// v2 limits swap alone: memory.swap.max = total - memory. A total
		// above 0 comes with a memory limit above 0 (validateMemory); -1
		// lifts swap's limit whatever the memory's (Update: runc lifts
		// both when the memory limit goes and swap is not given).
		if nz(m.Swap) {
			p := filepath.Join(s.dir, "memory.swap.max")
			switch {
			case *m.Swap > 0 && !exists(p):
				return swapOff(p)
			case *m.Swap > 0:
				if err := s.set("--memory-swap", "memory.swap.max", strconv.FormatInt(*m.Swap-*m.Limit, 10)); err != nil {
					return err
				}
			case exists(p): // -1
				if err := s.set("--memory-swap", "memory.swap.max", "max"); err != nil {
					return err
				}
			}
		}
	}
	if nz(m.Reservation) {
		return s.set("--memory-reservation", "memory.low", bytesOrMax(*m.Reservation))
	}
	return nil
}

// limitIn reads a limit file: a byte count, or -1 for no limit (v2's
// "max", v1's huge page-aligned number, or no such file).
func limitIn(file string) int64 {
	s, err := readString(file)
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n >= v1Unlimited {
		return -1
	}
	return n
}

func (v1Driver) memoryNow(dir string) (limit, total int64) {
	return limitIn(filepath.Join(dir, "memory.limit_in_bytes")), limitIn(filepath.Join(dir, "memory.memsw.limit_in_bytes"))
}

func (v2Driver) memoryNow(dir string) (limit, total int64) {
	limit, swap := limitIn(filepath.Join(dir, "memory.max")), limitIn(filepath.Join(dir, "memory.swap.max"))
	if limit < 0 || swap < 0 {
		return limit, -1
	}
	return limit, limit + swap
}
