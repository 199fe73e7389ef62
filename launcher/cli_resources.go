package main

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/stdcontainer/stdcontainer/launcher/internal/cgroups"
	"github.com/stdcontainer/stdcontainer/launcher/internal/cli"
)

// linuxResources turns the resource flags into runtime-spec resources,
// resolving throttled devices to their numbers now so a wrong path fails
// before anything is created.
func linuxResources(r cli.Resources) (*specs.LinuxResources, error) {
	res := &specs.LinuxResources{}
	if r.Memory != 0 || r.MemorySwap != 0 || r.MemoryReservation != 0 {
		res.Memory = &specs.LinuxMemory{}
		if r.Memory != 0 {
			res.Memory.Limit = ptr(r.Memory)
		}
		if r.MemorySwap != 0 {
			res.Memory.Swap = ptr(r.MemorySwap)
		}
		if r.MemoryReservation != 0 {
			res.Memory.Reservation = ptr(r.MemoryReservation)
		}
	}
	if r.CPUQuota != 0 || r.CPUShares != 0 || r.CpusetCpus != "" || r.CpusetMems != "" {
		res.CPU = &specs.LinuxCPU{Cpus: r.CpusetCpus, Mems: r.CpusetMems}
		if r.CPUQuota != 0 {
			res.CPU.Quota, res.CPU.Period = ptr(r.CPUQuota), ptr(r.CPUPeriod)
		}
		if r.CPUShares != 0 {
			res.CPU.Shares = ptr(r.CPUShares)
		}
	}
	if r.PidsLimit != 0 {
		res.Pids = &specs.LinuxPids{Limit: ptr(r.PidsLimit)}
	}
	if r.BlkioWeight != 0 || len(r.ReadBps)+len(r.WriteBps)+len(r.ReadIOPS)+len(r.WriteIOPS) > 0 {
		res.BlockIO = &specs.LinuxBlockIO{}
		if r.BlkioWeight != 0 {
			res.BlockIO.Weight = ptr(r.BlkioWeight)
		}
		for _, t := range []struct {
			flag string
			in   []cli.Throttle
			out  *[]specs.LinuxThrottleDevice
		}{
			{"--device-read-bps", r.ReadBps, &res.BlockIO.ThrottleReadBpsDevice},
			{"--device-write-bps", r.WriteBps, &res.BlockIO.ThrottleWriteBpsDevice},
			{"--device-read-iops", r.ReadIOPS, &res.BlockIO.ThrottleReadIOPSDevice},
			{"--device-write-iops", r.WriteIOPS, &res.BlockIO.ThrottleWriteIOPSDevice},
		} {
			for _, d := range t.in {
				major, minor, err := cgroups.BlockDevice(d.Device)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %v", t.flag, d.Device, err)
				}
				dev := specs.LinuxThrottleDevice{Rate: d.Rate}
				dev.Major, dev.Minor = major, minor
				*t.out = append(*t.out, dev)
			}
		}
	}
	return res, nil
}

func ptr[T any](v T) *T { return &v }
