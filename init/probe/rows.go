package probe

import (
	"strconv"
	"strings"
	"syscall"

	"github.com/stdcontainer/stdcontainer/rootfs/layout"
	"github.com/stdcontainer/stdcontainer/rootfs/osrelease"
)

// resolvConf: the image's or the runtime's /etc/resolv.conf must be readable.
func (p *prober) resolvConf() {
	s, err := p.read(layout.ResolvConf)
	if err != nil {
		p.add(No, layout.ResolvConf+": "+err.Error())
		return
	}
	ev, n := "present, no nameserver lines", 0
	for s != "" {
		var line string
		line, s = nextLine(s)
		if addr, ok := strings.CutPrefix(squeeze(line), "nameserver "); ok {
			// glibc uses at most 3; a fourth shows there are more.
			if n++; n == 1 {
				ev = "nameserver"
			}
			if n <= 4 {
				addr, _, _ = strings.Cut(addr, " ")
				ev += " " + clip(addr, 64)
			}
		}
	}
	if n > 4 {
		ev += " (" + strconv.Itoa(n) + " in all)"
	}
	p.add(Yes, ev)
}

// osRelease follows os-release(5): /etc/os-release, else /usr/lib/os-release.
func (p *prober) osRelease() {
	name := layout.OSRelease
	s, err := p.read(name)
	if err == syscall.ENOENT {
		name = "/usr/lib/os-release"
		if s, err = p.read(name); err == syscall.ENOENT {
			p.add(No, layout.OSRelease+" and "+name+" missing")
			return
		}
	}
	if err != nil {
		p.add(No, name+": "+err.Error())
		return
	}
	release, err := osrelease.Parse(name, []byte(s))
	if err != nil {
		p.add(No, err.Error())
		return
	}
	if len(release) == 0 {
		p.add(No, name+": no fields")
		return
	}
	for _, k := range [...]string{"PRETTY_NAME", "NAME", "ID"} {
		if v := release.Get(k); v != "" {
			p.add(Yes, name+": "+k+"=\""+clip(v, 80)+"\"")
			return
		}
	}
	p.add(Yes, name+": "+strconv.Itoa(len(release))+" fields, no PRETTY_NAME/NAME/ID")
}

// defaultInit: the RFC's default entry point is "/sbin/init" with no
// arguments, as PID 1.
func (p *prober) defaultInit() {
	argv0 := "(none)"
	if len(p.Args) > 0 {
		argv0 = clip(p.Args[0], 80)
	}
	p.addBool(len(p.Args) == 1 && p.Args[0] == layout.Init && p.Pid == 1,
		"argv0="+argv0+" argc="+strconv.Itoa(len(p.Args))+" pid="+strconv.Itoa(p.Pid))
}

// envFile: STDC_PROBE_ENV only reaches us through an environment file
// (layout.Env or the runtime's --env-file), so its presence proves one was read.
func (p *prober) envFile() {
	if v := p.Getenv("STDC_PROBE_ENV"); v != "" {
		p.add(Yes, "STDC_PROBE_ENV="+clip(v, 80))
		return
	}
	p.add(No, "STDC_PROBE_ENV unset; set it in "+layout.Env+" or the runtime's env file")
}

// socketActivation follows sd_listen_fds(3): the sockets start at fd 3 and
// are ours only when LISTEN_PID names us.
func (p *prober) socketActivation() {
	lpid, lfds := p.Getenv("LISTEN_PID"), p.Getenv("LISTEN_FDS")
	if lpid == "" {
		p.add(No, "LISTEN_PID unset")
		return
	}
	if n, ok := parseUint(lpid, 10); !ok || n != uint64(p.Pid) {
		p.add(No, "LISTEN_PID="+clip(lpid, 20)+" is not our pid "+strconv.Itoa(p.Pid))
		return
	}
	if n, ok := parseUint(lfds, 10); !ok || n < 1 {
		p.add(No, "LISTEN_FDS="+clip(lfds, 20)+", want >= 1")
		return
	}
	ev := "LISTEN_FDS=" + lfds
	if names := p.Getenv("LISTEN_FDNAMES"); names != "" {
		ev += " LISTEN_FDNAMES=" + clip(names, 80)
	}
	isSock, listening := p.Fd3()
	switch {
	case !isSock:
		ev += " but fd 3 is not a socket"
	case !listening:
		ev += " but fd 3 is not listening"
	default:
		ev += " fd 3 listening"
	}
	p.addBool(isSock && listening, ev)
}

// realFd3 inspects the first sd_listen_fds socket.
func realFd3() (isSocket, listening bool) { return fdState(3) }

// fdState looks at fd without touching it (no accept, no close).
func fdState(fd int) (isSocket, listening bool) {
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return false, false
	}
	v, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN)
	return true, err == nil && v == 1
}

// uniqueID: systemd's Container Interface passes the uuid in $container_uuid
// or /run/host/container-uuid.
func (p *prober) uniqueID() {
	yes, ev := true, ""
	if v := trim(p.Getenv("container_uuid")); v != "" {
		ev = clip(v, 64) + " from $container_uuid"
	} else if v, err := p.line(layout.ContainerUUID); err != nil {
		yes, ev = false, "$container_uuid unset, "+layout.ContainerUUID+": "+err.Error()
	} else if v != "" {
		ev = clip(v, 64) + " from " + layout.ContainerUUID
	} else {
		yes, ev = false, "$container_uuid unset, "+layout.ContainerUUID+" empty"
	}
	// The manager is context, not evidence of a uuid.
	if v := p.Getenv("container"); v != "" {
		ev += "; container=" + clip(v, 40)
	} else if v, _ := p.line(layout.ContainerManager); v != "" {
		ev += "; " + layout.ContainerManager + "=" + clip(v, 40)
	}
	p.addBool(yes, ev)
}
