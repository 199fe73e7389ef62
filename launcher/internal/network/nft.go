package network

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// TableName is our nftables table (family ip).
const TableName = "stdcontainer"

var (
	table = &nftables.Table{Family: nftables.TableFamilyIPv4, Name: TableName}

	chainPostrouting = &nftables.Chain{
		Name: "postrouting", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource,
	}
	chainPrerouting = &nftables.Chain{
		Name: "prerouting", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest,
	}
	chainOutput = &nftables.Chain{
		Name: "output", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest,
	}
	chains = []*nftables.Chain{chainPrerouting, chainOutput, chainPostrouting}
)

// No "forward" chain: in nftables an accept in our base chain does not
// override a drop in another table's (every base chain on a hook has its
// say), so an accept-only chain would change nothing on hosts whose forward
// policy is drop.

var loopback = netip.MustParsePrefix("127.0.0.0/8")

// ipsDstNAT is IPS_DST_NAT of linux/netfilter/nf_conntrack_common.h (ct
// status dnat), which x/sys/unix does not define.
const ipsDstNAT = 1 << 5

// comment is rule UserData as nft(8) writes and shows it (comment "...").
func comment(s string) []byte { return userdata.AppendString(nil, userdata.TypeComment, s) }

func ruleComment(r *nftables.Rule) string {
	s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
	return s
}

// staticRule is one of the rules shared by all containers of a subnet,
// found again by its comment.
type staticRule struct {
	chain   *nftables.Chain
	comment string
	exprs   []expr.Any
	first   bool // must come before the per-container rules
}

func staticRules(c config) []staticRule {
	masq := &expr.Masq{}
	return []staticRule{{
		// Containers reach everything outside their subnet under the
		// host's address.
		chain:   chainPostrouting,
		comment: "masquerade " + c.subnet.String(),
		exprs:   cat(matchPrefix(12, c.subnet, expr.CmpOpEq), matchPrefix(16, c.subnet, expr.CmpOpNeq), masq),
	}, {
		// A published port used via 127.0.0.1: the container could not
		// answer 127.0.0.1, so the source becomes the gateway.
		chain:   chainPostrouting,
		comment: "masquerade-loopback " + c.subnet.String(),
		exprs:   cat(matchPrefix(12, loopback, expr.CmpOpEq), matchPrefix(16, c.subnet, expr.CmpOpEq), masq),
	}, {
		// Hairpin: a container using a published port of the host lands
		// on a neighbour, whose answer would go straight back over the
		// bridge, un-NATed, unless the source is the gateway.
		chain:   chainPostrouting,
		comment: "masquerade-hairpin " + c.subnet.String(),
		exprs: cat(matchPrefix(12, c.subnet, expr.CmpOpEq), matchPrefix(16, c.subnet, expr.CmpOpEq),
			&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
				Mask: binaryutil.NativeEndian.PutUint32(ipsDstNAT), Xor: make([]byte, 4)},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
			masq),
	}, {
		// route_localnet on the bridge must not let containers reach the
		// host's 127.0.0.0/8 services (CVE-2020-8558).
		chain:   chainPrerouting,
		comment: "guard-loopback " + c.bridge,
		exprs: cat(
			&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(c.bridge)},
			matchPrefix(16, loopback, expr.CmpOpEq),
			&expr.Verdict{Kind: expr.VerdictDrop}),
		first: true,
	}}
}

// ensureTable creates the table, its chains and the static rules that are
// missing, and returns the connection for the rest of Setup.
func ensureTable(c config) (*nftables.Conn, error) {
	nft, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("nat: nftables: %w", err)
	}
	// Without NLM_F_EXCL these are no-ops when the table and chains exist.
	nft.AddTable(table)
	for _, ch := range chains {
		nft.AddChain(ch)
	}
	if err := nft.Flush(); err != nil {
		return nil, fmt.Errorf("nat: nftables: table %s: %w", TableName, err)
	}
	have := map[string]bool{}
	for _, ch := range []*nftables.Chain{chainPrerouting, chainPostrouting} {
		rules, err := nft.GetRules(table, ch)
		if err != nil {
			return nil, fmt.Errorf("nat: nftables: listing %s: %w", ch.Name, err)
		}
		for _, r := range rules {
			have[ch.Name+"\x00"+ruleComment(r)] = true
		}
	}
	added := false
	for _, s := range staticRules(c) {
		if have[s.chain.Name+"\x00"+s.comment] {
			continue
		}
		r := &nftables.Rule{Table: table, Chain: s.chain, Exprs: s.exprs, UserData: comment(s.comment)}
		if s.first {
			nft.InsertRule(r)
		} else {
			nft.AddRule(r)
		}
		added = true
	}
	if added {
		if err := nft.Flush(); err != nil {
			return nil, fmt.Errorf("nat: nftables: masquerade rules: %w", err)
		}
	}
	return nft, nil
}

// published is a port mapping found in the prerouting chain.
type published struct {
	id string
	PortMapping
}

// listPublished reads the DNAT rules of every container back from the
// prerouting chain: the kernel's rules are the registry of published ports.
func listPublished(nft *nftables.Conn) ([]published, error) {
	rules, err := nft.GetRules(table, chainPrerouting)
	if err != nil {
		return nil, err
	}
	var out []published
	for _, r := range rules {
		id := ruleComment(r)
		if checkID(id) != nil {
			continue // a static rule
		}
		if p, ok := parseDNAT(r.Exprs); ok {
			out = append(out, published{id, p})
		}
	}
	return out, nil
}

// parseDNAT recognizes the expressions dnatExprs makes.
func parseDNAT(exprs []expr.Any) (p PortMapping, ok bool) {
	var loaded string // what the last load put in register 1
	var immediates [][]byte
	for _, e := range exprs {
		switch e := e.(type) {
		case *expr.Meta:
			loaded = ""
			if e.Key == expr.MetaKeyL4PROTO {
				loaded = "proto"
			}
		case *expr.Payload:
			switch {
			case e.Base == expr.PayloadBaseTransportHeader && e.Offset == 2 && e.Len == 2:
				loaded = "dport"
			case e.Base == expr.PayloadBaseNetworkHeader && e.Offset == 16 && e.Len == 4:
				loaded = "daddr"
			default:
				loaded = ""
			}
		case *expr.Cmp:
			switch {
			case e.Op != expr.CmpOpEq:
			case loaded == "proto" && len(e.Data) == 1:
				switch e.Data[0] {
				case unix.IPPROTO_TCP:
					p.Protocol = "tcp"
				case unix.IPPROTO_UDP:
					p.Protocol = "udp"
				}
			case loaded == "dport" && len(e.Data) == 2:
				p.HostPort = binaryutil.BigEndian.Uint16(e.Data)
			case loaded == "daddr" && len(e.Data) == 4:
				p.HostIP = netip.AddrFrom4([4]byte(e.Data))
			}
			loaded = ""
		case *expr.Immediate:
			immediates = append(immediates, e.Data)
		case *expr.NAT:
			if len(immediates) == 2 && len(immediates[1]) == 2 {
				p.ContainerPort = binaryutil.BigEndian.Uint16(immediates[1])
			}
		default:
			loaded = ""
		}
	}
	return p, p.Protocol != "" && p.HostPort != 0
}

// checkPublished refuses host ports that another live container has
// published. A container whose veth is gone is dead (its network namespace
// went with it): its leftovers are removed instead.
func checkPublished(nft *nftables.Conn, c config, id string, ports []PortMapping) error {
	if len(ports) == 0 {
		return nil
	}
	pubs, err := listPublished(nft)
	if err != nil {
		return fmt.Errorf("nat: nftables: listing published ports: %w", err)
	}
	live := map[string]bool{}
	for _, pub := range pubs {
		if pub.id == id {
			continue
		}
		for _, p := range ports {
			if !overlaps(p, pub.PortMapping) {
				continue
			}
			alive, seen := live[pub.id]
			if !seen {
				alive = linkExists(HostVeth(pub.id))
				live[pub.id] = alive
				if !alive {
					if err := teardownLocked(nft, c, pub.id); err != nil {
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

// publish adds the DNAT rules of the container's ports: in prerouting for
// connections from other hosts (and from containers), in output for the
// host's own connections, 127.0.0.1 included.
func publish(nft *nftables.Conn, id string, ip netip.Addr, ports []PortMapping) error {
	for _, p := range ports {
		for _, ch := range []*nftables.Chain{chainPrerouting, chainOutput} {
			nft.AddRule(&nftables.Rule{Table: table, Chain: ch, Exprs: dnatExprs(p, ip), UserData: comment(id)})
		}
	}
	if err := nft.Flush(); err != nil {
		return fmt.Errorf("nat: nftables: publishing ports: %w", err)
	}
	return nil
}

// dnatExprs is
//
//	meta l4proto PROTO th dport HOSTPORT [ip daddr HOSTIP] fib daddr type local dnat to IP:CONTAINERPORT
func dnatExprs(p PortMapping, ip netip.Addr) []expr.Any {
	proto := byte(unix.IPPROTO_TCP)
	if p.Protocol == "udp" {
		proto = unix.IPPROTO_UDP
	}
	e := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(p.HostPort)},
	}
	if p.HostIP.IsValid() {
		e = append(e,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.HostIP.AsSlice()})
	}
	return append(e,
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
		&expr.Immediate{Register: 1, Data: ip.AsSlice()},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(p.ContainerPort)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2},
	)
}

// deleteRules removes every rule whose comment is id; a missing table or
// chain is fine. nft may be nil.
func deleteRules(nft *nftables.Conn, id string) error {
	if nft == nil {
		var err error
		if nft, err = nftables.New(); err != nil {
			return fmt.Errorf("nat: nftables: %w", err)
		}
	}
	existing, err := nft.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return fmt.Errorf("nat: nftables: listing chains: %w", err)
	}
	n := 0
	for _, ch := range existing {
		if ch.Table.Name != TableName {
			continue
		}
		rules, err := nft.GetRules(table, ch)
		if err != nil {
			return fmt.Errorf("nat: nftables: listing %s: %w", ch.Name, err)
		}
		for _, r := range rules {
			if ruleComment(r) != id {
				continue
			}
			r.Table, r.Chain = table, ch
			if err := nft.DelRule(r); err != nil {
				return fmt.Errorf("nat: nftables: %w", err)
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if err := nft.Flush(); err != nil {
		return fmt.Errorf("nat: nftables: deleting the rules of %s: %w", short(id), err)
	}
	return nil
}

// matchPrefix compares the IPv4 address at offset off of the network
// header (12 saddr, 16 daddr) with the prefix.
func matchPrefix(off uint32, p netip.Prefix, op expr.CmpOp) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: net.CIDRMask(p.Bits(), 32), Xor: make([]byte, 4)},
		&expr.Cmp{Op: op, Register: 1, Data: p.Masked().Addr().AsSlice()},
	}
}

// ifname is an interface name as meta iifname compares it.
func ifname(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

// cat flattens expressions and lists of them.
func cat(parts ...any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		switch p := p.(type) {
		case []expr.Any:
			out = append(out, p...)
		case expr.Any:
			out = append(out, p)
		}
	}
	return out
}
