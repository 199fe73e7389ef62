// Package probe is the init's "RFC probe": run when the init has no payload,
// it reports what the runtime around it provides (Standard Container RFC and
// systemd's Container Interface), one row per feature.
//
// The init has a tight binary budget, so this package imports only os,
// syscall, strconv, strings, errors, io, bytes, unsafe and the project's
// rootfs packages: no fmt, reflect, net or encoding/*. Within those it
// keeps to what the init links anyway: strconv only formats (its parsers'
// *NumError would link strconv.Quote and its Unicode tables), file reads go
// through rawfile, and errors stay bare errnos.
package probe

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/stdcontainer/stdcontainer/init/internal/rawfile"
)

// Host is where the probe looks. Zero values mean the real system.
type Host struct {
	// Root prefixes every file path read (/proc, /sys, /etc, /run); "" means "/".
	// Absolute symlinks inside Root are still resolved against the real "/".
	Root string
	// Args is the init's argv; nil means os.Args.
	Args []string
	// Pid is the init's pid; 0 means os.Getpid().
	Pid int
	// Getenv looks up the init's environment; nil means os.Getenv.
	Getenv func(string) string
	// Links lists network links and default routes; nil means rtnetlink.
	Links func() ([]Link, []Route, error)
	// Kernel is the uname release (e.g. "6.18.44"); "" means syscall.Uname.
	Kernel string
	// Fd3 inspects fd 3 for socket activation; nil means the real fd 3.
	Fd3 func() (isSocket, listening bool)
}

// Row is one probe result.
type Row struct {
	Key      string // one of Keys
	Status   string // Yes, No or NA; yes only on positive evidence
	Evidence string // what was seen; Write keeps it on one line
}

// Statuses a Row may carry.
const (
	Yes = "yes"
	No  = "no"
	NA  = "n/a"
)

// Keys lists every row key in output order.
var Keys = []string{
	"resolv-conf", "os-release", "default-init", "env-file",
	"net-host", "net-private", "net-nat",
	"socket-activation", "unique-id",
	"ns-pid", "ns-mount", "ns-net", "ns-uts", "ns-ipc", "ns-user", "ns-cgroup",
	"cgroup-limits", "mac-security",
}

// prober is the Host with its defaults filled in, plus what several rows
// share and the rows so far.
type prober struct {
	Host

	// The network is read once: net-* and ns-net (old kernels) both use it.
	links  []Link
	routes []Route
	netErr error

	status string // /proc/self/status

	rows []Row
}

// Run probes h and returns one Row per entry of Keys, in that order.
func Run(h Host) []Row {
	p := &prober{Host: h}
	for strings.HasSuffix(p.Root, "/") {
		p.Root = p.Root[:len(p.Root)-1]
	}
	if p.Args == nil {
		p.Args = os.Args
	}
	if p.Pid == 0 {
		p.Pid = os.Getpid()
	}
	if p.Getenv == nil {
		p.Getenv = os.Getenv
	}
	if p.Fd3 == nil {
		p.Fd3 = realFd3
	}
	if p.Kernel == "" {
		p.Kernel = unameRelease()
	}
	if p.Links == nil {
		p.Links = netlinkLinks
	}
	p.links, p.routes, p.netErr = p.Links()
	p.status, _ = p.read("/proc/self/status")

	// Each check adds its rows in Keys order.
	p.rows = make([]Row, 0, len(Keys))
	p.resolvConf()
	p.osRelease()
	p.defaultInit()
	p.envFile()
	p.network()
	p.socketActivation()
	p.uniqueID()
	for _, ns := range namespaces {
		p.namespace(ns)
	}
	p.cgroupLimits()
	p.macSecurity()
	return p.rows
}

// add appends the next row. Its key comes from Keys, so the checks cannot
// emit rows out of order.
//
// go:noinline here and on the other helpers most checks call: inlined, a
// copy of their body (here the append and its write barriers) would land
// in every caller, growing the init by kilobytes.
//
//go:noinline
func (p *prober) add(status, evidence string) {
	p.rows = append(p.rows, Row{Keys[len(p.rows)], status, evidence})
}

// addBool adds a yes or no row.
func (p *prober) addBool(yes bool, evidence string) {
	status := No
	if yes {
		status = Yes
	}
	p.add(status, evidence)
}

// Write prints rows as "KEY\tSTATUS\tEVIDENCE" lines followed by
// "rfc-probe: N/M yes", where N counts yes rows and M rows that are not n/a.
func Write(w io.Writer, rows []Row) error {
	var b []byte
	yes, applicable := 0, 0
	for i := range rows {
		r := &rows[i]
		switch r.Status {
		case Yes:
			yes++
			fallthrough
		case No:
			applicable++
		}
		for f, s := range [...]string{r.Key, r.Status, r.Evidence} {
			// Evidence may quote file contents: to keep the output
			// contract, control characters (tabs, newlines) become
			// spaces and empty becomes "-".
			if s = trim(s); s == "" {
				s = "-"
			}
			for j := 0; j < len(s); j++ {
				c := s[j]
				if c < ' ' || c == 0x7f {
					c = ' '
				}
				b = append(b, c)
			}
			b = append(b, "\t\t\n"[f])
		}
	}
	b = append(b, "rfc-probe: "...)
	b = strconv.AppendInt(b, int64(yes), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(applicable), 10)
	b = append(b, " yes\n"...)
	_, err := w.Write(b)
	return err
}

// read returns the content of an absolute in-container path under Root.
// Errors are bare errnos (rawfile's), whose text needs no path stripped.
//
//go:noinline
func (p *prober) read(name string) (string, error) {
	data, err := rawfile.Read(p.Root + name)
	return string(data), err
}

// line returns the first line of a file, trimmed: what the one-value files
// (/proc/sys, /run/host, attr/current) hold.
func (p *prober) line(name string) (string, error) {
	s, err := p.read(name)
	s, _ = nextLine(s)
	return trim(s), err
}

// clip bounds values copied from the environment or files, cutting on a
// UTF-8 boundary, so one odd value cannot swamp a row.
//
//go:noinline
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}

// ASCII-only text helpers: the files read here are ASCII, and strings'
// Unicode-aware Fields/TrimSpace/Split cost the init more bytes. Blanks are
// all control characters and space, which also drops the NUL SELinux ends
// its label with.

func isSpace(c byte) bool { return c <= ' ' }

func trim(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// squeeze trims s and collapses each run of blanks inside it to one
// space, or to " ; " when the run spans a line break: "NSpid:\t3488\t1"
// reads "3488 1" (so the first field ends at ' '), and a file of several
// lines reads "line 1 ; line 2".
//
//go:noinline
func squeeze(s string) string {
	b := make([]byte, 0, len(s))
	sep := ""
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\n':
			sep = " ; "
		case isSpace(c):
			if sep == "" {
				sep = " "
			}
		default:
			if len(b) > 0 {
				b = append(b, sep...)
			}
			b, sep = append(b, c), ""
		}
	}
	return string(b)
}

// nextLine splits off the first line of s.
func nextLine(s string) (line, rest string) {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// parseUint parses an unsigned decimal (base 10) or hex (base 16) number
// without sign or prefix; see the package comment for why not strconv.
func parseUint(s string, base uint64) (uint64, bool) {
	var n uint64
	for i := 0; i < len(s); i++ {
		d := uint64(s[i] - '0')
		if c := s[i] | 0x20; base == 16 && c >= 'a' && c <= 'f' {
			d = uint64(c-'a') + 10
		}
		if d >= base || n > (1<<64-1-d)/base {
			return 0, false // not a digit, or overflow
		}
		n = n*base + d
	}
	return n, s != ""
}
