package probe

import (
	"strconv"
	"syscall"
	"unsafe"
)

// Link is a network interface as rtnetlink reports it.
type Link struct {
	Index    int
	Name     string
	Kind     string // IFLA_INFO_KIND: "veth", "bridge", "macvlan", ...; "" for a device driver (physical, virtio)
	Up       bool   // IFF_UP
	Loopback bool   // IFF_LOOPBACK or ARPHRD_LOOPBACK
}

// Route is a default route (destination length 0) of the main table.
type Route struct {
	Family  int    // syscall.AF_INET or syscall.AF_INET6
	Dev     int    // Link.Index of the output device
	Gateway string // "" when the route has no gateway
}

// Network types, in row order.
const (
	netHost    = "host"
	netPrivate = "private"
	netNAT     = "nat"
)

// network classifies the visible network and adds the net-host,
// net-private and net-nat rows: the observed type says yes, the others n/a.
//
// A non-loopback link without a kind is a device driver's (physical,
// virtio): only the host's namespace has those, so that means host. Else a
// default route through a virtual link (veth, macvlan, ipvlan, tun...)
// means a runtime-provided, NATed or bridged network. Else the container
// only has loopback (or virtual links going nowhere): private.
func (p *prober) network() {
	typ, ev := "", ""
	if p.netErr != nil {
		ev = "netlink: " + p.netErr.Error()
	} else {
		typ, ev = classify(p.links, p.routes)
	}
	for _, t := range [...]string{netHost, netPrivate, netNAT} {
		switch typ {
		case t:
			p.add(Yes, ev)
		case "":
			p.add(No, ev)
		default:
			p.add(NA, "network is "+typ)
		}
	}
}

// maxLinks bounds the links named in the evidence.
const maxLinks = 8

// classify applies the rules documented on network and says why.
func classify(links []Link, routes []Route) (typ, evidence string) {
	physical, nat := false, false
	ev := "no links"
	for i := range links {
		l := &links[i] // a pointer: copying Link costs the init bytes
		// "eth0(device)", "lo(loopback)", "ifb0(ifb,down)"
		kind := l.Kind
		switch {
		case l.Loopback:
			kind = "loopback"
		case kind == "":
			kind, physical = "device", true
		}
		if !l.Up && !l.Loopback {
			kind += ",down"
		}
		switch {
		case i == 0:
			ev = "links"
			fallthrough
		case i < maxLinks:
			ev += " " + clip(l.Name, 20) + "(" + kind + ")"
		case i == maxLinks:
			ev += " (" + strconv.Itoa(len(links)) + " in all)" // keep the line short
		}
	}
	sep := "; "
	for _, r := range routes {
		var l *Link
		for i := range links {
			if links[i].Index == r.Dev {
				l = &links[i]
			}
		}
		if l == nil {
			continue // the link vanished between the two dumps
		}
		ev += sep + "default"
		if r.Gateway != "" {
			ev += " via " + r.Gateway
		}
		ev += " dev " + l.Name
		sep = ", "
		nat = nat || !l.Loopback && l.Kind != ""
	}
	if sep == "; " {
		ev += "; no default route"
	}
	switch {
	case physical:
		return netHost, ev
	case nat:
		return netNAT, ev
	}
	return netPrivate, ev
}

// rtnetlink constants syscall does not export.
const (
	iflaLinkInfo = 18 // IFLA_LINKINFO
	iflaInfoKind = 1  // IFLA_INFO_KIND, nested in IFLA_LINKINFO
	rtaTable     = 15 // RTA_TABLE
	rtaMultipath = 9  // RTA_MULTIPATH
	rtTableMain  = 254
	rtnUnicast   = 1
	nlaTypeMask  = 0x3fff // strips NLA_F_NESTED / NLA_F_NET_BYTEORDER
	arphrdLoop   = 772    // ARPHRD_LOOPBACK
)

// netlinkLinks dumps the links, then the routes, over one rtnetlink socket.
// Both requests use AF_UNSPEC: for routes that dumps every family, so IPv4
// and IPv6 (when enabled) come in one go. It is syscall.NetlinkRIB without
// the sockaddr machinery: write(2) on an unbound netlink socket already
// talks to the kernel. Errors are bare errnos.
func netlinkLinks() (links []Link, routes []Route, err error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
	if err != nil {
		return nil, nil, err
	}
	buf := make([]byte, 64<<10) // dumps come in datagrams of at most 32 KiB
	for _, typ := range [...]uint16{syscall.RTM_GETLINK, syscall.RTM_GETROUTE} {
		if err != nil {
			break
		}
		// The request type doubles as the sequence number.
		req := struct {
			syscall.NlMsghdr
			family uint8 // struct rtgenmsg
		}{NlMsghdr: syscall.NlMsghdr{Len: syscall.NLMSG_HDRLEN + 1, Type: typ,
			Flags: syscall.NLM_F_REQUEST | syscall.NLM_F_DUMP, Seq: uint32(typ)}}
		_, err = syscall.Write(fd, (*[syscall.NLMSG_HDRLEN + 1]byte)(unsafe.Pointer(&req))[:])
		for done := false; err == nil && !done; {
			var n int
			if n, err = syscall.Read(fd, buf); err != nil {
				break
			}
			// struct nlmsghdr {u32 len, u16 type, u16 flags, u32 seq, u32 pid}, 4-aligned.
			for b := buf[:n]; len(b) >= syscall.NLMSG_HDRLEN; {
				l, mt := int(get32(b)), get16(b[4:])
				if l < syscall.NLMSG_HDRLEN || l > len(b) {
					err = syscall.EBADMSG
					break
				}
				m := b[syscall.NLMSG_HDRLEN:l]
				switch {
				case get32(b[8:]) != uint32(typ):
					// not our request's answer
				case mt == syscall.NLMSG_DONE:
					done = true
				case mt == syscall.NLMSG_ERROR:
					err = syscall.EINVAL
					if len(m) >= 4 && int32(get32(m)) < 0 {
						err = syscall.Errno(-int32(get32(m)))
					}
				default:
					if l, ok := parseLink(mt, m); ok {
						links = append(links, l)
					}
					routes = parseRoute(mt, m, routes)
				}
				b = b[min(align4(l), len(b)):]
			}
		}
	}
	syscall.Close(fd)
	if err != nil {
		return nil, nil, err
	}
	return links, routes, nil
}

// parseLink decodes an RTM_NEWLINK message: struct ifinfomsg
// {u8 family, u8 pad, u16 type, i32 index, u32 flags, u32 change} + attributes.
func parseLink(typ uint16, d []byte) (Link, bool) {
	if typ != syscall.RTM_NEWLINK || len(d) < syscall.SizeofIfInfomsg {
		return Link{}, false
	}
	flags := get32(d[8:])
	l := Link{
		Index:    int(int32(get32(d[4:]))),
		Up:       flags&syscall.IFF_UP != 0,
		Loopback: flags&syscall.IFF_LOOPBACK != 0 || get16(d[2:]) == arphrdLoop,
	}
	for b := d[syscall.SizeofIfInfomsg:]; len(b) > 0; {
		t, v, rest := nextAttr(b)
		b = rest
		switch t {
		case syscall.IFLA_IFNAME:
			l.Name = cString(v)
		case iflaLinkInfo:
			for len(v) > 0 {
				var k uint16
				var kv []byte
				if k, kv, v = nextAttr(v); k == iflaInfoKind {
					l.Kind = cString(kv)
				}
			}
		}
	}
	return l, true
}

// parseRoute appends to out the routes an RTM_NEWROUTE message holds if it
// is a unicast default route of the main table: struct rtmsg {u8 family,
// dst_len, src_len, tos, table, protocol, scope, type; u32 flags} +
// attributes. A multipath route yields one Route per next hop.
func parseRoute(typ uint16, d []byte, out []Route) []Route {
	if typ != syscall.RTM_NEWROUTE || len(d) < syscall.SizeofRtMsg || d[1] != 0 || d[7] != rtnUnicast {
		return out
	}
	family, table := int(d[0]), uint32(d[4])
	r := Route{Family: family, Dev: -1}
	var hops []byte
	for b := d[syscall.SizeofRtMsg:]; len(b) > 0; {
		t, v, rest := nextAttr(b)
		b = rest
		switch {
		case len(v) < 4:
			// none of ours
		case t == rtaTable: // tables above 255 only appear here
			table = get32(v)
		case t == syscall.RTA_OIF:
			r.Dev = int(int32(get32(v)))
		case t == syscall.RTA_GATEWAY:
			r.Gateway = formatIP(v)
		case t == rtaMultipath:
			hops = v
		}
	}
	if table != rtTableMain {
		return out
	}
	if r.Dev >= 0 {
		out = append(out, r)
	}
	// struct rtnexthop {u16 len, u8 flags, u8 hops, i32 ifindex} + attributes
	// is framed like an attribute whose value starts with the ifindex.
	for len(hops) > 0 {
		_, v, rest := nextAttr(hops)
		if hops = rest; len(v) < 4 {
			break
		}
		hop := Route{Family: family, Dev: int(int32(get32(v)))}
		for a := v[4:]; len(a) > 0; {
			t, g, rest := nextAttr(a)
			if a = rest; t == syscall.RTA_GATEWAY {
				hop.Gateway = formatIP(g)
			}
		}
		out = append(out, hop)
	}
	return out
}

// nextAttr splits the first attribute {u16 len, u16 type, value}, padded
// to 4 bytes, off b. A malformed one ends the list: rest is nil.
//
//go:noinline
func nextAttr(b []byte) (typ uint16, val, rest []byte) {
	if len(b) < 4 {
		return 0, nil, nil
	}
	n := int(get16(b))
	if n < 4 || n > len(b) {
		return 0, nil, nil
	}
	return get16(b[2:]) & nlaTypeMask, b[4:n], b[min(align4(n), len(b)):]
}

func align4(n int) int { return (n + 3) &^ 3 }

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Netlink speaks host byte order and aligns every header, attribute and
// field it has here to its size within a message, and messages start
// 4-aligned in buffers make allocates 8-aligned. So a plain load reads a
// field, on any architecture, without encoding/binary (off the budget).
func get16(b []byte) uint16 {
	_ = b[1]
	return *(*uint16)(unsafe.Pointer(&b[0]))
}

func get32(b []byte) uint32 {
	_ = b[3]
	return *(*uint32)(unsafe.Pointer(&b[0]))
}

// formatIP renders a 4- or 16-byte address (net is off the budget). IPv6
// uses the longest run of two or more zero groups as "::", like RFC 5952.
func formatIP(b []byte) string {
	var s []byte
	switch len(b) {
	case 4:
		for i, c := range b {
			if i > 0 {
				s = append(s, '.')
			}
			s = strconv.AppendUint(s, uint64(c), 10)
		}
		return string(s)
	case 16:
	default:
		return "?"
	}
	best, bestLen := -1, 2 // byte offset and length of the run
	for i := 0; i < 16; i += 2 {
		j := i
		for j < 16 && b[j]|b[j+1] == 0 {
			j += 2
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
	}
	for i := 0; i < 16; i += 2 {
		if i == best {
			s = append(s, "::"...)
			i += bestLen - 2
			continue
		}
		if len(s) > 0 && s[len(s)-1] != ':' {
			s = append(s, ':')
		}
		s = strconv.AppendUint(s, uint64(b[i])<<8|uint64(b[i+1]), 16)
	}
	return string(s)
}
