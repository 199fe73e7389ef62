package probe

import (
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// nsInfo names a namespace's /proc/self/ns entry and the inode the kernel
// gives the initial namespace (PROC_*_INIT_INO). Rows follow Keys.
type nsInfo struct {
	name     string
	initial  uint64
	since618 bool // initial inode fixed only from Linux 6.18 on
}

// namespaces is in row order. net and mnt got fixed initial inodes in 6.18;
// before that they were allocated like any other namespace's.
var namespaces = [...]nsInfo{
	{"pid", 0xEFFFFFFC, false},
	{"mnt", 0xEFFFFFF8, true},
	{"net", 0xEFFFFFF9, true},
	{"uts", 0xEFFFFFFE, false},
	{"ipc", 0xEFFFFFFF, false},
	{"user", 0xEFFFFFFD, false},
	{"cgroup", 0xEFFFFFFB, false},
}

// namespace adds ns's row, from /proc/self/ns/<name>'s inode compared with
// the initial one.
func (p *prober) namespace(ns nsInfo) {
	link := "/proc/self/ns/" + ns.name
	var buf [128]byte
	n, err := syscall.Readlink(p.Root+link, buf[:])
	target := string(buf[:max(n, 0)])
	// The target reads "uts:[4026531838]".
	_, num, _ := strings.Cut(target, "[")
	num, closed := strings.CutSuffix(num, "]")
	ino, ok := parseUint(num, 10)
	inoS := strconv.FormatUint(ino, 10)
	old := ns.since618 && !p.kernelAtLeast(6, 18)
	// The host's namespace has more than loopback: seeing only loopback
	// proves a net namespace of our own, whatever the kernel.
	lo := ns.name == "net" && p.netErr == nil && len(p.links) > 0
	for i := range p.links {
		lo = lo && p.links[i].Loopback
	}
	yes, ev := false, ""
	switch {
	case err != nil:
		ev = link + ": " + err.Error() + " (is /proc mounted?)"
	case !ok || !closed:
		ev = "unexpected " + link + " link \"" + clip(target, 40) + "\""
	case old && lo:
		yes, ev = true, "only loopback links visible (net inode "+inoS+")"
	case old:
		ev = "cannot tell on kernel " + p.Kernel + " (" + ns.name + " inode " + inoS + ")"
	default:
		yes = ino != ns.initial
		rel := " == "
		if yes {
			rel = " != "
		}
		ev = ns.name + " inode " + inoS + rel + "initial " + strconv.FormatUint(ns.initial, 10)
	}
	switch ns.name {
	case "pid":
		// NSpid lists our pid in every pid namespace down from ours: more
		// than one field proves nesting even where the inode cannot.
		if v := p.statusValue("NSpid"); strings.IndexByte(v, ' ') > 0 {
			yes = true
			ev += "; NSpid " + v
		}
	case "user":
		// uid_map's first line, e.g. "0 0 4294967295".
		m, err := p.line("/proc/self/uid_map")
		switch {
		case err != nil:
			m = "unreadable (" + err.Error() + ")"
		case m == "":
			m = "empty"
		}
		ev += "; uid_map " + squeeze(m)
	}
	p.addBool(yes, ev)
}

// kernelAtLeast compares the release's major.minor; an unparsable release
// counts as old so the probe never claims what it cannot know.
func (p *prober) kernelAtLeast(major, minor uint64) bool {
	maj, rest, _ := strings.Cut(p.Kernel, ".")
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	x, ok1 := parseUint(maj, 10)
	y, ok2 := parseUint(rest[:i], 10)
	return ok1 && ok2 && (x > major || x == major && y >= minor)
}

func unameRelease() string {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return "unknown"
	}
	return cString(unsafe.Slice((*byte)(unsafe.Pointer(&u.Release[0])), len(u.Release)))
}
