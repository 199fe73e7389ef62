package cgroups

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// pidsMax formats a pids limit: 0 is unset (never written), below 0 is
// docker's -1 for unlimited.
func pidsMax(n int64) string {
	if n < 0 {
		return "max"
	}
	return strconv.FormatInt(n, 10)
}

// pids.max has the same name and syntax in v1 and v2.

func (d v1Driver) setPids(s setter, p *specs.LinuxPids) error {
	return s.set("--pids-limit", "pids.max", pidsMax(*p.Limit))
}

func (d v2Driver) setPids(s setter, p *specs.LinuxPids) error {
	return s.set("--pids-limit", "pids.max", pidsMax(*p.Limit))
}
