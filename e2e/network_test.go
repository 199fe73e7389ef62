package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testNetns creates a network namespace for one test, with lo up and a
// veth pair inside it, and removes it afterwards. Everything network-related
// happens inside it: the machine's own interfaces are never touched.
func testNetns(t *testing.T) string {
	t.Helper()
	name := "stdc-test-" + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(int(time.Now().UnixNano()%100000))
	for _, args := range [][]string{
		{"netns", "add", name},
		{"-n", name, "link", "set", "lo", "up"},
		{"-n", name, "link", "add", "stdc-veth0", "type", "veth", "peer", "name", "stdc-veth1"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			exec.Command("ip", "netns", "del", name).Run()
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// inNetns runs the launcher inside the test's network namespace. nsenter
// switches only the network namespace (ip netns exec would also remount
// /sys, hiding the host's cgroupfs from the launcher).
func inNetns(ns, stateDir string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=/run/netns/" + ns, bin.launcher, "--root", stateDir}, args...)...)
}

func TestNetworkHostAndPrivate(t *testing.T) {
	requireRoot(t)
	root, st, ns := busyboxRootfs(t), t.TempDir(), testNetns(t)
	out, err := inNetns(ns, st, "run", "--rm", "--network", "host", root, "ls", "/sys/class/net").Output()
	if err != nil || !strings.Contains(string(out), "stdc-veth0") {
		t.Errorf("--network host sees %q (%v); want the outer namespace's stdc-veth0", out, err)
	}
	out, err = inNetns(ns, st, "run", "--rm", root, "ls", "/sys/class/net").Output()
	if err != nil || strings.TrimSpace(string(out)) != "lo" {
		t.Errorf("private network sees %q (%v); want only lo", out, err)
	}
	assertNoState(t, st)
}

// TestListenSocketActivation: a socket-activated service in a private
// container answers on the host-side port the launcher bound.
func TestListenSocketActivation(t *testing.T) {
	requireRoot(t)
	helper := filepath.Join(t.TempDir(), "activated")
	build := exec.Command("go", "build", "-o", helper, "./testdata/activated")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the helper: %v\n%s", err, out)
	}
	root, st, ns := busyboxRootfs(t, "--app", helper+":/bin/activated"), t.TempDir(), testNetns(t)
	launcher := inNetns(ns, st, "run", "--rm", "--listen", "tcp:127.0.0.1:18080=web", root, "/bin/activated")
	var stderr bytes.Buffer
	launcher.Stderr = &stderr
	if err := launcher.Start(); err != nil {
		t.Fatal(err)
	}
	var reply []byte
	for i := 0; i < 100 && len(reply) == 0; i++ {
		time.Sleep(50 * time.Millisecond)
		reply, _ = exec.Command("nsenter", "--net=/run/netns/"+ns, busybox(t), "nc", "127.0.0.1", "18080").Output()
	}
	if code := waitTimeout(t, launcher, 20*time.Second); code != 0 {
		t.Fatalf("launcher exit %d: %s", code, stderr.String())
	}
	// The service runs as the container's PID 1: LISTEN_PID=1 is its own.
	if got := strings.TrimSpace(string(reply)); got != "pid=1 fds=1 names=web" {
		t.Errorf("the service answered %q, want pid=1 fds=1 names=web", got)
	}
	_, stderr2, code := launch(t, st, "run", "--rm", "--listen", "tcp:256.0.0.1:80", root, "true")
	if code != 125 || !strings.Contains(stderr2, "--listen") {
		t.Errorf("bad --listen address: exit %d %q", code, stderr2)
	}
	assertNoState(t, st)
}
