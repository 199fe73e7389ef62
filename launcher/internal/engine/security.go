package engine

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/caps"
	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
	"github.com/stdcontainer/stdcontainer/launcher/internal/seccomp"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
)

// confinement turns the spec's OCI security fields into what stage 2
// applies. The fronts fill those fields with the defaults.
func confinement(s *spec.Spec, cfg *container.Config) error {
	p := s.Process
	c := &cfg.Confinement
	if pc := p.Capabilities; pc != nil {
		c.Caps = &caps.Sets{
			Bounding:    caps.Mask(pc.Bounding),
			Effective:   caps.Mask(pc.Effective),
			Permitted:   caps.Mask(pc.Permitted),
			Inheritable: caps.Mask(pc.Inheritable),
			Ambient:     caps.Mask(pc.Ambient),
		}
		c.LastCap = lastCap()
	}
	c.NoNewPrivs = p.NoNewPrivileges
	c.OOMScoreAdj = p.OOMScoreAdj
	for _, r := range p.Rlimits {
		resource, ok := rlimitResources[r.Type]
		if !ok {
			return userErrorf("rlimit %s: unknown resource", r.Type)
		}
		c.Rlimits = append(c.Rlimits, container.Rlimit{Name: r.Type, Resource: resource, Soft: r.Soft, Hard: r.Hard})
	}
	if p.ApparmorProfile != "" && p.ApparmorProfile != "unconfined" {
		if !AppArmorEnabled() {
			return userErrorf("apparmor profile %s: AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled)", p.ApparmorProfile)
		}
		c.AppArmor = p.ApparmorProfile
	}
	if p.SelinuxLabel != "" {
		if !SELinuxEnabled() {
			return userErrorf("SELinux label %s: SELinux is not enabled on this host (no /sys/fs/selinux)", p.SelinuxLabel)
		}
		c.SELinux = p.SelinuxLabel
	}
	if s.Linux == nil {
		return nil
	}
	cfg.MaskedPaths, cfg.ReadonlyPaths = s.Linux.MaskedPaths, s.Linux.ReadonlyPaths
	cfg.Sysctl = s.Linux.Sysctl
	for _, d := range s.Linux.Devices {
		dev := container.Device{Path: d.Path, Type: d.Type, Major: uint32(d.Major), Minor: uint32(d.Minor), Mode: 0o666}
		if d.FileMode != nil {
			dev.Mode = uint32(*d.FileMode)
		}
		if d.UID != nil {
			dev.UID = *d.UID
		}
		if d.GID != nil {
			dev.GID = *d.GID
		}
		cfg.Devices = append(cfg.Devices, dev)
	}
	return nil
}

// compileSeccomp compiles the spec's filter in the background (about half
// a millisecond for docker's profile), overlapping the cgroup, the state
// entry and stage 2's start-up; the result is needed only at Start.
func compileSeccomp(s *spec.Spec) <-chan compiled {
	done := make(chan compiled, 1)
	if s.Linux == nil || s.Linux.Seccomp == nil {
		done <- compiled{}
		return done
	}
	go func() {
		prog, err := seccomp.Compile(s.Linux.Seccomp)
		if err != nil {
			err = userErrorf("seccomp: %v", err)
		}
		done <- compiled{seccomp.Program(prog), err}
	}()
	return done
}

type compiled struct {
	prog seccomp.Program
	err  error
}

// rlimitResources are setrlimit(2)'s resources by their OCI names.
var rlimitResources = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
}

// lastCap is the kernel's highest capability number; newer kernels may
// know more than this launcher, and those are dropped too.
func lastCap() int {
	data, _ := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	n, err := strconv.Atoi(string(bytes.TrimSpace(data)))
	if err != nil {
		return len(caps.All()) - 1
	}
	return n
}

// AppArmorEnabled reports whether the host runs AppArmor.
func AppArmorEnabled() bool {
	data, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return bytes.HasPrefix(data, []byte("Y"))
}

// SELinuxEnabled reports whether SELinux is active (selinuxfs mounted).
func SELinuxEnabled() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}
