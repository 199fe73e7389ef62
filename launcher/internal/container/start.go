package container

import (
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// namespaces every container gets at clone. User namespaces come with the
// confinement work; the network is private (only lo) until networking.
// The cgroup namespace is unshared by stage 2 once it is in its cgroup, so
// that cgroup, not the launcher's, is the container's root.
const namespaces = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS |
	syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET

// Stdio is what the container's stdin, stdout and stderr are.
type Stdio struct {
	In, Out, Err *os.File
	// Terminal: In is a pty's terminal side, which becomes the
	// container's controlling terminal.
	Terminal bool
	// Resize, when set, handles SIGWINCH instead of forwarding it (with a
	// pty the kernel signals the container when the pty's size changes).
	Resize func()
	// Sockets are passed to the entry point as fds 3, 4, ... (socket
	// activation; Config.ListenFDs says how many).
	Sockets []*os.File
}

// SpawnOptions are the clone-time choices.
type SpawnOptions struct {
	// CgroupDir, when not nil, is the container's cgroup v2 directory: the
	// child is born in it (CLONE_INTO_CGROUP), never outside its limits.
	CgroupDir *os.File
	// HostNetwork keeps the host's network namespace (--network host).
	HostNetwork bool
}

// Process is a running container: its PID 1, seen from the host.
type Process struct {
	Pid int
}

// StartError is why a container did not start, with the exit status the
// launcher should leave with (125, 126 or 127).
type StartError struct {
	Code int
	Msg  string
}

func (e *StartError) Error() string { return e.Msg }

// Pending is a stage 2 cloned into fresh namespaces and waiting for its
// config. Spawning first lets its start-up (a new Go process, the
// namespaces) overlap with the launcher's own preparations.
type Pending struct {
	proc    *Process
	configW *os.File
	errR    *os.File
	started bool // Start ran: stage 2 is the container now, or reaped
}

// Spawn clones stage 2 into fresh namespaces; it does nothing until Start.
//
// The caller must hold its OS thread locked (runtime.LockOSThread) for the
// container's lifetime: the container gets SIGKILL when the thread that
// started it exits, which is how a dead launcher takes its container along.
func Spawn(stdio Stdio, opts SpawnOptions) (*Pending, error) {
	configR, configW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		configR.Close()
		configW.Close()
		return nil, err
	}
	// syscall.ForkExec, not os/exec: the latter probes pidfd support with
	// an extra fork on first use, which every container start would pay.
	flags := uintptr(namespaces)
	if opts.HostNetwork {
		flags &^= syscall.CLONE_NEWNET
	}
	files := []uintptr{stdio.In.Fd(), stdio.Out.Fd(), stdio.Err.Fd(), configR.Fd(), errW.Fd()} // config: 3, errors: 4
	for _, f := range stdio.Sockets {
		files = append(files, f.Fd()) // 5, 6, ...
	}
	sys := &syscall.SysProcAttr{
		Cloneflags: flags,
		Pdeathsig:  syscall.SIGKILL,
		// Its own session: a terminal's Ctrl-C reaches the launcher,
		// which forwards it, not the container twice.
		Setsid:  true,
		Setctty: stdio.Terminal,
		Ctty:    0,
	}
	if opts.CgroupDir != nil {
		sys.UseCgroupFD, sys.CgroupFD = true, int(opts.CgroupDir.Fd())
	}
	pid, err := syscall.ForkExec("/proc/self/exe", []string{Stage2Arg0}, &syscall.ProcAttr{
		Env:   []string{},
		Files: files,
		Sys:   sys,
	})
	configR.Close()
	errW.Close()
	if err != nil {
		configW.Close()
		errR.Close()
		return nil, &StartError{CodeLauncher, "starting the container: " + err.Error()}
	}
	return &Pending{proc: &Process{Pid: pid}, configW: configW, errR: errR}, nil
}

// Pid is stage 2's pid, which becomes the container's PID 1.
func (p *Pending) Pid() int { return p.proc.Pid }

// Abort kills a stage 2 that has not been given its config; after Start
// it does nothing (the pid may already belong to someone else).
func (p *Pending) Abort() {
	if p.started {
		return
	}
	p.started = true
	p.configW.Close()
	p.errR.Close()
	p.proc.Signal(syscall.SIGKILL)
	p.proc.Wait()
}

// Start hands stage 2 its config and returns once the entry point runs,
// or with a *StartError saying why it does not.
func (p *Pending) Start(cfg *Config) (*Process, error) {
	p.started = true
	defer p.errR.Close()
	err := json.NewEncoder(p.configW).Encode(cfg)
	p.configW.Close()
	if err != nil {
		p.proc.Signal(syscall.SIGKILL)
		p.proc.Wait()
		return nil, &StartError{CodeLauncher, "sending the container config: " + err.Error()}
	}
	// EOF without a word means the exec succeeded (the pipe is close-on-exec).
	report, _ := io.ReadAll(p.errR)
	if len(report) > 0 {
		p.proc.Wait()
		code, msg, _ := strings.Cut(string(report), " ")
		n, err := strconv.Atoi(code)
		if err != nil {
			n, msg = CodeLauncher, string(report)
		}
		return nil, &StartError{n, msg}
	}
	return p.proc, nil
}

// Signal sends sig to the container's PID 1.
func (p *Process) Signal(sig os.Signal) error { return syscall.Kill(p.Pid, sig.(syscall.Signal)) }

// Wait waits for PID 1 and returns its exit status, 128+N for signal N.
// When PID 1 exits the kernel kills the rest of its PID namespace.
func (p *Process) Wait() int {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(p.Pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return CodeLauncher
		}
		break
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
