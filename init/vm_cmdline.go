package main

// Kernel command line parsing for VM mode: hostname= and ip=.

// kernelParams is what VM mode takes from /proc/cmdline.
type kernelParams struct {
	hostname string // hostname=NAME
	hasIP    bool   // ip= was given (the last one counts)
	ipText   string // its value
	ip       ipConfig
	ipOK     bool // ip parsed
}

// parseCmdline splits the kernel command line as the kernel does (spaces
// separate parameters, double quotes protect spaces) and keeps the last
// hostname= and ip=. It stops at "--": what follows is the init's argv.
func parseCmdline(s string) kernelParams {
	var p kernelParams
	for len(s) > 0 {
		i, quoted := 0, false
		for i < len(s) && (quoted || !isSpace(s[i])) {
			quoted = quoted != (s[i] == '"')
			i++
		}
		key, val, _ := cut(trimQuotes(s[:i]), '=')
		val = trimQuotes(val)
		for s = s[i:]; len(s) > 0 && isSpace(s[0]); {
			s = s[1:]
		}
		switch key {
		case "--":
			return p
		case "hostname":
			p.hostname = val
		case "ip":
			p.hasIP, p.ipText = true, val
		}
	}
	if p.hasIP {
		p.ip, p.ipOK = parseIPParam(p.ipText)
	}
	return p
}

// trimQuotes drops the quotes around "param=value" or value.
func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// ipConfig is a parsed ip= parameter (IPv4 only), in the kernel's format
// (Documentation/admin-guide/nfs/nfsroot.rst):
//
//	ip=CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:DEVICE:AUTOCONF:DNS0:DNS1:NTP0
//
// or AUTOCONF alone (ip=dhcp, ip=off). SERVER, DNS and NTP are ignored.
type ipConfig struct {
	off      bool // ip=off: nothing but lo
	dhcp     bool // the address would come from DHCP: the link is only brought up
	client   [4]byte
	prefix   int     // from NETMASK, else the address's class
	gateway  [4]byte // zero: no default route
	hostname string
	device   string // "": the first Ethernet interface
}

// parseIPParam parses the value of ip=; false means it makes no sense.
// Any autoconf method but off and none counts as DHCP.
func parseIPParam(s string) (c ipConfig, ok bool) {
	var f [7]string
	rest := s
	for i := range f {
		f[i], rest, _ = cut(rest, ':')
	}
	client, gw, mask, auto := f[0], f[2], f[3], f[6]
	if s == client && (s == "" || s[0] < '0' || s[0] > '9') {
		auto, client = s, "" // ip=dhcp, ip=off...
	}
	c.hostname, c.device = f[4], f[5]
	switch {
	case auto == "off" || auto == "none":
		c.off = client == ""
	case client == "" || auto != "" && auto != "on" && auto != "any":
		// The kernel autoconfigures what is missing: without a
		// client address, everything.
		c.dhcp = true
	}
	if c.off || c.dhcp {
		return c, true
	}
	if c.client, ok = parseIPv4(client); !ok {
		return c, false
	}
	if gw != "" {
		if c.gateway, ok = parseIPv4(gw); !ok {
			return c, false
		}
	}
	switch {
	case mask == "":
		c.prefix = 24
		if c.client[0] < 128 {
			c.prefix = 8
		} else if c.client[0] < 192 {
			c.prefix = 16
		}
	default:
		var m [4]byte
		m, ok = parseIPv4(mask)
		v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
		for c.prefix < 32 && v&(1<<(31-c.prefix)) != 0 {
			c.prefix++
		}
		ok = ok && v<<c.prefix == 0 // contiguous ones
	}
	return c, ok
}

// parseIPv4 reads a dotted quad.
func parseIPv4(s string) (a [4]byte, ok bool) {
	for i := range a {
		part, rest, more := cut(s, '.')
		n, ok := atoi(part)
		if !ok || n > 255 || more != (i < 3) {
			return a, false
		}
		a[i], s = byte(n), rest
	}
	return a, true
}
