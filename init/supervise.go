package main

import (
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/stdcontainer/stdcontainer/init/internal/rawfile"
)

// sigRTMin3 is systemd's "halt" request (SIGRTMIN+3 as glibc numbers it);
// podman stops /sbin/init containers with it, so it counts as SIGTERM.
const sigRTMin3 = syscall.Signal(37)

// stopSignals are subscribed before the payload starts, so a stop request
// is never lost. Each subscription costs the Go runtime a round trip to its
// signal thread (~30 µs), which is why the rest wait (see lateSignalDelay).
var stopSignals = []os.Signal{syscall.SIGTERM, sigRTMin3, syscall.SIGINT,
	syscall.SIGQUIT, syscall.SIGHUP}

// lateSignalDelay is how long the payload runs before every other signal
// is subscribed: subscribing all ~60 takes 1.5 ms of CPU that short
// payloads would otherwise wait for. Until then those signals get their
// default action, which for a PID 1 means they are dropped.
const lateSignalDelay = 10 * time.Millisecond

// supervise starts the payload and runs the init's loop until the payload
// exits: forward each signal, and after a SIGTERM give the payload `grace`
// before killing what is left. It returns the exit code to leave with.
func supervise(argv, env []string, grace time.Duration, isPID1 bool) int {
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, stopSignals...)

	path, err := lookPath(argv[0], lookupEnv(env, "PATH"))
	if err != nil {
		fail(err.code, err.msg)
	}
	// SIGTTIN/SIGTTOU are still at their default action here, so the
	// payload starts with it (exec keeps ignored signals, resets caught ones).
	tty := ownsTerminal(0)
	pid, startErr := spawn(path, argv, env, tty)
	if startErr != nil {
		fail(exitNotExecutable, argv[0]+": "+errnoMessage(startErr))
	}
	exited := make(chan int, 1)
	go reapAll(pid, exited)
	// The payload may own the terminal now: never stop for touching it.
	signal.Ignore(syscall.SIGTTIN, syscall.SIGTTOU)
	go subscribeLate(sigs)

	// Not time.After: a chan time.Time in an interface links time
	// formatting and zone loading, ~90 KB of the size budget.
	var graceOver chan struct{}
	killed := false
	for {
		select {
		case code := <-exited:
			if killed && !isPID1 {
				// Children forked while the grace kill was under way.
				killDescendants()
			}
			return code
		case s := <-sigs:
			sig := s.(syscall.Signal)
			if sig == syscall.SIGTERM || sig == sigRTMin3 {
				sig = syscall.SIGTERM
				if graceOver == nil {
					over := make(chan struct{})
					graceOver = over
					go func() { time.Sleep(grace); close(over) }()
				}
			}
			syscall.Kill(pid, sig)
		case <-graceOver:
			killAll(pid, isPID1)
			graceOver, killed = nil, true
		}
	}
}

// subscribeLate subscribes every other catchable signal, real-time ones
// included, except SIGCHLD (children are reaped by waiting), SIGURG (the Go
// runtime's preemption signal) and SIGTTIN/SIGTTOU (ignored). One call per
// signal: Notify holds the lock that delivering a signal needs.
func subscribeLate(sigs chan<- os.Signal) {
	time.Sleep(lateSignalDelay)
	for s := syscall.Signal(1); s <= 64; s++ {
		switch s {
		case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG,
			syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGTERM, sigRTMin3,
			syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP:
			continue
		}
		signal.Notify(sigs, s)
	}
}

// reapAll is the one place children are collected: it waits for any child,
// orphans re-parented to us included, and reports the payload's exit code.
// It blocks in wait4 instead of reacting to SIGCHLD, which saves a signal
// subscription and a wake-up per exit.
func reapAll(payload int, exited chan<- int) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return // ECHILD: nothing left to wait for
		}
		if pid == payload {
			exited <- exitCode(ws)
		}
	}
}

// exitCode is the shell's convention: the exit status, or 128+N for signal N.
func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// killAll ends the grace period. As PID 1 everything else in the PID
// namespace goes; otherwise (a subreaper on a shared PID namespace) the
// payload and everything below the init, never the host's processes.
func killAll(payload int, isPID1 bool) {
	if isPID1 {
		syscall.Kill(-1, syscall.SIGKILL)
		return
	}
	// The tree is listed before anything dies: a killed parent's children
	// are re-parented, and only a subreaper would still find them below it.
	tree := descendants()
	syscall.Kill(payload, syscall.SIGKILL)
	for _, pid := range tree {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	killDescendants() // anything forked meanwhile
}

// killDescendants SIGKILLs every process below the init: its children,
// theirs, and so on. A process whose parent dies meanwhile is re-parented
// to us (we are a subreaper), so it cannot slip out of the tree.
func killDescendants() {
	for _, pid := range descendants() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// descendants lists the processes below us, parents before their children,
// as the kernel records children per thread.
func descendants() []int {
	pids := childrenOf("self")
	for i := 0; i < len(pids) && len(pids) < 1<<16; i++ {
		pids = append(pids, childrenOf(strconv.Itoa(pids[i]))...)
	}
	return pids
}

func childrenOf(pid string) []int {
	var pids []int
	tasks, _ := rawfile.Names("/proc/" + pid + "/task")
	for _, t := range tasks {
		data, _ := rawfile.Read("/proc/" + pid + "/task/" + t + "/children")
		start := 0
		for i := 0; i <= len(data); i++ {
			if i == len(data) || data[i] == ' ' {
				if n, ok := atoi(string(data[start:i])); ok {
					pids = append(pids, n)
				}
				start = i + 1
			}
		}
	}
	return pids
}

// spawn starts the payload. With a terminal on stdin the payload gets its
// own process group and the foreground. With socket activation, a shim
// (this binary re-executed) sets LISTEN_PID to the payload's own pid,
// which no fork/exec API can do from the parent.
func spawn(path string, argv, env []string, tty bool) (int, error) {
	files := []uintptr{0, 1, 2}
	sockets := listenFDs()
	if sockets > 0 {
		for fd := 3; fd < 3+sockets; fd++ {
			files = append(files, uintptr(fd))
		}
		env = append(env, "LISTEN_FDS="+strconv.Itoa(sockets))
		if names := os.Getenv("LISTEN_FDNAMES"); names != "" {
			env = append(env, "LISTEN_FDNAMES="+names)
		}
		argv = append([]string{shimName, path}, argv...)
		path = "/proc/self/exe"
	}
	attr := &syscall.ProcAttr{
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Setpgid: tty, Foreground: tty, Ctty: 0},
	}
	return syscall.ForkExec(path, argv, attr)
}

// listenFDs is how many socket-activation fds were passed to us
// (sd_listen_fds: only when LISTEN_PID names this process).
func listenFDs() int {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) {
		return 0
	}
	n, ok := atoi(os.Getenv("LISTEN_FDS"))
	if !ok || n < 1 || n > 1000 {
		return 0
	}
	return n
}

// execError is why a payload cannot be started, with docker's exit code.
type execError struct {
	code int
	msg  string
}

// lookPath resolves the payload like a shell: a name with a slash as is,
// otherwise the first executable regular file in PATH.
func lookPath(name, path string) (string, *execError) {
	if name == "" {
		return "", &execError{exitNotFound, "empty command"}
	}
	hasSlash := false
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			hasSlash = true
		}
	}
	if hasSlash {
		return name, checkExecutable(name)
	}
	var firstErr *execError
	start := 0
	for i := 0; i <= len(path); i++ {
		if i < len(path) && path[i] != ':' {
			continue
		}
		dir := path[start:i]
		start = i + 1
		if dir == "" {
			dir = "."
		}
		candidate := dir + "/" + name
		err := checkExecutable(candidate)
		if err == nil {
			return candidate, nil
		}
		if err.code == exitNotExecutable && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return "", firstErr
	}
	return "", &execError{exitNotFound, name + ": not found in PATH " + path}
}

func checkExecutable(path string) *execError {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		if err == syscall.ENOENT || err == syscall.ENOTDIR {
			return &execError{exitNotFound, path + ": no such file"}
		}
		return &execError{exitNotExecutable, path + ": " + errnoMessage(err)}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return &execError{exitNotExecutable, path + ": not a regular file"}
	}
	if err := syscall.Access(path, 1 /* X_OK */); err != nil {
		return &execError{exitNotExecutable, path + ": not executable"}
	}
	return nil
}

func (e *execError) Error() string { return e.msg }
