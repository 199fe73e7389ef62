package network

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ensureBridge returns the bridge, creating it on first use, with the
// gateway address, up. What is there already is only read, not set again.
func (s *session) ensureBridge() (netlink.Link, error) {
	c, h := s.c, s.nl
	fail := func(err error) (netlink.Link, error) {
		return nil, fmt.Errorf("nat: bridge %s: %w", c.bridge, err)
	}
	br, err := h.LinkByName(c.bridge)
	if linkNotFound(err) {
		// A fixed MAC: otherwise the bridge takes the lowest of its ports'
		// MACs, which changes as containers come and go and leaves stale
		// ARP entries for the gateway in the containers.
		mac := make(net.HardwareAddr, 6)
		if _, err := rand.Read(mac); err != nil {
			return fail(err)
		}
		mac[0] = mac[0]&^1 | 2
		la := netlink.NewLinkAttrs()
		la.Name = c.bridge
		la.HardwareAddr = mac
		if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
			return fail(fmt.Errorf("creating: %w", err))
		}
		br, err = h.LinkByName(c.bridge)
	}
	if err != nil {
		return fail(err)
	}
	if br.Type() != "bridge" {
		return fail(fmt.Errorf("exists and is a %s, not a bridge", br.Type()))
	}

	addrs, err := h.AddrList(br, netlink.FAMILY_V4)
	if err != nil {
		return fail(err)
	}
	gw := netip.PrefixFrom(c.gateway, c.subnet.Bits())
	have := false
	for _, a := range addrs {
		if a.IPNet != nil && a.IPNet.String() == gw.String() {
			have = true
		}
	}
	if !have {
		addr := &netlink.Addr{IPNet: ipNet(gw)}
		if err := h.AddrAdd(br, addr); err != nil {
			return fail(fmt.Errorf("adding %s: %w", gw, err))
		}
	}
	if br.Attrs().Flags&net.FlagUp == 0 {
		if err := h.LinkSetUp(br); err != nil {
			return fail(fmt.Errorf("bringing up: %w", err))
		}
	}
	return br, nil
}

// ensureSysctls turns on forwarding, and route_localnet on the bridge: a
// connection to 127.0.0.1:HOSTPORT is DNATed to the container and leaves
// through the bridge with its 127.0.0.1 source until the masquerade; the
// kernel refuses that unless route_localnet is set on the bridge (or on
// all interfaces; the bridge is enough, and opens less: guardLoopback drops
// what containers send to 127.0.0.0/8).
func ensureSysctls(bridge string) error {
	for _, s := range []string{
		"net/ipv4/ip_forward",
		"net/ipv4/conf/" + bridge + "/route_localnet",
	} {
		if err := setSysctl(s, "1"); err != nil {
			return fmt.Errorf("nat: sysctl %s: %w", strings.ReplaceAll(s, "/", "."), err)
		}
	}
	return nil
}

// setSysctl writes /proc/sys/<name> unless it already holds value. Under
// /proc/sys/net the file opened is the calling thread's network namespace's.
func setSysctl(name, value string) error {
	p := "/proc/sys/" + name
	if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == value {
		return nil
	}
	return os.WriteFile(p, []byte(value+"\n"), 0o644)
}

// createVeth makes the pair host/peer: the host side on the bridge and up,
// the peer (the container's side, with the container's MAC) created right
// in the container's namespace. Moving it there afterwards, as a device
// created on the host, would wait for the kernel's RCU grace periods
// (dev_change_net_namespace): 10-30 ms here.
func (s *session) createVeth(br netlink.Link, host, peer string, mac net.HardwareAddr, ns netns.NsHandle) error {
	la := netlink.NewLinkAttrs()
	la.Name = host
	la.MasterIndex = br.Attrs().Index
	la.MTU = br.Attrs().MTU
	la.Flags = net.FlagUp
	return s.nl.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: peer, PeerHardwareAddr: mac, PeerNamespace: netlink.NsFd(ns)})
}

// configureContainer renames the peer to host0 in the container's network
// namespace, gives it the address, brings it and lo up and adds the default
// route.
//
// It does so with ioctls on an AF_INET datagram socket made in that
// namespace, not with rtnetlink: a netlink socket is freed only an RCU grace
// period after it is closed (netlink_release), 10-20 ms here, and holds its
// namespace until then. A container that exited sooner would leave its
// namespace, and its veth, alive for Teardown, which would then have to
// delete the veth itself and wait for another grace period doing so (see
// removeVeth). An unbound datagram socket is freed when it is closed.
func configureContainer(ns netns.NsHandle, peer string, addr netip.Prefix, gw netip.Addr) error {
	fd, err := inetSocketAt(ns)
	if err != nil {
		return fmt.Errorf("nat: a socket in the container's network namespace: %w", err)
	}
	defer unix.Close(fd)
	if err := renameLink(fd, peer, ContainerIfname); err != nil {
		return fmt.Errorf("nat: renaming %s to %s: %w", peer, ContainerIfname, err)
	}
	if err := setAddr(fd, ContainerIfname, addr); err != nil {
		return fmt.Errorf("nat: address %s on %s: %w", addr, ContainerIfname, err)
	}
	if err := setUp(fd, ContainerIfname); err != nil {
		return fmt.Errorf("nat: bringing %s up: %w", ContainerIfname, err)
	}
	if err := setUp(fd, "lo"); err != nil {
		return fmt.Errorf("nat: bringing lo up in the container: %w", err)
	}
	if err := addDefaultRoute(fd, gw, ContainerIfname); err != nil {
		return fmt.Errorf("nat: default route via %s: %w", gw, err)
	}
	return nil
}

// inetSocketAt makes an AF_INET datagram socket in the network namespace
// ns (a socket stays in the namespace it was made in), with this thread
// there for the time of the socket(2) call.
func inetSocketAt(ns netns.NsHandle) (int, error) {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return -1, err
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return -1, err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if rerr := netns.Set(orig); rerr != nil {
		// Going on would configure the container's namespace as the
		// host's, or the other way round.
		panic(fmt.Sprintf("nat: cannot return to the launcher's network namespace: %v", rerr))
	}
	runtime.UnlockOSThread()
	return fd, err
}

// renameLink is SIOCSIFNAME: the link must be down.
func renameLink(fd int, name, newname string) error {
	if len(name) >= unix.IFNAMSIZ || len(newname) >= unix.IFNAMSIZ {
		return unix.EINVAL
	}
	var req struct {
		name, newname [unix.IFNAMSIZ]byte
		_             [8]byte // the rest of struct ifreq's union
	}
	copy(req.name[:], name)
	copy(req.newname[:], newname)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCSIFNAME, uintptr(unsafe.Pointer(&req))); errno != 0 {
		return errno
	}
	return nil
}

// setAddr gives the link its IPv4 address and prefix: SIOCSIFADDR (the
// kernel gives the address its class's mask), then SIOCSIFNETMASK, which
// also sets the broadcast address to match. The result is what an
// RTM_NEWADDR of the prefix with its broadcast address makes.
func setAddr(fd int, name string, p netip.Prefix) error {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	ip := p.Addr().As4()
	if err := ifr.SetInet4Addr(ip[:]); err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFADDR, ifr); err != nil {
		return err
	}
	if err := ifr.SetInet4Addr(net.CIDRMask(p.Bits(), 32)); err != nil {
		return err
	}
	return unix.IoctlIfreq(fd, unix.SIOCSIFNETMASK, ifr)
}

func setUp(fd int, name string) error {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// rtentry is struct rtentry of <linux/route.h>, for SIOCADDRT.
type rtentry struct {
	pad1                  uintptr
	dst, gateway, genmask unix.RawSockaddrInet4
	flags                 uint16
	pad2                  int16
	pad3                  uintptr
	pad4                  uintptr
	metric                int16
	dev                   *byte
	mtu, window           uintptr
	irtt                  uint16
}

// addDefaultRoute adds "default via gw dev name" (SIOCADDRT).
func addDefaultRoute(fd int, gw netip.Addr, name string) error {
	dev := append([]byte(name), 0)
	rt := rtentry{
		dst:     unix.RawSockaddrInet4{Family: unix.AF_INET},
		gateway: unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: gw.As4()},
		genmask: unix.RawSockaddrInet4{Family: unix.AF_INET},
		flags:   unix.RTF_UP | unix.RTF_GATEWAY,
		dev:     &dev[0],
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCADDRT, uintptr(unsafe.Pointer(&rt)))
	runtime.KeepAlive(dev)
	if errno != 0 {
		return errno
	}
	return nil
}

// removeVeth deletes a veth pair by the name of its host side, if it is
// there. Deleting a network device makes the call wait for the kernel's
// RCU callbacks (rcu_barrier in netdev_run_todo): 10-25 ms here. A pair
// whose peer's namespace is being destroyed goes with that namespace, in
// the background: it is left to the kernel unless free says that the name
// must be free on return.
func (s *session) removeVeth(name string, free bool) error {
	l, err := s.nl.LinkByName(name)
	if linkNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !free && peerNetnsDying(l) {
		return nil
	}
	// ENODEV: it went with its container's namespace in the meantime.
	if err := s.nl.LinkDel(l); err != nil && !linkNotFound(err) && !errors.Is(err, unix.ENODEV) {
		return err
	}
	return nil
}

// vethLive says whether a container's veth is there with its peer's
// namespace alive, that is whether the container is; when in doubt, yes.
func (s *session) vethLive(name string) bool {
	l, err := s.nl.LinkByName(name)
	if err != nil {
		return !linkNotFound(err)
	}
	return !peerNetnsDying(l)
}

// peerNetnsDying says whether the network namespace of a veth's peer is
// being destroyed: the link still names it by its nsid, but the kernel no
// longer gives that id's namespace out (get_net_ns_by_id refuses one whose
// last reference is gone). On any doubt (no nsid, kernels before 4.20
// without RTM_GETNSID by nsid), no.
func peerNetnsDying(l netlink.Link) bool {
	nsid := l.Attrs().NetNsID
	if nsid < 0 {
		return false
	}
	req := nl.NewNetlinkRequest(unix.RTM_GETNSID, 0)
	req.AddData(nl.NewRtGenMsg())
	req.AddData(nl.NewRtAttr(unix.NETNSA_NSID, nl.Uint32Attr(uint32(nsid))))
	_, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWNSID)
	return errors.Is(err, unix.ENOENT)
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
