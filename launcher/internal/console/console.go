// Package console gives a container a pseudo-terminal (-t): the launcher
// keeps the controlling side, the container gets the terminal side as its
// stdio and controlling terminal, and the user's terminal runs raw so
// that keys reach the container unchanged. Under the OCI front the
// controlling side may instead go to an engine over its console socket.
package console

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal pair.
type PTY struct {
	Control  *os.File // the launcher's side (/dev/ptmx)
	Terminal *os.File // the container's side (/dev/pts/N)
}

// Open allocates a pseudo-terminal from the host's /dev/ptmx.
func Open() (*PTY, error) {
	control, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	fd := int(control.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		control.Close()
		return nil, err
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		control.Close()
		return nil, err
	}
	terminal, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		control.Close()
		return nil, err
	}
	return &PTY{Control: control, Terminal: terminal}, nil
}

// CopySize gives the pty the window size of the user's terminal, which
// makes the kernel send SIGWINCH to the container's foreground group.
func (p *PTY) CopySize(from *os.File) error {
	ws, err := unix.IoctlGetWinsize(int(from.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return err
	}
	return unix.IoctlSetWinsize(int(p.Control.Fd()), unix.TIOCSWINSZ, ws)
}

// SetSize gives the pty that f is either side of a window size of
// rows×cols (runc's process.consoleSize).
func SetSize(f *os.File, rows, cols uint16) error {
	return unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
}

// SendControl hands the pty's controlling side to whoever listens on the
// unix socket at socketPath, as runc answers --console-socket: one message
// whose data is the fd's name and whose SCM_RIGHTS carries the one fd
// (what containerd's go-runc Socket.ReceiveMaster reads). The receiver
// gets its own copy; p keeps its fds.
func SendControl(socketPath string, p *PTY) error {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socketPath, Net: "unix"})
	if err != nil {
		return err
	}
	defer conn.Close()
	name := []byte(p.Control.Name())
	rights := unix.UnixRights(int(p.Control.Fd()))
	n, oobn, err := conn.WriteMsgUnix(name, rights, nil)
	runtime.KeepAlive(p.Control) // its fd must stay open until sent
	if err != nil {
		return err
	}
	if n != len(name) || oobn != len(rights) {
		return fmt.Errorf("short write to %s (%d of %d bytes)", socketPath, n, len(name))
	}
	return nil
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// MakeRaw puts the terminal f in raw mode and returns how to restore it.
func MakeRaw(f *os.File) (restore func(), err error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	raw := *old
	// cfmakeraw(3)
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
