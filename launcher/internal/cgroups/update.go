package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Update changes the limits of a live container, whose cgroup
// directories are paths (Paths, as saved in its state), to what r sets,
// as `runc update` does, and returns r as applied (see below). A field r
// leaves nil or zero keeps its value; -1 lifts a limit. Limits are
// written by the same drivers as Create's, with the same checks and
// errors, into the hierarchy Create would use; on v2 a controller the
// container's cgroup lacks (it was created without that limit) is
// enabled from the root down first.
//
// Device rules are left alone, as runc update does (it cannot change
// them): engines send the container's whole LinuxResources, rules
// included, and only mean the limits.
//
// Limits that depend on each other keep their partner's current value
// when given alone, as runc does from its saved config; here it is read
// from the cgroup:
//   - a CFS quota keeps the period, a period keeps the quota;
//   - a memory limit keeps a limited memory+swap total (one below the new
//     limit is an error, as in docker update: give --memory-swap too), and
//     -1 lifts the total as well;
//   - a memory+swap total applies to the current memory limit (none is an
//     error).
//
// The returned resources hold those filled-in partners, for recording.
// v1's memsw >= limit rule is kept at every write (v1Driver.setMemory
// orders them). A failure part-way leaves the earlier writes in place.
func Update(l *Layout, paths []string, r *specs.LinuxResources) (*specs.LinuxResources, error) {
	if r == nil {
		r = &specs.LinuxResources{}
	}
	fs := l.fsys()
	u := *r
	u.Devices = nil
	var hs []*hierarchy
	byMount := map[string]*hierarchy{}
	for _, p := range paths {
		m, err := l.containerMount(p)
		if err != nil {
			return nil, err
		}
		h := l.hierarchy(fs, m, filepath.Clean(p), &u)
		hs = append(hs, h)
		byMount[m] = h
	}
	if len(hs) == 0 {
		return nil, errors.New("cgroups: the container has no cgroups (it runs without: rootless, no delegated cgroup v2 subtree)")
	}
	if err := keepPartners(l, byMount, &u); err != nil {
		return nil, err
	}
	if err := validate(&u); err != nil {
		return nil, err
	}
	if err := l.placeLimits(byMount, &u); err != nil {
		return nil, err
	}
	if m := u.Memory; m != nil && m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate && m.Limit != nil && *m.Limit > 0 {
		// runc's check: a limit below the current use would make the
		// kernel reclaim or, on v2, OOM-kill at once.
		if st, err := StatsFromPaths(paths); err == nil && st.MemoryUsage >= uint64(*m.Limit) {
			return nil, fmt.Errorf("--memory %d: below the container's current memory use %d (memory.checkBeforeUpdate)", *m.Limit, st.MemoryUsage)
		}
	}
	for _, h := range hs {
		if err := enableAbove(h); err != nil {
			return nil, err
		}
	}
	if err := writeLimits(fs, hs, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// containerMount returns the mount point of the hierarchy holding the
// container cgroup dir, refusing anything else: limits written to a
// shared parent would bind every container below it.
func (l *Layout) containerMount(dir string) (string, error) {
	dir = filepath.Clean(dir)
	if base := filepath.Base(dir); !strings.HasPrefix(base, containerPrefix) || base == containerPrefix {
		return "", fmt.Errorf("cgroups: not updating %s: not a container's cgroup (the name does not start with %s)", dir, containerPrefix)
	}
	best := ""
	for _, m := range l.mounts() {
		if strings.HasPrefix(dir, m+"/") && len(m) > len(best) {
			best = m
		}
	}
	if best == "" {
		return "", fmt.Errorf("cgroups: %s is in no mounted cgroup hierarchy", dir)
	}
	return best, nil
}

// keepPartners fills in u (a copy of the caller's resources; its Memory
// and CPU are replaced, not written through) the partner of a memory or
// CFS limit given alone, from the cgroup where that controller lives.
func keepPartners(l *Layout, byMount map[string]*hierarchy, u *specs.LinuxResources) error {
	if m := u.Memory; m != nil && (nz(m.Limit) != nz(m.Swap)) {
		copied := *m
		u.Memory = &copied
		if h := byMount[l.home("memory", "memory")]; h != nil { // else placeLimits says what is missing
			limit, total := h.d.memoryNow(h.dir)
			if err := keepMemoryPartner(u.Memory, limit, total); err != nil {
				return err
			}
		}
	}
	if c := u.CPU; c != nil && (nz(c.Quota) != nzu(c.Period)) {
		copied := *c
		u.CPU = &copied
		if h := byMount[l.home("cpu", "cpu")]; h != nil {
			quota, period := h.d.cpuNow(h.dir)
			if !nz(u.CPU.Quota) {
				u.CPU.Quota = &quota
			} else {
				u.CPU.Period = &period
			}
		}
	}
	return nil
}

// keepMemoryPartner completes m, which sets exactly one of Limit and Swap
// (memory+swap), given the cgroup's current limit and total (-1: none).
func keepMemoryPartner(m *specs.LinuxMemory, limit, total int64) error {
	switch {
	case nz(m.Limit) && *m.Limit == -1:
		m.Swap = ptrTo(int64(-1))
	case nz(m.Limit) && total > 0:
		if *m.Limit > total {
			return fmt.Errorf("--memory %d: above the container's memory+swap limit %d; give --memory-swap too", *m.Limit, total)
		}
		m.Swap = ptrTo(total)
	case nz(m.Swap) && limit > 0:
		m.Limit = ptrTo(limit)
	case nz(m.Swap) && *m.Swap > 0:
		return fmt.Errorf("--memory-swap %d: the container has no memory limit; give --memory too", *m.Swap)
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }

// enableAbove runs the driver's beforeChild on every ancestor of h.dir
// from the mount point down, as Create's mkdirs does on the way to a new
// cgroup: on v2 that enables the controllers h's limits need, which a
// container created without them lacks.
func enableAbove(h *hierarchy) error {
	if len(h.limits) == 0 {
		return nil
	}
	rel, err := filepath.Rel(h.mount, filepath.Dir(h.dir))
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("cgroups: %s is not below %s", h.dir, h.mount)
	}
	dir := h.mount
	if err := h.d.beforeChild(h, dir); err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	for _, comp := range strings.Split(rel, "/") {
		dir = filepath.Join(dir, comp)
		if err := h.d.beforeChild(h, dir); err != nil {
			return err
		}
	}
	return nil
}
