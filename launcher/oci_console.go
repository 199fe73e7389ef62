package main

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/stdcontainer/stdcontainer/launcher/internal/console"
	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
)

// Terminals under the OCI front, by runc's rules. A process that runs
// detached (create, run --detach, exec --detach) with a terminal gets a
// new pty whose controlling side goes to the engine over --console-socket;
// one in the foreground (run, exec) gets a pty copied to and from our
// stdio, as `launcher run -t` does. Either way the pty comes from the
// host's devpts, so the container's PID 1 sees it as /dev/console (bound
// there), not as one of its own /dev/pts: `tty` prints /dev/console where
// under runc it prints /dev/pts/0.

// consoleRules are runc's checks of --console-socket against detaching
// and a terminal, with runc's words (engines and scripts know them).
// terminalFlag names where the terminal was asked for.
func consoleRules(cmd string, detach, terminal bool, terminalFlag, socketPath string) error {
	const noSocket = "cannot allocate tty if runc will detach without setting console socket"
	const unusable = "cannot use console socket if runc will not detach or allocate tty"
	switch {
	case detach && terminal && socketPath == "":
		return fmt.Errorf("%s: %s is true and there is no --console-socket for the terminal: %s", cmd, terminalFlag, noSocket)
	case socketPath != "" && !terminal:
		return fmt.Errorf("%s: --console-socket without a terminal (%s is false): %s", cmd, terminalFlag, unusable)
	case socketPath != "" && !detach:
		return fmt.Errorf("%s: --console-socket in the foreground (add --detach): %s", cmd, unusable)
	}
	return nil
}

// socketConsole allocates the pty of a detached process, sized as size
// says (nil: the kernel's default), and sends its controlling side to
// the engine listening at socketPath before anything else is made, so
// that a bad socket leaves nothing to undo. The process gets the stdio
// returned, the terminal side; done closes our copy once it holds its own.
func socketConsole(socketPath string, size *specs.Box) (stdio container.Stdio, done func(), err error) {
	pty, err := console.Open()
	if err != nil {
		return stdio, nil, fmt.Errorf("--console-socket: allocating a pseudo-terminal: %v", err)
	}
	defer pty.Control.Close() // the engine holds its own copy
	if err := setConsoleSize(pty.Control, size); err != nil {
		pty.Terminal.Close()
		return stdio, nil, err
	}
	if err := console.SendControl(socketPath, pty); err != nil {
		pty.Terminal.Close()
		return stdio, nil, fmt.Errorf("--console-socket %s: sending the terminal: %v", socketPath, err)
	}
	stdio = container.Stdio{In: pty.Terminal, Out: pty.Terminal, Err: pty.Terminal, Terminal: true}
	return stdio, func() { pty.Terminal.Close() }, nil
}

// foregroundConsole runs body with a new pty as its stdio, copied to and
// from ours with ours raw, as `launcher run -t` does (runc always
// forwards stdin to a foreground terminal). When our stdin is a terminal
// its size is the pty's, as runc resizes to it; otherwise size applies.
func foregroundConsole(size *specs.Box, body func(stdio container.Stdio, release func()) (int, error)) int {
	return withTerminal(true, func(stdio container.Stdio, release func()) (int, error) {
		if !console.IsTerminal(os.Stdin) {
			if err := setConsoleSize(stdio.In, size); err != nil {
				return 1, err
			}
		}
		return body(stdio, release)
	})
}

// setConsoleSize applies process.consoleSize to the pty f is a side of;
// like runc, only a size with both dimensions.
func setConsoleSize(f *os.File, size *specs.Box) error {
	if size == nil || size.Height == 0 || size.Width == 0 {
		return nil
	}
	if size.Height > 0xffff || size.Width > 0xffff {
		return fmt.Errorf("process.consoleSize %dx%d: too large for a terminal (at most 65535 each)", size.Height, size.Width)
	}
	if err := console.SetSize(f, uint16(size.Height), uint16(size.Width)); err != nil {
		return fmt.Errorf("process.consoleSize: %v", err)
	}
	return nil
}
