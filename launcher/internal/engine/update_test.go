package engine

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
)

func i64p(v int64) *int64 { return &v }

// Only what an update sets changes in the record.
func TestRecordLimits(t *testing.T) {
	h := state.HostConfig{Memory: 64 << 20, MemorySwap: 128 << 20, NanoCpus: 5e8, CpuShares: 512, PidsLimit: 16,
		CpusetCpus: "0", BlkioDeviceReadBps: []state.ThrottleDevice{{Path: "8:0", Rate: 1}, {Path: "8:16", Rate: 2}}}
	period := uint64(100000)
	recordLimits(&h, &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64p(-1), Swap: i64p(-1)},
		CPU:    &specs.LinuxCPU{Quota: i64p(150000), Period: &period},
		Pids:   &specs.LinuxPids{Limit: i64p(32)},
		BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 0},
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 5},
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 32}, Rate: 6},
		}},
	})
	want := state.HostConfig{Memory: 0, MemorySwap: -1, NanoCpus: 15e8, CpuShares: 512, PidsLimit: 32,
		CpusetCpus: "0", BlkioDeviceReadBps: []state.ThrottleDevice{{Path: "8:16", Rate: 5}, {Path: "8:32", Rate: 6}}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("got  %+v\nwant %+v", h, want)
	}
	// A quota of -1 lifts --cpus.
	recordLimits(&h, &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64p(-1), Period: &period}})
	if h.NanoCpus != 0 {
		t.Errorf("NanoCpus after quota -1 = %d, want 0", h.NanoCpus)
	}
}
