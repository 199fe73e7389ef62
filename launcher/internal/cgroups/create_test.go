package cgroups

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func u16(v uint16) *uint16 { return &v }
func dev(maj, min int64, rate uint64) specs.LinuxThrottleDevice {
	return specs.LinuxThrottleDevice{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: maj, Minor: min}, Rate: rate}
}

// everything sets every field this package applies, as docker flags would:
// --memory 64m --memory-swap 96m --memory-reservation 32m --cpus 1.5
// --cpu-shares 512 --cpuset-cpus 1 --cpuset-mems 0 --pids-limit 16
// --blkio-weight 300 --device-{read,write}-{bps,iops} on 8:0 and 8:16.
func everything() *specs.LinuxResources {
	return &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(96 << 20), Reservation: i64(32 << 20)},
		CPU:    &specs.LinuxCPU{Quota: i64(150000), Period: u64(100000), Shares: u64(512), Cpus: "1", Mems: "0"},
		Pids:   &specs.LinuxPids{Limit: i64(16)},
		BlockIO: &specs.LinuxBlockIO{
			Weight:                  u16(300),
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{dev(8, 0, 1<<20), dev(8, 16, 2<<20)},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{dev(8, 0, 3<<20)},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{dev(8, 0, 100)},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{dev(8, 16, 200)},
		},
		// Docker's deny-all, first in every default spec (devices_test.go
		// has the rest).
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
}

const ctr = "stdcontainer-test-0123456789ab"

// This host's layout: every limit goes to v1, and the container also gets
// a cgroup in name=systemd and in the unified (v2) tree.
func TestCreateV1EveryField(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{blkioWeight: true})
	c, err := Create(l, testParents(l), "", ctr, everything())
	if err != nil {
		t.Fatal(err)
	}
	own := "memory/process_api/db85e9e805e72043da5287c976202544/"
	for file, want := range map[string]string{
		own + ctr + "/memory.limit_in_bytes":       "67108864",
		own + ctr + "/memory.memsw.limit_in_bytes": "100663296",
		own + ctr + "/memory.soft_limit_in_bytes":  "33554432",
		"cpu/" + ctr + "/cpu.cfs_period_us":        "100000",
		"cpu/" + ctr + "/cpu.cfs_quota_us":         "150000",
		"cpu/" + ctr + "/cpu.shares":               "512",
		"cpuset/" + ctr + "/cpuset.cpus":           "1",
		"cpuset/" + ctr + "/cpuset.mems":           "0",
		"pids/" + ctr + "/pids.max":                "16",
		"blkio/" + ctr + "/blkio.weight":           "300",
	} {
		if got := f.file(file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	// One write per device and rule, in the kernel's "MAJ:MIN RATE".
	for _, w := range []string{
		"blkio/" + ctr + "/blkio.throttle.read_bps_device=8:0 1048576",
		"blkio/" + ctr + "/blkio.throttle.read_bps_device=8:16 2097152",
		"blkio/" + ctr + "/blkio.throttle.write_bps_device=8:0 3145728",
		"blkio/" + ctr + "/blkio.throttle.read_iops_device=8:0 100",
		"blkio/" + ctr + "/blkio.throttle.write_iops_device=8:16 200",
	} {
		if !slices.Contains(f.writes, w) {
			t.Errorf("missing write %s", w)
		}
	}
	// Period before quota; memory limit before memsw on a fresh cgroup.
	if idx(f.writes, "cpu.cfs_period_us") > idx(f.writes, "cpu.cfs_quota_us") ||
		idx(f.writes, "memory.limit_in_bytes") > idx(f.writes, "memory.memsw") {
		t.Errorf("order: %v", f.writes)
	}
	// Nothing is enabled in the unified tree: it has no limits to hold.
	for _, w := range f.writes {
		if strings.Contains(w, "subtree_control") {
			t.Errorf("unexpected %s", w)
		}
	}
	var want []string
	for _, m := range []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd", "unified"} {
		if m == "memory" {
			want = append(want, filepath.Join(f.root, own, ctr))
		} else {
			want = append(want, filepath.Join(f.root, m, ctr))
		}
	}
	if !reflect.DeepEqual(c.Paths(), want) {
		t.Errorf("Paths = %v\nwant %v", c.Paths(), want)
	}
	if _, err := c.Dir(); err == nil {
		t.Error("Dir on a hybrid host: no error")
	}
}

func idx(writes []string, sub string) int {
	return slices.IndexFunc(writes, func(w string) bool { return strings.Contains(w, sub) })
}

// A new v1 cpuset cgroup starts empty: Create copies the parent's CPUs
// and nodes, in every cpuset cgroup it makes (--cgroup-parent too).
func TestCreateV1CpusetInherits(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	c, err := Create(l, testParents(l), "/stdc/sub", ctr, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"cpuset/stdc", "cpuset/stdc/sub", "cpuset/stdc/sub/" + ctr} {
		if got := f.file(d + "/cpuset.cpus"); got != "0-1" {
			t.Errorf("%s/cpuset.cpus = %q", d, got)
		}
		if got := f.file(d + "/cpuset.mems"); got != "0" {
			t.Errorf("%s/cpuset.mems = %q", d, got)
		}
	}
	if got := c.Paths()[0]; got != filepath.Join(f.root, "blkio/stdc/sub", ctr) {
		t.Errorf("Paths()[0] = %s", got)
	}
	// Joining works (fake: cgroup.procs takes it) in every hierarchy.
	if err := c.Join(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if n := len(slices.DeleteFunc(slices.Clone(f.writes), func(w string) bool { return !strings.Contains(w, "cgroup.procs=") })); n != 10 {
		t.Errorf("%d cgroup.procs writes, want 10", n)
	}
}

// A v2 host, nested under --cgroup-parent /stdc because the caller's own
// cgroup holds processes.
func TestCreateV2EveryField(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{})
	c, err := Create(l, testParents(l), "/stdc", ctr, everything())
	if err != nil {
		t.Fatal(err)
	}
	leaf := "stdc/" + ctr + "/"
	for file, want := range map[string]string{
		"cgroup.subtree_control":      "cpu memory pids cpuset io",
		"stdc/cgroup.subtree_control": "memory cpu cpuset pids io",
		leaf + "cgroup.controllers":   "memory cpu cpuset pids io",
		leaf + "memory.max":           "67108864",
		leaf + "memory.swap.max":      "33554432", // 96m total - 64m memory
		leaf + "memory.low":           "33554432",
		leaf + "cpu.max":              "150000 100000",
		leaf + "cpu.weight":           "59", // ConvertSharesToWeight(512)
		leaf + "cpuset.cpus":          "1",
		leaf + "cpuset.mems":          "0",
		leaf + "pids.max":             "16",
		leaf + "io.weight":            "default 2930", // 1 + (300-10)*9999/990
	} {
		if got := f.file(file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	// io.max: one line per device, every key for it.
	for _, w := range []string{
		leaf + "io.max=8:0 rbps=1048576 wbps=3145728 riops=100",
		leaf + "io.max=8:16 rbps=2097152 wiops=200",
	} {
		if !slices.Contains(f.writes, w) {
			t.Errorf("missing write %s in %v", w, f.writes)
		}
	}
	// Only the root (already had cpu memory pids) and stdc got enabled.
	for _, w := range f.writes {
		if strings.Contains(w, "subtree_control") && !strings.HasPrefix(w, "cgroup.subtree_control=") &&
			!strings.HasPrefix(w, "stdc/cgroup.subtree_control=") {
			t.Errorf("unexpected %s", w)
		}
	}
	if got := c.Paths(); len(got) != 1 || got[0] != filepath.Join(f.root, "stdc", ctr) {
		t.Errorf("Paths = %v", got)
	}
	d, err := c.Dir()
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func TestCreateV2BFQWeight(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{bfq: true})
	r := &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(300)}}
	if _, err := Create(l, testParents(l), "/stdc", ctr, r); err != nil {
		t.Fatal(err)
	}
	if got := f.file("stdc/" + ctr + "/io.bfq.weight"); got != "300" {
		t.Errorf("io.bfq.weight = %q", got)
	}
	if got := f.file("stdc/" + ctr + "/io.weight"); got != "default 100" {
		t.Errorf("io.weight = %q", got)
	}
}

// Without limits nothing needs enabling, so nesting under the caller's
// own (busy) cgroup works.
func TestCreateV2NoLimitsUnderOwn(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{})
	c, err := Create(l, testParents(l), "", ctr, &specs.LinuxResources{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(f.root, "user.slice/user-1000.slice/session-2.scope", ctr); c.Paths()[0] != want {
		t.Errorf("Paths = %v", c.Paths())
	}
	if len(f.writes) != 0 {
		t.Errorf("writes: %v", f.writes)
	}
}

func TestMemorySwapArithmetic(t *testing.T) {
	for _, tc := range []struct {
		limit, swap int64
		v1, v2      string // memsw, swap.max; "" = not written
	}{
		{64 << 20, 128 << 20, "134217728", "67108864"},
		{64 << 20, 64 << 20, "67108864", "0"},
		{64 << 20, -1, "-1", "max"},
		{64 << 20, 0, "", ""},
	} {
		r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(tc.limit), Swap: i64(tc.swap)}}
		l, f := newFixture(t, "hybrid", fixtureOpts{})
		if _, err := Create(l, testParents(l), "", ctr, r); err != nil {
			t.Fatal(err)
		}
		memsw := "memory/process_api/db85e9e805e72043da5287c976202544/" + ctr + "/memory.memsw.limit_in_bytes"
		if got := lastWrite(f.writes, memsw); got != tc.v1 {
			t.Errorf("v1 %d/%d: memsw = %q, want %q", tc.limit, tc.swap, got, tc.v1)
		}
		l, f = newFixture(t, "v2", fixtureOpts{})
		if _, err := Create(l, testParents(l), "/p", ctr, r); err != nil {
			t.Fatal(err)
		}
		if got := lastWrite(f.writes, "p/"+ctr+"/memory.swap.max"); got != tc.v2 {
			t.Errorf("v2 %d/%d: swap.max = %q, want %q", tc.limit, tc.swap, got, tc.v2)
		}
	}
}

func lastWrite(writes []string, file string) string {
	v := ""
	for _, w := range writes {
		if rest, ok := strings.CutPrefix(w, file+"="); ok {
			v = rest
		}
	}
	return v
}

// v1 keeps memsw >= limit at every step: raising both above the current
// memsw must write memsw first (the fake refuses otherwise, as the kernel).
func TestV1MemswOrdering(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	dir := filepath.Join(l.V1["memory"], "x")
	f.must(f.mkdir(dir))
	f.must(f.write(filepath.Join(dir, "memory.limit_in_bytes"), "100"))
	f.must(f.write(filepath.Join(dir, "memory.memsw.limit_in_bytes"), "200"))
	s := setter{fs: f, dir: dir}
	d := v1Driver{fs: f}
	if err := d.setMemory(s, &specs.LinuxMemory{Limit: i64(300), Swap: i64(400)}); err != nil {
		t.Fatal(err)
	}
	if err := d.setMemory(s, &specs.LinuxMemory{Limit: i64(50), Swap: i64(60)}); err != nil {
		t.Fatal(err)
	}
	if err := d.setMemory(s, &specs.LinuxMemory{Limit: i64(-1), Swap: i64(-1)}); err != nil {
		t.Fatal(err)
	}
	if got := f.file("memory/x/memory.limit_in_bytes") + " " + f.file("memory/x/memory.memsw.limit_in_bytes"); got != "-1 -1" {
		t.Errorf("limit memsw = %s", got)
	}
}

func TestConvertSharesToWeight(t *testing.T) {
	for shares, want := range map[uint64]uint64{
		0: 0, 1: 1, 2: 1, 3: 2, 512: 59, 1024: 100, 2048: 174, 262144: 10000, 1 << 30: 10000,
	} {
		if got := ConvertSharesToWeight(shares); got != want {
			t.Errorf("ConvertSharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}

// Refusals: each names the docker flag (and the file when one is to
// blame), and leaves no directory behind.
func TestCreateRefuses(t *testing.T) {
	mem := func(limit, swap int64) *specs.LinuxResources {
		m := &specs.LinuxMemory{Swap: i64(swap)}
		if limit != 0 {
			m.Limit = i64(limit)
		}
		return &specs.LinuxResources{Memory: m}
	}
	memsw := "/memory/process_api/db85e9e805e72043da5287c976202544/" + ctr + "/memory.memsw.limit_in_bytes"
	for _, tc := range []struct {
		name, fixture, parent string
		opts                  fixtureOpts
		r                     *specs.LinuxResources
		want                  string // {root} is the fixture root
	}{
		{"swap below memory", "hybrid", "", fixtureOpts{}, mem(64<<20, 32<<20), "--memory-swap must be at least --memory"},
		{"swap without memory", "v2", "/p", fixtureOpts{}, mem(0, 32<<20), "--memory-swap needs --memory"},
		{"no memsw file", "hybrid", "", fixtureOpts{noSwap: true}, mem(64<<20, 128<<20),
			"--memory-swap: {root}" + memsw + " does not exist (swap accounting is off)"},
		{"no swap.max file", "v2", "/p", fixtureOpts{noSwap: true}, mem(64<<20, 128<<20),
			"--memory-swap: {root}/p/" + ctr + "/memory.swap.max does not exist (swap accounting is off)"},
		{"cpuset syntax", "hybrid", "", fixtureOpts{}, &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-"}},
			`--cpuset-cpus 0-: invalid ("" is not a number; want a list like 0-3,7)`},
		{"cpuset not in parent v1", "hybrid", "", fixtureOpts{}, &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "7"}},
			"--cpuset-cpus 7: invalid ({root}/cpuset/" + ctr + "/cpuset.cpus: CPU 7 is not in the parent's 0-1, {root}/cpuset/cpuset.effective_cpus)"},
		{"cpuset not in parent v2", "v2", "/p", fixtureOpts{}, &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0", Mems: "1"}},
			"--cpuset-mems 1: invalid ({root}/p/" + ctr + "/cpuset.mems: memory node 1 is not in the parent's 0, {root}/p/cpuset.mems.effective)"},
		{"blkio weight missing", "hybrid", "", fixtureOpts{noBFQ: true}, &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(500)}},
			"--blkio-weight: {root}/blkio/" + ctr + "/blkio.weight does not exist, nor blkio.bfq.weight"},
		{"blkio weight range", "hybrid", "", fixtureOpts{}, &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(5)}},
			"--blkio-weight 5: invalid (range is 10 to 1000)"},
		{"v2 busy parent", "v2", "", fixtureOpts{}, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}},
			"--pids-limit: cannot enable the pids controller in {root}/user.slice/user-1000.slice/session-2.scope: it holds processes"},
		{"v2 controller missing", "hybrid", "", fixtureOpts{}, nil, ""}, // placeholder, see below
		{"unsupported", "v2", "/p", fixtureOpts{}, &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(0)}},
			"cgroups: resources not supported: memory.swappiness"},
		{"bad name", "v2", "/p", fixtureOpts{}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, f := newFixture(t, tc.fixture, tc.opts)
			name := ctr
			switch tc.name {
			case "v2 controller missing":
				// A v2-only host whose kernel has no pids controller.
				l.Mode, l.V1, l.V2Controllers = "v2", map[string]string{}, []string{"memory"}
				tc.r = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}}
				tc.want = "--pids-limit: the pids controller is not available (not a cgroup v1 mount, not in {root}/unified/cgroup.controllers)"
			case "bad name":
				name, tc.want = "../x", `cgroups: invalid cgroup name "../x"`
			}
			before := f.tree()
			_, err := Create(l, testParents(l), tc.parent, name, tc.r)
			want := strings.ReplaceAll(tc.want, "{root}", f.root)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("err = %v\nwant %s", err, want)
			}
			// Everything made goes, --cgroup-parent /p included.
			if after := f.tree(); !reflect.DeepEqual(before, after) {
				t.Errorf("left behind: %v", slices.DeleteFunc(after, func(d string) bool { return slices.Contains(before, d) }))
			}
		})
	}
}

// The missing controller on a v1 host: not mounted at all.
func TestCreateV1MissingController(t *testing.T) {
	l, _ := newFixture(t, "hybrid", fixtureOpts{})
	delete(l.V1, "pids")
	_, err := Create(l, testParents(l), "", ctr, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}})
	if err == nil || !strings.Contains(err.Error(), "--pids-limit: the pids controller is not available") {
		t.Errorf("err = %v", err)
	}
}

func TestBlockDevice(t *testing.T) {
	if _, _, err := BlockDevice("/dev/null"); err == nil || err.Error() != "/dev/null: not a block device" {
		t.Errorf("/dev/null: %v", err)
	}
	if _, _, err := BlockDevice(t.TempDir()); err == nil || !strings.HasSuffix(err.Error(), ": not a block device") {
		t.Errorf("dir: %v", err)
	}
	if _, _, err := BlockDevice("/nonexistent/sda"); err == nil || !os.IsNotExist(err) {
		t.Errorf("missing: %v", err)
	}
	if _, err := os.Stat("/dev/loop0"); err == nil {
		maj, min, err := BlockDevice("/dev/loop0")
		if err != nil || maj != 7 || min != 0 {
			t.Errorf("/dev/loop0 = %d:%d, %v", maj, min, err)
		}
	}
}

// This host's v1 blkio: no CFQ blkio.weight, but BFQ's below the root.
func TestCreateV1BFQWeight(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	r := &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(300)}}
	if _, err := Create(l, testParents(l), "", ctr, r); err != nil {
		t.Fatal(err)
	}
	if got := f.file("blkio/" + ctr + "/blkio.bfq.weight"); got != "300" {
		t.Errorf("blkio.bfq.weight = %q", got)
	}
}

// A --cgroup-parent that exists with an empty v1 cpuset (made by hand:
// v1 starts cpuset.cpus and cpuset.mems empty) is filled from its parent
// before the container's is copied from it; joining works.
func TestCreateV1CpusetEmptyExistingParent(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	for _, d := range []string{"cpuset/manual", "cpuset/manual/sub"} {
		f.must(f.mkdir(filepath.Join(f.root, d))) // empty cpus and mems
	}
	c, err := Create(l, testParents(l), "/manual/sub", ctr, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"cpuset/manual", "cpuset/manual/sub", "cpuset/manual/sub/" + ctr} {
		if got := f.file(d+"/cpuset.cpus") + " " + f.file(d+"/cpuset.mems"); got != "0-1 0" {
			t.Errorf("%s: cpus mems = %q, want \"0-1 0\"", d, got)
		}
	}
	if err := c.Join(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

// v2: a --cgroup-parent an earlier container (without limits) made has
// no controllers handed down; a later container with limits enables them
// from the root down instead of refusing its own parent.
func TestCreateV2ExistingParentGetsControllers(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{})
	if _, err := Create(l, testParents(l), "/stdc", ctr, nil); err != nil {
		t.Fatal(err)
	}
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: i64(64 << 20)},
		BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{dev(8, 0, 1<<20)}},
	}
	if _, err := Create(l, testParents(l), "/stdc", ctr+"2", r); err != nil {
		t.Fatal(err)
	}
	if got := f.file("stdc/" + ctr + "2/memory.max"); got != "67108864" {
		t.Errorf("memory.max = %q", got)
	}
	if got := f.file("stdc/" + ctr + "2/io.max"); got != "8:0 rbps=1048576" {
		t.Errorf("io.max = %q", got)
	}
}

// An io.max the kernel refuses: one line, naming the flags, the device
// once, and the file.
func TestCreateV2IOMaxError(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{})
	f.failWrite = map[string]error{"io.max": unix.ENODEV}
	r := &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
		ThrottleReadBpsDevice:  []specs.LinuxThrottleDevice{dev(8, 1, 1<<20)},
		ThrottleWriteBpsDevice: []specs.LinuxThrottleDevice{dev(8, 1, 2<<20)},
	}}
	_, err := Create(l, testParents(l), "/p", ctr, r)
	want := "--device-read-bps/--device-write-bps 8:1 rbps=1048576 wbps=2097152: " + filepath.Join(f.root, "p", ctr, "io.max") + ": no such device"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}
