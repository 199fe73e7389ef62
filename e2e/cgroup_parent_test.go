package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The parent cgroups the launcher makes for --cgroup-parent (and OCI
// linux.cgroupsPath) go with the last container in them; those that
// existed stay. The checks look only at the tests' own parents (a
// container's cgroup is gone when its parent is): other containers may
// run alongside, so assertNoCgroups, which sees every one, is not used.

// namedCgroups lists the cgroup directories called name, in every
// hierarchy (a relative --cgroup-parent is below the caller's own
// cgroup, which differs between hierarchies).
func namedCgroups(name string) []string {
	found := findCgroups(func(n string) bool { return n == name })
	sort.Strings(found)
	return found
}

// parentTest starts a test of the parent cgroups called parent: it
// returns a busybox rootfs and a state directory, and removes at the end
// whatever the test left of parent.
func parentTest(t *testing.T, parent string) (root, st string) {
	t.Helper()
	requireRoot(t)
	t.Cleanup(func() { removeEmptyTrees(namedCgroups(parent)) })
	return busyboxRootfs(t), t.TempDir()
}

// launchOK runs the launcher (as launch) and stops the test unless it
// exits 0.
func launchOK(t *testing.T, st string, args ...string) string {
	t.Helper()
	out, stderr, code := launch(t, st, args...)
	if code != 0 {
		t.Fatalf("launcher %s: exit %d %s", strings.Join(args, " "), code, stderr)
	}
	return out
}

// assertGone fails the test if any cgroup called name is left, after
// waiting up to 5 s (a detached container's monitor may still be
// removing them).
func assertGone(t *testing.T, name, after string) {
	t.Helper()
	var left []string
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if left = namedCgroups(name); len(left) == 0 {
			return
		}
		if time.Now().After(end) {
			break
		}
	}
	t.Errorf("after %s, the parent cgroups the launcher made are left: %v", after, left)
}

// assertNoneListed fails the test if the state directory's record of
// parent cgroups made still lists one.
func assertNoneListed(t *testing.T, st string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(st, "cgroups", "parents.json"))
	var listed []any
	if err == nil && (json.Unmarshal(b, &listed) != nil || len(listed) > 0) {
		t.Errorf("%s/cgroups/parents.json still lists parents: %s", st, b)
	}
}

// callerCgroups returns where a relative --cgroup-parent lands: this
// process's cgroup in the pids and memory hierarchies (v1, hybrid), or
// its cgroup2 directory on a v2-only host.
func callerCgroups(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	v2only := !fileExists("/sys/fs/cgroup/pids") && fileExists("/sys/fs/cgroup/cgroup.controllers")
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		switch {
		case f[1] == "pids" || f[1] == "memory":
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", f[1], f[2]))
		case f[1] == "" && v2only:
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", f[2]))
		}
	}
	if len(dirs) == 0 {
		t.Fatalf("no pids, memory or cgroup2-only hierarchy in /proc/self/cgroup:\n%s", b)
	}
	return dirs
}

func TestCgroupParentMadeIsRemoved(t *testing.T) {
	const parent = "stdc-test-parent"
	root, st := parentTest(t, parent)
	for _, p := range []string{parent + "/inner", "/" + parent + "/a/b"} {
		launchOK(t, st, "run", "--rm", "--cgroup-parent", p, root, "true")
		assertGone(t, parent, "run --rm --cgroup-parent "+p)
	}
	// Without --rm: the cgroups go when the container exits, the state
	// stays until rm.
	launchOK(t, st, "run", "--name", "kept", "--cgroup-parent", parent, root, "true")
	assertGone(t, parent, "a run without --rm")
	launch(t, st, "rm", "kept")
	assertNoneListed(t, st)
}

// A parent that existed (here with a limit of its own) is used and kept;
// in the hierarchies where the launcher had to make it, it goes.
func TestCgroupParentPremadeIsKept(t *testing.T) {
	const parent = "stdc-test-premade"
	root, st := parentTest(t, parent)
	var premade []string
	for _, own := range callerCgroups(t) {
		premade = append(premade, filepath.Join(own, parent))
	}
	sort.Strings(premade) // parentTest removes them at the end
	limit := ""
	for _, d := range premade {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if f := filepath.Join(d, "pids.max"); fileExists(f) && limit == "" {
			if err := os.WriteFile(f, []byte("100"), 0); err != nil {
				t.Fatal(err)
			}
			limit = f
		}
	}
	for _, p := range []string{parent, parent + "/sub"} {
		launchOK(t, st, "run", "--rm", "--cgroup-parent", p, root, "true")
		if got := namedCgroups(parent); strings.Join(got, " ") != strings.Join(premade, " ") {
			t.Errorf("after --cgroup-parent %s: %v, want only the premade %v", p, got, premade)
		}
	}
	if limit != "" {
		if b, _ := os.ReadFile(limit); strings.TrimSpace(string(b)) != "100" {
			t.Errorf("%s = %q, want the 100 it was given", limit, b)
		}
	}
	if got := namedCgroups("sub"); len(got) > 0 {
		t.Errorf("left behind: %v", got)
	}
	for _, d := range premade {
		if entries, _ := os.ReadDir(d); slices.ContainsFunc(entries, os.DirEntry.IsDir) {
			t.Errorf("a cgroup is left in %s: %v", d, entries)
		}
	}
}

// A run that fails after its cgroups exist (the entry point is checked
// in the container; a limit the kernel refuses) leaves no parent.
func TestCgroupParentFailedRunLeavesNothing(t *testing.T) {
	const parent = "stdc-test-failed"
	root, st := parentTest(t, parent)
	if _, stderr, code := launch(t, st, "run", "--rm", "--cgroup-parent", parent+"/inner", root, "/no/such/entry"); code != 127 {
		t.Errorf("missing entry point: exit %d %s, want 127", code, stderr)
	}
	assertGone(t, parent, "a missing entry point")
	if _, stderr, code := launch(t, st, "run", "--rm", "--cpuset-cpus", "1000", "--cgroup-parent", parent, root, "true"); code != 125 || !strings.Contains(stderr, "--cpuset-cpus") {
		t.Errorf("--cpuset-cpus 1000: exit %d %s, want 125", code, stderr)
	}
	assertGone(t, parent, "a refused limit")
	assertNoneListed(t, st)
}

// Two detached containers share a parent: it stays while either runs,
// and goes with the last one.
func TestCgroupParentSharedByDetached(t *testing.T) {
	const parent = "stdc-test-shared"
	root, st := parentTest(t, parent)
	t.Cleanup(func() { launch(t, st, "rm", "-f", "one", "two") }) // before parentTest's
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i, name := range []string{"one", "two"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = exec.Command(bin.launcher, "--root", st, "run", "-d", "--name", name,
				"--cgroup-parent", parent, root, "sleep", "1000").CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("run -d: %v %s", errs[i], outs[i])
		}
	}
	dirs := namedCgroups(parent)
	if len(dirs) == 0 {
		t.Fatal("the containers' parent was not made")
	}
	launchOK(t, st, "rm", "-f", "one")
	time.Sleep(200 * time.Millisecond) // one's monitor finishing, if rm did not wait for it
	if got := namedCgroups(parent); len(got) != len(dirs) {
		t.Errorf("with two still running, the shared parent is in %v, want %v", got, dirs)
	}
	launchOK(t, st, "rm", "-f", "two")
	assertGone(t, parent, "rm -f of both")
	assertNoneListed(t, st)
}

// Runs come and go at once under one parent, so one removes it while
// another is being created in it: none fails, and it is gone at the end.
func TestCgroupParentConcurrentRuns(t *testing.T) {
	const parent = "stdc-test-race"
	root, st := parentTest(t, parent)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				out, err := exec.Command(bin.launcher, "--root", st, "run", "--rm", "--pids-limit", "10",
					"--cgroup-parent", parent+"/inner", root, "true").CombinedOutput()
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error()+": "+string(out))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	assertGone(t, parent, "20 concurrent runs")
	assertNoneListed(t, st)
}

// A detached container whose monitor is SIGKILLed: gc removes its
// cgroups and the parent made for it.
func TestCgroupParentGC(t *testing.T) {
	const parent = "stdc-test-gc"
	root, st := parentTest(t, parent)
	launchOK(t, st, "run", "-d", "--name", "lost", "--cgroup-parent", parent, root, "sleep", "1000")
	out := launchOK(t, st, "inspect", "lost")
	var inspected []struct {
		MonitorPid int
		State      struct{ Pid int }
	}
	if json.Unmarshal([]byte(out), &inspected) != nil || len(inspected) != 1 || inspected[0].MonitorPid <= 0 {
		t.Fatalf("inspect: %q", out)
	}
	syscall.Kill(inspected[0].MonitorPid, syscall.SIGKILL)
	for end := time.Now().Add(5 * time.Second); processAlive(inspected[0].State.Pid) || processAlive(inspected[0].MonitorPid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the container outlived its monitor by 5 s")
		}
	}
	if len(namedCgroups(parent)) == 0 {
		t.Fatal("nothing left for gc to remove: the test shows nothing")
	}
	launchOK(t, st, "gc")
	assertGone(t, parent, "gc")
	assertNoneListed(t, st)
}

// The OCI front: linux.cgroupsPath /stdc-test-oci-parent/inner/ctr
// nests the container under /stdc-test-oci-parent/inner, which delete
// removes with it.
func TestCgroupParentOCI(t *testing.T) {
	requireRoot(t)
	runtime, root := ociRuntime(t), t.TempDir()
	const parent = "stdc-test-oci-parent"
	t.Cleanup(func() { removeEmptyTrees(namedCgroups(parent)) })
	bundle := ociBundle(t, runtime, "sleep", "1000")
	editOCIConfig(t, bundle, func(cfg map[string]any) {
		cfg["linux"].(map[string]any)["cgroupsPath"] = "/" + parent + "/inner/ctr"
	})
	if _, stderr, code := ociRun(t, runtime, root, "create", "--bundle", bundle, "ctr"); code != 0 {
		t.Fatalf("create: exit %d %s", code, stderr)
	}
	if len(namedCgroups(parent)) == 0 {
		t.Error("linux.cgroupsPath: no parent made")
	}
	if _, stderr, code := ociRun(t, runtime, root, "start", "ctr"); code != 0 {
		t.Fatalf("start: exit %d %s", code, stderr)
	}
	if _, stderr, code := ociRun(t, runtime, root, "delete", "--force", "ctr"); code != 0 {
		t.Fatalf("delete --force: exit %d %s", code, stderr)
	}
	assertGone(t, parent, "delete --force")
	assertNoneListed(t, root)
}
