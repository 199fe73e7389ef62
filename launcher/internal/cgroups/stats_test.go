package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func put(t *testing.T, dir, file, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// On this host's layout the numbers come from five v1 hierarchies; the
// unified cgroup's cpu.stat must not override cpuacct.
func TestStatsV1(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	c, err := Create(l, testParents(l), "", ctr, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20)}, Pids: &specs.LinuxPids{Limit: i64(16)}})
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(f.root, "memory/process_api/db85e9e805e72043da5287c976202544", ctr)
	put(t, own, "memory.usage_in_bytes", "1234\n")
	put(t, filepath.Join(f.root, "cpuacct", ctr), "cpuacct.usage", "5000000\n")
	put(t, filepath.Join(f.root, "unified", ctr), "cpu.stat", "usage_usec 99\n")
	put(t, filepath.Join(f.root, "pids", ctr), "pids.current", "3\n")
	put(t, filepath.Join(f.root, "blkio", ctr), "blkio.throttle.io_service_bytes_recursive",
		"8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:16 Read 1\n8:16 Write 2\nTotal 4611\n")
	st, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{MemoryUsage: 1234, MemoryLimit: 64 << 20, CPUNanos: 5000000, Pids: 3, PidsLimit: 16, IOReadBytes: 4097, IOWriteBytes: 514}
	if st != want {
		t.Errorf("Stats = %+v\nwant %+v", st, want)
	}
	// No limits: 0, not v1's 9223372036854771712.
	c2, _ := Create(l, testParents(l), "", ctr+"2", nil)
	if st, _ := StatsFromPaths(c2.Paths()); st.MemoryLimit != 0 || st.PidsLimit != 0 {
		t.Errorf("unlimited: %+v", st)
	}
}

func TestStatsV2(t *testing.T) {
	l, _ := newFixture(t, "v2", fixtureOpts{})
	c, err := Create(l, testParents(l), "/stdc", ctr, everything())
	if err != nil {
		t.Fatal(err)
	}
	d := c.Paths()[0]
	put(t, d, "memory.current", "2048\n")
	put(t, d, "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n")
	put(t, d, "pids.current", "2\n")
	put(t, d, "io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2\n")
	st, err := StatsFromPaths(c.Paths())
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{MemoryUsage: 2048, MemoryLimit: 64 << 20, CPUNanos: 1500000, Pids: 2, PidsLimit: 16, IOReadBytes: 101, IOWriteBytes: 202}
	if st != want {
		t.Errorf("Stats = %+v\nwant %+v", st, want)
	}
	c.Destroy()
	if _, err := StatsFromPaths(c.Paths()); err == nil {
		t.Error("stats of a destroyed container: no error")
	}
}

func TestFlagError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&os.PathError{Op: "write", Path: "/c/cpuset.cpus", Err: unix.EINVAL}, "--cpuset-cpus 7: invalid (/c/cpuset.cpus: invalid argument)"},
		{&os.PathError{Op: "open", Path: "/c/cpuset.cpus", Err: unix.ENOENT}, "--cpuset-cpus: /c/cpuset.cpus does not exist"}, // and no more,
		{&os.PathError{Op: "write", Path: "/c/cpuset.cpus", Err: unix.ENOSPC}, "--cpuset-cpus 7: /c/cpuset.cpus: no space left on device"},
	} {
		if got := flagError("--cpuset-cpus", "/c/cpuset.cpus", "7", tc.err).Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// A v2 parent that was not handed the controller gets it, as every
// ancestor from the root down does (README: "enabled in each ancestor's
// cgroup.subtree_control"), as runc's and crun's cgroupfs drivers do.
func TestCreateV2ControllerNotDelegated(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{})
	c, err := Create(l, testParents(l), "/user.slice", ctr, &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"cgroup.subtree_control", "user.slice/cgroup.subtree_control"} {
		if got := f.file(file); !strings.Contains(" "+got+" ", " cpuset ") {
			t.Errorf("%s = %q, want cpuset in it", file, got)
		}
	}
	if got := f.file("user.slice/" + ctr + "/cpuset.cpus"); got != "0" {
		t.Errorf("cpuset.cpus = %q", got)
	}
	c.Destroy()
}

// A busy ancestor that would need a controller is refused before any
// cgroup.subtree_control above it is written.
func TestCreateV2BusyAncestorNoPartialWrites(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{})
	// session-2.scope holds the fake process 4242.
	_, err := Create(l, testParents(l), "sub", ctr, &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}})
	want := "--cpuset-cpus: cannot enable the cpuset controller in " +
		filepath.Join(f.root, "user.slice/user-1000.slice/session-2.scope") + ": it holds processes"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if len(f.writes) != 0 {
		t.Errorf("writes before refusing: %v", f.writes)
	}
}

// v2 without limits: the container's cgroup still gets memory, pids and
// io (as runc's and crun's do), else Stats could only show zeros.
func TestStatsV2NoLimits(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{})
	c, err := Create(l, testParents(l), "/stdc", ctr, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Paths()[0]
	if got := f.file("stdc/" + ctr + "/cgroup.controllers"); got != "memory pids io" {
		t.Errorf("cgroup.controllers = %q", got)
	}
	put(t, d, "memory.current", "2048\n")
	put(t, d, "pids.current", "2\n")
	put(t, d, "io.stat", "8:0 rbytes=100 wbytes=200\n")
	st, err := StatsFromPaths(c.Paths())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Stats{MemoryUsage: 2048, Pids: 2, IOReadBytes: 100, IOWriteBytes: 200}); st != want {
		t.Errorf("Stats = %+v\nwant %+v", st, want)
	}
}
