// Command launcher runs a Standard Container rootfs in fresh namespaces,
// with no daemon: `launcher ./out/rootfs` runs its /sbin/init.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

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
	monitorMode := len(os.Args) > 1 && os.Args[0] == monitorArg0
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
	if os.Geteuid() != 0 {
		return fail(exitLauncher, fmt.Errorf("%s needs root (namespaces, mounts); rootless containers arrive with user namespaces", inv.Command))
	}
	store, err := state.Open(inv.Global.Root)
	if err != nil {
		return fail(exitLauncher, err)
	}
	switch inv.Command {
	case "run":
		return run(store, inv.Run)
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
	level := slog.LevelInfo
	if g.Debug {
		level = slog.LevelDebug
	}
	if g.LogFormat == "json" {
		// containerd's shim reads {"level":"error","msg":...}: lower case.
		lower := func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.LevelKey {
				a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
			}
			return a
		}
		logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: lower}))
		return
	}
	logger = slog.New(textHandler{level: level})
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
	stdio := container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	// Started by socket activation ourselves: those sockets go on to the
	// container first, under their names.
	stdio.Sockets, s.InheritedSockets = inheritedSockets()
	if !r.Interactive {
		devNull, err := os.Open(os.DevNull)
		if err != nil {
			return fail(exitLauncher, err)
		}
		defer devNull.Close()
		stdio.In = devNull
	}
	code, err := engine.Run(store, s, stdio, func(id string) { logger.Debug("container started", "id", id) })
	if err != nil {
		return fail(code, err)
	}
	logger.Debug("container exited", "id", s.ID, "status", code)
	return code
}

// runWithTerminal is `run -t`: the container's stdio is a new pty, copied
// to and from ours; with -i and a terminal on stdin, ours runs raw.
func runWithTerminal(store *state.Store, s *spec.Spec, interactive bool) int {
	pty, err := console.Open()
	if err != nil {
		return fail(exitLauncher, fmt.Errorf("-t: allocating a pseudo-terminal: %v", err))
	}
	defer pty.Control.Close()
	stdio := container.Stdio{In: pty.Terminal, Out: pty.Terminal, Err: pty.Terminal, Terminal: true}
	if console.IsTerminal(os.Stdin) {
		pty.CopySize(os.Stdin)
		stdio.Resize = func() { pty.CopySize(os.Stdin) }
		if interactive {
			restore, err := console.MakeRaw(os.Stdin)
			if err != nil {
				return fail(exitLauncher, fmt.Errorf("-t: raw mode: %v", err))
			}
			defer restore()
		}
	}
	if interactive {
		go io.Copy(pty.Control, os.Stdin)
	}
	output := make(chan struct{})
	go func() { io.Copy(os.Stdout, pty.Control); close(output) }()
	// Once the container holds the terminal side, ours must go: the copy
	// above ends when the container's last holder of it exits.
	code, err := engine.Run(store, s, stdio, func(string) { pty.Terminal.Close() })
	pty.Terminal.Close()
	select {
	case <-output:
	case <-time.After(2 * time.Second):
	}
	if err != nil {
		return fail(code, err)
	}
	return code
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
