package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// cgroupsLeft lists stdcontainer cgroup directories under every hierarchy.
func cgroupsLeft(t *testing.T) []string {
	t.Helper()
	return leftoverCgroups()
}

func leftoverCgroups() []string {
	return findCgroups(func(name string) bool { return strings.HasPrefix(name, "stdcontainer-") })
}

// findCgroups lists the cgroup directories whose name matches, in every
// hierarchy, down to the depth a container's can be (not below a match).
func findCgroups(match func(name string) bool) []string {
	var left []string
	filepath.WalkDir("/sys/fs/cgroup", func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if match(d.Name()) {
			left = append(left, p)
			return filepath.SkipDir
		}
		if strings.Count(strings.TrimPrefix(p, "/sys/fs/cgroup"), "/") > 6 {
			return filepath.SkipDir
		}
		return nil
	})
	return left
}

func assertNoCgroups(t *testing.T) {
	t.Helper()
	if left := cgroupsLeft(t); len(left) > 0 {
		t.Errorf("cgroups left behind: %v", left)
	}
}

func TestCgroupMemoryLimitOOMKills(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	// The shell holds 50 MB in a variable; a 20 MB limit kills it.
	_, stderr, code := launch(t, st, "run", "--rm", "-m", "20m", root, "sh", "-c",
		`x=$(head -c 52428800 /dev/zero | tr '\0' a); echo survived ${#x}`)
	if code != 137 {
		t.Errorf("exit %d (%s), want 137: the OOM killer must end the container", code, stderr)
	}
	out, _, code := launch(t, st, "run", "--rm", "-m", "20m", root, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	if code != 0 || strings.TrimSpace(out) != "20971520" {
		t.Errorf("the limit seen inside: exit %d %q, want 20971520", code, out)
	}
	assertNoCgroups(t)
}

func TestCgroupMemorySwap(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	out, stderr, code := launch(t, st, "run", "--rm", "-m", "32m", "--memory-swap", "64m", root, "cat",
		"/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"); err != nil {
		// Swap accounting off: a clear refusal naming the file is right.
		if code != 125 || !strings.Contains(stderr, "memory.memsw.limit_in_bytes") {
			t.Errorf("without swap accounting: exit %d %q", code, stderr)
		}
		return
	}
	if code != 0 || out != "67108864\n33554432\n" {
		t.Errorf("exit %d out %q stderr %q; want memsw 64m and memory 32m", code, out, stderr)
	}
	_, stderr, code = launch(t, st, "run", "--rm", "-m", "64m", "--memory-swap", "32m", root, "true")
	if code != 125 || !strings.Contains(stderr, "--memory-swap") {
		t.Errorf("swap below memory: exit %d %q", code, stderr)
	}
	assertNoCgroups(t)
}

func TestCgroupPidsLimit(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	// An inner shell forks sleepers until a fork fails (busy-box sh then
	// exits); the outer one reports with builtins only. PIDs: outer sh +
	// inner sh + 14 sleepers = 16, so the 17th fork is the one refused.
	out, _, _ := launch(t, st, "run", "--rm", "--pids-limit", "16", root, "sh", "-c",
		`sh -c 'i=0; while :; do sleep 5 & i=$((i+1)); echo $i > /tmp/n; done' 2>/tmp/err; read -r n < /tmp/n; read -r e < /tmp/err; read -r max < /sys/fs/cgroup/pids/pids.max; echo "forked=$n max=$max err=$e"`)
	if !strings.Contains(out, "forked=14 max=16 ") || !strings.Contains(out, "fork") {
		t.Errorf("--pids-limit 16: %q; want 14 sleepers forked and the next fork refused", out)
	}
	assertNoCgroups(t)
}

func TestCgroupCPUQuota(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	// A busy loop for 2 s under --cpus 0.5: cpuacct must report about 1 s
	// of CPU (wide bounds: the machine is shared).
	out, stderr, code := launch(t, st, "run", "--rm", "--cpus", "0.5", root, "sh", "-c",
		`read -r t0 x < /proc/uptime; while :; do :; done & sleep 2; read -r t1 x < /proc/uptime; kill $!; echo "wall=$t0 $t1 usage=$(cat /sys/fs/cgroup/cpuacct/cpuacct.usage)"`)
	m := regexp.MustCompile(`wall=([\d.]+) ([\d.]+) usage=(\d+)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("exit %d %q %q", code, out, stderr)
	}
	t0, _ := strconv.ParseFloat(m[1], 64)
	t1, _ := strconv.ParseFloat(m[2], 64)
	usage, _ := strconv.ParseFloat(m[3], 64)
	if share := usage / 1e9 / (t1 - t0); share < 0.3 || share > 0.7 {
		t.Errorf("--cpus 0.5: the busy loop got %.2f of a CPU", share)
	}
	assertNoCgroups(t)
}

func TestCgroupRefusals(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	for _, args := range [][]string{
		{"--memory", "20x"},
		{"--memory", "-5m"},
		{"--pids-limit", "abc"},
		{"--device-read-bps", "/etc/passwd:1mb"},
		{"--cpuset-cpus", "999"},
	} {
		_, stderr, code := launch(t, st, append(append([]string{"run", "--rm"}, args...), root, "true")...)
		if code != 125 || !strings.Contains(stderr, args[0]) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d %q; want 125 and one line naming %s", args, code, stderr, args[0])
		}
	}
	assertNoState(t, st)
	assertNoCgroups(t)
}

func TestCgroupVisibleInsideAndProbe(t *testing.T) {
	requireRoot(t)
	root := filepath.Join(t.TempDir(), "rootfs")
	mkrootfs(t, "-o", root)
	out, _, code := launch(t, t.TempDir(), "run", "--rm", "-m", "64m", "--pids-limit", "64", root)
	status := parseProbe(t, out)
	if code != 0 || status["cgroup-limits"] != "yes" || !strings.Contains(out, "67108864") {
		t.Errorf("probe with limits: exit %d\n%s", code, out)
	}
	assertNoCgroups(t)
}

func TestCgroupDeviceReadBps(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t, "--add", ddApplet(t)+":/"), t.TempDir()
	backing := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(backing, make([]byte, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", "--direct-io=on", backing).Output()
	if err != nil {
		t.Skipf("no loop device: %v", err)
	}
	loop := strings.TrimSpace(string(out))
	defer exec.Command("losetup", "-d", loop).Run()
	// 2 MiB read with O_DIRECT (no page cache) at 1 MiB/s takes ~2 s.
	res, stderr, code := launch(t, st, "run", "--rm", "--device", loop+":/dev/disk", "--device-read-bps", loop+":1mb", root, "sh", "-c",
		`read -r t0 x < /proc/uptime; dd if=/dev/disk of=/dev/null bs=64k count=32 iflag=direct 2>/dev/null; read -r t1 x < /proc/uptime; echo "wall=$t0 $t1"`)
	m := regexp.MustCompile(`wall=([\d.]+) ([\d.]+)`).FindStringSubmatch(res)
	if code != 0 || m == nil {
		t.Fatalf("exit %d %q %q", code, res, stderr)
	}
	t0, _ := strconv.ParseFloat(m[1], 64)
	t1, _ := strconv.ParseFloat(m[2], 64)
	if rate := 2.0 / (t1 - t0); rate > 1.5 || rate < 0.3 {
		t.Errorf("--device-read-bps 1mb: read at %.2f MiB/s", rate)
	}
	assertNoCgroups(t)
}

// ddApplet is a tree with /bin/dd pointing at busybox.
func ddApplet(t *testing.T) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	os.Symlink("busybox", filepath.Join(dir, "bin", "dd"))
	return dir
}

func TestLauncherStats(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	out, _, code := launch(t, st, "run", "-d", "--name", "busy", "-m", "64m", "--pids-limit", "32", root, "sh", "-c", "while :; do :; done")
	if code != 0 {
		t.Fatalf("run -d: exit %d", code)
	}
	defer launch(t, st, "rm", "-f", "busy")
	out, stderr, code := launch(t, st, "stats", "--no-stream", "--format", "json", "busy")
	var s struct {
		ID                     string
		CPUPercent             float64
		MemoryLimit, PidsLimit uint64
		Pids                   uint64
	}
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
		t.Fatalf("stats: exit %d %q %q", code, out, stderr)
	}
	if s.MemoryLimit != 64<<20 || s.PidsLimit != 32 || s.Pids != 1 || s.CPUPercent < 20 {
		t.Errorf("stats of a busy loop with -m 64m --pids-limit 32: %+v", s)
	}
	out, _, code = launch(t, st, "inspect", "busy")
	if code != 0 || !strings.Contains(out, `"Memory": 67108864`) || !strings.Contains(out, `"PidsLimit": 32`) {
		t.Errorf("inspect does not show the limits under HostConfig:\n%s", out)
	}
}

// TestCgroupEveryLimitIsWritten runs with every other limit flag and reads
// the files back inside the container (its cgroups are its /sys/fs/cgroup).
func TestCgroupEveryLimitIsWritten(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	backing := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(backing, make([]byte, 1<<20), 0o644)
	out, err := exec.Command("losetup", "--find", "--show", backing).Output()
	if err != nil {
		t.Skipf("no loop device: %v", err)
	}
	loop := strings.TrimSpace(string(out))
	defer exec.Command("losetup", "-d", loop).Run()
	var st0 syscall.Stat_t
	syscall.Stat(loop, &st0)
	dev := strconv.Itoa(int(st0.Rdev>>8&0xfff)) + ":" + strconv.Itoa(int(st0.Rdev&0xff|(st0.Rdev>>12)&0xfff00))
	parent := "stdcontainer-test-parent-" + strconv.Itoa(os.Getpid())
	defer func() { // the launcher made them and removes them: these are in case it did not
		for _, d := range []string{"cpu", "memory", "pids", "blkio", "cpuset", "cpuacct", "devices", "freezer", "systemd", "unified"} {
			syscall.Rmdir("/sys/fs/cgroup/" + d + "/" + parent)
		}
	}()
	files := map[string]string{
		"memory/memory.soft_limit_in_bytes":      "16777216",
		"cpu/cpu.shares":                         "512",
		"cpuset/cpuset.cpus":                     "0",
		"cpuset/cpuset.mems":                     "0",
		"blkio/blkio.throttle.write_bps_device":  dev + " 2097152",
		"blkio/blkio.throttle.read_iops_device":  dev + " 100",
		"blkio/blkio.throttle.write_iops_device": dev + " 200",
		"cpu/cpu.cfs_quota_us":                   "150000",
	}
	var script strings.Builder
	for f := range files {
		script.WriteString("echo \"" + f + "=$(cat /sys/fs/cgroup/" + f + ")\"; ")
	}
	script.WriteString(`echo "cgroup=$(grep :pids: /proc/self/cgroup)"; echo "weight=$(cat /sys/fs/cgroup/blkio/blkio.bfq.weight 2>/dev/null || cat /sys/fs/cgroup/blkio/blkio.weight)"`)
	// Not --rm: inspect shows where its cgroups were.
	res, stderr, code := launch(t, st, "run", "--name", "every", "--memory", "32m", "--memory-reservation", "16m", "--cpu-shares", "512",
		"--cpus", "1.5", "--cpuset-cpus", "0", "--cpuset-mems", "0", "--blkio-weight", "300",
		"--device-write-bps", loop+":2mb", "--device-read-iops", loop+":100", "--device-write-iops", loop+":200",
		"--cgroup-parent", "/"+parent, root, "sh", "-c", script.String())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for f, want := range files {
		if !strings.Contains(res, f+"="+want+"\n") {
			t.Errorf("%s: want %q in:\n%s", f, want, res)
		}
	}
	if !strings.Contains(res, "weight=300") && !strings.Contains(res, "weight=default 300") {
		t.Errorf("--blkio-weight 300 not applied:\n%s", res)
	}
	if !strings.Contains(res, "cgroup=8:pids:/\n") && !regexp.MustCompile(`cgroup=\d+:pids:/\n`).MatchString(res) {
		t.Errorf("the container must see its own cgroup as the root:\n%s", res)
	}
	if out, _, _ := launch(t, st, "inspect", "every"); !strings.Contains(out, `"/sys/fs/cgroup/pids/`+parent+`/stdcontainer-`) {
		t.Errorf("--cgroup-parent /%s was not used: %s", parent, out)
	}
	launch(t, st, "rm", "every")
	// The container's own cgroups are gone, and with them the parent the
	// launcher made for them (cgroup_parent_test.go has the details).
	if _, err := os.Stat("/sys/fs/cgroup/pids/" + parent); err == nil {
		t.Errorf("--cgroup-parent /%s, which the launcher made, is left behind", parent)
	}
}
