package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// launch runs the launcher with a private state directory and returns
// stdout, stderr and the exit status.
func launch(t *testing.T, stateDir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin.launcher, append([]string{"--root", stateDir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := waitTimeout(t, cmd, 60*time.Second)
	return stdout.String(), stderr.String(), code
}

// treeSum hashes every path, mode, link target and file content below root.
func treeSum(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		io.WriteString(h, p+"\x00"+info.Mode().String()+"\x00"+strconv.FormatInt(info.ModTime().UnixNano(), 10)+"\x00")
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			io.WriteString(h, target)
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestLauncherExitCodes(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", "--rm", root, "sh", "-c", "exit 7"}, 7, ""},
		{[]string{"run", "--rm", root, "true"}, 0, ""},
		{[]string{"run", "--rm", root, "/etc/passwd"}, 126, "/etc/passwd"},
		{[]string{"run", "--rm", root, "no-such-command"}, 127, "no-such-command"},
		{[]string{"run", "--rm", "--frobnicate", root}, 125, "--frobnicate"},
		{[]string{"run", "--rm", filepath.Join(root, "missing"), "true"}, 125, "missing"},
		// A PID 1 cannot SIGKILL itself; under --init the shell is not PID 1.
		{[]string{"run", "--rm", "--init", root, "sh", "-c", "kill -9 $$"}, 137, ""},
	} {
		_, stderr, code := launch(t, st, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.msg) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("launcher %v: exit %d stderr %q; want exit %d and one line mentioning %q", tt.args, code, stderr, tt.code, tt.msg)
		}
	}
	assertNoState(t, st)
	assertNoCgroups(t)
	// Engines parse the last {"level":"error","msg":...} line.
	_, stderr, _ := launch(t, st, "--log-format", "json", "run", "--rm", filepath.Join(root, "missing"))
	var entry struct{ Level, Msg string }
	if json.Unmarshal([]byte(stderr), &entry) != nil || entry.Level != "error" || !strings.Contains(entry.Msg, "missing") {
		t.Errorf("--log-format json: %q", stderr)
	}
}

// assertNoState fails if the state directory holds any container.
func assertNoState(t *testing.T, stateDir string) {
	t.Helper()
	entries, _ := os.ReadDir(stateDir)
	for _, e := range entries {
		// network/ holds the NAT leases (checked empty by the network
		// tests), cgroups/ the record of parent cgroups made (checked empty
		// by cgroup_parent_test.go).
		if e.IsDir() && e.Name() != "network" && e.Name() != "cgroups" {
			t.Errorf("state left behind: %s", filepath.Join(stateDir, e.Name()))
		}
	}
}

func TestLauncherMissingInit(t *testing.T) {
	requireRoot(t)
	// A rootfs with a shell but no /sbin/init: the default entry point is
	// missing, and the launcher must say so rather than run anything else.
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	data, err := os.ReadFile(busybox(t))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "bin", "sh"), data, 0o755)
	_, stderr, code := launch(t, t.TempDir(), "run", "--rm", root)
	if code != 127 || !strings.Contains(stderr, "/sbin/init") {
		t.Fatalf("exit %d stderr %q; want 127 naming /sbin/init", code, stderr)
	}
}

func TestLauncherEnvironment(t *testing.T) {
	requireRoot(t)
	imageEnv := filepath.Join(t.TempDir(), "image.env")
	os.WriteFile(imageEnv, []byte("FROM_IMAGE=image\nOVERRIDE=image\n"), 0o644)
	root, st := busyboxRootfs(t, "--env-file", imageEnv), t.TempDir()
	envFile := filepath.Join(t.TempDir(), "app.env")
	os.WriteFile(envFile, []byte("# comment\nFROM_FILE=\"a b\"\nOVERRIDE=file\n"), 0o644)
	t.Setenv("PASSED_THROUGH", "caller")
	out, stderr, code := launch(t, st, "run", "--rm", "--env-file", envFile, "-e", "FROM_FLAG=flag", "-e", "PASSED_THROUGH",
		root, "sh", "-c", `echo "$FROM_IMAGE|$FROM_FILE|$FROM_FLAG|$OVERRIDE|$PASSED_THROUGH|$container"`)
	if want := "image|a b|flag|file|caller|stdcontainer\n"; code != 0 || out != want {
		t.Fatalf("exit %d out %q stderr %q; want %q", code, out, stderr, want)
	}
	bad := filepath.Join(t.TempDir(), "bad.env")
	os.WriteFile(bad, []byte("OK=1\nexport NO=2\n"), 0o644)
	_, stderr, code = launch(t, st, "run", "--rm", "--env-file", bad, root, "true")
	if code != 125 || !strings.Contains(stderr, bad+":2:") {
		t.Fatalf("invalid env file: exit %d stderr %q; want 125 with %s:2:", code, stderr, bad)
	}
	assertNoState(t, st)
}

func TestLauncherNamespaces(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	script := `echo "pid=$$"; echo "procs=$(ls -d /proc/[0-9]* | wc -l)"; echo "host=$(cat /proc/sys/kernel/hostname)"; echo "net=$(ls /sys/class/net | tr '\n' ' ')"`
	out, stderr, code := launch(t, st, "run", "--rm", root, "sh", "-c", script)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"pid=1\n", "net=lo \n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	// PID 1 (sh), its ls and wc: a handful, never the host's hundreds.
	m := regexp.MustCompile(`procs=(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no process count in %q", out)
	}
	if n, _ := strconv.Atoi(m[1]); n > 5 {
		t.Errorf("container sees host processes: %q", out)
	}
	if !regexp.MustCompile(`host=[0-9a-f]{12}\n`).MatchString(out) {
		t.Errorf("default hostname is not 12 hex digits of the id: %q", out)
	}
	out, _, _ = launch(t, st, "run", "--rm", "--hostname", "web-1", root, "cat", "/proc/sys/kernel/hostname")
	if out != "web-1\n" {
		t.Errorf("--hostname: %q", out)
	}
}

func TestLauncherResolvConf(t *testing.T) {
	requireRoot(t)
	st := t.TempDir()
	injected := busyboxRootfs(t)
	out, _, code := launch(t, st, "run", "--rm", injected, "cat", "/etc/resolv.conf")
	if code != 0 || !strings.Contains(out, "generated by stdcontainer") || strings.Contains(out, "nameserver 127.") {
		t.Errorf("injected resolv.conf: exit %d %q (loopback nameservers must be dropped)", code, out)
	}
	if _, err := os.Lstat(filepath.Join(injected, "etc/resolv.conf")); err == nil {
		t.Error("injecting resolv.conf wrote into the image")
	}
	own := filepath.Join(t.TempDir(), "resolv")
	os.MkdirAll(filepath.Join(own, "etc"), 0o755)
	os.WriteFile(filepath.Join(own, "etc/resolv.conf"), []byte("nameserver 192.0.2.53\n"), 0o644)
	respected := busyboxRootfs(t, "--add", own+":/")
	out, _, _ = launch(t, st, "run", "--rm", respected, "cat", "/etc/resolv.conf")
	if out != "nameserver 192.0.2.53\n" {
		t.Errorf("the image's own resolv.conf was not respected: %q", out)
	}
}

func TestLauncherNeverModifiesTheImage(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	before := treeSum(t, root)
	_, stderr, code := launch(t, st, "run", "--rm", root, "sh", "-c",
		"echo x > /etc/new; echo y >> /etc/passwd; rm /bin/cat; mkdir /var; touch /sbin/init; echo ok")
	if code != 0 {
		t.Fatalf("container could not write its own view: exit %d %s", code, stderr)
	}
	if after := treeSum(t, root); after != before {
		t.Fatal("the image directory changed after a container wrote to its root")
	}
	_, _, code = launch(t, st, "run", "--rm", "--read-only", root, "sh", "-c", "echo x > /etc/new")
	if code == 0 {
		t.Error("--read-only root accepted a write")
	}
	out, _, code := launch(t, st, "run", "--rm", "--read-only", root, "sh", "-c", "echo x > /tmp/f && echo x > /run/f && echo ok")
	if code != 0 || out != "ok\n" {
		t.Errorf("--read-only: /tmp and /run must be writable tmpfs: exit %d %q", code, out)
	}
}

func TestLauncherVolumes(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	rw, ro := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(ro, "data"), []byte("read me"), 0o644)
	out, stderr, code := launch(t, st, "run", "--rm", "-v", rw+":/mnt/rw", "-v", ro+":/mnt/ro:ro", "--tmpfs", "/scratch:1m", root, "sh", "-c",
		"echo written > /mnt/rw/out && cat /mnt/ro/data && ! echo no > /mnt/ro/data 2>/dev/null && echo tmp > /scratch/x && echo ok")
	if code != 0 || out != "read meok\n" {
		t.Fatalf("exit %d out %q stderr %q", code, out, stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(rw, "out")); string(data) != "written\n" {
		t.Errorf("rw volume: host sees %q", data)
	}
	if _, err := os.Stat(filepath.Join(root, "mnt")); err == nil {
		t.Error("volume mount points were created in the image")
	}
	_, stderr, code = launch(t, st, "run", "--rm", "-v", "/nonexistent-source:/x", root, "true")
	if code != 125 || !strings.Contains(stderr, "/nonexistent-source") {
		t.Errorf("missing volume source: exit %d %q", code, stderr)
	}
}

func TestLauncherIdentity(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	out, _, code := launch(t, st, "run", "--rm", root, "sh", "-c",
		`cat /run/host/container-manager /run/host/container-uuid; echo "$container_uuid"; head -1 /run/host/os-release`)
	lines := strings.Split(out, "\n")
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if code != 0 || len(lines) < 4 || lines[0] != "stdcontainer" || !uuid.MatchString(lines[1]) || lines[2] != lines[1] || lines[3] == "" {
		t.Fatalf("exit %d output %q: want manager, uuid twice, host os-release", code, out)
	}
}

func TestLauncherDetachPsInspectStopRm(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	out, stderr, code := launch(t, st, "run", "-d", "--name", "web", root, "sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.05; done")
	id := strings.TrimSpace(out)
	if code != 0 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("run -d: exit %d out %q stderr %q; want the 64-hex id", code, out, stderr)
	}
	out, _, _ = launch(t, st, "ps")
	if !strings.Contains(out, id[:12]) || !strings.Contains(out, "web") {
		t.Errorf("ps lacks the container: %q", out)
	}
	_, stderr, code = launch(t, st, "run", "-d", "--name", "web", root, "true")
	if code != 125 || !strings.Contains(stderr, "web") {
		t.Errorf("duplicate name: exit %d %q", code, stderr)
	}
	out, _, code = launch(t, st, "inspect", "web")
	var inspected []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &inspected) != nil || len(inspected) != 1 || inspected[0]["Id"] != id {
		t.Fatalf("inspect: exit %d %q", code, out)
	}
	state := inspected[0]["State"].(map[string]any)
	config := inspected[0]["Config"].(map[string]any)
	if state["Status"] != "running" || state["Running"] != true || config["Image"] != root || config["OSRelease"] == nil {
		t.Errorf("inspect State %v Config %v", state, config)
	}
	_, stderr, code = launch(t, st, "rm", "web")
	if code == 0 || !strings.Contains(stderr, "running") {
		t.Errorf("rm of a running container: exit %d %q", code, stderr)
	}
	if _, _, code = launch(t, st, "stop", "-t", "5", "web"); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _, _ = launch(t, st, "inspect", id[:8])
		if strings.Contains(out, `"ExitCode": 42`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out, `"Status": "exited"`) || !strings.Contains(out, `"ExitCode": 42`) {
		t.Fatalf("after stop: %s", out)
	}
	if _, _, code = launch(t, st, "rm", "web"); code != 0 {
		t.Fatalf("rm: exit %d", code)
	}
	assertNoState(t, st)

	// --rm with -d: the monitor removes the state when the container exits.
	out, _, code = launch(t, st, "run", "-d", "--rm", root, "sleep", "0.2")
	if code != 0 {
		t.Fatalf("run -d --rm: exit %d", code)
	}
	time.Sleep(time.Second)
	assertNoState(t, st)
}

func TestLauncherDiesWithItsContainer(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	marker := t.TempDir()
	cmd := exec.Command(bin.launcher, "--root", st, "run", "-v", marker+":/m", root, "sh", "-c", "echo $$ > /m/started; sleep 60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The payload has started and the state records its pid (written
	// alongside the container, so it may come a moment later).
	var pid int
	for i := 0; i < 250 && pid == 0; i++ {
		time.Sleep(20 * time.Millisecond)
		if _, err := os.Stat(filepath.Join(marker, "started")); err != nil {
			continue
		}
		containers, _ := os.ReadDir(st)
		for _, c := range containers {
			data, _ := os.ReadFile(filepath.Join(st, c.Name(), "state.json"))
			var s struct{ State struct{ Pid int } }
			if json.Unmarshal(data, &s) == nil && s.State.Pid > 0 {
				pid = s.State.Pid
			}
		}
	}
	if pid == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		launch(t, st, "gc") // what the killed launcher left
		t.Fatal("no running container recorded")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	gone := false
	for i := 0; i < 250 && !gone; i++ {
		gone = syscall.Kill(pid, 0) == syscall.ESRCH
		time.Sleep(20 * time.Millisecond)
	}
	if !gone {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatal("the container outlived its SIGKILLed launcher")
	}
	out, _, code := launch(t, st, "gc")
	if code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("gc: exit %d %q", code, out)
	}
	assertNoState(t, st)
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if bytes.Contains(mounts, []byte(st)) {
		t.Error("mounts under the state directory leaked to the host")
	}
	assertNoCgroups(t)
}

func TestLauncherConcurrentRuns(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	var wg sync.WaitGroup
	ids := make([]string, 20)
	codes := make([]int, 20)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, _, code := launch(t, st, "run", "--rm", root, "sh", "-c", "echo $container_uuid")
			ids[i], codes[i] = strings.TrimSpace(out), code
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, id := range ids {
		if codes[i] != 0 || id == "" || seen[id] {
			t.Errorf("run %d: exit %d id %q (duplicate: %v)", i, codes[i], id, seen[id])
		}
		seen[id] = true
	}
	assertNoState(t, st)
}

func TestLauncherCheck(t *testing.T) {
	broken := t.TempDir()
	os.MkdirAll(filepath.Join(broken, "sbin"), 0o755)
	os.WriteFile(filepath.Join(broken, "sbin/init"), []byte("not a program"), 0o644)
	out, _, code := launch(t, t.TempDir(), "check", broken)
	if code != 1 || !strings.Contains(out, "error: /sbin/init") || !strings.Contains(out, "fails the chroot test") {
		t.Errorf("check on a broken rootfs: exit %d %q", code, out)
	}
}

// TestLauncherRunsTheProbe is `make run`: the minimal image's init, as the
// default entry point, reports what the launcher provides.
func TestLauncherRunsTheProbe(t *testing.T) {
	requireRoot(t)
	root := filepath.Join(t.TempDir(), "rootfs")
	mkrootfs(t, "-o", root)
	out, stderr, code := launch(t, t.TempDir(), "run", "--rm", root)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	status := parseProbe(t, out)
	for _, key := range []string{"ns-pid", "ns-mount", "ns-uts", "ns-ipc", "ns-net", "ns-cgroup", "unique-id", "os-release", "resolv-conf", "default-init", "net-private"} {
		if status[key] != "yes" {
			t.Errorf("%s = %s, want yes:\n%s", key, status[key], out)
		}
	}
}

func TestLauncherInitFlag(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	out, _, code := launch(t, t.TempDir(), "run", "--rm", "--init", root, "sh", "-c", "echo $$; cat /proc/1/cmdline | tr '\\0' ' '")
	if code != 0 || strings.HasPrefix(out, "1\n") || !strings.Contains(out, "/run/host/init --") {
		t.Errorf("--init: exit %d %q; want our init as PID 1 and the shell below it", code, out)
	}
}

func TestLauncherUserAndWorkdir(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	out, stderr, code := launch(t, st, "run", "--rm", "-u", "nobody", "-w", "/tmp/work", root, "sh", "-c", "id -u; id -g; pwd")
	if code != 0 || out != "65534\n65534\n/tmp/work\n" {
		t.Errorf("-u nobody -w /tmp/work: exit %d %q %q", code, out, stderr)
	}
	out, _, code = launch(t, st, "run", "--rm", "-u", "1234:5678", root, "sh", "-c", "id -u; id -g")
	if code != 0 || out != "1234\n5678\n" {
		t.Errorf("-u 1234:5678: exit %d %q", code, out)
	}
	_, stderr, code = launch(t, st, "run", "--rm", "-u", "nosuchuser", root, "true")
	if code != 125 || !strings.Contains(stderr, "nosuchuser") {
		t.Errorf("-u nosuchuser: exit %d %q", code, stderr)
	}
}

// TestLauncherLeaksNothingIntoTheContainer: no launcher fd beyond stdio
// reaches the container, and its PID 1 is the entry point, not the
// launcher binary (which could otherwise be overwritten via /proc/1/exe).
// Both are read from the host, so no shell inside muddies the fd table.
func TestLauncherLeaksNothingIntoTheContainer(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	leaked, err := os.Open("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	defer leaked.Close()
	cmd := exec.Command(bin.launcher, "--root", st, "run", "--rm", root, "sleep", "3")
	// fds 3-6 in the launcher, without close-on-exec: stage 2 inherits
	// those its own pipes do not replace, and must not pass them on.
	cmd.ExtraFiles = []*os.File{leaked, leaked, leaked, leaked}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := 0
	for i := 0; i < 250 && pid == 0; i++ {
		time.Sleep(20 * time.Millisecond)
		entries, _ := os.ReadDir(st)
		for _, e := range entries {
			data, _ := os.ReadFile(filepath.Join(st, e.Name(), "state.json"))
			var s struct{ State struct{ Pid int } }
			if json.Unmarshal(data, &s) == nil {
				pid = s.State.Pid
			}
		}
	}
	if pid == 0 {
		t.Fatal("the container never ran")
	}
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fd := range fds {
		names = append(names, fd.Name())
	}
	if strings.Join(names, " ") != "0 1 2" {
		t.Errorf("fds open in the container's PID 1: %v, want only 0 1 2", names)
	}
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if exe != "/bin/busybox" {
		t.Errorf("the container's PID 1 runs %q, want the entry point /bin/busybox", exe)
	}
	syscall.Kill(pid, syscall.SIGKILL) // the launcher then cleans up as usual
}

// onPTY runs argv with a new pseudo-terminal of rows×cols as its
// controlling terminal and stdio, and returns what it printed (without
// carriage returns) and its exit status.
func onPTY(t *testing.T, rows, cols uint16, argv ...string) (string, int) {
	t.Helper()
	ptmx, ptsPath := openPTY(t)
	defer ptmx.Close()
	if err := unix.IoctlSetWinsize(int(ptmx.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile(ptsPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, ptmx); close(done) }()
	code := waitTimeout(t, cmd, 30*time.Second)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	return strings.ReplaceAll(out.String(), "\r", ""), code
}

func TestLauncherTerminal(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	text, code := onPTY(t, 40, 100, bin.launcher, "--root", t.TempDir(), "run", "--rm", "-it", root, "sh", "-c",
		`tty; stty size; test /dev/console -ef /dev/pts/0 && echo console; echo "TERM=$TERM"; exit 3`)
	// The pty is made in the container's own devpts, as docker's: its
	// /dev/pts/0, bound at /dev/console too.
	for _, want := range []string{"/dev/pts/0\n", "40 100\n", "console\n", "TERM=xterm\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("-it output %q lacks %q", text, want)
		}
	}
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
}

// TestLauncherDetachedTerminal: run -dit gives the container a terminal
// of its own too, held by the monitor, so a shell waits for input (as
// under docker) instead of exiting at once on /dev/null.
func TestLauncherDetachedTerminal(t *testing.T) {
	requireRoot(t)
	root, st := busyboxRootfs(t), t.TempDir()
	if _, stderr, code := launch(t, st, "run", "-dit", "--name", "dit", root, "sh"); code != 0 {
		t.Fatalf("run -dit: exit %d %s", code, stderr)
	}
	defer launch(t, st, "rm", "-f", "dit")
	time.Sleep(300 * time.Millisecond) // a shell on /dev/null would be gone by now
	out, stderr, code := launch(t, st, "exec", "dit", "sh", "-c", "readlink /proc/1/fd/0; test /dev/console -ef /dev/pts/0 && echo console")
	if code != 0 || out != "/dev/pts/0\nconsole\n" {
		t.Errorf("exec into run -dit's container: exit %d, %q %s; want its shell on /dev/pts/0, also /dev/console", code, out, stderr)
	}
}
