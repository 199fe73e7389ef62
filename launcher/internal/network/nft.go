package network

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

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

// The process's nftables socket. Closing a NETLINK_NETFILTER socket makes
// the kernel finish freeing the last ruleset transaction first
// (nft_rcv_nl_event flushes nf_tables' destroy work, which waits for an RCU
// grace period): 10-20 ms after a commit, which a socket per call paid in
// every Setup and Teardown. So the socket is opened once and kept for the
// life of the process: `launcher run` sets up and tears down on the same
// one, and the wait, if any, moves to the process's exit (after the
// container has run, usually long enough for the grace period to be over).
//
// A socket belongs to the network namespace it was opened in; the one kept
// is for the calling thread's namespace and is replaced when that changes
// (tests move threads between namespaces; the launcher never does).
var nftShared struct {
	sync.Mutex
	ns   [2]uint64 // st_dev, st_ino of the namespace conn was opened in
	conn *nftables.Conn
}

// nftConn returns the kept socket for the calling thread's network
// namespace, opening it if need be.
func nftConn() (*nftables.Conn, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return nil, fmt.Errorf("nat: nftables: %w", err)
	}
	ns := [2]uint64{st.Dev, st.Ino}
	nftShared.Lock()
	defer nftShared.Unlock()
	if nftShared.conn != nil && nftShared.ns == ns {
		return nftShared.conn, nil
	}
	if old := nftShared.conn; old != nil {
		nftShared.conn = nil
		go old.CloseLasting() // may wait for a grace period, see above
	}
	conn, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return nil, fmt.Errorf("nat: nftables: %w", err)
	}
	nftShared.ns, nftShared.conn = ns, conn
	return conn, nil
}

// dropNFT forgets the kept socket after an error: a Conn keeps a
// serialization error for good, and a failed exchange may leave replies
// unread on the socket.
func dropNFT(conn *nftables.Conn) {
	nftShared.Lock()
	defer nftShared.Unlock()
	if nftShared.conn == conn {
		nftShared.conn = nil
		go conn.CloseLasting()
	}
}

// ruleset is our table as one Setup or Teardown found it: its chains and
// their rules, listed once (a dump per chain, no transaction) and kept up
// to date by the changes made through it, instead of listing the table
// again for each question.
type ruleset struct {
	nft    *nftables.Conn
	chains map[string]*nftables.Chain // our table's chains by name
	rules  []*nftables.Rule           // theirs, Chain set
}

func listRuleset() (*ruleset, error) {
	nft, err := nftConn()
	if err != nil {
		return nil, err
	}
	rs := &ruleset{nft: nft, chains: map[string]*nftables.Chain{}}
	existing, err := nft.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		dropNFT(nft)
		return nil, fmt.Errorf("nat: nftables: listing chains: %w", err)
	}
	for _, ch := range existing {
		if ch.Table.Name != TableName {
			continue
		}
		ch.Table = table
		rs.chains[ch.Name] = ch
		rules, err := nft.GetRules(table, ch)
		if err != nil {
			dropNFT(nft)
			return nil, fmt.Errorf("nat: nftables: listing %s: %w", ch.Name, err)
		}
		for _, r := range rules {
			r.Table, r.Chain = table, ch
		}
		rs.rules = append(rs.rules, rules...)
	}
	return rs, nil
}

// flush commits what was queued on the socket, as one transaction.
func (rs *ruleset) flush() error {
	err := rs.nft.Flush()
	if err != nil {
		dropNFT(rs.nft)
	}
	return err
}

// sameChain says whether an existing chain is the base chain we want.
func sameChain(have, want *nftables.Chain) bool {
	return have.Type == want.Type && have.Hooknum != nil && *have.Hooknum == *want.Hooknum &&
		have.Priority != nil && *have.Priority == *want.Priority
}

// ensureTable creates the table, its chains and the static rules that are
// missing, in one transaction, and makes none when nothing is missing:
// re-adding what exists is accepted by the kernel but is still a
// transaction, whose clean-up a socket's close then waits for (see
// nftShared).
func (rs *ruleset) ensureTable(c config) error {
	queued := false
	if len(rs.chains) == 0 {
		// Without NLM_F_EXCL a no-op if the table exists without chains.
		rs.nft.AddTable(table)
		queued = true
	}
	for _, ch := range chains {
		// A chain of ours that is not the one we want is added again: the
		// kernel refuses that and Setup says so, rather than go on with
		// a table that does not work.
		if have := rs.chains[ch.Name]; have == nil || !sameChain(have, ch) {
			rs.nft.AddChain(ch)
			queued = true
		}
	}
	have := map[string]bool{}
	for _, r := range rs.rules {
		have[r.Chain.Name+"\x00"+ruleComment(r)] = true
	}
	for _, s := range staticRules(c) {
		if have[s.chain.Name+"\x00"+s.comment] {
			continue
		}
		r := &nftables.Rule{Table: table, Chain: s.chain, Exprs: s.exprs, UserData: comment(s.comment)}
		if s.first {
			rs.nft.InsertRule(r)
		} else {
			rs.nft.AddRule(r)
		}
		queued = true
	}
	if !queued {
		return nil
	}
	if err := rs.flush(); err != nil {
		return fmt.Errorf("nat: nftables: table %s: %w", TableName, err)
	}
	for _, ch := range chains {
		if rs.chains[ch.Name] == nil {
			rs.chains[ch.Name] = ch
		}
	}
	return nil
}

// published is a port mapping found in the prerouting chain.
type published struct {
	id string
	PortMapping
}

// publishedPorts reads the DNAT rules of every container back from the
// prerouting chain: the kernel's rules are the registry of published ports.
func (rs *ruleset) publishedPorts() []published {
	var out []published
	for _, r := range rs.rules {
		if r.Chain.Name != chainPrerouting.Name {
			continue
		}
		id := ruleComment(r)
		if checkID(id) != nil {
			continue // a static rule
		}
		if p, ok := parseDNAT(r.Exprs); ok {
			out = append(out, published{id, p})
		}
	}
	return out
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

// publish adds the DNAT rules of the container's ports, in one
// transaction: in prerouting for connections from other hosts (and from
// containers), in output for the host's own connections, 127.0.0.1
// included.
func (rs *ruleset) publish(id string, ip netip.Addr, ports []PortMapping) error {
	for _, p := range ports {
		for _, ch := range []*nftables.Chain{chainPrerouting, chainOutput} {
			rs.nft.AddRule(&nftables.Rule{Table: table, Chain: ch, Exprs: dnatExprs(p, ip), UserData: comment(id)})
		}
	}
	if err := rs.flush(); err != nil {
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

// deleteRules removes every rule of the table whose comment is id, in one
// transaction, and none if there are none.
func (rs *ruleset) deleteRules(id string) error {
	var keep []*nftables.Rule
	n := 0
	for _, r := range rs.rules {
		if ruleComment(r) != id {
			keep = append(keep, r)
			continue
		}
		if err := rs.nft.DelRule(r); err != nil {
			dropNFT(rs.nft) // the rules queued so far must not be sent later
			return fmt.Errorf("nat: nftables: %w", err)
		}
		n++
	}
	if n == 0 {
		return nil
	}
	if err := rs.flush(); err != nil {
		return fmt.Errorf("nat: nftables: deleting the rules of %s: %w", short(id), err)
	}
	rs.rules = keep
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
