package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/stdcontainer/stdcontainer/launcher/internal/cli"
	"github.com/stdcontainer/stdcontainer/launcher/internal/engine"
	"github.com/stdcontainer/stdcontainer/launcher/internal/jsonerr"
	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
)

// ociUpdate is `update [--resources FILE|-] [FLAGS] ID`: runc update,
// new limits for a created, running or paused container. containerd's
// shim sends a runtime-spec LinuxResources on stdin (--resources -),
// podman in a file; runc's individual flags (below) set one field each.
// Unlike runc, which ignores them when --resources is given, the flags
// override the file's fields: what a user types last should win.
// Fields left out or 0 keep their value, -1 lifts a limit; device rules
// are left as they are, as runc does (see engine.Update).
func ociUpdate(store *state.Store, args []string) int {
	fs := ociFlags("update")
	resources := fs.String("resources", "", "")
	fs.StringVar(resources, "r", "", "")
	var flags []flagValue // in command-line order: a repeated flag's last wins
	for name := range updateFlags {
		fs.Func(name, "", func(v string) error { flags = append(flags, flagValue{name, v}); return nil })
	}
	if err := parseOCIFlags(fs, args); err != nil {
		return ociFail(1, fmt.Errorf("update: %v", err))
	}
	if fs.NArg() != 1 {
		return ociFail(1, errors.New("update: want exactly one container ID"))
	}
	id := fs.Arg(0)
	r, err := updateRequest(*resources, flags)
	if err != nil {
		return ociFail(1, err)
	}
	c, err := lookupOCI(store, id)
	if err != nil {
		return ociFail(1, err)
	}
	if ociStatus(c) == "stopped" {
		return ociFail(1, fmt.Errorf("container %s: container not running", id))
	}
	if len(r.Devices) > 0 {
		slog.Debug("update: the device rules sent along are left as they are, as runc does")
	}
	if err := engine.Update(store, c.Id, r); err != nil {
		if errors.Is(err, engine.ErrNotRunning) {
			return ociFail(1, fmt.Errorf("container %s: %w", id, err))
		}
		return ociFail(1, fmt.Errorf("update %s: %v", id, err))
	}
	return 0
}

// flagValue is one of updateFlags as given.
type flagValue struct{ flag, value string }

// updateRequest is the resources an update asks for: --resources (see
// loadResources), then the flags over it.
func updateRequest(resources string, flags []flagValue) (*specs.LinuxResources, error) {
	r, err := loadResources(resources)
	if err != nil {
		return nil, err
	}
	for _, f := range flags {
		if err := updateFlags[f.flag](r, f.value); err != nil {
			return nil, fmt.Errorf("update --%s %s: %v", f.flag, f.value, err)
		}
	}
	return r, nil
}

// loadResources reads --resources: a runtime-spec LinuxResources as JSON,
// from a file or, for "-", stdin; "" is no resources. Unknown fields are
// ignored, as runc does, so that newer engines' additions do not break.
func loadResources(file string) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	if file == "" {
		return r, nil
	}
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("update --resources %s: %v", file, err)
	}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("update --resources %s: %s", file, jsonerr.Describe(data, err))
	}
	return r, nil
}

// updateFlags are runc update's flags, each setting a field of the
// resources. Memory sizes take what the docker-like front's --memory
// does (bytes, or k, m, g, t suffixes) and -1. Fields the cgroups
// package cannot apply (cpu burst, realtime, idle) are set anyway, for
// its refusal naming them.
var updateFlags = map[string]func(r *specs.LinuxResources, v string) error{
	"memory":             memoryFlag(func(m *specs.LinuxMemory) **int64 { return &m.Limit }),
	"memory-swap":        memoryFlag(func(m *specs.LinuxMemory) **int64 { return &m.Swap }),
	"memory-reservation": memoryFlag(func(m *specs.LinuxMemory) **int64 { return &m.Reservation }),
	"cpu-period":         cpuFlag(func(c *specs.LinuxCPU) **uint64 { return &c.Period }, parseUint),
	"cpu-share":          cpuFlag(func(c *specs.LinuxCPU) **uint64 { return &c.Shares }, parseUint), // runc's name
	"cpu-shares":         cpuFlag(func(c *specs.LinuxCPU) **uint64 { return &c.Shares }, parseUint), // docker's
	"cpu-burst":          cpuFlag(func(c *specs.LinuxCPU) **uint64 { return &c.Burst }, parseUint),
	"cpu-rt-period":      cpuFlag(func(c *specs.LinuxCPU) **uint64 { return &c.RealtimePeriod }, parseUint),
	"cpu-quota":          cpuFlag(func(c *specs.LinuxCPU) **int64 { return &c.Quota }, parseInt),
	"cpu-rt-runtime":     cpuFlag(func(c *specs.LinuxCPU) **int64 { return &c.RealtimeRuntime }, parseInt),
	"cpu-idle":           cpuFlag(func(c *specs.LinuxCPU) **int64 { return &c.Idle }, parseInt),
	"cpuset-cpus": func(r *specs.LinuxResources, v string) error {
		cpuOf(r).Cpus = v
		return nil
	},
	"cpuset-mems": func(r *specs.LinuxResources, v string) error {
		cpuOf(r).Mems = v
		return nil
	},
	"pids-limit": func(r *specs.LinuxResources, v string) error {
		n, err := parseInt(v)
		if err != nil {
			return errors.New("not a number (-1 for no limit)")
		}
		r.Pids = &specs.LinuxPids{Limit: &n}
		return nil
	},
	"blkio-weight": func(r *specs.LinuxResources, v string) error {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return errors.New("not a weight (10 to 1000)")
		}
		w := uint16(n)
		if r.BlockIO == nil {
			r.BlockIO = &specs.LinuxBlockIO{}
		}
		r.BlockIO.Weight = &w
		return nil
	},
	// runc ignores the kernel memory limits (gone from the kernel) with a
	// warning.
	"kernel-memory":     warnIgnored,
	"kernel-memory-tcp": warnIgnored,
	"l3-cache-schema":   refuseRDT,
	"mem-bw-schema":     refuseRDT,
}

func memoryFlag(field func(*specs.LinuxMemory) **int64) func(*specs.LinuxResources, string) error {
	return func(r *specs.LinuxResources, v string) error {
		n := int64(-1)
		if v != "-1" {
			var err error
			if n, err = cli.ParseSize(v); err != nil {
				return errors.New("not a size (use e.g. 64m, 1g, or -1 for no limit)")
			}
		}
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		*field(r.Memory) = &n
		return nil
	}
}

// cpuFlag sets a CPU field to what parse reads; -1 lifts a quota or
// runtime, which only signed fields take.
func cpuFlag[T int64 | uint64](field func(*specs.LinuxCPU) **T, parse func(string) (T, error)) func(*specs.LinuxResources, string) error {
	return func(r *specs.LinuxResources, v string) error {
		n, err := parse(v)
		if err != nil {
			return errors.New("not a number")
		}
		*field(cpuOf(r)) = &n
		return nil
	}
}

func parseInt(v string) (int64, error)   { return strconv.ParseInt(v, 10, 64) }
func parseUint(v string) (uint64, error) { return strconv.ParseUint(v, 10, 64) }

func cpuOf(r *specs.LinuxResources) *specs.LinuxCPU {
	if r.CPU == nil {
		r.CPU = &specs.LinuxCPU{}
	}
	return r.CPU
}

func warnIgnored(*specs.LinuxResources, string) error {
	logger.Warn("update: the kernel memory limits are ignored (the kernel no longer has them)")
	return nil
}

func refuseRDT(*specs.LinuxResources, string) error {
	return errors.New("Intel RDT is not supported")
}
