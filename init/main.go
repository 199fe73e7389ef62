// Command init is the Standard Container's PID 1 (/sbin/init in images).
//
// It starts one payload, forwards signals to it, reaps every zombie, passes
// socket-activation fds on, and exits with the payload's status. With no
// payload configured it runs the RFC probe instead. Booted as a kernel's
// init it prepares the machine first and powers it off at the end (vm.go).
//
// The init has a size budget (see size_test.go): it avoids fmt, os/exec,
// encoding/json and reflect-heavy packages.

// The init needs one CPU's worth of Go: skip the runtime's cgroup-aware
// GOMAXPROCS, which reads /proc/self/mountinfo and cgroupfs at every start.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"os"
	"syscall"
	"time"

	"github.com/stdcontainer/stdcontainer/init/internal/rawfile"
	"github.com/stdcontainer/stdcontainer/init/probe"
	"github.com/stdcontainer/stdcontainer/rootfs/envfile"
	"github.com/stdcontainer/stdcontainer/rootfs/layout"
)

// Exit codes of the init itself, following docker's conventions.
const (
	exitConfig        = 125 // bad flags or a bad image configuration
	exitNotExecutable = 126
	exitNotFound      = 127
)

const usage = `usage: /sbin/init [--grace SECONDS] [--probe] [--] [CMD [ARG...]]

The Standard Container init: runs CMD as its payload, forwards signals to it,
reaps zombies, passes socket-activation fds, and exits with the payload's
status (128+N when it died of signal N).

Without CMD it runs the image's configured command (` + layout.Cmd + `,
one argument per line); without that it runs the RFC probe.
The payload's environment is the image's ` + layout.Env + ` (systemd
EnvironmentFile= syntax) overridden by the init's own environment.

As the kernel's init (a VM, an initramfs) it first mounts /proc, /dev,
/sys, cgroup2, /run and /tmp, sets the hostname (kernel parameter
hostname=, else /etc/hostname), applies the kernel's
ip=CLIENT::GATEWAY:NETMASK::DEVICE:off, and powers the machine off when
the payload exits.

  --grace SECONDS  after SIGTERM (or SIGRTMIN+3), wait this long for the
                   payload before SIGKILLing everything left (default 5)
  --probe          run the RFC probe even if a command is configured
  -h, --help       show this help
`

// options are the init's parsed command line.
type options struct {
	grace time.Duration
	probe bool
	argv  []string // the payload, when given on the command line
}

// exit ends the init: os.Exit, or in VM mode a power-off (vm.go).
var exit = os.Exit

func main() {
	if len(os.Args) > 0 && os.Args[0] == shimName {
		runShim(os.Args[1:]) // never returns
	}
	isPID1 := os.Getpid() == 1
	if isPID1 && kernelInit() {
		vmStart() // VM mode: no container manager prepared anything
	}
	opts, err := parseArgs(os.Args[1:])
	if err != nil {
		fail(exitConfig, err.Error()+" (see --help)")
	}

	if isPID1 {
		mountProcIfMissing()
	} else {
		// Orphans of the payload are re-parented to us, not to the host's init.
		setChildSubreaper()
	}

	argv := opts.argv
	if len(argv) == 0 && !opts.probe {
		if argv, err = readCmdConfig(layout.Cmd); err != nil {
			fail(exitConfig, err.Error())
		}
	}
	if len(argv) == 0 {
		// ListenFDs are consumed by the probe itself, so nothing to strip.
		exit(runProbe())
	}

	env, err := payloadEnv(layout.Env, os.Environ())
	if err != nil {
		fail(exitConfig, err.Error())
	}
	exit(supervise(argv, env, opts.grace, isPID1))
}

func parseArgs(args []string) (options, error) {
	opts := options{grace: 5 * time.Second}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			opts.argv = args[i+1:]
			return opts, nil
		case a == "-h" || a == "--help":
			os.Stdout.WriteString(usage)
			exit(0)
		case a == "--probe":
			opts.probe = true
		case a == "--grace" || len(a) > 8 && a[:8] == "--grace=":
			var v string
			if a == "--grace" {
				if i+1 >= len(args) {
					return opts, errorString("--grace needs a value in seconds")
				}
				i++
				v = args[i]
			} else {
				v = a[8:]
			}
			grace, ok := parseSeconds(v)
			if !ok {
				return opts, errorString("--grace " + v + ": not a number of seconds (use e.g. 5 or 0.5)")
			}
			opts.grace = grace
		case len(a) > 1 && a[0] == '-':
			return opts, errorString("unknown flag " + a)
		default:
			opts.argv = args[i:]
			return opts, nil
		}
	}
	return opts, nil
}

// parseSeconds reads "5", "0.25" or "1.5" as a duration of at most a day.
// (strconv.ParseFloat would cost ~25 KB of tables in the init.)
func parseSeconds(s string) (time.Duration, bool) {
	whole, frac, _ := cut(s, '.')
	if whole == "" && frac == "" || len(whole) > 5 || len(frac) > 9 {
		return 0, false
	}
	d := time.Duration(0)
	for _, c := range []byte(whole) {
		if c < '0' || c > '9' {
			return 0, false
		}
		d = d*10 + time.Duration(c-'0')
	}
	d *= time.Second
	scale := time.Second
	for _, c := range []byte(frac) {
		if c < '0' || c > '9' {
			return 0, false
		}
		scale /= 10
		d += time.Duration(c-'0') * scale
	}
	return d, d <= 24*time.Hour
}

func runProbe() int {
	rows := probe.Run(probe.Host{Args: os.Args, Pid: os.Getpid()})
	if err := probe.Write(os.Stdout, rows); err != nil {
		return 1
	}
	return 0
}

// readCmdConfig reads the image's payload: one argument per line. A missing
// file means no payload is configured.
func readCmdConfig(path string) ([]string, error) {
	data, err := rawfile.Read(path)
	if err == syscall.ENOENT {
		return nil, nil
	}
	if err != nil {
		return nil, errorString(path + ": " + errnoMessage(err))
	}
	var argv []string
	start := 0
	for i := 0; i <= len(data); i++ {
		if i == len(data) || data[i] == '\n' {
			if i > start || i < len(data) {
				argv = append(argv, string(data[start:i]))
			}
			start = i + 1
		}
	}
	if len(argv) > 0 && argv[0] == "" {
		return nil, errorString(path + ":1: empty program name")
	}
	return argv, nil
}

// payloadEnv is the image's environment file overridden by our own
// environment (what the runtime set), without the socket-activation
// variables (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES) from either: those are
// re-created for the payload only when sockets are really passed. Other
// LISTEN_* names (an application's LISTEN_ADDR) are the payload's own.
func payloadEnv(envFile string, own []string) ([]string, error) {
	var vars []envfile.Var
	if data, err := rawfile.Read(envFile); err == nil {
		if vars, err = envfile.Parse(envFile, data); err != nil {
			return nil, err
		}
	} else if err != syscall.ENOENT {
		return nil, errorString(envFile + ": " + errnoMessage(err))
	}
	env := envfile.Apply(nil, withoutActivationVars(vars))
	overrides := make([]envfile.Var, 0, len(own))
	for _, kv := range own {
		key, val, _ := cut(kv, '=')
		overrides = append(overrides, envfile.Var{Key: key, Value: val})
	}
	env = envfile.Apply(env, withoutActivationVars(overrides))
	if lookupEnv(env, "PATH") == "" {
		// Unset or empty: the default, in place of an empty one.
		const path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		i := 0
		for i < len(env) && env[i] != "PATH=" {
			i++
		}
		if i == len(env) {
			env = append(env, "")
		}
		env[i] = path
	}
	return env, nil
}

// withoutActivationVars drops sd_listen_fds's variables from vars.
func withoutActivationVars(vars []envfile.Var) []envfile.Var {
	kept := vars[:0]
	for _, v := range vars {
		if v.Key != "LISTEN_PID" && v.Key != "LISTEN_FDS" && v.Key != "LISTEN_FDNAMES" {
			kept = append(kept, v)
		}
	}
	return kept
}

func lookupEnv(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := cut(kv, '='); ok && k == key {
			return v
		}
	}
	return ""
}

func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// atoi parses a small non-negative decimal. (strconv.Atoi's error type
// links strconv.Quote and Unicode tables into the init.)
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

type errorString string

func (e errorString) Error() string { return string(e) }

// fail reports an error of the init itself and exits.
func fail(code int, msg string) {
	os.Stderr.WriteString("init: " + msg + "\n")
	exit(code)
}

// errnoMessage is err's text without the "errno N" noise.
func errnoMessage(err error) string {
	if e, ok := err.(syscall.Errno); ok {
		return e.Error()
	}
	return err.Error()
}
