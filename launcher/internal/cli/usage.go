package cli

import (
	"strings"
)

// helpText is one command's help text around its generated option list.
type helpText struct {
	usage   string // the synopsis lines after "Usage:  "
	summary string // one line, for the global command list
	about   string // paragraphs after the synopsis ("" = summary)
	exit    string // the exit status section
}

const exitRun = `Exit status:
  125     the launcher failed (bad flags, bad image, no permission, ...)
  126     CMD could not be executed
  127     CMD was not found
  128+N   the container's process was killed by signal N
  other   the container's process's own exit status
  With --detach: 0 once the container has started, else 125, 126 or 127.`

const exitOne = `Exit status:
  0       success
  125     the launcher failed (bad flags, no permission, ...)`

const exitEach = `Exit status:
  0       success for every ID or NAME
  1       failure for at least one (the others are still done)
  125     the launcher failed (bad flags, no permission, ...)`

var helps = map[string]helpText{
	"run": {
		usage:   "launcher run [OPTIONS] ROOTFS [CMD [ARG...]]\n        launcher [OPTIONS] ROOTFS [CMD [ARG...]]",
		summary: "Run a command in a new container (the default command)",
		about: `Run a command in a new container made from the image directory ROOTFS
(a Standard Container root filesystem; it is never modified). Without CMD
the image's entry point /sbin/init runs. Everything after ROOTFS belongs to
CMD, flags included; "--" ends the launcher's flags.

A SIZE or RATE is bytes with an optional k, m, g or t suffix (powers of
1024, any case, optionally followed by b or ib): 4096, 512k, 64MB, 1GiB.`,
		exit: exitRun,
	},
	"exec": {
		usage:   "launcher exec [OPTIONS] ID|NAME CMD [ARG...]",
		summary: "Run a command in a running container",
		about: `Run CMD inside a running container: in its namespaces and cgroup, with
its confinement (capabilities, no_new_privs, seccomp, LSM label), its
environment plus -e and --env-file, as its user unless -u. Everything after
ID|NAME belongs to CMD. In a container with its own user namespace
(--userns) CMD runs as the mapped uid without capabilities: a Go process
cannot join a user namespace.`,
		exit: exitRun,
	},
	"ps": {
		usage:   "launcher ps [OPTIONS]",
		summary: "List containers",
		exit:    exitOne,
	},
	"inspect": {
		usage:   "launcher inspect ID|NAME...",
		summary: "Print containers' configuration and state as a JSON array",
		about: `Print the configuration and state of one or more containers as a JSON
array. A container is named by its ID, a unique prefix of it, or its NAME.`,
		exit: exitEach,
	},
	"stats": {
		usage:   "launcher stats [OPTIONS] ID|NAME...",
		summary: "Show containers' resource usage",
		about: `Show the resource usage of one or more containers (CPU, memory, processes,
block I/O), refreshed until interrupted, or once with --no-stream. A
container is named by its ID, a unique prefix of it, or its NAME.`,
		exit: exitEach,
	},
	"stop": {
		usage:   "launcher stop [OPTIONS] ID|NAME...",
		summary: "Stop running containers",
		about: `Stop one or more running containers: send the stop signal (see run
--stop-signal), then SIGKILL when the time is up.`,
		exit: exitEach,
	},
	"kill": {
		usage:   "launcher kill [OPTIONS] ID|NAME...",
		summary: "Send a signal to running containers",
		exit:    exitEach,
	},
	"rm": {
		usage:   "launcher rm [OPTIONS] ID|NAME...",
		summary: "Remove stopped containers",
		about:   "Remove one or more stopped containers' state.",
		exit:    exitEach,
	},
	"gc": {
		usage:   "launcher gc",
		summary: "Remove lost containers",
		about: `Remove the state of lost containers: those whose launcher died (a crash,
SIGKILL) without recording an exit; and the parent cgroups launchers made
(--cgroup-parent) that no container uses any more.`,
		exit: exitOne,
	},
	"check": {
		usage:   "launcher check ROOTFS",
		summary: "Check an image directory without running it",
		about: `Run the chroot test on the image directory ROOTFS without running anything:
entry point, its libraries and interpreters, mount points, os-release,
escaping symlinks. Prints one finding per line (error, warning or info).`,
		exit: `Exit status:
  0       no error found (warnings allowed)
  1       the image fails the chroot test
  125     the launcher failed (ROOTFS unreadable, bad flags, ...)`,
	},
	"version": {
		usage:   "launcher version",
		summary: "Print version information",
		exit:    exitOne,
	},
	"help": {
		usage:   "launcher help [COMMAND]",
		summary: "Print help for the launcher or a command",
		exit:    exitOne,
	},
}

// Usage returns the help text for command ("" for the launcher as a whole),
// ending in a newline: synopsis, description, every flag with a one-line
// explanation, and the exit statuses. It returns "" for an unknown command.
func Usage(command string) string {
	var sb strings.Builder
	if command == "" {
		sb.WriteString(`Usage:  launcher [OPTIONS] COMMAND [ARG...]
        launcher [OPTIONS] [RUN OPTIONS] ROOTFS [CMD [ARG...]]

Run Standard Container images: no daemon, no image store. A first argument
that is not a command is a ROOTFS to run ("launcher ./out/rootfs"); after
"launcher --" it always is.

Commands:
`)
		for _, c := range commands {
			sb.WriteString("  " + pad(c, 10) + helps[c].summary + "\n")
		}
		sb.WriteString("\nGlobal Options (before the command):\n")
		writeFlags(&sb, globalFlags)
		sb.WriteString("\nRun 'launcher COMMAND --help' for more information on a command.\n\n")
		sb.WriteString(exitRun + "\n")
		return sb.String()
	}
	h, ok := helps[command]
	if !ok {
		return ""
	}
	sb.WriteString("Usage:  " + h.usage + "\n\n")
	about := h.about
	if about == "" {
		about = h.summary + "."
	}
	sb.WriteString(about + "\n")
	if defs := commandFlags[command]; len(defs) > 0 {
		sb.WriteString("\nOptions:\n")
		writeFlags(&sb, defs)
	}
	sb.WriteString("\n" + h.exit + "\n")
	return sb.String()
}

// writeFlags writes one aligned line per flag, docker style:
// "  -e, --env KEY=VALUE   Set ...".
func writeFlags(sb *strings.Builder, defs []*flagDef) {
	lefts := make([]string, len(defs))
	width := 0
	for i, d := range defs {
		left := "    "
		if d.short != 0 {
			left = "-" + string(d.short) + ", "
		}
		left += "--" + d.long
		if d.arg != "" {
			left += " " + d.arg
		}
		lefts[i] = left
		width = max(width, len(left))
	}
	for i, d := range defs {
		sb.WriteString("  " + pad(lefts[i], width+3) + d.usage + "\n")
	}
}

func pad(s string, n int) string {
	return s + strings.Repeat(" ", max(n-len(s), 1))
}
