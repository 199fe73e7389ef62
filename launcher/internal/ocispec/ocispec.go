// Package ocispec is the OCI runtime front's translation layer: it reads
// a bundle's config.json (runtime-spec 1.x) into the spec.Spec the engine
// runs, and writes the `spec` template (Default) and the `features`
// document (Features).
//
// Parse keeps the OCI fields the engine reads as they are given, and
// refuses what the engine cannot do rather than ignore it: every error is
// one line naming config.json and the field. Field by field:
//
//   - ociVersion: any 1.x.y SemVer ("1.0.0", "1.2.1-dev", ...); not 0.x, 2.x.
//   - root.path → Image: made absolute against the bundle; it must be a
//     directory. Root.Path becomes that absolute path too; root.readonly
//     is kept.
//   - process: args (required), env (NAME=VALUE), cwd (absolute), user
//     uid/gid/additionalGids (username ignored), capabilities (names
//     checked), noNewPrivileges, terminal, apparmorProfile, selinuxLabel,
//     rlimits (types checked, soft ≤ hard, applied exactly), oomScoreAdj
//     and consoleSize (the OCI front sizes the pty) are kept. Ambient
//     capabilities that are not also permitted and inheritable are
//     dropped: the kernel cannot raise them (runc warns and goes on; the
//     engine would fail), so this changes nothing the container sees.
//     user.umask, scheduler, ioPriority and execCPUAffinity are refused
//     (not supported yet).
//   - hostname is kept (at most 64 bytes); domainname is refused: the
//     engine does not set one.
//   - mounts (mounts.go): the standard /proc, /sys, /sys/fs/cgroup, /dev,
//     /dev/pts, /dev/shm and /dev/mqueue mounts are dropped, the engine
//     makes its own; bind mounts and tmpfs mounts are rewritten into the
//     shape the engine reads; every other type is refused.
//   - linux.namespaces: pid, mount, ipc, uts and cgroup must all be listed:
//     the engine always makes them, so a config that omits one (asking
//     to share the host's) is refused rather than given more isolation
//     than it asked for. network listed → Network "private"; not listed →
//     "host". user is kept with linux.uidMappings/gidMappings. A path
//     joins an existing network, ipc, uts or pid namespace (see joinable);
//     joining any other kind, and time namespaces, are refused.
//   - linux.cgroupsPath → CgroupParent (cgroup.go): the engine names the
//     container's cgroup itself, so the last component is replaced.
//   - linux.resources, maskedPaths, readonlyPaths, devices, seccomp,
//     uidMappings and gidMappings are kept. To resources.devices, when it
//     has rules, the rules runc always appends are appended (mknod of
//     any node, and the standard devices /dev/null, zero, full, random,
//     urandom, tty, ptmx, pts/* and net/tun): the engine creates those
//     nodes, and runc's bundles (a lone deny-all) rely on them. A
//     seccomp object with neither defaultAction nor syscalls means no
//     filter, as in runc; any other is checked by compiling it.
//   - linux.rootfsPropagation: "", private, rprivate, slave and rslave are
//     accepted; the engine's mount namespace is private, so slave works
//     as private (later host mounts do not show up inside). shared,
//     rshared, unbindable and runbindable are refused.
//   - linux.sysctl: only namespaced keys (IPC, fs.mqueue, net.* with a
//     network namespace), written by the engine under the container's
//     /proc/sys.
//   - hooks: every kind is kept (paths absolute, timeouts above 0); the
//     engine runs each where runc does (engine/hooks.go).
//   - linux.mountLabel, intelRdt, memoryPolicy,
//     personality, timeOffsets and netDevices are refused (not supported
//     yet); so are the other platforms' sections (windows, solaris, vm, ...).
//   - annotations are kept.
//
// Parse leaves the launcher's own fields at their zero values but Image,
// Network and CgroupParent: the caller sets ID (and Detach, Interactive,
// ... as its command asks); Name is "".
package ocispec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/stdcontainer/stdcontainer/launcher/internal/caps"
	"github.com/stdcontainer/stdcontainer/launcher/internal/cgroups"
	"github.com/stdcontainer/stdcontainer/launcher/internal/jsonerr"
	"github.com/stdcontainer/stdcontainer/launcher/internal/seccomp"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
)

// maxConfigSize bounds what Load reads: a config with docker's seccomp
// profile is about 30 KB.
const maxConfigSize = 16 << 20

// Load reads BUNDLE/config.json and returns the Spec the engine runs.
func Load(bundle string) (*spec.Spec, error) {
	name := filepath.Join(bundle, "config.json")
	f, err := os.Open(name)
	if err != nil {
		return nil, errors.New(oneLine(fmt.Sprintf("%s: %v", name, unwrapPath(err))))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, errors.New(oneLine(fmt.Sprintf("%s: %v", name, unwrapPath(err))))
	}
	if len(data) > maxConfigSize {
		return nil, errors.New(oneLine(fmt.Sprintf("%s: larger than %d bytes", name, maxConfigSize)))
	}
	return Parse(bundle, data)
}

// Parse is Load on the bytes of config.json; bundle resolves a relative
// root.path and relative bind mount sources.
func Parse(bundle string, data []byte) (*spec.Spec, error) {
	s, err := parse(bundle, data)
	if err != nil {
		return nil, errors.New(oneLine(err.Error()))
	}
	return s, nil
}

// fieldError is one refusal: "config.json: FIELD: MESSAGE".
func fieldError(field, format string, args ...any) error {
	return errors.New("config.json: " + field + ": " + fmt.Sprintf(format, args...))
}

// unsupported refuses a field the engine has no way to apply.
func unsupported(field string) error {
	return fieldError(field, "not supported yet")
}

func parse(bundle string, data []byte) (*spec.Spec, error) {
	var c specs.Spec
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, errors.New("config.json: " + jsonerr.Describe(data, err))
	}
	if err := checkVersion(c.Version); err != nil {
		return nil, err
	}
	for _, other := range []struct {
		set  bool
		name string
	}{{c.Windows != nil, "windows"}, {c.Solaris != nil, "solaris"}, {c.VM != nil, "vm"},
		{c.ZOS != nil, "zos"}, {c.FreeBSD != nil, "freebsd"}} {
		if other.set {
			return nil, fieldError(other.name, "not a Linux container's configuration (this runtime runs Linux containers only)")
		}
	}
	bundle, err := filepath.Abs(bundle)
	if err != nil {
		return nil, fmt.Errorf("config.json: bundle %s: %v", q(bundle), err)
	}
	image, err := rootPath(bundle, c.Root)
	if err != nil {
		return nil, err
	}
	c.Root = &specs.Root{Path: image, Readonly: c.Root.Readonly}
	if c.Process, err = process(c.Process); err != nil {
		return nil, err
	}
	if len(c.Hostname) > 64 || strings.IndexByte(c.Hostname, 0) >= 0 {
		return nil, fieldError("hostname", "%s: want at most 64 bytes and no NUL", q(c.Hostname))
	}
	if c.Domainname != "" {
		return nil, unsupported("domainname")
	}
	if err := checkHooks(c.Hooks); err != nil {
		return nil, err
	}
	if c.Mounts, err = translateMounts(bundle, c.Mounts); err != nil {
		return nil, err
	}
	s := &spec.Spec{Image: image}
	if c.Linux == nil {
		c.Linux = &specs.Linux{}
	}
	if s.Network, err = namespaces(c.Linux); err != nil {
		return nil, err
	}
	if err := linux(c.Linux, s.Network == "host"); err != nil {
		return nil, err
	}
	if s.CgroupParent, err = cgroupParent(c.Linux.CgroupsPath); err != nil {
		return nil, fieldError("linux.cgroupsPath", "%s: %v", q(c.Linux.CgroupsPath), err)
	}
	s.Spec = c
	return s, nil
}

// checkVersion accepts every 1.x.y: minor versions only add fields, and
// unknown fields are ignored, as the runtime-spec asks.
func checkVersion(v string) error {
	if v == "" {
		return fieldError("ociVersion", "missing")
	}
	core, _, _ := strings.Cut(v, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	ok := len(parts) == 3 && (!hasPre || pre != "")
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" || len(p) > 1 && p[0] == '0' {
			ok = false
		}
	}
	if !ok {
		return fieldError("ociVersion", "%s: not a version (want MAJOR.MINOR.PATCH, e.g. %s)", q(v), specs.Version)
	}
	if parts[0] != "1" {
		return fieldError("ociVersion", "%s: not supported (this runtime reads 1.x, %s and earlier)", q(v), specs.Version)
	}
	return nil
}

// rootPath is the image directory root.path names.
func rootPath(bundle string, r *specs.Root) (string, error) {
	if r == nil {
		return "", fieldError("root", "missing (the container's root filesystem)")
	}
	if r.Path == "" {
		return "", fieldError("root.path", "missing (the container's root filesystem)")
	}
	if strings.IndexByte(r.Path, 0) >= 0 {
		return "", fieldError("root.path", "%s: contains a NUL byte", q(r.Path))
	}
	image := r.Path
	if !filepath.IsAbs(image) {
		image = filepath.Join(bundle, image)
	}
	image = filepath.Clean(image)
	st, err := os.Stat(image)
	if err != nil {
		return "", fieldError("root.path", "%s: %v", q(image), unwrapPath(err))
	}
	if !st.IsDir() {
		return "", fieldError("root.path", "%s: not a directory", q(image))
	}
	return image, nil
}

// process checks the container's process and returns the copy to keep.
func process(in *specs.Process) (*specs.Process, error) {
	if in == nil {
		return nil, fieldError("process", "missing (what the container runs)")
	}
	p := *in
	if len(p.Args) == 0 {
		return nil, fieldError("process.args", "missing (the command to run)")
	}
	if p.Args[0] == "" {
		return nil, fieldError("process.args[0]", "empty (the command to run)")
	}
	for i, a := range p.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, fieldError(fmt.Sprintf("process.args[%d]", i), "%s: contains a NUL byte", q(a))
		}
	}
	if p.CommandLine != "" {
		return nil, fieldError("process.commandLine", "Windows only (use process.args)")
	}
	for i, kv := range p.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" || strings.IndexByte(kv, 0) >= 0 {
			return nil, fieldError(fmt.Sprintf("process.env[%d]", i), "%s: want NAME=VALUE", q(kv))
		}
	}
	if !strings.HasPrefix(p.Cwd, "/") || strings.IndexByte(p.Cwd, 0) >= 0 {
		return nil, fieldError("process.cwd", "%s: want an absolute path", q(p.Cwd))
	}
	// The entry point starts with umask 022 (the launcher's stage 2
	// sets it); podman and containerd ask for exactly that.
	if p.User.Umask != nil && *p.User.Umask != 0o022 {
		return nil, fieldError("process.user.umask", "%#o: only 022 is supported yet", *p.User.Umask)
	}
	if p.Capabilities != nil {
		c, err := capabilities(p.Capabilities)
		if err != nil {
			return nil, err
		}
		p.Capabilities = c
	}
	if err := rlimits(p.Rlimits); err != nil {
		return nil, err
	}
	if a := p.OOMScoreAdj; a != nil && (*a < -1000 || *a > 1000) {
		return nil, fieldError("process.oomScoreAdj", "%d: out of range (-1000 to 1000)", *a)
	}
	switch {
	case p.Scheduler != nil:
		return nil, unsupported("process.scheduler")
	case p.IOPriority != nil:
		return nil, unsupported("process.ioPriority")
	case p.ExecCPUAffinity != nil:
		return nil, unsupported("process.execCPUAffinity")
	}
	return &p, nil
}

// capabilities checks the five sets' names and drops the ambient ones
// the kernel would refuse to raise.
func capabilities(in *specs.LinuxCapabilities) (*specs.LinuxCapabilities, error) {
	c := *in
	for _, set := range []struct {
		name  string
		names []string
	}{{"bounding", c.Bounding}, {"effective", c.Effective}, {"permitted", c.Permitted},
		{"inheritable", c.Inheritable}, {"ambient", c.Ambient}} {
		for i, n := range set.names {
			if caps.Number(n) < 0 {
				return nil, fieldError(fmt.Sprintf("process.capabilities.%s[%d]", set.name, i),
					"unknown capability %s (want a name like CAP_NET_ADMIN, see capabilities(7))", q(n))
			}
		}
	}
	// PR_CAP_AMBIENT_RAISE needs the capability in both the permitted and
	// the inheritable set (capabilities(7)).
	var ambient []string
	for _, n := range c.Ambient {
		if slices.Contains(c.Permitted, n) && slices.Contains(c.Inheritable, n) {
			ambient = append(ambient, n)
		}
	}
	c.Ambient = ambient
	return &c, nil
}

// rlimitTypes are the resources setrlimit(2) knows.
var rlimitTypes = []string{
	"RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_LOCKS",
	"RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
	"RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
}

func rlimits(rl []specs.POSIXRlimit) error {
	seen := map[string]bool{}
	for i, r := range rl {
		field := fmt.Sprintf("process.rlimits[%d]", i)
		if !slices.Contains(rlimitTypes, r.Type) {
			return fieldError(field, "unknown type %s (want RLIMIT_NOFILE, RLIMIT_NPROC, ...; see setrlimit(2))", q(r.Type))
		}
		if seen[r.Type] {
			return fieldError(field, "%s is set twice", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return fieldError(field, "%s: soft limit %d above hard limit %d", r.Type, r.Soft, r.Hard)
		}
	}
	return nil
}

func checkHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	for _, kind := range []struct {
		name  string
		hooks []specs.Hook
	}{{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop}} {
		for i, h := range kind.hooks {
			field := fmt.Sprintf("hooks.%s[%d]", kind.name, i)
			if !filepath.IsAbs(h.Path) {
				return fieldError(field+".path", "%s: want an absolute path", q(h.Path))
			}
			if h.Timeout != nil && *h.Timeout <= 0 {
				return fieldError(field+".timeout", "%d: want a number of seconds above 0", *h.Timeout)
			}
			for _, kv := range h.Env {
				if !strings.Contains(kv, "=") {
					return fieldError(field+".env", "%s: want NAME=VALUE", q(kv))
				}
			}
		}
	}
	return nil
}

// HookKinds are the hooks Parse accepts, in the order they run.
var HookKinds = []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}

// requiredNamespaces are made by the engine for every container, and a
// config may not ask to share the host's. The cgroup namespace is made
// too, but a config without it is accepted: runc, containerd and podman
// leave it out on cgroup v1 hosts, and a private one only narrows the
// container's view of its own cgroup.
var requiredNamespaces = []specs.LinuxNamespaceType{
	specs.PIDNamespace, specs.MountNamespace, specs.IPCNamespace, specs.UTSNamespace,
}

// namespaces checks linux.namespaces and returns the Network mode.
func namespaces(l *specs.Linux) (string, error) {
	seen := map[specs.LinuxNamespaceType]bool{}
	for i, ns := range l.Namespaces {
		field := fmt.Sprintf("linux.namespaces[%d]", i)
		switch ns.Type {
		case specs.PIDNamespace, specs.NetworkNamespace, specs.MountNamespace, specs.IPCNamespace,
			specs.UTSNamespace, specs.UserNamespace, specs.CgroupNamespace:
		case specs.TimeNamespace:
			return "", fieldError(field, "time namespaces are not supported yet")
		default:
			return "", fieldError(field, "unknown namespace type %s", q(string(ns.Type)))
		}
		if seen[ns.Type] {
			return "", fieldError(field, "%s namespace is listed twice", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path != "" {
			if err := joinable(field, ns); err != nil {
				return "", err
			}
		}
	}
	for _, t := range requiredNamespaces {
		if !seen[t] {
			return "", fieldError("linux.namespaces", "no %s namespace: this runtime always gives the container its own pid, mount, ipc and uts namespaces, and cannot share the host's (add {\"type\": %q})", t, t)
		}
	}
	if err := idMappings(l, seen[specs.UserNamespace]); err != nil {
		return "", err
	}
	if seen[specs.NetworkNamespace] {
		return "private", nil
	}
	return "host", nil
}

// joinable checks a namespace to join by path. The engine joins network,
// IPC, UTS and PID namespaces (a Kubernetes pod's, a podman network's) by
// setns before it clones the container; a Go process cannot setns into a
// mount or user namespace, and the cgroup namespace is the container's
// own cgroup.
func joinable(field string, ns specs.LinuxNamespace) error {
	switch ns.Type {
	case specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.PIDNamespace:
	default:
		return fieldError(field+".path", "joining a %s namespace is not supported (only network, ipc, uts and pid)", ns.Type)
	}
	if !filepath.IsAbs(ns.Path) {
		return fieldError(field+".path", "%s: not an absolute path", q(ns.Path))
	}
	return nil
}

// idMappings checks linux.uidMappings and gidMappings against the user
// namespace, as the engine's userNamespace() will use them.
func idMappings(l *specs.Linux, userns bool) error {
	if !userns {
		if len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0 {
			return fieldError("linux.uidMappings", "set without a user namespace (add {\"type\": \"user\"} to linux.namespaces)")
		}
		return nil
	}
	if len(l.UIDMappings) == 0 && len(l.GIDMappings) == 0 {
		// Rootless, the engine maps the caller's ids (and subordinate
		// ones from /etc/subuid); as root it has nothing to map.
		if os.Geteuid() == 0 {
			return fieldError("linux.uidMappings", "missing: a user namespace needs uid and gid mappings")
		}
		return nil
	}
	for _, m := range []struct {
		field, kind string
		maps        []specs.LinuxIDMapping
	}{{"linux.uidMappings", "uid", l.UIDMappings}, {"linux.gidMappings", "gid", l.GIDMappings}} {
		if len(m.maps) == 0 {
			return fieldError(m.field, "missing: a user namespace needs both uid and gid mappings")
		}
		root := false
		for i, id := range m.maps {
			if id.Size == 0 {
				return fieldError(fmt.Sprintf("%s[%d]", m.field, i), "size 0")
			}
			if uint64(id.ContainerID)+uint64(id.Size) > 1<<32 || uint64(id.HostID)+uint64(id.Size) > 1<<32 {
				return fieldError(fmt.Sprintf("%s[%d]", m.field, i), "beyond the 32-bit id space")
			}
			root = root || id.ContainerID == 0
		}
		if !root {
			return fieldError(m.field, "no mapping for container %s 0 (the container is set up as its root)", m.kind)
		}
	}
	return nil
}

// namespacedSysctl accepts the sysctls that belong to the container's own
// namespaces (docker's list): the IPC ones, fs.mqueue, and net.* unless
// the container shares the host's network.
func namespacedSysctl(key string, hostNetwork bool) error {
	switch {
	case slices.Contains([]string{"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
		"kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}, key), strings.HasPrefix(key, "fs.mqueue."):
		return nil
	case strings.HasPrefix(key, "net."):
		if hostNetwork {
			return errors.New("a net.* sysctl would change the host's network namespace")
		}
		return nil
	}
	return errors.New("not a namespaced sysctl (the IPC ones, fs.mqueue.*, net.*)")
}

// propagations are the rootfsPropagation values the engine honours: its
// mount namespace is private from the start.
var propagations = []string{"", "private", "rprivate", "slave", "rslave"}

// linux checks the rest of the linux section, completing resources.devices.
func linux(l *specs.Linux, hostNetwork bool) error {
	for key := range l.Sysctl {
		if err := namespacedSysctl(key, hostNetwork); err != nil {
			return fieldError("linux.sysctl", "%s: %v", q(key), err)
		}
	}
	if !slices.Contains(propagations, l.RootfsPropagation) {
		return fieldError("linux.rootfsPropagation", "%s: not supported (want private, rprivate, slave or rslave)", q(l.RootfsPropagation))
	}
	switch {
	case l.MountLabel != "":
		return unsupported("linux.mountLabel")
	case l.IntelRdt != nil:
		return unsupported("linux.intelRdt")
	case l.MemoryPolicy != nil:
		return unsupported("linux.memoryPolicy")
	case l.Personality != nil:
		return unsupported("linux.personality")
	case len(l.TimeOffsets) > 0:
		return unsupported("linux.timeOffsets")
	case len(l.NetDevices) > 0:
		return unsupported("linux.netDevices")
	}
	for _, list := range []struct {
		name  string
		paths []string
	}{{"linux.maskedPaths", l.MaskedPaths}, {"linux.readonlyPaths", l.ReadonlyPaths}} {
		for i, p := range list.paths {
			if !strings.HasPrefix(p, "/") || strings.IndexByte(p, 0) >= 0 {
				return fieldError(fmt.Sprintf("%s[%d]", list.name, i), "%s: want an absolute path", q(p))
			}
		}
	}
	for i, d := range l.Devices {
		field := fmt.Sprintf("linux.devices[%d]", i)
		if !strings.HasPrefix(d.Path, "/") || strings.IndexByte(d.Path, 0) >= 0 || path.Clean(d.Path) == "/" {
			return fieldError(field, "path %s: want an absolute path", q(d.Path))
		}
		switch d.Type {
		case "c", "u", "b":
		case "p":
			return fieldError(field, "%s: FIFOs are not supported (only c, u and b devices)", q(d.Path))
		default:
			return fieldError(field, "%s: type %s: want c, u or b", q(d.Path), q(d.Type))
		}
		if d.Major < 0 || d.Minor < 0 || d.Major > 0xfff || d.Minor > 0xfffff {
			return fieldError(field, "%s: device number %d:%d out of range", q(d.Path), d.Major, d.Minor)
		}
	}
	if r := l.Resources; r != nil && len(r.Devices) > 0 {
		devs := make([]specs.LinuxDeviceCgroup, 0, len(r.Devices)+len(runcAllowedDevices))
		devs = append(append(devs, r.Devices...), runcAllowedDevices...)
		copied := *r
		copied.Devices = devs
		l.Resources = &copied
	}
	return checkSeccomp(l)
}

// runcAllowedDevices are the device rules runc appends to every
// container's (libcontainer/specconv AllowedDevices): the same standard
// nodes as the launcher's own allowlist, without its leading deny-all.
var runcAllowedDevices = cgroups.DefaultDevices()[1:]

// checkSeccomp compiles linux.seccomp, as the engine will, to refuse a
// filter it cannot build now rather than at start.
func checkSeccomp(l *specs.Linux) error {
	sc := l.Seccomp
	if sc == nil {
		return nil
	}
	if sc.DefaultAction == "" && len(sc.Syscalls) == 0 {
		l.Seccomp = nil // runc's reading: no filter
		return nil
	}
	if len(sc.Flags) > 0 {
		return fieldError("linux.seccomp.flags", "not supported yet")
	}
	if sc.ListenerPath != "" || sc.ListenerMetadata != "" {
		return fieldError("linux.seccomp.listenerPath", "seccomp agents (SCMP_ACT_NOTIFY) are not supported")
	}
	// The profile parser checks what the compiler takes on trust
	// (architecture names, syscall names present).
	data, err := json.Marshal(sc)
	if err != nil {
		return fieldError("linux.seccomp", "%v", err)
	}
	const prefix = "seccomp profile config.json: "
	if _, err := seccomp.Parse("config.json", data, nil); err != nil {
		return fieldError("linux.seccomp", "%s", strings.TrimPrefix(err.Error(), prefix))
	}
	if _, err := seccomp.Compile(sc); err != nil {
		return fieldError("linux.seccomp", "%v", err)
	}
	return nil
}

// q shows a string from the config as it is when that is unambiguous,
// quoted otherwise.
func q(s string) string {
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' || r == '"' }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// oneLine escapes the control characters an error may have picked up
// from the config, so that it stays one line.
func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
