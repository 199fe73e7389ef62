// Package engine runs a Spec: it prepares the container's configuration,
// records it in the state directory, starts it, supervises it and cleans
// up. The docker-like CLI and the OCI front both end here.
package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/stdcontainer/stdcontainer/launcher/internal/cgroups"
	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
	"github.com/stdcontainer/stdcontainer/launcher/internal/inroot"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
	"github.com/stdcontainer/stdcontainer/rootfs/layout"
	"github.com/stdcontainer/stdcontainer/rootfs/osrelease"
)

// UserError is bad input: the launcher exits 125 with this one line.
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

func userErrorf(format string, args ...any) error {
	return &UserError{fmt.Sprintf(format, args...)}
}

// ReadImageFile reads a file of the image, resolving its path inside the
// image so that no symlink in it can point the launcher at a host file.
func ReadImageFile(image, p string) ([]byte, error) {
	return inroot.ReadFile(image, p, 1<<20)
}

// config turns a Spec into what stage 2 needs.
func config(s *spec.Spec, uuid string) (*container.Config, error) {
	p := s.Process
	cfg := &container.Config{
		Image:       s.Image,
		ReadOnly:    s.Root != nil && s.Root.Readonly,
		Hostname:    s.Hostname,
		Args:        p.Args,
		Env:         containerEnv(p.Env, s.ID, uuid, s.Hostname),
		Cwd:         p.Cwd,
		UID:         p.User.UID,
		GID:         p.User.GID,
		Groups:      p.User.AdditionalGids,
		Terminal:    p.Terminal,
		HostNetwork: s.Network == "host",
	}
	cfg.NetworkJoined = joins(s, specs.NetworkNamespace)
	if cfg.Cwd == "" {
		cfg.Cwd = "/"
	}
	if len(cfg.Args) == 0 {
		cfg.Args = []string{layout.Init}
	}
	if s.Init {
		bin, err := ourInit()
		if err != nil {
			return nil, err
		}
		cfg.InitBinary = bin
		cfg.Args = append([]string{container.RunHostInit, "--"}, cfg.Args...)
	}
	for _, m := range s.Mounts {
		mount := container.Mount{Type: m.Type, Source: m.Source, Target: m.Destination}
		for _, o := range m.Options {
			switch o {
			case "ro":
				mount.ReadOnly = true
			case "nosuid":
				mount.NoSuid = true
			case "nodev":
				mount.NoDev = true
			case "noexec":
				mount.NoExec = true
			}
			if size, ok := strings.CutPrefix(o, "size="); ok {
				fmt.Sscan(size, &mount.Size)
			}
			if mode, ok := strings.CutPrefix(o, "mode="); ok {
				mount.Mode = mode
			}
		}
		cfg.Mounts = append(cfg.Mounts, mount)
	}
	if !inroot.Exists(s.Image, layout.ResolvConf) {
		if len(s.DNS) > 0 {
			cfg.ResolvConf = dnsResolvConf(s.DNS)
		} else {
			// On the host's network its loopback resolvers work too.
			cfg.ResolvConf = hostResolvConf("/etc/resolv.conf", cfg.HostNetwork)
		}
	}
	cfg.ExtraHosts = s.ExtraHosts
	if err := confinement(s, cfg); err != nil {
		return nil, err
	}
	hostRelease, _ := os.ReadFile("/etc/os-release")
	if hostRelease == nil {
		hostRelease, _ = os.ReadFile("/usr/lib/os-release")
	}
	cfg.RunHost = []container.File{
		{Path: layout.ContainerManager, Data: []byte(spec.Manager + "\n"), Mode: 0o444},
		{Path: layout.ContainerUUID, Data: []byte(uuid + "\n"), Mode: 0o444},
		{Path: layout.HostOSRelease, Data: hostRelease, Mode: 0o444},
	}
	return cfg, nil
}

// ourInit is the static init shipped next to the launcher (out/bin/init).
func ourInit() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(filepath.Dir(self), "init")
	if _, err := os.Stat(bin); err != nil {
		return "", userErrorf("--init: our init is not next to the launcher (%s): %v", bin, errors.Unwrap(err))
	}
	return bin, nil
}

// consoleFor is the terminal a process gets when stdio comes with a
// console socket (none without): sized as the user's terminal (stdio's
// size), else as the process asks (size: OCI process.consoleSize), else
// by the kernel's default.
func consoleFor(stdio container.Stdio, size *specs.Box) container.ConsoleSocket {
	c := container.ConsoleSocket{Enabled: stdio.ConsoleSocket != nil}
	switch {
	case stdio.ConsoleRows != 0 && stdio.ConsoleCols != 0:
		c.Rows, c.Cols = stdio.ConsoleRows, stdio.ConsoleCols
	case size != nil && size.Height <= 0xffff && size.Width <= 0xffff:
		c.Rows, c.Cols = uint16(size.Height), uint16(size.Width)
	}
	return c
}

// containerEnv adds what every container gets (systemd's Container
// Interface variables, a PATH) to the environment the fronts built.
func containerEnv(env []string, id, uuid, hostname string) []string {
	out := append([]string(nil), env...)
	has := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		has[k] = true
	}
	for _, kv := range []string{"PATH=" + spec.DefaultPath, "HOSTNAME=" + hostname} {
		if k, v, _ := strings.Cut(kv, "="); !has[k] && v != "" { // no hostname: a joined UTS namespace
			out = append(out, kv)
		}
	}
	return append(out, "container="+spec.Manager, "container_uuid="+uuid)
}

// hostResolvConf is the host's resolv.conf; without loopback nameservers
// unless keepLoopback, since they mean nothing in the container's own
// network namespace.
func hostResolvConf(path string, keepLoopback bool) []byte {
	var out bytes.Buffer
	out.WriteString("# generated by stdcontainer from the host's " + path + "\n")
	data, _ := os.ReadFile(path)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		fields := strings.Fields(line)
		if len(fields) == 0 || line[0] == '#' || line[0] == ';' {
			continue
		}
		if fields[0] == "nameserver" {
			if len(fields) < 2 {
				continue
			}
			addr, err := netip.ParseAddr(strings.SplitN(fields[1], "%", 2)[0])
			if err != nil || addr.IsLoopback() && !keepLoopback {
				continue
			}
		}
		out.WriteString(line + "\n")
	}
	return out.Bytes()
}

// dnsResolvConf lists the --dns nameservers.
func dnsResolvConf(servers []netip.Addr) []byte {
	var out bytes.Buffer
	out.WriteString("# generated by stdcontainer from --dns\n")
	for _, ip := range servers {
		out.WriteString("nameserver " + ip.String() + "\n")
	}
	return out.Bytes()
}

// imageRelease is the image's os-release for inspect, nil when unreadable.
func imageRelease(image string) map[string]string {
	data, err := ReadImageFile(image, layout.OSRelease)
	if err != nil {
		if data, err = ReadImageFile(image, "/usr/lib/os-release"); err != nil {
			return nil
		}
	}
	release, err := osrelease.Parse(layout.OSRelease, data)
	if err != nil {
		return nil
	}
	fields := map[string]string{}
	for _, v := range release {
		fields[v.Key] = v.Value
	}
	return fields
}

// checkImage refuses what cannot be a rootfs before anything is created.
func checkImage(image string) error {
	st, err := os.Stat(image)
	if err != nil {
		return userErrorf("%s: %v", image, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return userErrorf("%s: not a directory (an image is a root filesystem directory)", image)
	}
	return nil
}

// cgroupMounts mirrors the host's cgroupfs layout for the container's
// /sys/fs/cgroup: one mount per v1 hierarchy (co-mounted controllers
// share one, with symlinks for each name) and the cgroup2 tree. paths are
// the container's cgroup directories, bound instead in a user namespace.
func cgroupMounts(l *cgroups.Layout, paths []string) []container.CgroupMount {
	if l.Mode == "v2" {
		return []container.CgroupMount{{Type: "cgroup2", Writable: true}}
	}
	byMount := map[string][]string{}
	for ctrl, mnt := range l.V1 {
		byMount[mnt] = append(byMount[mnt], ctrl)
	}
	var mounts []container.CgroupMount
	for mnt, ctrls := range byMount {
		sort.Strings(ctrls)
		m := container.CgroupMount{Name: filepath.Base(mnt), Type: "cgroup", Options: strings.Join(ctrls, ",")}
		for _, p := range paths {
			if strings.HasPrefix(p, mnt+"/") {
				m.Source = p // the container's own directory in this hierarchy
			}
		}
		if len(ctrls) == 1 && strings.HasPrefix(ctrls[0], "name=") {
			// A named hierarchy without controllers: systemd's own tracking,
			// which an init in the container manages, so it stays writable.
			m.Options, m.Writable = "none,"+ctrls[0], true
		}
		for _, c := range ctrls {
			if c != m.Name && !strings.HasPrefix(c, "name=") {
				m.Links = append(m.Links, c)
			}
		}
		mounts = append(mounts, m)
	}
	if l.V2 != "" {
		mounts = append(mounts, container.CgroupMount{Name: filepath.Base(l.V2), Type: "cgroup2", Writable: true})
	}
	sort.Slice(mounts, func(i, j int) bool { return mounts[i].Name < mounts[j].Name })
	return mounts
}
