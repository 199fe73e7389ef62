package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// driver is what differs between cgroup v1 and v2 for one hierarchy. The
// per-controller methods live in memory.go, cpu.go, cpuset.go, pids.go,
// io.go and devices.go, both versions side by side.
type driver interface {
	// beforeChild runs on each directory right before Create makes a
	// child in it (the parent it nests under, and directories it made on
	// the way): v2 enables the controllers the container needs there.
	beforeChild(h *hierarchy, dir string) error
	// afterMkdir runs on each directory Create made: v1 cpuset fills the
	// empty cpus/mems a new cpuset cgroup starts with.
	afterMkdir(h *hierarchy, dir string) error

	setMemory(s setter, m *specs.LinuxMemory) error
	setCPU(s setter, c *specs.LinuxCPU) error
	setCpuset(s setter, c *specs.LinuxCPU) error
	setPids(s setter, p *specs.LinuxPids) error
	setIO(s setter, b *specs.LinuxBlockIO) error
	setDevices(s setter, l *deviceList) error // devices.go

	// The values now in force, for Update to keep what it is not given:
	// the memory limit and memory+swap total (-1: none), the CFS quota
	// (-1: none) and period.
	memoryNow(dir string) (limit, total int64)
	cpuNow(dir string) (quota int64, period uint64)
}

// limiter is one controller the container's limits may need.
type limiter struct {
	v1, v2 string                                                  // the controller's name in each version
	wanted func(r *specs.LinuxResources) bool                      // whether r sets anything for it
	flag   func(r *specs.LinuxResources) string                    // the docker flag to blame
	set    func(d driver, s setter, r *specs.LinuxResources) error // writes its limits
}

var limiters = []*limiter{
	{
		v1: "memory", v2: "memory",
		wanted: func(r *specs.LinuxResources) bool {
			// A lone --memory-swap -1 is the default: nothing to write.
			m := r.Memory
			return m != nil && (nz(m.Limit) || nz(m.Reservation) || (m.Swap != nil && *m.Swap > 0))
		},
		flag: func(r *specs.LinuxResources) string {
			switch m := r.Memory; {
			case nz(m.Limit):
				return "--memory"
			case nz(m.Swap):
				return "--memory-swap"
			}
			return "--memory-reservation"
		},
		set: func(d driver, s setter, r *specs.LinuxResources) error { return d.setMemory(s, r.Memory) },
	},
	{
		v1: "cpu", v2: "cpu",
		wanted: func(r *specs.LinuxResources) bool {
			c := r.CPU
			return c != nil && (nz(c.Quota) || nzu(c.Period) || nzu(c.Shares))
		},
		flag: func(r *specs.LinuxResources) string {
			if nzu(r.CPU.Shares) && !nz(r.CPU.Quota) {
				return "--cpu-shares"
			}
			return "--cpus"
		},
		set: func(d driver, s setter, r *specs.LinuxResources) error { return d.setCPU(s, r.CPU) },
	},
	{
		v1: "cpuset", v2: "cpuset",
		wanted: func(r *specs.LinuxResources) bool {
			return r.CPU != nil && (r.CPU.Cpus != "" || r.CPU.Mems != "")
		},
		flag: func(r *specs.LinuxResources) string {
			if r.CPU.Cpus != "" {
				return "--cpuset-cpus"
			}
			return "--cpuset-mems"
		},
		set: func(d driver, s setter, r *specs.LinuxResources) error { return d.setCpuset(s, r.CPU) },
	},
	{
		v1: "pids", v2: "pids",
		wanted: func(r *specs.LinuxResources) bool { return r.Pids != nil && nz(r.Pids.Limit) },
		flag:   func(*specs.LinuxResources) string { return "--pids-limit" },
		set:    func(d driver, s setter, r *specs.LinuxResources) error { return d.setPids(s, r.Pids) },
	},
	{
		v1: "blkio", v2: "io",
		wanted: func(r *specs.LinuxResources) bool {
			b := r.BlockIO
			return b != nil && ((b.Weight != nil && *b.Weight != 0) ||
				len(b.ThrottleReadBpsDevice)+len(b.ThrottleWriteBpsDevice)+
					len(b.ThrottleReadIOPSDevice)+len(b.ThrottleWriteIOPSDevice) > 0)
		},
		flag: func(r *specs.LinuxResources) string {
			switch b := r.BlockIO; {
			case b.Weight != nil && *b.Weight != 0:
				return "--blkio-weight"
			case len(b.ThrottleReadBpsDevice) > 0:
				return "--device-read-bps"
			case len(b.ThrottleWriteBpsDevice) > 0:
				return "--device-write-bps"
			case len(b.ThrottleReadIOPSDevice) > 0:
				return "--device-read-iops"
			}
			return "--device-write-iops"
		},
		set: func(d driver, s setter, r *specs.LinuxResources) error { return d.setIO(s, r.BlockIO) },
	},
}

func nz(p *int64) bool   { return p != nil && *p != 0 }
func nzu(p *uint64) bool { return p != nil && *p != 0 }

// hierarchy is the container's cgroup in one mounted hierarchy.
type hierarchy struct {
	mount  string     // mount point
	dir    string     // the container's cgroup directory
	v2     bool       // cgroup2
	ctrls  []string   // v1: the co-mounted controllers
	limits []*limiter // the limiters whose controller lives here
	stats  []string   // v2: other controllers to enable where possible, for Stats
	d      driver
}

func (h *hierarchy) has(ctrl string) bool {
	for _, c := range h.ctrls {
		if c == ctrl {
			return true
		}
	}
	return false
}

// v1Driver writes cgroup v1 files.
type v1Driver struct{ fs fsys }

// v2Driver writes cgroup v2 files.
type v2Driver struct {
	fs fsys
	r  *specs.LinuxResources // for naming the flag when a controller cannot be enabled
}

// beforeChild gives an existing v1 cpuset ancestor with no CPUs or memory
// nodes its parent's (top-down, so the parent has them by now), as runc
// does: a cpuset cgroup made by hand starts empty, and its children could
// only copy that emptiness, so joining them would fail with ENOSPC.
func (d v1Driver) beforeChild(h *hierarchy, dir string) error {
	if h.has("cpuset") && dir != h.mount {
		return d.inheritCpuset(dir)
	}
	return nil
}

func (d v1Driver) afterMkdir(h *hierarchy, dir string) error {
	if h.has("cpuset") {
		return d.inheritCpuset(dir)
	}
	return nil
}

func (v2Driver) afterMkdir(*hierarchy, string) error { return nil }

// beforeChild enables, in dir's cgroup.subtree_control, every controller
// the container's limits need, so that dir's children get their files;
// then, where it can, the ones Stats reads (h.stats). Called top-down on
// every directory from the mount point to the container's parent.
func (d v2Driver) beforeChild(h *hierarchy, dir string) error {
	if len(h.limits) == 0 && len(h.stats) == 0 {
		return nil
	}
	if dir == h.mount {
		// The first call, at the top: refuse a busy ancestor before any
		// cgroup.subtree_control on the way down gets written.
		if err := d.checkBusy(h); err != nil {
			return err
		}
		h.stats = slices.DeleteFunc(h.stats, func(c string) bool { return busyFor(h, c) != "" })
	}
	avail, err := readString(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		if len(h.limits) == 0 {
			return nil
		}
		return fmt.Errorf("cgroups: %w", err)
	}
	enabled, err := readString(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		if len(h.limits) == 0 {
			return nil
		}
		return fmt.Errorf("cgroups: %w", err)
	}
	for _, lm := range h.limits {
		if hasWord(enabled, lm.v2) {
			continue
		}
		flag := lm.flag(d.r)
		if !hasWord(avail, lm.v2) {
			where := "enable it in the parent's cgroup.subtree_control"
			if dir == h.mount {
				where = "the kernel or the host does not offer it"
			}
			return fmt.Errorf("%s: the %s controller is not available in %s (not in cgroup.controllers: %s)",
				flag, lm.v2, dir, where)
		}
		// No internal processes: a non-root cgroup holding processes cannot
		// hand controllers to children. Say so rather than EBUSY.
		if dir != h.mount {
			if procs, _ := readString(filepath.Join(dir, "cgroup.procs")); procs != "" {
				return internalProcsError(flag, lm.v2, dir)
			}
		}
		p := filepath.Join(dir, "cgroup.subtree_control")
		if err := d.fs.write(p, "+"+lm.v2); err != nil {
			if errors.Is(err, unix.EBUSY) {
				return internalProcsError(flag, lm.v2, dir)
			}
			return fmt.Errorf("%s: enabling the %s controller: %s: %w", flag, lm.v2, p, unwrapErrno(err))
		}
	}
	// Best effort, never an error: without them Stats shows zeros.
	for _, c := range h.stats {
		if !hasWord(enabled, c) && hasWord(avail, c) {
			d.fs.write(filepath.Join(dir, "cgroup.subtree_control"), "+"+c)
		}
	}
	return nil
}

// checkBusy finds, from the top down, an existing ancestor of h.dir that
// holds processes and has not enabled a controller the limits need: the
// kernel would refuse to enable it there.
func (d v2Driver) checkBusy(h *hierarchy) error {
	for _, lm := range h.limits {
		if busy := busyFor(h, lm.v2); busy != "" {
			return internalProcsError(lm.flag(d.r), lm.v2, busy)
		}
	}
	return nil
}

// busyFor returns the topmost existing ancestor of h.dir below the mount
// point that holds processes and has not enabled controller c, or "".
func busyFor(h *hierarchy, c string) string {
	var dirs []string
	for p := filepath.Dir(h.dir); strings.HasPrefix(p, h.mount+"/"); p = filepath.Dir(p) {
		dirs = append(dirs, p)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		procs, err := readString(filepath.Join(dirs[i], "cgroup.procs"))
		if err != nil || procs == "" {
			continue // not made yet, or empty
		}
		if enabled, _ := readString(filepath.Join(dirs[i], "cgroup.subtree_control")); !hasWord(enabled, c) {
			return dirs[i]
		}
	}
	return ""
}

func internalProcsError(flag, ctrl, dir string) error {
	return fmt.Errorf("%s: cannot enable the %s controller in %s: it holds processes, and cgroup v2 gives controllers only to cgroups without (no internal processes rule); pass --cgroup-parent with a cgroup that holds none",
		flag, ctrl, dir)
}

func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if f == w {
			return true
		}
	}
	return false
}
