// Package cgroups puts a container in its own cgroup in every mounted
// hierarchy and applies docker's resource flags there, on cgroup v1, v2
// and hybrid hosts (v1 for the controllers plus an empty cgroup2 tree).
//
// The limits come as runtime-spec LinuxResources with docker's meanings
// (Memory.Swap is memory+swap, -1 is unlimited, 0 is unset); errors name
// the docker flag and the cgroup file. A driver per version (v1Driver,
// v2Driver) does the writing, one file per controller: memory.go, cpu.go,
// cpuset.go, pids.go, io.go, devices.go.
//
// Device access (LinuxResources.Devices, devices.go) goes to the v1
// devices controller where it is mounted (v1 and hybrid hosts:
// devices.deny and devices.allow), else to a BPF device program on the
// container's cgroup2 directory (v2 hosts: devices_bpf.go); both at
// Create, before any process joins.
package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Cgroup is one container's cgroup in every hierarchy.
type Cgroup struct {
	fs      fsys
	mode    string
	hs      []*hierarchy
	parents *Parents // the record of parent cgroups made, for Destroy
}

// Create makes the container's cgroup named name (e.g.
// "stdcontainer-<12 hex>") under parent in every hierarchy, then writes
// every limit in r (nil: none), device rules included.
//
// parent "" nests under the caller's own cgroup of each hierarchy; a path
// starting with "/" is taken from the hierarchy's root (docker's
// --cgroup-parent); any other path is relative to the caller's own cgroup.
// Missing parent directories are made and listed in parents (see
// Parents), so that the last container below one removes it; parents
// that existed are used as they are and never removed. A parent another
// launcher removes while Create looks is made again.
//
// On v2, the controllers the limits need are enabled in
// cgroup.subtree_control of every ancestor, from the root down (as runc
// and crun do), plus memory, pids and io where possible so that Stats
// has numbers; a non-root ancestor holding processes cannot enable any,
// and Create says so before writing anything. On v1, an existing cpuset
// ancestor with no CPUs or memory nodes gets its parent's. On any
// failure Create removes every directory it made, and the listed
// parents it leaves empty.
func Create(l *Layout, parents *Parents, parent, name string, r *specs.LinuxResources) (*Cgroup, error) {
	if r == nil {
		r = &specs.LinuxResources{}
	}
	if err := validateName(name); err != nil {
		return nil, err
	}
	if err := validate(r); err != nil {
		return nil, err
	}
	devices, err := parseDevices(r.Devices)
	if err != nil {
		return nil, err
	}
	fs := l.fsys()
	c := &Cgroup{fs: fs, mode: l.Mode, parents: parents}
	byMount := map[string]*hierarchy{}
	for _, m := range l.mounts() {
		base, err := l.base(m, parent)
		if err != nil {
			return nil, err
		}
		h := l.hierarchy(fs, m, filepath.Join(m, base, name), r)
		c.hs = append(c.hs, h)
		byMount[m] = h
	}
	if err := l.placeLimits(byMount, r); err != nil {
		return nil, err
	}
	// Devices: v1 if mounted there, else a BPF program on cgroup2, which
	// needs no controller.
	var devicesIn *hierarchy
	if devices != nil {
		switch {
		case l.V1["devices"] != "":
			devicesIn = byMount[l.V1["devices"]]
		case l.V2 != "":
			devicesIn = byMount[l.V2]
		default:
			return nil, errors.New("cgroups: devices: the devices controller is not mounted (no v1 devices hierarchy, no cgroup2 for a BPF program)")
		}
	}
	// v2 shows memory, pids and IO use only where their controller is
	// enabled: hand them down too when the limits do not (best effort).
	if h := byMount[l.V2]; h != nil {
		for _, c := range []string{"memory", "pids", "io"} {
			if l.hasV2(c) && !slices.ContainsFunc(h.limits, func(lm *limiter) bool { return lm.v2 == c }) {
				h.stats = append(h.stats, c)
			}
		}
	}

	var made []string
	tx := &parentsTx{p: parents}
	fail := func(err error) (*Cgroup, error) {
		if rerr := c.undo(tx, made); rerr != nil {
			err = fmt.Errorf("%w (and cleaning up: %v)", err, rerr)
		}
		return nil, err
	}
	for _, h := range c.hs {
		mk, err := mkdirsRetrying(fs, h, tx)
		made = append(made, mk...)
		if err != nil {
			return fail(err)
		}
	}
	// Every container cgroup exists, so every parent made holds one: the
	// lock can go, and with it the guard against other launchers removing
	// a parent before its first container is in it.
	if err := tx.commit(); err != nil {
		return fail(err)
	}
	if err := writeLimits(fs, c.hs, r); err != nil {
		return fail(err)
	}
	if devicesIn != nil {
		if err := devicesIn.d.setDevices(setter{fs: fs, dir: devicesIn.dir}, devices); err != nil {
			return fail(err)
		}
	}
	return c, nil
}

// hierarchy is the container's cgroup dir in the hierarchy mounted at m,
// with the driver of its cgroup version.
func (l *Layout) hierarchy(fs fsys, m, dir string, r *specs.LinuxResources) *hierarchy {
	h := &hierarchy{mount: m, dir: dir}
	if m == l.V2 {
		h.v2, h.ctrls, h.d = true, l.V2Controllers, v2Driver{fs: fs, r: r}
	} else {
		h.ctrls, h.d = l.v1Of(m), v1Driver{fs: fs}
	}
	return h
}

// home returns the mount point of the hierarchy a controller (named v1
// there, v2 in cgroup2) is bound to: v1 if mounted there, else cgroup2 if
// it offers it, else "".
func (l *Layout) home(v1, v2 string) string {
	switch {
	case l.V1[v1] != "":
		return l.V1[v1]
	case l.V2 != "" && l.hasV2(v2):
		return l.V2
	}
	return ""
}

// placeLimits gives each hierarchy in byMount (by mount point) the
// limiters r needs whose controller it holds (see home).
func (l *Layout) placeLimits(byMount map[string]*hierarchy, r *specs.LinuxResources) error {
	for _, lm := range limiters {
		if !lm.wanted(r) {
			continue
		}
		m := l.home(lm.v1, lm.v2)
		switch {
		case m == "" && l.V2 != "":
			return fmt.Errorf("%s: the %s controller is not available (not a cgroup v1 mount, not in %s)",
				lm.flag(r), lm.v2, filepath.Join(l.V2, "cgroup.controllers"))
		case m == "":
			return fmt.Errorf("%s: the %s controller is not mounted", lm.flag(r), lm.v1)
		}
		h := byMount[m]
		if h == nil {
			// Update only: the state names no cgroup of the container there.
			return fmt.Errorf("%s: the container has no cgroup in %s, where the %s controller is", lm.flag(r), m, lm.v2)
		}
		h.limits = append(h.limits, lm)
	}
	return nil
}

// writeLimits writes every limit of r that placeLimits gave hs.
func writeLimits(fs fsys, hs []*hierarchy, r *specs.LinuxResources) error {
	for _, h := range hs {
		for _, lm := range h.limits {
			if err := lm.set(h.d, setter{fs: fs, dir: h.dir}, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// base returns the cgroup path (from the hierarchy's root) that the
// container nests under in the hierarchy mounted at m.
func (l *Layout) base(m, parent string) (string, error) {
	if strings.HasPrefix(parent, "/") {
		return filepath.Clean(parent), nil
	}
	own, ok := l.Own[m]
	if !ok {
		return "", fmt.Errorf("cgroups: /proc/self/cgroup does not say which cgroup of %s this process is in", m)
	}
	// Join cleans: "../x" cannot climb above the hierarchy's root.
	return filepath.Join("/", own, parent), nil
}

func validateName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\n\x00") {
		return fmt.Errorf("cgroups: invalid cgroup name %q", name)
	}
	return nil
}

// validate refuses, before anything is created, what no kernel would take
// and the fields this package cannot apply: silently skipping a limit
// would run the container unconfined.
func validate(r *specs.LinuxResources) error {
	if err := validateMemory(r.Memory); err != nil {
		return err
	}
	if c := r.CPU; c != nil {
		if c.Quota != nil && *c.Quota < -1 {
			return fmt.Errorf("--cpus: invalid quota %d", *c.Quota)
		}
		if err := validateList("--cpuset-cpus", c.Cpus); err != nil {
			return err
		}
		if err := validateList("--cpuset-mems", c.Mems); err != nil {
			return err
		}
	}
	if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit < -1 {
		return fmt.Errorf("--pids-limit %d: invalid", *r.Pids.Limit)
	}
	if b := r.BlockIO; b != nil && b.Weight != nil && *b.Weight != 0 && (*b.Weight < 10 || *b.Weight > 1000) {
		return fmt.Errorf("--blkio-weight %d: invalid (range is 10 to 1000)", *b.Weight)
	}
	var unsupported []string
	if m := r.Memory; m != nil {
		if m.Kernel != nil {
			unsupported = append(unsupported, "memory.kernel")
		}
		if m.KernelTCP != nil {
			unsupported = append(unsupported, "memory.kernelTCP")
		}
		if m.Swappiness != nil {
			unsupported = append(unsupported, "memory.swappiness")
		}
		if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
			unsupported = append(unsupported, "memory.disableOOMKiller")
		}
	}
	if c := r.CPU; c != nil {
		if c.Burst != nil {
			unsupported = append(unsupported, "cpu.burst")
		}
		if c.RealtimeRuntime != nil || c.RealtimePeriod != nil {
			unsupported = append(unsupported, "cpu.realtime*")
		}
		if c.Idle != nil {
			unsupported = append(unsupported, "cpu.idle")
		}
	}
	if b := r.BlockIO; b != nil && (b.LeafWeight != nil || len(b.WeightDevice) > 0) {
		unsupported = append(unsupported, "blockIO.leafWeight/weightDevice")
	}
	if len(r.HugepageLimits) > 0 {
		unsupported = append(unsupported, "hugepageLimits")
	}
	if r.Network != nil {
		unsupported = append(unsupported, "network")
	}
	if len(r.Rdma) > 0 {
		unsupported = append(unsupported, "rdma")
	}
	if len(r.Unified) > 0 {
		unsupported = append(unsupported, "unified")
	}
	if len(unsupported) > 0 {
		return fmt.Errorf("cgroups: resources not supported: %s", strings.Join(unsupported, ", "))
	}
	return nil
}

// mkdirTries bounds how often Create starts a hierarchy's directories
// again when a parent it found went away before it made the container's
// cgroup in it (another container's launcher removed it, empty). Three
// are enough against other launchers: the first try fails without the
// lock, the second may lose the parent just before taking it, the third
// runs under it; more cope with someone removing parents by hand.
const mkdirTries = 5

// mkdirsRetrying is mkdirs, tried again (mkdirTries in all) while it
// fails on a directory that vanished on the way (ENOENT; ENODEV when it
// was being removed).
func mkdirsRetrying(fs fsys, h *hierarchy, tx *parentsTx) (made []string, err error) {
	for try := 1; ; try++ {
		mk, err := mkdirs(fs, h, tx)
		made = append(made, mk...)
		if err == nil || try == mkdirTries || !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENODEV) {
			return made, err
		}
	}
}

// mkdirs makes h.dir and any missing ancestors below the mount point,
// returning what it made (even on failure). Every directory on the way
// down, from the mount point to h.dir's parent, existing or made, goes
// through beforeChild first: an existing parent (an earlier container's
// --cgroup-parent, or one made by hand) may lack what the container needs
// (v2 controllers, v1 cpuset CPUs and nodes) just as a new one does.
// Before it makes a parent, mkdirs takes tx's lock (held until Create
// commits) and lists the parent there.
func mkdirs(fs fsys, h *hierarchy, tx *parentsTx) (made []string, err error) {
	rel, err := filepath.Rel(h.mount, h.dir)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("cgroups: %s is not below %s", h.dir, h.mount)
	}
	cur := h.mount
	for _, comp := range strings.Split(rel, "/") {
		next := filepath.Join(cur, comp)
		leaf := next == h.dir
		if err := h.d.beforeChild(h, cur); err != nil {
			return made, err
		}
		if !leaf && exists(next) {
			cur = next
			continue
		}
		if !leaf {
			if err := tx.lock(); err != nil {
				return made, err
			}
		}
		if err := fs.mkdir(next); err != nil {
			switch {
			case errors.Is(err, unix.EEXIST) && !leaf:
				// Made concurrently by someone else (listed by them if
				// another launcher): use it.
			case errors.Is(err, unix.EEXIST):
				return made, fmt.Errorf("cgroups: %s already exists", next)
			default:
				return made, fmt.Errorf("cgroups: mkdir %s: %w", next, unwrapErrno(err))
			}
		} else {
			made = append(made, next)
			if !leaf {
				if err := tx.add(next); err != nil {
					return made, err
				}
			}
			if err := h.d.afterMkdir(h, next); err != nil {
				return made, err
			}
		}
		cur = next
	}
	return made, nil
}

// undo removes, after Create failed, the container cgroups it made and
// the listed parents that are now empty (those it made, and any an
// earlier container left). Once tx is committed and its lock gone, a
// parent made may already hold another container's cgroup: prune leaves
// it to that one. Without a record (or when writing it failed) every
// directory made goes, as it always did.
func (c *Cgroup) undo(tx *parentsTx, made []string) error {
	if c.parents == nil || tx.commit() != nil {
		return removeMade(c.fs, made)
	}
	paths := c.Paths()
	own := slices.DeleteFunc(slices.Clone(made), func(d string) bool { return !slices.Contains(paths, d) })
	return joinErrors([]error{removeMade(c.fs, own), c.parents.prune(c.fs, paths)})
}

// removeMade undoes Create's mkdirs, deepest first. Nothing ran in them.
func removeMade(fs fsys, made []string) error {
	var errs []error
	for i := len(made) - 1; i >= 0; i-- {
		if err := fs.rmdir(made[i]); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("rmdir %s: %w", made[i], unwrapErrno(err)))
		}
	}
	return joinErrors(errs)
}

// Join moves process pid into the container's cgroup of every hierarchy:
// the v1 ones, name=systemd, and cgroup2 (unified on hybrid hosts), so
// that /proc/PID/cgroup names the container everywhere.
func (c *Cgroup) Join(pid int) error {
	for _, h := range c.hs {
		p := filepath.Join(h.dir, "cgroup.procs")
		if err := c.fs.write(p, strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("cgroups: moving process %d to %s: %w", pid, p, unwrapErrno(err))
		}
	}
	return nil
}

// Dir opens the container's cgroup2 directory O_PATH|O_DIRECTORY, for
// starting the container's first process right in it with
// CLONE_INTO_CGROUP (syscall.SysProcAttr.UseCgroupFD/CgroupFD). Only on
// v2-only hosts: elsewhere the process needs Join for its v1 cgroups.
func (c *Cgroup) Dir() (*os.File, error) {
	if c.mode != "v2" {
		return nil, fmt.Errorf("cgroups: CLONE_INTO_CGROUP needs a cgroup v2 host, this one is %s", c.mode)
	}
	for _, h := range c.hs {
		if h.v2 {
			fd, err := unix.Open(h.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return nil, &os.PathError{Op: "open", Path: h.dir, Err: err}
			}
			return os.NewFile(uintptr(fd), h.dir), nil
		}
	}
	return nil, errors.New("cgroups: no cgroup v2 directory")
}

// Paths returns the container's cgroup directories, one per hierarchy,
// for the state file: DestroyPaths and StatsFromPaths take them back.
func (c *Cgroup) Paths() []string {
	ps := make([]string, len(c.hs))
	for i, h := range c.hs {
		ps[i] = h.dir
	}
	return ps
}

// Destroy kills every process left in the container's cgroups and removes
// them (and any cgroups the container made below them), then the parents
// Create made for them that no other container uses. See DestroyPaths.
func (c *Cgroup) Destroy() error {
	return joinErrors([]error{destroyPaths(c.fs, c.Paths()), c.parents.prune(c.fs, c.Paths())})
}
