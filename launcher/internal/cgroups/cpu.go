package cgroups

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ConvertSharesToWeight maps v1 cpu.shares [2, 262144] to v2 cpu.weight
// [1, 10000] as runc ≥ 1.3 and crun ≥ 1.23 do: with l = log2(shares),
// w = 10^((l²+125l)/612 − 7/34), a curve through 2→1, 1024→100 (both
// defaults) and 262144→10000. The linear map older runtimes used turned
// the default 1024 into 39. 0 means unset and stays 0.
func ConvertSharesToWeight(shares uint64) uint64 {
	switch {
	case shares == 0:
		return 0
	case shares <= 2:
		return 1
	case shares >= 262144:
		return 10000
	}
	l := math.Log2(float64(shares))
	// Exactly runc's arithmetic, so both runtimes give the same weight.
	w := math.Ceil(math.Pow(10, (l*l+125*l)/612.0-7.0/34.0))
	return uint64(min(max(w, 1), 10000))
}

func (d v1Driver) setCPU(s setter, c *specs.LinuxCPU) error {
	if nzu(c.Shares) {
		if err := s.set("--cpu-shares", "cpu.shares", strconv.FormatUint(*c.Shares, 10)); err != nil {
			return err
		}
	}
	// Period first: the kernel checks the quota against it.
	if nzu(c.Period) {
		if err := s.set("--cpus", "cpu.cfs_period_us", strconv.FormatUint(*c.Period, 10)); err != nil {
			return err
		}
	}
	if nz(c.Quota) {
		return s.set("--cpus", "cpu.cfs_quota_us", strconv.FormatInt(*c.Quota, 10))
	}
	return nil
}

func (d v2Driver) setCPU(s setter, c *specs.LinuxCPU) error {
	if nzu(c.Shares) {
		w := ConvertSharesToWeight(*c.Shares)
		if err := s.set("--cpu-shares", "cpu.weight", strconv.FormatUint(w, 10)); err != nil {
			return err
		}
	}
	if !nz(c.Quota) && !nzu(c.Period) {
		return nil
	}
	// cpu.max is "QUOTA [PERIOD]"; a lone quota keeps the current period.
	v := "max"
	if nz(c.Quota) && *c.Quota > 0 {
		v = strconv.FormatInt(*c.Quota, 10)
	}
	if nzu(c.Period) {
		v += " " + strconv.FormatUint(*c.Period, 10)
	}
	return s.set("--cpus", "cpu.max", v)
}

// defaultPeriod is the kernel's CFS period (µs) of a new cgroup.
const defaultPeriod = 100000

func (v1Driver) cpuNow(dir string) (quota int64, period uint64) {
	quota, period = -1, defaultPeriod
	if s, err := readString(filepath.Join(dir, "cpu.cfs_quota_us")); err == nil {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			quota = n
		}
	}
	if s, err := readString(filepath.Join(dir, "cpu.cfs_period_us")); err == nil {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil && n > 0 {
			period = n
		}
	}
	return quota, period
}

// cpuNow reads cpu.max, "QUOTA PERIOD" with "max" for no quota.
func (v2Driver) cpuNow(dir string) (quota int64, period uint64) {
	quota, period = -1, defaultPeriod
	s, _ := readString(filepath.Join(dir, "cpu.max"))
	q, p, _ := strings.Cut(s, " ")
	if n, err := strconv.ParseInt(q, 10, 64); err == nil && n > 0 {
		quota = n
	}
	if n, err := strconv.ParseUint(p, 10, 64); err == nil && n > 0 {
		period = n
	}
	return quota, period
}
