// Package e2e runs the real binaries against the real kernel, as root.
// Tests skip when not root unless STDC_E2E=require (CI), where they fail.
package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stdcontainer/stdcontainer/rootfs"
)

// bin holds the binaries built once for all tests.
var bin struct{ dir, init, mkrootfs, launcher string }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stdc-e2e-bin-")
	if err != nil {
		panic(err)
	}
	bin.dir = dir
	bin.init = filepath.Join(dir, "init")
	bin.mkrootfs = filepath.Join(dir, "mkrootfs")
	bin.launcher = filepath.Join(dir, "launcher") // next to init, as --init expects
	code := 1
	if err := buildBinaries(); err != nil {
		os.Stderr.WriteString("e2e: building binaries: " + err.Error() + "\n")
	} else {
		code = m.Run()
	}
	// Nothing any test started may leave a cgroup behind.
	if left := leftoverCgroups(); len(left) > 0 {
		os.Stderr.WriteString("e2e: cgroups left behind after the suite: " + strings.Join(left, " ") + "\n")
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildBinaries() error {
	for pkg, out := range map[string]string{"../init": bin.init, "../build": bin.mkrootfs, "../launcher": bin.launcher} {
		args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid=", "-o", out}
		if pkg == "../init" {
			args = append(args, "-gcflags=all=-l") // as the Makefile builds it
		}
		cmd := exec.Command("go", append(args, pkg)...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return &buildError{string(out)}
		}
	}
	return nil
}

type buildError struct{ out string }

func (e *buildError) Error() string { return e.out }

// requireRoot skips a test that needs root, or fails it under STDC_E2E=require.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("STDC_E2E") == "require" {
		t.Fatal("STDC_E2E=require but not running as root")
	}
	t.Skip("end-to-end test needs root (set STDC_E2E=require to make this a failure)")
}

// busybox finds a static busybox on the host (Debian's busybox-static).
func busybox(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if static, err := rootfs.IsStaticELF("/", p); err == nil && static {
			return p
		}
	}
	if os.Getenv("STDC_E2E") == "require" {
		t.Fatal("no static busybox (apt-get install busybox-static)")
	}
	t.Skip("no static busybox (apt-get install busybox-static)")
	return ""
}

// mkrootfs runs our builder and fails the test on error.
func mkrootfs(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(bin.mkrootfs, append([]string{"--init", bin.init}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkrootfs %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// busyboxRootfs builds a rootfs with our init and busybox's applets in /bin.
func busyboxRootfs(t *testing.T, extra ...string) string {
	t.Helper()
	bb := busybox(t)
	root := filepath.Join(t.TempDir(), "rootfs")
	mkrootfs(t, append([]string{"-o", root, "--app", bb + ":/bin/busybox", "--add", busyboxLinks(t) + ":/"}, extra...)...)
	return root
}

// busyboxLinks is a tree of /bin symlinks to busybox, for its applets.
func busyboxLinks(t *testing.T) string {
	t.Helper()
	links := t.TempDir()
	os.MkdirAll(filepath.Join(links, "bin"), 0o755)
	for _, applet := range []string{"sh", "sleep", "cat", "echo", "ls", "readlink", "grep", "true", "env", "kill",
		"wc", "tr", "head", "rm", "mkdir", "touch", "tty", "stty", "test", "id", "pwd", "hostname", "cut", "mount", "ln"} {
		if err := os.Symlink("busybox", filepath.Join(links, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	return links
}

// initCmd prepares root's /sbin/init as PID 1 of a new PID namespace, in a
// private mount namespace, chrooted into root.
func initCmd(root string, args ...string) *exec.Cmd {
	cmd := exec.Command("/sbin/init", args...)
	cmd.Env = []string{"PATH=/bin:/sbin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:   syscall.CLONE_NEWPID,
		Unshareflags: syscall.CLONE_NEWNS, // Go also makes / private, so /proc mounts stay inside
		Chroot:       root,
		Pdeathsig:    syscall.SIGKILL,
	}
	return cmd
}

// runInit runs the init to completion and returns its output and exit code.
func runInit(t *testing.T, cmd *exec.Cmd) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start init: %v", err)
	}
	code := waitTimeout(t, cmd, 30*time.Second)
	return out.String(), code
}

// waitTimeout waits for cmd and returns its exit code; it kills it and
// fails the test if it runs longer than d.
func waitTimeout(t *testing.T, cmd *exec.Cmd, d time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not exit within %v", cmd.Path, d)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
