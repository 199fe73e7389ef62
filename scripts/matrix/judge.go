package main

import (
	"slices"
	"strconv"
	"strings"

	"github.com/stdcontainer/stdcontainer/init/probe"
)

// Run is one start of the image under a runtime and what its probe said.
type Run struct {
	Network string      `json:"network"` // NetHost, NetPrivate or NetNAT
	UserNS  bool        `json:"userns"`  // the runtime's user-namespace option was given
	Command []string    `json:"command"`
	Rows    []probe.Row `json:"rows,omitempty"`
	Error   string      `json:"error,omitempty"` // the run failed or its output did not parse
	Output  string      `json:"-"`
}

// Label names a run in evidence: "private", "private+userns".
func (r *Run) Label() string {
	if r.UserNS {
		return r.Network + "+userns"
	}
	return r.Network
}

func (r *Run) row(key string) (probe.Row, bool) {
	i := slices.IndexFunc(r.Rows, func(x probe.Row) bool { return x.Key == key })
	if i < 0 {
		return probe.Row{}, false
	}
	return r.Rows[i], true
}

// Column is one runtime's measurements.
type Column struct {
	Runtime  string   `json:"runtime"`
	Version  string   `json:"version"`
	Networks []string `json:"networks"` // the network types it offers
	// Lacks maps a probe row to why the runtime cannot be given that
	// feature (no env-file option, no default command, no limits).
	Lacks map[string]string `json:"lacks,omitempty"`
	Runs  []Run             `json:"runs"`
}

// Cell is one judged cell.
type Cell struct {
	Status   string `json:"status"` // probe.Yes, probe.No or probe.NA
	Evidence string `json:"evidence"`
}

// Host is what some judgements compare with: the namespace the runtimes
// were started in and the caller's own capability bounding set.
type Host struct {
	NetInode string `json:"net_inode"`
	CapBnd   string `json:"capbnd"`
}

// Judge fills in one cell. See Legend for what yes, no and n/a mean.
func Judge(row Row, col *Column, host Host) Cell {
	if isNetRow(row.Key) && !slices.Contains(col.Networks, strings.TrimPrefix(row.Key, "net-")) {
		return Cell{probe.NA, "no " + strings.TrimPrefix(row.Key, "net-") + " networking mode"}
	}
	if why := col.Lacks[row.Key]; why != "" {
		return Cell{probe.No, why}
	}
	var first *Cell
	for i := range col.Runs {
		run := &col.Runs[i]
		if !relevant(row, run) {
			continue
		}
		c := judgeRun(row, run, host)
		if c.Status == probe.Yes {
			return c
		}
		if first == nil {
			first = &c
		}
	}
	if first == nil {
		return Cell{probe.No, "no run exercised it"}
	}
	first.Status = probe.No // a probe n/a (another network type seen) is a no here
	return *first
}

// relevant tells whether run can show row: a network row only in the run
// of its type, the user namespace only in the run that asked for one.
func relevant(row Row, run *Run) bool {
	switch {
	case isNetRow(row.Key):
		return !run.UserNS && netKey(run.Network) == row.Key
	case row.Key == "ns-user":
		return run.UserNS
	}
	return true
}

// judgeRun reads one run's probe row; Evidence names the run.
func judgeRun(row Row, run *Run, host Host) Cell {
	if run.Error != "" {
		return Cell{probe.No, run.Label() + ": " + run.Error}
	}
	if row.Key == netKey(NetHost) {
		pr, _ := run.row("ns-net")
		ino := evidenceField(pr.Evidence, "inode")
		yes := ino != "" && ino == host.NetInode
		return Cell{yesNo(yes), run.Label() + ": net inode " + ino + sameOrNot(yes) + "the caller's " + host.NetInode}
	}
	pr, ok := run.row(row.Key)
	if !ok {
		return Cell{probe.No, run.Label() + ": probe row " + row.Key + " missing"}
	}
	c := Cell{pr.Status, run.Label() + ": " + pr.Evidence}
	if isNetRow(row.Key) && pr.Status == probe.NA {
		// "network is private": say what the probe saw instead.
		for _, typ := range []string{NetHost, NetPrivate, NetNAT} {
			if seen, _ := run.row(netKey(typ)); seen.Status == probe.Yes {
				c.Evidence = run.Label() + ": the probe saw " + typ + " networking: " + seen.Evidence
			}
		}
	}
	if row.Key == "mac-security" && host.CapBnd != "" {
		yes := confined(pr.Evidence, host.CapBnd)
		c = Cell{yesNo(yes), c.Evidence + "; caller's capbnd=" + host.CapBnd}
	}
	return c
}

// confined re-judges the probe's mac-security evidence ("seccomp=filter
// nnp=0 capbnd=00000000a80425fb(reduced) capeff=… label=none") against
// the caller's bounding set rather than the full one.
func confined(ev, callerBnd string) bool {
	if s := evidenceField(ev, "seccomp="); s == "filter" || s == "strict" {
		return true
	}
	if evidenceField(ev, "nnp=") == "1" {
		return true
	}
	if l := evidenceField(ev, "label="); l != "" && l != "none" && !strings.HasPrefix(l, "?") {
		return true
	}
	bnd, err1 := strconv.ParseUint(strings.TrimSuffix(evidenceField(ev, "capbnd="), "(reduced)"), 16, 64)
	caller, err2 := strconv.ParseUint(callerBnd, 16, 64)
	return err1 == nil && err2 == nil && bnd&caller != caller
}

func yesNo(yes bool) string {
	if yes {
		return probe.Yes
	}
	return probe.No
}

func sameOrNot(same bool) string {
	if same {
		return " == "
	}
	return " != "
}
