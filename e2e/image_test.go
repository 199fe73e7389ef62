package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stdcontainer/stdcontainer/rootfs"
)

// probeKeys are the RFC support matrix rows, in the order the probe prints them.
var probeKeys = []string{"resolv-conf", "os-release", "default-init", "env-file",
	"net-host", "net-private", "net-nat", "socket-activation", "unique-id",
	"ns-pid", "ns-mount", "ns-net", "ns-uts", "ns-ipc", "ns-user", "ns-cgroup",
	"cgroup-limits", "mac-security"}

// parseProbe checks the probe's output format and returns key → status.
func parseProbe(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(probeKeys)+1 {
		t.Fatalf("probe printed %d lines, want %d rows + summary:\n%s", len(lines), len(probeKeys), out)
	}
	status := map[string]string{}
	yes, counted := 0, 0
	for i, key := range probeKeys {
		f := strings.Split(lines[i], "\t")
		if len(f) != 3 || f[0] != key || (f[1] != "yes" && f[1] != "no" && f[1] != "n/a") || f[2] == "" {
			t.Fatalf("row %d is %q, want %q<TAB>yes|no|n/a<TAB>evidence", i+1, lines[i], key)
		}
		status[key] = f[1]
		if f[1] != "n/a" {
			counted++
		}
		if f[1] == "yes" {
			yes++
		}
	}
	want := "rfc-probe: " + strconv.Itoa(yes) + "/" + strconv.Itoa(counted) + " yes"
	if lines[len(lines)-1] != want {
		t.Fatalf("summary %q, want %q", lines[len(lines)-1], want)
	}
	return status
}

func TestMinimalImageProbe(t *testing.T) {
	requireRoot(t)
	root := filepath.Join(t.TempDir(), "rootfs")
	mkrootfs(t, "-o", root, "--name", "minimal")
	// Exactly the README's chroot test: util-linux unshare, no launcher.
	cmd := exec.Command("unshare", "--fork", "--pid", "--mount", "chroot", root, "/sbin/init")
	out, code := runInit(t, cmd)
	if code != 0 {
		t.Fatalf("probe exit %d:\n%s", code, out)
	}
	status := parseProbe(t, out)
	for key, want := range map[string]string{
		"os-release":   "yes", // from the skeleton
		"default-init": "yes", // PID 1, /sbin/init, no arguments
		"ns-pid":       "yes",
		"ns-mount":     "yes",
		"resolv-conf":  "no", // the minimal image has none; unshare injects none
		"ns-uts":       "no", // not unshared by this command
		"unique-id":    "no",
	} {
		if status[key] != want {
			t.Errorf("%s = %s, want %s:\n%s", key, status[key], want, out)
		}
	}
}

func TestProbeSeesWhatTheRuntimeProvides(t *testing.T) {
	requireRoot(t)
	root := filepath.Join(t.TempDir(), "rootfs")
	mkrootfs(t, "-o", root)
	// Act as a runtime: a new UTS, IPC and network namespace, an environment
	// variable and a container id; the probe must see each.
	cmd := exec.Command("unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "chroot", root, "/sbin/init")
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "STDC_PROBE_ENV=from-env-file", "container=e2e", "container_uuid=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}
	out, code := runInit(t, cmd)
	if code != 0 {
		t.Fatalf("probe exit %d:\n%s", code, out)
	}
	status := parseProbe(t, out)
	for key, want := range map[string]string{
		"ns-uts": "yes", "ns-ipc": "yes", "ns-net": "yes", "net-private": "yes",
		"net-host": "n/a", "net-nat": "n/a", "env-file": "yes", "unique-id": "yes",
	} {
		if status[key] != want {
			t.Errorf("%s = %s, want %s:\n%s", key, status[key], want, out)
		}
	}
	if !strings.Contains(out, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0") {
		t.Errorf("unique-id evidence lacks the uuid:\n%s", out)
	}
}

func TestMinimalImageIsReproducibleAndSmall(t *testing.T) {
	dir := t.TempDir()
	var archives [][]byte
	for _, name := range []string{"a.tar.zst", "b.tar.zst"} {
		mkrootfs(t, "-o", filepath.Join(dir, name), "--name", "minimal")
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		archives = append(archives, data)
	}
	if !bytes.Equal(archives[0], archives[1]) {
		t.Fatal("two builds of the minimal image differ")
	}
	if n := len(archives[0]); n > 700*1024 {
		t.Errorf("minimal.tar.zst is %d bytes, over 700 KiB", n)
	}
	root := filepath.Join(dir, "rootfs")
	mkrootfs(t, "-o", root, "--name", "minimal")
	var total int64
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	if total > 1_677_721 { // 1.6 MiB
		t.Errorf("minimal rootfs holds %d bytes of files, over 1.6 MiB", total)
	}
}

// TestBuiltImagesPassTheChrootTest runs rootfs.Check over what mkrootfs
// writes, with a static and a dynamic payload.
func TestBuiltImagesPassTheChrootTest(t *testing.T) {
	minimal := filepath.Join(t.TempDir(), "rootfs")
	mkrootfs(t, "-o", minimal)
	dynamic := filepath.Join(t.TempDir(), "rootfs")
	mkrootfs(t, "-o", dynamic, "--app", "/bin/true")
	for name, root := range map[string]string{"minimal": minimal, "busybox": busyboxRootfs(t, "--cmd", "sh -c true"), "dynamic /bin/true": dynamic} {
		findings, err := rootfs.Check(root, rootfs.CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rootfs.Failed(findings) {
			t.Errorf("%s image fails the chroot test: %v", name, findings)
		}
	}
}
