package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	helper := goHelper(t, "activated")
	root, st, ns := busyboxRootfs(t, "--app", helper+":/bin/activated"), t.TempDir(), testNetns(t)
	reply := activatedReply(t, ns, "18080",
		inNetns(ns, st, "run", "--rm", "--listen", "tcp:127.0.0.1:18080=web", root, "/bin/activated"))
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

// goHelper builds one of the test's static Go helpers (testdata/NAME).
func goHelper(t *testing.T, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	build := exec.Command("go", "build", "-o", out, "./testdata/"+name)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, msg)
	}
	return out
}

// clientNetns is a second test namespace, a "client host" joined to ns by
// a veth: ns is 192.0.2.1/24 on its side, the client 192.0.2.2/24.
func clientNetns(t *testing.T, ns string) string {
	t.Helper()
	client := testNetns(t)
	for _, args := range [][]string{
		{"-n", ns, "link", "add", "stdc-up0", "type", "veth", "peer", "name", "stdc-up1", "netns", client},
		{"-n", ns, "addr", "add", "192.0.2.1/24", "dev", "stdc-up0"},
		{"-n", ns, "link", "set", "stdc-up0", "up"},
		{"-n", client, "addr", "add", "192.0.2.2/24", "dev", "stdc-up1"},
		{"-n", client, "link", "set", "stdc-up1", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	return client
}

// ourRules lists the nftables rules in the namespace that carry id.
func ourRules(t *testing.T, ns, id string) string {
	// The nft binary only inspects here; the launcher itself uses netlink.
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "ruleset").Output()
	if err != nil {
		t.Fatalf("nft list ruleset: %v (apt-get install nftables)", err)
	}
	var rules []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, id) {
			rules = append(rules, strings.TrimSpace(line))
		}
	}
	return strings.Join(rules, "; ")
}

func TestNetworkNAT(t *testing.T) {
	requireRoot(t)
	udpecho := goHelper(t, "udpecho")
	root, st, ns := busyboxRootfs(t, "--add", natApplets(t)+":/", "--app", udpecho+":/bin/udpecho"), t.TempDir(), testNetns(t)
	client := clientNetns(t, ns)
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
	// A second container reaches the gateway and the first one directly,
	// and gets the host's non-loopback nameservers.
	out, err = inNetns(ns, st, "run", "--rm", "--network", "nat", root, "sh", "-c",
		"ping -c1 -W2 10.89.0.1 >/dev/null && echo gateway-ok; nc 10.89.0.50 80 </dev/null; cat /etc/resolv.conf").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "gateway-ok") || !strings.Contains(string(out), "hello-from-nat") {
		t.Errorf("container to gateway and container: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "nameserver 127.") || !strings.Contains(string(out), "generated by stdcontainer") {
		t.Errorf("NAT resolv.conf must drop loopback nameservers:\n%s", out)
	}
	out, _ = inNetns(ns, st, "run", "--rm", "--network", "nat", "--dns", "192.0.2.53", root, "cat", "/etc/resolv.conf").Output()
	if !strings.Contains(string(out), "nameserver 192.0.2.53") {
		t.Errorf("--dns: %s", out)
	}
	// From another host: the client namespace reaches the published port
	// at the outer namespace's address.
	reply, _ := exec.Command("nsenter", "--net=/run/netns/"+client, busybox(t), "nc", "-w", "2", "192.0.2.1", "8080").Output()
	if !bytes.Contains(reply, []byte("hello-from-nat")) {
		t.Errorf("-p 8080:80 from another host: %q", reply)
	}
	// UDP: a published UDP port round-trips from the outer namespace.
	udp := inNetns(ns, st, "run", "-d", "--name", "udp", "-p", "5353:53/udp", root, "/bin/udpecho", "53")
	if out, err := udp.CombinedOutput(); err != nil {
		t.Fatalf("udp server: %v %s", err, out)
	}
	var udpReply []byte
	for i := 0; i < 20 && !bytes.Contains(udpReply, []byte("echo:ping")); i++ {
		udpReply, _ = exec.Command("nsenter", "--net=/run/netns/"+client, udpecho, "send", "192.0.2.1:5353", "ping").Output()
	}
	if !bytes.Contains(udpReply, []byte("echo:ping")) {
		t.Errorf("-p 5353:53/udp: %q", udpReply)
	}
	udpID, _ := inNetns(ns, st, "ps", "-q").Output()
	if out, err := inNetns(ns, st, "rm", "-f", "udp").CombinedOutput(); err != nil {
		t.Errorf("rm -f udp: %v %s", err, out)
	}
	// The published port answers on the namespace's own 127.0.0.1.
	reply = nil
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
	srvID, _ := inNetns(ns, st, "inspect", "srv").Output()
	if out, err := inNetns(ns, st, "rm", "-f", "srv").CombinedOutput(); err != nil {
		t.Fatalf("rm -f: %v %s", err, out)
	}
	if left := natLeft(t, ns, st); len(left) > 0 {
		t.Errorf("left after the containers: %v", left)
	}
	for _, id := range regexp.MustCompile(`[0-9a-f]{64}`).FindAllString(string(srvID)+string(udpID), -1) {
		if rules := ourRules(t, ns, id); rules != "" {
			t.Errorf("nftables rules of %s left: %s", id[:12], rules)
		}
	}
	assertNoState(t, st)
	// Bad input: 125, and nothing created.
	for _, args := range [][]string{{"--subnet", "10.89.0.0/33"}, {"--network", "bridge"}, {"--ip", "10.99.0.5", "--subnet", "10.89.0.0/16", "--network", "nat"}} {
		out, err := inNetns(ns, st, append(append([]string{"run", "--rm"}, args...), root, "true")...).CombinedOutput()
		if code := exitCode(err); code != 125 || !strings.Contains(string(out), args[0]) {
			t.Errorf("%v: exit %d %s", args, code, out)
		}
	}
	if left := natLeft(t, ns, st); len(left) > 0 {
		t.Errorf("left after refused runs: %v", left)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
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

// activatedReply starts the launcher command running the activated
// helper, connects to 127.0.0.1:port in ns until the helper answers, and
// returns the answer once the launcher has exited cleanly.
func activatedReply(t *testing.T, ns, port string, launcher *exec.Cmd) []byte {
	t.Helper()
	var stderr bytes.Buffer
	launcher.Stderr = &stderr
	if err := launcher.Start(); err != nil {
		t.Fatal(err)
	}
	var reply []byte
	for i := 0; i < 100 && len(reply) == 0; i++ {
		time.Sleep(50 * time.Millisecond)
		reply, _ = exec.Command("nsenter", "--net=/run/netns/"+ns, busybox(t), "nc", "127.0.0.1", port).Output()
	}
	if code := waitTimeout(t, launcher, 20*time.Second); code != 0 {
		t.Fatalf("launcher exit %d: %s", code, stderr.String())
	}
	return reply
}

// TestListenInheritedSockets: a launcher started by socket activation
// itself passes its sockets on to the container, names included.
func TestListenInheritedSockets(t *testing.T) {
	requireRoot(t)
	helper := goHelper(t, "activated")
	root, st, ns := busyboxRootfs(t, "--app", helper+":/bin/activated"), t.TempDir(), testNetns(t)
	// bindexec binds in the test namespace and execs the launcher with the
	// socket as fd 3 and LISTEN_PID set to its pid, as systemd would.
	reply := activatedReply(t, ns, "18081", exec.Command("nsenter", "--net=/run/netns/"+ns, goHelper(t, "bindexec"),
		"127.0.0.1:18081", bin.launcher, "--root", st, "run", "--rm", root, "/bin/activated"))
	if got := strings.TrimSpace(string(reply)); got != "pid=1 fds=1 names=inherited" {
		t.Errorf("the container's service answered %q, want pid=1 fds=1 names=inherited", got)
	}
}
