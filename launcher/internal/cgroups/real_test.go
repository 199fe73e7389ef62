package cgroups

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// requireRoot skips a test that needs root, or fails it under
// STDC_E2E=require (CI).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("STDC_E2E") == "require" {
		t.Fatal("STDC_E2E=require but not running as root")
	}
	t.Skip("needs root to write cgroupfs (set STDC_E2E=require to make this a failure)")
}

// The real cgroupfs: a 64 MiB, 16-pid cgroup under this process's own,
// a sleep joined to it, then Destroy kills it and leaves nothing.
func TestRealHost(t *testing.T) {
	requireRoot(t)
	l, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	name := "stdcontainer-test-" + strconv.Itoa(os.Getpid())
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20)}, Pids: &specs.LinuxPids{Limit: i64(16)}}
	c, err := Create(l, testParents(l), "", name, r)
	if err != nil {
		if l.Mode == "v2" && strings.Contains(err.Error(), "holds processes") {
			t.Skipf("cgroup v2 host, and this test's own cgroup holds processes: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Destroy() }) // in case of an early failure
	t.Logf("mode %s, paths:\n%s", l.Mode, strings.Join(c.Paths(), "\n"))

	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	if err := c.Join(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}

	memFile, pidsFile := "memory.max", "pids.max"
	memDir, pidsDir := l.V2, l.V2
	if l.V1["memory"] != "" {
		memFile, memDir = "memory.limit_in_bytes", l.V1["memory"]
	}
	if l.V1["pids"] != "" {
		pidsDir = l.V1["pids"]
	}
	for _, p := range c.Paths() {
		switch {
		case strings.HasPrefix(p, memDir+"/"):
			if got, _ := readString(filepath.Join(p, memFile)); got != "67108864" {
				t.Errorf("%s/%s = %q", p, memFile, got)
			}
		case strings.HasPrefix(p, pidsDir+"/") && pidsDir != l.V2:
			if got, _ := readString(filepath.Join(p, pidsFile)); got != "16" {
				t.Errorf("%s/%s = %q", p, pidsFile, got)
			}
		}
	}
	// The sleep is in the container's cgroup in every hierarchy.
	pc, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("/proc/%d/cgroup:\n%s", cmd.Process.Pid, pc)
	for _, line := range strings.Split(strings.TrimSpace(string(pc)), "\n") {
		if !strings.HasSuffix(line, "/"+name) {
			t.Errorf("/proc/PID/cgroup line %q is not in %s", line, name)
		}
	}

	st, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats: %+v", st)
	if st.MemoryLimit != 64<<20 || st.PidsLimit != 16 || st.Pids != 1 || st.MemoryUsage > 64<<20 {
		t.Errorf("Stats = %+v", st)
	}

	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	waitKilled(t, done)
	for _, p := range c.Paths() {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left behind (%v)", p, err)
		}
	}
}

// The real v1 cpuset: a --cgroup-parent made by hand starts with empty
// cpuset.cpus and cpuset.mems; a container under it must still be
// joinable (the kernel refuses an empty cpuset with ENOSPC).
func TestRealCpusetEmptyParent(t *testing.T) {
	requireRoot(t)
	l, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	if l.V1["cpuset"] == "" {
		t.Skip("no v1 cpuset hierarchy")
	}
	parent := "/stdcontainer-test-parent-" + strconv.Itoa(os.Getpid())
	name := "stdcontainer-test-" + strconv.Itoa(os.Getpid())
	if err := os.Mkdir(filepath.Join(l.V1["cpuset"], parent), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, m := range l.mounts() { // Create made the parent everywhere
			os.Remove(filepath.Join(m, parent))
		}
	})
	c, err := Create(l, testParents(l), parent, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Destroy() }) // registered last: runs first
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	if err := c.Join(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	waitKilled(t, done)
}
