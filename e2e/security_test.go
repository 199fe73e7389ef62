package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// defaultCapMask is docker's 14 default capabilities as /proc shows them.
const defaultCapMask = "00000000a80425fb"

// escapeRootfs is a busybox rootfs with the escape helper at /bin/escape.
func escapeRootfs(t *testing.T) string {
	t.Helper()
	return busyboxRootfs(t, "--app", goHelper(t, "escape")+":/bin/escape")
}

// loopDisk attaches a loop device to a small file for the test: a block
// device the host itself can read, so that only a container's
// confinement stands in the way. It returns its path and "MAJ:MIN".
func loopDisk(t *testing.T) (string, string) {
	t.Helper()
	backing := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(backing, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", backing).Output()
	if err != nil {
		t.Fatalf("losetup: %v", err)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", loop).Run() })
	var st unix.Stat_t
	if err := unix.Stat(loop, &st); err != nil {
		t.Fatal(err)
	}
	return loop, fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
}

// lines maps each "NAME: rest" line of the escape helper to its rest.
func escapeLines(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		name, rest, ok := strings.Cut(line, ": ")
		if ok {
			if name == "status" {
				key, value, _ := strings.Cut(rest, ":")
				m["status "+key] = strings.TrimSpace(value)
				continue
			}
			m[name] = rest
		}
	}
	return m
}

// hostSnapshot is what a container must never change on the host.
func hostSnapshot(t *testing.T) string {
	t.Helper()
	hostname, _ := os.Hostname()
	links, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	keys, _ := exec.Command("cat", "/proc/keys").Output()
	var names []string
	for _, l := range strings.Split(string(links), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			names = append(names, f[1])
		}
	}
	return fmt.Sprintf("hostname %s\nlinks %s\nmounts %d\nkeys %d", hostname, strings.Join(names, " "),
		strings.Count(string(mounts), "\n"), strings.Count(string(keys), "\n"))
}

func TestHostileContainerIsConfined(t *testing.T) {
	requireRoot(t)
	root, st := escapeRootfs(t), t.TempDir()
	_, disk := loopDisk(t)
	before := hostSnapshot(t)
	out, stderr, code := launch(t, st, "run", "--rm", "-e", "ESCAPE_DISK="+disk, root, "/bin/escape")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if after := hostSnapshot(t); after != before {
		t.Errorf("the host changed:\nbefore %s\nafter  %s", before, after)
	}
	got := escapeLines(out)
	if strings.Contains(out, "ALLOWED") {
		t.Errorf("an escape worked:\n%s", out)
	}
	// Each of these must be refused by the confinement itself (seccomp,
	// capabilities, device cgroup, read-only mounts), whatever the kernel
	// supports: EPERM.
	for _, name := range []string{"mount", "remount-root-rw", "remount-sys-rw", "init_module", "finit_module",
		"reboot", "kexec_load", "swapon", "keyctl", "add_key", "bpf", "perf_event_open", "open_by_handle_at",
		"userns", "hostname-host", "net-link"} {
		if !strings.HasPrefix(got[name], "denied (EPERM)") {
			t.Errorf("%s: %q, want denied (EPERM)", name, got[name])
		}
	}
	if !strings.HasPrefix(got["mknod-disk"], "denied (EPERM)") || !strings.Contains(got["mknod-disk"], "open failed") {
		t.Errorf("mknod-disk: %q, want the open of the node denied (EPERM) by the device cgroup", got["mknod-disk"])
	}
	// These files may not exist on every kernel; where they do, they are
	// masked or read-only.
	for _, name := range []string{"sysrq", "kcore", "kmsg"} {
		if !strings.HasPrefix(got[name], "denied (") {
			t.Errorf("%s: %q, want denied", name, got[name])
		}
	}
	if !strings.HasPrefix(got["host-procs"], "1 processes visible") {
		t.Errorf("host-procs: %q, want only the container's own process", got["host-procs"])
	}
	if got["fds"] != "0,1,2" {
		t.Errorf("fds: %q, want 0,1,2", got["fds"])
	}
	if !strings.HasPrefix(got["cwd"], "/ (same dev/ino as /)") {
		t.Errorf("cwd: %q, want the container's /", got["cwd"])
	}
	for key, want := range map[string]string{"CapInh": defaultCapMask, "CapPrm": defaultCapMask, "CapEff": defaultCapMask,
		"CapBnd": defaultCapMask, "CapAmb": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2"} {
		if got["status "+key] != want {
			t.Errorf("/proc/self/status %s: %q, want %q", key, got["status "+key], want)
		}
	}
	assertNoState(t, st)
}

// status runs sh -c 'grep KEY /proc/self/status' in a container with the
// given run flags and returns the value.
func statusWith(t *testing.T, root, key string, flags ...string) string {
	t.Helper()
	args := append(append([]string{"run", "--rm"}, flags...), root, "grep", key+":", "/proc/self/status")
	out, stderr, code := launch(t, t.TempDir(), args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", flags, code, stderr)
	}
	_, value, _ := strings.Cut(strings.TrimSpace(out), ":")
	return strings.TrimSpace(value)
}

func TestSecurityOverrides(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	// NET_ADMIN is capability 12, CHOWN 0.
	cases := []struct {
		flags      []string
		key, value string
	}{
		{[]string{"--cap-add", "net_admin", "--cap-drop", "CAP_CHOWN"}, "CapEff", "00000000a80435fa"},
		{[]string{"--cap-drop", "ALL"}, "CapEff", "0000000000000000"},
		{[]string{"--cap-drop", "all", "--cap-add", "KILL"}, "CapBnd", "0000000000000020"},
		{[]string{"--privileged"}, "CapEff", ownBoundingSet(t)},
		{[]string{"--privileged"}, "Seccomp", "0"},
		{[]string{"--security-opt", "seccomp=unconfined"}, "Seccomp", "0"},
		{[]string{"--security-opt", "no-new-privileges=false"}, "NoNewPrivs", "0"},
		{[]string{"--security-opt", "no-new-privileges"}, "NoNewPrivs", "1"},
		{[]string{"-u", "1000"}, "CapEff", "0000000000000000"},
		{[]string{"-u", "1000"}, "CapBnd", defaultCapMask},
	}
	for _, c := range cases {
		if got := statusWith(t, root, c.key, c.flags...); got != c.value {
			t.Errorf("%v: %s %s, want %s", c.flags, c.key, got, c.value)
		}
	}

	// A profile of our own: docker's JSON format.
	profile := filepath.Join(t.TempDir(), "no-mkdir.json")
	os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}`), 0o644)
	out, _, code := launch(t, t.TempDir(), "run", "--rm", "--security-opt", "seccomp="+profile, root, "sh", "-c", "mkdir /x 2>&1; echo $?")
	if code != 0 || !strings.Contains(out, "Operation not permitted") {
		t.Errorf("seccomp=%s: exit %d, %q; want mkdir refused", profile, code, out)
	}

	// Masked paths: a tmpfs on /sys/firmware by default, not with --privileged.
	count := func(flags ...string) string {
		args := append(append([]string{"run", "--rm"}, flags...), root, "grep", "-c", " /sys/firmware ", "/proc/self/mountinfo")
		out, _, _ := launch(t, t.TempDir(), args...)
		return strings.TrimSpace(out)
	}
	if got := count(); got != "1" {
		t.Errorf("/sys/firmware mounts by default: %s, want 1 (masked)", got)
	}
	if got := count("--privileged"); got != "0" {
		t.Errorf("/sys/firmware mounts with --privileged: %s, want 0", got)
	}
	if got := count("--security-opt", "systempaths=unconfined"); got != "0" {
		t.Errorf("/sys/firmware mounts with systempaths=unconfined: %s, want 0", got)
	}
}

// ownBoundingSet is the test's own CapBnd: all that --privileged can give.
func ownBoundingSet(t *testing.T) string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	_, value, _ := strings.Cut(grepLine(string(status), "CapBnd:"), ":")
	return strings.TrimSpace(value)
}

func TestSecurityRefusals(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	cases := []struct {
		flags []string
		msg   string
	}{
		{[]string{"--cap-add", "SYS_ADMN"}, `--cap-add SYS_ADMN: unknown capability "SYS_ADMN"`},
		{[]string{"--security-opt", "seccomp=/nonexistent.json"}, "--security-opt seccomp=/nonexistent.json:"},
		{[]string{"--security-opt", "apparmor=docker-default"}, "AppArmor is not enabled on this host"},
		{[]string{"--security-opt", "label=type:container_t"}, "SELinux is not enabled on this host"},
		{[]string{"--security-opt", "bogus"}, "--security-opt bogus: want"},
		{[]string{"--device", "/dev/nonexistent"}, "--device /dev/nonexistent:"},
		{[]string{"--device", "/etc/hostname:/dev/x"}, "not a device node"},
		{[]string{"--userns", "0:100000"}, "--userns 0:100000: want"},
		{[]string{"--userns", "0:100000:65536,10:200000:10"}, "ranges overlap"},
	}
	for _, c := range cases {
		st := t.TempDir()
		args := append(append([]string{"run", "--rm"}, c.flags...), root, "true")
		_, stderr, code := launch(t, st, args...)
		if code != 125 || !strings.Contains(stderr, c.msg) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, %q; want 125 and one line with %q", c.flags, code, stderr, c.msg)
		}
		assertNoState(t, st)
	}
}

func TestDeviceFlag(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t, "--app", "/bin/busybox:/bin/dd")
	node, _ := loopDisk(t)
	read := "head -c 512 /dev/xdisk | wc -c"
	out, stderr, code := launch(t, t.TempDir(), "run", "--rm", "--device", node+":/dev/xdisk:r", root, "sh", "-c", read)
	if code != 0 || strings.TrimSpace(out) != "512" {
		t.Errorf("--device %s:/dev/xdisk:r: exit %d, %q %s; want 512 bytes read", node, code, out, stderr)
	}
	write := "echo x | dd of=/dev/xdisk conv=notrunc 2>&1; ls -l /dev/xdisk"
	out, _, _ = launch(t, t.TempDir(), "run", "--rm", "--device", node+":/dev/xdisk:r", root, "sh", "-c", write)
	if !strings.Contains(out, "Operation not permitted") {
		t.Errorf("writing a read-only --device: %q, want it refused by the device cgroup", out)
	}
}

// hostileImage is a busybox rootfs where path is a symlink to target (a
// host path).
func hostileImage(t *testing.T, path, target string) string {
	t.Helper()
	root := busyboxRootfs(t)
	p := filepath.Join(root, path)
	os.RemoveAll(p)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestHostileImageSymlinks(t *testing.T) {
	requireRoot(t)
	canaryDir := t.TempDir()
	canary := filepath.Join(canaryDir, "canary")
	os.WriteFile(canary, []byte("untouched\n"), 0o644)
	sum := func() string {
		h := sha256.New()
		filepath.WalkDir(canaryDir, func(p string, d os.DirEntry, err error) error {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(h, "%s %v %x\n", p, d.Type(), sha256.Sum256(data))
			return nil
		})
		return hex.EncodeToString(h.Sum(nil))
	}
	before := sum()
	mountsOnCanary := func() bool {
		data, _ := os.ReadFile("/proc/self/mountinfo")
		return strings.Contains(string(data), canaryDir)
	}
	volume := t.TempDir()
	cases := []struct {
		path, target string
		args         []string
	}{
		{"/etc/resolv.conf", canary, []string{"sh", "-c", "echo nameserver 6.6.6.6 > /etc/resolv.conf"}},
		{"/etc/hosts", canary, []string{"sh", "-c", "cat /etc/hosts"}},
		{"/dev", canaryDir, []string{"true"}},
		{"/proc", canaryDir, []string{"true"}},
		{"/run", canaryDir, []string{"true"}},
		{"/data", canaryDir, []string{"sh", "-c", "echo pwned > /data/pwned"}},
	}
	for _, c := range cases {
		root := hostileImage(t, c.path, c.target)
		args := []string{"run", "--rm", "--add-host", "evil:6.6.6.6", "-v", volume + ":/data"}
		_, stderr, code := launch(t, t.TempDir(), append(append(args, root), c.args...)...)
		t.Logf("%s -> %s: exit %d %s", c.path, c.target, code, strings.TrimSpace(stderr))
		if sum() != before {
			t.Fatalf("%s -> %s: the host's canary directory changed", c.path, c.target)
		}
		if mountsOnCanary() {
			t.Fatalf("%s -> %s: a mount landed on the host's canary directory", c.path, c.target)
		}
	}
	if _, err := os.Stat(filepath.Join(volume, "pwned")); err != nil {
		t.Errorf("the volume at the image's symlinked /data was not mounted inside the container: %v", err)
	}
}

func TestExecJoinsTheContainer(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	id, stderr, code := launch(t, st, "run", "-d", "--name", "target", "--hostname", "inside", "-e", "FROM_RUN=1", root, "sleep", "60")
	if code != 0 {
		t.Fatalf("run -d: exit %d: %s", code, stderr)
	}
	defer launch(t, st, "rm", "-f", "target")
	id = strings.TrimSpace(id)
	out, stderr, code := launch(t, st, "exec", "-e", "FROM_EXEC=2", "target", "sh", "-c",
		`hostname; echo $FROM_RUN$FROM_EXEC; readlink /proc/1/exe; cat /proc/self/cgroup > /tmp/mine; cat /proc/1/cgroup > /tmp/init; `+
			`test "$(cat /tmp/mine)" = "$(cat /tmp/init)" && echo same-cgroup; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; ls /proc | grep -c "^[0-9]"; exit 3`)
	want := "inside\n12\n/bin/busybox\nsame-cgroup\n"
	if code != 3 || !strings.HasPrefix(out, want) {
		t.Fatalf("exec: exit %d, %q %s; want 3 and %q...", code, out, stderr, want)
	}
	for _, line := range []string{"CapEff:\t" + defaultCapMask, "NoNewPrivs:\t1", "Seccomp:\t2"} {
		if !strings.Contains(out, line) {
			t.Errorf("exec'd process: %q lacks %q", out, line)
		}
	}
	// sleep, sh, ls and (if forked in time) grep: only the container's.
	if !strings.HasSuffix(out, "\n3\n") && !strings.HasSuffix(out, "\n4\n") {
		t.Errorf("exec'd process sees other processes than the container's: %q", out)
	}
	out, _, code = launch(t, st, "exec", "-u", "1000:1000", "-w", "/tmp", "target", "sh", "-c", "id -u; pwd")
	if code != 0 || out != "1000\n/tmp\n" {
		t.Errorf("exec -u 1000 -w /tmp: exit %d %q", code, out)
	}
	_, stderr, code = launch(t, st, "exec", "target", "nosuchcmd")
	if code != 127 || !strings.Contains(stderr, "nosuchcmd") {
		t.Errorf("exec of a missing command: exit %d %q, want 127", code, stderr)
	}
	_, stderr, code = launch(t, st, "exec", "nosuchcontainer", "true")
	if code != 125 {
		t.Errorf("exec into a missing container: exit %d %q, want 125", code, stderr)
	}
	launch(t, st, "kill", "target")
	time.Sleep(300 * time.Millisecond)
	_, stderr, code = launch(t, st, "exec", "target", "true")
	if code != 125 || !strings.Contains(stderr, "not running") {
		t.Errorf("exec into a stopped container: exit %d %q, want 125 not running", code, stderr)
	}
}

// TestExecCannotOverwriteTheLauncher is CVE-2019-5736: while `launcher
// exec` enters the container, its processes try to open the launcher
// binary through /proc/PID/exe.
func TestExecCannotOverwriteTheLauncher(t *testing.T) {
	requireRoot(t)
	root, st := escapeRootfs(t), t.TempDir()
	binSum := func() string {
		data, err := os.ReadFile(bin.launcher)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%x", sha256.Sum256(data))
	}
	before := binSum()
	var wg sync.WaitGroup
	var out string
	wg.Add(1)
	go func() {
		defer wg.Done()
		out, _, _ = launch(t, st, "run", "--rm", "--name", "attacker", "-e", "ESCAPE_LOOP_SECONDS=4", root, "/bin/escape", "exe-write")
	}()
	deadline := time.Now().Add(3 * time.Second)
	execs := 0
	for time.Now().Before(deadline) {
		if _, _, code := launch(t, st, "exec", "attacker", "true"); code == 0 {
			execs++
		}
	}
	wg.Wait()
	if execs == 0 {
		t.Fatal("no exec ran while the attacker looped")
	}
	if !strings.HasPrefix(out, "exe-write: denied") {
		t.Errorf("the attacker's result: %q", out)
	}
	if strings.Contains(out, "launcher") {
		t.Errorf("the attacker saw the launcher binary through /proc/PID/exe: %q", out)
	}
	if binSum() != before {
		t.Error("the launcher binary changed")
	}
	t.Logf("%d execs; %s", execs, strings.TrimSpace(out))
}

func TestUsernsAuto(t *testing.T) {
	requireRoot(t)
	st := t.TempDir()
	// The mapped root must be able to reach the image (see README): it
	// goes under a directory of its own that others may search.
	base, err := os.MkdirTemp("", "stdc-userns-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	os.Chmod(base, 0o755)
	root := filepath.Join(base, "rootfs")
	mkrootfs(t, "-o", root, "--app", busybox(t)+":/bin/busybox", "--add", busyboxLinks(t)+":/")
	out, stderr, code := launch(t, st, "run", "--rm", "--userns=auto", root, "sh", "-c",
		"id -u; cat /proc/self/uid_map; ls -ln /bin/busybox; echo ok > /etc/written && cat /etc/written; grep CapEff /proc/self/status")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(out, "\n")
	if len(lines) < 5 || lines[0] != "0" {
		t.Fatalf("output %q", out)
	}
	m := strings.Fields(lines[1])
	if len(m) != 3 || m[0] != "0" || m[1] == "0" || m[2] != "65536" {
		t.Errorf("uid_map %q, want 0 HOSTID 65536 with HOSTID > 0", lines[1])
	}
	if f := strings.Fields(lines[2]); len(f) < 4 || f[2] != "0" || f[3] != "0" {
		t.Errorf("the image's files inside: %q, want owned by 0:0 (id-mapped)", lines[2])
	}
	if lines[3] != "ok" || lines[4] != "CapEff:\t"+defaultCapMask {
		t.Errorf("output %q", out)
	}
	// The host sees the mapped uid, and the range is given back at exit.
	id, stderr, code := launch(t, st, "run", "-d", "--userns=auto", root, "sleep", "30")
	if code != 0 {
		t.Fatalf("run -d: exit %d %s", code, stderr)
	}
	inspect, _, _ := launch(t, st, "inspect", strings.TrimSpace(id))
	var pid int
	if i := strings.Index(inspect, `"Pid": `); i >= 0 {
		fmt.Sscan(inspect[i+len(`"Pid": `):], &pid)
	}
	status, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if !strings.Contains(string(status), "Uid:\t"+m[1]) {
		t.Errorf("the host sees the container's root as %q, want uid %s", grepLine(string(status), "Uid:"), m[1])
	}
	launch(t, st, "rm", "-f", strings.TrimSpace(id))
	if leases, _ := os.ReadDir(filepath.Join(st, "userns")); len(leases) != 0 {
		t.Errorf("%d id ranges still leased after the containers are gone", len(leases))
	}
	minimal := filepath.Join(base, "minimal")
	mkrootfs(t, "-o", minimal)
	probe, _, _ := launch(t, st, "run", "--rm", "--userns=auto", minimal)
	if got := parseProbe(t, probe); got["ns-user"] != "yes" || got["mac-security"] != "yes" {
		t.Errorf("probe under --userns=auto: ns-user %s, mac-security %s; want yes, yes", got["ns-user"], got["mac-security"])
	}
}

func grepLine(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestRootless runs the launcher as nobody: root inside, nobody outside.
func TestRootless(t *testing.T) {
	requireRoot(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv (util-linux) is needed")
	}
	// Everything nobody needs must be reachable by nobody.
	dir, err := os.MkdirTemp("", "stdc-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	launcher := filepath.Join(dir, "launcher")
	data, _ := os.ReadFile(bin.launcher)
	os.WriteFile(launcher, data, 0o755)
	root := filepath.Join(dir, "rootfs")
	mkrootfs(t, "-o", root, "--app", busybox(t)+":/bin/busybox", "--add", busyboxLinks(t)+":/")
	runtimeDir := filepath.Join(dir, "run")
	os.Mkdir(runtimeDir, 0o700)
	os.Chown(runtimeDir, 65534, 65534)
	asNobody := func(args ...string) (string, string, int) {
		cmd := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", launcher}, args...)...)
		cmd.Env = []string{"XDG_RUNTIME_DIR=" + runtimeDir, "PATH=/usr/bin:/bin"}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		code := waitTimeout(t, cmd, 60*time.Second)
		return stdout.String(), stderr.String(), code
	}
	out, stderr, code := asNobody("run", "--rm", root, "sh", "-c", "id -u; cat /proc/self/uid_map; cat /etc/resolv.conf | head -1")
	lines := strings.Split(out, "\n")
	if code != 0 || len(lines) < 3 {
		t.Fatalf("rootless run: exit %d: %q %s", code, out, stderr)
	}
	if lines[0] != "0" || strings.Join(strings.Fields(lines[1]), " ") != "0 65534 1" || !strings.HasPrefix(lines[2], "# generated by stdcontainer") {
		t.Errorf("rootless run printed %q; want uid 0 inside, mapped to 65534, and an injected resolv.conf", out)
	}
	id, stderr, code := asNobody("run", "-d", root, "sleep", "30")
	if code != 0 {
		t.Fatalf("rootless run -d: exit %d: %s", code, stderr)
	}
	id = strings.TrimSpace(id)
	state, err := os.ReadFile(filepath.Join(runtimeDir, "stdcontainer", id, "state.json"))
	if err != nil {
		t.Fatalf("the rootless state is not under $XDG_RUNTIME_DIR/stdcontainer: %v", err)
	}
	var pid int
	if i := strings.Index(string(state), `"Pid":`); i >= 0 {
		fmt.Sscan(string(state)[i+len(`"Pid":`):], &pid)
	}
	status, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if !strings.Contains(string(status), "Uid:\t65534\t") {
		t.Errorf("the host sees the rootless container as %q, want uid 65534", grepLine(string(status), "Uid:"))
	}
	if _, stderr, code := asNobody("rm", "-f", id); code != 0 {
		t.Errorf("rootless rm -f: exit %d %s", code, stderr)
	}
	for _, c := range []struct {
		flags []string
		msg   string
	}{
		{[]string{"--memory", "64m"}, "resource limits need root here"},
		{[]string{"-p", "8080:80"}, "need root"},
		{[]string{"--userns", "auto"}, "needs root"},
	} {
		_, stderr, code := asNobody(append(append([]string{"run", "--rm"}, c.flags...), root, "true")...)
		if code != 125 || !strings.Contains(stderr, c.msg) {
			t.Errorf("rootless %v: exit %d %q, want 125 and %q", c.flags, code, stderr, c.msg)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(runtimeDir, "stdcontainer")); len(entries) > 1 { // .lock
		t.Errorf("rootless state left behind: %v", entries)
	}

	// With subordinate ids (newuidmap, /etc/subuid): ids beyond root exist.
	if _, err := exec.LookPath("newuidmap"); err != nil {
		t.Fatal("newuidmap (Debian's uidmap) is needed for the subordinate-id test")
	}
	withSubIDs(t, "nobody:300000:65536\n")
	out, stderr, code = asNobody("run", "--rm", root, "sh", "-c", "cat /proc/self/uid_map; touch /tmp/f; chown 1000:1000 /tmp/f && ls -ln /tmp/f")
	if code != 0 {
		t.Fatalf("rootless run with subordinate ids: exit %d: %s", code, stderr)
	}
	maps := strings.Fields(out)
	if len(maps) < 10 || strings.Join(maps[:6], " ") != "0 65534 1 1 300000 65535" || maps[8] != "1000" || maps[9] != "1000" {
		t.Errorf("rootless run with subordinate ids printed %q; want uid_map 0 65534 1, 1 300000 65535 and a file chowned to 1000", out)
	}
}

// withSubIDs replaces /etc/subuid and /etc/subgid with content for the
// test and puts the originals back afterwards.
func withSubIDs(t *testing.T, content string) {
	for _, file := range []string{"/etc/subuid", "/etc/subgid"} {
		old, err := os.ReadFile(file)
		existed := err == nil
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if existed {
				os.WriteFile(file, old, 0o644)
			} else {
				os.Remove(file)
			}
		})
	}
}

// TestExecTerminal: exec -it gives the command a terminal whose size
// follows ours, and its exit status.
func TestExecTerminal(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	if _, stderr, code := launch(t, st, "run", "-d", "--name", "tty", root, "sleep", "60"); code != 0 {
		t.Fatalf("run -d: exit %d %s", code, stderr)
	}
	defer launch(t, st, "rm", "-f", "tty")
	text, code := onPTY(t, 33, 77, bin.launcher, "--root", st, "exec", "-it", "tty", "sh", "-c", `stty size; test -t 0 && echo terminal; exit 4`)
	if code != 4 || !strings.Contains(text, "33 77\n") || !strings.Contains(text, "terminal\n") {
		t.Errorf("exec -it: exit %d, output %q; want 4, 33 77 and a terminal", code, text)
	}
	// Another user's command gets a terminal of its own in the container's
	// devpts, which it owns and can reopen by name (as with docker).
	text, code = onPTY(t, 33, 77, bin.launcher, "--root", st, "exec", "-it", "-u", "1000", "tty", "sh", "-c",
		`t=$(tty); echo "name=$t"; ls -ln "$t" | tr -s ' ' | cut -d' ' -f3; echo reopened >"$t"`)
	if code != 0 || !strings.Contains(text, "name=/dev/pts/") || !strings.Contains(text, "\n1000\n") || !strings.Contains(text, "reopened\n") {
		t.Errorf("exec -it -u 1000: exit %d, output %q; want its /dev/pts/N, owned by 1000, reopened", code, text)
	}
}

// TestExecTerminalIgnoresAContainersFakeDevpts: a container root with
// CAP_SYS_ADMIN in its user namespace covers /dev/pts with a tmpfs holding
// its real ptmx and, as the names of the next ptys, symlinks to a host
// file it cannot read. exec -t, whose helper is host
// root, must not open or chown what those names lead to: it refuses a
// /dev/pts that is not devpts, and the host file keeps its owner and mode.
func TestExecTerminalIgnoresAContainersFakeDevpts(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	// Reachable by the container's mapped root (t.TempDir's parent is 0700).
	vol, err := os.MkdirTemp("", "stdc-fakepts")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(vol)
	os.Chmod(vol, 0o755)
	secret := filepath.Join(vol, "secret")
	if err := os.WriteFile(secret, []byte("host secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chown(secret, 4242, 4242)
	_, stderr, code := launch(t, st, "run", "-d", "--name", "fakepts", "--userns=auto", "--cap-add", "SYS_ADMIN",
		"-v", vol+":/vol", root, "sh", "-c",
		// A real ptmx kept under the fake directory, names for the next
		// ptys leading to the host file.
		"touch /tmp/ptmx && mount --bind /dev/pts/ptmx /tmp/ptmx && mount -t tmpfs fake /dev/pts && "+
			"touch /dev/pts/ptmx && mount --bind /tmp/ptmx /dev/pts/ptmx && "+
			"for n in 0 1 2 3 4 5; do ln -s /vol/secret /dev/pts/$n; done && exec sleep 60")
	if code != 0 {
		t.Fatalf("run -d: exit %d %s", code, stderr)
	}
	defer launch(t, st, "rm", "-f", "fakepts")
	for i := 0; i < 100; i++ {
		if out, _, _ := launch(t, st, "exec", "fakepts", "sh", "-c", "test -L /dev/pts/5 && echo covered"); strings.Contains(out, "covered") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	text, code := onPTY(t, 24, 80, bin.launcher, "--root", st, "exec", "-it", "fakepts", "sh", "-c", "id")
	if code == 0 || !strings.Contains(text, "not a devpts mount") {
		t.Errorf("exec -it into a container with a fake /dev/pts: exit %d, %q; want a refusal", code, text)
	}
	fi, err := os.Stat(secret)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 4242 || fi.Mode().Perm() != 0o600 {
		t.Errorf("the host file is now owned by %d, mode %v; want 4242 and 0600 untouched", st.Uid, fi.Mode().Perm())
	}
}
