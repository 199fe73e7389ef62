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
// new pty made in the container, from its own devpts, whose controlling
// side goes to the engine over --console-socket: `tty` prints
// /dev/pts/0, as under runc. One in the foreground (run, exec) gets a pty
// from the host's devpts copied to and from our stdio, as `launcher run
// -t` does; PID 1 sees that one as /dev/console (bound there).

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

// socketConsole connects to the engine's console socket for a detached
// process, before anything else is made, so that a bad socket leaves
// nothing to undo. The process's terminal is then made in the container
// (its own /dev/pts/N, as under runc) and its controlling side sent to
// the engine; size, checked here, sizes it. done closes our connection.
func socketConsole(socketPath string, size *specs.Box) (stdio container.Stdio, done func(), err error) {
	if err := checkConsoleSize(size); err != nil {
		return stdio, nil, err
	}
	conn, err := console.Dial(socketPath)
	if err != nil {
		return stdio, nil, fmt.Errorf("--console-socket %s: %v", socketPath, err)
	}
	stdio = container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, ConsoleSocket: conn}
	return stdio, func() { conn.Close() }, nil
}

// foregroundConsole runs body with a new pty as its stdio, copied to and
// from ours with ours raw, as `launcher run -t` does (runc always
// forwards stdin to a foreground terminal). When our stdin is a terminal
// its size is the pty's, as runc resizes to it; otherwise size applies
// (the engine gives it to the container's terminal).
func foregroundConsole(size *specs.Box, body func(stdio container.Stdio) (int, error)) int {
	if err := checkConsoleSize(size); err != nil {
		return ociFail(1, err)
	}
	return withTerminal(true, body)
}

// checkConsoleSize refuses a size no terminal can have.
func checkConsoleSize(size *specs.Box) error {
	if size != nil && (size.Height > 0xffff || size.Width > 0xffff) {
		return fmt.Errorf("process.consoleSize %dx%d: too large for a terminal (at most 65535 each)", size.Height, size.Width)
	}
	return nil
}
