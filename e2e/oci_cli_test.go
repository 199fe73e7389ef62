package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOCIGlobalFlagsListAndKillAll: runc's global flags as engines pass
// them (--log with --log-format json, --systemd-cgroup), create's flags
// that change nothing here, list, kill --all and spec --rootless.
func TestOCIGlobalFlagsListAndKillAll(t *testing.T) {
	requireRoot(t)
	runtime, root := ociRuntime(t), t.TempDir()
	log := filepath.Join(t.TempDir(), "log.json")
	global := []string{"--log", log, "--log-format", "json", "--systemd-cgroup"}
	bundle := ociBundle(t, runtime, "sh", "-c", "sleep 1000 & sleep 1000")
	editOCIConfig(t, bundle, func(cfg map[string]any) {
		cfg["linux"].(map[string]any)["cgroupsPath"] = "stdc_test.slice:stdc:listed"
	})
	defer removeEmptyCgroups("stdc_test.slice")
	create := append(append([]string{}, global...), "create", "--no-pivot", "--no-new-keyring", "--bundle", bundle, "listed")
	if _, stderr, code := ociRun(t, runtime, root, create...); code != 0 {
		t.Fatalf("create: exit %d %s", code, stderr)
	}
	defer ociRun(t, runtime, root, "delete", "--force", "listed")
	_, pid := ociStatus(t, runtime, root, "listed")
	if cgroup, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup"); !strings.Contains(string(cgroup), ":/stdc_test.slice/stdcontainer-") {
		t.Errorf("--systemd-cgroup with stdc_test.slice:stdc:listed: the container's cgroups are\n%s", cgroup)
	}

	out, _, code := ociRun(t, runtime, root, "list", "--format", "json")
	var listed []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || len(listed) != 1 ||
		listed[0]["id"] != "listed" || listed[0]["status"] != "created" || listed[0]["bundle"] != bundle {
		t.Errorf("list --format json: exit %d %q", code, out)
	}
	if out, _, code := ociRun(t, runtime, root, "list", "-q"); code != 0 || out != "listed\n" {
		t.Errorf("list -q: exit %d %q", code, out)
	}

	if _, stderr, code := ociRun(t, runtime, root, "start", "listed"); code != 0 {
		t.Fatalf("start: exit %d %s", code, stderr)
	}
	// Both sleeps: the background one too, which a signal to PID 1
	// alone would not reach.
	var pids []int
	for i := 0; i < 100 && len(pids) < 2; i++ {
		out, _, _ := ociRun(t, runtime, root, "ps", "--format", "json", "listed")
		json.Unmarshal([]byte(out), &pids)
		time.Sleep(20 * time.Millisecond)
	}
	if len(pids) != 2 {
		t.Fatalf("ps: %v, want the two sleeps", pids)
	}
	if _, stderr, code := ociRun(t, runtime, root, "kill", "--all", "listed", "KILL"); code != 0 {
		t.Fatalf("kill --all: exit %d %s", code, stderr)
	}
	for _, p := range pids {
		for i := 0; i < 100 && processAlive(p); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		if processAlive(p) {
			t.Errorf("process %d survived kill --all", p)
		}
	}

	// Errors reach the --log file as json lines, with containerd's phrases.
	if _, _, code := ociRun(t, runtime, root, append(append([]string{}, global...), "state", "missing")...); code == 0 {
		t.Error("state of a missing container succeeded")
	}
	data, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var last map[string]any
	if json.Unmarshal([]byte(lines[len(lines)-1]), &last) != nil || last["level"] != "error" ||
		!strings.Contains(last["msg"].(string), "does not exist") || last["time"] == nil {
		t.Errorf("--log --log-format json: last line %q, want {level: error, msg: ...does not exist, time}", lines[len(lines)-1])
	}

	// spec --rootless: a user namespace mapping the caller's ids.
	rootless := t.TempDir()
	if err := os.Rename(busyboxRootfs(t), filepath.Join(rootless, "rootfs")); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(runtime, "spec", "--rootless", "--bundle", rootless).CombinedOutput(); err != nil {
		t.Fatalf("spec --rootless: %v %s", err, out)
	}
	editOCIConfig(t, rootless, func(cfg map[string]any) {
		p := cfg["process"].(map[string]any)
		p["args"], p["terminal"] = []string{"cat", "/proc/self/uid_map"}, false
	})
	out, stderr, code := ociRun(t, runtime, root, "run", "--bundle", rootless, "rootless")
	ociRun(t, runtime, root, "delete", "--force", "rootless")
	if code != 0 || strings.Join(strings.Fields(out), " ") != "0 "+strconv.Itoa(os.Geteuid())+" 1" {
		t.Errorf("run of spec --rootless's config: exit %d %q %s; want the caller's uid mapped to 0", code, out, stderr)
	}
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
