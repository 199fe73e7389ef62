// Package console gives a container a pseudo-terminal (-t): the pty is
// allocated in the container's own devpts (OpenIn), its terminal side
// becomes the process's stdio and controlling terminal, and its
// controlling side is sent over a console socket (Send, Receive) to the
// launcher, which copies it to and from the user's terminal (raw, so
// that keys reach the container unchanged), or to an engine (OCI
// --console-socket).
package console

import (
	"errors"
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

// OpenIn allocates a pseudo-terminal from the devpts instance mounted at
// ptsDir (its own ptmx), so that the terminal side has a name there: a
// container's /dev/pts/N, as runc gives, rather than a host pty that has
// no name inside the container.
//
// ptsDir may be in a container's mount namespace, where the container
// decides what its paths lead to, while the caller is host root: ptsDir
// must be a devpts mount, its ptmx is opened beneath it without following
// symlinks or crossing mounts, and the terminal side comes from the
// controlling side itself (TIOCGPTPEER), never by its path.
func OpenIn(ptsDir string) (*PTY, error) {
	dir, err := unix.Open(ptsDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: ptsDir, Err: err}
	}
	defer unix.Close(dir)
	var fs unix.Statfs_t
	if err := unix.Fstatfs(dir, &fs); err != nil {
		return nil, &os.PathError{Op: "statfs", Path: ptsDir, Err: err}
	}
	if fs.Type != unix.DEVPTS_SUPER_MAGIC {
		return nil, fmt.Errorf("%s: not a devpts mount", ptsDir)
	}
	fd, err := unix.Openat2(dir, "ptmx", &unix.OpenHow{
		Flags:   unix.O_RDWR | unix.O_NOCTTY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_XDEV,
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: ptsDir + "/ptmx", Err: err}
	}
	return fromControl(fd)
}

// fromControl unlocks the pty whose controlling side is fd and opens its
// terminal side through it (TIOCGPTPEER). Both are named as the
// container sees them (/dev/ptmx, /dev/pts/N).
func fromControl(fd int) (*PTY, error) {
	control := os.NewFile(uintptr(fd), "/dev/ptmx")
	fail := func(what string, err error) (*PTY, error) {
		control.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		return fail("unlocking the pty", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		return fail("not a pty master", err)
	}
	peer, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		return fail("opening the pty's terminal side", errno)
	}
	return &PTY{Control: control, Terminal: os.NewFile(peer, "/dev/pts/"+strconv.Itoa(n))}, nil
}

// CopySize gives the pty whose controlling side is control the window
// size of the user's terminal from, which makes the kernel send SIGWINCH
// to the container's foreground group.
func CopySize(control, from *os.File) error {
	ws, err := unix.IoctlGetWinsize(int(from.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return err
	}
	return unix.IoctlSetWinsize(int(control.Fd()), unix.TIOCSWINSZ, ws)
}

// SetSize gives the pty that f is either side of a window size of
// rows×cols (runc's process.consoleSize).
func SetSize(f *os.File, rows, cols uint16) error {
	return unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
}

// Dial connects to an engine's console socket, to Send on later (from the
// container, where the socket's path may not resolve). Its error is the
// cause alone, without Go's "dial unix PATH:".
func Dial(socketPath string) (*os.File, error) {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socketPath, Net: "unix"})
	if op := (*net.OpError)(nil); errors.As(err, &op) && op.Err != nil {
		return nil, op.Err
	}
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.File()
}

// Send writes control on the connected socket conn as runc does: one
// message whose data is the fd's name and whose SCM_RIGHTS carries the
// one fd (what containerd's go-runc Socket.ReceiveMaster reads). The
// receiver gets its own copy.
func Send(conn, control *os.File) error {
	name := []byte(control.Name())
	rights := unix.UnixRights(int(control.Fd()))
	n, err := unix.SendmsgN(int(conn.Fd()), name, rights, nil, 0)
	runtime.KeepAlive(control) // its fd must stay open until sent
	if err != nil {
		return err
	}
	if n != len(name) {
		return fmt.Errorf("short write to the console socket (%d of %d bytes)", n, len(name))
	}
	return nil
}

// Receive reads what Send wrote on the other end of conn: the pty's
// controlling side. It blocks until that arrives or the other end is
// closed everywhere.
func Receive(conn *os.File) (*os.File, error) {
	name := make([]byte, 256)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(conn.Fd()), name, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("no terminal arrived on the console socket")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("no terminal arrived on the console socket")
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
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
