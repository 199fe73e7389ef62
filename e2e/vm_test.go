package e2e

// The init as a kernel's init: images booted as initramfs under qemu (TCG)
// with Debian's kernel, through scripts/vm-run.sh. Nothing runs on the
// host but qemu; every file lives in the test's temporary directories.

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// vmTimeout bounds one boot, power-off included (vm-run.sh kills qemu).
const vmTimeout = 120 * time.Second

// vmHost is what booting needs: qemu and a kernel with its modules.
type vmHost struct {
	kernel  string // /boot/vmlinuz-VERSION
	modules string // /lib/modules/VERSION
}

// needVM skips the test when qemu or a kernel is missing, or fails it
// under STDC_E2E=require with what to install.
func needVM(t *testing.T) vmHost {
	t.Helper()
	requireRoot(t) // Debian's /boot/vmlinuz-* are readable by root only
	missing := func(what, pkg string) {
		t.Helper()
		msg := what + " (apt-get install -y " + pkg + ")"
		if os.Getenv("STDC_E2E") == "require" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		missing("no qemu-system-x86_64", "qemu-system-x86")
	}
	kernels, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(kernels) == 0 {
		missing("no kernel in /boot/vmlinuz-*", "linux-image-amd64")
	}
	// The newest, by version order where it matters: 6.1.0-9 < 6.1.0-10.
	sort.Slice(kernels, func(i, j int) bool { return versionLess(kernels[i], kernels[j]) })
	k := kernels[len(kernels)-1]
	return vmHost{kernel: k, modules: "/lib/modules/" + strings.TrimPrefix(filepath.Base(k), "vmlinuz-")}
}

// versionLess compares strings with their digit runs as numbers.
func versionLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, _ := strconv.Atoi(a[:da])
			nb, _ := strconv.Atoi(b[:db])
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// initramfs builds an image with mkrootfs (our init as /sbin/init) as a
// compressed initramfs and returns its path. While mkrootfs cannot write
// cpio yet, the image is written as a directory and archived here.
func initramfs(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "image.cpio.zst")
	msg, err := exec.Command(bin.mkrootfs, append([]string{"--init", bin.init, "-o", out}, args...)...).CombinedOutput()
	if err == nil {
		return out
	}
	if !strings.Contains(string(msg), "not implemented") && !strings.Contains(string(msg), "unknown format") {
		t.Fatalf("mkrootfs -o %s %s: %v\n%s", out, strings.Join(args, " "), err, msg)
	}
	t.Logf("mkrootfs has no cpio writer yet (%s): archiving a directory image", strings.TrimSpace(string(msg)))
	root := filepath.Join(dir, "rootfs")
	mkrootfs(t, append([]string{"-o", root}, args...)...)
	out = filepath.Join(dir, "image.cpio")
	if err := writeNewc(root, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeNewc archives root as a newc cpio (what the kernel unpacks), owned
// by root, with the /dev/console and /dev/null the kernel and the Go
// runtime want before anything is mounted.
func writeNewc(root, out string) error {
	var b bytes.Buffer
	ino := 0
	entry := func(name string, mode uint32, rdevMajor, rdevMinor int, data []byte) {
		ino++
		b.WriteString("070701")
		for _, v := range []int{ino, int(mode), 0, 0, 1, 0, len(data), 0, 0, rdevMajor, rdevMinor, len(name) + 1, 0} {
			h := strconv.FormatUint(uint64(v), 16)
			b.WriteString(strings.Repeat("0", 8-len(h)) + h)
		}
		b.WriteString(name + "\x00")
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		b.Write(data)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	const (
		sIFDIR, sIFREG, sIFLNK, sIFCHR = 0o040000, 0o100000, 0o120000, 0o020000
	)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		name := strings.TrimPrefix(p, root+"/")
		info, err := d.Info()
		if err != nil {
			return err
		}
		perm := uint32(info.Mode().Perm())
		if info.Mode()&fs.ModeSticky != 0 {
			perm |= 0o1000
		}
		switch {
		case d.IsDir():
			entry(name, sIFDIR|perm, 0, 0, nil)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			entry(name, sIFLNK|0o777, 0, 0, []byte(target))
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			entry(name, sIFREG|perm, 0, 0, data)
		}
		return nil
	})
	if err != nil {
		return err
	}
	entry("dev", sIFDIR|0o755, 0, 0, nil)
	entry("dev/console", sIFCHR|0o600, 5, 1, nil)
	entry("dev/null", sIFCHR|0o666, 1, 3, nil)
	entry("TRAILER!!!", 0, 0, 0, nil)
	return os.WriteFile(out, b.Bytes(), 0o644)
}

// bootVM boots the initramfs with scripts/vm-run.sh and returns the
// console (without carriage returns), qemu's exit status and how long it
// all took.
func bootVM(t *testing.T, h vmHost, initrd string, qemuArgs string, appendArgs ...string) (string, int, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), vmTimeout+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "../scripts/vm-run.sh", append([]string{h.kernel, initrd}, appendArgs...)...)
	cmd.Env = append(os.Environ(), "VM_TIMEOUT="+strconv.Itoa(int(vmTimeout/time.Second)), "VM_QEMU_ARGS="+qemuArgs)
	// The script execs timeout(1), which passes SIGTERM on to qemu; a
	// SIGKILL would leave qemu running.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := 0
	if err != nil {
		code = -1
		if e, ok := err.(*exec.ExitError); ok {
			code = e.ExitCode()
		}
	}
	console := strings.ReplaceAll(out.String(), "\r", "")
	if strings.Contains(console, "Kernel panic") {
		t.Fatalf("the guest kernel panicked after %v:\n%s", took, console)
	}
	return console, code, took
}

// TestVMBootsMinimalImage boots the minimal image: the init finds itself
// the kernel's init, prepares the machine, runs the RFC probe on the
// console, reports its status and powers off, which ends qemu with 0.
func TestVMBootsMinimalImage(t *testing.T) {
	h := needVM(t)
	initrd := initramfs(t, "--name", "minimal")
	console, code, took := bootVM(t, h, initrd, "",
		"rdinit=/sbin/init", "panic=-1", "hostname=stdc-probe", "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off")
	t.Logf("boot, probe and power-off in %v", took.Round(10*time.Millisecond))
	if code != 0 || !strings.Contains(console, "\nstdcontainer-init: payload exited with status 0\n") {
		t.Fatalf("qemu exit %d, want 0 after \"payload exited with status 0\":\n%s", code, console)
	}
	for _, want := range []string{
		"\nstdcontainer-init: VM mode, hostname stdc-probe\n",
		// No NIC: the driver is a module this initramfs does not load.
		"\nstdcontainer-init: network: ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off: no Ethernet interface\n",
		"reboot: Power down",
	} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q:\n%s", want, console)
		}
	}
	// The probe's rows, wherever kernel messages fall.
	var probe []string
	for _, line := range strings.Split(console, "\n") {
		key, _, _ := strings.Cut(line, "\t")
		if strings.HasPrefix(line, "rfc-probe: ") || len(key) < len(line) && slices.Contains(probeKeys, key) {
			probe = append(probe, line)
		}
	}
	status := parseProbe(t, strings.Join(probe, "\n")+"\n")
	for key, want := range map[string]string{
		"default-init": "yes", // PID 1, /sbin/init
		"os-release":   "yes",
		"ns-pid":       "no", // the initial PID namespace: a machine, not a container
	} {
		if status[key] != want {
			t.Errorf("probe %s = %s, want %s:\n%s", key, status[key], want, console)
		}
	}
}

// vmCgroupScript is the payload of TestVMLauncherOnCgroupV2: it runs the
// launcher in the guest, whose only cgroup hierarchy is the cgroup2 one
// the init mounted, and prints one PASS or FAIL line per check.
const vmCgroupScript = `#!/bin/sh
failed=0
pass() { echo "VMTEST PASS $1${2:+: $2}"; }
fail() { echo "VMTEST FAIL $1: $2"; failed=1; }
# No container may leave its cgroup behind.
clean() {
	left=$(find /sys/fs/cgroup -name 'stdcontainer-*')
	if [ -z "$left" ]; then pass "$1-cleanup"; else fail "$1-cleanup" "$left"; fi
}
run() { launcher run --rm "$@" 2>&1; }
IMG=/images/bb

# The machine VM mode made.
if grep -q '^cgroup2 /sys/fs/cgroup cgroup2 ' /proc/mounts && ! grep -q ' cgroup ' /proc/mounts; then
	pass cgroup2-only
else
	fail cgroup2-only "$(grep cgroup /proc/mounts)"
fi
missing=
for m in /dev:devtmpfs /dev/pts:devpts /dev/shm:tmpfs /proc:proc /sys:sysfs /run:tmpfs /tmp:tmpfs; do
	grep -q " ${m%%:*} ${m#*:} " /proc/mounts || missing="$missing ${m#*:} on ${m%%:*}"
done
[ -z "$missing" ] && pass mounts || fail mounts "missing:$missing"
[ "$(hostname)" = stdc-vm ] && pass hostname || fail hostname "$(hostname)"
if ip -4 addr show dev eth0 | grep -q 'inet 10.0.2.15/24' && ip route | grep -q '^default via 10.0.2.2 dev eth0'; then
	pass network
else
	fail network "$(ip addr; ip route)"
fi
ping -c 1 -W 5 10.0.2.2 >/dev/null 2>&1 && pass ping || fail ping "no answer from the gateway 10.0.2.2"
con="$(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1) $(readlink /proc/$$/fd/2)"
[ "$con" = "/dev/console /dev/console /dev/console" ] && pass console || fail console "stdio is $con"

# Memory: 64 MB in a shell variable under a 16 MB limit is an OOM kill.
out=$(run -m 16m $IMG sh -c 'x=$(head -c 64m /dev/zero | tr \\0 x); echo survived ${#x}'); code=$?
[ $code = 137 ] && pass oom "exit $code" || fail oom "exit $code: $out"
clean oom
out=$(run -m 16m $IMG cat /sys/fs/cgroup/memory.max)
[ "$out" = 16777216 ] && pass memory-max "$out" || fail memory-max "$out"
clean memory-max

# PIDs: the container's shell, its inner shell and 3 sleepers make 5;
# the next fork is refused.
out=$(run --pids-limit 5 $IMG sh -c 'sh -c "i=0; while :; do sleep 5 & i=\$((i+1)); echo \$i > /tmp/n; done" 2>/tmp/err; read -r n < /tmp/n; read -r e < /tmp/err; read -r max < /sys/fs/cgroup/pids.max; echo "forked=$n max=$max err=$e"')
case $out in
*"forked=3 max=5 err="*fork*) pass pids "$out" ;;
*) fail pids "$out" ;;
esac
clean pids

# CPU: half a CPU is a 50 ms quota per 100 ms period.
out=$(run --cpus 0.5 $IMG cat /sys/fs/cgroup/cpu.max)
[ "$out" = "50000 100000" ] && pass cpu-max "$out" || fail cpu-max "$out"
clean cpu-max

exit $failed
`

// vmLoader runs before our init (rdinit=/load.sh): it loads the modules a
// container needs from the initramfs, then execs the init, which is then
// still PID 1 with nothing mounted.
func vmLoader(modules []string) string {
	s := "#!/bin/sh\n"
	for _, m := range modules {
		s += "insmod /lib/modules/stdc/" + filepath.Base(m) + " || echo \"load.sh: insmod " + filepath.Base(m) + " failed\"\n"
	}
	return s + "exec /sbin/init\n"
}

// moduleFiles returns the module files to load for the named modules,
// dependencies first, from the kernel's modules.dep, decompressed into
// dir. A module built into the kernel needs nothing.
func moduleFiles(t *testing.T, h vmHost, dir string, names ...string) []string {
	t.Helper()
	dep, err := os.ReadFile(filepath.Join(h.modules, "modules.dep"))
	if err != nil {
		t.Fatalf("%v (the kernel's modules come with its package)", err)
	}
	builtin, _ := os.ReadFile(filepath.Join(h.modules, "modules.builtin"))
	deps := map[string][]string{} // "overlay" -> ["kernel/fs/overlayfs/overlay.ko", deps...]
	for _, line := range strings.Split(string(dep), "\n") {
		file, rest, ok := strings.Cut(line, ":")
		if ok {
			deps[moduleName(file)] = append([]string{file}, strings.Fields(rest)...)
		}
	}
	var files []string
	seen := map[string]bool{}
	var add func(rel string)
	add = func(rel string) {
		name := moduleName(rel)
		if seen[name] {
			return
		}
		seen[name] = true
		for _, d := range deps[name][1:] {
			add(d)
		}
		src := filepath.Join(h.modules, rel)
		dst := filepath.Join(dir, name+".ko")
		var data []byte
		var err error
		switch {
		case strings.HasSuffix(rel, ".ko"):
			data, err = os.ReadFile(src)
		case strings.HasSuffix(rel, ".ko.xz"):
			data, err = exec.Command("xz", "-dc", src).Output()
		case strings.HasSuffix(rel, ".ko.zst"):
			data, err = exec.Command("zstd", "-dc", src).Output()
		case strings.HasSuffix(rel, ".ko.gz"):
			data, err = exec.Command("gzip", "-dc", src).Output()
		default:
			t.Fatalf("module %s: unknown compression", src)
		}
		if err != nil {
			t.Fatalf("module %s: %v", src, err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, dst)
	}
	for _, n := range names {
		switch {
		case deps[n] != nil:
			add(deps[n][0])
		case bytes.Contains(builtin, []byte("/"+n+".ko\n")):
			// built in
		default:
			t.Fatalf("kernel %s has no %s module", h.kernel, n)
		}
	}
	return files
}

// moduleName is "overlay" for "kernel/fs/overlayfs/overlay.ko.xz", with
// '-' as '_' like the kernel.
func moduleName(file string) string {
	base := filepath.Base(file)
	base, _, _ = strings.Cut(base, ".ko")
	return strings.ReplaceAll(base, "-", "_")
}

// TestVMLauncherOnCgroupV2 boots a machine whose only cgroup hierarchy is
// cgroup2 (this host is hybrid, so the launcher's v2 paths run nowhere
// else): our init runs a shell script that runs the launcher against a
// busybox image with memory, PID and CPU limits. The guest gets a NIC,
// configured by the init from ip=.
func TestVMLauncherOnCgroupV2(t *testing.T) {
	h := needVM(t)
	bb := busybox(t)
	// The guest's tree: every busybox applet in /bin, the script, the
	// loader, and the modules: overlayfs for the launcher, e1000 for the NIC.
	tree := t.TempDir()
	for _, d := range []string{"bin", "lib/modules/stdc"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" {
			os.Symlink("busybox", filepath.Join(tree, "bin", applet))
		}
	}
	modules := moduleFiles(t, h, filepath.Join(tree, "lib/modules/stdc"), "overlay", "e1000")
	for name, content := range map[string]string{"test.sh": vmCgroupScript, "load.sh": vmLoader(modules)} {
		if err := os.WriteFile(filepath.Join(tree, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	image := busyboxRootfs(t) // what the guest's launcher runs
	initrd := initramfs(t, "--name", "vm", "--app", bb+":/bin/busybox", "--add", tree+":/",
		"--add", bin.launcher+":/usr/bin/launcher", "--add", image+":/images/bb", "--cmd", "/bin/sh /test.sh")

	console, code, took := bootVM(t, h, initrd, "-netdev user,id=n0 -device e1000,netdev=n0,romfile=",
		"rdinit=/load.sh", "panic=-1", "hostname=stdc-vm", "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off")
	t.Logf("boot, checks and power-off in %v", took.Round(10*time.Millisecond))
	var passed []string
	for _, line := range strings.Split(console, "\n") {
		if check, ok := strings.CutPrefix(line, "VMTEST PASS "); ok {
			name, detail, _ := strings.Cut(check, ": ")
			passed = append(passed, name)
			if detail != "" {
				t.Logf("guest: %s: %s", name, detail)
			}
		}
		if strings.HasPrefix(line, "VMTEST FAIL ") || strings.HasPrefix(line, "load.sh: ") {
			t.Error(line)
		}
	}
	t.Logf("passed in the guest: %s", strings.Join(passed, " "))
	want := []string{"cgroup2-only", "mounts", "hostname", "network", "ping", "console", "oom", "oom-cleanup",
		"memory-max", "memory-max-cleanup", "pids", "pids-cleanup", "cpu-max", "cpu-max-cleanup"}
	if strings.Join(passed, " ") != strings.Join(want, " ") {
		t.Errorf("checks passed: %v; want %v", passed, want)
	}
	if code != 0 || !strings.Contains(console, "\nstdcontainer-init: network: eth0 configured from ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off\n") ||
		!strings.Contains(console, "\nstdcontainer-init: payload exited with status 0\n") {
		t.Errorf("qemu exit %d, want 0 after the network line and \"payload exited with status 0\"", code)
	}
	if t.Failed() {
		t.Logf("console:\n%s", console)
	}
}
