// Package network is "--network nat": one bridge on the host, one veth pair
// per container, an address leased from the bridge's subnet, a masquerade
// for the subnet's outgoing traffic and DNAT rules for published ports.
// There is no daemon: every launcher process runs Setup or Teardown itself,
// in the launcher's own (the host's) network namespace, serialized by a
// flock(2) on the state directory.
//
// Host side, created on first use:
//
//	bridge stdc0 (Config.Bridge), up, with the gateway address (.1 of the subnet)
//	net.ipv4.ip_forward=1
//	net.ipv4.conf.stdc0.route_localnet=1   (published ports on 127.0.0.1)
//	nftables table ip stdcontainer, chains prerouting, output, postrouting
//
// Per container:
//
//	veth ve-<id[:12]> on the bridge; its peer is host0 in the container
//	<StateDir>/network/leases/<ip>        holds the id
//	rules in the table whose comment (rule UserData) is the id
//
// The bridge, the sysctls and the table stay after the last container has
// gone: they cost nothing and other launchers may be using them at the same
// time. To remove them by hand once no container uses them:
//
//	ip link del stdc0
//	nft delete table ip stdcontainer
package network

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// DefaultBridge is the bridge's name when Config.Bridge is empty.
const DefaultBridge = "stdc0"

// DefaultSubnet is the containers' subnet when Config.Subnet is zero.
var DefaultSubnet = netip.MustParsePrefix("10.89.0.0/16")

// ContainerIfname is the container's side of its veth pair.
const ContainerIfname = "host0"

// Config is the host side's shape; zero values mean the documented defaults.
type Config struct {
	Bridge   string       // default "stdc0"
	Subnet   netip.Prefix // default 10.89.0.0/16; the gateway (bridge address) is the first host address (.1)
	StateDir string       // where leases live: <StateDir>/network/ (created 0700); required
}

// PortMapping is one published port (-p [HOSTIP:]HOSTPORT:CONTAINERPORT[/PROTO]).
type PortMapping struct {
	HostIP        netip.Addr // zero = every host address
	HostPort      uint16
	ContainerPort uint16
	Protocol      string // "tcp" or "udp"; "" means tcp
}

// String is the mapping as the -p flag spells it, for error messages.
func (p PortMapping) String() string {
	s := fmt.Sprintf("%d:%d", p.HostPort, p.ContainerPort)
	if p.HostIP.IsValid() {
		s = p.HostIP.String() + ":" + s
	}
	if p.Protocol == "udp" {
		s += "/udp"
	}
	return "-p " + s
}

// Request is what one container asks for.
type Request struct {
	IP    netip.Addr       // zero = next free address; otherwise in the subnet, not the gateway/network/broadcast, and free
	MAC   net.HardwareAddr // nil = derived from the id (see MACFromID)
	Ports []PortMapping
}

// Attachment is what inspect shows.
type Attachment struct {
	IP, Gateway netip.Addr
	PrefixLen   int
	MAC         net.HardwareAddr
	Bridge      string
	HostVeth    string
	Ports       []PortMapping
}

// config is a Config with its defaults applied and checked.
type config struct {
	bridge  string
	subnet  netip.Prefix
	gateway netip.Addr
	dir     string // <StateDir>/network
}

func (c Config) resolve() (config, error) {
	r := config{bridge: c.Bridge, subnet: c.Subnet}
	if r.bridge == "" {
		r.bridge = DefaultBridge
	}
	if len(r.bridge) > 15 || strings.ContainsAny(r.bridge, "/ \t\n:") {
		return r, fmt.Errorf("nat: invalid bridge name %q", r.bridge)
	}
	if !r.subnet.IsValid() {
		r.subnet = DefaultSubnet
	}
	if !r.subnet.Addr().Is4() {
		return r, fmt.Errorf("nat: subnet %s: only IPv4 subnets are supported", r.subnet)
	}
	// A /31 or /32 has no room for a gateway and a container.
	if r.subnet.Bits() > 30 {
		return r, fmt.Errorf("nat: subnet %s is too small", r.subnet)
	}
	r.subnet = r.subnet.Masked()
	r.gateway = r.subnet.Addr().Next()
	if c.StateDir == "" {
		return r, errors.New("nat: no state directory")
	}
	r.dir = filepath.Join(c.StateDir, "network")
	return r, nil
}

// checkID accepts the launcher's ids: hex, at least 12 digits (the veth's
// name and the MAC are made of them).
func checkID(id string) error {
	if len(id) < 12 || len(id) > 128 {
		return fmt.Errorf("nat: invalid container id %q", id)
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return fmt.Errorf("nat: invalid container id %q: not lower-case hex", id)
		}
	}
	return nil
}

// HostVeth is the name of the host side of the container's veth pair.
func HostVeth(id string) string {
	if len(id) > 12 {
		id = id[:12]
	}
	return "ve-" + id
}

// peerTemp is the container side's name while it is still on the host:
// unique per container, unlike host0.
func peerTemp(id string) string {
	return "vc-" + id[:12]
}

// MACFromID is the default MAC of a container: 02 (locally administered,
// unicast) followed by the id's first 10 hex digits.
func MACFromID(id string) (net.HardwareAddr, error) {
	if len(id) < 10 {
		return nil, fmt.Errorf("container id %q is too short for a MAC", id)
	}
	b, err := hex.DecodeString(id[:10])
	if err != nil {
		return nil, fmt.Errorf("container id %q is not hex: %w", id, err)
	}
	return append(net.HardwareAddr{0x02}, b...), nil
}

func checkMAC(mac net.HardwareAddr) error {
	if len(mac) != 6 {
		return fmt.Errorf("nat: MAC %s: not an Ethernet address", mac)
	}
	if mac[0]&1 != 0 {
		return fmt.Errorf("nat: MAC %s: a multicast address", mac)
	}
	if string(mac) == "\x00\x00\x00\x00\x00\x00" {
		return fmt.Errorf("nat: MAC %s: all zero", mac)
	}
	return nil
}

// checkPorts normalizes the request's mappings and refuses ones that
// cannot work or that publish the same host port twice.
func checkPorts(ports []PortMapping) ([]PortMapping, error) {
	out := make([]PortMapping, 0, len(ports))
	for _, p := range ports {
		if p.Protocol == "" {
			p.Protocol = "tcp"
		}
		p.HostIP = p.HostIP.Unmap()
		switch {
		case p.Protocol != "tcp" && p.Protocol != "udp":
			return nil, fmt.Errorf("%s: protocol %q is not tcp or udp", p, p.Protocol)
		case p.HostPort == 0 || p.ContainerPort == 0:
			return nil, fmt.Errorf("%s: port 0 cannot be published", p)
		case p.HostIP.IsValid() && !p.HostIP.Is4():
			return nil, fmt.Errorf("%s: only IPv4 host addresses are supported", p)
		}
		for _, q := range out {
			if overlaps(p, q) {
				return nil, fmt.Errorf("%s: host port %d/%s is published twice", p, p.HostPort, p.Protocol)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// overlaps says whether two mappings would catch the same packets.
func overlaps(a, b PortMapping) bool {
	return a.Protocol == b.Protocol && a.HostPort == b.HostPort &&
		(!a.HostIP.IsValid() || !b.HostIP.IsValid() || a.HostIP == b.HostIP)
}

// testFailAt makes Setup fail at the named step, so that tests can check
// that every step is undone.
var testFailAt string

func failpoint(step string) error {
	if testFailAt == step {
		return fmt.Errorf("nat: %s: injected failure", step)
	}
	return nil
}

// session is what one Setup or Teardown works with: a netlink handle (one
// socket for all its requests, not one per request), our nftables table as
// listed at its start, and the leases as read once.
type session struct {
	c        config
	nl       *netlink.Handle
	rules    *ruleset // nil if listing failed: rulesErr
	rulesErr error
	leases   map[netip.Addr]string // nil until read
}

func newSession(c config) (*session, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("nat: netlink: %w", err)
	}
	s := &session{c: c, nl: h}
	s.rules, s.rulesErr = listRuleset()
	return s, nil
}

func (s *session) close() { s.nl.Close() }

// readLeases reads the lease directory the first time it is asked.
func (s *session) readLeases() (map[netip.Addr]string, error) {
	if s.leases == nil {
		leases, err := readLeases(leaseDir(s.c.dir))
		if err != nil {
			return nil, err
		}
		s.leases = leases
	}
	return s.leases, nil
}

// Setup attaches the container whose PID 1 is pid (in its own, fresh
// network namespace) to the bridge: it ensures the bridge, IP forwarding and
// the nftables table; leases an address; creates the veth pair with its
// peer in the container, where it becomes host0 with the MAC, the address
// and a default route via the gateway; and publishes the ports. On failure
// it undoes what it did for this container (not the shared bridge and
// table) and returns an error naming the step.
func Setup(cfg Config, id string, pid int, req Request) (_ *Attachment, err error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if err := checkID(id); err != nil {
		return nil, err
	}
	if pid <= 0 {
		return nil, fmt.Errorf("nat: invalid pid %d", pid)
	}
	mac := req.MAC
	if mac == nil {
		if mac, err = MACFromID(id); err != nil {
			return nil, fmt.Errorf("nat: %w", err)
		}
	}
	if err := checkMAC(mac); err != nil {
		return nil, err
	}
	ports, err := checkPorts(req.Ports)
	if err != nil {
		return nil, err
	}

	lk, err := lock(c.dir)
	if err != nil {
		return nil, err
	}
	defer lk.unlock()
	s, err := newSession(c)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if s.rulesErr != nil {
		return nil, s.rulesErr
	}

	var undo []func() error
	defer func() {
		if err == nil {
			return
		}
		for i := len(undo) - 1; i >= 0; i-- {
			if uerr := undo[i](); uerr != nil {
				err = fmt.Errorf("%w (and undoing: %v)", err, uerr)
			}
		}
	}()

	// Shared infrastructure: kept on failure, other containers may use it.
	br, err := s.ensureBridge()
	if err != nil {
		return nil, err
	}
	if err := ensureSysctls(c.bridge); err != nil {
		return nil, err
	}
	if err := s.rules.ensureTable(c); err != nil {
		return nil, err
	}
	// Leftovers of this id without its live veth are from a crash or an
	// exit: clear them (a veth still going away with its dead namespace
	// too: its name is needed now). With a live veth, the container is
	// attached already and allocate says so.
	if !s.vethLive(HostVeth(id)) {
		if err := s.teardownLocked(id, true); err != nil {
			return nil, err
		}
	}
	if err := s.checkPublished(id, ports); err != nil {
		return nil, err
	}

	// A lease whose holder's veth is gone (or going, with its namespace) is
	// a dead container's, not yet collected: an explicitly requested
	// address may be taken over.
	stale := func(holder string) bool {
		return checkID(holder) == nil && !s.vethLive(HostVeth(holder)) && s.teardownLocked(holder, false) == nil
	}
	leases, err := s.readLeases()
	if err != nil {
		return nil, fmt.Errorf("nat: lease: %w", err)
	}
	ip, err := allocateFrom(leaseDir(c.dir), leases, c.subnet, req.IP, id, stale)
	if err != nil {
		return nil, fmt.Errorf("nat: lease: %w", err)
	}
	undo = append(undo, func() error { return releaseFrom(leaseDir(c.dir), leases, id) })
	if err := failpoint("lease"); err != nil {
		return nil, err
	}

	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return nil, fmt.Errorf("nat: network namespace of pid %d: %w", pid, err)
	}
	defer ns.Close()
	// Configuring our own namespace as the container's would take the
	// host's default route.
	self, err := netns.Get()
	own := err != nil || self.Equal(ns)
	self.Close()
	if own {
		return nil, fmt.Errorf("nat: network namespace of pid %d: it is the launcher's own (%v)", pid, err)
	}

	hostVeth := HostVeth(id)
	if err := s.createVeth(br, hostVeth, peerTemp(id), mac, ns); err != nil {
		return nil, fmt.Errorf("nat: creating veth %s: %w", hostVeth, err)
	}
	// The container is alive: its side must be gone on return, not when
	// its namespace is.
	undo = append(undo, func() error { return s.removeVeth(hostVeth, true) })
	if err := failpoint("veth"); err != nil {
		return nil, err
	}
	if err := configureContainer(ns, peerTemp(id), netip.PrefixFrom(ip, c.subnet.Bits()), c.gateway); err != nil {
		return nil, err
	}

	if len(ports) > 0 {
		// Listed again: the rules' handles are known only to the kernel.
		undo = append(undo, func() error {
			rs, err := listRuleset()
			if err != nil {
				return err
			}
			return rs.deleteRules(id)
		})
		if err := s.rules.publish(id, ip, ports); err != nil {
			return nil, err
		}
	}
	if err := failpoint("ports"); err != nil {
		return nil, err
	}

	return &Attachment{
		IP:        ip,
		Gateway:   c.gateway,
		PrefixLen: c.subnet.Bits(),
		MAC:       mac,
		Bridge:    c.bridge,
		HostVeth:  hostVeth,
		Ports:     ports,
	}, nil
}

// Teardown removes the container's rules, its veth (if still there: it goes
// with the container's network namespace) and its lease. It needs only the
// id, is idempotent and is safe after a crash half-way through Setup.
//
// A veth whose container's namespace is already being destroyed (the
// container has exited) is left to the kernel, which deletes the pair with
// the namespace in the background: deleting it here would wait 10-25 ms
// for the kernel's RCU callbacks (see removeVeth) for nothing.
func Teardown(cfg Config, id string) error {
	c, err := cfg.resolve()
	if err != nil {
		return err
	}
	if err := checkID(id); err != nil {
		return err
	}
	lk, err := lock(c.dir)
	if err != nil {
		return err
	}
	defer lk.unlock()
	s, err := newSession(c)
	if err != nil {
		return err
	}
	defer s.close()
	return s.teardownLocked(id, false)
}

// teardownLocked is Teardown with the lock held. free says that the veth's
// name must be free on return, even if the kernel is about to delete it.
func (s *session) teardownLocked(id string, free bool) error {
	var errs []error
	if s.rules == nil {
		errs = append(errs, s.rulesErr)
	} else if err := s.rules.deleteRules(id); err != nil {
		errs = append(errs, err)
	}
	if err := s.removeVeth(HostVeth(id), free); err != nil {
		errs = append(errs, fmt.Errorf("nat: deleting %s: %w", HostVeth(id), err))
	}
	// The same for a veth peer stranded on the host by a crash of a
	// launcher that created it there (deleting either end of a pair
	// deletes both).
	if err := s.removeVeth(peerTemp(id), true); err != nil {
		errs = append(errs, fmt.Errorf("nat: deleting %s: %w", peerTemp(id), err))
	}
	leases, err := s.readLeases()
	if err == nil {
		err = releaseFrom(leaseDir(s.c.dir), leases, id)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("nat: lease: %w", err))
	}
	return errors.Join(errs...)
}

// checkPublished refuses host ports that another live container has
// published. A container whose veth is gone, or going with its namespace,
// is dead: its leftovers are removed instead.
func (s *session) checkPublished(id string, ports []PortMapping) error {
	if len(ports) == 0 {
		return nil
	}
	live := map[string]bool{}
	for _, pub := range s.rules.publishedPorts() {
		if pub.id == id {
			continue
		}
		for _, p := range ports {
			if !overlaps(p, pub.PortMapping) {
				continue
			}
			alive, seen := live[pub.id]
			if !seen {
				alive = s.vethLive(HostVeth(pub.id))
				live[pub.id] = alive
				if !alive {
					if err := s.teardownLocked(pub.id, false); err != nil {
						return err
					}
				}
			}
			if alive {
				return fmt.Errorf("%s: host port %d/%s is already published by container %s",
					p, p.HostPort, p.Protocol, short(pub.id))
			}
		}
	}
	return nil
}

// Leased returns the ids holding leases and their addresses, for gc to find
// leases of dead containers.
func Leased(cfg Config) (map[string]netip.Addr, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	lk, err := lock(c.dir)
	if err != nil {
		return nil, err
	}
	defer lk.unlock()
	leases, err := readLeases(leaseDir(c.dir))
	if err != nil {
		return nil, fmt.Errorf("nat: lease: %w", err)
	}
	out := make(map[string]netip.Addr, len(leases))
	for ip, id := range leases {
		out[id] = ip
	}
	return out, nil
}

// linkNotFound says whether err is netlink's "no such link".
func linkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}
