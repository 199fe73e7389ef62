package network

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ensureBridge returns the bridge, creating it on first use, with the
// gateway address, up.
func ensureBridge(c config) (netlink.Link, error) {
	fail := func(err error) (netlink.Link, error) {
		return nil, fmt.Errorf("nat: bridge %s: %w", c.bridge, err)
	}
	br, err := netlink.LinkByName(c.bridge)
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
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
			return fail(fmt.Errorf("creating: %w", err))
		}
		br, err = netlink.LinkByName(c.bridge)
	}
	if err != nil {
		return fail(err)
	}
	if br.Type() != "bridge" {
		return fail(fmt.Errorf("exists and is a %s, not a bridge", br.Type()))
	}

	addrs, err := netlink.AddrList(br, netlink.FAMILY_V4)
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
		if err := netlink.AddrAdd(br, addr); err != nil {
			return fail(fmt.Errorf("adding %s: %w", gw, err))
		}
	}
	if err := netlink.LinkSetUp(br); err != nil {
		return fail(fmt.Errorf("bringing up: %w", err))
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

// createVeth makes the pair host/peer, the host side on the bridge and the
// peer (the container's side) with the container's MAC.
func createVeth(br netlink.Link, host, peer string, mac net.HardwareAddr) error {
	la := netlink.NewLinkAttrs()
	la.Name = host
	la.MasterIndex = br.Attrs().Index
	la.MTU = br.Attrs().MTU
	return netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: peer, PeerHardwareAddr: mac})
}

func moveToNetns(name string, ns netns.NsHandle) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	return netlink.LinkSetNsFd(l, int(ns))
}

// configureContainer renames the peer to host0 in the container's network
// namespace, gives it the address, brings it and lo up and adds the default
// route. A netlink handle bound to that namespace does it without moving
// this thread into it.
func configureContainer(ns netns.NsHandle, peer string, addr netip.Prefix, gw netip.Addr) error {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("nat: netlink in the container: %w", err)
	}
	defer h.Close()
	l, err := h.LinkByName(peer)
	if err != nil {
		return fmt.Errorf("nat: configuring %s: %w", ContainerIfname, err)
	}
	if err := h.LinkSetName(l, ContainerIfname); err != nil {
		return fmt.Errorf("nat: renaming %s to %s: %w", peer, ContainerIfname, err)
	}
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(addr)}); err != nil {
		return fmt.Errorf("nat: address %s on %s: %w", addr, ContainerIfname, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("nat: bringing %s up: %w", ContainerIfname, err)
	}
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("nat: bringing lo up in the container: %w", err)
	}
	route := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: net.IP(gw.AsSlice()), Scope: netlink.SCOPE_UNIVERSE}
	if err := h.RouteAdd(route); err != nil {
		return fmt.Errorf("nat: default route via %s: %w", gw, err)
	}
	return nil
}

func setUp(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	return netlink.LinkSetUp(l)
}

// deleteLink deletes the link if it exists.
func deleteLink(name string) error {
	l, err := netlink.LinkByName(name)
	if linkNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	// ENODEV: it went with its container's namespace in the meantime.
	if err := netlink.LinkDel(l); err != nil && !linkNotFound(err) && !errors.Is(err, unix.ENODEV) {
		return err
	}
	return nil
}

// linkExists says whether the link is there; when in doubt, yes.
func linkExists(name string) bool {
	_, err := netlink.LinkByName(name)
	return !linkNotFound(err)
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
