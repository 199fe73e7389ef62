package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/cgroups"
	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
)

// --userns=auto gives each container a block of autoSize host ids. The
// blocks come from the entries of the user "stdcontainer" in /etc/subuid
// and /etc/subgid, or else from the default pool: 2^30 on, 16384 blocks,
// far above the ids distributions hand out to users and services.
const (
	autoSize          = 65536
	autoUser          = "stdcontainer"
	defaultPoolStart  = 1 << 30
	defaultPoolBlocks = 16384
)

// usernsLeaseDir holds one file per leased block, named by its index and
// holding the container's id, created with O_EXCL: two launchers never
// hand out the same block.
func usernsLeaseDir(store *state.Store) string { return filepath.Join(store.Root, "userns") }

// autoMappings leases a free block for id and returns its mappings.
func autoMappings(store *state.Store, id string) (uids, gids []specs.LinuxIDMapping, err error) {
	uidStart, uidBlocks, err := subIDPool("/etc/subuid")
	if err != nil {
		return nil, nil, err
	}
	gidStart, gidBlocks, err := subIDPool("/etc/subgid")
	if err != nil {
		return nil, nil, err
	}
	dir := usernsLeaseDir(store)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	for i := uint32(0); i < min(uidBlocks, gidBlocks); i++ {
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(int(i))), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		_, err = f.WriteString(id)
		f.Close()
		if err != nil {
			releaseUserns(store, id)
			return nil, nil, err
		}
		uids = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uidStart + i*autoSize, Size: autoSize}}
		gids = []specs.LinuxIDMapping{{ContainerID: 0, HostID: gidStart + i*autoSize, Size: autoSize}}
		return uids, gids, nil
	}
	return nil, nil, userErrorf("--userns auto: every block of %d ids is in use (see /etc/subuid)", autoSize)
}

// subIDPool is the first range of autoUser in file (/etc/subuid format:
// NAME:START:COUNT), in blocks, or the default pool when there is none.
func subIDPool(file string) (start, blocks uint32, err error) {
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, 0, err
	}
	return parseSubIDs(file, data)
}

// parseSubIDs is subIDPool on the file's contents.
func parseSubIDs(file string, data []byte) (start, blocks uint32, err error) {
	first, count, found, valid := findSubIDs(data, autoUser)
	if !found {
		return defaultPoolStart, defaultPoolBlocks, nil
	}
	if !valid || count < autoSize {
		return 0, 0, userErrorf("--userns auto: %s: want %s:START:COUNT with COUNT at least %d", file, autoUser, autoSize)
	}
	return first, count / autoSize, nil
}

// findSubIDs is the first range of /etc/subuid-format data (NAME:START:COUNT)
// whose NAME is one of owners; valid says it is well formed and stays
// within the 32-bit id space.
func findSubIDs(data []byte, owners ...string) (start, count uint32, found, valid bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(f) != 3 || !slices.Contains(owners, f[0]) {
			continue
		}
		first, err1 := strconv.ParseUint(f[1], 10, 32)
		n, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || n == 0 || first+n > 1<<32-1 {
			return 0, 0, true, false
		}
		return uint32(first), uint32(n), true, true
	}
	return 0, 0, false, false
}

// rootlessMappings maps the caller's uid and gid to root and, when
// newuidmap and newgidmap are installed and /etc/subuid and /etc/subgid
// give the caller ranges, up to 65535 further ids from them (for images
// with other users). external says newuidmap must write them: an
// unprivileged process may only map its own ids.
func rootlessMappings() (uids, gids []specs.LinuxIDMapping, external bool) {
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	uids = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uid, Size: 1}}
	gids = []specs.LinuxIDMapping{{ContainerID: 0, HostID: gid, Size: 1}}
	if _, err := exec.LookPath("newuidmap"); err != nil {
		return uids, gids, false
	}
	if _, err := exec.LookPath("newgidmap"); err != nil {
		return uids, gids, false
	}
	owners := []string{strconv.Itoa(int(uid))}
	if u, err := user.LookupId(owners[0]); err == nil {
		owners = append(owners, u.Username)
	}
	subuid, _ := os.ReadFile("/etc/subuid")
	subgid, _ := os.ReadFile("/etc/subgid")
	ustart, ucount, _, uok := findSubIDs(subuid, owners...)
	gstart, gcount, _, gok := findSubIDs(subgid, owners...)
	if !uok || !gok {
		return uids, gids, false
	}
	uids = append(uids, specs.LinuxIDMapping{ContainerID: 1, HostID: ustart, Size: min(ucount, autoSize-1)})
	gids = append(gids, specs.LinuxIDMapping{ContainerID: 1, HostID: gstart, Size: min(gcount, autoSize-1)})
	return uids, gids, true
}

// writeMappings runs newuidmap and newgidmap for pid, which waits
// unmapped in its new user namespace.
func writeMappings(pid int, uids, gids []specs.LinuxIDMapping) error {
	for _, m := range []struct {
		tool string
		ids  []specs.LinuxIDMapping
	}{{"newuidmap", uids}, {"newgidmap", gids}} {
		args := []string{strconv.Itoa(pid)}
		for _, id := range m.ids {
			args = append(args, strconv.Itoa(int(id.ContainerID)), strconv.Itoa(int(id.HostID)), strconv.Itoa(int(id.Size)))
		}
		if out, err := exec.Command(m.tool, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %v: %s", m.tool, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
	}
	return nil
}

// releaseUserns gives back the block leased to id, if any.
func releaseUserns(store *state.Store, id string) {
	for block, holder := range usernsLeases(store) {
		if holder == id {
			os.Remove(filepath.Join(usernsLeaseDir(store), block))
		}
	}
}

// usernsLeases maps each leased block's file name to its holder's id.
func usernsLeases(store *state.Store) map[string]string {
	entries, _ := os.ReadDir(usernsLeaseDir(store))
	leases := map[string]string{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(usernsLeaseDir(store), e.Name()))
		if err == nil {
			leases[e.Name()] = string(data)
		}
	}
	return leases
}

// ReleaseLostUserns frees the blocks of containers that no longer have
// state (for gc) and returns their ids.
func ReleaseLostUserns(store *state.Store) []string {
	var released []string
	for block, id := range usernsLeases(store) {
		if _, err := store.Get(id); errors.Is(err, state.ErrNotFound) {
			if os.Remove(filepath.Join(usernsLeaseDir(store), block)) == nil {
				released = append(released, id)
			}
		}
	}
	return released
}

// sysIDMaps turns OCI mappings into what clone(2) writes for the child.
func sysIDMaps(in []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(in))
	for i, m := range in {
		out[i] = syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)}
	}
	return out
}

// hostID maps a container id to the host, or reports it unmapped.
func hostID(maps []specs.LinuxIDMapping, id uint32) (uint32, bool) {
	for _, m := range maps {
		if id >= m.ContainerID && id-m.ContainerID < m.Size {
			return m.HostID + (id - m.ContainerID), true
		}
	}
	return 0, false
}

// userNamespace settles the container's id mappings (leasing a block for
// --userns=auto) and asks for the namespace at clone time.
func userNamespace(store *state.Store, s *spec.Spec, cfg *container.Config, spawn *container.SpawnOptions) error {
	external := false
	switch {
	case s.UsernsAuto:
		uids, gids, err := autoMappings(store, s.ID)
		if err != nil {
			return err
		}
		s.Linux.UIDMappings, s.Linux.GIDMappings = uids, gids
	case os.Geteuid() != 0 && len(s.Linux.UIDMappings) == 0:
		s.Linux.UIDMappings, s.Linux.GIDMappings, external = rootlessMappings()
	}
	if len(s.Linux.UIDMappings) == 0 || len(s.Linux.GIDMappings) == 0 {
		return userErrorf("a user namespace needs uid and gid mappings")
	}
	// Stage 2 runs as the container's root; its uid 0 must exist.
	if _, ok := hostID(s.Linux.UIDMappings, 0); !ok {
		return userErrorf("--userns: the mapping has no container uid 0")
	}
	if _, ok := hostID(s.Linux.GIDMappings, 0); !ok {
		return userErrorf("--userns: the mapping has no container gid 0")
	}
	cfg.UserNS = true
	spawn.UserNS = &container.IDMaps{
		UIDs: sysIDMaps(s.Linux.UIDMappings),
		GIDs: sysIDMaps(s.Linux.GIDMappings),
		// An unprivileged user may map only its own gid, and only with
		// setgroups(2) denied (user_namespaces(7)).
		Setgroups: os.Geteuid() == 0,
		External:  external,
		LastCap:   lastCap(),
	}
	return store.Update(s.ID, func(c *state.Container) error {
		c.HostConfig.UsernsMode = usernsMode(s)
		c.HostConfig.UIDMaps, c.HostConfig.GIDMaps = s.Linux.UIDMappings, s.Linux.GIDMappings
		return nil
	})
}

func usernsMode(s *spec.Spec) string {
	switch {
	case os.Geteuid() != 0:
		return "rootless"
	case s.UsernsAuto:
		return "auto"
	}
	return "map"
}

// containerCgroup creates the container's cgroup, listing the parent
// cgroups it makes in parents. A rootless launcher gets one only where
// the host delegates a writable cgroup v2 subtree; elsewhere it runs
// without, and refuses limits rather than ignore them.
func containerCgroup(layout *cgroups.Layout, parents *cgroups.Parents, s *spec.Spec, r *specs.LinuxResources) (*cgroups.Cgroup, error) {
	name := "stdcontainer-" + s.ID[:12]
	if os.Geteuid() == 0 {
		cg, err := cgroups.Create(layout, parents, s.CgroupParent, name, r)
		if err != nil {
			return nil, &UserError{err.Error()}
		}
		return cg, nil
	}
	asked := s.CgroupParent != "" || hasLimits(r)
	if layout.Mode == "v2" {
		// No device rules: in its user namespace the container cannot
		// create device nodes, and an unprivileged user cannot attach
		// device programs anyway.
		var limits *specs.LinuxResources
		if r != nil {
			copied := *r
			copied.Devices = nil
			limits = &copied
		}
		cg, err := cgroups.Create(layout, parents, s.CgroupParent, name, limits)
		if err == nil {
			return cg, nil
		}
		if asked {
			return nil, userErrorf("resource limits as uid %d: %v (rootless limits need a delegated, writable cgroup v2 subtree)", os.Geteuid(), err)
		}
		return nil, nil
	}
	if asked {
		return nil, userErrorf("resource limits need root here: this host's cgroups are %s, and rootless limits need a delegated cgroup v2 subtree", layout.Mode)
	}
	return nil, nil
}

// hasLimits reports whether r limits anything (device rules aside).
func hasLimits(r *specs.LinuxResources) bool {
	return r != nil && (r.Memory != nil || r.CPU != nil || r.Pids != nil || r.BlockIO != nil ||
		len(r.HugepageLimits) > 0 || r.Network != nil || len(r.Unified) > 0)
}

// idmappedImage is a detached bind mount of the image whose ids are
// mapped through the user namespace of pid (stage 2): files the host's
// root owns belong to the container's root. Not every filesystem can be
// id-mapped; the caller then uses the image as it is.
func idmappedImage(image string, pid int) (*os.File, error) {
	tree, err := unix.OpenTree(unix.AT_FDCWD, image, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("open_tree %s: %v", image, err)
	}
	f := os.NewFile(uintptr(tree), image)
	userns, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		f.Close()
		return nil, err
	}
	defer userns.Close()
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		f.Close()
		return nil, fmt.Errorf("id-mapping %s: %v", image, err)
	}
	return f, nil
}
