package e2e

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// need finds a peer's command, failing under STDC_E2E=require (CI
// installs it) and skipping otherwise.
func need(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("STDC_E2E") == "require" {
			t.Fatalf("%s is needed (apt-get install %s)", name, pkg)
		}
		t.Skipf("%s is not installed (apt-get install %s)", name, pkg)
	}
	return p
}

// podmanSession returns a runner of podman with its state in dir and
// anchors.md's flags for this host (no systemd, crun refuses hybrid
// cgroups: runc is the default runtime). Ulimits podman would raise
// beyond this host's hard limits (no CAP_SYS_RESOURCE here) are pinned by
// a containers.conf of the test's, which also reaches pod infra containers.
func podmanSession(t *testing.T, dir string) func(args ...string) (string, error) {
	t.Helper()
	podman := need(t, "podman", "podman")
	need(t, "runc", "runc")
	conf := filepath.Join(dir, "containers.conf")
	os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n"), 0o644)
	// podman refuses a runroot longer than 50 bytes: not under t.TempDir.
	runroot, err := os.MkdirTemp("", "stdc-podman")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runroot) })
	base := []string{"--root", filepath.Join(dir, "storage"), "--runroot", runroot,
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", "runc"}
	pod := func(args ...string) (string, error) {
		cmd := exec.Command(podman, append(append([]string{}, base...), args...)...)
		cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// podman also keeps a blob cache and network configs in fixed host
	// directories; the test removes them again unless they were there.
	// So does its cgroupfs manager with an (empty) libpod_parent cgroup.
	var made []string
	for _, d := range []string{"/var/lib/containers", "/run/containers"} {
		if _, err := os.Stat(d); os.IsNotExist(err) {
			made = append(made, d)
		}
	}
	parents, _ := filepath.Glob("/sys/fs/cgroup/*/libpod_parent")
	hadParent := len(parents) > 0 || fileExists("/sys/fs/cgroup/libpod_parent")
	t.Cleanup(func() {
		pod("system", "reset", "--force")
		for _, d := range made {
			os.RemoveAll(d)
		}
		if !hadParent {
			removeEmptyCgroups("libpod_parent")
		}
	})
	return pod
}

// TestPodmanPodThroughLauncher: a podman pod run by the launcher. The
// infra container (our init, its payload a sleep) holds the pod's UTS,
// IPC and network namespaces; a container of the pod joins them by path
// and keeps its own mount namespace.
func TestPodmanPodThroughLauncher(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	pod := podmanSession(t, dir)
	runtime := ociRuntime(t)
	infra := filepath.Join(dir, "pause.oci.tar")
	mkrootfs(t, "-o", infra, "--name", "pause", "--tag", "stdc-test/pause:1", "--app", busybox(t)+":/bin/busybox",
		"--add", busyboxLinks(t)+":/", "--cmd", "sleep 1000")
	for _, image := range []string{infra, busyboxImage(t, dir)} {
		if out, err := pod("load", "-i", image); err != nil {
			t.Fatalf("podman load: %v\n%s", err, out)
		}
	}
	withRuntime := func(args ...string) (string, error) { return pod(append([]string{"--runtime", runtime}, args...)...) }
	if out, err := withRuntime("pod", "create", "--name", "stdc-pod", "--hostname", "pod-host", "--network", "none",
		"--infra-image", "stdc-test/pause:1", "--infra-command", "/sbin/init"); err != nil {
		t.Fatalf("podman pod create: %v\n%s", err, out)
	}
	defer withRuntime("pod", "rm", "--force", "stdc-pod")
	if out, err := withRuntime("pod", "start", "stdc-pod"); err != nil {
		t.Fatalf("podman pod start: %v\n%s", err, out)
	}
	infraID, _ := withRuntime("pod", "inspect", "--format", "{{.InfraContainerID}}", "stdc-pod")
	infraPid, err := withRuntime("inspect", "--format", "{{.State.Pid}}", strings.TrimSpace(infraID))
	if err != nil {
		t.Fatalf("podman inspect: %v %s", err, infraPid)
	}
	kinds := []string{"uts", "ipc", "net", "mnt"}
	script := "hostname"
	for _, k := range kinds {
		script += "; readlink /proc/self/ns/" + k
	}
	out, err := withRuntime("run", "--rm", "--pod", "stdc-pod", "stdc-test/bb:1", "sh", "-c", script)
	lines := strings.Fields(out)
	if err != nil || len(lines) != 1+len(kinds) {
		t.Fatalf("podman run --pod: %v %q", err, out)
	}
	if lines[0] != "pod-host" {
		t.Errorf("the pod's container has hostname %q, want the pod's pod-host", lines[0])
	}
	for i, kind := range kinds {
		infraNS, _ := os.Readlink("/proc/" + strings.TrimSpace(infraPid) + "/ns/" + kind)
		if shared := lines[1+i] == infraNS; shared != (kind != "mnt") {
			t.Errorf("%s namespace: the container's %s, the infra container's %s", kind, lines[1+i], infraNS)
		}
	}
}

// TestOCIImageRunsInPodman: our oci.tar loads into podman and runs there
// under runc; podman's own export of it imports back with mkrootfs --from.
func TestOCIImageRunsInPodman(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	pod := podmanSession(t, dir)
	image := filepath.Join(dir, "probe.oci.tar")
	mkrootfs(t, "-o", image, "--name", "probe", "--tag", "stdc-test/probe:1")
	if out, err := pod("load", "-i", image); err != nil || !strings.Contains(out, "stdc-test/probe:1") {
		t.Fatalf("podman load: %v\n%s", err, out)
	}
	out, err := pod("run", "--rm", "--network", "none", "stdc-test/probe:1")
	if err != nil || !strings.Contains(out, "rfc-probe: ") || !strings.Contains(out, "os-release\tyes") {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	// podman drives the launcher itself as its OCI runtime (conmon adopts
	// the created container and gets its exit status).
	runtime := ociRuntime(t)
	if out, err := pod("load", "-i", busyboxImage(t, dir)); err != nil {
		t.Fatalf("podman load: %v\n%s", err, out)
	}
	withRuntime := append([]string{"--runtime", runtime}, "run", "--rm", "--network", "none",
		"stdc-test/bb:1", "/bin/sh", "-c", "echo via-stdcontainer; exit 3")
	out, err = pod(withRuntime...)
	if code := exitCode(err); code != 3 || !strings.Contains(out, "via-stdcontainer") {
		t.Errorf("podman --runtime stdcontainer-runc run: exit %d, %q; want 3 and the output", code, out)
	}
	saved := filepath.Join(dir, "saved.oci.tar")
	if out, err := pod("save", "--format", "oci-archive", "-o", saved, "stdc-test/probe:1"); err != nil {
		t.Fatalf("podman save: %v\n%s", err, out)
	}
	back := filepath.Join(dir, "back")
	mkrootfs(t, "-o", back, "--from", saved)
	for _, p := range []string{"sbin/init", "etc/os-release"} {
		if _, err := os.Stat(filepath.Join(back, p)); err != nil {
			t.Errorf("mkrootfs --from podman's export: %v", err)
		}
	}
}

// TestOCIImageImportsIntoContainerd: our oci.tar imports with ctr into a
// containerd the test starts in its own directory, and runs there.
func TestOCIImageImportsIntoContainerd(t *testing.T) {
	requireRoot(t)
	containerd := need(t, "containerd", "containerd")
	ctr := need(t, "ctr", "containerd")
	dir := t.TempDir()
	image := filepath.Join(dir, "probe.oci.tar")
	mkrootfs(t, "-o", image, "--name", "probe", "--tag", "stdc-test/probe:1")
	sock := filepath.Join(dir, "containerd.sock")
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, []byte(`version = 2
root = "`+filepath.Join(dir, "root")+`"
state = "`+filepath.Join(dir, "state")+`"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "`+sock+`"
[plugins."io.containerd.internal.v1.opt"]
  path = "`+filepath.Join(dir, "opt")+`"
`), 0o644)
	// containerd's shims keep sockets, fifos and runc's state under the
	// fixed /run/containerd, whatever its config says.
	if !fileExists("/run/containerd") {
		t.Cleanup(func() { os.RemoveAll("/run/containerd") })
	}
	// runc leaves the namespace's (empty) parent cgroup behind.
	t.Cleanup(func() {
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/stdc-test")
		if d := "/sys/fs/cgroup/stdc-test"; fileExists(d) {
			dirs = append(dirs, d)
		}
		for _, d := range dirs {
			os.Remove(d)
		}
	})
	daemon := exec.Command(containerd, "--config", config)
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { daemon.Process.Kill(); daemon.Wait() }()
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := exec.Command(ctr, "--address", sock, "--namespace", "stdc-test", "images", "import", image).CombinedOutput()
	if err != nil {
		t.Fatalf("ctr images import: %v\n%s", err, out)
	}
	out, err = exec.Command(ctr, "--address", sock, "--namespace", "stdc-test", "images", "ls", "-q").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "stdc-test/probe:1") {
		t.Fatalf("ctr images ls: %v\n%s", err, out)
	}
	// And it runs there (containerd's shim with runc): our init's probe.
	out, err = exec.Command(ctr, "--address", sock, "--namespace", "stdc-test", "run", "--rm", "stdc-test/probe:1", "stdc-probe").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "rfc-probe: ") {
		t.Fatalf("ctr run: %v\n%s", err, out)
	}
	// containerd's runc shim drives the launcher itself, exit status included.
	if out, err := exec.Command(ctr, "--address", sock, "--namespace", "stdc-test", "images", "import", busyboxImage(t, dir)).CombinedOutput(); err != nil {
		t.Fatalf("ctr images import: %v\n%s", err, out)
	}
	out, err = exec.Command(ctr, "--address", sock, "--namespace", "stdc-test", "run", "--runc-binary", ociRuntime(t), "--rm",
		"stdc-test/bb:1", "stdc-via-launcher", "/bin/sh", "-c", "echo via-stdcontainer; exit 5").CombinedOutput()
	if code := exitCode(err); code != 5 || !strings.Contains(string(out), "via-stdcontainer") {
		t.Errorf("ctr run --runc-binary stdcontainer-runc: exit %d, %q; want 5 and the output", code, out)
	}
	// ctr task exec: the shim calls `exec --process --detach` on us.
	c := func(args ...string) ([]byte, error) {
		return exec.Command(ctr, append([]string{"--address", sock, "--namespace", "stdc-test"}, args...)...).CombinedOutput()
	}
	if out, err := c("run", "-d", "--runc-binary", ociRuntime(t), "stdc-test/bb:1", "stdc-exec", "sleep", "30"); err != nil {
		t.Fatalf("ctr run -d: %v\n%s", err, out)
	}
	out, err = c("task", "exec", "--exec-id", "e1", "stdc-exec", "sh", "-c", "echo in-exec; exit 7")
	if code := exitCode(err); code != 7 || !strings.Contains(string(out), "in-exec") {
		t.Errorf("ctr task exec: exit %d, %q; want 7 and the output", code, out)
	}
	c("task", "kill", "-s", "KILL", "stdc-exec")
	for i := 0; i < 50; i++ {
		if _, err := c("task", "delete", "stdc-exec"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c("container", "delete", "stdc-exec")
}

// busyboxImage writes an oci.tar of a busybox image tagged stdc-test/bb:1.
func busyboxImage(t *testing.T, dir string) string {
	t.Helper()
	image := filepath.Join(dir, "bb.oci.tar")
	mkrootfs(t, "-o", image, "--name", "bb", "--tag", "stdc-test/bb:1", "--app", busybox(t)+":/bin/busybox", "--add", busyboxLinks(t)+":/")
	return image
}

// treeListing lists every path under root with its type and mode, owner,
// symlink target and content digest, relative to root.
func treeListing(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		rel, _ := filepath.Rel(root, p)
		line := fmt.Sprintf("%s %v %d:%d", rel, info.Mode(), st.Uid, st.Gid)
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x", sha256.Sum256(data))
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOCIRoundTrip: an image written as oci.tar and imported back with
// --from is the same tree as the image written as a directory.
func TestOCIRoundTrip(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	extra := filepath.Join(dir, "extra")
	os.MkdirAll(filepath.Join(extra, "srv/data"), 0o750)
	os.WriteFile(filepath.Join(extra, "srv/data/hello.txt"), []byte("hello\n"), 0o640)
	os.WriteFile(filepath.Join(extra, "srv/tool"), []byte("#!/bin/sh\n"), 0o4755)
	os.Symlink("data/hello.txt", filepath.Join(extra, "srv/link"))
	os.Chmod(filepath.Join(extra, "srv/tool"), 0o4755)
	flags := []string{"--name", "roundtrip", "--add", extra + ":/", "--app", busybox(t) + ":/bin/busybox", "--cmd", "/bin/busybox echo hi"}
	direct, archive, back := filepath.Join(dir, "direct"), filepath.Join(dir, "img.oci.tar"), filepath.Join(dir, "back")
	mkrootfs(t, append([]string{"-o", direct}, flags...)...)
	mkrootfs(t, append([]string{"-o", archive}, flags...)...)
	mkrootfs(t, "-o", back, "--name", "roundtrip", "--from", archive)
	a, b := treeListing(t, direct), treeListing(t, back)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("dir -> oci.tar -> --from differs from the directory build:\ndirect:\n%s\nround trip:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// removeEmptyCgroups removes the cgroup directories named name (at the top
// of every hierarchy) and their empty children, deepest first.
func removeEmptyCgroups(name string) {
	tops, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	if fileExists("/sys/fs/cgroup/" + name) {
		tops = append(tops, "/sys/fs/cgroup/"+name)
	}
	removeEmptyTrees(tops)
}

// removeEmptyTrees removes the cgroup directories tops and their empty
// children, deepest first.
func removeEmptyTrees(tops []string) {
	for _, top := range tops {
		var dirs []string
		filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			os.Remove(dirs[i])
		}
	}
}
