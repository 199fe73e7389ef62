package probe

import (
	"bytes"
	"errors"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// fixture is a fake root: /proc, /sys, /etc and /run under t.TempDir().
type fixture struct {
	t    *testing.T
	root string
	env  map[string]string
	h    Host
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, root: t.TempDir(), env: map[string]string{}}
	f.h = Host{
		Root:   f.root,
		Args:   []string{"/sbin/init"},
		Pid:    1,
		Getenv: func(k string) string { return f.env[k] },
		Links: func() ([]Link, []Route, error) {
			return []Link{{Index: 1, Name: "lo", Up: true, Loopback: true}}, nil, nil
		},
		Kernel: "6.18.44",
		Fd3:    func() (bool, bool) { return false, false },
	}
	return f
}

func (f *fixture) write(name, content string) {
	f.t.Helper()
	p := filepath.Join(f.root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) mkdir(name string) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Join(f.root, name), 0o755); err != nil {
		f.t.Fatal(err)
	}
}

// ns fakes /proc/self/ns/<name>: the probe only readlinks it.
func (f *fixture) ns(name string, ino uint64) {
	f.t.Helper()
	f.mkdir("/proc/self/ns")
	p := filepath.Join(f.root, "/proc/self/ns", name)
	os.Remove(p)
	if err := os.Symlink(name+":["+strconv.FormatUint(ino, 10)+"]", p); err != nil {
		f.t.Fatal(err)
	}
}

// allInitialNS fakes a process in every initial namespace.
func (f *fixture) allInitialNS() {
	for _, n := range namespaces {
		f.ns(n.name, n.initial)
	}
}

func (f *fixture) run() map[string]Row {
	f.t.Helper()
	rows := Run(f.h)
	checkShape(f.t, rows)
	m := map[string]Row{}
	for _, r := range rows {
		m[r.Key] = r
	}
	return m
}

func (f *fixture) row(key string) Row {
	f.t.Helper()
	return f.run()[key]
}

func checkShape(t *testing.T, rows []Row) {
	t.Helper()
	if len(rows) != len(Keys) || len(Keys) != 18 {
		t.Fatalf("got %d rows, want %d (Keys has %d)", len(rows), 18, len(Keys))
	}
	for i, r := range rows {
		if r.Key != Keys[i] {
			t.Errorf("row %d key %q, want %q", i, r.Key, Keys[i])
		}
		if r.Status != Yes && r.Status != No && r.Status != NA {
			t.Errorf("row %s status %q", r.Key, r.Status)
		}
		if r.Evidence == "" || strings.ContainsAny(r.Evidence, "\t\n") {
			t.Errorf("row %s evidence %q not a non-empty single line", r.Key, r.Evidence)
		}
	}
}

func want(t *testing.T, r Row, status, evidence string) {
	t.Helper()
	if r.Status != status || !strings.Contains(r.Evidence, evidence) {
		t.Errorf("%s = %s %q; want %s containing %q", r.Key, r.Status, r.Evidence, status, evidence)
	}
}

func TestResolvConf(t *testing.T) {
	f := newFixture(t)
	want(t, f.row("resolv-conf"), No, "/etc/resolv.conf: no such file or directory")

	f.write("/etc/resolv.conf", "# generated\nsearch lan\nnameserver 10.0.2.3\nnameserver  fd00::3 \n")
	want(t, f.row("resolv-conf"), Yes, "nameserver 10.0.2.3 fd00::3")

	f.write("/etc/resolv.conf", "options ndots:1\n")
	want(t, f.row("resolv-conf"), Yes, "present, no nameserver lines")

	f = newFixture(t)
	f.mkdir("/etc/resolv.conf")
	want(t, f.row("resolv-conf"), No, "is a directory")
}

func TestOSRelease(t *testing.T) {
	f := newFixture(t)
	want(t, f.row("os-release"), No, "missing")

	f.write("/usr/lib/os-release", "NAME=Fallback\n")
	want(t, f.row("os-release"), Yes, `/usr/lib/os-release: NAME="Fallback"`)

	f.write("/etc/os-release", "# c\nNAME=x\nPRETTY_NAME=\"stdcontainer minimal 0.1\"\nID=stdc\n")
	want(t, f.row("os-release"), Yes, `/etc/os-release: PRETTY_NAME="stdcontainer minimal 0.1"`)

	f.write("/etc/os-release", "# only comments\n\n")
	want(t, f.row("os-release"), No, "/etc/os-release: no fields")

	f.write("/etc/os-release", "NAME=x\nnot a field\n")
	want(t, f.row("os-release"), No, `/etc/os-release:2: missing '=' after "not a field"`)

	f.write("/etc/os-release", "VERSION_ID=1\n")
	want(t, f.row("os-release"), Yes, "1 fields, no PRETTY_NAME")

	f.write("/etc/os-release", "PRETTY_NAME=old\nPRETTY_NAME='new'\n")
	want(t, f.row("os-release"), Yes, `PRETTY_NAME="new"`)

	f = newFixture(t)
	f.mkdir("/etc/os-release")
	f.write("/usr/lib/os-release", "NAME=x\n")
	want(t, f.row("os-release"), No, "/etc/os-release: is a directory")
}

func TestDefaultInit(t *testing.T) {
	f := newFixture(t)
	want(t, f.row("default-init"), Yes, "argv0=/sbin/init argc=1 pid=1")

	f.h.Args = []string{"/sbin/init", "sh"}
	want(t, f.row("default-init"), No, "argc=2")

	f.h.Args = []string{"/init"}
	want(t, f.row("default-init"), No, "argv0=/init")

	f.h.Args, f.h.Pid = []string{"/sbin/init"}, 42
	want(t, f.row("default-init"), No, "pid=42")

	f.h.Args = []string{}
	want(t, f.row("default-init"), No, "argv0=(none) argc=0")
}

func TestEnvFile(t *testing.T) {
	f := newFixture(t)
	want(t, f.row("env-file"), No, "STDC_PROBE_ENV unset; set it in /etc/stdcontainer/env")
	f.env["STDC_PROBE_ENV"] = "from-file"
	want(t, f.row("env-file"), Yes, "STDC_PROBE_ENV=from-file")
}

var (
	lo    = Link{Index: 1, Name: "lo", Up: true, Loopback: true}
	eth0  = Link{Index: 2, Name: "eth0", Up: true}
	ifb0  = Link{Index: 3, Name: "ifb0", Kind: "ifb"}
	host0 = Link{Index: 4, Name: "host0", Kind: "veth", Up: true}
	mv    = Link{Index: 5, Name: "mv0", Kind: "macvlan", Up: true}
	dummy = Link{Index: 6, Name: "d0", Kind: "dummy", Up: true}
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name     string
		links    []Link
		routes   []Route
		typ, ev  string
		evAbsent string
	}{
		{"this host", []Link{lo, ifb0, eth0}, []Route{{Family: syscall.AF_INET, Dev: 2, Gateway: "192.0.2.1"}},
			netHost, "links lo(loopback) ifb0(ifb,down) eth0(device); default via 192.0.2.1 dev eth0", ""},
		{"physical without route", []Link{lo, eth0}, nil, netHost, "no default route", ""},
		{"physical plus veth default", []Link{lo, eth0, host0}, []Route{{Dev: 4}}, netHost, "default dev host0", ""},
		{"nspawn veth", []Link{lo, host0}, []Route{{Family: syscall.AF_INET, Dev: 4, Gateway: "10.0.0.1"}},
			netNAT, "host0(veth); default via 10.0.0.1 dev host0", ""},
		{"macvlan v6", []Link{lo, mv}, []Route{{Family: syscall.AF_INET6, Dev: 5, Gateway: "fe80::1"}},
			netNAT, "default via fe80::1 dev mv0", ""},
		{"only lo", []Link{lo}, nil, netPrivate, "links lo(loopback); no default route", ""},
		{"veth without route", []Link{lo, host0}, nil, netPrivate, "no default route", ""},
		{"default via lo", []Link{lo, dummy}, []Route{{Dev: 1}}, netPrivate, "default dev lo", ""},
		{"route to vanished link", []Link{lo}, []Route{{Dev: 9}}, netPrivate, "no default route", "dev"},
		{"nothing", nil, nil, netPrivate, "no links", ""},
		{"many", []Link{lo, host0, host0, host0, host0, host0, host0, host0, mv}, []Route{{Dev: 5}}, netNAT,
			"host0(veth) (9 in all); default dev mv0", "mv0("},
	} {
		typ, ev := classify(tc.links, tc.routes)
		if typ != tc.typ || !strings.Contains(ev, tc.ev) || tc.evAbsent != "" && strings.Contains(ev, tc.evAbsent) {
			t.Errorf("%s: got %s %q, want %s with %q", tc.name, typ, ev, tc.typ, tc.ev)
		}
	}
}

func TestNetworkRows(t *testing.T) {
	f := newFixture(t)
	m := f.run()
	want(t, m["net-private"], Yes, "lo(loopback)")
	want(t, m["net-host"], NA, "network is private")
	want(t, m["net-nat"], NA, "network is private")

	f.h.Links = func() ([]Link, []Route, error) { return []Link{lo, host0}, []Route{{Dev: 4}}, nil }
	m = f.run()
	want(t, m["net-nat"], Yes, "default dev host0")
	want(t, m["net-host"], NA, "network is nat")

	f.h.Links = func() ([]Link, []Route, error) { return []Link{lo, eth0}, nil, nil }
	want(t, f.row("net-host"), Yes, "eth0(device)")

	f.h.Links = func() ([]Link, []Route, error) {
		return nil, nil, os.NewSyscallError("netlinkrib", syscall.EPERM)
	}
	m = f.run()
	for _, k := range []string{"net-host", "net-private", "net-nat"} {
		want(t, m[k], No, "netlink: netlinkrib: operation not permitted")
	}
}

func TestSocketActivation(t *testing.T) {
	f := newFixture(t)
	want(t, f.row("socket-activation"), No, "LISTEN_PID unset")

	f.env["LISTEN_PID"] = "7"
	want(t, f.row("socket-activation"), No, "LISTEN_PID=7 is not our pid 1")

	f.env["LISTEN_PID"] = "1"
	want(t, f.row("socket-activation"), No, "LISTEN_FDS=, want >= 1")
	f.env["LISTEN_FDS"] = "0"
	want(t, f.row("socket-activation"), No, "LISTEN_FDS=0, want >= 1")

	f.env["LISTEN_FDS"] = "1"
	f.env["LISTEN_FDNAMES"] = "http"
	want(t, f.row("socket-activation"), No, "LISTEN_FDS=1 LISTEN_FDNAMES=http but fd 3 is not a socket")

	f.h.Fd3 = func() (bool, bool) { return true, false }
	want(t, f.row("socket-activation"), No, "fd 3 is not listening")

	f.h.Fd3 = func() (bool, bool) { return true, true }
	want(t, f.row("socket-activation"), Yes, "LISTEN_FDS=1 LISTEN_FDNAMES=http fd 3 listening")
}

// TestFdState checks the real fd inspection on sockets the test owns.
func TestFdState(t *testing.T) {
	sock := func() int {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Skip("no AF_INET socket:", err)
		}
		t.Cleanup(func() { syscall.Close(fd) })
		return fd
	}
	plain := sock()
	if s, l := fdState(plain); !s || l {
		t.Errorf("unbound socket: isSocket=%v listening=%v", s, l)
	}
	ln := sock()
	if err := syscall.Bind(ln, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Skip("bind:", err)
	}
	if err := syscall.Listen(ln, 1); err != nil {
		t.Fatal(err)
	}
	if s, l := fdState(ln); !s || !l {
		t.Errorf("listening socket: isSocket=%v listening=%v", s, l)
	}
	file, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if s, l := fdState(int(file.Fd())); s || l {
		t.Errorf("/dev/null: isSocket=%v listening=%v", s, l)
	}
}

func TestUniqueID(t *testing.T) {
	f := newFixture(t)
	want(t, f.row("unique-id"), No, "$container_uuid unset, /run/host/container-uuid: no such file")

	f.write("/run/host/container-uuid", "\n")
	want(t, f.row("unique-id"), No, "/run/host/container-uuid empty")

	f.write("/run/host/container-uuid", "0b5c2c7e-1a5f-4d2e-9c1e-3f6f3c1f2a10\n")
	f.write("/run/host/container-manager", "nspawn\n")
	want(t, f.row("unique-id"), Yes,
		"0b5c2c7e-1a5f-4d2e-9c1e-3f6f3c1f2a10 from /run/host/container-uuid; /run/host/container-manager=nspawn")

	f.env["container_uuid"] = "aaaa-bbbb"
	f.env["container"] = "podman"
	want(t, f.row("unique-id"), Yes, "aaaa-bbbb from $container_uuid; container=podman")
}

func TestNamespaces(t *testing.T) {
	f := newFixture(t)
	m := f.run()
	for i, n := range namespaces {
		want(t, m[nsKey(i)], No, "/proc/self/ns/"+n.name+": no such file or directory (is /proc mounted?)")
	}

	f.allInitialNS()
	f.write("/proc/self/status", "Name:\tinit\nNSpid:\t3488\n")
	f.write("/proc/self/uid_map", "         0          0 4294967295\n")
	m = f.run()
	want(t, m["ns-uts"], No, "uts inode 4026531838 == initial 4026531838")
	want(t, m["ns-mount"], No, "mnt inode 4026531832 == initial 4026531832")
	want(t, m["ns-net"], No, "net inode 4026531833 == initial 4026531833")
	want(t, m["ns-user"], No, "user inode 4026531837 == initial 4026531837; uid_map 0 0 4294967295")
	want(t, m["ns-pid"], No, "pid inode 4026531836 == initial 4026531836")

	for _, n := range namespaces {
		f.ns(n.name, 4026532201)
	}
	f.write("/proc/self/uid_map", "0 100000 65536\n")
	m = f.run()
	for i, n := range namespaces {
		want(t, m[nsKey(i)], Yes, n.name+" inode 4026532201 != initial "+strconv.FormatUint(n.initial, 10))
	}
	want(t, m["ns-user"], Yes, "uid_map 0 100000 65536")

	// A nested pid namespace shows through NSpid even with the initial inode.
	f.ns("pid", 0xEFFFFFFC)
	f.write("/proc/self/status", "NSpid:\t3488\t1\n")
	want(t, f.row("ns-pid"), Yes, "pid inode 4026531836 == initial 4026531836; NSpid 3488 1")

	f.ns("uts", 7)
	os.Remove(filepath.Join(f.root, "/proc/self/ns/ipc"))
	if err := os.Symlink("garbage", filepath.Join(f.root, "/proc/self/ns/ipc")); err != nil {
		t.Fatal(err)
	}
	m = f.run()
	want(t, m["ns-uts"], Yes, "uts inode 7 != initial 4026531838")
	want(t, m["ns-ipc"], No, `unexpected /proc/self/ns/ipc link "garbage"`)
}

// nsKey is the row key of namespaces[i]: the ns-* rows follow it in Keys.
func nsKey(i int) string { return Keys[9+i] }

func TestNamespacesOldKernel(t *testing.T) {
	f := newFixture(t)
	f.allInitialNS()
	f.ns("net", 4026532000)
	f.ns("mnt", 4026532001)
	f.ns("uts", 4026532002)
	f.h.Kernel = "6.1.0-18-amd64"
	m := f.run()
	want(t, m["ns-net"], Yes, "only loopback links visible (net inode 4026532000)")
	want(t, m["ns-mount"], No, "cannot tell on kernel 6.1.0-18-amd64 (mnt inode 4026532001)")
	want(t, m["ns-uts"], Yes, "uts inode 4026532002 != initial") // fixed since 3.8

	f.h.Links = func() ([]Link, []Route, error) { return []Link{lo, eth0}, nil, nil }
	want(t, f.row("ns-net"), No, "cannot tell on kernel 6.1.0-18-amd64")

	f.h.Links = func() ([]Link, []Route, error) { return nil, nil, syscall.EPERM }
	want(t, f.row("ns-net"), No, "cannot tell")

	f.h.Kernel = "weird"
	want(t, f.row("ns-mount"), No, "cannot tell on kernel weird")
}

func TestKernelAtLeast(t *testing.T) {
	for rel, ok := range map[string]bool{
		"6.18.44-fc-v669": true, "6.18": true, "6.19-rc1": true, "7.0.0": true, "6.17.9": false,
		"5.10.0": false, "6": false, "": false, "x.y": false,
	} {
		p := &prober{Host: Host{Kernel: rel}}
		if p.kernelAtLeast(6, 18) != ok {
			t.Errorf("kernelAtLeast(%q) != %v", rel, ok)
		}
	}
}

func TestCgroupLimits(t *testing.T) {
	f := newFixture(t)
	want(t, f.row("cgroup-limits"), No, "/sys/fs/cgroup not mounted")
	f.mkdir("/sys/fs/cgroup") // sysfs's empty mount point
	want(t, f.row("cgroup-limits"), No, "/sys/fs/cgroup not mounted")

	// cgroup2, own cgroup by path.
	f.write("/proc/self/cgroup", "0::/machine/c1\n")
	f.write("/sys/fs/cgroup/cgroup.controllers", "memory pids cpu io\n")
	f.write("/sys/fs/cgroup/machine/c1/memory.max", "max\n")
	f.write("/sys/fs/cgroup/machine/c1/pids.max", "max\n")
	f.write("/sys/fs/cgroup/machine/c1/cpu.max", "max 100000\n")
	f.write("/sys/fs/cgroup/machine/c1/io.max", "")
	want(t, f.row("cgroup-limits"), No, "cgroupfs mounted, no limits set (4 files checked)")

	f.write("/sys/fs/cgroup/machine/c1/memory.max", "268435456\n")
	f.write("/sys/fs/cgroup/machine/c1/pids.max", "64\n")
	f.write("/sys/fs/cgroup/machine/c1/cpu.max", "50000 100000\n")
	f.write("/sys/fs/cgroup/machine/c1/io.max", "8:0 rbps=1048576 wbps=max riops=max wiops=max\n8:16 wiops=10\n")
	want(t, f.row("cgroup-limits"), Yes,
		"memory.max=268435456 pids.max=64 cpu.max=50000 100000 io.max=8:0 rbps=1048576 wbps=max riops=max wiops=max ; 8:16 wiops=10")

	// Inside a cgroup namespace the path may not exist: the mount root is ours.
	f = newFixture(t)
	f.write("/proc/self/cgroup", "0::/../../elsewhere\n")
	f.write("/sys/fs/cgroup/memory.max", "1073741824\n")
	want(t, f.row("cgroup-limits"), Yes, "memory.max=1073741824")

	// No /proc: the hierarchy roots are still tried, and the evidence says why.
	f = newFixture(t)
	f.write("/sys/fs/cgroup/pids.max", "100\n")
	want(t, f.row("cgroup-limits"), Yes, "pids.max=100 (/proc/self/cgroup: no such file or directory)")

	f = newFixture(t)
	f.mkdir("/sys/fs/cgroup/unified")
	want(t, f.row("cgroup-limits"), No, "cgroupfs mounted, no limit files readable")
}

func TestCgroupLimitsV1Hybrid(t *testing.T) {
	f := newFixture(t)
	// This host's layout: v1 controllers plus cgroup2 at unified/.
	f.write("/proc/self/cgroup", "8:pids:/\n4:memory:/process_api/c7\n2:cpu,cpuacct:/\n1:name=systemd:/\n0::/\n")
	f.write("/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n")
	f.write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n")
	f.write("/sys/fs/cgroup/memory/process_api/c7/memory.limit_in_bytes", "9223372036854771712\n")
	f.write("/sys/fs/cgroup/memory/process_api/c7/memory.memsw.limit_in_bytes", "9223372036854771712\n")
	f.write("/sys/fs/cgroup/pids/pids.max", "max\n")
	f.write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n")
	f.write("/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device", "")
	want(t, f.row("cgroup-limits"), No, "cgroupfs mounted, no limits set (5 files checked)")

	// The own cgroup wins over the hierarchy root.
	f.write("/sys/fs/cgroup/memory/process_api/c7/memory.limit_in_bytes", "268435456\n")
	f.write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "50000\n")
	f.write("/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device", "8:0 100\n")
	f.write("/sys/fs/cgroup/unified/memory.max", "max\n")
	want(t, f.row("cgroup-limits"), Yes,
		"memory.limit_in_bytes=268435456 cpu.cfs_quota_us=50000 blkio.throttle.write_iops_device=8:0 100")
}

func TestLimitValues(t *testing.T) {
	for _, tc := range []struct {
		perDevice bool
		v         string
		want      bool
	}{
		{false, "9223372036854771712", false}, {false, "4611686018427387904", false}, // v1 "unlimited"
		{false, "268435456", true}, {false, "junk", false},
		{false, "-1", false}, {false, "100000", true}, // cpu.cfs_quota_us
		{false, "max 100000", false}, {false, "20000 100000", true}, // cpu.max
		{false, "max", false}, {false, "0", true},
		{true, "", false}, {true, "8:0 rbps=1048576 wbps=max riops=max wiops=max", true},
	} {
		if got := limitSet(tc.v, tc.perDevice); got != tc.want {
			t.Errorf("limit check on %q = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestMACSecurity(t *testing.T) {
	f := newFixture(t)
	f.write("/proc/sys/kernel/cap_last_cap", "40\n")
	status := func(seccomp, nnp, bnd string) {
		f.write("/proc/self/status", "Name:\tinit\nCapEff:\t000001ffffffffff\nCapBnd:\t"+bnd+
			"\nNoNewPrivs:\t"+nnp+"\nSeccomp:\t"+seccomp+"\nSeccomp_filters:\t0\n")
	}
	status("0", "0", "000001ffffffffff")
	want(t, f.row("mac-security"), No,
		"seccomp=none nnp=0 capbnd=000001ffffffffff capeff=000001ffffffffff label=none")

	f.write("/proc/self/attr/current", "unconfined\n")
	want(t, f.row("mac-security"), No, "label=none")

	status("2", "0", "000001ffffffffff")
	want(t, f.row("mac-security"), Yes, "seccomp=filter nnp=0")

	status("0", "1", "000001ffffffffff")
	want(t, f.row("mac-security"), Yes, "nnp=1")

	status("0", "0", "00000000a80425fb") // Docker's default 14
	want(t, f.row("mac-security"), Yes, "capbnd=00000000a80425fb(reduced)")

	status("0", "0", "000001fffeffffff") // this host: no CAP_SYS_RESOURCE
	want(t, f.row("mac-security"), Yes, "capbnd=000001fffeffffff(reduced)")

	status("0", "0", "000001ffffffffff")
	f.write("/proc/self/attr/current", "system_u:system_r:container_t:s0:c1,c2\x00")
	want(t, f.row("mac-security"), Yes, "label=system_u:system_r:container_t:s0:c1,c2")

	f.write("/proc/self/attr/current", "docker-default (enforce)\n")
	want(t, f.row("mac-security"), Yes, "label=docker-default (enforce)")

	f = newFixture(t)
	want(t, f.row("mac-security"), No, "seccomp=? nnp=? capbnd=? capeff=? label=none")
}

func TestCapsReduced(t *testing.T) {
	f := newFixture(t)
	p := &prober{Host: Host{Root: f.root}}
	// Without cap_last_cap only a hole counts.
	for hex, reduced := range map[string]bool{
		"000001ffffffffff": false, "0000003fffffffff": false, "000001fffeffffff": true, "0": false, "zz": false,
	} {
		if p.capsReduced(hex) != reduced {
			t.Errorf("no cap_last_cap: capsReduced(%s) != %v", hex, reduced)
		}
	}
	f.write("/proc/sys/kernel/cap_last_cap", "40\n")
	if !p.capsReduced("0000003fffffffff") || p.capsReduced("000001ffffffffff") {
		t.Error("cap_last_cap=40 not honoured")
	}
}

func TestWrite(t *testing.T) {
	rows := []Row{
		{"resolv-conf", Yes, "nameserver 10.0.2.3"},
		{"net-host", NA, "network is nat"},
		{"net-nat", Yes, "links lo(loopback) host0(veth)"},
		{"env-file", No, "tab\there\nnewline"},
		{"unique-id", No, ""},
	}
	var b bytes.Buffer
	if err := Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	const wantOut = "resolv-conf\tyes\tnameserver 10.0.2.3\n" +
		"net-host\tn/a\tnetwork is nat\n" +
		"net-nat\tyes\tlinks lo(loopback) host0(veth)\n" +
		"env-file\tno\ttab here newline\n" +
		"unique-id\tno\t-\n" +
		"rfc-probe: 2/4 yes\n"
	if b.String() != wantOut {
		t.Errorf("Write:\n%q\nwant\n%q", b.String(), wantOut)
	}

	b.Reset()
	if err := Write(&b, nil); err != nil || b.String() != "rfc-probe: 0/0 yes\n" {
		t.Errorf("empty Write = %q, %v", b.String(), err)
	}
	if err := Write(failWriter{}, rows); err == nil {
		t.Error("Write hid the writer's error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("boom") }

func TestParseUint(t *testing.T) {
	for _, tc := range []struct {
		s    string
		base uint64
		n    uint64
		ok   bool
	}{
		{"0", 10, 0, true}, {"4026531836", 10, 4026531836, true},
		{"18446744073709551615", 10, 1<<64 - 1, true}, {"18446744073709551616", 10, 0, false},
		{"000001fffeffffff", 16, 0x1fffeffffff, true}, {"ABCdef", 16, 0xabcdef, true},
		{"ffffffffffffffff", 16, 1<<64 - 1, true}, {"10000000000000000", 16, 0, false},
		{"", 10, 0, false}, {"-1", 10, 0, false}, {"+1", 10, 0, false}, {"1a", 10, 0, false},
		{"g", 16, 0, false}, {" 1", 10, 0, false}, {"0x1", 16, 0, false},
	} {
		if n, ok := parseUint(tc.s, tc.base); n != tc.n || ok != tc.ok {
			t.Errorf("parseUint(%q, %d) = %d, %v; want %d, %v", tc.s, tc.base, n, ok, tc.n, tc.ok)
		}
	}
}

func TestSqueeze(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "",
		" \t3488\t1 \n":                  "3488 1",
		"8:0 rbps=1\n\n8:16  wiops=10\n": "8:0 rbps=1 ; 8:16 wiops=10",
		"a\x00":                          "a",
	} {
		if got := squeeze(in); got != want {
			t.Errorf("squeeze(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	if got := clip("héllo", 2); got != "h..." {
		t.Errorf("clip cut inside a rune: %q", got)
	}
	if got := clip("abc", 3); got != "abc" {
		t.Errorf("clip = %q", got)
	}
}

// TestFixtureEndToEnd builds a whole nspawn-like container and checks the
// exact output.
func TestFixtureEndToEnd(t *testing.T) {
	f := newFixture(t)
	f.write("/etc/resolv.conf", "nameserver 10.0.2.3\n")
	f.write("/etc/os-release", "PRETTY_NAME=\"stdcontainer minimal 0.1\"\n")
	f.env["STDC_PROBE_ENV"] = "ok"
	f.env["container"] = "systemd-nspawn"
	f.env["container_uuid"] = "u1"
	f.h.Links = func() ([]Link, []Route, error) {
		return []Link{lo, host0}, []Route{{Family: syscall.AF_INET, Dev: 4, Gateway: "10.0.0.1"}}, nil
	}
	f.allInitialNS()
	for _, n := range []string{"pid", "mnt", "net", "uts", "ipc"} {
		f.ns(n, 4026532300)
	}
	f.write("/proc/self/status", "CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\nNSpid:\t1\n")
	f.write("/proc/self/uid_map", "0 0 4294967295\n")
	f.write("/proc/sys/kernel/cap_last_cap", "40\n")
	f.write("/proc/self/cgroup", "0::/\n")
	f.write("/sys/fs/cgroup/pids.max", "64\n")
	var b bytes.Buffer
	if err := Write(&b, Run(f.h)); err != nil {
		t.Fatal(err)
	}
	const wantOut = "resolv-conf\tyes\tnameserver 10.0.2.3\n" +
		"os-release\tyes\t/etc/os-release: PRETTY_NAME=\"stdcontainer minimal 0.1\"\n" +
		"default-init\tyes\targv0=/sbin/init argc=1 pid=1\n" +
		"env-file\tyes\tSTDC_PROBE_ENV=ok\n" +
		"net-host\tn/a\tnetwork is nat\n" +
		"net-private\tn/a\tnetwork is nat\n" +
		"net-nat\tyes\tlinks lo(loopback) host0(veth); default via 10.0.0.1 dev host0\n" +
		"socket-activation\tno\tLISTEN_PID unset\n" +
		"unique-id\tyes\tu1 from $container_uuid; container=systemd-nspawn\n" +
		"ns-pid\tyes\tpid inode 4026532300 != initial 4026531836\n" +
		"ns-mount\tyes\tmnt inode 4026532300 != initial 4026531832\n" +
		"ns-net\tyes\tnet inode 4026532300 != initial 4026531833\n" +
		"ns-uts\tyes\tuts inode 4026532300 != initial 4026531838\n" +
		"ns-ipc\tyes\tipc inode 4026532300 != initial 4026531839\n" +
		"ns-user\tno\tuser inode 4026531837 == initial 4026531837; uid_map 0 0 4294967295\n" +
		"ns-cgroup\tno\tcgroup inode 4026531835 == initial 4026531835\n" +
		"cgroup-limits\tyes\tpids.max=64\n" +
		"mac-security\tyes\tseccomp=filter nnp=1 capbnd=00000000a80425fb(reduced) capeff=00000000a80425fb label=none\n" +
		"rfc-probe: 13/16 yes\n"
	if b.String() != wantOut {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), wantOut)
	}
}

// TestRealHost runs the probe on this machine; only the shape is checked,
// since the answers depend on where the tests run.
func TestRealHost(t *testing.T) {
	rows := Run(Host{})
	checkShape(t, rows)
	var b bytes.Buffer
	if err := Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 19 {
		t.Fatalf("got %d lines", len(lines))
	}
	yes, applicable := 0, 0
	for _, l := range lines[:18] {
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			t.Errorf("line %q has %d fields", l, len(f))
			continue
		}
		if f[1] != NA {
			applicable++
		}
		if f[1] == Yes {
			yes++
		}
	}
	if want := "rfc-probe: " + strconv.Itoa(yes) + "/" + strconv.Itoa(applicable) + " yes"; lines[18] != want {
		t.Errorf("summary %q, want %q", lines[18], want)
	}
	nets := 0
	for _, r := range rows[4:7] {
		if r.Status != NA {
			nets++
		}
	}
	if nets != 1 && nets != 3 {
		t.Errorf("%d net rows not n/a, want 1 (or 3 when netlink fails)", nets)
	}
	t.Logf("real host:\n%s", b.String())
}

// TestNetlinkReal checks the rtnetlink reader against this machine: there
// is always a loopback, and every default route names a listed link.
func TestNetlinkReal(t *testing.T) {
	links, routes, err := netlinkLinks()
	if err != nil {
		t.Skip("rtnetlink unavailable:", err)
	}
	idx := map[int]bool{}
	haveLo := false
	for _, l := range links {
		idx[l.Index] = true
		haveLo = haveLo || l.Loopback && l.Name == "lo" && l.Kind == ""
	}
	if !haveLo {
		t.Errorf("no lo in %+v", links)
	}
	for _, r := range routes {
		if !idx[r.Dev] {
			t.Errorf("route %+v to unknown link", r)
		}
	}
	t.Logf("links %+v routes %+v", links, routes)
}

// Synthetic rtnetlink messages exercise the hand-written decoding.
func nlAttr(typ uint16, val []byte) []byte {
	n := 4 + len(val)
	b := append(ne16b(uint16(n)), ne16b(typ)...)
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// ne16b and ne32b encode in host byte order, as netlink does.
func ne16b(v uint16) []byte {
	b := make([]byte, 2)
	*(*uint16)(unsafe.Pointer(&b[0])) = v
	return b
}

func ne32b(v uint32) []byte {
	b := make([]byte, 4)
	*(*uint32)(unsafe.Pointer(&b[0])) = v
	return b
}

// TestHostOrder checks get16/get32 against encoding by hand.
func TestHostOrder(t *testing.T) {
	x := uint16(1)
	little := *(*byte)(unsafe.Pointer(&x)) == 1
	b := []byte{1, 2, 3, 4}
	want16, want32 := uint16(0x0102), uint32(0x01020304)
	if little {
		want16, want32 = 0x0201, 0x04030201
	}
	if get16(b) != want16 || get32(b) != want32 {
		t.Errorf("get16/get32 = %#x/%#x, want %#x/%#x", get16(b), get32(b), want16, want32)
	}
}

func TestParseLink(t *testing.T) {
	hdr := []byte{syscall.AF_UNSPEC, 0}
	hdr = append(hdr, ne16b(1)...) // ARPHRD_ETHER
	hdr = append(hdr, ne32b(7)...)
	hdr = append(hdr, ne32b(syscall.IFF_UP|syscall.IFF_BROADCAST)...)
	hdr = append(hdr, ne32b(0)...)
	info := nlAttr(0x8000|iflaInfoKind, []byte("veth\x00"))
	data := append(hdr, nlAttr(syscall.IFLA_IFNAME, []byte("host0\x00"))...)
	data = append(data, nlAttr(0x8000|iflaLinkInfo, append(info, nlAttr(2, []byte{1, 2, 3, 4})...))...)
	l, ok := parseLink(syscall.RTM_NEWLINK, data)
	if !ok || l != (Link{Index: 7, Name: "host0", Kind: "veth", Up: true}) {
		t.Errorf("parseLink = %+v, %v", l, ok)
	}

	hdr = []byte{syscall.AF_UNSPEC, 0}
	hdr = append(hdr, ne16b(arphrdLoop)...)
	hdr = append(hdr, ne32b(1)...)
	hdr = append(hdr, ne32b(0)...)
	hdr = append(hdr, ne32b(0)...)
	data = append(hdr, nlAttr(syscall.IFLA_IFNAME, []byte("lo\x00"))...)
	if l, ok := parseLink(syscall.RTM_NEWLINK, data); !ok || !l.Loopback || l.Up || l.Name != "lo" {
		t.Errorf("loopback parseLink = %+v, %v", l, ok)
	}
	if _, ok := parseLink(syscall.RTM_NEWADDR, data); ok {
		t.Error("parseLink accepted RTM_NEWADDR")
	}
}

func rtmsg(family, dstLen, table, typ byte) []byte {
	return append([]byte{family, dstLen, 0, 0, table, 3, 0, typ}, ne32b(0)...)
}

func TestParseRoute(t *testing.T) {
	parse := func(data []byte) []Route { return parseRoute(syscall.RTM_NEWROUTE, data, nil) }
	d := append(rtmsg(syscall.AF_INET, 0, rtTableMain, rtnUnicast), nlAttr(rtaTable, ne32b(rtTableMain))...)
	d = append(d, nlAttr(syscall.RTA_GATEWAY, []byte{192, 0, 2, 1})...)
	d = append(d, nlAttr(syscall.RTA_OIF, ne32b(4))...)
	if got := parse(d); len(got) != 1 || got[0] != (Route{Family: syscall.AF_INET, Dev: 4, Gateway: "192.0.2.1"}) {
		t.Errorf("default route = %+v", got)
	}

	for name, d := range map[string][]byte{
		"not default": append(rtmsg(syscall.AF_INET, 24, rtTableMain, rtnUnicast), nlAttr(syscall.RTA_OIF, ne32b(4))...),
		"local table": append(rtmsg(syscall.AF_INET, 0, 255, rtnUnicast), nlAttr(syscall.RTA_OIF, ne32b(4))...),
		"table attr":  append(rtmsg(syscall.AF_INET, 0, 252, rtnUnicast), nlAttr(rtaTable, ne32b(1000))...),
		"unreachable": append(rtmsg(syscall.AF_INET6, 0, rtTableMain, 7), nlAttr(syscall.RTA_OIF, ne32b(1))...),
	} {
		if got := parse(d); len(got) != 0 {
			t.Errorf("%s: kept %+v", name, got)
		}
	}

	gw6 := []byte{0xfe, 0x80, 15: 1}
	hop := func(ifindex uint32, gw []byte) []byte {
		attrs := nlAttr(syscall.RTA_GATEWAY, gw)
		return append(append(ne16b(uint16(8+len(attrs))), 0, 0), append(ne32b(ifindex), attrs...)...)
	}
	mp := append(hop(5, gw6), hop(6, []byte{0x20, 0x01, 0x0d, 0xb8, 15: 2})...)
	d = append(rtmsg(syscall.AF_INET6, 0, rtTableMain, rtnUnicast), nlAttr(rtaMultipath, mp)...)
	got := parse(d)
	wantR := []Route{{syscall.AF_INET6, 5, "fe80::1"}, {syscall.AF_INET6, 6, "2001:db8::2"}}
	if len(got) != 2 || got[0] != wantR[0] || got[1] != wantR[1] {
		t.Errorf("multipath = %+v, want %+v", got, wantR)
	}
}

func TestFormatIP(t *testing.T) {
	for want, b := range map[string][]byte{
		"10.0.2.3":        {10, 0, 2, 3},
		"::":              make([]byte, 16),
		"::1":             {15: 1},
		"fe80::1":         {0xfe, 0x80, 15: 1},
		"2001:db8:0:1::1": {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 15: 1},
		"1:0:1:0:1:0:1:0": {0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0},
		"1::1:0:0:1":      {0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1},
		"?":               {1, 2},
	} {
		if got := formatIP(b); got != want {
			t.Errorf("formatIP(%v) = %q, want %q", b, got, want)
		}
	}
}

// TestImports enforces the binary budget: only the allowed packages, and
// nothing heavy pulled in transitively.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"os": true, "syscall": true, "strconv": true, "strings": true, "errors": true,
		"io": true, "bytes": true, "unsafe": true,
		"github.com/stdcontainer/stdcontainer/init/internal/rawfile": true, "github.com/stdcontainer/stdcontainer/rootfs/layout": true,
		"github.com/stdcontainer/stdcontainer/rootfs/osrelease": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %s, which is outside the init's budget", name, path)
			}
		}
	}

	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go tool for go list -deps")
		}
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "fmt", "reflect", "os/exec", "encoding/json", "encoding/binary", "net", "golang.org/x/sys/unix":
			t.Errorf("package probe depends on %s", dep)
		}
	}
}
