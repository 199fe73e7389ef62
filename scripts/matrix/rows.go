package main

import (
	"strings"

	"github.com/stdcontainer/stdcontainer/init/probe"
)

// Row is one row of the RFC's support matrix and how its cells are judged.
type Row struct {
	Name string // as the RFC names it
	Key  string // the probe row it reads (one of probe.Keys)
	How  string // how a cell is judged, printed with the matrix
}

// Network types, as runtimes are asked for them and as the probe names its
// net-* rows.
const (
	NetHost    = "host"
	NetPrivate = "private"
	NetNAT     = "nat"
)

// netKey is the probe row of a network type.
func netKey(typ string) string { return "net-" + typ }

// Rows are the RFC matrix's rows, in its order.
var Rows = []Row{
	{"resolv.conf", "resolv-conf", "probe"},
	{"os-release", "os-release", "probe"},
	{"/sbin/init default", "default-init", "probe, in runs given no command; no when the runtime cannot run one without a command (it was given /sbin/init)"},
	{"EnvironmentFile", "env-file", "probe: STDC_PROBE_ENV comes only from the env file passed with the runtime's env-file option"},
	{"NAT networking", netKey(NetNAT), "probe, in the runtime's NAT run: a default route through a virtual link"},
	{"private networking", netKey(NetPrivate), "probe, in the runtime's private run: only loopback"},
	{"host networking", netKey(NetHost), "the host run's net namespace inode (probe's ns-net evidence) equals the one the runtime was started in: the probe's own test needs a physical link, which the throwaway namespace has not"},
	{"socket activation", "socket-activation", "probe: the runtime is started socket-activated (a listening unix socket as fd 3, LISTEN_FDS=1, LISTEN_PID=its pid), or given its own option (launcher --listen)"},
	{"unique container id", "unique-id", "probe"},
	{"network namespace", "ns-net", "probe"},
	{"filesystem namespace", "ns-mount", "probe"},
	{"process namespace", "ns-pid", "probe"},
	{"user namespace", "ns-user", "probe, in the run with the runtime's user-namespace option"},
	{"cgroups", "cgroup-limits", "probe: runs set memory, swap, CPU, pids and IO limits with the runtime's options"},
	{"MAC-based security", "mac-security", "probe's evidence, re-judged: seccomp, no_new_privs, an LSM label, or a bounding set smaller than the caller's own (the probe compares with the full set, which this host's root lacks)"},
}

func init() {
	// Every row must name a probe row: a renamed probe row fails here, in
	// the unit tests, rather than as an empty column.
	for _, r := range Rows {
		found := false
		for _, k := range probe.Keys {
			found = found || k == r.Key
		}
		if !found {
			panic("matrix: row " + r.Name + " reads unknown probe row " + r.Key)
		}
	}
}

// isNetRow tells the three networking rows, which are n/a for a runtime
// without that network type, from the RFC's promises, which are no.
func isNetRow(key string) bool { return strings.HasPrefix(key, "net-") }
