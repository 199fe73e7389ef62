// Package cli parses the launcher's docker-like command line into an
// Invocation and holds its help texts.
//
// The grammar is
//
//	launcher [GLOBAL FLAGS] [COMMAND] [FLAGS] ARGS
//
// where the first operand is a command if it names one (run, ps, inspect,
// stats, stop, kill, rm, gc, check, version, help) and otherwise the ROOTFS of an
// implicit run: `launcher ./out/rootfs` is `launcher run ./out/rootfs`.
// Run flags may then come before ROOTFS too (`launcher -it ./r sh`), but
// not before any other command. After `launcher --` the next operand is
// always a ROOTFS, so an image directory called "ps" can be run as
// `launcher -- ps` (or `launcher ./ps`).
//
// Flags follow docker (pflag): -e V, -eV, -e=V, --env V, --env=V; combined
// short booleans (-dit); a value flag ends a combined group and takes the
// rest of the group, or the next argument when the rest is empty (-te K=V);
// a value flag always takes the next argument, even one starting with '-';
// booleans accept --rm=false (strconv.ParseBool spellings); repeated scalar
// flags: the last wins; `--` ends the flags. For run, everything from
// ROOTFS on is left alone (CMD keeps its own flags); the other commands
// accept flags between their operands.
//
// Errors are one line without a trailing newline and name the flag as its
// long form with the value as given (quoted when empty or not plainly
// printable): `--volume x: want HOSTPATH:CTRPATH[:ro|rw]`.
package cli

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultRoot is the state directory when --root is not given.
const DefaultRoot = "/run/stdcontainer"

// Defaults of the command flags.
const (
	defaultLogFormat = "text"
	defaultFormat    = "table"
	defaultTime      = 10
	defaultSignal    = "KILL"
	maxName          = 128 // as state.ValidName
	maxHostname      = 64  // the kernel's HOST_NAME_MAX
)

// commands are the subcommands, in the order the global help lists them.
var commands = []string{"run", "exec", "ps", "inspect", "stats", "stop", "kill", "rm", "gc", "check", "version", "help"}

// Global holds the flags that come before the command.
type Global struct {
	// Root is the state directory (--root, default DefaultRoot), as given:
	// it may be relative.
	Root string
	// LogFormat is "text" (the default) or "json" (--log-format).
	LogFormat string
	// Debug turns on debug logging (--debug).
	Debug bool
}

// Volume is one -v HOSTPATH:CTRPATH[:ro|rw].
type Volume struct {
	// Source is the absolute host path, as given.
	Source string
	// Target is the absolute container path, cleaned, never "/".
	Target string
	// ReadOnly is true for the ro mode (the default is rw).
	ReadOnly bool
}

// Tmpfs is one --tmpfs CTRPATH[:SIZE].
type Tmpfs struct {
	// Target is the absolute container path, cleaned, never "/".
	Target string
	// Size is the size limit in bytes; 0 means the kernel's default.
	Size int64
}

// Throttle is one --device-{read,write}-{bps,iops} DEV:RATE.
type Throttle struct {
	// Device is the block device's absolute path, as given (its existence
	// is not checked). No two Throttles of one list have equal cleaned
	// Devices: a later flag for the same Device replaces the earlier one.
	Device string
	// Rate is the limit per second, above 0: bytes for bps, operations
	// for iops.
	Rate uint64
}

// Resources holds run's cgroup resource limits. The zero value (no flags)
// means no limits.
type Resources struct {
	// Memory is --memory in bytes: 0 (unset) or at least 6m.
	Memory int64
	// MemorySwap is --memory-swap, memory plus swap in bytes: 0 (unset),
	// -1 (unlimited swap), or at least Memory, which is then set.
	MemorySwap int64
	// MemoryReservation is --memory-reservation, the soft limit in bytes:
	// 0 (unset) or at least 6m, and at most Memory when that is set.
	MemoryReservation int64
	// CPUQuota and CPUPeriod come from --cpus: CPUQuota microseconds of
	// CPU time per CPUPeriod (100000) microseconds, CPUQuota from 1000 to
	// 102400000 (0.01 to 1024 CPUs). Both are 0 when --cpus is not given.
	CPUQuota  int64
	CPUPeriod uint64
	// CPUShares is --cpu-shares: 0 (unset) or 2 to 262144.
	CPUShares uint64
	// CpusetCpus and CpusetMems are --cpuset-cpus and --cpuset-mems as
	// given: "" (unset) or a list of N or N-M (N <= M) joined by commas.
	CpusetCpus, CpusetMems string
	// PidsLimit is --pids-limit: 0 (unset), -1 (unlimited) or above 0.
	PidsLimit int64
	// BlkioWeight is --blkio-weight: 0 (unset) or 10 to 1000.
	BlkioWeight uint16
	// ReadBps, WriteBps, ReadIOPS and WriteIOPS hold the
	// --device-{read,write}-{bps,iops} limits in order.
	ReadBps, WriteBps, ReadIOPS, WriteIOPS []Throttle
	// CgroupParent is --cgroup-parent as given: "" (unset) or a cgroup
	// path, absolute or relative, without ".." components.
	CgroupParent string
}

// Run holds the flags and operands of `launcher run`.
type Run struct {
	// Env holds the -e values in order: KEY=VALUE, or KEY alone (take the
	// launcher's own value, if set). KEY is never empty.
	Env []string
	// EnvFiles holds the --env-file paths in order.
	EnvFiles []string
	// Name is --name: [a-zA-Z0-9][a-zA-Z0-9_.-]*, 1 to 128 characters, or "".
	Name string
	// Hostname is --hostname: 1 to 64 bytes, or "".
	Hostname string
	// Workdir is -w: an absolute path, or "".
	Workdir string
	// User is -u: UID[:GID] or NAME[:GROUP] with non-empty parts, or "".
	User string
	// Detach is -d.
	Detach bool
	// Remove is --rm.
	Remove bool
	// TTY is -t.
	TTY bool
	// Interactive is -i.
	Interactive bool
	// Init is --init.
	Init bool
	// ReadOnly is --read-only.
	ReadOnly bool
	// Volumes holds the -v mounts in order; no two mount points are equal,
	// nor equal to a Tmpfs target.
	Volumes []Volume
	// Tmpfs holds the --tmpfs mounts in order.
	Tmpfs []Tmpfs
	// StopSignal is --stop-signal as given (ParseSignal accepts it), or "".
	StopSignal string
	// Network is --network: "private" (the default, ""), "host" or "nat"
	// (also implied by -p).
	Network string
	// Net holds the NAT network's options (-p, --ip, --dns, ...).
	Net NetworkOptions
	// Listen holds the --listen sockets in order.
	Listen []Listen
	// Resources holds the resource limits (--memory, --cpus, ...).
	Resources Resources
	// Security holds --cap-add, --cap-drop, --privileged, --security-opt
	// and --device.
	Security Security
	// Userns is --userns.
	Userns Userns
	// Rootfs is the image directory: never empty (existence is not checked).
	Rootfs string
	// Cmd is everything after Rootfs, verbatim; nil when there is nothing.
	Cmd []string
}

// Invocation is one parsed command line.
type Invocation struct {
	// Global holds the flags before the command.
	Global Global
	// Command is the subcommand: "run", "ps", "inspect", "stats", "stop",
	// "kill", "rm", "gc", "check" or "version". It is "" only with Help (global
	// help) and "help" only with Help (`launcher help help`).
	Command string
	// Help asks for Usage(Command) instead of running anything: -h/--help
	// was given, or `launcher help [COMMAND]`, or no arguments at all.
	// Nothing else in the Invocation is meaningful then.
	Help bool
	// Run is set when Command is "run" and Help is false. For "exec" it
	// holds exec's flags (Env, EnvFiles, User, Workdir, TTY, Interactive)
	// and Cmd; Refs[0] is the container.
	Run *Run
	// All is ps -a.
	All bool
	// Quiet is ps -q.
	Quiet bool
	// Force is rm -f.
	Force bool
	// Format is ps and stats --format: "table" (the default) or "json".
	Format string
	// NoStream is stats --no-stream.
	NoStream bool
	// Time is stop -t in seconds: non-negative, default 10.
	Time int
	// Signal is kill -s as given (ParseSignal accepts it), default "KILL".
	Signal string
	// Refs holds the IDs or names for inspect, stats, stop, kill and rm (at
	// least one, none empty), or the single ROOTFS for check.
	Refs []string
}

// errStop ends flag parsing early: -h/--help or --version was given.
var errStop = errors.New("stop")

// builder is the state of one Parse.
type builder struct {
	inv *Invocation
	// firstRun is the first run flag given before the command, as spelled.
	firstRun string
	// memory, memorySwap and memoryReservation are the last --memory,
	// --memory-swap and --memory-reservation values as given, for the
	// errors of checkResources.
	memory, memorySwap, memoryReservation string
}

// run returns the Run being built, creating it on first use.
func (b *builder) run() *Run {
	if b.inv.Run == nil {
		b.inv.Run = &Run{}
	}
	return b.inv.Run
}

// Parse parses the launcher's arguments (without argv[0]). It never touches
// the file system: paths are checked for syntax only.
func Parse(args []string) (*Invocation, error) {
	b := &builder{inv: &Invocation{Global: Global{Root: DefaultRoot, LogFormat: defaultLogFormat}}}
	inv, err := b.parse(args)
	if err != nil {
		return nil, err
	}
	if inv.Help {
		inv.Run = nil
	}
	return inv, nil
}

func (b *builder) parse(args []string) (*Invocation, error) {
	inv := b.inv
	ops, dashdash, err := b.parseFlags("", preFlags, args, false, func(d *flagDef, spelled string) {
		if d.cmd == "run" && b.firstRun == "" {
			b.firstRun = spelled
		}
	})
	if err == errStop {
		if inv.Help && b.firstRun != "" {
			inv.Command = "run"
		}
		return inv, nil
	}
	if err != nil {
		return nil, err
	}
	if dashdash {
		return b.finishRun(ops)
	}
	if len(ops) == 0 {
		if b.firstRun != "" {
			return b.finishRun(nil)
		}
		inv.Help = true
		return inv, nil
	}
	name := ops[0]
	if !isCommand(name) {
		return b.finishRun(ops)
	}
	if b.firstRun != "" && name != "run" {
		return nil, fmt.Errorf("flag %s before %s is not a global flag (see launcher --help)", q(b.firstRun), name)
	}
	inv.Command = name
	return b.command(name, ops[1:])
}

// command parses what follows the command name.
func (b *builder) command(name string, args []string) (*Invocation, error) {
	inv := b.inv
	switch name {
	case "ps", "stats":
		inv.Format = defaultFormat
	case "stop":
		inv.Time = defaultTime
	case "kill":
		inv.Signal = defaultSignal
	}
	ops, _, err := b.parseFlags(name, commandFlags[name], args, name != "run" && name != "exec", nil)
	if err == errStop {
		return inv, nil
	}
	if err != nil {
		return nil, err
	}
	switch name {
	case "run":
		return b.finishRun(ops)
	case "exec":
		if len(ops) == 0 || ops[0] == "" {
			return nil, errors.New("exec needs an ID or NAME and a CMD (see launcher exec --help)")
		}
		if len(ops) == 1 {
			return nil, errors.New("exec needs a CMD after the ID or NAME (see launcher exec --help)")
		}
		inv.Refs = ops[:1]
		r := b.run()
		r.Cmd = append([]string(nil), ops[1:]...)
	case "ps", "gc", "version":
		if len(ops) > 0 {
			return nil, unexpected(name, ops[0])
		}
	case "inspect", "stats", "stop", "kill", "rm":
		if len(ops) == 0 {
			return nil, fmt.Errorf("%s needs at least one ID or NAME (see launcher %s --help)", name, name)
		}
		for _, ref := range ops {
			if ref == "" {
				return nil, fmt.Errorf("%s: empty ID or NAME", name)
			}
		}
		inv.Refs = ops
	case "check":
		if len(ops) == 0 {
			return nil, fmt.Errorf("missing ROOTFS (see launcher check --help)")
		}
		if ops[0] == "" {
			return nil, fmt.Errorf("empty ROOTFS (see launcher check --help)")
		}
		if len(ops) > 1 {
			return nil, unexpected(name, ops[1])
		}
		inv.Refs = ops
	case "help":
		if len(ops) > 1 {
			return nil, unexpected(name, ops[1])
		}
		inv.Command = ""
		if len(ops) == 1 {
			if !isCommand(ops[0]) {
				return nil, fmt.Errorf("unknown command %s (see launcher --help)", q(ops[0]))
			}
			inv.Command = ops[0]
		}
		inv.Help = true
	}
	return inv, nil
}

// finishRun takes ROOTFS [CMD [ARG...]] for run.
func (b *builder) finishRun(ops []string) (*Invocation, error) {
	b.inv.Command = "run"
	if err := b.checkResources(); err != nil {
		return nil, err
	}
	if err := b.checkNetwork(); err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return nil, errors.New("missing ROOTFS (see launcher run --help)")
	}
	if ops[0] == "" {
		return nil, errors.New("empty ROOTFS (see launcher run --help)")
	}
	r := b.run()
	r.Rootfs = ops[0]
	if len(ops) > 1 {
		r.Cmd = append([]string(nil), ops[1:]...)
	}
	return b.inv, nil
}

func unexpected(cmd, arg string) error {
	return fmt.Errorf("unexpected argument %s for %s (see launcher %s --help)", q(arg), cmd, cmd)
}

func isCommand(name string) bool {
	for _, c := range commands {
		if c == name {
			return true
		}
	}
	return false
}

// q shows a user's string in an error: as is when it is non-empty plain
// printable text, quoted otherwise (so errors stay one line).
func q(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) || r == ' ' || r == '"' || r == '\'' || r == '\\' {
			return strconv.Quote(s)
		}
	}
	return s
}

// The value checks below return the reason only; the flag parser prefixes
// the flag and its value.

func setEnv(b *builder, v string) error {
	if key, _, _ := strings.Cut(v, "="); key == "" {
		return errors.New("want KEY=VALUE or KEY")
	}
	r := b.run()
	r.Env = append(r.Env, v)
	return nil
}

func setEnvFile(b *builder, v string) error {
	if v == "" {
		return errors.New("want a file")
	}
	r := b.run()
	r.EnvFiles = append(r.EnvFiles, v)
	return nil
}

func setName(b *builder, v string) error {
	ok := v != "" && len(v) <= maxName
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		ok = alnum || i > 0 && (c == '_' || c == '.' || c == '-')
	}
	if !ok {
		return errors.New("want [a-zA-Z0-9][a-zA-Z0-9_.-]*, 1 to 128 characters")
	}
	b.run().Name = v
	return nil
}

func setHostname(b *builder, v string) error {
	if v == "" || len(v) > maxHostname {
		return errors.New("want 1 to 64 bytes")
	}
	b.run().Hostname = v
	return nil
}

func setWorkdir(b *builder, v string) error {
	if !path.IsAbs(v) {
		return errors.New("want an absolute path")
	}
	b.run().Workdir = v
	return nil
}

func setUser(b *builder, v string) error {
	user, group, hasGroup := strings.Cut(v, ":")
	if user == "" || hasGroup && (group == "" || strings.Contains(group, ":")) {
		return errors.New("want UID[:GID] or NAME[:GROUP]")
	}
	b.run().User = v
	return nil
}

func setVolume(b *builder, v string) error {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return errors.New("want HOSTPATH:CTRPATH[:ro|rw]")
	}
	vol := Volume{Source: parts[0], Target: path.Clean(parts[1])}
	if !filepath.IsAbs(vol.Source) {
		return errors.New("want an absolute HOSTPATH")
	}
	if err := checkTarget(b, parts[1]); err != nil {
		return err
	}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			vol.ReadOnly = true
		case "rw":
		default:
			return errors.New("want mode ro or rw")
		}
	}
	r := b.run()
	r.Volumes = append(r.Volumes, vol)
	return nil
}

func setTmpfs(b *builder, v string) error {
	target, size, hasSize := strings.Cut(v, ":")
	if err := checkTarget(b, target); err != nil {
		return err
	}
	t := Tmpfs{Target: path.Clean(target)}
	if hasSize {
		n, reason := parseSize(size)
		if reason != "" {
			return errors.New(reason)
		}
		if n == 0 {
			return errors.New("want a SIZE above 0 (omit it for the default)")
		}
		t.Size = n
	}
	r := b.run()
	r.Tmpfs = append(r.Tmpfs, t)
	return nil
}

// checkTarget checks a mount point: absolute, not "/", not yet used.
func checkTarget(b *builder, target string) error {
	if !path.IsAbs(target) {
		return errors.New("want an absolute CTRPATH")
	}
	clean := path.Clean(target)
	if clean == "/" {
		return errors.New("want a CTRPATH other than /")
	}
	if r := b.inv.Run; r != nil {
		for _, v := range r.Volumes {
			if v.Target == clean {
				return fmt.Errorf("%s is already a mount point", q(clean))
			}
		}
		for _, t := range r.Tmpfs {
			if t.Target == clean {
				return fmt.Errorf("%s is already a mount point", q(clean))
			}
		}
	}
	return nil
}

// Listen is one --listen socket, bound by the launcher on the host side
// and passed to the container by socket activation.
type Listen struct {
	Network string // "tcp", "udp" or "unix"
	Address string // host:port, or a socket path
	Name    string // its LISTEN_FDNAMES entry
}

func setNetwork(b *builder, v string) error {
	switch v {
	case "host", "private", "nat":
		b.run().Network = v
		return nil
	}
	return errors.New("want host, private or nat")
}

func setListen(b *builder, v string) error {
	addr, name, hasName := strings.Cut(v, "=")
	l := Listen{Network: "tcp", Address: addr}
	if n, a, ok := strings.Cut(addr, ":"); ok && (n == "tcp" || n == "udp" || n == "unix") {
		l.Network, l.Address = n, a
	}
	switch {
	case l.Address == "":
		return errors.New("want [tcp:|udp:|unix:]ADDR[=NAME]")
	case l.Network == "unix" && !strings.HasPrefix(l.Address, "/"):
		return errors.New("a unix socket path must be absolute")
	case l.Network != "unix" && !strings.Contains(l.Address, ":"):
		return errors.New("want HOST:PORT or :PORT for " + l.Network)
	}
	if !hasName {
		name = "listen" + strconv.Itoa(len(b.run().Listen))
	}
	// LISTEN_FDNAMES is colon-separated; systemd allows up to 255 bytes.
	if name == "" || len(name) > 255 || strings.ContainsAny(name, ":\x00\n") {
		return errors.New("NAME must be 1 to 255 bytes without ':'")
	}
	l.Name = name
	b.run().Listen = append(b.run().Listen, l)
	return nil
}

func setStopSignal(b *builder, v string) error {
	if _, ok := parseSignal(v); !ok {
		return errors.New(notASignal)
	}
	b.run().StopSignal = v
	return nil
}

func setSignal(b *builder, v string) error {
	if _, ok := parseSignal(v); !ok {
		return errors.New(notASignal)
	}
	b.inv.Signal = v
	return nil
}

func setTime(b *builder, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || !allDigits(v) {
		return errors.New("want a non-negative number of seconds")
	}
	b.inv.Time = n
	return nil
}

func setFormat(b *builder, v string) error {
	if v != "table" && v != "json" {
		return errors.New("want table or json")
	}
	b.inv.Format = v
	return nil
}

func setRoot(b *builder, v string) error {
	if v == "" {
		return errors.New("want a directory")
	}
	b.inv.Global.Root = v
	return nil
}

func setLogFormat(b *builder, v string) error {
	if v != "text" && v != "json" {
		return errors.New("want text or json")
	}
	b.inv.Global.LogFormat = v
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
