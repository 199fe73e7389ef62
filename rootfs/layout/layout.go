// Package layout names the paths a Standard Container rootfs promises.
// It imports nothing, so that the init can use it without growing.
package layout

const (
	// Init is the default entry point of every image.
	Init = "/sbin/init"
	// OSRelease identifies the image (os-release(5)); provided by the image.
	OSRelease = "/etc/os-release"
	// ResolvConf is respected when the image has one, injected by the runtime when not.
	ResolvConf = "/etc/resolv.conf"
	// Cmd is the init's payload when it gets no arguments: one argument per
	// line, the first is the program. Written by mkrootfs --cmd.
	Cmd = "/etc/stdcontainer/cmd"
	// Env is the image's environment file (systemd EnvironmentFile= syntax),
	// read by the init for its payload. Written by mkrootfs --env-file.
	Env = "/etc/stdcontainer/env"
	// ContainerUUID and ContainerManager are systemd's Container Interface files.
	ContainerUUID    = "/run/host/container-uuid"
	ContainerManager = "/run/host/container-manager"
	HostOSRelease    = "/run/host/os-release"
)

// MountPoints are the directories a runtime mounts over; an image must have them.
var MountPoints = []string{"/dev", "/proc", "/run", "/sys", "/tmp"}
