package cli

import (
	"errors"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/stdcontainer/stdcontainer/launcher/internal/caps"
)

// Security holds run's confinement flags. The zero value is the default
// confinement: docker's capabilities, seccomp profile, masked paths and
// device allowlist, with no_new_privs on.
type Security struct {
	// CapAdd and CapDrop are --cap-add and --cap-drop, canonical
	// ("CAP_NET_ADMIN" or "ALL"), in order.
	CapAdd, CapDrop []string
	// Privileged is --privileged: every capability, no seccomp filter, no
	// masked paths, every host device.
	Privileged bool
	// NewPrivileges is --security-opt no-new-privileges=false.
	NewPrivileges bool
	// Seccomp is --security-opt seccomp=...: "" (the default profile),
	// "unconfined", or a profile file's path as given.
	Seccomp string
	// Unmasked is --security-opt systempaths=unconfined: no masked or
	// read-only paths under /proc and /sys.
	Unmasked bool
	// AppArmor is --security-opt apparmor=PROFILE ("" = none).
	AppArmor string
	// Label holds the --security-opt label=... values in order:
	// "disable", or "user:", "role:", "type:", "level:" with a value.
	Label []string
	// Devices holds the --device flags in order.
	Devices []Device
	// Opts holds the --security-opt values as given, in order.
	Opts []string
}

// Device is one --device HOSTPATH[:CTRPATH][:PERMISSIONS].
type Device struct {
	// Host is the absolute host path of the device node, cleaned.
	Host string
	// Container is where it appears inside (default: Host), cleaned.
	Container string
	// Access is a non-empty subset of "rwm" in that order (default "rwm").
	Access string
}

func setCapAdd(b *builder, v string) error  { return appendCap(&b.run().Security.CapAdd, v) }
func setCapDrop(b *builder, v string) error { return appendCap(&b.run().Security.CapDrop, v) }

// appendCap accepts docker's spellings, comma-separated lists included.
func appendCap(list *[]string, v string) error {
	for _, name := range strings.Split(v, ",") {
		c, err := caps.Canonical(name)
		if err != nil {
			return err
		}
		*list = append(*list, c)
	}
	return nil
}

// labelRE is a SELinux context part: no colons or commas inside.
var labelRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)

func setSecurityOpt(b *builder, v string) error {
	sec := &b.run().Security
	sec.Opts = append(sec.Opts, v)
	// docker still accepts the old "key:value" form for these two.
	key, val, hasVal := strings.Cut(v, "=")
	if !hasVal && (strings.HasPrefix(v, "no-new-privileges:") || strings.HasPrefix(v, "seccomp:") || strings.HasPrefix(v, "apparmor:")) {
		key, val, hasVal = strings.Cut(v, ":")
	}
	switch key {
	case "no-new-privileges":
		on := true
		if hasVal {
			var err error
			if on, err = strconv.ParseBool(val); err != nil {
				return errors.New("want no-new-privileges=true or false")
			}
		}
		sec.NewPrivileges = !on
	case "seccomp":
		if val == "" {
			return errors.New("want seccomp=unconfined or seccomp=PROFILE.json")
		}
		sec.Seccomp = val
	case "systempaths":
		if val != "unconfined" {
			return errors.New("want systempaths=unconfined")
		}
		sec.Unmasked = true
	case "apparmor":
		if val == "" {
			return errors.New("want apparmor=PROFILE (or apparmor=unconfined)")
		}
		sec.AppArmor = val
	case "label":
		if val == "disable" {
			sec.Label = append(sec.Label, val)
			return nil
		}
		part, name, ok := strings.Cut(val, ":")
		if !ok || !labelRE.MatchString(name) && part != "level" || part == "level" && name == "" {
			return errors.New("want label=user:U, role:R, type:T, level:L or disable")
		}
		switch part {
		case "user", "role", "type", "level":
			sec.Label = append(sec.Label, val)
		default:
			return errors.New("want label=user:U, role:R, type:T, level:L or disable")
		}
	default:
		return errors.New("want no-new-privileges[=BOOL], seccomp=unconfined|FILE, systempaths=unconfined, apparmor=PROFILE or label=...")
	}
	return nil
}

func setDevice(b *builder, v string) error {
	parts := strings.Split(v, ":")
	if len(parts) > 3 || parts[0] == "" {
		return errors.New("want HOSTPATH[:CTRPATH][:PERMISSIONS]")
	}
	d := Device{Host: path.Clean(parts[0]), Access: "rwm"}
	if !filepath.IsAbs(d.Host) {
		return errors.New("want an absolute HOSTPATH, like /dev/fuse")
	}
	d.Container = d.Host
	rest := parts[1:]
	// docker: a last part made only of r, w and m is the permissions.
	if n := len(rest); n > 0 && validAccess(rest[n-1]) {
		d.Access = normalizeAccess(rest[n-1])
		rest = rest[:n-1]
	}
	switch len(rest) {
	case 0:
	case 1:
		if !path.IsAbs(rest[0]) {
			return errors.New("want an absolute CTRPATH, or PERMISSIONS made of r, w and m")
		}
		d.Container = path.Clean(rest[0])
	default:
		return errors.New("want PERMISSIONS made of r, w and m")
	}
	if d.Container == "/dev" || !strings.HasPrefix(d.Container, "/dev/") {
		return errors.New("want a CTRPATH under /dev/")
	}
	r := b.run()
	r.Security.Devices = append(r.Security.Devices, d)
	return nil
}

func validAccess(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("rwm", c) {
			return false
		}
	}
	return true
}

// normalizeAccess orders the letters as the devices cgroup writes them.
func normalizeAccess(s string) string {
	var out strings.Builder
	for _, c := range "rwm" {
		if strings.ContainsRune(s, c) {
			out.WriteRune(c)
		}
	}
	return out.String()
}

// Userns is --userns: the container's user namespace.
type Userns struct {
	// Mode is "" or "host" (no user namespace), "auto" (a free 65536-id
	// range from /etc/subuid and /etc/subgid, or the documented default),
	// or "map" (Map, for uids and gids alike).
	Mode string
	// Map holds CTRID:HOSTID:SIZE ranges: sorted by CTRID, not
	// overlapping on either side, sizes above 0, at most 340 (the kernel's
	// limit).
	Map []IDMap
}

// IDMap maps Size ids from Container on, inside, to Host on, outside.
type IDMap struct {
	Container, Host, Size uint32
}

func setUserns(b *builder, v string) error {
	u := &b.run().Userns
	switch v {
	case "", "host":
		*u = Userns{}
		return nil
	case "auto":
		*u = Userns{Mode: "auto"}
		return nil
	}
	var maps []IDMap
	for _, r := range strings.Split(v, ",") {
		f := strings.Split(r, ":")
		if len(f) != 3 {
			return errors.New("want host, auto or CTRID:HOSTID:SIZE[,CTRID:HOSTID:SIZE...]")
		}
		var n [3]uint32
		for i, s := range f {
			x, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return errors.New("want host, auto or CTRID:HOSTID:SIZE[,...] with decimal ids")
			}
			n[i] = uint32(x)
		}
		m := IDMap{Container: n[0], Host: n[1], Size: n[2]}
		if m.Size == 0 || uint64(m.Container)+uint64(m.Size) > 1<<32-1 || uint64(m.Host)+uint64(m.Size) > 1<<32-1 {
			return errors.New("want a SIZE above 0 that keeps both ranges below 4294967295")
		}
		maps = append(maps, m)
	}
	if len(maps) > 340 {
		return errors.New("at most 340 ranges")
	}
	for i, a := range maps {
		for _, b := range maps[i+1:] {
			if overlap(a.Container, a.Size, b.Container, b.Size) || overlap(a.Host, a.Size, b.Host, b.Size) {
				return errors.New("ranges overlap")
			}
		}
	}
	*u = Userns{Mode: "map", Map: maps}
	return nil
}

func overlap(a, an, b, bn uint32) bool {
	return uint64(a) < uint64(b)+uint64(bn) && uint64(b) < uint64(a)+uint64(an)
}
