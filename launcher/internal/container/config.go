// Package container runs one container: the launcher side clones a child
// into fresh namespaces, and the child ("stage 2", this binary re-executed)
// builds the container's view of the filesystem, pivots into it and execs
// the entry point. Every mount is made inside the container's own mount
// namespace, so all of them vanish with it: nothing to unmount afterwards.
package container

import specs "github.com/opencontainers/runtime-spec/specs-go"

// Config is everything stage 2 needs, sent as JSON over a pipe: stage 2
// must not look anything up on the host after it has unshared.
type Config struct {
	Image    string   // image directory, for messages: stage 2 gets it as an fd
	ReadOnly bool     // --read-only: the root is remounted read-only
	Hostname string   //
	Args     []string // entry point and arguments; Args[0] is resolved in the container
	Env      []string //
	Cwd      string   // absolute, inside the container
	UID, GID uint32   //
	Groups   []uint32 // supplementary groups
	Terminal bool     // stdin/stdout/stderr are a pty; bind it to /dev/console
	// Console, when enabled, has stage 2 make that pty itself, in the
	// container's devpts (see ConsoleSocket).
	Console    ConsoleSocket
	Mounts     []Mount  // volumes and tmpfs, in order
	ResolvConf []byte   // written to /etc/resolv.conf when the image has none; nil: respect the image's
	ExtraHosts []string // lines appended to the container's /etc/hosts (--add-host)
	RunHost    []File   // files for /run/host (systemd's Container Interface)
	InitBinary string   // with --init: host path of our init, bound at /run/host/init
	// ListenFDs is how many fds (preserved ones, then socket-activation
	// sockets) follow the error pipe; they reach the entry point as fds
	// 3, 4, ...
	ListenFDs int
	// HostNetwork: no network namespace (--network host).
	HostNetwork bool
	// NetworkJoined: the network namespace is an existing one, joined by
	// path, whose sysfs a user namespace's root may not mount either.
	NetworkJoined bool
	// UserNS: stage 2 is root only in its own user namespace, where it
	// may not create device nodes or mount v1 cgroups or (on the host's
	// network) sysfs; it binds the host's instead.
	UserNS bool
	// IDMappedImage: the image comes with the config as a detached mount
	// whose ids are mapped into the user namespace, so that its files
	// are owned by the container's root, not by nobody.
	IDMappedImage bool
	// WaitStart: once the container is built and confined, stage 2
	// waits before its exec until a byte arrives on the start FIFO that
	// comes with the config (after the id-mapped image, if any): the
	// OCI "created" state, left by `start`.
	WaitStart bool
	// Confinement limits the entry point: capabilities, no_new_privs,
	// seccomp, LSM label.
	Confinement
	// Sysctl are written under /proc/sys (dots for slashes) before it is
	// made read-only: only the namespaced ones, which the fronts check.
	Sysctl map[string]string
	// MaskedPaths are hidden (our /dev/null or an empty tmpfs on top);
	// ReadonlyPaths are bound read-only onto themselves.
	MaskedPaths, ReadonlyPaths []string
	// Devices are extra nodes in the container's /dev (--device).
	Devices []Device
	// Cgroupfs is how /sys/fs/cgroup looks inside: the host's layout, each
	// hierarchy rooted at the container's own cgroup (cgroup namespace).
	Cgroupfs []CgroupMount
	// Hooks are the OCI hooks stage 2 takes part in.
	Hooks Hooks
}

// Hooks are the OCI hooks around stage 2's pivot into the container.
type Hooks struct {
	// PauseBeforePivot: once the container's mounts are made, stage 2
	// writes hooksMark and waits until the launcher has run the
	// prestart and createRuntime hooks (in the host's namespaces) and
	// writes a byte on the config socket; EOF there means they failed.
	PauseBeforePivot bool
	// CreateContainer run in the container's namespaces before the
	// pivot (their paths are the host's); StartContainer run after
	// `start`, as the entry point would, just before its exec.
	CreateContainer, StartContainer []specs.Hook
	// ID, Bundle and Annotations are the OCI state the hooks read on
	// stdin, with the pid as they see it: stage 2's in its own PID
	// namespace, as runc gives (1 unless the namespace was joined).
	ID          string
	Bundle      string
	Annotations map[string]string
}

// CgroupMount is one cgroup hierarchy mounted under /sys/fs/cgroup.
type CgroupMount struct {
	Name     string   // directory under /sys/fs/cgroup ("" = /sys/fs/cgroup itself, v2-only hosts)
	Type     string   // "cgroup" (v1) or "cgroup2"
	Options  string   // v1: the hierarchy's controllers, e.g. "cpu,cpuacct" or "none,name=systemd"
	Writable bool     // name=systemd and cgroup2 stay writable for an init that manages its own subtree
	Links    []string // other names for it (e.g. "cpu" and "cpuacct" for "cpu,cpuacct")
	Source   string   // the container's cgroup directory on the host, bound instead in a user namespace
}

// Device is a device node created in the container's /dev.
type Device struct {
	Path         string // absolute, inside the container, under /dev
	Type         string // "c" or "b"
	Major, Minor uint32
	Mode         uint32 // permission bits
	UID, GID     uint32
}

// Mount is a volume (bind) or a tmpfs.
type Mount struct {
	Type     string // "bind" or "tmpfs"
	Source   string // host path for bind
	Target   string // absolute path inside the container
	ReadOnly bool
	Size     int64  // tmpfs size in bytes; 0 = kernel default
	Mode     string // tmpfs mode, octal ("" = 1777)
	// NoSuid, NoDev, NoExec are the mount flags asked for (a tmpfs is
	// always nosuid and nodev).
	NoSuid, NoDev, NoExec bool
}

// File is one small file written into the container's tmpfs.
type File struct {
	Path string // absolute, inside the container
	Data []byte
	Mode uint32
}

// Error codes stage 2 reports, docker's exit statuses.
const (
	CodeLauncher      = 125
	CodeNotExecutable = 126
	CodeNotFound      = 127
)

// RunHostInit is where --init binds our init inside the container.
const RunHostInit = "/run/host/init"
