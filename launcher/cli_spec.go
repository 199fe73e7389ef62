package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/stdcontainer/stdcontainer/launcher/internal/cli"
	"github.com/stdcontainer/stdcontainer/launcher/internal/engine"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
	"github.com/stdcontainer/stdcontainer/rootfs/envfile"
	"github.com/stdcontainer/stdcontainer/rootfs/layout"
)

// specFromCLI turns `run` flags into a Spec, reading what it needs from the
// image (its environment file, passwd and group) and from the host (env
// files, volume sources). Everything is checked before anything is created.
func specFromCLI(r *cli.Run) (*spec.Spec, error) {
	image, err := filepath.Abs(r.Rootfs)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(image); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s: not an image directory (want a root filesystem directory)", r.Rootfs)
	}
	if r.Name != "" {
		if err := state.ValidName(r.Name); err != nil {
			return nil, fmt.Errorf("--name %s: %v", r.Name, err)
		}
	}
	env, err := runEnv(image, r)
	if err != nil {
		return nil, err
	}
	if r.TTY && !hasKey(env, "TERM") {
		env = append(env, "TERM=xterm")
	}
	user, err := resolveUser(image, r.User)
	if err != nil {
		return nil, err
	}
	resources, err := linuxResources(r.Resources)
	if err != nil {
		return nil, err
	}
	s := &spec.Spec{
		CgroupParent: r.Resources.CgroupParent,
		Network:      r.Network,
		Name:         r.Name,
		Image:        image,
		Detach:       r.Detach,
		Remove:       r.Remove,
		Interactive:  r.Interactive,
		Init:         r.Init,
		StopSignal:   r.StopSignal,
	}
	s.Version = specs.Version
	s.Hostname = r.Hostname
	s.Root = &specs.Root{Path: image, Readonly: r.ReadOnly}
	s.Process = &specs.Process{Args: r.Cmd, Env: env, Cwd: r.Workdir, User: user, Terminal: r.TTY}
	s.Linux = &specs.Linux{Resources: resources}
	for _, v := range r.Volumes {
		if _, err := os.Stat(v.Source); err != nil {
			return nil, fmt.Errorf("--volume %s:%s: %v", v.Source, v.Target, errors.Unwrap(err))
		}
		opts := []string{"rbind", "rw"}
		if v.ReadOnly {
			opts[1] = "ro"
		}
		s.Mounts = append(s.Mounts, specs.Mount{Type: "bind", Source: v.Source, Destination: v.Target, Options: opts})
	}
	s.DNS, s.ExtraHosts = r.Net.DNS, r.Net.ExtraHosts
	s.NAT = spec.NAT{Bridge: r.Net.Bridge, Subnet: r.Net.Subnet, IP: r.Net.IP}
	if r.Net.MAC != nil {
		s.NAT.MAC = r.Net.MAC.String()
	}
	for _, p := range r.Net.Publish {
		s.NAT.Ports = append(s.NAT.Ports, spec.Port{HostIP: p.HostIP, HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: p.Protocol})
	}
	for _, l := range r.Listen {
		s.Listen = append(s.Listen, spec.Listen{Network: l.Network, Address: l.Address, Name: l.Name})
	}
	if err := securitySpec(r.Security, s); err != nil {
		return nil, err
	}
	if err := usernsSpec(r.Userns, s); err != nil {
		return nil, err
	}
	for _, t := range r.Tmpfs {
		m := specs.Mount{Type: "tmpfs", Source: "tmpfs", Destination: t.Target}
		if t.Size > 0 {
			m.Options = []string{"size=" + strconv.FormatInt(t.Size, 10)}
		}
		s.Mounts = append(s.Mounts, m)
	}
	return s, nil
}

// runEnv is docker's order: the image's environment, then --env-file
// files in order, then -e flags; later wins.
func runEnv(image string, r *cli.Run) ([]string, error) {
	var env []string
	if data, err := engine.ReadImageFile(image, layout.Env); err == nil {
		vars, err := envfile.Parse(layout.Env+" (image)", data)
		if err != nil {
			return nil, err
		}
		env = envfile.Apply(env, vars)
	}
	return flagEnv(env, r)
}

// flagEnv applies --env-file files in order, then -e flags, to env.
func flagEnv(env []string, r *cli.Run) ([]string, error) {
	for _, name := range r.EnvFiles {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--env-file %s: %v", name, errors.Unwrap(err))
		}
		vars, err := envfile.Parse(name, data)
		if err != nil {
			return nil, fmt.Errorf("--env-file %v", err)
		}
		env = envfile.Apply(env, vars)
	}
	for _, kv := range r.Env {
		key, value, ok := strings.Cut(kv, "=")
		if !ok {
			// -e NAME copies the caller's variable, or nothing if unset.
			if value, ok = os.LookupEnv(key); !ok {
				continue
			}
		}
		env = envfile.Apply(env, []envfile.Var{{Key: key, Value: value}})
	}
	return env, nil
}

// resolveUser reads -u UID[:GID] or NAME[:GROUP] against the image's
// /etc/passwd and /etc/group (never the host's).
func resolveUser(image, spec string) (specs.User, error) {
	if spec == "" {
		return specs.User{}, nil
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	u := specs.User{Username: spec}
	if uid, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		u.UID = uint32(uid)
		if entry, ok := lookupDB(image, "/etc/passwd", func(f []string) bool { return f[2] == userPart }); ok {
			if gid, err := strconv.ParseUint(entry[3], 10, 32); err == nil {
				u.GID = uint32(gid)
			}
		}
	} else {
		entry, ok := lookupDB(image, "/etc/passwd", func(f []string) bool { return f[0] == userPart })
		if !ok {
			return u, fmt.Errorf("--user %s: no user %q in the image's /etc/passwd", spec, userPart)
		}
		uid, err1 := strconv.ParseUint(entry[2], 10, 32)
		gid, err2 := strconv.ParseUint(entry[3], 10, 32)
		if err1 != nil || err2 != nil {
			return u, fmt.Errorf("--user %s: bad /etc/passwd entry for %q in the image", spec, userPart)
		}
		u.UID, u.GID = uint32(uid), uint32(gid)
	}
	if hasGroup {
		if gid, err := strconv.ParseUint(groupPart, 10, 32); err == nil {
			u.GID = uint32(gid)
		} else {
			entry, ok := lookupDB(image, "/etc/group", func(f []string) bool { return f[0] == groupPart })
			gid, err := strconv.ParseUint(entryField(entry, 2), 10, 32)
			if !ok || err != nil {
				return u, fmt.Errorf("--user %s: no group %q in the image's /etc/group", spec, groupPart)
			}
			u.GID = uint32(gid)
		}
	}
	return u, nil
}

// lookupDB finds the first line of a passwd-style file of the image whose
// colon-separated fields match.
func lookupDB(image, path string, match func([]string) bool) ([]string, bool) {
	data, err := engine.ReadImageFile(image, path)
	if err != nil {
		return nil, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) >= 4 && match(f) {
			return f, true
		}
	}
	return nil, false
}

func entryField(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}
