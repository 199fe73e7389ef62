package ocispec

import (
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The engine mounts /proc, /sys (read-only), /sys/fs/cgroup (the
// container's own cgroups), /dev (with devpts, a 64 MiB shm and mqueue)
// itself, and tmpfs on /run, /run/lock and /tmp. It takes other mounts in
// two shapes, which translateMounts produces:
//
//	{Type: "bind", Source: ABSOLUTE HOST PATH, Options: ["rbind", "ro"|"rw", "nosuid"?, "nodev"?, "noexec"?]}
//	{Type: "tmpfs", Source: "tmpfs", Options: ["nosuid"?, "nodev"?, "noexec"?, "size=BYTES"?, "mode=NNN"?]}
//
// A bind mount is always recursive (a plain "bind" shows the source's
// submounts too) and keeps the source's mount flags; "ro" makes it
// read-only. A tmpfs is always nosuid, nodev, mode=1777, with the size
// given (in bytes) or the kernel's default. Options asking for anything
// else (noexec, another mode, shared propagation, atime flags, ...) are
// refused rather than dropped.

// standardMounts are the mounts the engine makes itself: a config mount
// of one of these types at one of these destinations is dropped.
var standardMounts = map[string][]string{
	"/proc":          {"proc"},
	"/sys":           {"sysfs"},
	"/sys/fs/cgroup": {"cgroup", "cgroup2"},
	"/dev":           {"tmpfs"},
	"/dev/pts":       {"devpts"},
	"/dev/shm":       {"tmpfs", "shm"},
	"/dev/mqueue":    {"mqueue"},
	// The engine's own tmpfs (nosuid, nodev), as podman asks for them.
	"/run":      {"tmpfs"},
	"/run/lock": {"tmpfs"},
	"/tmp":      {"tmpfs"},
}

// engineShmSize is the size of the engine's /dev/shm (container/stage2.go).
const engineShmSize = 64 << 20

// Options the engine honours, by mount kind. Propagation: the engine's
// mount namespace is private, so "slave" works as "private".
var (
	propagationOptions = []string{"private", "rprivate", "slave", "rslave"}
	flagOptions        = []string{"nosuid", "nodev", "noexec", "suid", "dev", "exec"}
	bindOptions        = append(append([]string{"bind", "rbind", "ro", "rw"}, flagOptions...), propagationOptions...)
	// tmpcopyup (podman): the tmpfs starts empty; the image's files at
	// that path are not copied in.
	tmpfsOptions = append(append([]string{"rw", "mode=NNN", "size=N", "tmpcopyup"}, flagOptions...), propagationOptions...)
)

// translateMounts turns config.json's mounts into what the engine mounts.
func translateMounts(bundle string, in []specs.Mount) ([]specs.Mount, error) {
	var out []specs.Mount
	for i, m := range in {
		field := fmt.Sprintf("mounts[%d]", i)
		if !strings.HasPrefix(m.Destination, "/") || strings.IndexByte(m.Destination, 0) >= 0 {
			return nil, fieldError(field+".destination", "%s: want an absolute path", q(m.Destination))
		}
		dest := path.Clean(m.Destination)
		index := field
		field += " (" + q(dest) + ")"
		if dest == "/" {
			return nil, fieldError(field, "a mount over the root is not supported (root.path is the root)")
		}
		if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
			return nil, fieldError(field, "id-mapped mounts (uidMappings, gidMappings) are not supported")
		}
		bind := m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
		if standard(dest, m, bind) {
			if dest == "/dev/shm" {
				if err := checkShm(field, m.Options); err != nil {
					return nil, err
				}
			}
			continue
		}
		var (
			mount specs.Mount
			err   error
		)
		switch {
		case bind:
			mount, err = bindMount(bundle, index, field, dest, m)
		case m.Type == "tmpfs":
			mount, err = tmpfsMount(field, dest, m)
		case m.Type == "":
			err = fieldError(field, "no type (want bind or tmpfs)")
		default:
			err = fieldError(field, "type %s is not supported (only bind and tmpfs mounts, besides the standard /proc, /sys and /dev ones, which this runtime makes itself)", q(m.Type))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, mount)
	}
	return out, nil
}

// standard reports whether m is one of the mounts the engine makes itself:
// one of standardMounts, or /sys bound from the host's (runc's rootless
// spec), which the engine does itself where sysfs cannot be mounted.
func standard(dest string, m specs.Mount, bind bool) bool {
	if bind {
		// The engine's /sys, its own /dev/shm (podman binds one of its
		// own there), and its own cgroupfs (podman binds the host's
		// name=systemd hierarchy, which the container must not get).
		return dest == "/sys" && filepath.Clean(m.Source) == "/sys" || dest == "/dev/shm" ||
			strings.HasPrefix(dest, "/sys/fs/cgroup/")
	}
	return slices.Contains(standardMounts[dest], m.Type)
}

// checkShm refuses a /dev/shm of another size than the engine's.
func checkShm(field string, opts []string) error {
	for _, o := range opts {
		v, ok := strings.CutPrefix(o, "size=")
		if !ok {
			continue
		}
		size, err := parseSize(v)
		if err != nil {
			return fieldError(field, "%s: %v", q(o), err)
		}
		if size != engineShmSize {
			return fieldError(field, "%s: this runtime's /dev/shm is always 64 MiB; another size is not supported yet", q(o))
		}
	}
	return nil
}

// bindMount checks a bind mount; index names it for errors about its
// source, field for the others.
func bindMount(bundle, index, field, dest string, m specs.Mount) (specs.Mount, error) {
	ro := false
	for _, o := range m.Options {
		switch {
		case o == "ro":
			ro = true
		case o == "rw":
			ro = false
		case slices.Contains(bindOptions, o):
		default:
			return specs.Mount{}, fieldError(field, "option %s is not supported for bind mounts (supported: %s)", q(o), strings.Join(bindOptions, ", "))
		}
	}
	src := m.Source
	if src == "" {
		return specs.Mount{}, fieldError(index+".source", "missing (the host path to bind)")
	}
	if strings.IndexByte(src, 0) >= 0 {
		return specs.Mount{}, fieldError(index+".source", "%s: contains a NUL byte", q(src))
	}
	if !filepath.IsAbs(src) {
		src = filepath.Join(bundle, src)
	}
	src = filepath.Clean(src)
	if _, err := os.Stat(src); err != nil {
		return specs.Mount{}, fieldError(index+".source", "%s: %v", q(src), unwrapPath(err))
	}
	opts := []string{"rbind", "rw"}
	if ro {
		opts[1] = "ro"
	}
	return specs.Mount{Destination: dest, Type: "bind", Source: src, Options: append(opts, mountFlags(m.Options)...)}, nil
}

func tmpfsMount(field, dest string, m specs.Mount) (specs.Mount, error) {
	var size int64
	mode := ""
	for _, o := range m.Options {
		if v, ok := strings.CutPrefix(o, "mode="); ok {
			if n, err := strconv.ParseUint(v, 8, 32); err != nil || n > 0o7777 {
				return specs.Mount{}, fieldError(field, "%s: want an octal mode", q(o))
			}
			mode = o
			continue
		}
		if v, ok := strings.CutPrefix(o, "size="); ok {
			n, err := parseSize(v)
			if err != nil {
				return specs.Mount{}, fieldError(field, "%s: %v", q(o), err)
			}
			size = n
			continue
		}
		if !slices.Contains(tmpfsOptions, o) {
			return specs.Mount{}, fieldError(field, "option %s is not supported for tmpfs (supported: %s)", q(o), strings.Join(tmpfsOptions, ", "))
		}
	}
	mount := specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: mountFlags(m.Options)}
	if size > 0 {
		mount.Options = append(mount.Options, "size="+strconv.FormatInt(size, 10))
	}
	if mode != "" {
		mount.Options = append(mount.Options, mode)
	}
	return mount, nil
}

// mountFlags are the nosuid, nodev and noexec that options ask for (the
// last of a pair, like suid/nosuid, wins).
func mountFlags(options []string) []string {
	var out []string
	for _, flag := range []string{"suid", "dev", "exec"} {
		on := false
		for _, o := range options {
			switch o {
			case "no" + flag:
				on = true
			case flag:
				on = false
			}
		}
		if on {
			out = append(out, "no"+flag)
		}
	}
	return out
}

// parseSize reads tmpfs's size= as the kernel does (memparse: a number of
// bytes with an optional k, m, g or t), but not a percentage of RAM, and
// not 0, which means no limit.
func parseSize(v string) (int64, error) {
	if strings.HasSuffix(v, "%") {
		return 0, fmt.Errorf("a percentage of memory is not supported (give bytes, or k, m, g)")
	}
	shift := 0
	if v != "" {
		switch v[len(v)-1] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		case 't', 'T':
			shift = 40
		}
		if shift > 0 {
			v = v[:len(v)-1]
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || strings.HasPrefix(v, "+") {
		return 0, fmt.Errorf("not a size (want bytes, or a number with k, m or g)")
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("too large")
	}
	if n == 0 {
		return 0, fmt.Errorf("size 0 (no limit) is not supported")
	}
	return n << shift, nil
}
