package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// BlockDevice returns the major and minor numbers of the block device at
// path (symlinks followed), for --device-read-bps and friends. Anything
// else is refused with "not a block device".
func BlockDevice(path string) (major, minor int64, err error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return 0, 0, fmt.Errorf("%s: not a block device", path)
	}
	return int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev)), nil
}

// throttle is one kind of IO throttle, named for v1 and v2.
type throttle struct {
	flag, v1File, v2Key string
	devs                []specs.LinuxThrottleDevice
}

func throttles(b *specs.LinuxBlockIO) []throttle {
	return []throttle{
		{"--device-read-bps", "blkio.throttle.read_bps_device", "rbps", b.ThrottleReadBpsDevice},
		{"--device-write-bps", "blkio.throttle.write_bps_device", "wbps", b.ThrottleWriteBpsDevice},
		{"--device-read-iops", "blkio.throttle.read_iops_device", "riops", b.ThrottleReadIOPSDevice},
		{"--device-write-iops", "blkio.throttle.write_iops_device", "wiops", b.ThrottleWriteIOPSDevice},
	}
}

func devName(d specs.LinuxThrottleDevice) string {
	return strconv.FormatInt(d.Major, 10) + ":" + strconv.FormatInt(d.Minor, 10)
}

func (d v1Driver) setIO(s setter, b *specs.LinuxBlockIO) error {
	if b.Weight != nil && *b.Weight != 0 {
		// blkio.weight belongs to CFQ, gone since 5.0; BFQ offers its own.
		f := "blkio.weight"
		if !exists(filepath.Join(s.dir, f)) {
			f = "blkio.bfq.weight"
		}
		if !exists(filepath.Join(s.dir, f)) {
			return fmt.Errorf("--blkio-weight: %s does not exist, nor blkio.bfq.weight (no IO scheduler with weights: CFQ is gone, BFQ is not in use)",
				filepath.Join(s.dir, "blkio.weight"))
		}
		if err := s.set("--blkio-weight", f, strconv.Itoa(int(*b.Weight))); err != nil {
			return err
		}
	}
	for _, t := range throttles(b) {
		// One write per device: each adds or replaces one rule.
		for _, dev := range t.devs {
			if err := s.set(t.flag, t.v1File, devName(dev)+" "+strconv.FormatUint(dev.Rate, 10)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ioWeight maps blkio weight [10, 1000] onto io.weight [1, 10000] as runc
// does (10→1, 500→4950, 1000→10000).
func ioWeight(w uint16) uint64 {
	if w < 10 {
		w = 10
	}
	return min(1+(uint64(w)-10)*9999/990, 10000)
}

func (d v2Driver) setIO(s setter, b *specs.LinuxBlockIO) error {
	if b.Weight != nil && *b.Weight != 0 {
		// BFQ's weight has v1's range [1, 1000]; io.weight needs scaling.
		if exists(filepath.Join(s.dir, "io.bfq.weight")) {
			if err := s.set("--blkio-weight", "io.bfq.weight", strconv.Itoa(int(*b.Weight))); err != nil {
				return err
			}
		} else if err := s.set("--blkio-weight", "io.weight", "default "+strconv.FormatUint(ioWeight(*b.Weight), 10)); err != nil {
			return err
		}
	}
	// io.max takes one line per device with any of its four keys.
	var order []string
	lines := map[string][]string{}
	flags := map[string][]string{}
	for _, t := range throttles(b) {
		for _, dev := range t.devs {
			n := devName(dev)
			if _, ok := lines[n]; !ok {
				order = append(order, n)
			}
			// 0 lifts the limit, as a v1 rule of 0 does.
			v := "max"
			if dev.Rate != 0 {
				v = strconv.FormatUint(dev.Rate, 10)
			}
			lines[n] = append(lines[n], t.v2Key+"="+v)
			flags[n] = append(flags[n], t.flag)
		}
	}
	for _, n := range order {
		// The value written starts with the device: flagError shows it.
		flag := strings.Join(dedup(flags[n]), "/")
		if err := s.set(flag, "io.max", n+" "+strings.Join(lines[n], " ")); err != nil {
			return err
		}
	}
	return nil
}

func dedup(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
