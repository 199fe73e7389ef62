// Command launcher runs a Standard Container rootfs in fresh namespaces,
// with no daemon: `launcher ./out/rootfs` runs its /sbin/init.
//
// The Go runtime must not keep the cgroup CPU files open to follow
// GOMAXPROCS: stage 2 changes cgroups and arranges its fds for the
// container, where such a file would reappear as a leaked fd 3.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/cli"
	"github.com/stdcontainer/stdcontainer/launcher/internal/console"
	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
	"github.com/stdcontainer/stdcontainer/launcher/internal/engine"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
	"github.com/stdcontainer/stdcontainer/rootfs"
)

const exitLauncher = 125

func main() {
	if len(os.Args) > 0 && os.Args[0] == container.Stage2Arg0 {
		container.Stage2() // never returns
	}
	if len(os.Args) > 0 && os.Args[0] == container.ExecArg0 {
		container.ExecHelper() // never returns
	}
	monitorMode := len(os.Args) > 1 && os.Args[0] == monitorArg0
	if !monitorMode && len(os.Args) > 0 && ociFront(os.Args) {
		runtime.LockOSThread() // as below: a run's container dies with this thread
		os.Exit(ociMain(os.Args))
	}
	// The thread that starts a container must outlive it: the container is
	// SIGKILLed when that thread exits (PR_SET_PDEATHSIG).
	runtime.LockOSThread()
	if monitorMode {
		os.Exit(monitor(os.Args[1]))
	}
	os.Exit(launch(os.Args[1:]))
}

// launch runs one command line and returns the exit status.
func launch(args []string) int {
	inv, err := cli.Parse(args)
	if err != nil {
		return fail(exitLauncher, err)
	}
	setupLogging(inv.Global)
	if inv.Help || inv.Command == "help" {
		topic := inv.Command
		if inv.Command == "help" && len(inv.Refs) > 0 {
			topic = inv.Refs[0]
		} else if inv.Command == "help" {
			topic = ""
		}
		fmt.Print(cli.Usage(topic))
		return 0
	}
	switch inv.Command {
	case "version":
		fmt.Printf("launcher %s (%s, %s/%s)\n", rootfs.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "check":
		return check(inv.Refs)
	}
	root := inv.Global.Root
	if os.Geteuid() != 0 && root == cli.DefaultRoot {
		// Rootless: the state is the user's own, as podman keeps it.
		runtimeDir := os.Getenv("XDG_RUNTIME_DIR")
		if runtimeDir == "" {
			return fail(exitLauncher, fmt.Errorf("rootless: XDG_RUNTIME_DIR is not set; set it or give --root DIR for the state"))
		}
		root = filepath.Join(runtimeDir, "stdcontainer")
	}
	store, err := state.Open(root)
	if err != nil {
		return fail(exitLauncher, err)
	}
	switch inv.Command {
	case "run":
		return run(store, inv.Run)
	case "exec":
		return execCommand(store, inv.Refs[0], inv.Run)
	case "ps":
		return ps(store, inv)
	case "inspect":
		return inspect(store, inv.Refs)
	case "stop":
		return stop(store, inv.Refs, inv.Time)
	case "kill":
		return kill(store, inv.Refs, inv.Signal)
	case "rm":
		return remove(store, inv.Refs, inv.Force)
	case "gc":
		return gc(store)
	case "stats":
		return stats(store, inv.Refs, inv.NoStream, inv.Format)
	}
	return fail(exitLauncher, fmt.Errorf("unknown command %q (see launcher --help)", inv.Command))
}

// logger writes the launcher's own messages to stderr: "launcher: msg"
// lines by default, JSON objects with --log-format json (what engines such
// as containerd parse), debug ones only with --debug.
var logger = slog.New(textHandler{})

func setupLogging(g cli.Global) {
	if g.LogFormat == "json" {
		setLogger(jsonLogger(os.Stderr, g.Debug))
		return
	}
	level := slog.LevelInfo
	if g.Debug {
		level = slog.LevelDebug
	}
	setLogger(slog.New(textHandler{level: level}))
}

// jsonLogger writes JSON lines to w; containerd's shim reads the last
// {"level":"error","msg":...}, in lower case.
func jsonLogger(w io.Writer, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	lower := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.LevelKey {
			a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
		}
		return a
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: lower}))
}

// setLogger makes l the launcher's logger, the engine's warnings included.
func setLogger(l *slog.Logger) {
	logger = l
	slog.SetDefault(l)
}

// textHandler prints "launcher: msg key=value..." lines, like other CLIs.
type textHandler struct{ level slog.Level }

func (h textHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h textHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h textHandler) WithGroup(string) slog.Handler                { return h }
func (h textHandler) Handle(_ context.Context, r slog.Record) error {
	line := "launcher: " + r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	_, err := fmt.Fprintln(os.Stderr, line)
	return err
}

// fail reports err as the launcher's one-line error and returns code.
func fail(code int, err error) int {
	logger.Error(err.Error())
	return code
}

// run is `launcher run`: foreground, or detached under a monitor.
func run(store *state.Store, r *cli.Run) int {
	s, err := specFromCLI(r)
	if err != nil {
		return fail(exitLauncher, err)
	}
	if r.Detach {
		return detach(store, s)
	}
	if r.TTY {
		return runWithTerminal(store, s, r.Interactive)
	}
	stdio, done, err := ourStdio(r.Interactive)
	if err != nil {
		return fail(exitLauncher, err)
	}
	defer done()
	// Started by socket activation ourselves: those sockets go on to the
	// container first, under their names.
	stdio.Sockets, s.InheritedSockets = inheritedSockets()
	code, err := engine.Run(store, s, stdio, func(id string) { logger.Debug("container started", "id", id) })
	if err != nil {
		return fail(code, err)
	}
	logger.Debug("container exited", "id", s.ID, "status", code)
	return code
}

// ourStdio is the launcher's own stdio for a container, stdin /dev/null
// unless interactive; done closes what it opened.
func ourStdio(interactive bool) (container.Stdio, func(), error) {
	stdio := container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	if interactive {
		return stdio, func() {}, nil
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return stdio, nil, err
	}
	stdio.In = devNull
	return stdio, func() { devNull.Close() }, nil
}

// runWithTerminal is `run -t`.
func runWithTerminal(store *state.Store, s *spec.Spec, interactive bool) int {
	return withTerminal(interactive, func(stdio container.Stdio) (int, error) {
		return engine.Run(store, s, stdio, nil)
	})
}

// withTerminal runs body with a terminal copied to and from ours; with
// interactive and a terminal on stdin, ours runs raw. The pty is made in
// the container, from its own devpts (so the process sees /dev/pts/N, as
// under docker), and its controlling side comes back to us over a socket
// pair, as an engine's console socket would get it.
func withTerminal(interactive bool, body func(stdio container.Stdio) (int, error)) int {
	ours, theirs, err := socketPair()
	if err != nil {
		return fail(exitLauncher, fmt.Errorf("-t: %v", err))
	}
	defer ours.Close()
	stdio := container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, ConsoleSocket: theirs}
	userTerminal := console.IsTerminal(os.Stdin)
	if userTerminal {
		if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
			stdio.ConsoleRows, stdio.ConsoleCols = ws.Row, ws.Col
		}
		if interactive {
			restore, err := console.MakeRaw(os.Stdin)
			if err != nil {
				return fail(exitLauncher, fmt.Errorf("-t: raw mode: %v", err))
			}
			defer restore()
		}
	}
	var control atomic.Pointer[os.File]
	if userTerminal {
		stdio.Resize = func() {
			if c := control.Load(); c != nil {
				console.CopySize(c, os.Stdin)
			}
		}
	}
	output := make(chan struct{})
	go func() {
		defer close(output)
		c, err := console.Receive(ours)
		if err != nil {
			return // the container never made its terminal: body says why
		}
		control.Store(c)
		if interactive {
			go io.Copy(c, os.Stdin)
		}
		io.Copy(os.Stdout, c) // ends when the container's last holder exits
	}()
	code, err := body(stdio)
	theirs.Close() // the receiver's EOF, should the container not have sent
	select {
	case <-output:
	case <-time.After(2 * time.Second):
	}
	if err != nil {
		return fail(code, err)
	}
	return code
}

// socketPair is a connected pair of unix stream sockets (close-on-exec).
func socketPair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "console"), os.NewFile(uintptr(fds[1]), "console-socket"), nil
}

// inheritedSockets are the fds sd_listen_fds(3) would return: 3, 4, ...
// when LISTEN_PID is our pid. They are taken, so no child sees LISTEN_*.
func inheritedSockets() ([]*os.File, []string) {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) {
		return nil, nil
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 1 {
		return nil, nil
	}
	given := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	var files []*os.File
	var names []string
	for i := 0; i < n; i++ {
		files = append(files, os.NewFile(uintptr(3+i), "activation"))
		name := "unknown" // sd_listen_fds_with_names' default
		if i < len(given) && given[i] != "" {
			name = given[i]
		}
		names = append(names, name)
	}
	for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(v)
	}
	return files, names
}

// check is `launcher check ROOTFS`: the chroot test's findings.
func check(refs []string) int {
	findings, err := rootfs.Check(refs[0], rootfs.CheckOptions{})
	if err != nil {
		return fail(exitLauncher, err)
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	if rootfs.Failed(findings) {
		fmt.Printf("%s: fails the chroot test\n", refs[0])
		return 1
	}
	fmt.Printf("%s: passes the chroot test\n", refs[0])
	return 0
}
