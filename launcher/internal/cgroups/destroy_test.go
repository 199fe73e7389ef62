package cgroups

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// startSleep starts a real process to kill, reaped in the background (a
// zombie would keep its pid alive).
func startSleep(t *testing.T) (*exec.Cmd, chan error) {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, done
}

func waitKilled(t *testing.T, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("sleep ended with %v, want SIGKILL", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("sleep still running")
	}
}

// v1: freeze, kill what cgroup.procs lists (here a real sleep, moved in
// by the fake Join), thaw, then rmdir everything deepest first, including
// a cgroup the container made inside its own.
func TestDestroyV1(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	c, err := Create(l, testParents(l), "/stdc", ctr, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(16)}})
	if err != nil {
		t.Fatal(err)
	}
	cmd, done := startSleep(t)
	if err := c.Join(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	f.must(f.mkdir(filepath.Join(f.root, "systemd/stdc", ctr, "init.scope")))
	before := len(f.tree())
	f.writes = nil
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	waitKilled(t, done)
	for _, p := range c.Paths() {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", p, err)
		}
	}
	// The 10 container cgroups and init.scope went, and the 10 /stdc
	// parents Create made for them, which no other container uses.
	if after := len(f.tree()); before-after != 21 {
		t.Errorf("%d directories removed, want 21", before-after)
	}
	fz := "freezer/stdc/" + ctr + "/freezer.state"
	if i, j := idx(f.writes, fz+"=FROZEN"), idx(f.writes, fz+"=THAWED"); i < 0 || j < i {
		t.Errorf("freezer writes: %v", f.writes)
	}
	if !f.wrote("unified/stdc/"+ctr+"/cgroup.kill", "1") {
		t.Errorf("no cgroup.kill in the unified tree: %v", f.writes)
	}
	// Again: everything is gone already, which is fine.
	if err := c.Destroy(); err != nil {
		t.Error(err)
	}
}

func TestDestroyV2(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{})
	c, err := Create(l, testParents(l), "/stdc", ctr, everything())
	if err != nil {
		t.Fatal(err)
	}
	cmd, done := startSleep(t)
	c.Join(cmd.Process.Pid)
	if err := destroyPaths(f, c.Paths()); err != nil {
		t.Fatal(err)
	}
	waitKilled(t, done)
	if !f.wrote("stdc/"+ctr+"/cgroup.kill", "1") {
		t.Errorf("writes: %v", f.writes)
	}
	if _, err := os.Stat(c.Paths()[0]); !os.IsNotExist(err) {
		t.Errorf("left: %v", err)
	}
}

// gc reads paths from a state file: never trust them to be cgroups.
func TestDestroyPathsRefuses(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	err := destroyPaths(f, []string{l.V1["memory"], "relative/x", t.TempDir(), filepath.Join(f.root, "cpu/gone")})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"refusing the root of a cgroup hierarchy", `"relative/x" is not an absolute path`, "not on a cgroup filesystem"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error on several lines: %q", err)
	}
	if strings.Contains(err.Error(), "gone") {
		t.Errorf("a missing path is not an error: %v", err)
	}
	if _, err := os.Stat(l.V1["memory"]); err != nil {
		t.Error(err)
	}
	// The real checks: / is no cgroup; a hierarchy's root is refused.
	if err := (realFS{}).check("/"); err == nil {
		t.Error("realFS.check(/): no error")
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/cgroup.procs"); err == nil {
		if err := (realFS{}).check("/sys/fs/cgroup/memory"); err == nil || !strings.Contains(err.Error(), "root") {
			t.Errorf("realFS.check(memory root) = %v", err)
		}
	}
}

// The container's cgroup holding this very process: never kill it.
func TestDestroyNotSelf(t *testing.T) {
	// The directory stays busy with us in it: do not wait the full patience.
	defer func(d time.Duration) { rmdirPatience = d }(rmdirPatience)
	rmdirPatience = 100 * time.Millisecond
	l, f := newFixture(t, "v2", fixtureOpts{})
	c, err := Create(l, testParents(l), "/stdc", ctr, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(c.Paths()[0], "cgroup.kill")) // use the kill loop
	f.must(os.WriteFile(filepath.Join(c.Paths()[0], "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644))
	err = c.Destroy()
	if err == nil || !strings.Contains(err.Error(), "not killing this process") {
		t.Errorf("err = %v", err)
	}
}

// A state file naming a shared parent (here --cgroup-parent /stdc, which
// holds a running container) must not kill or remove anything.
func TestDestroyPathsOnlyContainers(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	c, err := Create(l, testParents(l), "/stdc", ctr, nil)
	if err != nil {
		t.Fatal(err)
	}
	cmd, _ := startSleep(t)
	if err := c.Join(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	before := f.tree()
	f.writes = nil
	var parents []string
	for _, p := range c.Paths() {
		parents = append(parents, filepath.Dir(p))
	}
	err = destroyStatePaths(f, parents, f.parents)
	if err == nil || !strings.Contains(err.Error(), "not a container's cgroup") {
		t.Errorf("err = %v", err)
	}
	if after := f.tree(); len(after) != len(before) || len(f.writes) != 0 {
		t.Errorf("removed %d directories, wrote %v", len(before)-len(after), f.writes)
	}
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the container's process: %v", err)
	}
	// Its own paths still go.
	if err := destroyStatePaths(f, c.Paths(), f.parents); err != nil {
		t.Error(err)
	}
}
