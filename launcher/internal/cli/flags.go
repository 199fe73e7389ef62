package cli

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// flagDef is one flag of one command; the same table drives parsing and
// the help text.
type flagDef struct {
	long  string
	short rune   // 0: none
	arg   string // the value's placeholder in help; "" for a boolean
	usage string // one line for help
	cmd   string // the command whose help documents it ("" = global)

	setBool  func(b *builder, v bool) error
	setValue func(b *builder, v string) error // returns the reason only
}

func boolFlag(long string, short rune, usage string, set func(b *builder, v bool) error) *flagDef {
	return &flagDef{long: long, short: short, usage: usage, setBool: set}
}

func valueFlag(long string, short rune, arg, usage string, set func(b *builder, v string) error) *flagDef {
	return &flagDef{long: long, short: short, arg: arg, usage: usage, setValue: set}
}

// runFlag is a copy of run's flag long, for another command that takes it
// too, with its own usage line when usage is not "".
func runFlag(long, usage string) *flagDef {
	d := *lookupLong(runFlags, long)
	if usage != "" {
		d.usage = usage
	}
	return &d
}

func helpFlag() *flagDef {
	return boolFlag("help", 'h', "Print this help", func(b *builder, v bool) error {
		if v {
			b.inv.Help = true
			return errStop
		}
		return nil
	})
}

var globalFlags = []*flagDef{
	valueFlag("root", 0, "DIR", "State directory (default "+DefaultRoot+")", setRoot),
	valueFlag("log-format", 0, "FORMAT", "Launcher messages on stderr: text or json (default text)", setLogFormat),
	boolFlag("debug", 0, "Log debug messages too", func(b *builder, v bool) error { b.inv.Global.Debug = v; return nil }),
	helpFlag(),
	boolFlag("version", 0, "Print version information and exit", func(b *builder, v bool) error {
		if v {
			b.inv.Command = "version"
			return errStop
		}
		return nil
	}),
}

var runFlags = []*flagDef{
	valueFlag("blkio-weight", 0, "N", "Block I/O weight, 10 to 1000 (0 for the default)", setBlkioWeight),
	valueFlag("cap-add", 0, "CAP", "Add a capability, like NET_ADMIN, or ALL (repeatable)", setCapAdd),
	valueFlag("cap-drop", 0, "CAP", "Drop a capability, like CHOWN, or ALL (repeatable)", setCapDrop),
	valueFlag("cgroup-parent", 0, "PATH", "Parent cgroup of the container's, absolute or relative (no ..)", setCgroupParent),
	valueFlag("cpu-shares", 0, "N", "CPU shares, a relative weight from 2 to 262144 (0 for the default)", setCPUShares),
	valueFlag("cpus", 0, "N.N", "Number of CPUs, like 1.5: a CPU quota per 100ms period (0.01 to 1024)", setCPUs),
	valueFlag("cpuset-cpus", 0, "LIST", "CPUs the container may use, like 0-3,8", setCpusetCpus),
	valueFlag("cpuset-mems", 0, "LIST", "Memory (NUMA) nodes the container may use, like 0,1", setCpusetMems),
	boolFlag("detach", 'd', "Run in the background and print the container ID", func(b *builder, v bool) error { b.run().Detach = v; return nil }),
	valueFlag("device", 0, "HOSTPATH[:CTRPATH][:rwm]", "Give the container a host device node (repeatable)", setDevice),
	valueFlag("device-read-bps", 0, "DEV:RATE", "Limit reads from block device DEV to RATE bytes a second, like 1mb (repeatable)", throttleFlag(func(r *Resources) *[]Throttle { return &r.ReadBps }, false)),
	valueFlag("device-read-iops", 0, "DEV:N", "Limit reads from block device DEV to N operations a second (repeatable)", throttleFlag(func(r *Resources) *[]Throttle { return &r.ReadIOPS }, true)),
	valueFlag("device-write-bps", 0, "DEV:RATE", "Limit writes to block device DEV to RATE bytes a second, like 1mb (repeatable)", throttleFlag(func(r *Resources) *[]Throttle { return &r.WriteBps }, false)),
	valueFlag("device-write-iops", 0, "DEV:N", "Limit writes to block device DEV to N operations a second (repeatable)", throttleFlag(func(r *Resources) *[]Throttle { return &r.WriteIOPS }, true)),
	valueFlag("env", 'e', "KEY[=VALUE]", "Set a variable; KEY alone copies the launcher's, if set (repeatable)", setEnv),
	valueFlag("env-file", 0, "FILE", "Read variables, systemd EnvironmentFile= syntax (repeatable; -e wins)", setEnvFile),
	valueFlag("hostname", 0, "NAME", "The container's host name (1 to 64 bytes)", setHostname),
	boolFlag("init", 0, "Run the launcher's init as PID 1, with CMD as its payload", func(b *builder, v bool) error { b.run().Init = v; return nil }),
	boolFlag("interactive", 'i', "Keep stdin attached (otherwise it is /dev/null)", func(b *builder, v bool) error { b.run().Interactive = v; return nil }),
	valueFlag("listen", 0, "[tcp:|udp:|unix:]ADDR[=NAME]", "Bind a socket on the host and pass it as fd 3... (socket activation; repeatable)", setListen),
	valueFlag("memory", 'm', "SIZE", "Memory limit, like 512m or 1g (at least 6m)", setMemory),
	valueFlag("memory-reservation", 0, "SIZE", "Memory soft limit (at least 6m, at most --memory)", setMemoryReservation),
	valueFlag("memory-swap", 0, "SIZE|-1", "Memory plus swap limit, at least --memory (needed); -1: unlimited swap", setMemorySwap),
	valueFlag("name", 0, "NAME", "Name the container: [a-zA-Z0-9][a-zA-Z0-9_.-]*, unique", setName),
	valueFlag("network", 0, "MODE", "private (own namespace, only lo; the default), host, or nat (a veth on a bridge, NAT to the outside)", setNetwork),
	valueFlag("publish", 'p', "[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]", "Publish a container port on the host (implies --network nat; repeatable)", setPublish),
	valueFlag("ip", 0, "ADDR", "The container's IPv4 address on the NAT network (default: the next free one)", setIP),
	valueFlag("subnet", 0, "CIDR", "The NAT network's subnet (default 10.89.0.0/16)", setSubnet),
	valueFlag("bridge", 0, "NAME", "The NAT network's bridge on the host (default stdc0)", setBridge),
	valueFlag("mac-address", 0, "MAC", "The container's MAC address (default: derived from its ID)", setMAC),
	valueFlag("dns", 0, "IP", "Nameserver for the container's resolv.conf (repeatable; default: the host's)", setDNS),
	valueFlag("add-host", 0, "NAME:IP", "Add a line to the container's /etc/hosts (repeatable)", setAddHost),
	valueFlag("pids-limit", 0, "N", "Maximum number of processes, or -1 for unlimited", setPidsLimit),
	boolFlag("privileged", 0, "DANGEROUS: every capability, no seccomp, no masked paths, all host devices", func(b *builder, v bool) error { b.run().Security.Privileged = v; return nil }),
	boolFlag("read-only", 0, "Mount the image read-only (default: a writable overlay)", func(b *builder, v bool) error { b.run().ReadOnly = v; return nil }),
	boolFlag("rm", 0, "Remove the container's state when it exits", func(b *builder, v bool) error { b.run().Remove = v; return nil }),
	valueFlag("security-opt", 0, "OPT", "no-new-privileges=false, seccomp=unconfined|FILE.json, systempaths=unconfined, apparmor=PROFILE, label=TYPE:VALUE|disable (repeatable)", setSecurityOpt),
	valueFlag("stop-signal", 0, "SIG", "Signal that stop sends first (default RTMIN+3 for systemd, else TERM)", setStopSignal),
	valueFlag("tmpfs", 0, "CTRPATH[:SIZE]", "Mount a tmpfs, SIZE like 64m or 1g (repeatable)", setTmpfs),
	boolFlag("tty", 't', "Give the container a pseudo-terminal", func(b *builder, v bool) error { b.run().TTY = v; return nil }),
	valueFlag("user", 'u', "USER[:GROUP]", "Run as UID[:GID] or NAME[:GROUP] (names from the image)", setUser),
	valueFlag("userns", 0, "MODE", "host (the default), auto (a free range of 65536 ids) or CTRID:HOSTID:SIZE[,...]", setUserns),
	valueFlag("volume", 'v', "HOSTPATH:CTRPATH[:ro|rw]", "Bind-mount a host path, rw by default (repeatable)", setVolume),
	valueFlag("workdir", 'w', "DIR", "Working directory inside the container (absolute)", setWorkdir),
	helpFlag(),
}

// preFlags are accepted before the command: the global flags, and run's
// for an implicit run (global -h/--help is found first).
var preFlags = append(append([]*flagDef(nil), globalFlags...), runFlags...)

var commandFlags = map[string][]*flagDef{
	"run": runFlags,
	"exec": {
		runFlag("env", ""),
		runFlag("env-file", ""),
		runFlag("interactive", ""),
		runFlag("tty", "Give CMD a pseudo-terminal"),
		runFlag("user", "Run as UID[:GID] or NAME[:GROUP] (default: the container's user)"),
		runFlag("workdir", "Working directory inside the container (default: the container's)"),
		helpFlag(),
	},
	"ps": {
		boolFlag("all", 'a', "Show all containers (default: only running ones)", func(b *builder, v bool) error { b.inv.All = v; return nil }),
		valueFlag("format", 0, "FORMAT", "table, or json: a JSON array (default table)", setFormat),
		boolFlag("quiet", 'q', "Print container IDs only", func(b *builder, v bool) error { b.inv.Quiet = v; return nil }),
		helpFlag(),
	},
	"inspect": {helpFlag()},
	"stats": {
		valueFlag("format", 0, "FORMAT", "table, or json: one JSON object per line (default table)", setFormat),
		boolFlag("no-stream", 0, "Print one sample and exit (default: refresh until interrupted)", func(b *builder, v bool) error { b.inv.NoStream = v; return nil }),
		helpFlag(),
	},
	"stop": {
		valueFlag("time", 't', "SECONDS", "Seconds to wait after the stop signal before SIGKILL (default 10)", setTime),
		helpFlag(),
	},
	"kill": {
		valueFlag("signal", 's', "SIG", "Signal to send: a name (TERM, SIGHUP, RTMIN+3) or a number (default KILL)", setSignal),
		helpFlag(),
	},
	"rm": {
		boolFlag("force", 'f', "Kill a running container first (otherwise it is refused)", func(b *builder, v bool) error { b.inv.Force = v; return nil }),
		helpFlag(),
	},
	"gc":      {helpFlag()},
	"check":   {helpFlag()},
	"version": {helpFlag()},
	"help":    {helpFlag()},
}

func init() {
	for _, d := range runFlags {
		d.cmd = "run"
	}
	for name, defs := range commandFlags {
		for _, d := range defs {
			if d.cmd == "" {
				d.cmd = name
			}
		}
	}
}

// parseFlags applies the flags in args for cmd ("" before the command) and
// returns the operands. Without interspersed it stops at the first
// operand and returns it with everything after, verbatim. dashdash
// reports that "--" ended the flags. seen, if not nil, is called with each
// flag found, as spelled. The error is errStop for -h or --version.
func (b *builder) parseFlags(cmd string, defs []*flagDef, args []string, interspersed bool, seen func(d *flagDef, spelled string)) (ops []string, dashdash bool, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(ops, args[i+1:]...), true, nil

		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			d := lookupLong(defs, name)
			if d == nil {
				if name == "" {
					return nil, false, unknownFlag(cmd, a)
				}
				return nil, false, unknownFlag(cmd, "--"+name)
			}
			if seen != nil {
				seen(d, "--"+name)
			}
			if d.setValue != nil && !hasVal {
				if i+1 == len(args) {
					return nil, false, missingValue(d)
				}
				i++
				val = args[i]
			}
			if err := d.apply(b, val, hasVal); err != nil {
				return nil, false, err
			}

		case len(a) > 1 && a[0] == '-':
			group := a[1:]
			for j := 0; j < len(group); {
				r, n := utf8.DecodeRuneInString(group[j:])
				spelled := "-" + group[j:j+n]
				j += n
				d := lookupShort(defs, r)
				if d == nil || r == utf8.RuneError {
					return nil, false, unknownFlag(cmd, spelled)
				}
				if seen != nil {
					seen(d, spelled)
				}
				rest := group[j:]
				if d.setValue == nil && !strings.HasPrefix(rest, "=") {
					if err := d.setBool(b, true); err != nil {
						return nil, false, err
					}
					continue
				}
				// A value flag, or a boolean with =VALUE, ends the group.
				val := strings.TrimPrefix(rest, "=")
				if d.setValue != nil && rest == "" {
					if i+1 == len(args) {
						return nil, false, missingValue(d)
					}
					i++
					val = args[i]
				}
				if err := d.apply(b, val, true); err != nil {
					return nil, false, err
				}
				break
			}

		default:
			if !interspersed {
				return append(ops, args[i:]...), false, nil
			}
			ops = append(ops, a)
		}
	}
	return ops, false, nil
}

// apply sets the flag to val; a boolean without a value is set to true.
func (d *flagDef) apply(b *builder, val string, hasVal bool) error {
	if d.setValue != nil {
		if err := d.setValue(b, val); err != nil {
			return fmt.Errorf("--%s %s: %v", d.long, q(val), err)
		}
		return nil
	}
	v := true
	if hasVal {
		var err error
		if v, err = strconv.ParseBool(val); err != nil {
			return fmt.Errorf("--%s %s: want true or false", d.long, q(val))
		}
	}
	return d.setBool(b, v)
}

func lookupLong(defs []*flagDef, name string) *flagDef {
	for _, d := range defs {
		if d.long == name {
			return d
		}
	}
	return nil
}

func lookupShort(defs []*flagDef, r rune) *flagDef {
	for _, d := range defs {
		if d.short != 0 && d.short == r {
			return d
		}
	}
	return nil
}

func unknownFlag(cmd, spelled string) error {
	if cmd == "" {
		return fmt.Errorf("unknown flag %s (see launcher --help)", q(spelled))
	}
	if name, ok := strings.CutPrefix(spelled, "--"); ok && lookupLong(globalFlags, name) != nil {
		return fmt.Errorf("unknown flag %s for %s (global flags go before the command; see launcher --help)", q(spelled), cmd)
	}
	return fmt.Errorf("unknown flag %s for %s (see launcher %s --help)", q(spelled), cmd, cmd)
}

func missingValue(d *flagDef) error {
	see := "launcher --help"
	if d.cmd != "" {
		see = "launcher " + d.cmd + " --help"
	}
	return fmt.Errorf("--%s needs a value (see %s)", d.long, see)
}
