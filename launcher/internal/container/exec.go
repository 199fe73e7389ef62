package container

import (
	"errors"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// ExecArg0 marks the launcher re-executed as the helper of `launcher
// exec`: it enters a running container and runs one command there.
const ExecArg0 = "stdcontainer-exec"

// execPidFD is where the helper finds a pidfd of the container's PID 1,
// after the config and error pipes.
const execPidFD = 5

// ExecConfig is what the exec helper needs, sent as JSON like Config.
type ExecConfig struct {
	Args     []string
	Env      []string
	Cwd      string
	UID, GID uint32
	Groups   []uint32
	Terminal bool
	// Console, when enabled, gives the command a terminal made in the
	// container; the console socket comes with the config.
	Console ConsoleSocket
	// Namespaces are the CLONE_NEW* flags to enter through the pidfd.
	Namespaces int
	Confinement
}

// ExecHelper enters the container and runs the command as its child,
// then exits with the command's status. It is never visible inside the
// container: it joins the container's PID namespace only for its
// children, so the container cannot reach this launcher binary through
// /proc/PID/exe (CVE-2019-5736); the child shares its non-dumpable
// memory until it execs the command.
func ExecHelper() {
	runtime.LockOSThread() // setns and the confinement apply to this thread only
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	errPipe := os.NewFile(errorFD, "exec-errors")
	reportAndExit(errPipe, execHelper(errPipe))
}

func execHelper(errPipe *os.File) error {
	var cfg ExecConfig
	files, err := receiveConfig(&cfg)
	if err != nil {
		return failf(CodeLauncher, "reading the exec config: %v", err)
	}
	if cfg.Console.Enabled && len(files) == 0 {
		return failf(CodeLauncher, "the console socket did not arrive")
	}
	// Nothing but stdio may reach the command.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return failf(CodeLauncher, "close_range: %v", err)
	}
	// setns(CLONE_NEWNS) refuses a thread that shares its root and cwd
	// with others, as every Go thread does.
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return failf(CodeLauncher, "unshare(CLONE_FS): %v", err)
	}
	if err := unix.Setns(execPidFD, cfg.Namespaces); err != nil {
		return failf(CodeLauncher, "entering the container's namespaces: %v", err)
	}
	unix.Close(execPidFD)
	stdio := []uintptr{0, 1, 2}
	if cfg.Console.Enabled {
		// Our root is now the container's: its /dev/pts.
		terminal, err := terminalFromSocket("/dev/pts", os.NewFile(uintptr(files[0]), "console-socket"), cfg.Console, cfg.UID)
		if err != nil {
			return err
		}
		defer terminal.Close()
		stdio = []uintptr{terminal.Fd(), terminal.Fd(), terminal.Fd()}
		cfg.Terminal = true
	}
	path, err := lookPath(cfg.Args[0], envValue(cfg.Env, "PATH"))
	if err != nil {
		return err
	}
	// The confinement goes on this thread and is inherited by the child
	// forked from it; the user change happens in the child.
	if err := confine(&cfg.Confinement, func() error { return nil }); err != nil {
		return err
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGCONT)
	sys := &syscall.SysProcAttr{Setsid: true, Setctty: cfg.Terminal, Ctty: 0}
	if cfg.UID != 0 || cfg.GID != 0 || len(cfg.Groups) > 0 {
		sys.Credential = &syscall.Credential{Uid: cfg.UID, Gid: cfg.GID, Groups: cfg.Groups}
	}
	pid, err := syscall.ForkExec(path, cfg.Args, &syscall.ProcAttr{
		Dir: cfg.Cwd, Env: cfg.Env, Files: stdio, Sys: sys,
	})
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return failf(CodeNotFound, "%s: %v", cfg.Args[0], err)
		}
		return failf(CodeNotExecutable, "%s: %v", cfg.Args[0], err)
	}
	errPipe.Close() // EOF: the command runs
	proc := &Process{Pid: pid}
	done := make(chan int, 1)
	go func() { done <- proc.Wait() }()
	for {
		select {
		case sig := <-sigs:
			proc.Signal(sig)
		case code := <-done:
			os.Exit(code)
		}
	}
}
