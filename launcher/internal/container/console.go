package container

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/console"
)

// ConsoleSocket gives a process a terminal made in the container, as runc
// answers --console-socket: a connected unix socket comes with the
// config; the pty is allocated from the container's own devpts (so the
// process's terminal is its /dev/pts/N, which ttyname finds), and its
// controlling side is sent on the socket to the engine.
type ConsoleSocket struct {
	Enabled    bool
	Rows, Cols uint16 // its window size; 0: the kernel's default
}

// terminalFromSocket allocates the pty in the devpts at ptsDir, sizes
// it, sends its controlling side on socket and returns its terminal side,
// owned by uid (who may then reopen it by name, as runc allows).
func terminalFromSocket(ptsDir string, socket *os.File, c ConsoleSocket, uid uint32) (*os.File, error) {
	defer socket.Close()
	pty, err := console.OpenIn(ptsDir)
	if err != nil {
		return nil, failf(CodeLauncher, "allocating the terminal: %v", err)
	}
	defer pty.Control.Close() // the engine holds its own copy
	fail := func(format string, err error) (*os.File, error) {
		pty.Terminal.Close()
		return nil, failf(CodeLauncher, format, err)
	}
	if c.Rows != 0 && c.Cols != 0 {
		if err := console.SetSize(pty.Control, c.Rows, c.Cols); err != nil {
			return fail("sizing the terminal: %v", err)
		}
	}
	if err := unix.Fchown(int(pty.Terminal.Fd()), int(uid), -1); err != nil {
		return fail("giving the terminal to its user: %v", err)
	}
	if err := console.Send(socket, pty.Control); err != nil {
		return fail("sending the terminal to the console socket: %v", err)
	}
	return pty.Terminal, nil
}
