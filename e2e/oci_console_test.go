package e2e

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The OCI front's terminals, as containerd's shim and podman's conmon use
// them: --console-socket hands the engine the pty's controlling side.

// terminalBundle is ociBundle with process.terminal true and, when rows
// is not 0, process.consoleSize.
func terminalBundle(t *testing.T, runtime string, rows, cols int, args ...string) string {
	t.Helper()
	bundle := ociBundle(t, runtime, args...)
	editOCIConfig(t, bundle, func(cfg map[string]any) {
		process := cfg["process"].(map[string]any)
		process["terminal"] = true
		if rows != 0 {
			process["consoleSize"] = map[string]int{"height": rows, "width": cols}
		}
	})
	return bundle
}

// consoleSocket listens where --console-socket will point, as go-runc's
// NewConsoleSocket does.
func consoleSocket(t *testing.T) (*net.UnixListener, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

// receiveConsole takes the pty's controlling side from the one connection
// to l, read as go-runc's ReceiveMaster reads it (one message, one fd),
// and checks it is one.
func receiveConsole(t *testing.T, l *net.UnixListener) *ptyReader {
	t.Helper()
	l.SetDeadline(time.Now().Add(10 * time.Second))
	conn, err := l.AcceptUnix()
	if err != nil {
		t.Fatalf("nothing connected to the console socket: %v", err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(name, oob)
	if err != nil || oobn != len(oob) {
		t.Fatalf("console socket: read %d bytes and %d of control data (%v); want one fd", n, oobn, err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("console socket: control messages %v (%v); want one", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("console socket: fds %v (%v); want one", fds, err)
	}
	if _, err := unix.IoctlGetInt(fds[0], unix.TIOCGPTN); err != nil {
		unix.Close(fds[0])
		t.Fatalf("the fd sent (named %q) is not a pty's controlling side: TIOCGPTN: %v", name[:n], err)
	}
	// Non-blocking, so that reads honour deadlines and Close ends them.
	unix.SetNonblock(fds[0], true)
	r := &ptyReader{f: os.NewFile(uintptr(fds[0]), string(name[:n])), changed: make(chan struct{}, 1)}
	go r.run()
	t.Cleanup(func() { r.f.Close() })
	return r
}

// ptyReader collects what the container writes to its terminal.
type ptyReader struct {
	f       *os.File
	mu      sync.Mutex
	out     strings.Builder
	changed chan struct{}
}

func (r *ptyReader) run() {
	buf := make([]byte, 4096)
	for {
		n, err := r.f.Read(buf)
		r.mu.Lock()
		r.out.Write(buf[:n])
		r.mu.Unlock()
		select {
		case r.changed <- struct{}{}:
		default:
		}
		if err != nil {
			return // EIO: every holder of the terminal side is gone
		}
	}
}

// text is the output so far, without the terminal's carriage returns.
func (r *ptyReader) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.ReplaceAll(r.out.String(), "\r", "")
}

// expect waits until the output matches re and returns the output.
func (r *ptyReader) expect(t *testing.T, re string) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		if text := r.text(); regexp.MustCompile(re).MatchString(text) {
			return text
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("terminal output %q: no match for %q within 15s", r.text(), re)
		}
	}
}

func (r *ptyReader) write(t *testing.T, s string) {
	t.Helper()
	if _, err := r.f.WriteString(s); err != nil {
		t.Fatalf("writing to the terminal: %v", err)
	}
}

// ownCgroups tracks the cgroups of the containers a test makes under its
// state root, so that it checks its own and not those of tests running
// alongside.
type ownCgroups struct{ names map[string]bool }

// add notes the containers now in root.
func (o *ownCgroups) add(root string) {
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if e.IsDir() && len(e.Name()) == 64 {
			o.names["stdcontainer-"+e.Name()[:12]] = true
		}
	}
}

func (o *ownCgroups) assertGone(t *testing.T) {
	t.Helper()
	for _, p := range leftoverCgroups() {
		if o.names[filepath.Base(p)] {
			t.Errorf("cgroup left behind: %s", p)
		}
	}
}

// The script every terminal test runs: its terminal's name and size,
// whether it is the controlling terminal (only then does /dev/tty
// open), then a line in, a line out.
const terminalScript = `tty; stty size; if (: </dev/tty) 2>/dev/null; then echo ctty=yes; else echo ctty=no; fi; echo hello; read x; echo got $x`

func TestOCIConsoleSocket(t *testing.T) {
	requireRoot(t)
	runtime, root := ociRuntime(t), t.TempDir()
	own := &ownCgroups{names: map[string]bool{}}
	t.Cleanup(func() {
		for _, id := range []string{"tty-1", "tty-2"} {
			ociRun(t, runtime, root, "delete", "--force", id)
		}
		own.assertGone(t)
		assertNoState(t, root)
	})

	// create: PID 1 gets the pty, sized by process.consoleSize, as its
	// controlling terminal; the pty is made in the container's devpts, so
	// its name there is /dev/pts/0, as under runc (and /dev/console is it).
	bundle := terminalBundle(t, runtime, 24, 80, "sh", "-c", terminalScript+`; exec sleep 60`)
	l, socket := consoleSocket(t)
	if _, stderr, code := ociRun(t, runtime, root, "create", "--console-socket", socket, "--bundle", bundle, "tty-1"); code != 0 {
		t.Fatalf("create --console-socket: exit %d %s", code, stderr)
	}
	own.add(root)
	pty := receiveConsole(t, l)
	if status, _ := ociStatus(t, runtime, root, "tty-1"); status != "created" {
		t.Fatalf("after create: %s", status)
	}
	if _, stderr, code := ociRun(t, runtime, root, "start", "tty-1"); code != 0 {
		t.Fatalf("start: exit %d %s", code, stderr)
	}
	text := pty.expect(t, `hello\n`)
	for _, want := range []string{"/dev/pts/0\n", "24 80\n", "ctty=yes\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("PID 1's terminal output %q lacks %q", text, want)
		}
	}
	pty.write(t, "abc\n")
	pty.expect(t, `got abc\n`)
	if status, _ := ociStatus(t, runtime, root, "tty-1"); status != "running" {
		t.Fatalf("after the exchange: %s, want running (sleeping)", status)
	}

	// exec -t --detach: the command's own pty, its controlling terminal,
	// the container's next /dev/pts/N; with no consoleSize its size is
	// 0x0, which busybox's stty size refuses.
	l2, socket2 := consoleSocket(t)
	execScript := `tty; if test -t 0 && test -t 1; then echo stdio=terminal; fi; if (: </dev/tty) 2>/dev/null; then echo ctty=yes; fi; echo hello; read x; echo got $x`
	if _, stderr, code := ociRun(t, runtime, root, "exec", "--detach", "-t", "--console-socket", socket2, "tty-1", "sh", "-c", execScript); code != 0 {
		t.Fatalf("exec -t --console-socket: exit %d %s", code, stderr)
	}
	execPty := receiveConsole(t, l2)
	text = execPty.expect(t, `hello\n`)
	if !strings.Contains(text, "/dev/pts/1\n") || !strings.Contains(text, "stdio=terminal\n") || !strings.Contains(text, "ctty=yes\n") {
		t.Errorf("exec's terminal output %q: want /dev/pts/1, stdio=terminal and ctty=yes", text)
	}
	execPty.write(t, "def\n")
	execPty.expect(t, `got def\n`)

	// exec --process with terminal and consoleSize, as containerd's shim
	// calls it.
	process := filepath.Join(t.TempDir(), "process.json")
	os.WriteFile(process, []byte(`{"terminal": true, "consoleSize": {"height": 30, "width": 100},
		"args": ["sh", "-c", "stty size; read y; echo process-got $y"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}`), 0o644)
	l3, socket3 := consoleSocket(t)
	if _, stderr, code := ociRun(t, runtime, root, "exec", "--process", process, "--detach", "--console-socket", socket3, "tty-1"); code != 0 {
		t.Fatalf("exec --process (terminal) --console-socket: exit %d %s", code, stderr)
	}
	processPty := receiveConsole(t, l3)
	processPty.expect(t, `30 100\n`)
	processPty.write(t, "ghi\n")
	processPty.expect(t, `process-got ghi\n`)

	// run --detach --console-socket: created and started at once.
	runBundle := terminalBundle(t, runtime, 0, 0, "sh", "-c", terminalScript)
	l4, socket4 := consoleSocket(t)
	if _, stderr, code := ociRun(t, runtime, root, "run", "--detach", "--console-socket", socket4, "--bundle", runBundle, "tty-2"); code != 0 {
		t.Fatalf("run --detach --console-socket: exit %d %s", code, stderr)
	}
	own.add(root)
	runPty := receiveConsole(t, l4)
	text = runPty.expect(t, `hello\n`)
	if !strings.Contains(text, "/dev/pts/0\n") || !strings.Contains(text, "ctty=yes\n") {
		t.Errorf("run --detach's terminal output %q: want /dev/pts/0 and ctty=yes", text)
	}
	runPty.write(t, "jkl\n")
	runPty.expect(t, `got jkl\n`)
	if status := waitForStatus(t, runtime, root, "tty-2", "stopped"); status != "stopped" {
		t.Errorf("run --detach's container after its script ended: %s, want stopped", status)
	}
}

// TestOCIConsoleForeground: run and exec in the foreground with a
// terminal copy a new pty to and from the caller's stdio, as runc does
// (here stdin is /dev/null, so process.consoleSize sizes the pty).
func TestOCIConsoleForeground(t *testing.T) {
	requireRoot(t)
	runtime, root := ociRuntime(t), t.TempDir()
	own := &ownCgroups{names: map[string]bool{}}
	t.Cleanup(func() {
		for _, id := range []string{"fg-1", "fg-2"} {
			ociRun(t, runtime, root, "delete", "--force", id)
		}
		own.assertGone(t)
		assertNoState(t, root)
	})
	script := `tty; stty size; if (: </dev/tty) 2>/dev/null; then echo ctty=yes; fi; exit 3`
	bundle := terminalBundle(t, runtime, 24, 80, "sh", "-c", script)
	out, stderr, code := ociRun(t, runtime, root, "run", "--bundle", bundle, "fg-1")
	own.add(root)
	out = strings.ReplaceAll(out, "\r", "")
	if code != 3 {
		t.Errorf("run with a terminal: exit %d %s, want 3", code, stderr)
	}
	for _, want := range []string{"/dev/pts/0\n", "24 80\n", "ctty=yes\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("run with a terminal printed %q, lacks %q", out, want)
		}
	}

	sleeper := ociBundle(t, runtime, "sleep", "60")
	if _, stderr, code := ociRun(t, runtime, root, "run", "--detach", "--bundle", sleeper, "fg-2"); code != 0 {
		t.Fatalf("run --detach: exit %d %s", code, stderr)
	}
	own.add(root)
	out, stderr, code = ociRun(t, runtime, root, "exec", "-t", "fg-2", "sh", "-c", `if (: </dev/tty) 2>/dev/null; then echo ctty=yes; fi; exit 4`)
	if code != 4 || !strings.Contains(strings.ReplaceAll(out, "\r", ""), "ctty=yes\n") {
		t.Errorf("exec -t: exit %d, %q %s; want 4 and ctty=yes", code, out, stderr)
	}
}

// TestOCIConsoleRefusals: runc's rules for --console-socket, each a
// one-line error and exit 1, with nothing left behind.
func TestOCIConsoleRefusals(t *testing.T) {
	requireRoot(t)
	runtime, root := ociRuntime(t), t.TempDir()
	withTerminal := terminalBundle(t, runtime, 0, 0, "sleep", "60")
	without := ociBundle(t, runtime, "sleep", "60")
	_, socket := consoleSocket(t)
	missing := filepath.Join(t.TempDir(), "nobody-listens.sock")
	const noSocket = "cannot allocate tty if runc will detach without setting console socket"
	const unusable = "cannot use console socket if runc will not detach or allocate tty"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--bundle", withTerminal, "r-1"}, noSocket},
		{[]string{"run", "--detach", "--bundle", withTerminal, "r-1"}, noSocket},
		{[]string{"create", "--console-socket", socket, "--bundle", without, "r-1"}, unusable},
		{[]string{"run", "--console-socket", socket, "--bundle", withTerminal, "r-1"}, unusable},
		{[]string{"create", "--console-socket", missing, "--bundle", withTerminal, "r-1"}, "--console-socket " + missing},
	} {
		_, stderr, code := ociRun(t, runtime, root, c.args...)
		if code != 1 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d %q; want 1 and one line with %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
		if _, stderr, code := ociRun(t, runtime, root, "state", "r-1"); code == 0 || !strings.Contains(stderr, "does not exist") {
			t.Errorf("%s left a container behind", strings.Join(c.args, " "))
			ociRun(t, runtime, root, "delete", "--force", "r-1")
		}
	}

	// exec's own: into a running container, which must stay untouched.
	if _, stderr, code := ociRun(t, runtime, root, "run", "--detach", "--bundle", without, "r-2"); code != 0 {
		t.Fatalf("run --detach: exit %d %s", code, stderr)
	}
	t.Cleanup(func() {
		ociRun(t, runtime, root, "delete", "--force", "r-2")
		assertNoState(t, root)
	})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"exec", "--detach", "-t", "r-2", "true"}, noSocket},
		{[]string{"exec", "--console-socket", socket, "--detach", "r-2", "true"}, unusable},
		{[]string{"exec", "-t", "--console-socket", socket, "r-2", "true"}, unusable},
	} {
		_, stderr, code := ociRun(t, runtime, root, c.args...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d %q; want 1 and %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
	if status, _ := ociStatus(t, runtime, root, "r-2"); status != "running" {
		t.Errorf("the container after refused execs: %s, want running", status)
	}
}
