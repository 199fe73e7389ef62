package probe

import (
	"strconv"
	"strings"

	"github.com/stdcontainer/stdcontainer/init/internal/rawfile"
)

const cgroupRoot = "/sys/fs/cgroup"

// cgLimit is one limit file. A cgroup v1 file lives in the hierarchy of
// the controller its name starts with ("pids.max" in pids/).
type cgLimit struct {
	file string
	v1   bool
	// Per-device files (io.max, blkio.throttle.*) list only the devices
	// with a limit: any line is one. The others hold a number, or "max"
	// ("-1" for cpu.cfs_quota_us) when unlimited.
	perDevice bool
}

var cgLimits = [...]cgLimit{
	{"memory.max", false, false},
	{"memory.swap.max", false, false},
	{"pids.max", false, false},
	{"cpu.max", false, false},
	{"io.max", false, true},
	{"memory.limit_in_bytes", true, false},
	{"memory.memsw.limit_in_bytes", true, false},
	{"pids.max", true, false},
	{"cpu.cfs_quota_us", true, false},
	{"blkio.throttle.read_bps_device", true, true},
	{"blkio.throttle.write_bps_device", true, true},
	{"blkio.throttle.read_iops_device", true, true},
	{"blkio.throttle.write_iops_device", true, true},
}

// limitSet tells a limit from "unlimited" in a squeezed limit file: a
// per-device file with any line, else a first field that is a number
// ("max" and cpu.cfs_quota_us's "-1" are not; cpu.max is "QUOTA PERIOD").
// A number counts only below 2^62: v1 reports "unlimited" as a huge
// page-rounded number (9223372036854771712).
func limitSet(v string, perDevice bool) bool {
	if perDevice {
		return v != ""
	}
	v, _, _ = strings.Cut(v, " ")
	n, ok := parseUint(v, 10)
	return ok && n < 1<<62
}

// cgroupLimits looks for resource limits on our own cgroup.
func (p *prober) cgroupLimits() {
	// sysfs always has the mount point: only entries show a mounted cgroupfs.
	if names, err := rawfile.Names(p.Root + cgroupRoot); err != nil || len(names) == 0 {
		p.add(No, cgroupRoot+" not mounted")
		return
	}
	own, err := p.read("/proc/self/cgroup")
	note := ""
	if err != nil {
		note = " (/proc/self/cgroup: " + err.Error() + ")"
	}
	ev, read := "", 0
	for _, l := range cgLimits {
		v, ok := p.cgroupFile(own, l)
		if !ok {
			continue
		}
		read++
		if limitSet(v, l.perDevice) {
			if ev != "" {
				ev += " "
			}
			ev += l.file + "=" + clip(v, 100)
		}
	}
	yes := ev != ""
	switch {
	case yes:
	case read == 0:
		ev = "cgroupfs mounted, no limit files readable"
	default:
		ev = "cgroupfs mounted, no limits set (" + strconv.Itoa(read) + " files checked)"
	}
	p.addBool(yes, ev+note)
}

// cgroupFile reads l from our cgroup, given the /proc/self/cgroup text,
// squeezed onto one line. Our cgroup's path is tried first; then the
// hierarchy root, because inside a cgroup namespace (or with the runtime
// bind-mounting our cgroup there) the root is our cgroup, while outside
// one it is the host's root, which holds no limits.
func (p *prober) cgroupFile(own string, l cgLimit) (string, bool) {
	// cgroup2 is at the root, or at unified/ on hybrid hosts.
	ctrl, path, mounts := "", "", [2]string{"", "/unified"}
	if l.v1 {
		ctrl, _, _ = strings.Cut(l.file, ".")
		mounts = [2]string{"/" + ctrl, "/" + ctrl}
	}
	for own != "" {
		var line string
		line, own = nextLine(own)
		// "ID:CONTROLLERS:PATH"; cgroup2 is "0::PATH".
		id, rest, _ := strings.Cut(line, ":")
		ctrls, dir, _ := strings.Cut(rest, ":")
		if !strings.HasPrefix(dir, "/") {
			continue
		}
		switch {
		case !l.v1 && id == "0" && ctrls == "":
			path = dir
		case l.v1 && strings.Contains(","+ctrls+",", ","+ctrl+","):
			// Co-mounted controllers live in "cpu,cpuacct", "cpu" being a symlink.
			path, mounts[1] = dir, "/"+ctrls
		}
	}
	for _, d := range [...]string{strings.TrimSuffix(path, "/"), ""} {
		for _, m := range mounts {
			// io.max and blkio.throttle.* have a line per device.
			if s, err := p.read(cgroupRoot + m + d + "/" + l.file); err == nil {
				return squeeze(s), true
			}
		}
	}
	return "", false
}
