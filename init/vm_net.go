package main

// VM mode's network: lo up, and the kernel's ip= parameter applied to one
// Ethernet interface, over raw rtnetlink. Requests are fixed-layout
// structs sent as they are in memory (netlink speaks host byte order):
// a netlink library would cost more than the init's budget.

import (
	"syscall"
	"unsafe"
)

const rtprotBoot = 3 // RTPROT_BOOT: what `ip route add` and the kernel's own ip= use

// netLink is one interface of a link dump.
type netLink struct {
	index    int32
	name     string
	ether    bool // ARPHRD_ETHER
	loopback bool
}

// attr4 is a 4-byte attribute: IPv4 addresses, interface indexes.
type attr4 struct {
	syscall.RtAttr
	val [4]byte
}

func newAttr4(typ uint16, val [4]byte) attr4 {
	return attr4{syscall.RtAttr{Len: syscall.SizeofRtAttr + 4, Type: typ}, val}
}

// linkRequest dumps links or changes one: RTM_GETLINK, RTM_NEWLINK.
type linkRequest struct {
	syscall.NlMsghdr
	syscall.IfInfomsg
}

// addrRequest adds an IPv4 address with its broadcast address (`brd +`).
type addrRequest struct {
	syscall.NlMsghdr
	syscall.IfAddrmsg
	local, address, broadcast attr4
}

// routeRequest adds a default route through a gateway.
type routeRequest struct {
	syscall.NlMsghdr
	syscall.RtMsg
	gateway, oif attr4
}

const createFlags = syscall.NLM_F_REQUEST | syscall.NLM_F_ACK | syscall.NLM_F_CREATE | syscall.NLM_F_EXCL

func linksDump() linkRequest {
	return linkRequest{NlMsghdr: syscall.NlMsghdr{Len: uint32(unsafe.Sizeof(linkRequest{})),
		Type: syscall.RTM_GETLINK, Flags: syscall.NLM_F_REQUEST | syscall.NLM_F_DUMP}}
}

func linkUp(index int32) linkRequest {
	return linkRequest{
		NlMsghdr: syscall.NlMsghdr{Len: uint32(unsafe.Sizeof(linkRequest{})),
			Type: syscall.RTM_NEWLINK, Flags: syscall.NLM_F_REQUEST | syscall.NLM_F_ACK},
		IfInfomsg: syscall.IfInfomsg{Index: index, Flags: syscall.IFF_UP, Change: syscall.IFF_UP},
	}
}

func addAddr(index int32, a [4]byte, prefix int) addrRequest {
	brd := a
	host := ^uint32(0) >> prefix
	for i := range brd {
		brd[i] |= byte(host >> (24 - 8*i))
	}
	return addrRequest{
		NlMsghdr:  syscall.NlMsghdr{Len: uint32(unsafe.Sizeof(addrRequest{})), Type: syscall.RTM_NEWADDR, Flags: createFlags},
		IfAddrmsg: syscall.IfAddrmsg{Family: syscall.AF_INET, Prefixlen: uint8(prefix), Index: uint32(index)},
		local:     newAttr4(syscall.IFA_LOCAL, a),
		address:   newAttr4(syscall.IFA_ADDRESS, a),
		broadcast: newAttr4(syscall.IFA_BROADCAST, brd),
	}
}

func addDefaultRoute(index int32, gw [4]byte) routeRequest {
	oif := *(*[4]byte)(unsafe.Pointer(&index))
	return routeRequest{
		NlMsghdr: syscall.NlMsghdr{Len: uint32(unsafe.Sizeof(routeRequest{})), Type: syscall.RTM_NEWROUTE, Flags: createFlags},
		RtMsg: syscall.RtMsg{Family: syscall.AF_INET, Table: syscall.RT_TABLE_MAIN, Protocol: rtprotBoot,
			Scope: syscall.RT_SCOPE_UNIVERSE, Type: syscall.RTN_UNICAST},
		gateway: newAttr4(syscall.RTA_GATEWAY, gw),
		oif:     newAttr4(syscall.RTA_OIF, oif),
	}
}

// wire is a request's bytes: h heads a struct whose length h.Len says.
func wire(h *syscall.NlMsghdr) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(h)), h.Len)
}

// parseLink decodes an RTM_NEWLINK message's payload (struct ifinfomsg and
// attributes); index 0 means it is too short. Netlink aligns every field
// to its size and the read buffer is 8-aligned: plain loads read them.
func parseLink(d []byte) (l netLink) {
	if len(d) < syscall.SizeofIfInfomsg {
		return l
	}
	ifi := (*syscall.IfInfomsg)(unsafe.Pointer(&d[0]))
	l = netLink{index: ifi.Index, ether: ifi.Type == syscall.ARPHRD_ETHER, loopback: ifi.Flags&syscall.IFF_LOOPBACK != 0}
	for b := d[syscall.SizeofIfInfomsg:]; len(b) >= syscall.SizeofRtAttr; {
		a := (*syscall.RtAttr)(unsafe.Pointer(&b[0]))
		n := int(a.Len)
		if n < syscall.SizeofRtAttr || n > len(b) {
			break
		}
		if a.Type == syscall.IFLA_IFNAME {
			v := b[syscall.SizeofRtAttr:n]
			for len(v) > 0 && v[len(v)-1] == 0 {
				v = v[:len(v)-1]
			}
			l.name = string(v)
		}
		b = b[min((n+3)&^3, len(b)):]
	}
	return l
}

// rtnl is a route netlink socket.
type rtnl struct {
	fd  int
	seq uint32
	buf []byte
}

// do sends the request h heads and reads until its ack or the end of its
// dump, passing each RTM_NEWLINK answer's payload to link. Errors are the
// kernel's errnos.
func (r *rtnl) do(h *syscall.NlMsghdr, link func([]byte)) error {
	r.seq++
	h.Seq = r.seq
	if _, err := syscall.Write(r.fd, wire(h)); err != nil {
		return err
	}
	for {
		n, err := syscall.Read(r.fd, r.buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for b := r.buf[:n]; len(b) >= syscall.NLMSG_HDRLEN; {
			m := (*syscall.NlMsghdr)(unsafe.Pointer(&b[0]))
			l := int(m.Len)
			if l < syscall.NLMSG_HDRLEN || l > len(b) {
				return syscall.EBADMSG
			}
			d := b[syscall.NLMSG_HDRLEN:l]
			switch {
			case m.Seq != r.seq:
			case m.Type == syscall.NLMSG_DONE:
				return nil
			case m.Type == syscall.NLMSG_ERROR:
				// struct nlmsgerr starts with the errno; 0 acks.
				if len(d) < 4 {
					return syscall.EBADMSG
				}
				if e := *(*int32)(unsafe.Pointer(&d[0])); e < 0 {
					return syscall.Errno(-e)
				}
				return nil
			case m.Type == syscall.RTM_NEWLINK && link != nil:
				link(d)
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}
}

// setupNetwork brings lo up and applies ip= to its interface. It returns
// what to say on the console, "" for nothing: nothing here stops a boot.
func setupNetwork(p kernelParams) string {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
	if err != nil {
		return "netlink: " + errnoMessage(err)
	}
	defer syscall.Close(fd)
	r := &rtnl{fd: fd, buf: make([]byte, 32<<10)}
	var lo, eth netLink
	dump := linksDump()
	err = r.do(&dump.NlMsghdr, func(d []byte) {
		switch l := parseLink(d); {
		case l.loopback:
			lo = l
		case eth.index == 0 && (p.ip.device == "" && l.ether || p.ip.device == l.name):
			eth = l
		}
	})
	if err == nil {
		up := linkUp(lo.index)
		err = r.do(&up.NlMsghdr, nil)
	}
	if err != nil {
		return "lo: " + errnoMessage(err)
	}
	c := &p.ip
	switch {
	case !p.hasIP || c.off:
		return ""
	case !p.ipOK:
		return "bad ip=" + p.ipText
	case eth.index == 0:
		return "ip=" + p.ipText + ": no Ethernet interface"
	}
	up := linkUp(eth.index)
	err = r.do(&up.NlMsghdr, nil)
	if err == nil && c.dhcp {
		return eth.name + " is up; DHCP is not supported"
	}
	if err == nil {
		addr := addAddr(eth.index, c.client, c.prefix)
		err = r.do(&addr.NlMsghdr, nil)
	}
	if (err == nil || err == syscall.EEXIST) && c.gateway != [4]byte{} {
		route := addDefaultRoute(eth.index, c.gateway)
		err = r.do(&route.NlMsghdr, nil)
	}
	if err != nil && err != syscall.EEXIST {
		return "ip=" + p.ipText + ": " + eth.name + ": " + errnoMessage(err)
	}
	return eth.name + " configured from ip=" + p.ipText
}
