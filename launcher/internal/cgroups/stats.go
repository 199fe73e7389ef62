package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Stats is a container's resource use, as `launcher stats` shows it.
type Stats struct {
	MemoryUsage  uint64 // bytes, page cache included (v1 memory.usage_in_bytes, v2 memory.current)
	MemoryLimit  uint64 // bytes; 0 = no limit
	CPUNanos     uint64 // CPU time used, all CPUs
	Pids         uint64 // processes and threads
	PidsLimit    uint64 // 0 = no limit
	IOReadBytes  uint64 // bytes read from block devices
	IOWriteBytes uint64 // bytes written to block devices
}

// Stats reads the container's resource use. See StatsFromPaths.
func (c *Cgroup) Stats() (Stats, error) {
	return StatsFromPaths(c.Paths())
}

// v1Unlimited: v1 shows "no limit" as the largest page-aligned int64
// (9223372036854771712); anything this large is no limit.
const v1Unlimited = 1 << 62

// StatsFromPaths reads resource use from the cgroup directories paths (as
// Paths returns them), for `launcher stats ID` run from another process.
// v1 reads memory.usage_in_bytes and limit_in_bytes, cpuacct.usage,
// pids.current and max, blkio.throttle.io_service_bytes(_recursive); v2
// reads memory.current and max, cpu.stat usage_usec, pids.current and max,
// io.stat rbytes and wbytes. Each file is looked for in every path, so
// hybrid hosts work: a file a controller does not have is just absent.
func StatsFromPaths(paths []string) (Stats, error) {
	var st Stats
	found := false
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			found = true
		}
	}
	if !found {
		return st, fmt.Errorf("cgroups: none of the container's cgroups exists (%s)", strings.Join(paths, ", "))
	}
	r := statReader{paths: paths}
	if v, ok := r.uint("memory.current"); ok {
		st.MemoryUsage = v
		st.MemoryLimit, _ = r.uint("memory.max")
	} else if v, ok := r.uint("memory.usage_in_bytes"); ok {
		st.MemoryUsage = v
		if l, _ := r.uint("memory.limit_in_bytes"); l < v1Unlimited {
			st.MemoryLimit = l
		}
	}
	// cpuacct counts nanoseconds; v2's cpu.stat (present in every v2
	// cgroup, also the unified one of a hybrid host) microseconds.
	if v, ok := r.uint("cpuacct.usage"); ok {
		st.CPUNanos = v
	} else if kv, ok := r.keyed("cpu.stat"); ok {
		st.CPUNanos = kv["usage_usec"] * 1000
	}
	st.Pids, _ = r.uint("pids.current")
	st.PidsLimit, _ = r.uint("pids.max")
	if f, ok := r.find("io.stat"); ok {
		st.IOReadBytes, st.IOWriteBytes = r.ioStat(f)
	} else {
		for _, name := range []string{"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes"} {
			if f, ok := r.find(name); ok {
				st.IOReadBytes, st.IOWriteBytes = r.blkioStat(f)
				break
			}
		}
	}
	return st, r.err
}

// statReader finds files among paths and keeps the first read error.
type statReader struct {
	paths []string
	err   error
}

func (r *statReader) find(name string) (string, bool) {
	for _, p := range r.paths {
		if f := filepath.Join(p, name); exists(f) {
			return f, true
		}
	}
	return "", false
}

func (r *statReader) read(f string) string {
	s, err := readString(f)
	if err != nil && r.err == nil && !errors.Is(err, os.ErrNotExist) {
		r.err = fmt.Errorf("cgroups: %w", err)
	}
	return s
}

// uint reads a one-number file; "max" is 0 (no limit).
func (r *statReader) uint(name string) (uint64, bool) {
	f, ok := r.find(name)
	if !ok {
		return 0, false
	}
	v, _ := strconv.ParseUint(r.read(f), 10, 64)
	return v, true
}

// keyed reads a "KEY VALUE" per line file such as cpu.stat.
func (r *statReader) keyed(name string) (map[string]uint64, bool) {
	f, ok := r.find(name)
	if !ok {
		return nil, false
	}
	kv := map[string]uint64{}
	sc := bufio.NewScanner(strings.NewReader(r.read(f)))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		kv[k], _ = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	}
	return kv, true
}

// ioStat sums io.stat's "MAJ:MIN rbytes=N wbytes=N …" lines.
func (r *statReader) ioStat(f string) (rd, wr uint64) {
	for _, line := range strings.Split(r.read(f), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		for _, kv := range fields[1:] {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseUint(v, 10, 64)
			switch k {
			case "rbytes":
				rd += n
			case "wbytes":
				wr += n
			}
		}
	}
	return rd, wr
}

// blkioStat sums v1's "MAJ:MIN Read N" and "MAJ:MIN Write N" lines.
func (r *statReader) blkioStat(f string) (rd, wr uint64) {
	for _, line := range strings.Split(r.read(f), "\n") {
		fs := strings.Fields(line)
		if len(fs) != 3 {
			continue
		}
		n, _ := strconv.ParseUint(fs[2], 10, 64)
		switch fs[1] {
		case "Read":
			rd += n
		case "Write":
			wr += n
		}
	}
	return rd, wr
}
