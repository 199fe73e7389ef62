package cgroups

// Device access: which device nodes the container may read, write and
// create (mknod). The launcher builds the container's /dev itself; this
// is the kernel's check behind it, which also covers nodes the container
// makes with mknod or finds on a filesystem it can mount.
//
// LinuxResources.Devices is a list of runtime-spec rules, read as runc
// reads them: for each access an operation asks for (r, w, m), the last
// rule that matches the device and names that access decides. A list
// starting with an all-devices rule ("a *:* rwm": docker's deny-all)
// starts from it; any other starts from what the parent cgroup allows.
// An empty list restricts nothing (a privileged container).
//
// Which driver does it (Create):
//   - v1 and hybrid hosts with the v1 devices controller: "a" to
//     devices.deny for a leading deny-all, then each rule in the kernel's
//     syntax ("c 1:3 rwm", "c 136:* rwm") to devices.allow or devices.deny.
//   - cgroup2 without it (v2 hosts): a BPF_PROG_TYPE_CGROUP_DEVICE program
//     on the container's cgroup2 directory (devices_bpf.go). Attached with
//     BPF_F_ALLOW_MULTI, so a parent's program keeps applying too.
//
// Both happen at Create, before any process is in the cgroup.
//
// v1 keeps a default and a list of exceptions to it, and takes back an
// exception only when a later rule names exactly the same devices. A list
// in which a later rule would take back part of an earlier one of the
// other kind (deny "c 1:3" after allow "c 1:*", or deny "c 1:*" after
// allow "c 1:3") is refused on every host: v1 would ignore the later
// rule, and the two drivers must agree. One difference remains, stricter
// on v1: it needs a single rule granting all an open asks for (reading
// and writing), where the program checks each access on its own.

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Access bits, as the kernel's BPF context has them (BPF_DEVCG_ACC_*).
const (
	accMknod = 1
	accRead  = 2
	accWrite = 4
	accAll   = accMknod | accRead | accWrite
)

// maxDeviceRules keeps the BPF program under the 4096 instructions that
// kernels before 5.2 allow (at most 5 per rule, plus 10).
const maxDeviceRules = 800

// DefaultDevices is docker's device list for an unprivileged container:
// deny everything, then allow what every container needs.
func DefaultDevices() []specs.LinuxDeviceCgroup {
	allow := func(kind string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		d := specs.LinuxDeviceCgroup{Allow: true, Type: kind, Access: access}
		if major >= 0 {
			d.Major = &major
		}
		if minor >= 0 {
			d.Minor = &minor
		}
		return d
	}
	const wildcard = -1
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},       // deny all: what follows is the allowlist
		allow("c", wildcard, wildcard, "m"), // mknod of any character device (opening it is another matter)
		allow("b", wildcard, wildcard, "m"), // mknod of any block device
		allow("c", 1, 3, "rwm"),             // /dev/null
		allow("c", 1, 5, "rwm"),             // /dev/zero
		allow("c", 1, 7, "rwm"),             // /dev/full
		allow("c", 1, 8, "rwm"),             // /dev/random
		allow("c", 1, 9, "rwm"),             // /dev/urandom
		allow("c", 5, 0, "rwm"),             // /dev/tty
		allow("c", 5, 1, "rwm"),             // /dev/console
		allow("c", 5, 2, "rwm"),             // /dev/ptmx
		allow("c", 136, wildcard, "rwm"),    // /dev/pts/N
		allow("c", 10, 200, "rwm"),          // /dev/net/tun
	}
}

// deviceRule is one rule of a device list, checked: kind 'c' or 'b'
// ('a' with numbers is split into both), -1 for a wildcard number.
type deviceRule struct {
	index        int // in LinuxResources.Devices, for errors
	allow        bool
	kind         byte
	major, minor int64
	access       uint8 // acc* bits
}

// deviceList is a device list ready for either driver.
type deviceList struct {
	// reset: the list starts from its last all-devices rule ("a *:* rwm"),
	// which says defaultAllow; without one, defaultAllow is true: the
	// parent's rules apply (v2: its program; v1: the copy a new cgroup
	// gets of its parent's list).
	reset, defaultAllow bool
	rules               []deviceRule // after that rule, in order
}

// String is the rule in the kernel's v1 syntax: "c 1:3 rwm", "b *:* m".
func (r deviceRule) String() string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return string(r.kind) + " " + num(r.major) + ":" + num(r.minor) + " " + accessString(r.access)
}

func accessString(a uint8) string {
	s := ""
	for _, c := range []struct {
		bit    uint8
		letter string
	}{{accRead, "r"}, {accWrite, "w"}, {accMknod, "m"}} {
		if a&c.bit != 0 {
			s += c.letter
		}
	}
	return s
}

func (r deviceRule) verb() string {
	if r.allow {
		return "allow"
	}
	return "deny"
}

func (r deviceRule) sameDevices(o deviceRule) bool {
	return r.kind == o.kind && r.major == o.major && r.minor == o.minor
}

// overlaps: some device matches both.
func (r deviceRule) overlaps(o deviceRule) bool {
	num := func(a, b int64) bool { return a == b || a < 0 || b < 0 }
	return r.kind == o.kind && num(r.major, o.major) && num(r.minor, o.minor)
}

// parseDevices checks a runtime-spec device list; nil when it is empty.
func parseDevices(devs []specs.LinuxDeviceCgroup) (*deviceList, error) {
	if len(devs) == 0 {
		return nil, nil
	}
	l := &deviceList{defaultAllow: true}
	// live: the exceptions to the default that v1 would hold now, to
	// refuse a rule v1 would ignore (see the top of this file).
	var live []deviceRule
	for i, d := range devs {
		r := deviceRule{index: i, allow: d.Allow, major: -1, minor: -1}
		where := fmt.Sprintf("cgroups: devices[%d]", i)
		switch d.Type {
		case "", "a":
			r.kind = 'a'
		case "c", "b":
			r.kind = d.Type[0]
		default:
			return nil, fmt.Errorf("%s: invalid type %q (want a, c or b)", where, d.Type)
		}
		for _, n := range []struct {
			name string
			p    *int64
			to   *int64
		}{{"major", d.Major, &r.major}, {"minor", d.Minor, &r.minor}} {
			if n.p == nil {
				continue
			}
			// The program compares 32-bit signed immediates; real numbers
			// are far smaller (12-bit majors, 20-bit minors).
			if *n.p < 0 || *n.p > 1<<31-1 {
				return nil, fmt.Errorf("%s: invalid %s %d", where, n.name, *n.p)
			}
			*n.to = *n.p
		}
		if d.Access == "" {
			return nil, fmt.Errorf("%s: empty access (want letters of rwm)", where)
		}
		for _, c := range d.Access {
			switch c {
			case 'r':
				r.access |= accRead
			case 'w':
				r.access |= accWrite
			case 'm':
				r.access |= accMknod
			default:
				return nil, fmt.Errorf("%s: invalid access %q (want letters of rwm)", where, d.Access)
			}
		}

		if r.kind == 'a' && r.major < 0 && r.minor < 0 && r.access == accAll {
			l.reset, l.defaultAllow, l.rules, live = true, r.allow, nil, nil
			continue
		}
		split := []deviceRule{r}
		if r.kind == 'a' {
			// v1 reads any "a ..." as all devices: say c and b instead.
			c, b := r, r
			c.kind, b.kind = 'c', 'b'
			split = []deviceRule{c, b}
		}
		for _, r := range split {
			if r.allow != l.defaultAllow {
				live = append(live, r)
				l.rules = append(l.rules, r)
				continue
			}
			for _, e := range live {
				if e.access&r.access != 0 && e.overlaps(r) && !e.sameDevices(r) {
					return nil, fmt.Errorf("%s: %s %q takes back part of devices[%d] %s %q, which cgroup v1 cannot do (it takes back only a rule for exactly the same devices); list the devices one by one instead",
						where, r.verb(), r, e.index, e.verb(), e)
				}
			}
			for j := range live {
				if live[j].sameDevices(r) {
					live[j].access &^= r.access
				}
			}
			l.rules = append(l.rules, r)
		}
	}
	if len(l.rules) > maxDeviceRules {
		return nil, fmt.Errorf("cgroups: devices: %d rules, at most %d", len(l.rules), maxDeviceRules)
	}
	return l, nil
}

// setDevices writes the list as v1 does it: start from deny-all (or, for
// allow-all, from the copy of its parent's list a new cgroup starts with:
// writing "a" to devices.allow would only fail under a restricted parent),
// then each rule in order.
func (v1Driver) setDevices(s setter, l *deviceList) error {
	if l.reset && !l.defaultAllow {
		if err := s.writeDeviceRule("devices.deny", "a", "devices: deny all"); err != nil {
			return err
		}
	}
	for _, r := range l.rules {
		file := "devices.deny"
		if r.allow {
			file = "devices.allow"
		}
		if err := s.writeDeviceRule(file, r.String(), fmt.Sprintf("devices[%d]", r.index)); err != nil {
			return err
		}
	}
	return nil
}

func (s setter) writeDeviceRule(file, rule, what string) error {
	p := s.dir + "/" + file
	if err := s.fs.write(p, rule); err != nil {
		return fmt.Errorf("cgroups: %s %q: %s: %w", what, rule, p, unwrapErrno(err))
	}
	return nil
}

// setDevices attaches the program; an allow-all list needs none.
func (d v2Driver) setDevices(s setter, l *deviceList) error {
	if l.defaultAllow && len(l.rules) == 0 {
		return nil
	}
	if err := d.fs.attachDeviceProgram(s.dir, deviceProgram(l)); err != nil {
		return fmt.Errorf("cgroups: devices: %w", err)
	}
	return nil
}
