package cli

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Publish is one -p mapping: HostPort on HostIP (zero = every address) to
// ContainerPort, for Protocol "tcp" or "udp".
type Publish struct {
	HostIP        netip.Addr
	HostPort      uint16
	ContainerPort uint16
	Protocol      string
}

// NetworkOptions are the NAT network's flags.
type NetworkOptions struct {
	Publish    []Publish
	IP         netip.Addr       // --ip, zero = leased
	Subnet     netip.Prefix     // --subnet, zero = the default
	Bridge     string           // --bridge, "" = the default
	MAC        net.HardwareAddr // --mac-address
	DNS        []netip.Addr     // --dns
	ExtraHosts []string         // --add-host as "IP NAME" lines for /etc/hosts
}

func setPublish(b *builder, v string) error {
	spec, proto, hasProto := strings.Cut(v, "/")
	if !hasProto {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" {
		return errors.New("protocol must be tcp or udp")
	}
	p := Publish{Protocol: proto}
	parts := strings.Split(spec, ":")
	if n := len(parts); n > 3 || n < 2 {
		return errors.New("want [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]")
	}
	if len(parts) == 3 {
		ip, err := netip.ParseAddr(parts[0])
		if err != nil || !ip.Is4() {
			return errors.New("HOSTIP must be an IPv4 address")
		}
		p.HostIP, parts = ip, parts[1:]
	}
	for i, dst := range []*uint16{&p.HostPort, &p.ContainerPort} {
		n, err := strconv.ParseUint(parts[i], 10, 16)
		if err != nil || n == 0 {
			return errors.New("ports must be numbers from 1 to 65535")
		}
		*dst = uint16(n)
	}
	opts := b.network()
	for _, o := range opts.Publish {
		if o.HostPort == p.HostPort && o.Protocol == p.Protocol && (o.HostIP == p.HostIP || !o.HostIP.IsValid() || !p.HostIP.IsValid()) {
			return errors.New("host port " + parts[0] + "/" + proto + " is published twice")
		}
	}
	opts.Publish = append(opts.Publish, p)
	return nil
}

func setIP(b *builder, v string) error {
	ip, err := netip.ParseAddr(v)
	if err != nil || !ip.Is4() {
		return errors.New("not an IPv4 address")
	}
	b.network().IP = ip
	return nil
}

func setSubnet(b *builder, v string) error {
	p, err := netip.ParsePrefix(v)
	if err != nil || !p.Addr().Is4() || p.Bits() > 30 || p.Bits() < 8 || p.Masked() != p {
		return errors.New("want an IPv4 network like 10.89.0.0/16 (prefix 8 to 30, host bits zero)")
	}
	b.network().Subnet = p
	return nil
}

func setBridge(b *builder, v string) error {
	if v == "" || len(v) > 15 || strings.ContainsAny(v, "/ \t\n:") {
		return errors.New("want an interface name of 1 to 15 characters")
	}
	b.network().Bridge = v
	return nil
}

func setMAC(b *builder, v string) error {
	mac, err := net.ParseMAC(v)
	if err != nil || len(mac) != 6 || mac[0]&1 != 0 {
		return errors.New("want a unicast Ethernet address like 02:42:ac:11:00:02")
	}
	b.network().MAC = mac
	return nil
}

func setDNS(b *builder, v string) error {
	ip, err := netip.ParseAddr(v)
	if err != nil {
		return errors.New("not an IP address")
	}
	b.network().DNS = append(b.network().DNS, ip)
	return nil
}

func setAddHost(b *builder, v string) error {
	name, addr, ok := strings.Cut(v, ":")
	ip, err := netip.ParseAddr(addr)
	if !ok || name == "" || strings.ContainsAny(name, " \t\n#") || err != nil {
		return errors.New("want NAME:IP")
	}
	b.network().ExtraHosts = append(b.network().ExtraHosts, ip.String()+"\t"+name)
	return nil
}

func (b *builder) network() *NetworkOptions { return &b.run().Net }

// checkNetwork applies the rules between flags: -p implies nat unless
// --network says otherwise, and the NAT options need nat.
func (b *builder) checkNetwork() error {
	r := b.run()
	n := &r.Net
	if r.Network == "" && len(n.Publish) > 0 {
		r.Network = "nat"
	}
	if r.Network != "nat" {
		for flag, set := range map[string]bool{"--publish": len(n.Publish) > 0, "--ip": n.IP.IsValid(),
			"--subnet": n.Subnet.IsValid(), "--bridge": n.Bridge != "", "--mac-address": n.MAC != nil} {
			if set {
				return errors.New(flag + " needs --network nat")
			}
		}
	}
	if n.IP.IsValid() && n.Subnet.IsValid() && !n.Subnet.Contains(n.IP) {
		return errors.New("--ip " + n.IP.String() + ": not in --subnet " + n.Subnet.String())
	}
	return nil
}
