package console

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY allocates a pty from the host's /dev/ptmx.
func openPTY(t *testing.T) *PTY {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	p, err := fromControl(fd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Control.Close(); p.Terminal.Close() })
	return p
}

// receiveOne reads one message with one SCM_RIGHTS fd, as go-runc's
// recvFd does, and returns the message's data and the fd.
func receiveOne(t *testing.T, conn *net.UnixConn) (string, *os.File) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	data := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(data, oob)
	if err != nil {
		t.Fatal(err)
	}
	if oobn != len(oob) {
		t.Fatalf("control data of %d bytes, want %d (one fd)", oobn, len(oob))
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v, %v: want one", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("fds %v, %v: want one", fds, err)
	}
	return string(data[:n]), os.NewFile(uintptr(fds[0]), string(data[:n]))
}

// Dial and Send hand the controlling side over as runc answers
// --console-socket, in the shape containerd's go-runc reads.
func TestDialSend(t *testing.T) {
	p := openPTY(t)
	socketPath := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: socketPath, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The listener's backlog takes the connection and the message before
	// anyone accepts, as with an engine that accepts once create returns.
	conn0, err := Dial(socketPath)
	if err != nil {
		t.Fatal(err)
	}
	err = Send(conn0, p.Control)
	conn0.Close()
	if err != nil {
		t.Fatal(err)
	}
	l.SetDeadline(time.Now().Add(5 * time.Second))
	conn, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	name, got := receiveOne(t, conn)
	defer got.Close()
	if name != "/dev/ptmx" {
		t.Errorf("message data %q, want the controlling side's name /dev/ptmx (as runc sends)", name)
	}
	// A pty's controlling side, the same pty: TIOCGPTN names its terminal.
	want, err := unix.IoctlGetInt(int(p.Control.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := unix.IoctlGetInt(int(got.Fd()), unix.TIOCGPTN); err != nil || n != want {
		t.Fatalf("TIOCGPTN on the received fd: %d, %v; want %d", n, err, want)
	}
	// Ours may go: the receiver's copy alone carries the terminal's output.
	p.Control.Close()
	if _, err := p.Terminal.WriteString("ping\n"); err != nil {
		t.Fatal(err)
	}
	// The fd is in blocking mode (it shares its open file with ours):
	// poll, so that a missing write fails the test instead of hanging it.
	fds := []unix.PollFd{{Fd: int32(got.Fd()), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 5000); n != 1 || err != nil {
		t.Fatalf("the received fd is not readable after the terminal side wrote (poll %d, %v)", n, err)
	}
	buf := make([]byte, 64)
	n, err := got.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "ping") {
		t.Fatalf("read %q, %v from the received fd; want what the terminal side wrote", buf[:n], err)
	}
}

func TestDialNoListener(t *testing.T) {
	if _, err := Dial(filepath.Join(t.TempDir(), "missing.sock")); err == nil {
		t.Fatal("dialling a socket path nobody listens on succeeded")
	}
}

// Receive gets what Send sent (the launcher's own -t socket pair), and
// reports the other end closed without a word as an error.
func TestSendReceive(t *testing.T) {
	p := openPTY(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "ours"), os.NewFile(uintptr(fds[1]), "theirs")
	defer ours.Close()
	if err := Send(theirs, p.Control); err != nil {
		t.Fatal(err)
	}
	got, err := Receive(ours)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	want, _ := unix.IoctlGetInt(int(p.Control.Fd()), unix.TIOCGPTN)
	if n, err := unix.IoctlGetInt(int(got.Fd()), unix.TIOCGPTN); err != nil || n != want || got.Name() != "/dev/ptmx" {
		t.Errorf("received %s, pty %d (%v); want /dev/ptmx of pty %d", got.Name(), n, err, want)
	}
	theirs.Close()
	if c, err := Receive(ours); err == nil {
		c.Close()
		t.Error("Receive after the other end closed returned a file")
	}
}

func TestSetSize(t *testing.T) {
	p := openPTY(t)
	if err := SetSize(p.Control, 24, 80); err != nil {
		t.Fatal(err)
	}
	// The terminal side, which the container holds, sees it.
	ws, err := unix.IoctlGetWinsize(int(p.Terminal.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Row != 24 || ws.Col != 80 {
		t.Fatalf("window size %+v, %v; want 24 rows, 80 columns", ws, err)
	}
	// And the other way round: the OCI front sizes a foreground pty
	// through the terminal side, the only one it holds there.
	if err := SetSize(p.Terminal, 50, 132); err != nil {
		t.Fatal(err)
	}
	ws, err = unix.IoctlGetWinsize(int(p.Control.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Row != 50 || ws.Col != 132 {
		t.Fatalf("window size %+v, %v; want 50 rows, 132 columns", ws, err)
	}
}

// OpenIn allocates only from a devpts mount, and the terminal side it
// returns is that pty's peer, never a file found by name.
func TestOpenInNeedsDevpts(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenIn(dir); err == nil || !strings.Contains(err.Error(), "not a devpts mount") {
		t.Errorf("OpenIn(%s): %v, want a refusal", dir, err)
	}
	pty, err := OpenIn("/dev/pts")
	if err != nil {
		t.Skipf("the host's /dev/pts/ptmx: %v", err) // mode 0 on Debian: root only
	}
	defer pty.Control.Close()
	defer pty.Terminal.Close()
	n, err := unix.IoctlGetInt(int(pty.Control.Fd()), unix.TIOCGPTN)
	if err != nil || pty.Terminal.Name() != "/dev/pts/"+strconv.Itoa(n) {
		t.Fatalf("pty %d (%v), terminal named %s", n, err, pty.Terminal.Name())
	}
	if _, err := pty.Terminal.WriteString("peer\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if k, err := pty.Control.Read(buf); err != nil || !strings.HasPrefix(string(buf[:k]), "peer") {
		t.Errorf("read %q, %v from the controlling side", buf[:k], err)
	}
}
