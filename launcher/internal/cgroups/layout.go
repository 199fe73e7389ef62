package cgroups

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Layout is how a host mounts cgroupfs, from /proc/self/mountinfo and
// /proc/self/cgroup.
type Layout struct {
	// Mode is "v1", "v2" or "hybrid" (both kinds mounted).
	Mode string
	// V1 maps a v1 controller name ("memory", "cpu", "cpuacct", "cpuset",
	// "pids", "blkio", "freezer", "devices", "name=systemd", …) to the mount
	// point of its hierarchy. Co-mounted controllers share one mount point.
	V1 map[string]string
	// V2 is the cgroup2 mount point, "" if none.
	V2 string
	// V2Controllers lists <V2>/cgroup.controllers.
	V2Controllers []string
	// Own maps a hierarchy's mount point to the caller's cgroup inside it
	// (from /proc/self/cgroup, relative to what the mount shows).
	Own map[string]string

	fs fsys // nil: the real cgroupfs; tests put a fake here
}

// v1Controllers are the names a v1 cgroup mount's options may hold; any
// other option (rw, noprefix, clone_children, release_agent=…) is not one.
var v1Controllers = map[string]bool{
	"cpu": true, "cpuacct": true, "cpuset": true, "memory": true,
	"devices": true, "freezer": true, "net_cls": true, "net_prio": true,
	"blkio": true, "perf_event": true, "hugetlb": true, "pids": true,
	"rdma": true, "misc": true, "debug": true,
}

// Detect reads this process's cgroup layout.
func Detect() (*Layout, error) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	pc, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	return DetectFrom(mi, pc, os.ReadFile)
}

// mount is one cgroupfs mount found in mountinfo.
type mount struct {
	point, root string
}

// DetectFrom builds a Layout from the text of /proc/self/mountinfo and
// /proc/self/cgroup; readFile reads <V2>/cgroup.controllers. Malformed
// lines are skipped.
func DetectFrom(mountinfo, procCgroup []byte, readFile func(string) ([]byte, error)) (*Layout, error) {
	l := &Layout{V1: map[string]string{}, Own: map[string]string{}}
	roots := map[string]string{} // mount point -> root of the cgroup tree it shows
	var v2 *mount
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m, fstype, opts, ok := parseMountinfoLine(sc.Text())
		if !ok {
			continue
		}
		switch fstype {
		case "cgroup2":
			// The first one wins unless a later one shows the whole tree.
			if v2 == nil || (v2.root != "/" && m.root == "/") {
				v2 = &m
			}
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(opts, ",") {
				if v1Controllers[o] || (strings.HasPrefix(o, "name=") && len(o) > len("name=")) {
					ctrls = append(ctrls, o)
				}
			}
			for _, c := range ctrls {
				// Bind mounts of the same hierarchy: prefer one showing the
				// whole tree, else keep the first.
				if p, ok := l.V1[c]; ok && (roots[p] == "/" || m.root != "/") {
					continue
				}
				l.V1[c] = m.point
			}
			if len(ctrls) > 0 {
				if _, ok := roots[m.point]; !ok || m.root == "/" {
					roots[m.point] = m.root
				}
			}
		}
	}
	if v2 != nil {
		l.V2 = v2.point
		roots[v2.point] = v2.root
	}
	switch {
	case len(l.V1) > 0 && l.V2 != "":
		l.Mode = "hybrid"
	case len(l.V1) > 0:
		l.Mode = "v1"
	case l.V2 != "":
		l.Mode = "v2"
	default:
		return nil, errors.New("cgroups: no cgroup filesystem is mounted (/proc/self/mountinfo has no cgroup or cgroup2 entry)")
	}
	if l.V2 != "" {
		b, err := readFile(path.Join(l.V2, "cgroup.controllers"))
		if err != nil {
			return nil, fmt.Errorf("cgroups: %w", err)
		}
		l.V2Controllers = strings.Fields(string(b))
	}

	// /proc/self/cgroup lines are "ID:CONTROLLERS:PATH"; cgroup2 is "0::PATH".
	for _, line := range strings.Split(string(procCgroup), "\n") {
		_, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ctrls, p, ok := strings.Cut(rest, ":")
		if !ok || !strings.HasPrefix(p, "/") {
			continue
		}
		mp := ""
		if ctrls == "" {
			mp = l.V2
		} else {
			for _, c := range strings.Split(ctrls, ",") {
				if m, ok := l.V1[c]; ok {
					mp = m
					break
				}
			}
		}
		if mp == "" {
			continue
		}
		l.Own[mp] = relativeTo(path.Clean(p), roots[mp])
	}
	return l, nil
}

// relativeTo returns cgroup path p as seen under a mount showing the tree
// from root: a mount of /docker/x shows /docker/x/y at /y.
func relativeTo(p, root string) string {
	if root == "" || root == "/" {
		return p
	}
	if p == root {
		return "/"
	}
	if strings.HasPrefix(p, root+"/") {
		return p[len(root):]
	}
	return p // outside the mount (cgroup namespaces): keep what the kernel says
}

// parseMountinfoLine splits "ID PARENT MAJ:MIN ROOT POINT OPTS [OPT…] - TYPE
// SOURCE SUPEROPTS".
func parseMountinfoLine(line string) (m mount, fstype, superopts string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 10 {
		return m, "", "", false
	}
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 || sep+3 >= len(f) {
		return m, "", "", false
	}
	m.root, m.point = unescapeOctal(f[3]), unescapeOctal(f[4])
	if !strings.HasPrefix(m.point, "/") || !strings.HasPrefix(m.root, "/") {
		return m, "", "", false
	}
	m.point = path.Clean(m.point)
	return m, f[sep+1], f[sep+3], true
}

// unescapeOctal undoes mountinfo's \ooo escapes (space is \040).
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mounts returns the distinct hierarchy mount points, v1 sorted, then v2.
func (l *Layout) mounts() []string {
	seen := map[string]bool{}
	var v1 []string
	for _, m := range l.V1 {
		if !seen[m] {
			seen[m] = true
			v1 = append(v1, m)
		}
	}
	sort.Strings(v1)
	if l.V2 != "" && !seen[l.V2] {
		v1 = append(v1, l.V2)
	}
	return v1
}

// v1Of returns the controllers co-mounted at mount point m.
func (l *Layout) v1Of(m string) []string {
	var cs []string
	for c, p := range l.V1 {
		if p == m {
			cs = append(cs, c)
		}
	}
	sort.Strings(cs)
	return cs
}

func (l *Layout) hasV2(c string) bool {
	for _, x := range l.V2Controllers {
		if x == c {
			return true
		}
	}
	return false
}
