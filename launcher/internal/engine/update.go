package engine

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/stdcontainer/stdcontainer/launcher/internal/cgroups"
	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
)

// ErrNotRunning is Update's answer for a container whose process is gone.
var ErrNotRunning = errors.New("container not running")

// Update changes the resource limits of a created, running or paused
// container to those r sets (cgroups.Update: zero fields keep theirs, -1
// lifts a limit, device rules are left alone) and records them in its
// HostConfig, as inspect shows them. It holds the container's state lock
// throughout, so concurrent updates apply and record in the same order,
// and a container that stops meanwhile is refused with ErrNotRunning.
func Update(store *state.Store, id string, r *specs.LinuxResources) error {
	layout, err := cgroups.Detect()
	if err != nil {
		return err
	}
	return store.Update(id, func(c *state.Container) error {
		if !state.Alive(c) {
			return ErrNotRunning
		}
		applied, err := cgroups.Update(layout, c.CgroupPaths, r)
		if err != nil {
			return err
		}
		recordLimits(&c.HostConfig, applied)
		return nil
	})
}

// recordLimits sets the HostConfig fields for the limits r sets, leaving
// the others; engine.applyResources has the meanings (docker's).
func recordLimits(h *state.HostConfig, r *specs.LinuxResources) {
	if m := r.Memory; m != nil {
		// No memory limit (-1) shows as 0, as docker inspect has it;
		// MemorySwap keeps -1 (unlimited swap) as docker does.
		setIfGiven(&h.Memory, m.Limit)
		setIfGiven(&h.MemorySwap, m.Swap)
		setIfGiven(&h.MemoryReservation, m.Reservation)
		h.Memory, h.MemoryReservation = max(h.Memory, 0), max(h.MemoryReservation, 0)
	}
	if c := r.CPU; c != nil {
		// cgroups.Update gives the quota and period together, or neither.
		if c.Quota != nil && c.Period != nil {
			h.NanoCpus = 0 // -1: no quota
			if *c.Quota > 0 && *c.Period > 0 {
				h.NanoCpus = *c.Quota * 1e9 / int64(*c.Period)
			}
		}
		if c.Shares != nil && *c.Shares != 0 {
			h.CpuShares = int64(*c.Shares)
		}
		if c.Cpus != "" {
			h.CpusetCpus = c.Cpus
		}
		if c.Mems != "" {
			h.CpusetMems = c.Mems
		}
	}
	if r.Pids != nil {
		setIfGiven(&h.PidsLimit, r.Pids.Limit)
	}
	if b := r.BlockIO; b != nil {
		if b.Weight != nil && *b.Weight != 0 {
			h.BlkioWeight = *b.Weight
		}
		// A device's new rule replaces its old one, as in the kernel.
		h.BlkioDeviceReadBps = mergeThrottles(h.BlkioDeviceReadBps, b.ThrottleReadBpsDevice)
		h.BlkioDeviceWriteBps = mergeThrottles(h.BlkioDeviceWriteBps, b.ThrottleWriteBpsDevice)
		h.BlkioDeviceReadIOps = mergeThrottles(h.BlkioDeviceReadIOps, b.ThrottleReadIOPSDevice)
		h.BlkioDeviceWriteIOps = mergeThrottles(h.BlkioDeviceWriteIOps, b.ThrottleWriteIOPSDevice)
	}
}

// setIfGiven copies a limit that is set (not nil, not 0: "keep").
func setIfGiven(dst *int64, v *int64) {
	if v != nil && *v != 0 {
		*dst = *v
	}
}

// mergeThrottles puts the rules of devs into have: a device's rate is
// replaced, a new device added, and a rate of 0 (the kernel lifts that
// limit) drops it.
func mergeThrottles(have []state.ThrottleDevice, devs []specs.LinuxThrottleDevice) []state.ThrottleDevice {
	for _, d := range devs {
		path := fmt.Sprintf("%d:%d", d.Major, d.Minor)
		i := 0
		for i < len(have) && have[i].Path != path {
			i++
		}
		switch {
		case i == len(have) && d.Rate != 0:
			have = append(have, state.ThrottleDevice{Path: path, Rate: d.Rate})
		case i < len(have) && d.Rate != 0:
			have[i].Rate = d.Rate
		case i < len(have):
			have = append(have[:i], have[i+1:]...)
		}
	}
	return have
}
