package ocispec

import (
	"errors"
	"path"
	"strings"
)

// cgroupParent turns linux.cgroupsPath into the engine's CgroupParent.
// The engine always names the container's cgroup "stdcontainer-<id12>"
// itself, under CgroupParent, so the path's last component (the name a
// runc caller picks) is replaced by that:
//
//	""               → "" (under the launcher's own cgroup)
//	"/a/b/c"         → "/a/b" (from the hierarchy's root)
//	"/c"             → "/"
//	"a/b/c"          → "a/b" (relative to the launcher's own cgroup)
//	"c"              → ""
//
// The systemd form "SLICE:PREFIX:NAME" (runc --systemd-cgroup, which
// containerd and CRI-O pass) is recognised by its two colons; the engine
// does not ask systemd for a scope but creates the cgroup under the
// slice's directory, expanded the way systemd lays slices out:
//
//	"system.slice:docker:ID"  → "/system.slice"
//	"a-b.slice:crio:ID"       → "/a.slice/a-b.slice"
//	"-.slice:p:n"             → "/"
//	":p:n"                    → "/system.slice" (runc's default slice)
//
// PREFIX and NAME are ignored, as the last component is above.
func cgroupParent(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if strings.ContainsAny(p, "\x00\n") {
		return "", errors.New("contains a NUL or newline")
	}
	if !strings.HasPrefix(p, "/") && strings.Count(p, ":") == 2 {
		slice, _, _ := strings.Cut(p, ":")
		return expandSlice(slice)
	}
	clean := path.Clean(p)
	if clean == "/" || clean == "." {
		return "", errors.New("names no cgroup (want a path such as /mygroup/ctr, or slice:prefix:name)")
	}
	parent := path.Dir(clean)
	if parent == "." {
		return "", nil
	}
	return parent, nil
}

// unitChars are those systemd allows in a unit name (besides the colon,
// which cannot occur here).
const unitChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.\\-"

// expandSlice is the directory of a systemd slice unit: each dash in its
// name is a level ("a-b-c.slice" is a-b-c.slice in a-b.slice in a.slice).
func expandSlice(slice string) (string, error) {
	if slice == "" {
		slice = "system.slice"
	}
	if slice == "-.slice" {
		return "/", nil
	}
	name, ok := strings.CutSuffix(slice, ".slice")
	if !ok || name == "" || strings.Trim(name, unitChars) != "" || strings.Contains(name, "--") ||
		strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") {
		return "", errors.New("the slice " + q(slice) + " is not a systemd slice name (want e.g. system.slice or machine-ctr.slice)")
	}
	var dir strings.Builder
	prefix := ""
	for _, part := range strings.Split(name, "-") {
		if prefix != "" {
			prefix += "-"
		}
		prefix += part
		dir.WriteString("/" + prefix + ".slice")
	}
	return dir.String(), nil
}
