package e2e

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestInitExitCode(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	out, code := runInit(t, initCmd(root, "sh", "-c", "exit 7"))
	if code != 7 {
		t.Fatalf("exit code %d, want 7; output:\n%s", code, out)
	}
}

func TestInitRunsConfiguredCmd(t *testing.T) {
	requireRoot(t)
	envFile := filepath.Join(t.TempDir(), "app.env")
	os.WriteFile(envFile, []byte("# image env\nGREETING=\"hello from the image\"\nOVERRIDDEN=image\n"), 0o644)
	root := busyboxRootfs(t, "--cmd", `sh -c 'echo "$GREETING/$OVERRIDDEN"; exit 3'`, "--env-file", envFile)
	cmd := initCmd(root) // no arguments: the image's configured payload
	cmd.Env = append(cmd.Env, "OVERRIDDEN=runtime")
	out, code := runInit(t, cmd)
	if code != 3 || strings.TrimSpace(out) != "hello from the image/runtime" {
		t.Fatalf("got %q exit %d, want %q exit 3 (the image's env, overridden by the runtime's)", out, code, "hello from the image/runtime")
	}
}

func TestInitExecErrors(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"no-such-program"}, 127, "not found"},
		{[]string{"/etc/passwd"}, 126, "not executable"},
		{[]string{"--grace", "soon", "sh"}, 125, "--grace soon"},
	} {
		out, code := runInit(t, initCmd(root, tt.args...))
		if code != tt.code || !strings.Contains(out, tt.msg) {
			t.Errorf("init %v: exit %d %q, want exit %d mentioning %q", tt.args, code, out, tt.code, tt.msg)
		}
	}
}

// startWithReadyLine starts the init and waits until the payload prints "ready".
func startWithReadyLine(t *testing.T, cmd *exec.Cmd) *bufio.Reader {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("payload did not get ready: %q %v", line, err)
	}
	return r
}

func TestInitForwardsSIGTERM(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	cmd := initCmd(root, "sh", "-c", `trap 'echo got-TERM; exit 143' TERM; echo ready; while :; do sleep 0.05; done`)
	r := startWithReadyLine(t, cmd)
	cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := r.ReadString(0)
	if code := waitTimeout(t, cmd, 20*time.Second); code != 143 {
		t.Fatalf("exit %d, want 143", code)
	}
	if !strings.Contains(rest, "got-TERM") {
		t.Fatalf("payload did not see SIGTERM; output %q", rest)
	}
}

func TestInitTreatsSIGRTMIN3AsSIGTERM(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	cmd := initCmd(root, "sh", "-c", `trap 'echo got-TERM; exit 143' TERM; echo ready; while :; do sleep 0.05; done`)
	r := startWithReadyLine(t, cmd)
	cmd.Process.Signal(syscall.Signal(37)) // SIGRTMIN+3, podman's stop signal for /sbin/init
	rest, _ := r.ReadString(0)
	if code := waitTimeout(t, cmd, 20*time.Second); code != 143 || !strings.Contains(rest, "got-TERM") {
		t.Fatalf("exit %d output %q, want 143 after the payload got SIGTERM", code, rest)
	}
}

func TestInitKillsAfterGrace(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	cmd := initCmd(root, "--grace", "0.3", "sh", "-c", `trap '' TERM; echo ready; sleep 60`)
	startWithReadyLine(t, cmd)
	cmd.Process.Signal(syscall.SIGTERM)
	// The payload ignores SIGTERM; after the grace period it is SIGKILLed.
	if code := waitTimeout(t, cmd, 20*time.Second); code != 128+int(syscall.SIGKILL) {
		t.Fatalf("exit %d, want %d (killed after the grace period)", code, 128+int(syscall.SIGKILL))
	}
}

func TestInitReapsOrphans(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	// Each inner sh exits at once, orphaning its sleeper, which the init
	// inherits; once the sleepers exit they must not linger as zombies.
	script := `for i in 1 2 3 4 5; do sh -c 'sleep 0.1 &'; done
sleep 1
zombies=0
for f in /proc/[0-9]*/stat; do read -r l < "$f" 2>/dev/null || continue; case "$l" in *") Z "*) zombies=$((zombies+1));; esac; done
echo "zombies=$zombies"`
	out, code := runInit(t, initCmd(root, "sh", "-c", script))
	if code != 0 || !strings.Contains(out, "zombies=0") {
		t.Fatalf("exit %d output %q, want zombies=0", code, out)
	}
}

func TestInitPassesSockets(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "activation.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sock, err := l.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	cmd := initCmd(root, "sh", "-c", `echo "pid=$$ listen_pid=$LISTEN_PID fds=$LISTEN_FDS names=$LISTEN_FDNAMES fd3=$(readlink /proc/$$/fd/3)"`)
	cmd.ExtraFiles = []*os.File{sock} // fd 3
	cmd.Env = append(cmd.Env, "LISTEN_PID=1", "LISTEN_FDS=1", "LISTEN_FDNAMES=web")
	out, code := runInit(t, cmd)
	m := regexp.MustCompile(`pid=(\d+) listen_pid=(\d+) fds=1 names=web fd3=socket:\[\d+\]`).FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] != m[2] || m[1] == "1" {
		t.Fatalf("exit %d output %q: want LISTEN_PID equal to the payload's own pid and fd 3 a socket", code, out)
	}
}

func TestInitStripsStaleListenVars(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	cmd := initCmd(root, "sh", "-c", `echo "[$LISTEN_PID][$LISTEN_FDS]"`)
	cmd.Env = append(cmd.Env, "LISTEN_PID=4242", "LISTEN_FDS=1") // meant for another process
	out, code := runInit(t, cmd)
	if code != 0 || strings.TrimSpace(out) != "[][]" {
		t.Fatalf("exit %d output %q: LISTEN_* not meant for the init must not reach the payload", code, out)
	}
}

func TestInitAsSubreaper(t *testing.T) {
	requireRoot(t)
	// Not PID 1 (the host's PID namespace): the init becomes a child
	// subreaper, so an orphan is re-parented to it and reaped by it.
	bb := busybox(t)
	script := `orphan=$(BB sh -c 'BB sleep 0.5 >/dev/null 2>&1 & echo $!')
BB sleep 0.1
BB grep PPid: /proc/$orphan/status
BB sleep 1
[ -e /proc/$orphan ] && echo "orphan $orphan still exists" || echo reaped
exit 5`
	cmd := exec.Command(bin.init, "--", bb, "sh", "-c", strings.ReplaceAll(script, "BB", bb))
	out, code := runInit(t, cmd)
	wantPPid := "PPid:\t" + strconv.Itoa(cmd.Process.Pid)
	if code != 5 || !strings.Contains(out, wantPPid) || !strings.Contains(out, "reaped") {
		t.Fatalf("exit %d output %q; want exit 5, the orphan's %q, and the orphan reaped", code, out, wantPPid)
	}
}
