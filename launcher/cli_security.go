package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/caps"
	"github.com/stdcontainer/stdcontainer/launcher/internal/cgroups"
	"github.com/stdcontainer/stdcontainer/launcher/internal/cli"
	"github.com/stdcontainer/stdcontainer/launcher/internal/engine"
	"github.com/stdcontainer/stdcontainer/launcher/internal/seccomp"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
)

// securitySpec fills the spec's OCI security fields from the run flags:
// docker's defaults, changed only by what the user asked for.
func securitySpec(sec cli.Security, s *spec.Spec) error {
	// The container cannot have what the launcher itself lacks.
	available := caps.Bounding()
	base := caps.Default
	if sec.Privileged {
		base = caps.Names(available)
	}
	for _, c := range sec.CapAdd {
		if c != "ALL" && available&caps.Mask([]string{c}) == 0 {
			return fmt.Errorf("--cap-add %s: the launcher itself does not have it (see CapBnd in /proc/self/status)", c)
		}
	}
	set := caps.Resolve(base, sec.CapAdd, sec.CapDrop)
	set = caps.Names(caps.Mask(set) & available) // --cap-add ALL: all that can be had
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: set, Effective: set, Permitted: set, Inheritable: set}
	s.Process.NoNewPrivileges = !sec.NewPrivileges
	s.Privileged, s.CapAdd, s.CapDrop, s.SecurityOpt = sec.Privileged, sec.CapAdd, sec.CapDrop, sec.Opts

	switch {
	case sec.Privileged || sec.Seccomp == "unconfined":
	case sec.Seccomp != "":
		profile, err := seccomp.Load(sec.Seccomp, set)
		if err != nil {
			return fmt.Errorf("--security-opt seccomp=%s: %v", sec.Seccomp, err)
		}
		s.Linux.Seccomp = profile
	default:
		s.Linux.Seccomp = seccomp.Default(set)
	}
	if !sec.Privileged && !sec.Unmasked {
		s.Linux.MaskedPaths = spec.DefaultMaskedPaths
		s.Linux.ReadonlyPaths = spec.DefaultReadonlyPaths
	}

	if sec.AppArmor != "" && sec.AppArmor != "unconfined" && !engine.AppArmorEnabled() {
		return fmt.Errorf("--security-opt apparmor=%s: AppArmor is not enabled on this host", sec.AppArmor)
	}
	s.Process.ApparmorProfile = sec.AppArmor
	label, err := selinuxLabel(sec.Label)
	if err != nil {
		return err
	}
	s.Process.SelinuxLabel = label

	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	if sec.Privileged {
		// Every host device, and no device cgroup rules.
		devices, err := hostDevices("/dev")
		if err != nil {
			return fmt.Errorf("--privileged: listing /dev: %v", err)
		}
		s.Linux.Devices = devices
	} else {
		s.Linux.Resources.Devices = cgroups.DefaultDevices()
	}
	for _, d := range sec.Devices {
		dev, err := deviceAt(d.Host, d.Container)
		if err != nil {
			return fmt.Errorf("--device %s: %v", d.Host, err)
		}
		s.Linux.Devices = append(s.Linux.Devices, dev)
		if !sec.Privileged {
			major, minor := dev.Major, dev.Minor
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices,
				specs.LinuxDeviceCgroup{Allow: true, Type: dev.Type, Major: &major, Minor: &minor, Access: d.Access})
		}
	}
	return nil
}

// deviceAt describes the host's device node host, to be created at ctr.
func deviceAt(host, ctr string) (specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Stat(host, &st); err != nil {
		return specs.LinuxDevice{}, err
	}
	d := specs.LinuxDevice{Path: ctr, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev))}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		d.Type = "c"
	case unix.S_IFBLK:
		d.Type = "b"
	default:
		return d, errors.New("not a device node")
	}
	mode := fs.FileMode(st.Mode & 0o777)
	d.FileMode, d.UID, d.GID = &mode, &st.Uid, &st.Gid
	return d, nil
}

// hostDevices lists the device nodes under dir, as docker's --privileged
// does: not the pty, shm and mqueue instances, which the container has
// its own of, and not the host's console.
func hostDevices(dir string) ([]specs.LinuxDevice, error) {
	var out []specs.LinuxDevice
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil // a node that vanished or cannot be read is skipped
		}
		if e.IsDir() {
			switch e.Name() {
			case "pts", "shm", "mqueue", "fd":
				return filepath.SkipDir
			}
			return nil
		}
		if p == "/dev/console" || e.Type()&(fs.ModeDevice|fs.ModeCharDevice) == 0 {
			return nil
		}
		if d, err := deviceAt(p, p); err == nil {
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// selinuxLabel builds the entry point's SELinux context from the label=
// options, starting from the launcher's own; "" when none is asked for.
func selinuxLabel(opts []string) (string, error) {
	if len(opts) == 0 || len(opts) == 1 && opts[0] == "disable" {
		return "", nil
	}
	if !engine.SELinuxEnabled() {
		return "", fmt.Errorf("--security-opt label=%s: SELinux is not enabled on this host", opts[0])
	}
	current, err := os.ReadFile("/proc/self/attr/current")
	if err != nil {
		return "", fmt.Errorf("--security-opt label: reading our own SELinux context: %v", err)
	}
	// user:role:type:level, where level may itself contain colons.
	parts := strings.SplitN(strings.TrimRight(string(current), "\x00\n"), ":", 4)
	for len(parts) < 4 {
		parts = append(parts, "")
	}
	for _, o := range opts {
		if o == "disable" {
			return "", nil
		}
		key, val, _ := strings.Cut(o, ":")
		switch key {
		case "user":
			parts[0] = val
		case "role":
			parts[1] = val
		case "type":
			parts[2] = val
		case "level":
			parts[3] = val
		}
	}
	return strings.Join(parts, ":"), nil
}

// usernsSpec asks for the --userns the user gave. A rootless launcher
// always has one: the caller's uid and gid become root inside.
func usernsSpec(u cli.Userns, s *spec.Spec) error {
	if os.Geteuid() != 0 {
		if u.Mode != "" {
			return fmt.Errorf("--userns %s: needs root; a rootless container maps your own uid to root", u.Mode)
		}
		// The engine maps the caller's ids (and subordinate ones, where
		// newuidmap and /etc/subuid provide them).
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		return nil
	}
	switch u.Mode {
	case "auto":
		s.UsernsAuto = true
	case "map":
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		for _, m := range u.Map {
			id := specs.LinuxIDMapping{ContainerID: m.Container, HostID: m.Host, Size: m.Size}
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, id)
			s.Linux.GIDMappings = append(s.Linux.GIDMappings, id)
		}
	}
	return nil
}
