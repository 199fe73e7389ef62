package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOCIUpdate: `update` as podman (--resources FILE), containerd's shim
// (--resources -) and a person (runc's flags) call it, checked where the
// container's processes feel it (its cgroup files, read inside) and in
// the record inspect shows.
func TestOCIUpdate(t *testing.T) {
	requireRoot(t)
	runtime, root := ociRuntime(t), t.TempDir()
	bundle := ociBundle(t, runtime, "sleep", "1000")
	const id = "upd-1"
	if _, stderr, code := ociRun(t, runtime, root, "run", "--detach", "--bundle", bundle, id); code != 0 {
		t.Fatalf("run --detach: exit %d %s", code, stderr)
	}
	defer ociRun(t, runtime, root, "delete", "--force", id) // on a failure half-way
	// The files, in the container's own cgroup namespace; the swap file
	// holds memory+swap on v1, swap alone on v2.
	memFile, swapFile, pidsFile := "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max"
	v2 := false
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err != nil {
		memFile, swapFile, pidsFile, v2 = "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.swap.max", "/sys/fs/cgroup/pids.max", true
	}
	cat := func(step string, files ...string) []string {
		t.Helper()
		out, stderr, code := ociRun(t, runtime, root, append([]string{"exec", id, "cat"}, files...)...)
		f := strings.Fields(out)
		if code != 0 || len(f) != len(files) {
			t.Fatalf("%s: exec cat: exit %d %q %s", step, code, out, stderr)
		}
		return f
	}
	inside := func(step string) (memory, pids string) {
		t.Helper()
		f := cat(step, memFile, pidsFile)
		return f[0], f[1]
	}
	update := func(step, stdin string, args ...string) {
		t.Helper()
		if stderr, code := ociRunStdin(t, runtime, root, stdin, append([]string{"update"}, args...)...); code != 0 {
			t.Fatalf("%s: exit %d %s", step, code, stderr)
		}
	}

	resources := filepath.Join(t.TempDir(), "resources.json")
	os.WriteFile(resources, []byte(`{"memory": {"limit": 67108864}, "pids": {"limit": 32}}`), 0o644)
	update("--resources FILE", "", "--resources", resources, id)
	if mem, pids := inside("--resources FILE"); mem != "67108864" || pids != "32" {
		t.Errorf("after --resources FILE: memory %s pids %s, want 67108864 (64 MiB) and 32", mem, pids)
	}
	// Swap: lowering, then raising both past the current memory+swap,
	// which v1 takes only with memsw written first.
	if _, _, code := ociRun(t, runtime, root, "exec", id, "test", "-e", swapFile); code == 0 {
		update("--memory 64m --memory-swap 96m", "", "--memory", "64m", "--memory-swap", "96m", id)
		update("--memory 256m --memory-swap 512m", "", "--memory", "256m", "--memory-swap", "512m", id)
		want := "268435456 536870912"
		if v2 {
			want = "268435456 268435456" // swap.max is the total minus memory
		}
		if got := strings.Join(cat("swap", memFile, swapFile), " "); got != want {
			t.Errorf("after raising memory and swap: %s %s = %s, want %s", memFile, swapFile, got, want)
		}
	} else {
		t.Log("no swap accounting on this host: the swap steps are skipped")
	}
	update("--memory 128m", "", "--memory", "128m", id)
	if mem, pids := inside("--memory 128m"); mem != "134217728" || pids != "32" {
		t.Errorf("after --memory 128m: memory %s pids %s, want 134217728 and 32 kept", mem, pids)
	}
	// containerd's shim: the JSON on stdin, device rules included (left alone).
	update("--resources -", `{"devices": [{"allow": false, "access": "rwm"}], "pids": {"limit": 64}}`, "--resources", "-", id)
	if mem, pids := inside("--resources -"); mem != "134217728" || pids != "64" {
		t.Errorf("after --resources -: memory %s pids %s, want 134217728 kept and 64", mem, pids)
	}
	// runc updates a paused container too.
	if _, stderr, code := ociRun(t, runtime, root, "pause", id); code != 0 {
		t.Fatalf("pause: exit %d %s", code, stderr)
	}
	update("paused", "", "--pids-limit", "-1", id)
	if _, stderr, code := ociRun(t, runtime, root, "resume", id); code != 0 {
		t.Fatalf("resume: exit %d %s", code, stderr)
	}
	if _, pids := inside("paused"); pids != "max" {
		t.Errorf("after --pids-limit -1 while paused: pids %s, want max", pids)
	}

	// The record shows the new limits.
	out, _, code := launch(t, root, "inspect", id)
	var inspected []struct {
		HostConfig  struct{ Memory, PidsLimit int64 }
		CgroupPaths []string
	}
	if code != 0 || json.Unmarshal([]byte(out), &inspected) != nil || len(inspected) != 1 {
		t.Fatalf("inspect: exit %d %q", code, out)
	}
	if h := inspected[0].HostConfig; h.Memory != 134217728 || h.PidsLimit != -1 {
		t.Errorf("inspect: Memory %d PidsLimit %d, want 134217728 and -1", h.Memory, h.PidsLimit)
	}
	cgroupPaths := inspected[0].CgroupPaths
	if len(cgroupPaths) == 0 {
		t.Error("inspect: no CgroupPaths")
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--memory", "20x", id}, "update --memory 20x: not a size"},
		{[]string{"--memory", "64m", "--memory-swap", "32m", id}, "--memory-swap must be at least --memory"},
		{[]string{"--memory", "64m", "no-such-ctr"}, "container no-such-ctr does not exist"},
	} {
		if stderr, code := ociRunStdin(t, runtime, root, "", append([]string{"update"}, bad.args...)...); code != 1 || !strings.Contains(stderr, bad.want) {
			t.Errorf("update %v: exit %d %q, want 1 and %q", bad.args, code, stderr, bad.want)
		}
	}

	if _, stderr, code := ociRun(t, runtime, root, "kill", id, "KILL"); code != 0 {
		t.Fatalf("kill: exit %d %s", code, stderr)
	}
	waitForStatus(t, runtime, root, id, "stopped")
	if stderr, code := ociRunStdin(t, runtime, root, "", "update", "--memory", "64m", id); code != 1 || !strings.Contains(stderr, "container not running") {
		t.Errorf("update of a stopped container: exit %d %q, want 1 and \"container not running\"", code, stderr)
	}
	if _, stderr, code := ociRun(t, runtime, root, "delete", id); code != 0 {
		t.Fatalf("delete: exit %d %s", code, stderr)
	}
	assertNoState(t, root)
	// This container's cgroups, not every stdcontainer-* one: other
	// tests' containers may run meanwhile.
	for _, p := range cgroupPaths {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("cgroup left behind: %s", p)
		}
	}
}

// ociRunStdin runs the OCI front with stdin and returns stderr and the
// exit status.
func ociRunStdin(t *testing.T, runtime, root, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(runtime, append([]string{"--root", root}, args...)...)
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stderr = strings.NewReader(stdin), &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := waitTimeout(t, cmd, 30*time.Second)
	return stderr.String(), code
}
