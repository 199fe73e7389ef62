package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

func TestParseCmdline(t *testing.T) {
	for _, tc := range []struct {
		cmdline        string
		hostname, ip   string
		hasIP, ipValid bool
	}{
		{"console=ttyS0 quiet\n", "", "", false, false},
		{"BOOT_IMAGE=/vmlinuz hostname=vm1 ro", "vm1", "", false, false},
		{"hostname=a hostname=b", "b", "", false, false}, // the last one counts
		{"ip=dhcp hostname=h", "h", "dhcp", true, true},
		{"  ip=10.0.2.15::10.0.2.2:255.255.255.0:vm:eth0:off  console=ttyS0", "", "10.0.2.15::10.0.2.2:255.255.255.0:vm:eth0:off", true, true},
		{`"hostname=with space" x`, "with space", "", false, false},
		{`hostname="quoted" ip="10.1.2.3"`, "quoted", "10.1.2.3", true, true},
		{"ip=1.2.3 x", "", "1.2.3", true, false},
		{"ip= hostname=", "", "", true, true},
		{"rdinit=/sbin/init -- hostname=init-arg ip=off", "", "", false, false}, // the init's argv
		{"xhostname=no iphone=no", "", "", false, false},
		{"", "", "", false, false},
	} {
		p := parseCmdline(tc.cmdline)
		if p.hostname != tc.hostname || p.ipText != tc.ip || p.hasIP != tc.hasIP || p.ipOK != tc.ipValid {
			t.Errorf("parseCmdline(%q) = hostname %q ip %q (given %v, valid %v); want %q %q (%v, %v)",
				tc.cmdline, p.hostname, p.ipText, p.hasIP, p.ipOK, tc.hostname, tc.ip, tc.hasIP, tc.ipValid)
		}
	}
}

func TestParseIPParam(t *testing.T) {
	ok := func(c ipConfig) ipConfig { return c }
	for _, tc := range []struct {
		in   string
		want ipConfig
		bad  bool
	}{
		{in: "off", want: ipConfig{off: true}},
		{in: "none", want: ipConfig{off: true}},
		{in: "dhcp", want: ipConfig{dhcp: true}},
		{in: "on", want: ipConfig{dhcp: true}},
		{in: "", want: ipConfig{dhcp: true}},
		{in: "10.0.2.15::10.0.2.2:255.255.255.0:vm:eth0:off", want: ok(ipConfig{
			client: [4]byte{10, 0, 2, 15}, gateway: [4]byte{10, 0, 2, 2}, prefix: 24, hostname: "vm", device: "eth0"})},
		{in: "192.168.7.2::192.168.7.1:255.255.255.252::ens3:none", want: ipConfig{
			client: [4]byte{192, 168, 7, 2}, gateway: [4]byte{192, 168, 7, 1}, prefix: 30, device: "ens3"}},
		{in: "10.0.0.9:10.0.0.1::255.255.0.0", want: ipConfig{client: [4]byte{10, 0, 0, 9}, prefix: 16}},
		{in: "10.0.0.9:::255.255.255.255:::off", want: ipConfig{client: [4]byte{10, 0, 0, 9}, prefix: 32}},
		{in: "10.0.0.9:::0.0.0.0:::off", want: ipConfig{client: [4]byte{10, 0, 0, 9}, prefix: 0}},
		// No netmask: the address's class, like the kernel.
		{in: "10.1.2.3", want: ipConfig{client: [4]byte{10, 1, 2, 3}, prefix: 8}},
		{in: "172.16.0.5::172.16.0.1", want: ipConfig{client: [4]byte{172, 16, 0, 5}, gateway: [4]byte{172, 16, 0, 1}, prefix: 16}},
		{in: "192.168.1.5:::::eth1:on", want: ipConfig{client: [4]byte{192, 168, 1, 5}, prefix: 24, device: "eth1"}},
		// No client address, or a DHCP-like method: DHCP.
		{in: ":::::eth0:dhcp", want: ipConfig{dhcp: true, device: "eth0"}},
		{in: "::::myhost:eth0:off", want: ipConfig{off: true, hostname: "myhost", device: "eth0"}},
		{in: "10.0.0.2::10.0.0.1:255.0.0.0:h:eth0:dhcp", want: ipConfig{dhcp: true, hostname: "h", device: "eth0"}},
		{in: "10.0.0.2::10.0.0.1:255.0.0.0:h:eth0:bootp:8.8.8.8", want: ipConfig{dhcp: true, hostname: "h", device: "eth0"}},
		{in: "10.0.2.15::10.0.2.2:255.255.255.0:vm:eth0:off:1.1.1.1:9.9.9.9:ntp", want: ipConfig{
			client: [4]byte{10, 0, 2, 15}, gateway: [4]byte{10, 0, 2, 2}, prefix: 24, hostname: "vm", device: "eth0"}},
		{in: "10.0.2.256", bad: true},
		{in: "10.0.2", bad: true},
		{in: "10.0.2.1.5", bad: true},
		{in: "10.0.2.15::10.0.2.x", bad: true},
		{in: "10.0.2.15:::255.0.255.0", bad: true},
		{in: "10.0.2.15:::24", bad: true}, // not the kernel's syntax
		{in: "10.0.2.15:::-1.0.0.0", bad: true},
		{in: "1.2.3.4.:::::", bad: true},
	} {
		got, ok := parseIPParam(tc.in)
		if ok == tc.bad {
			t.Errorf("parseIPParam(%q): ok = %v", tc.in, ok)
			continue
		}
		if !tc.bad && got != tc.want {
			t.Errorf("parseIPParam(%q) = %+v; want %+v", tc.in, got, tc.want)
		}
	}
}

// wireOf is what the init writes for request m.
func wireOf[T linkRequest | addrRequest | routeRequest](m T) []byte {
	return bytes.Clone(wire((*syscall.NlMsghdr)(unsafe.Pointer(&m))))
}

// ne is netlink's host byte order.
var ne = binary.NativeEndian

// nlBytes assembles a netlink message the slow way: header, fixed part,
// then attributes given as (type, value) pairs.
func nlBytes(typ, flags uint16, seq uint32, fixed []byte, attrs ...any) []byte {
	body := append([]byte(nil), fixed...)
	for i := 0; i < len(attrs); i += 2 {
		val := attrs[i+1].([]byte)
		body = ne.AppendUint16(body, uint16(4+len(val)))
		body = ne.AppendUint16(body, attrs[i].(uint16))
		body = append(body, val...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	b := ne.AppendUint32(nil, uint32(16+len(body)))
	b = ne.AppendUint16(b, typ)
	b = ne.AppendUint16(b, flags)
	b = ne.AppendUint32(b, seq)
	b = ne.AppendUint32(b, 0)
	return append(b, body...)
}

func TestNetlinkRequests(t *testing.T) {
	const (
		req    = syscall.NLM_F_REQUEST
		ack    = syscall.NLM_F_ACK
		create = req | ack | syscall.NLM_F_CREATE | syscall.NLM_F_EXCL
	)
	ifinfo := func(index int32, flags, change uint32) []byte {
		b := []byte{syscall.AF_UNSPEC, 0, 0, 0}
		b = ne.AppendUint32(b, uint32(index))
		b = ne.AppendUint32(b, flags)
		return ne.AppendUint32(b, change)
	}
	idx := ne.AppendUint32(nil, 7)
	for _, tc := range []struct {
		name string
		got  []byte
		want []byte
	}{
		{"dump", wireOf(linksDump()),
			nlBytes(syscall.RTM_GETLINK, req|syscall.NLM_F_DUMP, 0, ifinfo(0, 0, 0))},
		{"link up", wireOf(linkUp(7)),
			nlBytes(syscall.RTM_NEWLINK, req|ack, 0, ifinfo(7, syscall.IFF_UP, syscall.IFF_UP))},
		{"address /24", wireOf(addAddr(7, [4]byte{10, 0, 2, 15}, 24)),
			nlBytes(syscall.RTM_NEWADDR, create, 0, append([]byte{syscall.AF_INET, 24, 0, 0}, idx...),
				uint16(syscall.IFA_LOCAL), []byte{10, 0, 2, 15},
				uint16(syscall.IFA_ADDRESS), []byte{10, 0, 2, 15},
				uint16(syscall.IFA_BROADCAST), []byte{10, 0, 2, 255})},
		{"address /20", wireOf(addAddr(7, [4]byte{172, 16, 33, 4}, 20)),
			nlBytes(syscall.RTM_NEWADDR, create, 0, append([]byte{syscall.AF_INET, 20, 0, 0}, idx...),
				uint16(syscall.IFA_LOCAL), []byte{172, 16, 33, 4},
				uint16(syscall.IFA_ADDRESS), []byte{172, 16, 33, 4},
				uint16(syscall.IFA_BROADCAST), []byte{172, 16, 47, 255})},
		{"address /32", wireOf(addAddr(7, [4]byte{192, 0, 2, 1}, 32)),
			nlBytes(syscall.RTM_NEWADDR, create, 0, append([]byte{syscall.AF_INET, 32, 0, 0}, idx...),
				uint16(syscall.IFA_LOCAL), []byte{192, 0, 2, 1},
				uint16(syscall.IFA_ADDRESS), []byte{192, 0, 2, 1},
				uint16(syscall.IFA_BROADCAST), []byte{192, 0, 2, 1})},
		{"default route", wireOf(addDefaultRoute(7, [4]byte{10, 0, 2, 2})),
			nlBytes(syscall.RTM_NEWROUTE, create, 0,
				[]byte{syscall.AF_INET, 0, 0, 0, syscall.RT_TABLE_MAIN, 3 /* RTPROT_BOOT */, syscall.RT_SCOPE_UNIVERSE, syscall.RTN_UNICAST, 0, 0, 0, 0},
				uint16(syscall.RTA_GATEWAY), []byte{10, 0, 2, 2},
				uint16(syscall.RTA_OIF), idx)},
	} {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s:\n got % x\nwant % x", tc.name, tc.got, tc.want)
		}
	}
}

func TestParseLink(t *testing.T) {
	msg := func(typ uint16, index int32, flags uint32, attrs ...any) []byte {
		fixed := []byte{0, 0}
		fixed = ne.AppendUint16(fixed, typ)
		fixed = ne.AppendUint32(fixed, uint32(index))
		fixed = ne.AppendUint32(fixed, flags)
		fixed = ne.AppendUint32(fixed, 0)
		return nlBytes(syscall.RTM_NEWLINK, 0, 0, fixed, attrs...)[16:]
	}
	for _, tc := range []struct {
		d    []byte
		want netLink
	}{
		{msg(syscall.ARPHRD_ETHER, 2, syscall.IFF_UP|syscall.IFF_BROADCAST,
			uint16(syscall.IFLA_MTU), ne.AppendUint32(nil, 1500), uint16(syscall.IFLA_IFNAME), []byte("eth0\x00")),
			netLink{index: 2, name: "eth0", ether: true}},
		{msg(772 /* ARPHRD_LOOPBACK */, 1, syscall.IFF_LOOPBACK, uint16(syscall.IFLA_IFNAME), []byte("lo\x00")),
			netLink{index: 1, name: "lo", loopback: true}},
		{msg(syscall.ARPHRD_ETHER, 3, 0), netLink{index: 3, ether: true}},
		// A truncated attribute ends the list; a short message is no link.
		{append(msg(776, 4, 0), 200, 0, 3, 0, 'x'), netLink{index: 4}},
		{[]byte{1, 2, 3}, netLink{}},
	} {
		// Netlink messages start 4-aligned in the read buffer.
		buf := make([]byte, len(tc.d))
		copy(buf, tc.d)
		if got := parseLink(buf); got != tc.want {
			t.Errorf("parseLink(% x) = %+v; want %+v", tc.d, got, tc.want)
		}
	}
}

// TestRtnlDo runs requests against a fake kernel on a socket pair: acks,
// errors, dumps spread over several datagrams, and answers to an earlier
// request, which are skipped.
func TestRtnlDo(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	r := &rtnl{fd: fds[0], buf: make([]byte, 32<<10)}
	link := func(index int32) []byte {
		fixed := ne.AppendUint16([]byte{0, 0}, syscall.ARPHRD_ETHER)
		fixed = ne.AppendUint32(fixed, uint32(index))
		fixed = append(fixed, make([]byte, 8)...)
		return fixed
	}
	errMsg := func(seq uint32, errno int32) []byte {
		return nlBytes(syscall.NLMSG_ERROR, 0, seq, append(ne.AppendUint32(nil, uint32(errno)), make([]byte, 16)...))
	}
	kernel := func(replies ...[]byte) {
		for _, b := range replies {
			if _, err := syscall.Write(fds[1], b); err != nil {
				t.Error(err)
			}
		}
	}

	up := linkUp(3)
	kernel(errMsg(0, -int32(syscall.ENODEV)) /* stale */, errMsg(1, 0))
	if err := r.do(&up.NlMsghdr, nil); err != nil {
		t.Errorf("ack: %v", err)
	}
	kernel(errMsg(2, -int32(syscall.EEXIST)))
	if err := r.do(&up.NlMsghdr, nil); err != syscall.EEXIST {
		t.Errorf("error: %v, want EEXIST", err)
	}
	var got []int32
	dump := linksDump()
	kernel(append(nlBytes(syscall.RTM_NEWLINK, syscall.NLM_F_MULTI, 3, link(1)), nlBytes(syscall.RTM_NEWLINK, syscall.NLM_F_MULTI, 3, link(2))...),
		nlBytes(syscall.RTM_NEWLINK, syscall.NLM_F_MULTI, 3, link(5)),
		nlBytes(syscall.NLMSG_DONE, syscall.NLM_F_MULTI, 3, []byte{0, 0, 0, 0}))
	if err := r.do(&dump.NlMsghdr, func(d []byte) { got = append(got, parseLink(d).index) }); err != nil || len(got) != 3 || got[2] != 5 {
		t.Errorf("dump: %v %v", got, err)
	}
	// What the fake kernel read: three requests numbered 1, 2, 3.
	buf := make([]byte, 4096)
	for seq := uint32(1); seq <= 3; seq++ {
		n, err := syscall.Read(fds[1], buf)
		if err != nil || n < 16 || ne.Uint32(buf[8:]) != seq || int(ne.Uint32(buf)) != n {
			t.Errorf("request %d: % x %v", seq, buf[:n], err)
		}
	}
	kernel(append(ne.AppendUint32(nil, 40), make([]byte, 12)...)) // a length beyond the datagram
	if err := r.do(&up.NlMsghdr, nil); err != syscall.EBADMSG {
		t.Errorf("garbage: %v, want EBADMSG", err)
	}
}

// TestSetupNetworkInNamespace applies ip= for real, in a network namespace
// of the test's own thread with a veth pair in it.
func TestSetupNetworkInNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The thread stays locked: it ends with the goroutine, and the
		// namespace with it.
		runtime.LockOSThread()
		if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
			t.Errorf("unshare: %v", err)
			return
		}
		ip := func(args ...string) string {
			out, err := exec.Command("ip", args...).CombinedOutput()
			if err != nil {
				t.Errorf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			return string(out)
		}

		// No Ethernet interface yet: lo comes up all the same.
		if note := setupNetwork(parseCmdline("ip=dhcp")); note != "ip=dhcp: no Ethernet interface" {
			t.Errorf("without Ethernet: %q", note)
		}
		if out := ip("-o", "link", "show", "lo"); !strings.Contains(out, "UP") {
			t.Errorf("lo is not up: %s", out)
		}

		ip("link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
		ip("link", "set", "peer0", "up")
		if note := setupNetwork(parseCmdline("ip=:::::eth0:dhcp")); note != "eth0 is up; DHCP is not supported" {
			t.Errorf("dhcp: %q", note)
		}
		if out := ip("-o", "-4", "addr", "show", "dev", "eth0"); strings.TrimSpace(out) != "" {
			t.Errorf("dhcp gave eth0 an address: %s", out)
		}
		const param = "10.99.7.2::10.99.7.1:255.255.255.0:vm:eth0:off"
		for i := 0; i < 2; i++ { // twice: what is there already is fine
			if note := setupNetwork(parseCmdline("console=ttyS0 ip=" + param)); note != "eth0 configured from ip="+param {
				t.Errorf("static, run %d: %q", i, note)
			}
		}
		if out := ip("-o", "-4", "addr", "show", "dev", "eth0"); !strings.Contains(out, "inet 10.99.7.2/24 brd 10.99.7.255") {
			t.Errorf("eth0 address: %s", out)
		}
		if out := ip("-4", "route", "show", "default"); !strings.Contains(out, "default via 10.99.7.1 dev eth0") {
			t.Errorf("default route: %q", out)
		}
		if out := ip("-o", "link", "show", "eth0"); !strings.Contains(out, ",UP") {
			t.Errorf("eth0 is not up: %s", out)
		}
		if note := setupNetwork(parseCmdline("ip=10.99.8.2:::255.255.255.0::nope0:off")); note != "ip=10.99.8.2:::255.255.255.0::nope0:off: no Ethernet interface" {
			t.Errorf("a missing device: %q", note)
		}
		if note := setupNetwork(parseCmdline("ip=10.99.7.300")); note != "bad ip=10.99.7.300" {
			t.Errorf("a bad ip=: %q", note)
		}
	}()
	<-done
}

// TestVMHostname: hostname=, then ip='s HOSTNAME, then /etc/hostname, then
// ours. (The /etc/hostname step reads the real file; it is checked only
// when that is absent or when hostname= decides.)
func TestVMHostname(t *testing.T) {
	if got := vmHostname(parseCmdline("hostname=a ip=::::b::off")); got != "a" {
		t.Errorf("hostname= first: %q", got)
	}
	if got := vmHostname(parseCmdline("ip=::::b::off")); got != "b" {
		t.Errorf("then ip=: %q", got)
	}
	if _, err := os.Stat("/etc/hostname"); os.IsNotExist(err) {
		if got := vmHostname(parseCmdline("")); got != defaultVMHostname {
			t.Errorf("default: %q", got)
		}
	}
}

// TestKernelInitNotInContainers: this test process is not PID 1, but the
// check itself must say no under $container whatever the namespace.
func TestKernelInitNotInContainers(t *testing.T) {
	t.Setenv("container", "podman")
	if kernelInit() {
		t.Error("kernelInit with $container set")
	}
}
