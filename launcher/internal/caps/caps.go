// Package caps names Linux capabilities, computes a container's sets from
// the defaults and --cap-add/--cap-drop, and applies them to the calling
// thread right before the entry point is executed.
package caps

import (
	"fmt"
	"slices"
	"strings"
)

// names are the capabilities by number (capability.h), as the kernel and
// the OCI spec spell them.
var names = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// Default is the set docker and containerd give a container (anchors:
// "Security defaults"): enough for a package manager or a daemon that
// drops privileges, nothing that reaches the kernel or other containers.
var Default = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// All is every capability this launcher knows, in number order.
func All() []string { return slices.Clone(names) }

// Number is the capability's number, or -1 for an unknown name.
func Number(name string) int { return slices.Index(names, name) }

// Canonical turns a user's spelling ("net_admin", "CAP_NET_ADMIN", "all")
// into "CAP_NET_ADMIN" or "ALL", or says why it cannot.
func Canonical(s string) (string, error) {
	up := strings.ToUpper(strings.TrimSpace(s))
	if up == "ALL" {
		return up, nil
	}
	if !strings.HasPrefix(up, "CAP_") {
		up = "CAP_" + up
	}
	if Number(up) < 0 {
		return "", fmt.Errorf("unknown capability %q (see capabilities(7); ALL for every one)", s)
	}
	return up, nil
}

// Resolve is docker's rule for the container's set (names canonical):
// ALL in add gives every capability but those dropped; ALL in drop gives
// just those added; otherwise base minus drop plus add. The result is in
// capability-number order.
func Resolve(base, add, drop []string) []string {
	set := map[string]bool{}
	switch {
	case slices.Contains(add, "ALL"):
		for _, n := range names {
			set[n] = !slices.Contains(drop, n)
		}
	case slices.Contains(drop, "ALL"):
		for _, c := range add {
			set[c] = true
		}
	default:
		for _, c := range base {
			set[c] = !slices.Contains(drop, c)
		}
		for _, c := range add {
			set[c] = true
		}
	}
	var out []string
	for _, n := range names {
		if set[n] {
			out = append(out, n)
		}
	}
	return out
}
