package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// debianRootfs returns a cached debootstrapped Debian with systemd-sysv,
// building it on first use (about a minute). STDC_DEBIAN_ROOTFS overrides
// where it is kept.
func debianRootfs(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STDC_DEBIAN_ROOTFS")
	if dir == "" {
		dir = "/var/cache/stdcontainer/debian-bookworm"
	}
	if out, err := exec.Command("../scripts/debian-rootfs.sh", dir).CombinedOutput(); err != nil {
		if os.Getenv("STDC_E2E") == "require" {
			t.Fatalf("building the Debian rootfs: %v\n%s", err, out)
		}
		t.Skipf("no Debian rootfs: %v\n%s", err, out)
	}
	return dir
}

// bootCheckUnit is started once systemd is up; it records whether the
// system reached its default target and which units failed.
const bootCheckUnit = `[Unit]
Description=stdcontainer boot check
[Service]
Type=simple
ExecStart=/bin/sh -c 'systemctl is-system-running --wait > /result/state.tmp 2>&1; systemctl list-units --failed --no-legend --plain > /result/failed 2>&1; mv /result/state.tmp /result/state'
`

// TestLauncherBootsSystemd: an unmodified Debian boots with systemd as
// PID 1 to a running system with no failed units, and `stop` shuts it
// down cleanly with SIGRTMIN+3 rather than killing it.
func TestLauncherBootsSystemd(t *testing.T) {
	requireRoot(t)
	image := debianRootfs(t)
	before := treeSum(t, filepath.Join(image, "etc"))
	unit := filepath.Join(t.TempDir(), "stdc-boot-check.service")
	os.WriteFile(unit, []byte(bootCheckUnit), 0o644)
	result, st := t.TempDir(), t.TempDir()
	out, stderr, code := launch(t, st, "run", "-d", "--name", "debian",
		"-v", unit+":/etc/systemd/system/stdc-boot-check.service:ro", "-v", result+":/result",
		image, "/sbin/init", "systemd.wants=stdc-boot-check.service")
	if code != 0 {
		t.Fatalf("run -d: exit %d %s %s", code, out, stderr)
	}
	defer launch(t, st, "rm", "-f", "debian")
	var state []byte
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if state, _ = os.ReadFile(filepath.Join(result, "state")); state != nil {
			break
		}
	}
	failed, _ := os.ReadFile(filepath.Join(result, "failed"))
	if strings.TrimSpace(string(state)) != "running" || strings.TrimSpace(string(failed)) != "" {
		t.Fatalf("systemd did not boot cleanly: state %q, failed units:\n%s", state, failed)
	}
	start := time.Now()
	if _, stderr, code := launch(t, st, "stop", "debian"); code != 0 {
		t.Fatalf("stop: exit %d %s", code, stderr)
	}
	out, _, _ = launch(t, st, "inspect", "debian")
	if !strings.Contains(out, `"Status": "exited"`) || strings.Contains(out, `"ExitCode": 137`) || time.Since(start) > 9*time.Second {
		t.Fatalf("stop did not shut systemd down cleanly within its timeout (%v):\n%s", time.Since(start), out)
	}
	if treeSum(t, filepath.Join(image, "etc")) != before {
		t.Error("booting modified the image's /etc")
	}
}
