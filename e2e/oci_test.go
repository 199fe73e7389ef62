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

// ociRuntime is the launcher under the name engines call it by: a link
// named stdcontainer-runc selects the OCI runtime front.
func ociRuntime(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	link := filepath.Join(dir, "stdcontainer-runc")
	if err := os.Symlink(bin.launcher, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// ociBundle is a bundle with a busybox rootfs and `launcher oci spec`'s
// config.json running args.
func ociBundle(t *testing.T, runtime string, args ...string) string {
	t.Helper()
	bundle := t.TempDir()
	if err := os.Rename(busyboxRootfs(t), filepath.Join(bundle, "rootfs")); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(runtime, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		t.Fatalf("spec: %v %s", err, out)
	}
	editOCIConfig(t, bundle, func(cfg map[string]any) {
		process := cfg["process"].(map[string]any)
		process["args"] = args
		process["terminal"] = false
	})
	return bundle
}

// ociRun runs the OCI front with a state root and returns stdout, stderr
// and the exit status.
func ociRun(t *testing.T, runtime, root string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(runtime, append([]string{"--root", root}, args...)...)
	// Files, not pipes: a created container (and its monitor) keeps the
	// runtime's stdio, as an engine's fifos, long after create returns.
	dir := t.TempDir()
	stdout, _ := os.Create(filepath.Join(dir, "stdout"))
	stderr, _ := os.Create(filepath.Join(dir, "stderr"))
	defer stdout.Close()
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := waitTimeout(t, cmd, 30*time.Second)
	out, _ := os.ReadFile(stdout.Name())
	errs, _ := os.ReadFile(stderr.Name())
	return string(out), string(errs), code
}

func ociStatus(t *testing.T, runtime, root, id string) (string, int) {
	t.Helper()
	out, stderr, code := ociRun(t, runtime, root, "state", id)
	if code != 0 {
		return "error: " + stderr, 0
	}
	var st struct {
		Status string
		Pid    int
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("state %s: %v %q", id, err, out)
	}
	return st.Status, st.Pid
}

// waitForStatus polls the container's OCI status for up to 5 s until it
// is want, and returns the last one seen.
func waitForStatus(t *testing.T, runtime, root, id, want string) string {
	t.Helper()
	status, _ := ociStatus(t, runtime, root, id)
	for i := 0; i < 100 && status != want; i++ {
		time.Sleep(50 * time.Millisecond)
		status, _ = ociStatus(t, runtime, root, id)
	}
	return status
}

// TestOCILifecycle: create, state, start, kill, delete as containerd's
// shim calls them, runc's quirks included.
func TestOCILifecycle(t *testing.T) {
	requireRoot(t)
	runtime, root := ociRuntime(t), t.TempDir()
	bundle := ociBundle(t, runtime, "sleep", "30")
	pidFile := filepath.Join(t.TempDir(), "pid")
	if _, stderr, code := ociRun(t, runtime, root, "create", "--bundle", bundle, "--pid-file", pidFile, "ctr-1"); code != 0 {
		t.Fatalf("create: exit %d %s", code, stderr)
	}
	status, pid := ociStatus(t, runtime, root, "ctr-1")
	written, _ := os.ReadFile(pidFile)
	if status != "created" || pid == 0 || string(written) != strings.TrimSpace(string(written)) || string(written) == "" {
		t.Fatalf("after create: status %q pid %d, pid file %q", status, pid, written)
	}
	// Created: the payload has not run yet; the process waits.
	if exe, _ := os.Readlink("/proc/" + string(written) + "/exe"); strings.HasSuffix(exe, "busybox") {
		t.Errorf("the payload runs before start: %s", exe)
	}
	if _, stderr, code := ociRun(t, runtime, root, "start", "ctr-1"); code != 0 {
		t.Fatalf("start: exit %d %s", code, stderr)
	}
	if status, _ := ociStatus(t, runtime, root, "ctr-1"); status != "running" {
		t.Fatalf("after start: %s", status)
	}
	if exe, _ := os.Readlink("/proc/" + string(written) + "/exe"); !strings.HasSuffix(exe, "busybox") {
		t.Errorf("after start the container's process runs %q, want busybox", exe)
	}
	if out, stderr, code := ociRun(t, runtime, root, "ps", "--format", "json", "ctr-1"); code != 0 || strings.TrimSpace(out) != "["+string(written)+"]" {
		t.Errorf("ps --format json: exit %d, %q %s; want [%s]", code, out, stderr, written)
	}
	if out, stderr, code := ociRun(t, runtime, root, "exec", "ctr-1", "sh", "-c", "echo in-exec; exit 4"); code != 4 || out != "in-exec\n" {
		t.Errorf("exec: exit %d, %q %s; want 4 and its output", code, out, stderr)
	}
	process := filepath.Join(t.TempDir(), "process.json")
	os.WriteFile(process, []byte(`{"args": ["sleep", "1"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}`), 0o644)
	execPid := filepath.Join(t.TempDir(), "exec.pid")
	if _, stderr, code := ociRun(t, runtime, root, "exec", "--process", process, "--detach", "--pid-file", execPid, "ctr-1"); code != 0 {
		t.Errorf("exec --process --detach: exit %d %s", code, stderr)
	} else if pid, _ := os.ReadFile(execPid); len(pid) == 0 {
		t.Error("exec --detach wrote no pid file")
	}
	for _, step := range []struct{ cmd, want string }{{"pause", "paused"}, {"resume", "running"}} {
		if _, stderr, code := ociRun(t, runtime, root, step.cmd, "ctr-1"); code != 0 {
			t.Fatalf("%s: exit %d %s", step.cmd, code, stderr)
		}
		if status, _ := ociStatus(t, runtime, root, "ctr-1"); status != step.want {
			t.Errorf("after %s: %s, want %s", step.cmd, status, step.want)
		}
	}
	if _, stderr, code := ociRun(t, runtime, root, "delete", "ctr-1"); code == 0 {
		t.Errorf("delete of a running container without --force succeeded: %s", stderr)
	}
	if _, stderr, code := ociRun(t, runtime, root, "kill", "ctr-1", "KILL"); code != 0 {
		t.Fatalf("kill: exit %d %s", code, stderr)
	}
	if status := waitForStatus(t, runtime, root, "ctr-1", "stopped"); status != "stopped" {
		t.Fatalf("after kill: %s", status)
	}
	if _, stderr, code := ociRun(t, runtime, root, "kill", "ctr-1"); code == 0 || !strings.Contains(stderr, "container not running") {
		t.Errorf("kill of a stopped container: exit %d %q, want \"container not running\"", code, stderr)
	}
	if _, stderr, code := ociRun(t, runtime, root, "delete", "ctr-1"); code != 0 {
		t.Fatalf("delete: exit %d %s", code, stderr)
	}
	if _, stderr, code := ociRun(t, runtime, root, "state", "ctr-1"); code == 0 || !strings.Contains(stderr, "does not exist") {
		t.Errorf("state after delete: exit %d %q, want \"does not exist\"", code, stderr)
	}
	if _, stderr, code := ociRun(t, runtime, root, "delete", "--force", "ctr-1"); code != 0 {
		t.Errorf("delete --force of a missing container: exit %d %s, want 0", code, stderr)
	}

	// Deleting a created container kills it.
	if _, stderr, code := ociRun(t, runtime, root, "create", "--bundle", bundle, "ctr-2"); code != 0 {
		t.Fatalf("create: exit %d %s", code, stderr)
	}
	_, pid2 := ociStatus(t, runtime, root, "ctr-2")
	if _, stderr, code := ociRun(t, runtime, root, "delete", "ctr-2"); code != 0 {
		t.Fatalf("delete of a created container: exit %d %s", code, stderr)
	}
	// Gone, or a zombie left for its adopter (an engine's shim) to reap.
	if processAlive(pid2) {
		t.Errorf("the created container's process %d survived delete", pid2)
	}
	assertNoState(t, root)

	// run: create and start, in the foreground, with the payload's status.
	exitBundle := ociBundle(t, runtime, "sh", "-c", "exit 7")
	if _, stderr, code := ociRun(t, runtime, root, "run", "--bundle", exitBundle, "ctr-3"); code != 7 {
		t.Errorf("run: exit %d %s, want 7", code, stderr)
	}
	ociRun(t, runtime, root, "delete", "--force", "ctr-3")

	out, _, code := ociRun(t, runtime, root, "features")
	var features map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &features) != nil || features["ociVersionMin"] == nil {
		t.Errorf("features: exit %d %q", code, out)
	}
}

// TestOCIConfigFields: rlimits are set exactly, namespaced sysctls are
// written in the container, and what the runtime cannot honour is refused.
func TestOCIConfigFields(t *testing.T) {
	requireRoot(t)
	runtime, root := ociRuntime(t), t.TempDir()
	bundle := ociBundle(t, runtime, "sh", "-c", "ulimit -n; ulimit -Hn; cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ping_group_range /proc/self/oom_score_adj")
	edit := func(change func(cfg map[string]any)) { editOCIConfig(t, bundle, change) }
	edit(func(cfg map[string]any) {
		cfg["process"].(map[string]any)["rlimits"] = []any{map[string]any{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}}
		cfg["linux"].(map[string]any)["sysctl"] = map[string]any{"kernel.shmmni": "1234", "net.ipv4.ping_group_range": "0 0"}
		cfg["process"].(map[string]any)["oomScoreAdj"] = 500
	})
	out, stderr, code := ociRun(t, runtime, root, "run", "--bundle", bundle, "fields")
	if code != 0 || strings.Join(strings.Fields(out), " ") != "321 654 1234 0 0 500" {
		t.Errorf("run: exit %d, %q %s; want the rlimits 321/654, the sysctls and oomScoreAdj 500", code, out, stderr)
	}
	ociRun(t, runtime, root, "delete", "--force", "fields")

	// --preserve-fds N: our fds 3..3+N-1 are the entry point's, the rest not.
	fdBundle := ociBundle(t, runtime, "sh", "-c", "cat <&3; cat <&4; test -e /proc/self/fd/5 || echo no-fd-5")
	files := make([]*os.File, 3)
	for i := range files {
		path := filepath.Join(t.TempDir(), "fd")
		os.WriteFile(path, []byte("from fd "+strconv.Itoa(3+i)+"\n"), 0o644)
		files[i], _ = os.Open(path)
		defer files[i].Close()
	}
	cmd := exec.Command(runtime, "--root", root, "run", "--preserve-fds", "2", "--bundle", fdBundle, "fds")
	cmd.ExtraFiles = files
	fdOut, err := cmd.CombinedOutput()
	if err != nil || string(fdOut) != "from fd 3\nfrom fd 4\nno-fd-5\n" {
		t.Errorf("run --preserve-fds 2: %v %q; want fds 3 and 4 only", err, fdOut)
	}
	ociRun(t, runtime, root, "delete", "--force", "fds")
	// The same through create and start, as conmon calls it: the fds the
	// container gets with its config (the start FIFO) must not be taken
	// for preserved ones.
	out = filepath.Join(t.TempDir(), "out")
	fdBundle2 := ociBundle(t, runtime, "sh", "-c", "cat <&3 >"+"/out/fds; cat <&4 >>/out/fds")
	editOCIConfig(t, fdBundle2, func(cfg map[string]any) {
		cfg["mounts"] = append(cfg["mounts"].([]any), map[string]any{"destination": "/out", "type": "bind", "source": filepath.Dir(out), "options": []string{"rbind", "rw"}})
	})
	cmd = exec.Command(runtime, "--root", root, "create", "--preserve-fds", "2", "--bundle", fdBundle2, "fds2")
	cmd.ExtraFiles = files[:2]
	files[0].Seek(0, 0)
	files[1].Seek(0, 0)
	// A file, not a pipe: the created container keeps create's stdio.
	createOut, _ := os.Create(filepath.Join(t.TempDir(), "create.out"))
	defer createOut.Close()
	cmd.Stdout, cmd.Stderr = createOut, createOut
	if err := cmd.Run(); err != nil {
		got, _ := os.ReadFile(createOut.Name())
		t.Fatalf("create --preserve-fds 2: %v %s", err, got)
	}
	if _, stderr, code := ociRun(t, runtime, root, "start", "fds2"); code != 0 {
		t.Errorf("start after create --preserve-fds 2: exit %d %s", code, stderr)
	}
	waitForStatus(t, runtime, root, "fds2", "stopped")
	if got, _ := os.ReadFile(filepath.Join(filepath.Dir(out), "fds")); string(got) != "from fd 3\nfrom fd 4\n" {
		t.Errorf("create --preserve-fds 2, start: the container read %q, want fds 3 and 4", got)
	}
	ociRun(t, runtime, root, "delete", "--force", "fds2")
	if _, stderr, code := ociRun(t, runtime, root, "run", "--preserve-fds", "1", "--bundle", fdBundle, "fds"); code == 0 || !strings.Contains(stderr, "--preserve-fds 1: fd 3 is not open") {
		t.Errorf("run --preserve-fds 1 without fd 3: exit %d %q", code, stderr)
	}
	for _, c := range []struct {
		change func(cfg map[string]any)
		msg    string
	}{
		{func(cfg map[string]any) {
			cfg["linux"].(map[string]any)["sysctl"] = map[string]any{"vm.swappiness": "1"}
		}, "not a namespaced sysctl"},
		{func(cfg map[string]any) {
			cfg["hooks"] = map[string]any{"prestart": []any{map[string]any{"path": "true"}}}
		}, "hooks.prestart[0].path"},
		{func(cfg map[string]any) { cfg["ociVersion"] = "2.0.0" }, "ociVersion"},
	} {
		edit(func(cfg map[string]any) {
			delete(cfg["linux"].(map[string]any), "sysctl")
			delete(cfg, "hooks")
			cfg["ociVersion"] = "1.0.2"
			c.change(cfg)
		})
		_, stderr, code := ociRun(t, runtime, root, "create", "--bundle", bundle, "refused")
		if code == 0 || !strings.Contains(stderr, c.msg) || !strings.Contains(stderr, "config.json") {
			t.Errorf("create: exit %d %q, want a refusal naming config.json and %q", code, stderr, c.msg)
		}
	}
	assertNoState(t, root)
}
