package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stdcontainer/stdcontainer/init/probe"
)

// probeRows returns a full set of probe rows, every one yes except those
// given (key → "status\tevidence").
func probeRows(over map[string]string) []probe.Row {
	var rows []probe.Row
	for _, k := range probe.Keys {
		r := probe.Row{Key: k, Status: probe.Yes, Evidence: "seen"}
		if v, ok := over[k]; ok {
			r.Status, r.Evidence, _ = strings.Cut(v, "\t")
		}
		rows = append(rows, r)
	}
	return rows
}

// probeOutput is what the init prints for rows, via the probe's own writer.
func probeOutput(t testing.TB, rows []probe.Row) string {
	t.Helper()
	var b strings.Builder
	if err := probe.Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestParseProbe(t *testing.T) {
	rows := probeRows(map[string]string{"env-file": "no\tSTDC_PROBE_ENV unset", "net-nat": "n/a\tnetwork is private"})
	out := "Spawning container probe...\n" + probeOutput(t, rows) + "Container probe exited successfully.\n"
	got, err := ParseProbe(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(probe.Keys) {
		t.Fatalf("%d rows, want %d", len(got), len(probe.Keys))
	}
	if r := got["env-file"]; r.Status != probe.No || r.Evidence != "STDC_PROBE_ENV unset" {
		t.Errorf("env-file = %+v", r)
	}
	if r := got["net-nat"]; r.Status != probe.NA {
		t.Errorf("net-nat = %+v", r)
	}
	if keys := probeKeysOf(got); !slices.Equal(keys, probe.Keys) {
		t.Errorf("keys %v, want the probe's order", keys)
	}
}

func TestParseProbeRefuses(t *testing.T) {
	full := probeOutput(t, probeRows(nil))
	for name, out := range map[string]string{
		"empty":       "",
		"no summary":  strings.Join(strings.Split(full, "\n")[:len(probe.Keys)], "\n"),
		"row missing": strings.Replace(full, "ns-ipc\tyes\tseen\n", "", 1),
		"bad status":  strings.Replace(full, "ns-ipc\tyes", "ns-ipc\tmaybe", 1),
		"twice":       full + "ns-ipc\tyes\tagain\n",
	} {
		if _, err := ParseProbe(out); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestEvidenceField(t *testing.T) {
	for _, c := range []struct{ ev, name, want string }{
		{"net inode 4026532178 != initial 4026531833", "inode", "4026532178"},
		{"user inode 5 == initial 5; uid_map 0 0 1", "inode", "5"},
		{"seccomp=filter nnp=0 capbnd=00000000a80425fb(reduced) capeff=0 label=none", "capbnd=", "00000000a80425fb(reduced)"},
		{"seccomp=filter nnp=0", "nnp=", "0"},
		{"seccomp=filter", "label=", ""},
		{"net inode", "inode", ""},
	} {
		if got := evidenceField(c.ev, c.name); got != c.want {
			t.Errorf("evidenceField(%q, %q) = %q, want %q", c.ev, c.name, got, c.want)
		}
	}
}

func rowByKey(t *testing.T, key string) Row {
	t.Helper()
	i := slices.IndexFunc(Rows, func(r Row) bool { return r.Key == key })
	if i < 0 {
		t.Fatalf("no matrix row reads %s", key)
	}
	return Rows[i]
}

// testColumn has a host and a private run and a userns run: the private
// run sees the user namespace too, which must not count.
func testColumn() *Column {
	host := probeRows(map[string]string{"ns-net": "no\tnet inode 111 == initial 111", "net-host": "n/a\tnetwork is private",
		"ns-user": "no\tuser inode 1 == initial 1", "env-file": "no\tSTDC_PROBE_ENV unset",
		"mac-security": "yes\tseccomp=none nnp=0 capbnd=000001fffeffffff(reduced) capeff=0 label=none"})
	private := probeRows(map[string]string{"ns-net": "yes\tnet inode 222 != initial 111", "ns-user": "yes\tuser inode 2 != initial 1",
		"env-file": "no\tSTDC_PROBE_ENV unset", "cgroup-limits": "no\tno limits set",
		"mac-security": "yes\tseccomp=none nnp=0 capbnd=000001fffeffffff(reduced) capeff=0 label=none"})
	userns := probeRows(map[string]string{"ns-user": "no\tuser inode 1 == initial 1", "env-file": "yes\tSTDC_PROBE_ENV=x"})
	return &Column{Runtime: "rt", Networks: []string{NetHost, NetPrivate},
		Lacks: map[string]string{"default-init": needsCommand},
		Runs: []Run{{Network: NetHost, Rows: host}, {Network: NetPrivate, Rows: private},
			{Network: NetPrivate, UserNS: true, Error: "exit status 1"}, {Network: NetPrivate, UserNS: true, Rows: userns}}}
}

func TestJudge(t *testing.T) {
	col := testColumn()
	host := Host{NetInode: "111", CapBnd: "000001fffeffffff"}
	for key, want := range map[string]string{
		"net-nat":       probe.NA,  // no NAT mode
		"net-host":      probe.Yes, // the host run's inode is the caller's
		"net-private":   probe.Yes,
		"default-init":  probe.No,  // lacks it, whatever the probe says
		"env-file":      probe.Yes, // one run is enough
		"ns-user":       probe.No,  // only the userns runs count: one failed, one did not see it
		"ns-net":        probe.Yes,
		"cgroup-limits": probe.Yes, // the userns run saw limits
		"mac-security":  probe.No,  // the caller's own bounding set: not reduced
	} {
		if c := Judge(rowByKey(t, key), col, host); c.Status != want {
			t.Errorf("%s = %s (%s), want %s", key, c.Status, c.Evidence, want)
		}
	}
	if c := Judge(rowByKey(t, "default-init"), col, host); c.Evidence != needsCommand {
		t.Errorf("a lacking runtime's cell says %q, want the reason", c.Evidence)
	}
	if c := Judge(rowByKey(t, "ns-user"), col, host); !strings.HasPrefix(c.Evidence, "private+userns: exit status 1") {
		t.Errorf("ns-user evidence %q, want the first relevant run's", c.Evidence)
	}
	// Another namespace is not host networking.
	if c := Judge(rowByKey(t, "net-host"), col, Host{NetInode: "999"}); c.Status != probe.No || !strings.Contains(c.Evidence, "111 != the caller's 999") {
		t.Errorf("net-host in another namespace = %+v", c)
	}
	// Without the caller's set, the probe's own verdict stands.
	if c := Judge(rowByKey(t, "mac-security"), col, Host{}); c.Status != probe.Yes {
		t.Errorf("mac-security without a caller set = %+v", c)
	}
}

func TestJudgeNATSeenAsPrivate(t *testing.T) {
	col := &Column{Runtime: "nspawn", Networks: []string{NetNAT},
		Runs: []Run{{Network: NetNAT, Rows: probeRows(map[string]string{"net-nat": "n/a\tnetwork is private",
			"net-host": "n/a\tnetwork is private", "net-private": "yes\tlinks lo(loopback) host0(veth,down)"})}}}
	if c := Judge(rowByKey(t, "net-nat"), col, Host{}); c.Status != probe.No ||
		c.Evidence != "nat: the probe saw private networking: links lo(loopback) host0(veth,down)" {
		t.Errorf("a NAT run the probe saw as private = %+v, want no", c)
	}
}

func TestConfined(t *testing.T) {
	full := "000001fffeffffff"
	for ev, want := range map[string]bool{
		"seccomp=filter nnp=0 capbnd=000001fffeffffff capeff=0 label=none":          true,
		"seccomp=none nnp=1 capbnd=000001fffeffffff capeff=0 label=none":            true,
		"seccomp=none nnp=0 capbnd=000001fffeffffff(reduced) capeff=0 label=none":   false,
		"seccomp=none nnp=0 capbnd=00000000a80425fb(reduced) capeff=0 label=none":   true,
		"seccomp=none nnp=0 capbnd=000001fffeffffff capeff=0 label=system_u:r:c_t":  true,
		"seccomp=none nnp=0 capbnd=000001fffeffffff capeff=0 label=?(permission d)": false,
	} {
		if got := confined(ev, full); got != want {
			t.Errorf("confined(%q) = %v, want %v", ev, got, want)
		}
	}
}

func testMatrix() *Matrix {
	m := &Matrix{Date: "2026-11-28", Command: "make matrix", Kernel: "6.18.0", Host: Host{NetInode: "111", CapBnd: "000001fffeffffff"},
		Columns: []Column{*testColumn()}, Missing: []string{"lxc: lxc-start not found"}}
	m.Columns[0].Version = "rt 1.0"
	m.Columns[0].Runs[0].Rows[0].Evidence = "a | b `c`"
	m.Columns[0].Runs[0].Rows[0].Status = probe.No
	Build(m)
	return m
}

func TestMarkdown(t *testing.T) {
	md := testMatrix().Markdown()
	lines := strings.Split(md, "\n")
	header := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "| RFC row |") })
	if header < 0 || lines[header] != "| RFC row | rt | how judged |" || lines[header+1] != "|---|---|---|" {
		t.Fatalf("no table header:\n%s", md)
	}
	for i, r := range Rows {
		if !strings.HasPrefix(lines[header+2+i], "| "+r.Name+" | ") {
			t.Errorf("table line %d = %q, want row %s", i, lines[header+2+i], r.Name)
		}
		if n := strings.Count(strings.ReplaceAll(lines[header+2+i], `\|`, ""), "|"); n != 4 {
			t.Errorf("table line %q has %d cell borders, want 4", lines[header+2+i], n)
		}
	}
	for _, want := range []string{
		"Measured 2026-11-28 with `make matrix`",
		"| NAT networking | n/a |",
		"| host networking | yes |",
		"- **n/a**: ",
		"- rt, /sbin/init default: " + needsCommand,
		"Runtimes: rt rt 1.0 (4 runs).",
		"Not measured: lxc: lxc-start not found.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// The host run said no, the private run yes: a yes cell, no note.
	if strings.Contains(md, "- rt, resolv.conf:") {
		t.Errorf("a yes cell got a note:\n%s", md)
	}
	if got := cellText("a | b `c`\nd"); got != `a \| b c d` {
		t.Errorf("cellText = %q", got)
	}
}

func TestJSON(t *testing.T) {
	m := testMatrix()
	data, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Matrix
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != len(Rows) || len(back.Rows[0].Cells) != 1 || back.Legend[probe.NA] == "" || back.Host.NetInode != "111" {
		t.Fatalf("round trip lost data: %s", data)
	}
	if back.Rows[4].Key != "net-nat" || back.Rows[4].Cells[0].Status != probe.NA {
		t.Errorf("row 5 = %+v", back.Rows[4])
	}
	if len(back.Columns[0].Runs[1].Rows) != len(probe.Keys) {
		t.Errorf("runs lose their probe rows")
	}
}

func TestSplice(t *testing.T) {
	doc := "# x\n\n" + BeginMarker + "\nold\nlines\n" + EndMarker + "\ntail\n"
	got, err := Splice(doc, "new\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# x\n\n" + BeginMarker + "\nnew\n" + EndMarker + "\ntail\n"; got != want {
		t.Errorf("Splice = %q, want %q", got, want)
	}
	// Twice gives the same document.
	if again, _ := Splice(got, "new\n"); again != got {
		t.Errorf("not idempotent: %q", again)
	}
	for _, bad := range []string{"no markers", EndMarker + BeginMarker, BeginMarker + BeginMarker + EndMarker} {
		if _, err := Splice(bad, "x"); err == nil {
			t.Errorf("Splice(%q): no error", bad)
		}
	}
}

func TestEditSpec(t *testing.T) {
	spec := func() map[string]any {
		var cfg map[string]any
		json.Unmarshal([]byte(`{"process":{"terminal":true,"args":["sh"]},"root":{"path":"rootfs","readonly":true},
			"linux":{"namespaces":[{"type":"pid"},{"type":"network"},{"type":"mount"}]}}`), &cfg)
		return cfg
	}
	e := &Env{MajMin: "254:0"}
	types := func(cfg map[string]any) (ts []string) {
		for _, n := range cfg["linux"].(map[string]any)["namespaces"].([]any) {
			ts = append(ts, n.(map[string]any)["type"].(string))
		}
		return ts
	}
	cfg := spec()
	if err := editSpec(e, cfg, &Run{Network: NetHost}, "/r"); err != nil {
		t.Fatal(err)
	}
	if ts := types(cfg); !slices.Equal(ts, []string{"pid", "mount"}) {
		t.Errorf("host run namespaces %v", ts)
	}
	if args := cfg["process"].(map[string]any)["args"].([]string); !slices.Equal(args, []string{"/sbin/init"}) {
		t.Errorf("args %v", args)
	}
	res := cfg["linux"].(map[string]any)["resources"].(map[string]any)
	if res["pids"].(map[string]any)["limit"] != pidsLimit || res["blockIO"] == nil {
		t.Errorf("resources %v", res)
	}
	cfg = spec()
	editSpec(e, cfg, &Run{Network: NetPrivate, UserNS: true}, "/r")
	if ts := types(cfg); !slices.Equal(ts, []string{"pid", "network", "mount", "user"}) {
		t.Errorf("userns run namespaces %v", ts)
	}
	if cfg["linux"].(map[string]any)["uidMappings"] == nil {
		t.Errorf("userns run without uid mappings")
	}
	if err := editSpec(e, map[string]any{}, &Run{}, "/r"); err == nil {
		t.Errorf("an empty spec: no error")
	}
}

func TestLXCConfig(t *testing.T) {
	e := &Env{Work: t.TempDir(), Rootfs: t.TempDir(), Bridge: "br9", MajMin: "8:0", CgroupV1: true}
	c := lxcConfig(e, &Run{Network: NetNAT})
	for _, want := range []string{"lxc.net.0.type = veth\n", "lxc.net.0.link = br9\n", "lxc.cgroup.pids.max = 64\n",
		"lxc.cgroup.blkio.throttle.write_bps_device = 8:0 1048576\n"} {
		if !strings.Contains(c, want) {
			t.Errorf("v1 NAT config lacks %q:\n%s", want, c)
		}
	}
	e.CgroupV1 = false
	c = lxcConfig(e, &Run{Network: NetHost, UserNS: true})
	for _, want := range []string{"lxc.net.0.type = none\n", "lxc.idmap = u 0 1000000 65536\n", "lxc.cgroup2.memory.swap.max = 67108864\n",
		"lxc.cgroup2.io.max = 8:0 wbps=1048576\n"} {
		if !strings.Contains(c, want) {
			t.Errorf("v2 userns config lacks %q:\n%s", want, c)
		}
	}
}

func TestRunsOf(t *testing.T) {
	for _, rt := range Runtimes {
		runs := runsOf(rt)
		if len(runs) != len(rt.Networks)+1 || !runs[len(runs)-1].UserNS {
			t.Errorf("%s: runs %+v", rt.Name, runs)
		}
		for key := range rt.Lacks {
			if !slices.Contains(probe.Keys, key) {
				t.Errorf("%s lacks unknown probe row %s", rt.Name, key)
			}
		}
	}
}

// FuzzParseProbe: ParseProbe accepts only complete probe output (every
// row once, a known status) and never panics; what it accepts, the
// judging reads without panicking either.
func FuzzParseProbe(f *testing.F) {
	f.Add(probeOutput(f, probeRows(nil)))
	f.Add("Spawning container probe...\n" + probeOutput(f, probeRows(map[string]string{"net-nat": "n/a\tprivate"})))
	f.Add("rfc-probe: 0/0 yes\nns-ipc\tmaybe\tx\n")
	f.Fuzz(func(t *testing.T, out string) {
		rows, err := ParseProbe(out)
		if err != nil {
			return
		}
		for _, k := range probe.Keys {
			r, ok := rows[k]
			if !ok || r.Status != probe.Yes && r.Status != probe.No && r.Status != probe.NA {
				t.Fatalf("accepted output with row %s = %+v", k, r)
			}
			evidenceField(r.Evidence, "inode")
			evidenceField(r.Evidence, "nnp=")
		}
	})
}
