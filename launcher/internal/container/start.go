package container

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// namespaces every container gets. User namespaces come with the
// confinement work; the network is private (only lo) until networking.
const namespaces = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS |
	syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET | syscall.CLONE_NEWCGROUP

// Stdio is what the container's stdin, stdout and stderr are.
type Stdio struct {
	In, Out, Err *os.File
	// Terminal: In is a pty's terminal side, which becomes the
	// container's controlling terminal.
	Terminal bool
	// Resize, when set, handles SIGWINCH instead of forwarding it (with a
	// pty the kernel signals the container when the pty's size changes).
	Resize func()
}

// Process is a running container: its PID 1, seen from the host.
type Process struct {
	cmd *exec.Cmd
	Pid int
}

// StartError is why a container did not start, with the exit status the
// launcher should leave with (125, 126 or 127).
type StartError struct {
	Code int
	Msg  string
}

func (e *StartError) Error() string { return e.Msg }

// Start clones stage 2 into fresh namespaces, hands it cfg, and returns
// once the entry point runs, or with a *StartError saying why it does not.
//
// The caller must hold its OS thread locked (runtime.LockOSThread) for the
// container's lifetime: the container gets SIGKILL when the thread that
// started it exits, which is how a dead launcher takes its container along.
func Start(cfg *Config, stdio Stdio) (*Process, error) {
	configR, configW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer configW.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		configR.Close()
		return nil, err
	}
	defer errR.Close()

	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{Stage2Arg0},
		Env:        []string{},
		Stdin:      stdio.In,
		Stdout:     stdio.Out,
		Stderr:     stdio.Err,
		ExtraFiles: []*os.File{configR, errW}, // fds 3 and 4
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: namespaces,
			Pdeathsig:  syscall.SIGKILL,
			// Its own session: a terminal's Ctrl-C reaches the launcher,
			// which forwards it, not the container twice.
			Setsid:  true,
			Setctty: stdio.Terminal,
			Ctty:    0,
		},
	}
	err = cmd.Start()
	configR.Close()
	errW.Close()
	if err != nil {
		return nil, &StartError{CodeLauncher, "starting the container: " + err.Error()}
	}
	if err := json.NewEncoder(configW).Encode(cfg); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, &StartError{CodeLauncher, "sending the container config: " + err.Error()}
	}
	configW.Close()
	// EOF without a word means the exec succeeded (the pipe is close-on-exec).
	report, _ := io.ReadAll(errR)
	if len(report) > 0 {
		cmd.Wait()
		code, msg, _ := strings.Cut(string(report), " ")
		n, err := strconv.Atoi(code)
		if err != nil {
			n, msg = CodeLauncher, string(report)
		}
		return nil, &StartError{n, msg}
	}
	return &Process{cmd: cmd, Pid: cmd.Process.Pid}, nil
}

// Signal sends sig to the container's PID 1.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits for PID 1 and returns its exit status, 128+N for signal N.
// When PID 1 exits the kernel kills the rest of its PID namespace.
func (p *Process) Wait() int {
	err := p.cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return CodeLauncher
	}
	ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
