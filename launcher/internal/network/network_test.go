package network

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// These tests never touch the machine's own network namespace: each runs on
// a locked OS thread moved into a fresh namespace that plays the host, the
// containers are `unshare --net sleep` processes, and traffic only goes
// between those namespaces. Subtests (other goroutines) are not used, so
// everything runs on that one thread.

func e2e(t *testing.T) {
	t.Helper()
	skip := func(why string) {
		t.Helper()
		if os.Getenv("STDC_E2E") == "require" {
			t.Fatal(why)
		}
		t.Skip(why + " (STDC_E2E=require makes this a failure)")
	}
	if os.Geteuid() != 0 {
		skip("needs root")
	}
	for _, bin := range []string{"unshare", "nsenter", "busybox"} {
		if _, err := exec.LookPath(bin); err != nil {
			skip("needs " + bin)
		}
	}
}

// hostNS locks the test to its OS thread and moves that thread into a new
// network namespace with lo up: the "host" of the test. Cleanup moves it
// back (or, if that fails, leaves the thread locked so Go ends it).
func hostNS(t *testing.T) netns.NsHandle {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	h, err := netns.New()
	if err != nil {
		orig.Close()
		runtime.UnlockOSThread()
		t.Fatalf("new network namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := netns.Set(orig); err != nil {
			t.Errorf("back to the original network namespace: %v", err)
			return
		}
		orig.Close()
		h.Close()
		runtime.UnlockOSThread()
	})
	if cur, err := netns.Get(); err != nil || cur.Equal(orig) {
		t.Fatalf("still in the original network namespace (%v)", err)
	} else {
		cur.Close()
	}
	lo, err := netlink.LinkByName("lo")
	if err == nil {
		err = netlink.LinkSetUp(lo)
	}
	if err != nil {
		t.Fatalf("lo up: %v", err)
	}
	return h
}

// startNS starts `sleep` in a new network namespace holding only lo and
// returns its pid; cleanup kills it, which frees the namespace.
func startNS(t *testing.T, host netns.NsHandle) int {
	t.Helper()
	cmd := exec.Command("unshare", "--net", "sleep", "120")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// Wait for unshare to have exec'd sleep, so pid has its own namespace.
	for deadline := time.Now().Add(10 * time.Second); ; {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.TrimSpace(string(comm)) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unshare --net sleep did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if ns.Equal(host) {
		t.Fatal("the container shares the host's namespace")
	}
	return pid
}

// inNS runs f with the thread in pid's network namespace: sockets made by f
// stay there. Only test-made namespaces are ever entered.
func inNS(t *testing.T, pid int, f func()) {
	t.Helper()
	cur, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if err := netns.Set(ns); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(cur); err != nil {
			panic("cannot return to the test's host namespace: " + err.Error())
		}
	}()
	f()
}

// nsHandle is a netlink handle on pid's network namespace.
func nsHandle(t *testing.T, pid int) *netlink.Handle {
	t.Helper()
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// linkNames lists the links of pid's namespace.
func linkNames(t *testing.T, pid int) []string {
	t.Helper()
	h := nsHandle(t, pid)
	links, err := h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	return names
}

// ping pings ip from pid's namespace, retrying a little (ARP, first use).
func ping(pid int, ip string) error {
	var out []byte
	var err error
	for range 3 {
		out, err = exec.Command("nsenter", fmt.Sprintf("--net=/proc/%d/ns/net", pid),
			"busybox", "ping", "-c1", "-W1", ip).CombinedOutput()
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("ping %s from pid %d: %v\n%s", ip, pid, err, out)
}

// serveTCP listens on port in pid's namespace and answers every connection
// with reply.
func serveTCP(t *testing.T, pid int, port int, reply string) {
	t.Helper()
	var ln net.Listener
	var err error
	inNS(t, pid, func() { ln, err = net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", port)) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // the socket pins the namespace
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, reply)
			c.Close()
		}
	}()
}

// serveUDP answers every datagram on port in pid's namespace with reply.
func serveUDP(t *testing.T, pid int, port int, reply string) {
	t.Helper()
	var pc net.PacketConn
	var err error
	inNS(t, pid, func() { pc, err = net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", port)) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(reply), from)
		}
	}()
}

// dial connects from the thread's current namespace and returns what the
// server says.
func dial(network, addr string) (string, error) {
	c, err := net.DialTimeout(network, addr, 3*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if network == "udp4" {
		if _, err := c.Write([]byte("ping")); err != nil {
			return "", err
		}
		buf := make([]byte, 512)
		n, err := c.Read(buf)
		return string(buf[:n]), err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// dialFrom is dial from pid's namespace.
func dialFrom(t *testing.T, pid int, network, addr string) (s string, err error) {
	t.Helper()
	var c net.Conn
	inNS(t, pid, func() {
		// Only the socket has to be made in the namespace.
		d := net.Dialer{Timeout: 3 * time.Second}
		c, err = d.Dial(network, addr)
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

// rulesOf returns the rules of our table whose comment is id.
func rulesOf(t *testing.T, id string) []*nftables.Rule {
	t.Helper()
	nft, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	chs, err := nft.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		t.Fatal(err)
	}
	var out []*nftables.Rule
	for _, ch := range chs {
		if ch.Table.Name != TableName {
			continue
		}
		rules, err := nft.GetRules(table, ch)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			if ruleComment(r) == id {
				out = append(out, r)
			}
		}
	}
	return out
}

// assertGone checks that nothing of id is left on the host side.
func assertGone(t *testing.T, cfg Config, id string) {
	t.Helper()
	if rules := rulesOf(t, id); len(rules) != 0 {
		t.Errorf("%d rules of %s left", len(rules), short(id))
	}
	for _, name := range []string{HostVeth(id), peerTemp(id)} {
		if _, err := netlink.LinkByName(name); !linkNotFound(err) {
			t.Errorf("link %s left (%v)", name, err)
		}
	}
	leases, err := Leased(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ip, ok := leases[id]; ok {
		t.Errorf("lease %s of %s left", ip, short(id))
	}
}

func readSysctl(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestSetupAndTeardown(t *testing.T) {
	e2e(t)
	host := hostNS(t)
	cfg := Config{StateDir: t.TempDir()}
	pid := startNS(t, host)

	att, err := Setup(cfg, idA, pid, Request{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Teardown(cfg, idA) })
	want := Attachment{
		IP: netip.MustParseAddr("10.89.0.2"), Gateway: netip.MustParseAddr("10.89.0.1"), PrefixLen: 16,
		MAC: net.HardwareAddr{2, 1, 0x23, 0x45, 0x67, 0x89}, Bridge: "stdc0", HostVeth: "ve-0123456789ab",
	}
	if att.IP != want.IP || att.Gateway != want.Gateway || att.PrefixLen != want.PrefixLen ||
		!bytes.Equal(att.MAC, want.MAC) || att.Bridge != want.Bridge || att.HostVeth != want.HostVeth || len(att.Ports) != 0 {
		t.Errorf("Setup = %+v, want %+v", *att, want)
	}

	// The container's side.
	h := nsHandle(t, pid)
	l, err := h.LinkByName("host0")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(l.Attrs().HardwareAddr, want.MAC) || l.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("host0: MAC %s, flags %v", l.Attrs().HardwareAddr, l.Attrs().Flags)
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 || addrs[0].IPNet.String() != "10.89.0.2/16" {
		t.Errorf("host0 addresses %v, %v", addrs, err)
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	dflt := false
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.String() == "0.0.0.0/0") && r.Gw.String() == "10.89.0.1" && r.LinkIndex == l.Attrs().Index {
			dflt = true
		}
	}
	if !dflt {
		t.Errorf("no default route via 10.89.0.1 in %v", routes)
	}
	if lo, err := h.LinkByName("lo"); err != nil || lo.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("lo is not up in the container (%v)", err)
	}
	if names := linkNames(t, pid); len(names) != 2 {
		t.Errorf("container links %v, want lo and host0", names)
	}

	// The host's side.
	br, err := netlink.LinkByName("stdc0")
	if err != nil {
		t.Fatal(err)
	}
	ve, err := netlink.LinkByName("ve-0123456789ab")
	if err != nil {
		t.Fatal(err)
	}
	if ve.Attrs().MasterIndex != br.Attrs().Index || ve.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("ve-0123456789ab: master %d (bridge %d), flags %v", ve.Attrs().MasterIndex, br.Attrs().Index, ve.Attrs().Flags)
	}
	if addrs, err := netlink.AddrList(br, netlink.FAMILY_V4); err != nil || len(addrs) != 1 || addrs[0].IPNet.String() != "10.89.0.1/16" {
		t.Errorf("bridge addresses %v, %v", addrs, err)
	}
	if v := readSysctl(t, "net/ipv4/ip_forward"); v != "1" {
		t.Errorf("ip_forward = %s", v)
	}
	if v := readSysctl(t, "net/ipv4/conf/stdc0/route_localnet"); v != "1" {
		t.Errorf("route_localnet = %s", v)
	}
	lease := filepath.Join(cfg.StateDir, "network", "leases", "10.89.0.2")
	if b, err := os.ReadFile(lease); err != nil || strings.TrimSpace(string(b)) != idA {
		t.Errorf("lease file: %q, %v", b, err)
	}
	if m, err := Leased(cfg); err != nil || len(m) != 1 || m[idA] != want.IP {
		t.Errorf("Leased = %v, %v", m, err)
	}
	if err := ping(pid, "10.89.0.1"); err != nil {
		t.Error(err)
	}

	// Attached already.
	if _, err := Setup(cfg, idA, pid, Request{}); err == nil {
		t.Error("a second Setup of the same container worked")
	}

	for range 2 {
		if err := Teardown(cfg, idA); err != nil {
			t.Fatal(err)
		}
	}
	assertGone(t, cfg, idA)
	if names := linkNames(t, pid); len(names) != 1 || names[0] != "lo" {
		t.Errorf("container links after Teardown: %v", names)
	}
	// The bridge and the table stay.
	if _, err := netlink.LinkByName("stdc0"); err != nil {
		t.Errorf("bridge: %v", err)
	}
	nft, _ := nftables.New()
	if _, err := nft.ListTableOfFamily(TableName, nftables.TableFamilyIPv4); err != nil {
		t.Errorf("table: %v", err)
	}
}

func TestTwoContainersAndPorts(t *testing.T) {
	e2e(t)
	host := hostNS(t)
	cfg := Config{StateDir: t.TempDir()}
	pidA, pidB := startNS(t, host), startNS(t, host)

	attA, err := Setup(cfg, idA, pidA, Request{Ports: []PortMapping{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{HostPort: 5353, ContainerPort: 53, Protocol: "udp"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Teardown(cfg, idA) })
	macB := net.HardwareAddr{0x02, 0x42, 0, 0, 0, 0x50}
	attB, err := Setup(cfg, idB, pidB, Request{IP: netip.MustParseAddr("10.89.0.50"), MAC: macB})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Teardown(cfg, idB) })
	if attA.IP.String() != "10.89.0.2" || attB.IP.String() != "10.89.0.50" || !bytes.Equal(attB.MAC, macB) {
		t.Errorf("addresses %s %s, MAC %s", attA.IP, attB.IP, attB.MAC)
	}
	if l, err := nsHandle(t, pidB).LinkByName("host0"); err != nil || !bytes.Equal(l.Attrs().HardwareAddr, macB) {
		t.Errorf("B's host0: %v", err)
	}

	// Each other and the gateway.
	for _, p := range []struct {
		pid int
		ip  string
	}{{pidA, "10.89.0.50"}, {pidB, "10.89.0.2"}, {pidA, "10.89.0.1"}, {pidB, "10.89.0.1"}} {
		if err := ping(p.pid, p.ip); err != nil {
			t.Error(err)
		}
	}

	serveTCP(t, pidA, 80, "hi\n")
	serveUDP(t, pidA, 53, "pong")

	// The host's own connections: loopback and the bridge's address.
	for _, addr := range []string{"127.0.0.1:8080", "10.89.0.1:8080"} {
		if got, err := dial("tcp4", addr); err != nil || got != "hi\n" {
			t.Errorf("tcp %s from the host: %q, %v", addr, got, err)
		}
	}
	if got, err := dial("udp4", "127.0.0.1:5353"); err != nil || got != "pong" {
		t.Errorf("udp 127.0.0.1:5353 from the host: %q, %v", got, err)
	}

	// Another host: a namespace joined to ours by a veth, 192.0.2.2 ->
	// 192.0.2.1, with no route to the containers' subnet.
	remote := startNS(t, host)
	la := netlink.NewLinkAttrs()
	la.Name = "ext0"
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: "ext1"}); err != nil {
		t.Fatal(err)
	}
	ext0, _ := netlink.LinkByName("ext0")
	ext1, _ := netlink.LinkByName("ext1")
	rns, err := netns.GetFromPid(remote)
	if err != nil {
		t.Fatal(err)
	}
	err = netlink.LinkSetNsFd(ext1, int(rns))
	rns.Close()
	if err != nil {
		t.Fatal(err)
	}
	netlink.AddrAdd(ext0, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix("192.0.2.1/24"))})
	netlink.LinkSetUp(ext0)
	rh := nsHandle(t, remote)
	ext1, _ = rh.LinkByName("ext1")
	rh.AddrAdd(ext1, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix("192.0.2.2/24"))})
	rh.LinkSetUp(ext1)
	if got, err := dialFrom(t, remote, "tcp4", "192.0.2.1:8080"); err != nil || got != "hi\n" {
		t.Errorf("tcp 192.0.2.1:8080 from another host: %q, %v", got, err)
	}
	// Masquerade: the remote has no route back to 10.89.0.0/16.
	if err := ping(pidB, "192.0.2.2"); err != nil {
		t.Errorf("masquerade: %v", err)
	}
	// Hairpin: B through the host's published port to A.
	if got, err := dialFrom(t, pidB, "tcp4", "10.89.0.1:8080"); err != nil || got != "hi\n" {
		t.Errorf("tcp 10.89.0.1:8080 from container B: %q, %v", got, err)
	}

	// The rules: prerouting and output for each mapping, the id as comment.
	rules := rulesOf(t, idA)
	if len(rules) != 4 {
		t.Errorf("%d rules of A, want 4", len(rules))
	}
	udp := 0
	for _, r := range rules {
		if p, ok := parseDNAT(r.Exprs); ok && p.Protocol == "udp" && p.HostPort == 5353 && p.ContainerPort == 53 {
			udp++
		}
	}
	if udp != 2 {
		t.Errorf("%d udp 5353 rules, want 2", udp)
	}

	// Conflict, and nothing left of the failed Setup.
	pidC := startNS(t, host)
	_, err = Setup(cfg, idC, pidC, Request{Ports: []PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}})
	if want := "-p 8080:80: host port 8080/tcp is already published by container 0123456789ab"; err == nil || err.Error() != want {
		t.Errorf("conflict: %v, want %q", err, want)
	}
	_, err = Setup(cfg, idC, pidC, Request{Ports: []PortMapping{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 5353, ContainerPort: 53, Protocol: "udp"}}})
	if err == nil || !strings.Contains(err.Error(), "host port 5353/udp is already published by container 0123456789ab") {
		t.Errorf("conflict with a host address: %v", err)
	}
	_, err = Setup(cfg, idC, pidC, Request{IP: netip.MustParseAddr("10.89.0.50")})
	if err == nil || !strings.Contains(err.Error(), "already in use by container fedcba987654") {
		t.Errorf("address in use: %v", err)
	}
	assertGone(t, cfg, idC)
	if names := linkNames(t, pidC); len(names) != 1 {
		t.Errorf("C's links after failed Setups: %v", names)
	}

	// Teardown: A's rules, veth and lease go; B stays.
	for range 2 {
		if err := Teardown(cfg, idA); err != nil {
			t.Fatal(err)
		}
	}
	assertGone(t, cfg, idA)
	if m, err := Leased(cfg); err != nil || len(m) != 1 || m[idB] != attB.IP {
		t.Errorf("Leased = %v, %v", m, err)
	}
	if got, err := dial("tcp4", "127.0.0.1:8080"); err == nil {
		t.Errorf("127.0.0.1:8080 still answers after Teardown: %q", got)
	}
	// The port is free again.
	if _, err := Setup(cfg, idC, pidC, Request{Ports: []PortMapping{{HostPort: 8080, ContainerPort: 80}}}); err != nil {
		t.Errorf("publishing a freed port: %v", err)
	}
	t.Cleanup(func() { Teardown(cfg, idC) })
	if err := ping(pidC, "10.89.0.50"); err != nil {
		t.Error(err)
	}
}

func TestSetupUndo(t *testing.T) {
	e2e(t)
	host := hostNS(t)
	cfg := Config{StateDir: t.TempDir()}
	pid := startNS(t, host)
	ports := []PortMapping{{HostPort: 8080, ContainerPort: 80}}

	_, err := Setup(cfg, idA, 1<<30, Request{Ports: ports})
	if err == nil || !strings.HasPrefix(err.Error(), "nat: network namespace of pid") {
		t.Errorf("bad pid: %v", err)
	}
	assertGone(t, cfg, idA)

	// A pid in the launcher's own namespace: started there explicitly, and
	// checked before Setup sees it.
	self := exec.Command("nsenter", fmt.Sprintf("--net=/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()), "sleep", "120")
	if err := self.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { self.Process.Kill(); self.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", self.Process.Pid))
		if strings.TrimSpace(string(comm)) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nsenter sleep did not start")
		}
	}
	if ns, err := netns.GetFromPid(self.Process.Pid); err != nil || !ns.Equal(host) {
		t.Fatalf("sleep is not in the test's host namespace (%v)", err)
	} else {
		ns.Close()
	}
	_, err = Setup(cfg, idA, self.Process.Pid, Request{Ports: ports})
	if err == nil || !strings.Contains(err.Error(), "the launcher's own") {
		t.Errorf("pid in the host's namespace: %v", err)
	}
	assertGone(t, cfg, idA)

	for _, step := range []string{"lease", "veth", "ports"} {
		testFailAt = step
		_, err := Setup(cfg, idA, pid, Request{Ports: ports})
		testFailAt = ""
		if err == nil || !strings.Contains(err.Error(), "injected") {
			t.Errorf("failing at %s: %v", step, err)
		}
		assertGone(t, cfg, idA)
		if names := linkNames(t, pid); len(names) != 1 || names[0] != "lo" {
			t.Errorf("after failing at %s the container has %v", step, names)
		}
	}

	// A container whose namespace already has a host0.
	h := nsHandle(t, pid)
	la := netlink.NewLinkAttrs()
	la.Name = "host0"
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
		t.Fatal(err)
	}
	_, err = Setup(cfg, idA, pid, Request{Ports: ports})
	if err == nil || !strings.Contains(err.Error(), "renaming") {
		t.Errorf("host0 taken: %v", err)
	}
	assertGone(t, cfg, idA)
	if names := linkNames(t, pid); len(names) != 2 {
		t.Errorf("after failing to rename: %v", names)
	}
	if l, err := h.LinkByName("host0"); err == nil {
		h.LinkDel(l)
	}

	// And then it works.
	att, err := Setup(cfg, idA, pid, Request{Ports: ports})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Teardown(cfg, idA) })
	if att.IP.String() != "10.89.0.2" {
		t.Errorf("address after the failures: %s", att.IP)
	}
}

// waitGone waits for the kernel to destroy a dead container's namespace,
// and its veth with it.
func waitGone(t *testing.T, name string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := netlink.LinkByName(name); linkNotFound(err) {
			return
		}
	}
	t.Fatalf("%s is still there", name)
}

func TestDeadContainers(t *testing.T) {
	e2e(t)
	host := hostNS(t)
	cfg := Config{StateDir: t.TempDir()}
	kill := func(pid int) {
		p, _ := os.FindProcess(pid)
		p.Kill()
	}

	// gc: Teardown with only the id, after the container died.
	pidA := startNS(t, host)
	if _, err := Setup(cfg, idA, pidA, Request{Ports: []PortMapping{{HostPort: 8080, ContainerPort: 80}}}); err != nil {
		t.Fatal(err)
	}
	kill(pidA)
	waitGone(t, HostVeth(idA))
	if m, _ := Leased(cfg); len(m) != 1 {
		t.Errorf("Leased after A died = %v, want A's lease until gc", m)
	}
	if err := Teardown(cfg, idA); err != nil {
		t.Fatal(err)
	}
	assertGone(t, cfg, idA)

	// A dead container's port and address are taken over by a live one.
	pidB, pidC := startNS(t, host), startNS(t, host)
	attB, err := Setup(cfg, idB, pidB, Request{Ports: []PortMapping{{HostPort: 9090, ContainerPort: 90}}})
	if err != nil {
		t.Fatal(err)
	}
	kill(pidB)
	waitGone(t, HostVeth(idB))
	attC, err := Setup(cfg, idC, pidC, Request{IP: attB.IP, Ports: []PortMapping{{HostPort: 9090, ContainerPort: 90}}})
	if err != nil {
		t.Fatalf("taking over a dead container's port: %v", err)
	}
	t.Cleanup(func() { Teardown(cfg, idC) })
	if attC.IP != attB.IP {
		t.Errorf("C got %s, want %s", attC.IP, attB.IP)
	}
	assertGone(t, cfg, idB)
	if m, _ := Leased(cfg); len(m) != 1 || m[idC] != attC.IP {
		t.Errorf("Leased = %v", m)
	}
	if err := Teardown(cfg, idB); err != nil {
		t.Error(err)
	}
}
