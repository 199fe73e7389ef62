package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/cgroups"
	"github.com/stdcontainer/stdcontainer/launcher/internal/cli"
	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
	"github.com/stdcontainer/stdcontainer/launcher/internal/engine"
	"github.com/stdcontainer/stdcontainer/launcher/internal/hooks"
	"github.com/stdcontainer/stdcontainer/launcher/internal/ocispec"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
)

// The OCI runtime front: the command line of runc, which containerd's
// shim, podman and cri-o call. It is chosen by the name the launcher is
// run as (a link named runc or ending in -runc, e.g. stdcontainer-runc)
// or by `launcher oci ...`, so that it never clashes with the docker-like
// commands of the same names (run, ps, kill).

// ociFront reports whether argv selects the OCI front.
func ociFront(argv []string) bool {
	base := filepath.Base(argv[0])
	return base == "runc" || strings.HasSuffix(base, "-runc") || len(argv) > 1 && argv[1] == "oci"
}

// ociGlobal are runc's global flags.
type ociGlobal struct {
	root, log, logFormat string
	debug, systemdCgroup bool
	// inheritedFDs is how many fds from 3 on were open when we started,
	// before we opened any: what --preserve-fds may pass on.
	inheritedFDs int
}

// ociMain runs one OCI command line and returns the exit status.
func ociMain(argv []string) int {
	args := argv[1:]
	if len(args) > 0 && args[0] == "oci" {
		args = args[1:]
	}
	var g ociGlobal
	for {
		if _, err := unix.FcntlInt(uintptr(3+g.inheritedFDs), unix.F_GETFD, 0); err != nil {
			break
		}
		g.inheritedFDs++
	}
	gfs := flag.NewFlagSet("launcher oci", flag.ContinueOnError)
	gfs.SetOutput(io.Discard)
	gfs.StringVar(&g.root, "root", cli.DefaultRoot, "")
	gfs.StringVar(&g.log, "log", "", "")
	gfs.StringVar(&g.logFormat, "log-format", "text", "")
	gfs.BoolVar(&g.debug, "debug", false, "")
	gfs.BoolVar(&g.systemdCgroup, "systemd-cgroup", false, "")
	rootless := gfs.String("rootless", "auto", "")
	_ = rootless // runc's --rootless: decided from the euid here
	if err := gfs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Print(ociUsage)
		return 0
	} else if err != nil {
		return ociFail(exitLauncher, fmt.Errorf("%v (see launcher oci help)", err))
	}
	setupOCILogging(g)
	args = gfs.Args()
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		fmt.Print(ociUsage)
		return 0
	}
	cmd, args := args[0], args[1:]
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Print(commandUsage(cmd))
		return 0
	}
	switch cmd {
	case "features":
		data, err := ocispec.Features()
		if err != nil {
			return ociFail(1, err)
		}
		os.Stdout.Write(append(data, '\n'))
		return 0
	case "spec":
		return ociSpec(args)
	case "--version", "version", "-v":
		fmt.Printf("launcher (OCI runtime front)\nspec: %s\n", specs.Version)
		return 0
	}
	store, err := state.Open(g.root)
	if err != nil {
		return ociFail(1, err)
	}
	switch cmd {
	case "create":
		return ociCreate(store, args, g, true)
	case "run":
		return ociCreate(store, args, g, false)
	case "start":
		return ociStart(store, args)
	case "state":
		return ociState(store, args)
	case "kill":
		return ociKill(store, args)
	case "delete":
		return ociDelete(store, args)
	case "list":
		return ociList(store, args)
	case "pause", "resume":
		return ociFreeze(store, args, cmd == "pause")
	case "ps":
		return ociPs(store, args)
	case "exec":
		return ociExec(store, args)
	case "update":
		return ociUpdate(store, args)
	case "checkpoint", "restore", "events":
		return ociFail(1, fmt.Errorf("%s is not supported yet by the OCI front", cmd))
	}
	return ociFail(1, fmt.Errorf("unknown command %q (see launcher oci help)", cmd))
}

const ociUsage = `usage: launcher oci [GLOBAL OPTIONS] COMMAND [OPTIONS] ...
       (or the launcher run under a name ending in "runc", e.g. stdcontainer-runc)

The OCI runtime command line of runc, for containerd, podman and cri-o.

Global options: --root DIR (default /run/stdcontainer), --log FILE,
--log-format text|json, --debug, --systemd-cgroup.

Commands:
  spec [--bundle B] [--rootless]       write a default config.json
  create [--bundle B] [--pid-file F] [--console-socket S] [--preserve-fds N] ID
                                       build the container; it waits for start
                                       (--no-pivot, --no-new-keyring: accepted, no effect)
  start ID                             run the created container's process
  run [--bundle B] [--detach] [--pid-file F] [--console-socket S] [--preserve-fds N] ID
                                       create and start
  state ID                             the OCI state as JSON
  kill [--all] ID [SIGNAL]             signal it (default TERM)
  delete [--force] ID                  remove it (a created one is killed)
  list [--format table|json] [-q]      every container
  ps [--format table|json] ID          its processes (host pids)
  exec [--process F] [--detach] [--pid-file F] [-t] [--console-socket S] ID [CMD...]
                                       run a command in it
  pause ID, resume ID                  freeze and thaw its cgroups
  update [--resources F|-] [--memory M] [--memory-swap M] [--cpu-quota N] [--pids-limit N] ... ID
                                       change its resource limits (runc's flags; -1 lifts a limit)
  features                             what this runtime supports, as JSON

A terminal (process.terminal, exec -t) is a new pseudo-terminal. Detached
(create, run/exec --detach), its controlling side is sent to the unix
socket S (--console-socket, required then, as in runc); in the foreground
it is copied to and from ours.
`

// ociLog is where errors go: the --log file (containerd reads its last
// {"level":"error","msg":...} line), and stderr.
func setupOCILogging(g ociGlobal) {
	var w io.Writer = os.Stderr
	if g.log != "" {
		if f, err := os.OpenFile(g.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			w = io.MultiWriter(f, os.Stderr)
		}
	}
	if g.logFormat == "json" {
		setLogger(jsonLogger(w, g.debug))
		return
	}
	level := slog.LevelInfo
	if g.debug {
		level = slog.LevelDebug
	}
	setLogger(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})))
}

func ociFail(code int, err error) int {
	logger.Error(err.Error())
	return code
}

// ociID checks an OCI container ID (runc's rule).
var ociIDRE = regexp.MustCompile(`^[\w+.-]+$`)

// lookupOCI finds a container by its OCI ID: our 64-hex ID, or the name
// an OCI ID of another shape was stored under.
func lookupOCI(store *state.Store, id string) (*state.Container, error) {
	if !ociIDRE.MatchString(id) {
		return nil, fmt.Errorf("container %s does not exist", id)
	}
	c, err := store.Get(id)
	if err != nil || c.Id != id && c.Name != id {
		return nil, fmt.Errorf("container %s does not exist", id)
	}
	return c, nil
}

// ociName is the OCI ID a container answers to.
func ociName(c *state.Container) string {
	if c.Name != "" {
		return c.Name
	}
	return c.Id
}

func ociSpec(args []string) int {
	fs := ociFlags("spec")
	bundle := fs.String("bundle", "", "")
	fs.StringVar(bundle, "b", "", "")
	rootless := fs.Bool("rootless", false, "")
	if err := parseOCIFlags(fs, args); err != nil {
		return ociFail(1, fmt.Errorf("spec: %v", err))
	}
	path := filepath.Join(*bundle, "config.json")
	if _, err := os.Stat(path); err == nil {
		return ociFail(1, fmt.Errorf("spec: %s already exists; remove it first", path))
	}
	data, err := json.MarshalIndent(ocispec.Default(*rootless), "", "\t")
	if err != nil {
		return ociFail(1, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o666); err != nil {
		return ociFail(1, fmt.Errorf("spec: %v", err))
	}
	return 0
}

// ociCreate is `create` (wait for start) and `run` (start at once).
func ociCreate(store *state.Store, args []string, g ociGlobal, wait bool) int {
	name := "run"
	if wait {
		name = "create"
	}
	fs := ociFlags(name)
	bundle := fs.String("bundle", ".", "")
	fs.StringVar(bundle, "b", ".", "")
	pidFile := fs.String("pid-file", "", "")
	consoleSocket := fs.String("console-socket", "", "")
	detach := fs.Bool("detach", false, "")
	fs.BoolVar(detach, "d", false, "")
	fs.Bool("no-pivot", false, "")
	fs.Bool("no-new-keyring", false, "")
	fs.Bool("no-subreaper", false, "")
	keep := fs.Bool("keep", false, "")
	preserve := fs.Int("preserve-fds", 0, "")
	if err := parseOCIFlags(fs, args); err != nil {
		return ociFail(1, fmt.Errorf("%s: %v", name, err))
	}
	if fs.NArg() != 1 || !ociIDRE.MatchString(fs.Arg(0)) {
		return ociFail(1, fmt.Errorf("%s: want exactly one container ID ([A-Za-z0-9_+.-]+)", name))
	}
	if *preserve < 0 || *preserve > 1<<16 {
		return ociFail(1, fmt.Errorf("%s: --preserve-fds %d: want a number of fds from 0 to 65536", name, *preserve))
	}
	if *preserve > g.inheritedFDs {
		return ociFail(1, fmt.Errorf("%s: --preserve-fds %d: fd %d is not open", name, *preserve, 3+g.inheritedFDs))
	}
	id := fs.Arg(0)
	if _, err := lookupOCI(store, id); err == nil {
		return ociFail(1, fmt.Errorf("container %s already exists", id))
	}
	s, err := ocispec.Load(*bundle)
	if err != nil {
		return ociFail(1, err)
	}
	s.Bundle, _ = filepath.Abs(*bundle)
	if state.IsID(id) {
		s.ID = id
	} else {
		s.Name = id
	}
	if g.systemdCgroup {
		slog.Debug("--systemd-cgroup: the cgroups path is mapped to cgroupfs directories")
	}
	s.PreserveFDs = *preserve
	terminal := s.Process.Terminal
	if err := consoleRules(name, wait || *detach, terminal, "process.terminal", *consoleSocket); err != nil {
		return ociFail(1, err)
	}
	if !wait && !*detach {
		// runc run in the foreground: the container's status is ours, and
		// the container is deleted when it exits (poststop hooks and all)
		// unless --keep.
		s.Remove = !*keep
		started := func(string) {
			if *pidFile != "" {
				if c, err := lookupOCI(store, id); err == nil {
					writePidFile(*pidFile, c.State.Pid)
				}
			}
		}
		if terminal {
			return foregroundConsole(s.Process.ConsoleSize, func(stdio container.Stdio) (int, error) {
				return engine.Run(store, s, stdio, started)
			})
		}
		stdio := container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
		code, err := engine.Run(store, s, stdio, started)
		if err != nil {
			return ociFail(code, err)
		}
		return code
	}
	stdio := container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	if terminal {
		var closeOurs func()
		if stdio, closeOurs, err = socketConsole(*consoleSocket, s.Process.ConsoleSize); err != nil {
			return ociFail(1, fmt.Errorf("%s: %v", name, err))
		}
		defer closeOurs()
	}
	// With a terminal or preserved fds, run --detach is create then start,
	// as in runc: the monitor of a plain run --detach runs the container on
	// its own stdio, which cannot make the pty the container's controlling
	// terminal, and does not hold our fds.
	if wait || terminal || s.PreserveFDs > 0 {
		// create: the container's process is ours until we exit, then the
		// engine's (its shim or conmon is a subreaper): it reaps it and
		// sees its status, as with runc. delete cleans up after it.
		s.WaitForStart, s.Orphan = true, true
		if code, err := engine.Run(store, s, stdio, nil); err != nil {
			return ociFail(code, err)
		}
		if !wait {
			if code := ociStart(store, []string{id}); code != 0 {
				ociDelete(store, []string{"--force", id}) // a failed run leaves no container, as in runc
				return code
			}
		}
	} else if _, _, err := startMonitor(store, s, true); err != nil {
		return ociFail(1, err)
	}
	c, err := lookupOCI(store, id)
	if err != nil {
		return ociFail(1, err)
	}
	if *pidFile != "" {
		if err := writePidFile(*pidFile, c.State.Pid); err != nil {
			return ociFail(1, fmt.Errorf("--pid-file: %v", err))
		}
	}
	return 0
}

// ociExec is `exec [--process F | CMD...] [--detach] [--pid-file F] ID`:
// a command in the container's namespaces, cgroups and confinement.
func ociExec(store *state.Store, args []string) int {
	fs := ociFlags("exec")
	processFile := fs.String("process", "", "")
	fs.StringVar(processFile, "p", "", "")
	detach := fs.Bool("detach", false, "")
	fs.BoolVar(detach, "d", false, "")
	pidFile := fs.String("pid-file", "", "")
	cwd := fs.String("cwd", "", "")
	userFlag := fs.String("user", "", "")
	fs.StringVar(userFlag, "u", "", "")
	tty := fs.Bool("tty", false, "")
	fs.BoolVar(tty, "t", false, "")
	consoleSocket := fs.String("console-socket", "", "")
	var env []string
	fs.Func("env", "", func(v string) error { env = append(env, v); return nil })
	fs.Func("e", "", func(v string) error { env = append(env, v); return nil })
	if err := parseOCIFlags(fs, args); err != nil || fs.NArg() < 1 {
		return ociFail(1, errors.New("exec: want [--process F | ID CMD...] ID"))
	}
	o := engine.ExecOptions{Env: env, Cwd: *cwd, Detach: *detach, Terminal: *tty}
	terminalFlag := "--tty"
	var consoleSize *specs.Box
	if *processFile != "" {
		data, err := os.ReadFile(*processFile)
		var p specs.Process
		if err == nil {
			err = json.Unmarshal(data, &p)
		}
		if err != nil {
			return ociFail(1, fmt.Errorf("exec --process %s: %v", *processFile, err))
		}
		if p.Terminal {
			o.Terminal, terminalFlag = true, "the process file's terminal"
		}
		consoleSize, o.ConsoleSize = p.ConsoleSize, p.ConsoleSize
		o.Args, o.Env, o.Cwd = p.Args, append(p.Env, env...), p.Cwd
		o.User = &specs.User{UID: p.User.UID, GID: p.User.GID, AdditionalGids: p.User.AdditionalGids}
	} else {
		o.Args = fs.Args()[1:]
	}
	if len(o.Args) == 0 {
		return ociFail(1, errors.New("exec: no command (give CMD or --process)"))
	}
	if err := consoleRules("exec", *detach, o.Terminal, terminalFlag, *consoleSocket); err != nil {
		return ociFail(1, err)
	}
	if *userFlag != "" {
		uid, gid, _ := strings.Cut(*userFlag, ":")
		u, err1 := strconv.ParseUint(uid, 10, 32)
		g, err2 := strconv.ParseUint(gid, 10, 32)
		if err1 != nil || gid != "" && err2 != nil {
			return ociFail(1, fmt.Errorf("exec --user %s: want UID[:GID]", *userFlag))
		}
		o.User = &specs.User{UID: uint32(u), GID: uint32(g)}
	}
	c, err := lookupOCI(store, fs.Arg(0))
	if err != nil {
		return ociFail(1, err)
	}
	if *pidFile != "" {
		o.Started = func(pid int) { writePidFile(*pidFile, pid) }
	}
	execute := func(stdio container.Stdio) (int, error) {
		code, err := engine.Exec(store, c.Id, o, stdio)
		if err != nil && strings.Contains(err.Error(), "is not running") {
			err = fmt.Errorf("%v: container not running", err) // runc's words
		}
		return code, err
	}
	if o.Terminal && !*detach {
		return foregroundConsole(consoleSize, execute)
	}
	stdio := container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	if o.Terminal {
		var closeOurs func()
		if stdio, closeOurs, err = socketConsole(*consoleSocket, consoleSize); err != nil {
			return ociFail(1, fmt.Errorf("exec: %v", err))
		}
		defer closeOurs()
	}
	code, err := execute(stdio)
	if err != nil {
		return ociFail(code, err)
	}
	return code
}

// ociFlags is a command's flag set: errors are ours to report.
func ociFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseOCIFlags parses a command's flags; -h or --help prints the
// command's usage and exits 0, as runc does.
func parseOCIFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Print(commandUsage(fs.Name()))
		os.Exit(0)
	}
	return err
}

// commandUsage is cmd's lines of ociUsage, or all of it.
func commandUsage(cmd string) string {
	var out strings.Builder
	in := false
	for _, line := range strings.SplitAfter(ociUsage, "\n") {
		switch {
		case strings.HasPrefix(line, "  "+cmd+" ") || strings.HasPrefix(line, "  "+cmd+",") || line == "  "+cmd+"\n":
			in = true
		case in && !strings.HasPrefix(line, "    "):
			in = false
		}
		if in {
			out.WriteString(line)
		}
	}
	if out.Len() == 0 {
		return ociUsage
	}
	return "usage: launcher oci [GLOBAL OPTIONS] COMMAND ... (see launcher oci help)\n" + out.String()
}

// formatFlag is --format/-f table|json.
func formatFlag(fs *flag.FlagSet) *string {
	format := fs.String("format", "table", "")
	fs.StringVar(format, "f", "table", "")
	return format
}

// writePidFile writes pid atomically (engines read it while we write).
func writePidFile(path string, pid int) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func ociStart(store *state.Store, args []string) int {
	if len(args) != 1 {
		return ociFail(1, errors.New("start: want exactly one container ID"))
	}
	c, err := lookupOCI(store, args[0])
	if err != nil {
		return ociFail(1, err)
	}
	if c.State.Status != state.StatusCreated || !state.Alive(c) {
		return ociFail(1, fmt.Errorf("cannot start container %s: it is %s, not created", args[0], ociStatus(c)))
	}
	fd, err := unix.Open(filepath.Join(store.Dir(c.Id), engine.StartFIFO), unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return ociFail(1, fmt.Errorf("cannot start container %s: %v", args[0], err))
	}
	_, err = unix.Write(fd, []byte{1})
	unix.Close(fd)
	if err != nil {
		return ociFail(1, fmt.Errorf("cannot start container %s: %v", args[0], err))
	}
	if state.Owned(c) {
		// A monitor runs it (run --detach): it records "running" itself.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if c, err := store.Get(c.Id); err != nil || c.State.Status != state.StatusCreated {
				return 0
			}
		}
		return ociFail(1, fmt.Errorf("container %s did not start within 10s", args[0]))
	}
	os.Remove(filepath.Join(store.Dir(c.Id), engine.StartFIFO))
	store.Update(c.Id, func(c *state.Container) error {
		c.State.Status, c.State.Running, c.State.StartedAt = state.StatusRunning, true, time.Now().UTC().Format(time.RFC3339Nano)
		return nil
	})
	if c.Hooks != nil {
		// Nobody monitors it: the poststart hooks are ours to run.
		runStateHooks("poststart", c.Hooks.Poststart, c, "running")
	}
	return 0
}

// ociStatus is the OCI status: created, running, paused or stopped.
func ociStatus(c *state.Container) string {
	switch {
	case !state.Alive(c):
		return "stopped"
	case c.State.Status == state.StatusCreated:
		return "created"
	case c.State.Paused:
		return "paused"
	}
	return "running"
}

// ociFreeze is `pause` and `resume`: the container's cgroups frozen or
// thawed.
func ociFreeze(store *state.Store, args []string, pause bool) int {
	if len(args) != 1 {
		return ociFail(1, errors.New("pause/resume: want exactly one container ID"))
	}
	c, err := lookupOCI(store, args[0])
	if err != nil {
		return ociFail(1, err)
	}
	if status := ociStatus(c); pause && status != "running" || !pause && status != "paused" {
		return ociFail(1, fmt.Errorf("container %s is %s", args[0], status))
	}
	if err := cgroups.Freeze(c.CgroupPaths, pause); err != nil {
		return ociFail(1, err)
	}
	store.Update(c.Id, func(c *state.Container) error { c.State.Paused = pause; return nil })
	return 0
}

// ociPs lists the container's processes (its cgroup's members): host
// pids as JSON with --format json, else a PID and command table.
func ociPs(store *state.Store, args []string) int {
	fs := ociFlags("ps")
	format := formatFlag(fs)
	if err := parseOCIFlags(fs, args); err != nil || fs.NArg() != 1 {
		return ociFail(1, errors.New("ps: want [--format table|json] ID"))
	}
	c, err := lookupOCI(store, fs.Arg(0))
	if err != nil {
		return ociFail(1, err)
	}
	if !state.Alive(c) {
		return ociFail(1, fmt.Errorf("container %s: container not running", fs.Arg(0)))
	}
	pids := []int{}
	for _, dir := range c.CgroupPaths {
		data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil || len(data) == 0 {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		break
	}
	if *format == "json" {
		data, _ := json.Marshal(pids)
		fmt.Println(string(data))
		return 0
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
	fmt.Fprintln(w, "PID\tCMD")
	for _, pid := range pids {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		fmt.Fprintf(w, "%d\t%s\n", pid, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}
	w.Flush()
	return 0
}

// ociStateDoc is the OCI state document.
type ociStateDoc struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid"`
	Bundle      string            `json:"bundle"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Created     string            `json:"created,omitempty"`
	Owner       string            `json:"owner"`
}

func stateOf(c *state.Container) ociStateDoc {
	st := ociStateDoc{OCIVersion: specs.Version, ID: ociName(c), Status: ociStatus(c), Bundle: c.Bundle,
		Annotations: c.Annotations, Created: c.Created, Owner: ""}
	if st.Status != "stopped" {
		st.Pid = c.State.Pid
	}
	return st
}

func ociState(store *state.Store, args []string) int {
	if len(args) != 1 {
		return ociFail(1, errors.New("state: want exactly one container ID"))
	}
	c, err := lookupOCI(store, args[0])
	if err != nil {
		return ociFail(1, err)
	}
	data, _ := json.MarshalIndent(stateOf(c), "", "  ")
	fmt.Println(string(data))
	return 0
}

func ociKill(store *state.Store, args []string) int {
	fs := ociFlags("kill")
	all := fs.Bool("all", false, "")
	fs.BoolVar(all, "a", false, "")
	if err := parseOCIFlags(fs, args); err != nil {
		return ociFail(1, fmt.Errorf("kill: %v", err))
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return ociFail(1, errors.New("kill: want ID [SIGNAL]"))
	}
	sigName := "TERM"
	if fs.NArg() == 2 {
		sigName = fs.Arg(1)
	}
	sig, err := cli.ParseSignal(sigName)
	if err != nil {
		return ociFail(1, fmt.Errorf("kill: %v", err))
	}
	c, err := lookupOCI(store, fs.Arg(0))
	if err != nil {
		return ociFail(1, err)
	}
	if !state.Alive(c) {
		return ociFail(1, fmt.Errorf("container %s: container not running", fs.Arg(0)))
	}
	if *all {
		// Every process of the container: its cgroup's members.
		for _, dir := range c.CgroupPaths {
			data, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil {
					syscall.Kill(pid, sig)
				}
			}
			if len(data) > 0 {
				break
			}
		}
	}
	if err := syscall.Kill(c.State.Pid, sig); err != nil && !*all {
		return ociFail(1, fmt.Errorf("kill %s: %v", fs.Arg(0), err))
	}
	return 0
}

func ociDelete(store *state.Store, args []string) int {
	fs := ociFlags("delete")
	force := fs.Bool("force", false, "")
	fs.BoolVar(force, "f", false, "")
	if err := parseOCIFlags(fs, args); err != nil {
		return ociFail(1, fmt.Errorf("delete: %v", err))
	}
	if fs.NArg() != 1 {
		return ociFail(1, errors.New("delete: want exactly one container ID"))
	}
	c, err := lookupOCI(store, fs.Arg(0))
	if err != nil {
		if *force {
			return 0 // runc: deleting a missing container with --force succeeds
		}
		return ociFail(1, err)
	}
	// runc deletes a created container by killing it; a running one only
	// with --force.
	if ociStatus(c) == "running" && !*force {
		return ociFail(1, fmt.Errorf("cannot delete container %s that is not stopped: running (use --force)", fs.Arg(0)))
	}
	if state.Alive(c) {
		syscall.Kill(c.State.Pid, syscall.SIGKILL)
		waitDead(c, 10*time.Second)
	}
	for i := 0; i < 250 && state.Owned(c); i++ {
		time.Sleep(20 * time.Millisecond) // its monitor is cleaning up
	}
	if !state.Owned(c) {
		// Nobody watched it (create leaves it to the engine): its cgroups
		// are ours to remove.
		if err := cgroups.DestroyPaths(c.CgroupPaths, cgroups.NewParents(store.Root)); err != nil {
			return ociFail(1, fmt.Errorf("delete %s: %v", fs.Arg(0), err))
		}
	}
	if err := store.Remove(c.Id); err != nil && !errors.Is(err, state.ErrNotFound) {
		return ociFail(1, err)
	}
	if c.Hooks != nil {
		runStateHooks("poststop", c.Hooks.Poststop, c, "stopped")
	}
	return 0
}

// runStateHooks runs hooks that may fail without stopping anything
// (poststart, poststop) with c's OCI state in status; a failure is a
// warning, as the runtime spec asks.
func runStateHooks(kind string, list []specs.Hook, c *state.Container, status string) {
	st := hooks.State(ociName(c), status, c.State.Pid, c.Bundle, c.Annotations)
	if err := hooks.Run(kind, list, st); err != nil {
		logger.Warn(err.Error())
	}
}

func ociList(store *state.Store, args []string) int {
	fs := ociFlags("list")
	format := formatFlag(fs)
	quiet := fs.Bool("quiet", false, "")
	fs.BoolVar(quiet, "q", false, "")
	if err := parseOCIFlags(fs, args); err != nil {
		return ociFail(1, fmt.Errorf("list: %v", err))
	}
	all, err := store.List()
	if err != nil {
		return ociFail(1, err)
	}
	states := []ociStateDoc{}
	for _, c := range all {
		states = append(states, stateOf(c))
	}
	switch {
	case *quiet:
		for _, s := range states {
			fmt.Println(s.ID)
		}
	case *format == "json":
		data, _ := json.Marshal(states)
		fmt.Println(string(data))
	case *format == "table":
		w := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
		fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER")
		for _, s := range states {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\troot\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created)
		}
		w.Flush()
	default:
		return ociFail(1, fmt.Errorf("list: --format %s: want table or json", *format))
	}
	return 0
}

// startMonitor runs s under a detached monitor and returns once the
// container runs (or, with WaitForStart, is created), with its ID; the
// monitor outlives us. With ourStdio the container gets our stdio (an
// engine's fifos), else /dev/null. On failure code is the exit status
// the container's start gave (125, 126, 127).
func startMonitor(store *state.Store, s *spec.Spec, ourStdio bool) (id string, code int, err error) {
	specR, specW, err := os.Pipe()
	if err != nil {
		return "", exitLauncher, err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return "", exitLauncher, err
	}
	args := []string{monitorArg0, store.Root}
	var stdin, stdout, stderr *os.File = os.Stdin, os.Stdout, os.Stderr
	if !ourStdio {
		devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return "", exitLauncher, err
		}
		defer devNull.Close()
		stdin, stdout, stderr = devNull, devNull, devNull
	}
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        args,
		Stdin:       stdin,
		Stdout:      stdout,
		Stderr:      stderr,
		ExtraFiles:  []*os.File{specR, readyW}, // fds 3 and 4
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	specR.Close()
	readyW.Close()
	if err != nil {
		return "", exitLauncher, err
	}
	json.NewEncoder(specW).Encode(s)
	specW.Close()
	report, _ := io.ReadAll(readyR)
	cmd.Process.Release() // the monitor outlives us; it is not our child to wait for
	word, rest, _ := strings.Cut(strings.TrimSpace(string(report)), " ")
	switch word {
	case "started":
		return rest, 0, nil
	case "failed":
		c, msg, _ := strings.Cut(rest, " ")
		n, _ := strconv.Atoi(c)
		return "", n, errors.New(msg)
	}
	return "", exitLauncher, errors.New("the container's monitor exited without starting it")
}
