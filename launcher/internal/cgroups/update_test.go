package cgroups

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// updateFixtures are the three host kinds, with the --cgroup-parent a
// container with limits needs there (v2: the caller's cgroup is busy).
var updateFixtures = []struct{ name, parent string }{{"v1", ""}, {"hybrid", ""}, {"v2", "/stdc"}}

// createFor makes a container cgroup with r on fixture name and forgets
// Create's writes.
func createFor(t *testing.T, name, parent string, r *specs.LinuxResources) (*Layout, *fakeFS, []string) {
	t.Helper()
	l, f := newFixture(t, name, fixtureOpts{})
	c, err := Create(l, testParents(l), parent, ctr, r)
	if err != nil {
		t.Fatal(err)
	}
	f.writes = nil
	return l, f, c.Paths()
}

// dirOf returns the container's cgroup dir in the hierarchy mounted at m.
func dirOf(t *testing.T, paths []string, m string) string {
	t.Helper()
	for _, p := range paths {
		if strings.HasPrefix(p, m+"/") {
			return p
		}
	}
	t.Fatalf("no path under %s in %v", m, paths)
	return ""
}

// memoryFiles are the container's memory limit files as the kernel shows
// them, and what they should read for a limit and total (-1: none): v1
// has the total in memsw, v2 swap alone in swap.max.
func memoryFiles(t *testing.T, l *Layout, f *fakeFS, paths []string, limit, total int64) (got, want string) {
	t.Helper()
	if m := l.V1["memory"]; m != "" {
		dir := dirOf(t, paths, m)
		got = f.read(filepath.Join(dir, "memory.limit_in_bytes")) + " " + f.read(filepath.Join(dir, "memory.memsw.limit_in_bytes"))
		return got, strconv.FormatInt(limit, 10) + " " + strconv.FormatInt(total, 10)
	}
	dir := dirOf(t, paths, l.V2)
	got = f.read(filepath.Join(dir, "memory.max")) + " " + f.read(filepath.Join(dir, "memory.swap.max"))
	swap := "max"
	if total > 0 {
		swap = strconv.FormatInt(total-limit, 10)
	}
	return got, bytesOrMax(limit) + " " + swap
}

func memory(limit, swap int64) *specs.LinuxResources {
	m := &specs.LinuxMemory{}
	if limit != 0 {
		m.Limit = i64(limit)
	}
	if swap != 0 {
		m.Swap = i64(swap)
	}
	return &specs.LinuxResources{Memory: m}
}

// Raising, lowering, and one of the pair alone, on every host kind. The
// fake refuses, as the kernel, a v1 write that would put memsw below the
// limit, so each step also checks the write order.
func TestUpdateMemory(t *testing.T) {
	const mib = 1 << 20
	for _, fx := range updateFixtures {
		t.Run(fx.name, func(t *testing.T) {
			l, f, paths := createFor(t, fx.name, fx.parent, memory(64*mib, 128*mib))
			for _, step := range []struct {
				name               string
				limit, swap        int64 // given; 0: not given
				wantLimit, wantTot int64
			}{
				{"raise both", 256 * mib, 512 * mib, 256 * mib, 512 * mib},
				{"lower both", 32 * mib, 48 * mib, 32 * mib, 48 * mib},
				{"limit alone keeps the total", 40 * mib, 0, 40 * mib, 48 * mib},
				{"total alone keeps the limit", 0, 96 * mib, 40 * mib, 96 * mib},
				{"limit -1 lifts both", -1, 0, -1, -1},
				{"back to limited", 64 * mib, 128 * mib, 64 * mib, 128 * mib},
			} {
				f.writes = nil
				applied, err := Update(l, paths, memory(step.limit, step.swap))
				if err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				if got, want := memoryFiles(t, l, f, paths, step.wantLimit, step.wantTot); got != want {
					t.Errorf("%s: limit and swap files = %q, want %q (writes %v)", step.name, got, want, f.writes)
				}
				if m := applied.Memory; *m.Limit != step.wantLimit || *m.Swap != step.wantTot {
					t.Errorf("%s: applied %d/%d, want %d/%d", step.name, *m.Limit, *m.Swap, step.wantLimit, step.wantTot)
				}
				if step.name == "raise both" && l.V1["memory"] != "" && idx(f.writes, "memory.memsw") > idx(f.writes, "memory.limit_in_bytes") {
					t.Errorf("raising: memsw must go first: %v", f.writes)
				}
				if step.name == "lower both" && l.V1["memory"] != "" && idx(f.writes, "memory.limit_in_bytes") > idx(f.writes, "memory.memsw") {
					t.Errorf("lowering: the limit must go first: %v", f.writes)
				}
			}
			// A limit above the total, without a new total: refused before
			// any write, as docker update does.
			f.writes = nil
			_, err := Update(l, paths, memory(256*mib, 0))
			if err == nil || err.Error() != "--memory 268435456: above the container's memory+swap limit 134217728; give --memory-swap too" {
				t.Errorf("limit above the total: %v", err)
			}
			if len(f.writes) > 0 {
				t.Errorf("refused, yet wrote %v", f.writes)
			}
		})
	}
}

// A quota or a period alone keeps the other (v2's cpu.max takes both in
// one write, and a lone period would lift the quota).
func TestUpdateCPUKeepsPartner(t *testing.T) {
	r := &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(50000), Period: u64(100000)}}
	for _, fx := range updateFixtures {
		t.Run(fx.name, func(t *testing.T) {
			l, f, paths := createFor(t, fx.name, fx.parent, r)
			cpuFiles := func() string {
				if m := l.V1["cpu"]; m != "" {
					dir := dirOf(t, paths, m)
					return f.read(filepath.Join(dir, "cpu.cfs_quota_us")) + " " + f.read(filepath.Join(dir, "cpu.cfs_period_us"))
				}
				return f.read(filepath.Join(dirOf(t, paths, l.V2), "cpu.max"))
			}
			v1 := l.V1["cpu"] != ""
			for _, step := range []struct {
				quota              int64
				period             uint64
				wantV1, wantV2     string
				appliedQ, appliedP int64
			}{
				{150000, 0, "150000 100000", "150000 100000", 150000, 100000},
				{0, 50000, "150000 50000", "150000 50000", 150000, 50000},
				{-1, 0, "-1 50000", "max 50000", -1, 50000},
			} {
				u := &specs.LinuxResources{CPU: &specs.LinuxCPU{}}
				if step.quota != 0 {
					u.CPU.Quota = i64(step.quota)
				}
				if step.period != 0 {
					u.CPU.Period = u64(step.period)
				}
				applied, err := Update(l, paths, u)
				if err != nil {
					t.Fatal(err)
				}
				want := step.wantV2
				if v1 {
					want = step.wantV1
				}
				if got := cpuFiles(); got != want {
					t.Errorf("quota %d period %d: %q, want %q", step.quota, step.period, got, want)
				}
				if c := applied.CPU; *c.Quota != step.appliedQ || int64(*c.Period) != step.appliedP {
					t.Errorf("quota %d period %d: applied %d/%d", step.quota, step.period, *c.Quota, *c.Period)
				}
			}
			if u := r.CPU; *u.Quota != 50000 || *u.Period != 100000 {
				t.Errorf("the caller's resources changed: %d/%d", *u.Quota, *u.Period)
			}
		})
	}
}

// pids, shares, cpuset, blkio weight: written as Create writes them; the
// device rules an engine sends along are left alone.
func TestUpdateOtherLimits(t *testing.T) {
	for _, fx := range updateFixtures {
		t.Run(fx.name, func(t *testing.T) {
			l, f, paths := createFor(t, fx.name, fx.parent, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(16)}})
			u := &specs.LinuxResources{
				Pids:    &specs.LinuxPids{Limit: i64(32)},
				CPU:     &specs.LinuxCPU{Shares: u64(512), Cpus: "1", Mems: "0"},
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			}
			if _, err := Update(l, paths, u); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"pids.max": "32", "cpuset.cpus": "1", "cpuset.mems": "0"}
			if l.V1["cpu"] != "" {
				want["cpu.shares"] = "512"
			} else {
				want["cpu.weight"] = "59"
			}
			for file, v := range want {
				if got := lastWriteTo(f.writes, file); got != v {
					t.Errorf("%s = %q, want %q (writes %v)", file, got, v, f.writes)
				}
			}
			for _, w := range f.writes {
				if strings.Contains(w, "devices.") || strings.Contains(w, "<device program>") {
					t.Errorf("device rules written: %s", w)
				}
			}
			if _, err := Update(l, paths, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-1)}}); err != nil {
				t.Fatal(err)
			}
			if got := lastWriteTo(f.writes, "pids.max"); got != "max" {
				t.Errorf("pids -1: pids.max = %q, want max", got)
			}
		})
	}
}

// lastWriteTo is the last value written to a file of that name anywhere.
func lastWriteTo(writes []string, name string) string {
	v := ""
	for _, w := range writes {
		if file, data, _ := strings.Cut(w, "="); filepath.Base(file) == name {
			v = data
		}
	}
	return v
}

// v2: a container created without CPU limits lacks the cpu controller
// (its parent did not hand it down); Update enables it first.
func TestUpdateV2EnablesController(t *testing.T) {
	l, f, paths := createFor(t, "v2", "/stdc", nil)
	if hasWord(f.file("stdc/cgroup.subtree_control"), "cpu") {
		t.Fatal("fixture: cpu already enabled in stdc")
	}
	if _, err := Update(l, paths, &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(512)}}); err != nil {
		t.Fatal(err)
	}
	if got := f.file("stdc/cgroup.subtree_control"); !hasWord(got, "cpu") {
		t.Errorf("stdc/cgroup.subtree_control = %q, want cpu in it", got)
	}
	if got := f.file("stdc/" + ctr + "/cpu.weight"); got != "59" {
		t.Errorf("cpu.weight = %q, want 59", got)
	}
}

// Refusals name the flag or the path, and come before any write.
func TestUpdateRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths func(root string, paths []string) []string
		r     *specs.LinuxResources
		want  string // {root} is the fixture root
	}{
		{"total without a limit", nil, memory(0, 128<<20),
			"--memory-swap 134217728: the container has no memory limit; give --memory too"},
		{"unsupported", nil, &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(0)}},
			"cgroups: resources not supported: memory.swappiness"},
		{"below current use", nil, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1 << 20), CheckBeforeUpdate: ptrTo(true)}},
			"--memory 1048576: below the container's current memory use 2097152 (memory.checkBeforeUpdate)"},
		{"a shared parent", func(root string, paths []string) []string {
			return []string{filepath.Join(root, "pids")}
		}, memory(64<<20, 0), "cgroups: not updating {root}/pids: not a container's cgroup (the name does not start with stdcontainer-)"},
		{"outside cgroupfs", func(string, []string) []string { return []string{"/tmp/" + ctr} }, memory(64<<20, 0),
			"cgroups: /tmp/" + ctr + " is in no mounted cgroup hierarchy"},
		{"no cgroups", func(string, []string) []string { return nil }, memory(64<<20, 0),
			"cgroups: the container has no cgroups"},
		{"no memory cgroup", func(root string, paths []string) []string {
			return slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return strings.HasPrefix(p, root+"/memory/") })
		}, memory(64<<20, 0), "--memory: the container has no cgroup in {root}/memory, where the memory controller is"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, f, paths := createFor(t, "hybrid", "", nil)
			mem := dirOf(t, paths, l.V1["memory"])
			f.must(f.write(filepath.Join(mem, "memory.usage_in_bytes"), "2097152"))
			f.writes = nil
			if tc.paths != nil {
				paths = tc.paths(f.root, paths)
			}
			_, err := Update(l, paths, tc.r)
			want := strings.ReplaceAll(tc.want, "{root}", f.root)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %v\nwant %s", err, want)
			}
			if len(f.writes) > 0 {
				t.Errorf("refused, yet wrote %v", f.writes)
			}
		})
	}
}
