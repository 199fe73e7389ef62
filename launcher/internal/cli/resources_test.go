package cli

import (
	"reflect"
	"testing"
)

// limits returns a run Invocation of ./r with the Resources mod sets.
func limits(mod func(*Resources)) *Invocation {
	return run("./r", func(r *Run) { mod(&r.Resources) })
}

func TestParseResources(t *testing.T) {
	tests := []struct {
		args []string
		want *Invocation
	}{
		// Memory.
		{[]string{"run", "-m", "6m", "./r"}, limits(func(r *Resources) { r.Memory = 6 << 20 })},
		{[]string{"run", "-m512m", "./r"}, limits(func(r *Resources) { r.Memory = 512 << 20 })},
		{[]string{"run", "--memory=1GiB", "./r"}, limits(func(r *Resources) { r.Memory = 1 << 30 })},
		{[]string{"run", "--memory", "6291456", "./r"}, limits(func(r *Resources) { r.Memory = 6291456 })},
		{[]string{"run", "-m", "1g", "-m", "2g", "./r"}, limits(func(r *Resources) { r.Memory = 2 << 30 })},
		{[]string{"-m", "1g", "./r"}, limits(func(r *Resources) { r.Memory = 1 << 30 })},
		{[]string{"-dm", "1g", "./r"}, run("./r", func(r *Run) { r.Detach = true; r.Resources.Memory = 1 << 30 })},
		{[]string{"run", "-m", "1g", "--memory-swap", "2g", "./r"}, limits(func(r *Resources) { r.Memory, r.MemorySwap = 1<<30, 2<<30 })},
		{[]string{"run", "-m", "1g", "--memory-swap", "1024m", "./r"}, limits(func(r *Resources) { r.Memory, r.MemorySwap = 1<<30, 1<<30 })},
		{[]string{"run", "-m", "1g", "--memory-swap=-1", "./r"}, limits(func(r *Resources) { r.Memory, r.MemorySwap = 1<<30, -1 })},
		{[]string{"run", "--memory-swap", "-1", "./r"}, limits(func(r *Resources) { r.MemorySwap = -1 })},
		{[]string{"run", "--memory-swap", "2g", "-m", "1g", "./r"}, limits(func(r *Resources) { r.Memory, r.MemorySwap = 1<<30, 2<<30 })},
		{[]string{"--memory-swap", "2g", "run", "-m", "1g", "./r"}, limits(func(r *Resources) { r.Memory, r.MemorySwap = 1<<30, 2<<30 })},
		{[]string{"run", "--memory-swap", "1g", "-m", "2g", "--memory-swap", "-1", "./r"}, limits(func(r *Resources) { r.Memory, r.MemorySwap = 2<<30, -1 })},
		{[]string{"run", "--memory-reservation", "256m", "./r"}, limits(func(r *Resources) { r.MemoryReservation = 256 << 20 })},
		{[]string{"run", "--memory-reservation", "1g", "-m", "1g", "./r"}, limits(func(r *Resources) { r.Memory, r.MemoryReservation = 1<<30, 1<<30 })},

		// CPU.
		{[]string{"run", "--cpus", "1.5", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 150000, 100000 })},
		{[]string{"run", "--cpus=2", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 200000, 100000 })},
		{[]string{"run", "--cpus", ".5", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 50000, 100000 })},
		{[]string{"run", "--cpus", "1.", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 100000, 100000 })},
		{[]string{"run", "--cpus", "0.01", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 1000, 100000 })},
		{[]string{"run", "--cpus", "0.009995", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 1000, 100000 })},
		{[]string{"run", "--cpus", "0.123454", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 12345, 100000 })},
		{[]string{"run", "--cpus", "0.1234549999", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 12345, 100000 })},
		{[]string{"run", "--cpus", "0.123455", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 12346, 100000 })},
		{[]string{"run", "--cpus", "00003.250", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 325000, 100000 })},
		{[]string{"run", "--cpus", "1024", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 102400000, 100000 })},
		{[]string{"run", "--cpus", "1024.000004", "./r"}, limits(func(r *Resources) { r.CPUQuota, r.CPUPeriod = 102400000, 100000 })},
		{[]string{"run", "--cpu-shares", "512", "./r"}, limits(func(r *Resources) { r.CPUShares = 512 })},
		{[]string{"run", "--cpu-shares=2", "--cpu-shares", "262144", "./r"}, limits(func(r *Resources) { r.CPUShares = 262144 })},
		{[]string{"run", "--cpu-shares", "512", "--cpu-shares", "0", "./r"}, run("./r", nil)},
		{[]string{"run", "--cpuset-cpus", "0-3,8", "--cpuset-mems", "0", "./r"}, limits(func(r *Resources) { r.CpusetCpus, r.CpusetMems = "0-3,8", "0" })},
		{[]string{"run", "--cpuset-cpus", "1,1,3-3,007,0-64", "--cpuset-mems=0,1", "./r"}, limits(func(r *Resources) { r.CpusetCpus, r.CpusetMems = "1,1,3-3,007,0-64", "0,1" })},

		// Processes, block I/O, cgroup.
		{[]string{"run", "--pids-limit", "100", "./r"}, limits(func(r *Resources) { r.PidsLimit = 100 })},
		{[]string{"run", "--pids-limit", "-1", "./r"}, limits(func(r *Resources) { r.PidsLimit = -1 })},
		{[]string{"run", "--pids-limit=1", "./r"}, limits(func(r *Resources) { r.PidsLimit = 1 })},
		{[]string{"run", "--blkio-weight", "10", "./r"}, limits(func(r *Resources) { r.BlkioWeight = 10 })},
		{[]string{"run", "--blkio-weight", "1000", "./r"}, limits(func(r *Resources) { r.BlkioWeight = 1000 })},
		{[]string{"run", "--blkio-weight", "0", "./r"}, run("./r", nil)},
		{[]string{"run", "--device-read-bps", "/dev/sda:1mb", "--device-read-bps", "/dev/sdb:512k", "--device-read-bps", "/dev/sdc:1048576", "./r"}, limits(func(r *Resources) {
			r.ReadBps = []Throttle{{"/dev/sda", 1 << 20}, {"/dev/sdb", 512 << 10}, {"/dev/sdc", 1048576}}
		})},
		{[]string{"run", "--device-write-bps=/dev/sda:10MiB", "./r"}, limits(func(r *Resources) { r.WriteBps = []Throttle{{"/dev/sda", 10 << 20}} })},
		{[]string{"run", "--device-read-iops", "/dev/sda:1000", "--device-write-iops", "/dev/sda:500", "./r"}, limits(func(r *Resources) {
			r.ReadIOPS = []Throttle{{"/dev/sda", 1000}}
			r.WriteIOPS = []Throttle{{"/dev/sda", 500}}
		})},
		{[]string{"run", "--device-read-iops", "/dev/disk/by-path/pci-0000:00:1f.2-ata-1:200", "./r"}, limits(func(r *Resources) {
			r.ReadIOPS = []Throttle{{"/dev/disk/by-path/pci-0000:00:1f.2-ata-1", 200}}
		})},
		{[]string{"run", "--device-read-iops", "/dev/sda:18446744073709551615", "./r"}, limits(func(r *Resources) { r.ReadIOPS = []Throttle{{"/dev/sda", 1<<64 - 1}} })},
		// A later limit for the same device replaces the earlier one.
		{[]string{"run", "--device-write-bps", "/dev/sda:1m", "--device-write-bps", "/dev/sdb:1m", "--device-write-bps", "/dev//sda:2m", "./r"}, limits(func(r *Resources) {
			r.WriteBps = []Throttle{{"/dev//sda", 2 << 20}, {"/dev/sdb", 1 << 20}}
		})},
		{[]string{"run", "--cgroup-parent", "/machine.slice", "./r"}, limits(func(r *Resources) { r.CgroupParent = "/machine.slice" })},
		{[]string{"run", "--cgroup-parent=ci/jobs", "./r"}, limits(func(r *Resources) { r.CgroupParent = "ci/jobs" })},
		{[]string{"run", "--cgroup-parent", "a..b/.x", "./r"}, limits(func(r *Resources) { r.CgroupParent = "a..b/.x" })},

		// Help wins over the checks between flags.
		{[]string{"run", "--memory-swap", "1g", "-h"}, help("run")},
		{[]string{"--memory-swap", "1g", "--help"}, help("run")},
	}
	for _, tt := range tests {
		got, err := Parse(tt.args)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) =\n  %s\nwant\n  %s", tt.args, dump(got), dump(tt.want))
		}
	}
}

func TestParseResourcesErrors(t *testing.T) {
	const (
		notSize  = ": not a size (use e.g. 64m, 1g)"
		shares   = ": want 2 to 262144, or 0 for the default"
		blkio    = ": want 10 to 1000, or 0 for the default"
		pids     = ": want a number above 0, or -1 for unlimited"
		list     = ": want a list of N or N-M joined by commas, like 0-3,8"
		cpus     = ": want a decimal number of CPUs, like 1.5"
		minCPUs  = ": minimum is 0.01 (a CPU quota of 1ms per 100ms period)"
		bpsForm  = ": want DEV:RATE, like /dev/sda:1mb"
		iopsForm = ": want DEV:N, like /dev/sda:1000"
		iopsN    = ": want N, a number of operations per second above 0"
	)
	tests := []struct {
		args []string
		want string
	}{
		// Memory.
		{[]string{"run", "--memory", "1m", "./r"}, "--memory 1m: minimum is 6m"},
		{[]string{"run", "-m", "6291455", "./r"}, "--memory 6291455: minimum is 6m"},
		{[]string{"run", "-m", "0", "./r"}, "--memory 0: minimum is 6m"},
		{[]string{"run", "-m", "-1", "./r"}, "--memory -1" + notSize},
		{[]string{"run", "-m", "1.5g", "./r"}, "--memory 1.5g" + notSize},
		{[]string{"run", "-m", "1pb", "./r"}, "--memory 1pb" + notSize},
		{[]string{"run", "-m", "1ib", "./r"}, "--memory 1ib" + notSize},
		{[]string{"run", "-m", "", "./r"}, `--memory ""` + notSize},
		{[]string{"run", "-m", "9999999999999t", "./r"}, "--memory 9999999999999t: size too large"},
		{[]string{"run", "-m"}, "--memory needs a value (see launcher run --help)"},
		{[]string{"-m", "1g", "ps"}, "flag -m before ps is not a global flag (see launcher --help)"},
		{[]string{"run", "--memory-swap", "0", "./r"}, "--memory-swap 0: want a SIZE above 0, or -1 (unlimited swap)"},
		{[]string{"run", "--memory-swap", "-2", "./r"}, "--memory-swap -2: not a size or -1 (use e.g. 1g, or -1 for unlimited swap)"},
		{[]string{"run", "--memory-swap", "unlimited", "./r"}, "--memory-swap unlimited: not a size or -1 (use e.g. 1g, or -1 for unlimited swap)"},
		{[]string{"run", "--memory-swap", "9999999999999t", "./r"}, "--memory-swap 9999999999999t: size too large"},
		{[]string{"run", "--memory-swap", "10m", "./r"}, "--memory-swap needs --memory"},
		{[]string{"run", "--memory-swap", "10m", "-m", "20m", "./r"}, "--memory-swap 10m: must be at least --memory (20m)"},
		{[]string{"--memory-swap=10m", "--memory=20M", "./r"}, "--memory-swap 10m: must be at least --memory (20M)"},
		{[]string{"run", "-m", "1g", "--memory-swap", "1023m", "./r", "sh"}, "--memory-swap 1023m: must be at least --memory (1g)"},
		{[]string{"run", "--memory-swap", "10m"}, "--memory-swap needs --memory"},
		{[]string{"run", "--memory-reservation", "1m", "./r"}, "--memory-reservation 1m: minimum is 6m"},
		{[]string{"run", "--memory-reservation", "0", "./r"}, "--memory-reservation 0: minimum is 6m"},
		{[]string{"run", "--memory-reservation", "x", "./r"}, "--memory-reservation x" + notSize},
		{[]string{"run", "--memory-reservation", "30m", "-m", "20m", "./r"}, "--memory-reservation 30m: must be at most --memory (20m)"},

		// CPU.
		{[]string{"run", "--cpus", "0", "./r"}, "--cpus 0: want a number of CPUs above 0"},
		{[]string{"run", "--cpus", "0.000", "./r"}, "--cpus 0.000: want a number of CPUs above 0"},
		{[]string{"run", "--cpus", "0.001", "./r"}, "--cpus 0.001" + minCPUs},
		{[]string{"run", "--cpus", "0.009994", "./r"}, "--cpus 0.009994" + minCPUs},
		{[]string{"run", "--cpus", "0.000001", "./r"}, "--cpus 0.000001" + minCPUs},
		{[]string{"run", "--cpus", "1024.000005", "./r"}, "--cpus 1024.000005: maximum is 1024"},
		{[]string{"run", "--cpus", "1025", "./r"}, "--cpus 1025: maximum is 1024"},
		{[]string{"run", "--cpus", "99999999999999999999", "./r"}, "--cpus 99999999999999999999: maximum is 1024"},
		{[]string{"run", "--cpus", "", "./r"}, `--cpus ""` + cpus},
		{[]string{"run", "--cpus", ".", "./r"}, "--cpus ." + cpus},
		{[]string{"run", "--cpus", "-1", "./r"}, "--cpus -1" + cpus},
		{[]string{"run", "--cpus", "+1", "./r"}, "--cpus +1" + cpus},
		{[]string{"run", "--cpus", "1e3", "./r"}, "--cpus 1e3" + cpus},
		{[]string{"run", "--cpus", "1,5", "./r"}, "--cpus 1,5" + cpus},
		{[]string{"run", "--cpus", "1.2.3", "./r"}, "--cpus 1.2.3" + cpus},
		{[]string{"run", "--cpus", "inf", "./r"}, "--cpus inf" + cpus},
		{[]string{"run", "--cpus", "NaN", "./r"}, "--cpus NaN" + cpus},
		{[]string{"run", "--cpus", "1/2", "./r"}, "--cpus 1/2" + cpus},
		{[]string{"run", "--cpus", " 1", "./r"}, `--cpus " 1"` + cpus},
		{[]string{"run", "--cpu-shares", "1", "./r"}, "--cpu-shares 1" + shares},
		{[]string{"run", "--cpu-shares", "262145", "./r"}, "--cpu-shares 262145" + shares},
		{[]string{"run", "--cpu-shares", "-2", "./r"}, "--cpu-shares -2" + shares},
		{[]string{"run", "--cpu-shares", "+2", "./r"}, "--cpu-shares +2" + shares},
		{[]string{"run", "--cpu-shares", "1k", "./r"}, "--cpu-shares 1k" + shares},
		{[]string{"run", "--cpu-shares", "", "./r"}, `--cpu-shares ""` + shares},
		{[]string{"run", "--cpu-shares", "99999999999999999999", "./r"}, "--cpu-shares 99999999999999999999" + shares},
		{[]string{"run", "--cpuset-cpus", "", "./r"}, `--cpuset-cpus ""` + list},
		{[]string{"run", "--cpuset-cpus", "0-3,", "./r"}, "--cpuset-cpus 0-3," + list},
		{[]string{"run", "--cpuset-cpus", ",1", "./r"}, "--cpuset-cpus ,1" + list},
		{[]string{"run", "--cpuset-cpus", "1-", "./r"}, "--cpuset-cpus 1-" + list},
		{[]string{"run", "--cpuset-cpus", "-1", "./r"}, "--cpuset-cpus -1" + list},
		{[]string{"run", "--cpuset-cpus", "1-2-3", "./r"}, "--cpuset-cpus 1-2-3" + list},
		{[]string{"run", "--cpuset-cpus", "0 1", "./r"}, `--cpuset-cpus "0 1"` + list},
		{[]string{"run", "--cpuset-cpus", "a", "./r"}, "--cpuset-cpus a" + list},
		{[]string{"run", "--cpuset-cpus", "0x1", "./r"}, "--cpuset-cpus 0x1" + list},
		{[]string{"run", "--cpuset-cpus", "0,3-1", "./r"}, "--cpuset-cpus 0,3-1: range 3-1 is backwards (want N-M with N <= M)"},
		{[]string{"run", "--cpuset-mems", "0-99999999999999999999", "./r"}, "--cpuset-mems 0-99999999999999999999: number too large"},
		{[]string{"run", "--cpuset-mems", "0;1", "./r"}, "--cpuset-mems 0;1" + list},

		// Processes, block I/O, cgroup.
		{[]string{"run", "--pids-limit", "0", "./r"}, "--pids-limit 0" + pids},
		{[]string{"run", "--pids-limit", "-2", "./r"}, "--pids-limit -2" + pids},
		{[]string{"run", "--pids-limit", "-01", "./r"}, "--pids-limit -01" + pids},
		{[]string{"run", "--pids-limit", "+5", "./r"}, "--pids-limit +5" + pids},
		{[]string{"run", "--pids-limit", "", "./r"}, `--pids-limit ""` + pids},
		{[]string{"run", "--pids-limit", "9223372036854775808", "./r"}, "--pids-limit 9223372036854775808" + pids},
		{[]string{"run", "--blkio-weight", "9", "./r"}, "--blkio-weight 9" + blkio},
		{[]string{"run", "--blkio-weight", "1001", "./r"}, "--blkio-weight 1001" + blkio},
		{[]string{"run", "--blkio-weight", "65546", "./r"}, "--blkio-weight 65546" + blkio},
		{[]string{"run", "--blkio-weight", "x", "./r"}, "--blkio-weight x" + blkio},
		{[]string{"run", "--device-read-bps", "/dev/sda", "./r"}, "--device-read-bps /dev/sda" + bpsForm},
		{[]string{"run", "--device-read-bps", ":1mb", "./r"}, "--device-read-bps :1mb" + bpsForm},
		{[]string{"run", "--device-read-bps", "", "./r"}, `--device-read-bps ""` + bpsForm},
		{[]string{"run", "--device-read-bps", "sda:1mb", "./r"}, "--device-read-bps sda:1mb: want an absolute DEV path"},
		{[]string{"run", "--device-write-bps", "/dev/sda:", "./r"}, "--device-write-bps /dev/sda:" + notSize},
		{[]string{"run", "--device-write-bps", "/dev/sda:fast", "./r"}, "--device-write-bps /dev/sda:fast" + notSize},
		{[]string{"run", "--device-write-bps", "/dev/sda:1.5m", "./r"}, "--device-write-bps /dev/sda:1.5m" + notSize},
		{[]string{"run", "--device-write-bps", "/dev/sda:0", "./r"}, "--device-write-bps /dev/sda:0: want a RATE above 0"},
		{[]string{"run", "--device-read-iops", "/dev/sda", "./r"}, "--device-read-iops /dev/sda" + iopsForm},
		{[]string{"run", "--device-read-iops", "dev/sda:1", "./r"}, "--device-read-iops dev/sda:1: want an absolute DEV path"},
		{[]string{"run", "--device-read-iops", "/dev/sda:0", "./r"}, "--device-read-iops /dev/sda:0" + iopsN},
		{[]string{"run", "--device-read-iops", "/dev/sda:1k", "./r"}, "--device-read-iops /dev/sda:1k" + iopsN},
		{[]string{"run", "--device-write-iops", "/dev/sda:-1", "./r"}, "--device-write-iops /dev/sda:-1" + iopsN},
		{[]string{"run", "--device-write-iops", "/dev/sda:18446744073709551616", "./r"}, "--device-write-iops /dev/sda:18446744073709551616" + iopsN},
		{[]string{"run", "--cgroup-parent", "", "./r"}, `--cgroup-parent "": want a cgroup path`},
		{[]string{"run", "--cgroup-parent", "..", "./r"}, `--cgroup-parent ..: want a cgroup path without ".." components`},
		{[]string{"run", "--cgroup-parent", "/a/../b", "./r"}, `--cgroup-parent /a/../b: want a cgroup path without ".." components`},
		{[]string{"run", "--cgroup-parent", "a/..", "./r"}, `--cgroup-parent a/..: want a cgroup path without ".." components`},

		// A value flag takes the next argument, even ROOTFS.
		{[]string{"run", "--cpus", "./r"}, "--cpus ./r" + cpus},
	}
	for _, tt := range tests {
		got, err := Parse(tt.args)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want error %q", tt.args, dump(got), tt.want)
			continue
		}
		if got != nil {
			t.Errorf("Parse(%q) returned an Invocation with its error", tt.args)
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q) error\n  %s\nwant\n  %s", tt.args, err, tt.want)
		}
	}
}
