package cli

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Limits of the resource flags, docker's.
const (
	minMemory    = 6 << 20 // docker's minimum --memory and --memory-reservation
	cpuPeriod    = 100000  // µs, the CFS period --cpus uses (docker's)
	minCPUQuota  = 1000    // µs, the kernel's minimum CFS quota
	maxCPUs      = 1024
	minCPUShares = 2
	maxCPUShares = 262144
	minBlkio     = 10
	maxBlkio     = 1000
)

// The value checks below return the reason only; the flag parser prefixes
// the flag and its value. checkResources, run once all flags are parsed,
// checks the flags that depend on each other.

func setMemory(b *builder, v string) error {
	n, err := minSize(v)
	if err != nil {
		return err
	}
	b.run().Resources.Memory = n
	b.memory = v
	return nil
}

func setMemoryReservation(b *builder, v string) error {
	n, err := minSize(v)
	if err != nil {
		return err
	}
	b.run().Resources.MemoryReservation = n
	b.memoryReservation = v
	return nil
}

// minSize parses a SIZE of at least minMemory.
func minSize(v string) (int64, error) {
	n, reason := parseSize(v)
	if reason != "" {
		return 0, errors.New(reason)
	}
	if n < minMemory {
		return 0, errors.New("minimum is 6m")
	}
	return n, nil
}

func setMemorySwap(b *builder, v string) error {
	n := int64(-1)
	if v != "-1" {
		var reason string
		if n, reason = parseSize(v); reason == notASize {
			return errors.New("not a size or -1 (use e.g. 1g, or -1 for unlimited swap)")
		} else if reason != "" {
			return errors.New(reason)
		}
		if n == 0 {
			return errors.New("want a SIZE above 0, or -1 (unlimited swap)")
		}
	}
	b.run().Resources.MemorySwap = n
	b.memorySwap = v
	return nil
}

// checkResources checks the resource flags against each other.
func (b *builder) checkResources() error {
	if b.inv.Run == nil {
		return nil
	}
	res := &b.inv.Run.Resources
	if res.MemorySwap > 0 {
		if res.Memory == 0 {
			return errors.New("--memory-swap needs --memory")
		}
		if res.MemorySwap < res.Memory {
			return fmt.Errorf("--memory-swap %s: must be at least --memory (%s)", q(b.memorySwap), q(b.memory))
		}
	}
	if res.Memory > 0 && res.MemoryReservation > res.Memory {
		return fmt.Errorf("--memory-reservation %s: must be at most --memory (%s)", q(b.memoryReservation), q(b.memory))
	}
	return nil
}

// setCPUs takes a decimal number of CPUs (2, 1.5, .5) and sets a CFS quota
// per 100ms period, rounded to the microsecond.
func setCPUs(b *builder, v string) error {
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" && frac == "" || whole != "" && !allDigits(whole) || frac != "" && !allDigits(frac) {
		return errors.New("want a decimal number of CPUs, like 1.5")
	}
	if strings.Trim(whole+frac, "0") == "" {
		return errors.New("want a number of CPUs above 0")
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > len(strconv.Itoa(maxCPUs)) {
		return errors.New("maximum is 1024")
	}
	w, _ := strconv.ParseInt("0"+whole, 10, 64)
	// Microseconds and a rounding digit: the first 6 decimals.
	f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	quota := w*cpuPeriod + (f+5)/10
	if quota < minCPUQuota {
		return errors.New("minimum is 0.01 (a CPU quota of 1ms per 100ms period)")
	}
	if quota > maxCPUs*cpuPeriod {
		return errors.New("maximum is 1024")
	}
	res := &b.run().Resources
	res.CPUQuota, res.CPUPeriod = quota, cpuPeriod
	return nil
}

func setCPUShares(b *builder, v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || !allDigits(v) || n != 0 && (n < minCPUShares || n > maxCPUShares) {
		return errors.New("want 2 to 262144, or 0 for the default")
	}
	b.run().Resources.CPUShares = n
	return nil
}

func setBlkioWeight(b *builder, v string) error {
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil || !allDigits(v) || n != 0 && (n < minBlkio || n > maxBlkio) {
		return errors.New("want 10 to 1000, or 0 for the default")
	}
	b.run().Resources.BlkioWeight = uint16(n)
	return nil
}

func setPidsLimit(b *builder, v string) error {
	n := int64(-1)
	if v != "-1" {
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil || !allDigits(v) || n == 0 {
			return errors.New("want a number above 0, or -1 for unlimited")
		}
	}
	b.run().Resources.PidsLimit = n
	return nil
}

func setCpusetCpus(b *builder, v string) error {
	if err := checkList(v); err != nil {
		return err
	}
	b.run().Resources.CpusetCpus = v
	return nil
}

func setCpusetMems(b *builder, v string) error {
	if err := checkList(v); err != nil {
		return err
	}
	b.run().Resources.CpusetMems = v
	return nil
}

// checkList checks a cpuset list: N or N-M (N <= M) joined by commas.
func checkList(v string) error {
	for _, part := range strings.Split(v, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		if !allDigits(lo) || !allDigits(hi) {
			return errors.New("want a list of N or N-M joined by commas, like 0-3,8")
		}
		n, err1 := strconv.ParseUint(lo, 10, 64)
		m, err2 := strconv.ParseUint(hi, 10, 64)
		if err1 != nil || err2 != nil {
			return errors.New("number too large")
		}
		if n > m {
			return fmt.Errorf("range %s is backwards (want N-M with N <= M)", part)
		}
	}
	return nil
}

// throttleFlag returns the setter of a --device-{read,write}-{bps,iops}
// flag: DEV:RATE with RATE a SIZE per second (bps), or DEV:N (iops).
func throttleFlag(list func(*Resources) *[]Throttle, iops bool) func(b *builder, v string) error {
	return func(b *builder, v string) error {
		want := "want DEV:RATE, like /dev/sda:1mb"
		if iops {
			want = "want DEV:N, like /dev/sda:1000"
		}
		i := strings.LastIndexByte(v, ':') // DEV may have colons: /dev/disk/by-path/pci-0000:00:1f.2-ata-1
		if i <= 0 {
			return errors.New(want)
		}
		dev, val := v[:i], v[i+1:]
		if !path.IsAbs(dev) {
			return errors.New("want an absolute DEV path")
		}
		var rate uint64
		if iops {
			var err error
			if rate, err = strconv.ParseUint(val, 10, 64); err != nil || !allDigits(val) || rate == 0 {
				return errors.New("want N, a number of operations per second above 0")
			}
		} else {
			n, reason := parseSize(val)
			if reason != "" {
				return errors.New(reason)
			}
			if n == 0 {
				return errors.New("want a RATE above 0")
			}
			rate = uint64(n)
		}
		l := list(&b.run().Resources)
		for j, t := range *l {
			if path.Clean(t.Device) == path.Clean(dev) {
				(*l)[j] = Throttle{Device: dev, Rate: rate}
				return nil
			}
		}
		*l = append(*l, Throttle{Device: dev, Rate: rate})
		return nil
	}
}

func setCgroupParent(b *builder, v string) error {
	if v == "" {
		return errors.New("want a cgroup path")
	}
	for _, c := range strings.Split(v, "/") {
		if c == ".." {
			return errors.New(`want a cgroup path without ".." components`)
		}
	}
	b.run().Resources.CgroupParent = v
	return nil
}
