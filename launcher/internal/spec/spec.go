// Package spec is what the launcher runs: an OCI runtime-spec Spec plus the
// few things the OCI format has no field for. Both fronts (the docker-like
// CLI and, later, the OCI runtime CLI) build a Spec; one engine runs it.
package spec

import (
	"net/netip"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Spec is one container's complete configuration.
type Spec struct {
	specs.Spec

	// ID is the container's globally unique id: 64 lower-case hex digits.
	ID string
	// Name is the user's name for it, unique among live containers ("" = none).
	Name string
	// Image is the absolute path of the image directory. It is never
	// modified: the container sees it through an overlay, or read-only.
	Image string
	// Detach runs the container in the background under a small monitor (-d).
	Detach bool
	// Remove deletes the container's state when it exits (--rm).
	Remove bool
	// Interactive keeps stdin attached (-i); otherwise stdin is /dev/null.
	Interactive bool
	// Init runs our static init as PID 1 with Process.Args as its payload.
	Init bool
	// StopSignal is sent by `stop` first ("" = SIGRTMIN+3 for systemd, else SIGTERM).
	StopSignal string
	// CgroupParent is where the container's cgroup goes in each hierarchy
	// ("" = under the launcher's own cgroup); limits are Linux.Resources.
	CgroupParent string
	// Network is "private" (own namespace, only lo; "" means it), "host"
	// or "nat"; NAT holds the nat network's settings.
	Network string
	NAT     NAT
	// DNS replaces the host's nameservers in an injected resolv.conf;
	// ExtraHosts are "IP NAME" lines added to /etc/hosts.
	DNS        []netip.Addr
	ExtraHosts []string
	// Listen are sockets the launcher binds on the host and passes to the
	// container by socket activation.
	Listen []Listen
	// Privileged, CapAdd, CapDrop and SecurityOpt are the flags as the
	// user gave them, for inspect; their effect is in the OCI fields.
	Privileged      bool
	CapAdd, CapDrop []string
	SecurityOpt     []string
	// UsernsAuto asks the engine for a user namespace mapping container
	// ids 0-65535 to a free host range (--userns=auto); explicit mappings
	// are Linux.UIDMappings and GIDMappings with a user namespace.
	UsernsAuto bool
	// WaitForStart is OCI create: the container is built, then waits
	// before its entry point's exec until `start`. Bundle is the OCI
	// bundle directory it came from ("" for the docker-like CLI).
	WaitForStart bool
	Bundle       string
	// Orphan (with WaitForStart) leaves the created container to the
	// caller's subreaper: Run returns once it is created, and its exit,
	// cgroups and state are dealt with by `delete`, as runc does.
	Orphan bool
	// InheritedSockets names the sockets the launcher itself was passed by
	// socket activation (LISTEN_FDNAMES), which go to the container first.
	InheritedSockets []string
	// PreserveFDs passes the launcher's fds 3 .. 3+PreserveFDs-1 on to the
	// entry point as the same numbers (OCI --preserve-fds), before any
	// socket-activation sockets.
	PreserveFDs int
}

// NAT is the container's place on the NAT network; zero values mean the
// defaults (bridge stdc0, subnet 10.89.0.0/16, the next free address, a
// MAC derived from the ID).
type NAT struct {
	Bridge string
	Subnet netip.Prefix
	IP     netip.Addr
	MAC    string
	Ports  []Port
}

// Port is one published port (-p).
type Port struct {
	HostIP        netip.Addr // zero: every host address
	HostPort      uint16
	ContainerPort uint16
	Protocol      string // "tcp" or "udp"
}

// Listen is one socket to bind: "tcp", "udp" or "unix", with its address
// and its LISTEN_FDNAMES name.
type Listen struct {
	Network, Address, Name string
}

// DefaultPath is the PATH a container gets when nothing sets one (docker's).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Manager is what the container sees as $container and /run/host/container-manager.
const Manager = "stdcontainer"

// DefaultMaskedPaths are hidden in every container that is not
// privileged (docker's list): kernel memory, keys, timers and hardware
// details a container has no business reading.
var DefaultMaskedPaths = []string{
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
}

// DefaultReadonlyPaths are read-only in every container that is not
// privileged: the kernel's tunables and triggers.
var DefaultReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}

// UserNamespace reports whether the spec asks for a user namespace.
func (s *Spec) UserNamespace() bool {
	if s.UsernsAuto {
		return true
	}
	if s.Linux == nil {
		return false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			return true
		}
	}
	return false
}
