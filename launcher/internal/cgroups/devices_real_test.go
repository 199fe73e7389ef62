package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// probeEnv makes the test binary a probe (TestMain): the real device tests
// run it in the cgroup under test, and it reports what the kernel lets it do.
const probeEnv = "STDC_DEVICE_PROBES"

func TestMain(m *testing.M) {
	if probes := os.Getenv(probeEnv); probes != "" {
		runProbes(probes)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runProbes waits for a line on stdin (the parent has moved it into the
// cgroup), then does each probe, one a line: "open-r PATH", "open-rw PATH"
// or "mknod PATH c|b MAJOR MINOR", printing "ok" or the errno's name.
func runProbes(probes string) {
	bufio.NewReader(os.Stdin).ReadString('\n')
	for _, p := range strings.Split(probes, "\n") {
		f := strings.Fields(p)
		var err error
		switch f[0] {
		case "open-r", "open-rw":
			mode := unix.O_RDONLY
			if f[0] == "open-rw" {
				mode = unix.O_RDWR
			}
			var fd int
			if fd, err = unix.Open(f[1], mode|unix.O_CLOEXEC|unix.O_NONBLOCK, 0); err == nil {
				unix.Close(fd)
			}
		case "mknod":
			kind := uint32(unix.S_IFCHR)
			if f[2] == "b" {
				kind = unix.S_IFBLK
			}
			major, _ := strconv.Atoi(f[3])
			minor, _ := strconv.Atoi(f[4])
			err = unix.Mknod(f[1], kind|0o600, int(unix.Mkdev(uint32(major), uint32(minor))))
		}
		fmt.Println(probeResult(err))
	}
}

func probeResult(err error) string {
	var errno unix.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &errno):
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// probe runs the probes in a child that join moves into the cgroup under
// test, returning one result per probe.
func probe(t *testing.T, join func(pid int) error, probes []string) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), probeEnv+"="+strings.Join(probes, "\n"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := join(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	stdin.Write([]byte("go\n"))
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("probe: %v: %s", err, out.String())
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(got) != len(probes) {
		t.Fatalf("probe printed %q for %q", got, probes)
	}
	return got
}

// deviceNodes makes, in a fresh directory on a filesystem that honours
// device nodes, a node for one of this host's block devices ("disk") and
// one for /dev/kmsg (c 1:11, not on docker's list), each of which this
// test process can open; it returns the directory and the disk's numbers.
func deviceNodes(t *testing.T) (dir string, diskMajor, diskMinor uint32) {
	dir = t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Flags&unix.ST_NODEV != 0 {
		t.Skipf("%s is on a nodev mount: device nodes there cannot be opened at all", dir)
	}
	mknod := func(name string, kind uint32, major, minor uint32) string {
		p := filepath.Join(dir, name)
		os.Remove(p)
		if err := unix.Mknod(p, kind|0o600, int(unix.Mkdev(major, minor))); err != nil {
			t.Fatalf("mknod %s: %v", p, err)
		}
		return p
	}
	// Only open them: nothing is read.
	opens := func(p string) bool {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err == nil
	}
	if p := mknod("kmsg", unix.S_IFCHR, 1, 11); !opens(p) {
		t.Fatalf("cannot open %s (c 1:11) outside any device cgroup", p)
	}
	// The disk holding / first (vda, 254:0 on the CI host), else any.
	var candidates []string
	var root unix.Stat_t
	if unix.Stat("/", &root) == nil {
		candidates = append(candidates, fmt.Sprintf("%d:%d", unix.Major(root.Dev), unix.Minor(root.Dev)))
	}
	ents, _ := os.ReadDir("/sys/dev/block")
	for _, e := range ents {
		candidates = append(candidates, e.Name())
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join("/sys/dev/block", c)); err != nil {
			continue
		}
		var major, minor uint32
		if _, err := fmt.Sscanf(c, "%d:%d", &major, &minor); err != nil {
			continue
		}
		if opens(mknod("disk", unix.S_IFBLK, major, minor)) {
			return dir, major, minor
		}
	}
	t.Skip("no block device this test can open (none in /sys/dev/block)")
	return
}

// The probes and what DefaultDevices lets them do.
func defaultDevicesProbes(dir string, major, minor uint32) (probes, want []string) {
	for _, p := range []struct{ probe, want string }{
		{"open-r " + dir + "/disk", "EPERM"},
		{"open-r " + dir + "/kmsg", "EPERM"},
		{"open-rw /dev/null", "ok"},
		{"open-rw /dev/zero", "ok"},
		{fmt.Sprintf("mknod %s/disk2 b %d %d", dir, major, minor), "ok"}, // b *:* m
		{"mknod " + dir + "/kmsg2 c 1 11", "ok"},                         // c *:* m
	} {
		probes, want = append(probes, p.probe), append(want, p.want)
	}
	return probes, want
}

func checkProbes(t *testing.T, probes, got, want []string) {
	t.Helper()
	for i := range probes {
		if got[i] != want[i] {
			t.Errorf("%s: %s, want %s", probes[i], got[i], want[i])
		} else {
			t.Logf("%s: %s", probes[i], got[i])
		}
	}
}

// The real devices controller through Create: v1 on this host (hybrid),
// where the rules go to devices.allow and devices.deny.
func TestRealDevices(t *testing.T) {
	requireRoot(t)
	l, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	if l.V1["devices"] == "" {
		t.Skip("no v1 devices hierarchy (TestRealDevicesBPF tests the cgroup2 program)")
	}
	dir, major, minor := deviceNodes(t)
	name := "stdcontainer-devtest-" + strconv.Itoa(os.Getpid())
	c, err := Create(l, testParents(l), "", name, &specs.LinuxResources{Devices: DefaultDevices()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Destroy(); err != nil {
			t.Error(err)
		}
	})
	for _, p := range c.Paths() {
		if strings.HasPrefix(p, l.V1["devices"]+"/") {
			list, _ := readString(filepath.Join(p, "devices.list"))
			t.Logf("%s/devices.list:\n%s", p, list)
			if !strings.Contains(list, "c 1:3 rwm") || strings.Contains(list, "a *:* rwm") {
				t.Errorf("devices.list is not docker's list")
			}
		}
	}
	probes, want := defaultDevicesProbes(dir, major, minor)
	checkProbes(t, probes, probe(t, c.Join, probes), want)
}

// The BPF program on a real cgroup2 directory: on this hybrid host, in the
// otherwise empty unified tree (/sys/fs/cgroup/unified).
func TestRealDevicesBPF(t *testing.T) {
	requireRoot(t)
	l, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	if l.V2 == "" {
		t.Skip("no cgroup2 mount (a hybrid host has it at /sys/fs/cgroup/unified): nothing to attach the program to")
	}
	devDir, major, minor := deviceNodes(t)
	dir := filepath.Join(l.V2, "stdcontainer-devtest-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := DestroyPaths([]string{dir}, nil); err != nil {
			t.Error(err)
		}
	})
	list, err := parseDevices(DefaultDevices())
	if err != nil {
		t.Fatal(err)
	}
	prog := deviceProgram(list)
	if err := (realFS{}).attachDeviceProgram(dir, prog); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d instructions attached to %s", len(prog), dir)
	// The verifier takes every kind of check the compiler emits.
	for _, rules := range [][]string{
		{"allow a *:* rwm", "deny b *:* w", "deny c 1:* rw"},
		{"deny a *:* rwm", "allow a 1:3 r", "allow b *:* rw", "deny b *:* w"},
	} {
		l, err := parseDevices(devRules(rules...))
		if err != nil {
			t.Fatal(err)
		}
		if fd, err := loadDeviceProgram(deviceProgram(l)); err != nil {
			t.Errorf("%q: %v", rules, err)
		} else {
			unix.Close(fd)
		}
	}
	join := func(pid int) error { return realFS{}.write(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid)) }
	probes, want := defaultDevicesProbes(devDir, major, minor)
	checkProbes(t, probes, probe(t, join, probes), want)
}
