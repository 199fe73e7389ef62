package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
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
	// Resize, when set, handles SIGWINCH instead of forwarding it (with a
	// pty the kernel signals the container when the pty's size changes).
	Resize func()
	// Sockets are passed to the entry point as fds 3, 4, ... (socket
	// activation; Config.ListenFDs says how many).
	Sockets []*os.File
	// ConsoleSocket, when set, is a connected console socket (an
	// engine's, OCI --console-socket, or the launcher's own for -t): the
	// process's terminal is made in the container and replaces In, Out
	// and Err (see ConsoleSocket).
	ConsoleSocket *os.File
	// ConsoleRows and ConsoleCols, when not 0, size that terminal (the
	// user's terminal's size), before any process size it otherwise has.
	ConsoleRows, ConsoleCols uint16
}

// SpawnOptions are the clone-time choices.
type SpawnOptions struct {
	// CgroupDir, when not nil, is the container's cgroup v2 directory: the
	// child is born in it (CLONE_INTO_CGROUP), never outside its limits.
	CgroupDir *os.File
	// HostNetwork keeps the host's network namespace (--network host).
	HostNetwork bool
	// UserNS, when not nil, gives the container a user namespace with
	// these mappings, written before stage 2 starts.
	UserNS *IDMaps
	// Orphan: the container must outlive the launcher that starts it (OCI
	// create, where the engine's shim or conmon, a subreaper, adopts and
	// reaps it): no parent-death signal.
	Orphan bool
	// ExecInto, when not nil, is a pidfd of a running container's PID 1:
	// the child is the exec helper (no new namespaces), which enters
	// that container instead of making one.
	ExecInto *os.File
	// Join are existing namespaces the container enters instead of new
	// ones of their kinds (OCI linux.namespaces[].path: a Kubernetes
	// pod's network, IPC and UTS, a podman network).
	Join []JoinNamespace
}

// JoinNamespace is an existing namespace to join.
type JoinNamespace struct {
	// Kind is its CLONE_NEW* flag: CLONE_NEWNET, CLONE_NEWIPC,
	// CLONE_NEWUTS or CLONE_NEWPID (whose first process stays PID 1).
	Kind int
	File *os.File // an nsfs file: /proc/PID/ns/net, /run/netns/NAME, ...
}

// IDMaps are a user namespace's uid and gid mappings.
type IDMaps struct {
	UIDs, GIDs []syscall.SysProcIDMap
	// Setgroups leaves setgroups(2) allowed; an unprivileged launcher
	// must deny it to map its gid.
	Setgroups bool
	// External: the caller writes the mappings itself once Spawn returns
	// (newuidmap, for a rootless launcher's subordinate ids); UIDs and
	// GIDs are unused. LastCap is the kernel's highest capability.
	External bool
	LastCap  int
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
	early   []byte // what Created read of an error report
	waiting bool   // Created saw stage 2 wait for start
	started bool   // Send ran: stage 2 is the container now, or reaped
}

// Spawn clones stage 2 into fresh namespaces; it does nothing until Start.
//
// The caller must hold its OS thread locked (runtime.LockOSThread) for the
// container's lifetime: the container gets SIGKILL when the thread that
// started it exits, which is how a dead launcher takes its container along.
func Spawn(stdio Stdio, opts SpawnOptions) (*Pending, error) {
	// The config goes over a socket, not a pipe: it can carry fds too.
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	configW, configR := os.NewFile(uintptr(pair[0]), "config"), os.NewFile(uintptr(pair[1]), "stage2-config")
	errR, errW, err := os.Pipe()
	if err != nil {
		configR.Close()
		configW.Close()
		return nil, err
	}
	// syscall.ForkExec, not os/exec: the latter probes pidfd support with
	// an extra fork on first use, which every container start would pay.
	flags, arg0 := uintptr(namespaces), Stage2Arg0
	if opts.HostNetwork {
		flags &^= syscall.CLONE_NEWNET
	}
	if opts.ExecInto != nil {
		flags, arg0 = 0, ExecArg0
	}
	files := []uintptr{stdio.In.Fd(), stdio.Out.Fd(), stdio.Err.Fd(), configR.Fd(), errW.Fd()} // config: 3, errors: 4
	if opts.ExecInto != nil {
		files = append(files, opts.ExecInto.Fd()) // execPidFD
	} else {
		for _, f := range stdio.Sockets {
			files = append(files, f.Fd()) // socketFD, ...
		}
	}
	sys := &syscall.SysProcAttr{
		Cloneflags: flags,
		Pdeathsig:  syscall.SIGKILL,
		// Its own session: a terminal's Ctrl-C reaches the launcher,
		// which forwards it, not the container twice.
		Setsid: true,
	}
	if u := opts.UserNS; u != nil && u.External {
		// Not mapped yet when it execs stage 2, it would lose its
		// capabilities there: it keeps them as ambient ones, and is its
		// namespace's root once the mappings are written.
		sys.Cloneflags |= syscall.CLONE_NEWUSER
		for c := 0; c <= u.LastCap; c++ {
			sys.AmbientCaps = append(sys.AmbientCaps, uintptr(c))
		}
	} else if u != nil {
		sys.Cloneflags |= syscall.CLONE_NEWUSER
		sys.UidMappings, sys.GidMappings = u.UIDs, u.GIDs
		sys.GidMappingsEnableSetgroups = u.Setgroups
		// Cloned, it keeps the launcher's host uid, which may be unmapped
		// there; it becomes the namespace's root before the exec, or the
		// exec would drop its capabilities.
		sys.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: !u.Setgroups}
	}
	if opts.Orphan {
		sys.Pdeathsig = 0
	}
	if opts.CgroupDir != nil {
		sys.UseCgroupFD, sys.CgroupFD = true, int(opts.CgroupDir.Fd())
	}
	argv := []string{arg0}
	for _, ns := range opts.Join {
		sys.Cloneflags &^= uintptr(ns.Kind)
		if ns.Kind == unix.CLONE_NEWPID && sys.Pdeathsig != 0 {
			// Born in a PID namespace it did not ask clone for, the
			// child sees no parent (getppid 0), which Go's fork takes
			// for a dead one and kills it: stage 2 asks for the signal
			// itself. Were the launcher gone before, stage 2 would find
			// its config socket closed and exit.
			sys.Pdeathsig = 0
			argv = append(argv, Stage2Pdeathsig)
		}
	}
	var leave func() error
	if len(opts.Join) > 0 {
		if leave, err = enterNamespaces(opts.Join); err != nil {
			configR.Close()
			configW.Close()
			errR.Close()
			errW.Close()
			return nil, &StartError{CodeLauncher, err.Error()}
		}
	}
	pid, err := syscall.ForkExec("/proc/self/exe", argv, &syscall.ProcAttr{
		Env:   []string{},
		Files: files,
		Sys:   sys,
	})
	if leave != nil {
		// A launcher stuck in the container's namespaces must not go on
		// (its NAT set-up, its hooks would run there): the start fails.
		if lerr := leave(); lerr != nil && err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
			syscall.Wait4(pid, nil, 0, nil)
			err = lerr
		}
	}
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

// Start hands stage 2 its config (a *Config; an *ExecConfig to the exec
// helper) and files, and returns once the entry point runs,
// or with a *StartError saying why it does not.
func (p *Pending) Start(cfg any, files ...*os.File) (*Process, error) {
	if err := p.Send(cfg, files...); err != nil {
		return nil, err
	}
	return p.Running()
}

// Send hands stage 2 its config and files. A Config whose
// Hooks.PauseBeforePivot is set makes stage 2 wait for Resume.
func (p *Pending) Send(cfg any, files ...*os.File) error {
	p.started = true
	err := sendConfig(p.configW, cfg, files)
	if c, ok := cfg.(*Config); !ok || !c.Hooks.PauseBeforePivot || err != nil {
		p.configW.Close()
	}
	if err != nil {
		p.errR.Close()
		p.proc.Signal(syscall.SIGKILL)
		p.proc.Wait()
		return &StartError{CodeLauncher, "sending the container config: " + err.Error()}
	}
	return nil
}

// With Config.WaitStart stage 2 writes readyMark on the error pipe once
// its container is created and it waits, and startMark when it is
// released and about to exec; with Hooks.PauseBeforePivot, hooksMark
// before either, once it waits for the runtime hooks. An error report may
// follow any of them.
const (
	readyMark = 'R'
	startMark = 'S'
	hooksMark = 'H'
	// resumeMark goes the other way, on the config socket: the runtime
	// hooks ran.
	resumeMark = 'G'
)

// PausedForHooks waits until stage 2, sent a Config with
// Hooks.PauseBeforePivot, has made the container's mounts and waits for
// the runtime hooks to run.
func (p *Pending) PausedForHooks() error {
	mark := make([]byte, 1)
	if n, _ := p.errR.Read(mark); n == 1 && mark[0] == hooksMark {
		return nil
	} else if n == 1 {
		p.early = mark
	}
	p.configW.Close()
	_, err := p.Running()
	if err == nil {
		p.proc.Wait() // gone without a word: reaped here
		err = &StartError{CodeLauncher, "the container exited before its hooks ran"}
	}
	return err
}

// Resume lets a stage 2 paused for the runtime hooks go on, or, when the
// hooks failed (hookErr), kills it and returns hookErr.
func (p *Pending) Resume(hookErr error) error {
	defer p.configW.Close()
	if hookErr == nil {
		_, err := p.configW.Write([]byte{resumeMark})
		if err == nil {
			return nil
		}
		// Stage 2 is gone: its own report says why, if it wrote one.
		p.configW.Close()
		if _, rerr := p.Running(); rerr != nil {
			return rerr
		}
		p.proc.Wait()
		return &StartError{CodeLauncher, fmt.Sprintf("resuming the container after its hooks: %v", err)}
	}
	p.errR.Close()
	p.proc.Signal(syscall.SIGKILL)
	p.proc.Wait()
	return &StartError{CodeLauncher, hookErr.Error()}
}

// Created waits until stage 2, sent a Config with WaitStart, has built
// the container and waits before its exec (the OCI "created" state).
func (p *Pending) Created() error {
	mark := make([]byte, 1)
	if n, _ := p.errR.Read(mark); n == 1 && mark[0] == readyMark {
		p.waiting = true
		return nil
	} else if n == 1 {
		p.early = mark // the first byte of an error report
	}
	_, err := p.Running()
	if err == nil {
		err = &StartError{CodeLauncher, "the container exited before it was created"}
	}
	return err
}

// Running waits until the entry point runs (the error pipe closes without
// a word, at the exec) and returns it, or a *StartError saying why not.
func (p *Pending) Running() (*Process, error) {
	defer p.errR.Close()
	rest, _ := io.ReadAll(p.errR)
	report := append(p.early, rest...)
	if p.waiting {
		// Without the start mark, stage 2 died (killed) while it waited.
		if len(report) == 0 || report[0] != startMark {
			p.proc.Wait()
			return nil, &StartError{CodeLauncher, "the container was killed before it started"}
		}
		report = report[1:]
	}
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

// sendConfig writes one byte carrying files (SCM_RIGHTS), then cfg as JSON.
func sendConfig(w *os.File, cfg any, files []*os.File) error {
	var rights []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		rights = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(w.Fd()), []byte{byte(len(files))}, rights, nil, 0); err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(cfg)
}

// receiveConfig is the other end of sendConfig, on configFD: it decodes
// the config into cfg and returns the files that came with it.
func receiveConfig(cfg any) ([]int, error) {
	header := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4*4))
	_, oobn, _, _, err := unix.Recvmsg(configFD, header, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, err
	}
	var fds []int
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, err
	}
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return nil, err
		}
		fds = append(fds, got...)
	}
	if len(fds) != int(header[0]) {
		return nil, fmt.Errorf("expected %d files with the config, got %d", header[0], len(fds))
	}
	// They arrive at the lowest free numbers, among those the entry
	// point's preserved fds and sockets are moved to (3, 4, ...): out of
	// their way, as the error pipe is.
	for i, fd := range fds {
		moved, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 100)
		if err != nil {
			return nil, err
		}
		unix.Close(fd)
		fds[i] = moved
	}
	pipe := os.NewFile(configFD, "config")
	defer pipe.Close()
	return fds, json.NewDecoder(pipe).Decode(cfg)
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

// nsNames are the /proc/thread-self/ns entries of the namespaces a
// container may join; for a PID namespace, the one children are born in.
var nsNames = map[int]string{
	unix.CLONE_NEWNET: "net", unix.CLONE_NEWIPC: "ipc", unix.CLONE_NEWUTS: "uts",
	unix.CLONE_NEWPID: "pid_for_children",
}

// enterNamespaces moves the calling thread into join, so that the child
// it clones next is born in them (setns in stage 2 could not reach the
// PID namespace, nor every thread of a Go process); leave moves the
// thread back. A thread that cannot go back stays locked, so the Go
// runtime ends it with its goroutine instead of reusing it.
func enterNamespaces(join []JoinNamespace) (leave func() error, err error) {
	runtime.LockOSThread()
	var entered []*os.File // the thread's own namespaces, to go back to
	leave = func() error {
		var errs []error
		for i := len(entered) - 1; i >= 0; i-- {
			if err := unix.Setns(int(entered[i].Fd()), join[i].Kind); err != nil {
				errs = append(errs, fmt.Errorf("going back to the launcher's own %s namespace: %v", nsNames[join[i].Kind], err))
			}
			entered[i].Close()
		}
		if len(errs) == 0 {
			runtime.UnlockOSThread()
		}
		return errors.Join(errs...)
	}
	for _, ns := range join {
		own, err := os.Open("/proc/thread-self/ns/" + nsNames[ns.Kind])
		if err == nil {
			err = unix.Setns(int(ns.File.Fd()), ns.Kind)
			if err != nil {
				own.Close()
			}
		}
		if err != nil {
			if lerr := leave(); lerr != nil {
				err = fmt.Errorf("%v; %v", err, lerr)
			} else if err == unix.EINVAL {
				err = fmt.Errorf("wrong kind of namespace (want %s)", strings.TrimSuffix(nsNames[ns.Kind], "_for_children"))
			}
			return nil, fmt.Errorf("joining namespace %s: %v", ns.File.Name(), err)
		}
		entered = append(entered, own)
	}
	return leave, nil
}
