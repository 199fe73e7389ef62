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

// natLeft lists what a NAT container may leave in the test namespace:
// host-side veths and lease files.
func natLeft(t *testing.T, ns, stateDir string) []string {
	t.Helper()
	var left []string
	out, _ := exec.Command("ip", "-n", ns, "-o", "link", "show").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], "ve-") {
			left = append(left, "veth "+strings.TrimSuffix(f[1], ":"))
		}
	}
	leases, _ := filepath.Glob(filepath.Join(stateDir, "network", "leases", "*"))
	for _, l := range leases {
		left = append(left, "lease "+filepath.Base(l))
	}
	return left
}

func TestNetworkNAT(t *testing.T) {
	requireRoot(t)
	root, st, ns := busyboxRootfs(t, "--add", natApplets(t)+":/"), t.TempDir(), testNetns(t)
	// A server container with a fixed address and a published port.
	server := inNetns(ns, st, "run", "-d", "--name", "srv", "--ip", "10.89.0.50", "-p", "8080:80", root,
		"nc", "-ll", "-p", "80", "-e", "echo", "hello-from-nat")
	if out, err := server.CombinedOutput(); err != nil {
		t.Fatalf("run -d: %v %s", err, out)
	}
	defer inNetns(ns, st, "rm", "-f", "srv").Run()

	out, err := inNetns(ns, st, "inspect", "srv").Output()
	if err != nil || !strings.Contains(string(out), `"IPAddress": "10.89.0.50"`) || !strings.Contains(string(out), `"80/tcp"`) {
		t.Errorf("inspect lacks the address or the port: %v\n%s", err, out)
	}
	// A second container reaches the gateway and the first one directly.
	out, err = inNetns(ns, st, "run", "--rm", "--network", "nat", root, "sh", "-c",
		"ping -c1 -W2 10.89.0.1 >/dev/null && echo gateway-ok; nc 10.89.0.50 80 </dev/null; cat /etc/resolv.conf").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "gateway-ok") || !strings.Contains(string(out), "hello-from-nat") {
		t.Errorf("container to gateway and container: %v\n%s", err, out)
	}
	// The published port answers on the namespace's own 127.0.0.1.
	var reply []byte
	for i := 0; i < 50 && !bytes.Contains(reply, []byte("hello-from-nat")); i++ {
		reply, _ = exec.Command("nsenter", "--net=/run/netns/"+ns, busybox(t), "nc", "-w", "2", "127.0.0.1", "8080").Output()
		time.Sleep(50 * time.Millisecond)
	}
	if !bytes.Contains(reply, []byte("hello-from-nat")) {
		t.Errorf("-p 8080:80 from 127.0.0.1: %q", reply)
	}
	// The same host port again: refused, and nothing left of the attempt.
	if out, err := inNetns(ns, st, "run", "--rm", "-p", "8080:80", root, "true").CombinedOutput(); err == nil || !strings.Contains(string(out), "8080") {
		t.Errorf("a taken host port was accepted: %v %s", err, out)
	}
	if out, err := inNetns(ns, st, "rm", "-f", "srv").CombinedOutput(); err != nil {
		t.Fatalf("rm -f: %v %s", err, out)
	}
	if left := natLeft(t, ns, st); len(left) > 0 {
		t.Errorf("left after the containers: %v", left)
	}
	assertNoState(t, st)
}

// natApplets links the busybox applets the NAT test uses.
func natApplets(t *testing.T) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	for _, a := range []string{"nc", "ping"} {
		os.Symlink("busybox", filepath.Join(dir, "bin", a))
	}
	return dir
}
