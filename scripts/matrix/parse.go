package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stdcontainer/stdcontainer/init/probe"
)

// ParseProbe reads the probe's "KEY\tSTATUS\tEVIDENCE" rows (probe.Write)
// out of a runtime's output, which may carry the runtime's own lines
// around them. Every probe row must be there, once, with a known status.
func ParseProbe(out string) (map[string]probe.Row, error) {
	rows := map[string]probe.Row{}
	summary := false
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "rfc-probe: ") {
			summary = true
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 || !slices.Contains(probe.Keys, f[0]) {
			continue // the runtime's own output
		}
		switch f[1] {
		case probe.Yes, probe.No, probe.NA:
		default:
			return nil, fmt.Errorf("probe row %s: status %q, want yes, no or n/a", f[0], f[1])
		}
		if _, dup := rows[f[0]]; dup {
			return nil, fmt.Errorf("probe row %s printed twice", f[0])
		}
		rows[f[0]] = probe.Row{Key: f[0], Status: f[1], Evidence: f[2]}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no probe output")
	}
	for _, k := range probe.Keys {
		if _, ok := rows[k]; !ok {
			return nil, fmt.Errorf("probe row %s missing", k)
		}
	}
	if !summary {
		return nil, fmt.Errorf("probe summary line (rfc-probe: N/M yes) missing")
	}
	return rows, nil
}

// evidenceField returns the word after "name" in a probe evidence line:
// evidenceField("net inode 4026532 != initial 1", "inode") is "4026532",
// evidenceField("seccomp=filter nnp=1", "nnp=") is "1".
func evidenceField(ev, name string) string {
	fields := strings.Fields(ev)
	for i, f := range fields {
		v, ok := "", false
		if strings.HasSuffix(name, "=") {
			v, ok = strings.CutPrefix(f, name)
		} else if f == name && i+1 < len(fields) {
			v, ok = fields[i+1], true
		}
		if ok {
			return strings.TrimSuffix(v, ";")
		}
	}
	return ""
}

// probeKeysOf lists the keys rows has, in the probe's order.
func probeKeysOf(rows map[string]probe.Row) []string {
	var keys []string
	for _, k := range probe.Keys {
		if _, ok := rows[k]; ok {
			keys = append(keys, k)
		}
	}
	return keys
}
