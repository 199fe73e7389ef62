// Command escape runs inside a container as its entry point and tries the
// escapes a hostile container would try, printing one line per attempt so
// that a test can assert on the output:
//
//	NAME: denied (ERRNO)[ detail]   the attempt failed with errno ERRNO
//	NAME: ALLOWED detail            it succeeded: a confinement failure
//	NAME: skipped (why)             it cannot be tried here
//
// A few attempts are reports rather than probes and print their own format
// (host-procs, fds, cwd, exe-write/exe-seen, caps as "status: ..." lines).
//
// Usage: escape [NAME...] runs the named attempts in the order given (by
// default all, in a fixed order); escape -list prints the names. The exit
// status is always 0.
//
// Every attempt is harmless even where it succeeds: nothing is written to
// sysrq-trigger, a kernel module image or any binary; a tmpfs mounted is
// unmounted, changed mount flags, hostname and ctrl-alt-del setting are put
// back, and a created link, key or device node is removed. The file and
// directory reads go through raw syscalls rather than package os so that
// Go's poller does not open descriptors of its own that "fds" would report;
// for the same reason the go:debug lines stop the runtime from keeping the
// cgroup CPU quota files open (Go 1.25's container-aware GOMAXPROCS).
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

type attempt struct {
	name string
	run  func(name string)
}

// attempts lists every attempt in the default order. Keep names stable:
// tests assert on them.
var attempts = []attempt{
	{"mount", tryMount},
	{"remount-root-rw", tryRemountRoot},
	{"remount-sys-rw", tryRemountSys},
	{"sysrq", trySysrq},
	{"kcore", tryKcore},
	{"kmsg", tryKmsg},
	{"init_module", tryInitModule},
	{"finit_module", tryFinitModule},
	{"reboot", tryReboot},
	{"kexec_load", tryKexecLoad},
	{"swapon", trySwapon},
	{"keyctl", tryKeyctl},
	{"add_key", tryAddKey},
	{"bpf", tryBPF},
	{"perf_event_open", tryPerfEventOpen},
	{"open_by_handle_at", tryOpenByHandleAt},
	{"userns", tryUserns},
	{"mknod-disk", tryMknodDisk},
	{"hostname-host", tryHostname},
	{"net-link", tryNetLink},
	{"host-procs", reportHostProcs},
	{"fds", reportFds},
	{"cwd", reportCwd},
	{"exe-write", tryExeWrite},
	{"caps", reportCaps},
}

func main() {
	// The userns attempt re-executes this program in a new user namespace
	// with this hidden argument: it only has to exist and exit.
	if len(os.Args) == 2 && os.Args[1] == "true-child" {
		os.Exit(0)
	}
	args := os.Args[1:]
	if len(args) == 1 && args[0] == "-list" {
		for _, a := range attempts {
			fmt.Println(a.name)
		}
		return
	}
	if len(args) == 0 {
		for _, a := range attempts {
			run(a)
		}
		return
	}
	for _, name := range args {
		found := false
		for _, a := range attempts {
			if a.name == name {
				run(a)
				found = true
				break
			}
		}
		if !found {
			skip(name, "unknown attempt")
		}
	}
}

// run runs one attempt; a panic is reported rather than ending the run,
// since the exit status must stay 0 and later attempts must still print.
func run(a attempt) {
	defer func() {
		if r := recover(); r != nil {
			skip(a.name, fmt.Sprintf("internal error: %v", r))
		}
	}()
	a.run(a.name)
}

func say(name, format string, args ...any) {
	fmt.Printf("%s: %s\n", name, fmt.Sprintf(format, args...))
}

func allow(name, detail string) { say(name, "ALLOWED %s", detail) }

func skip(name, why string) { say(name, "skipped (%s)", why) }

// deny reports a failed attempt by its errno name, with optional detail.
func deny(name string, err error, detail string) {
	if detail != "" {
		detail = " " + detail
	}
	say(name, "denied (%s)%s", errName(err), detail)
}

// errName names err's errno ("EPERM"), or describes a non-errno error.
func errName(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if n := unix.ErrnoName(errno); n != "" {
			return n
		}
		return fmt.Sprintf("errno %d", int(errno))
	}
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// readFile reads up to max bytes of path with raw syscalls.
func readFile(path string, max int) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var out []byte
	buf := make([]byte, 4096)
	for len(out) < max {
		n, err := unix.Read(fd, buf)
		if n > 0 {
			out = append(out, buf[:n]...)
		}
		if err != nil {
			return out, err
		}
		if n == 0 {
			break
		}
	}
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}

// readDirNames lists a directory (without . and ..) with raw syscalls;
// if fdOut is not nil it receives the directory's descriptor number.
func readDirNames(path string, fdOut *int) ([]string, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if fdOut != nil {
		*fdOut = fd
	}
	var names []string
	buf := make([]byte, 16384)
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err != nil {
			return names, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

// pids lists the numeric entries of /proc.
func pids() []int {
	names, _ := readDirNames("/proc", nil)
	var out []int
	for _, n := range names {
		if p, err := strconv.Atoi(n); err == nil && p > 0 {
			out = append(out, p)
		}
	}
	sort.Ints(out)
	return out
}

// stToMS maps statfs's f_flag bits to the MS_ mount flags that set them
// (most share values, but ST_RELATIME is MS_BIND's value).
var stToMS = []struct {
	st, ms uintptr
	name   string
}{
	{unix.ST_RDONLY, unix.MS_RDONLY, "ro"},
	{unix.ST_NOSUID, unix.MS_NOSUID, "nosuid"},
	{unix.ST_NODEV, unix.MS_NODEV, "nodev"},
	{unix.ST_NOEXEC, unix.MS_NOEXEC, "noexec"},
	{unix.ST_NOATIME, unix.MS_NOATIME, "noatime"},
	{unix.ST_NODIRATIME, unix.MS_NODIRATIME, "nodiratime"},
	{unix.ST_RELATIME, unix.MS_RELATIME, "relatime"},
}

// mountFlags returns path's per-mount flags as MS_ flags.
func mountFlags(path string) (uintptr, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	var ms uintptr
	for _, f := range stToMS {
		if uintptr(uint64(st.Flags))&f.st != 0 {
			ms |= f.ms
		}
	}
	return ms, nil
}

// flagString renders MS_ flags as mount options ("ro,nosuid").
func flagString(ms uintptr) string {
	s := []string{"rw"}
	for _, f := range stToMS {
		if ms&f.ms != 0 {
			if f.ms == unix.MS_RDONLY {
				s[0] = "ro"
			} else {
				s = append(s, f.name)
			}
		}
	}
	return strings.Join(s, ",")
}

// mount: a container that can mount can mount proc, sysfs, cgroupfs or a
// device's filesystem over its confinement; tmpfs needs no device at all.
func tryMount(name string) {
	created := false
	if err := unix.Mkdir("/mnt", 0o755); err == nil {
		created = true
	}
	err := unix.Mount("stdc-escape", "/mnt", "tmpfs", 0, "size=64k")
	if err != nil {
		deny(name, err, "")
	} else {
		detail := "tmpfs mounted on /mnt (unmounted again)"
		if uerr := unix.Unmount("/mnt", unix.MNT_DETACH); uerr != nil {
			detail = "tmpfs mounted on /mnt (unmount failed: " + errName(uerr) + ")"
		}
		allow(name, detail)
	}
	if created {
		unix.Rmdir("/mnt")
	}
}

// remount-root-rw: changing the root's mount flags would undo a read-only
// root or its nosuid/nodev/noexec. Flags 0 asks to clear them all.
func tryRemountRoot(name string) {
	before, _ := mountFlags("/")
	err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND, "")
	if err != nil {
		deny(name, err, "")
		return
	}
	after, _ := mountFlags("/")
	detail := fmt.Sprintf("root remounted: %s -> %s", flagString(before), flagString(after))
	if after != before {
		if rerr := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|before, ""); rerr != nil {
			detail += " (restore failed: " + errName(rerr) + ")"
		} else {
			detail += " (restored)"
		}
	}
	allow(name, detail)
}

// remount-sys-rw: a writable sysfs exposes kernel and device knobs (e.g.
// uevent_helper, device power and driver bindings) to the container.
// The remount (of the superblock, not a bind remount) keeps /sys's other
// flags and clears only MS_RDONLY. If it succeeds, the superblock, which
// /sys shares with every sysfs mount of its network namespace (the host's
// too if that namespace is the host's), is put back to read-only only if
// it was read-only before; the mount's own flags are restored by a bind
// remount, which leaves the superblock alone.
func tryRemountSys(name string) {
	before, err := mountFlags("/sys")
	if err != nil {
		skip(name, "statfs /sys: "+errName(err))
		return
	}
	superRO, superKnown := superReadOnly("/sys")
	err = unix.Mount("", "/sys", "", unix.MS_REMOUNT|(before&^unix.MS_RDONLY), "")
	after, _ := mountFlags("/sys") // statfs again: did /sys become writable?
	change := fmt.Sprintf("%s -> %s", flagString(before), flagString(after))
	if err != nil {
		deny(name, err, "/sys "+change)
		return
	}
	detail := "/sys remounted: " + change
	restore := uintptr(unix.MS_REMOUNT | unix.MS_BIND)
	if superKnown && superRO {
		restore = unix.MS_REMOUNT | unix.MS_RDONLY
	}
	if rerr := unix.Mount("", "/sys", "", restore|before, ""); rerr != nil {
		detail += " (restore failed: " + errName(rerr) + ")"
	} else {
		detail += " (restored)"
	}
	allow(name, detail)
}

// superReadOnly reports whether the superblock of the topmost mount on
// path (as /proc/self/mountinfo spells it) is read-only, and whether that
// could be found out.
func superReadOnly(path string) (ro, known bool) {
	b, err := readFile("/proc/self/mountinfo", 4<<20)
	if err != nil {
		return false, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPEROPTIONS
		f := strings.Fields(line)
		if len(f) < 10 || f[4] != path || f[len(f)-4] != "-" {
			continue
		}
		ro, known = false, true
		for _, o := range strings.Split(f[len(f)-1], ",") {
			if o == "ro" {
				ro = true
			}
		}
	}
	return ro, known
}

// sysrq: writing /proc/sysrq-trigger can crash, reboot or freeze the host.
// Opening it for writing is the test: nothing is ever written.
func trySysrq(name string) {
	fd, err := unix.Open("/proc/sysrq-trigger", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		deny(name, err, "")
		return
	}
	unix.Close(fd)
	allow(name, "opened for writing (nothing written)")
}

// kcore: /proc/kcore is the host's physical memory as an ELF core file.
func tryKcore(name string) {
	fd, err := unix.Open("/proc/kcore", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		deny(name, err, "")
		return
	}
	defer unix.Close(fd)
	var b [1]byte
	n, err := unix.Read(fd, b[:])
	switch {
	case err != nil:
		deny(name, err, "opened, read failed")
	case n == 0:
		say(name, "denied (EOF) opened, read returned nothing")
	default:
		allow(name, fmt.Sprintf("read %d byte", n))
	}
}

// kmsg: the kernel log leaks host addresses and other containers' events
// (and writing it forges host log lines). /dev should be private here.
func tryKmsg(name string) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		deny(name, err, "")
		return
	}
	unix.Close(fd)
	allow(name, "opened for reading")
}

// init_module: loading a module is running code in the host kernel. The
// image is 4 garbage bytes, which the kernel rejects (ENOEXEC) if it lets
// the caller get that far; only EPERM means the capability was missing.
func tryInitModule(name string) {
	err := unix.InitModule([]byte{0xde, 0xad, 0xbe, 0xef}, "")
	if err != nil {
		deny(name, err, "")
		return
	}
	allow(name, "kernel accepted a 4-byte garbage module")
}

// finit_module: the same from a file descriptor; /dev/null is no module.
func tryFinitModule(name string) {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		skip(name, "open /dev/null: "+errName(err))
		return
	}
	defer unix.Close(fd)
	if err := unix.FinitModule(fd, "", 0); err != nil {
		deny(name, err, "")
		return
	}
	allow(name, "kernel accepted /dev/null as a module")
}

// reboot: with CAP_SYS_BOOT outside a PID namespace this reboots or halts
// the host. CAD_OFF only changes what ctrl-alt-del does; in a child PID
// namespace it fails with EINVAL after the capability check, so EPERM
// means no CAP_SYS_BOOT and success means the host's init PID namespace.
// The host's setting is read first and put back if the call succeeds.
func tryReboot(name string) {
	prev, err := readFile("/proc/sys/kernel/ctrl-alt-del", 64)
	if err != nil {
		skip(name, "cannot read /proc/sys/kernel/ctrl-alt-del to restore it: "+errName(err))
		return
	}
	wasOn := strings.TrimSpace(string(prev)) != "0"
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF); err != nil {
		deny(name, err, "")
		return
	}
	detail := "LINUX_REBOOT_CMD_CAD_OFF succeeded (host PID namespace)"
	if wasOn {
		if rerr := unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_ON); rerr != nil {
			detail += " (restoring CAD_ON failed: " + errName(rerr) + ")"
		} else {
			detail += " (restored CAD_ON)"
		}
	}
	allow(name, detail)
}

// kexec_load: loading and booting another kernel replaces the host's.
// The permission check comes first; the arguments are then invalid on
// purpose (an unknown flag bit, more segments than KEXEC_SEGMENT_MAX) so
// that a permitted caller gets EINVAL instead of unloading a kexec image
// that the host may have loaded. So EPERM = denied, EINVAL = permitted.
func tryKexecLoad(name string) {
	const badFlag = 1 << 15        // not a KEXEC_* flag, below KEXEC_ARCH_MASK
	const tooManySegments = 16 + 1 // KEXEC_SEGMENT_MAX + 1
	_, _, e := unix.Syscall6(unix.SYS_KEXEC_LOAD, 0, tooManySegments, 0, badFlag, 0, 0)
	if e != 0 {
		deny(name, e, "")
		return
	}
	allow(name, "kexec_load returned success")
}

// swapon: enabling swap on a container-controlled file gives the container
// a way into host memory management; the path does not exist, so a
// permitted caller gets ENOENT and only EPERM means denied.
func trySwapon(name string) {
	p, err := unix.BytePtrFromString("/nonexistent")
	if err != nil {
		skip(name, err.Error())
		return
	}
	_, _, e := unix.Syscall(unix.SYS_SWAPON, uintptr(unsafe.Pointer(p)), 0, 0)
	if e != 0 {
		deny(name, e, "")
		return
	}
	allow(name, "swapon returned success")
}

// keyctl: the kernel keyring is not namespaced; container processes of
// the same uid could reach each other's (and the host's) keys.
func tryKeyctl(name string) {
	id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	if err != nil {
		deny(name, err, "")
		return
	}
	allow(name, fmt.Sprintf("session keyring id %d", id))
}

// add_key: the same, adding a key (to this process's own keyring, which
// dies with it; the key is invalidated at once anyway).
func tryAddKey(name string) {
	id, err := unix.AddKey("user", "stdc-test", []byte("x"), unix.KEY_SPEC_PROCESS_KEYRING)
	if err != nil {
		deny(name, err, "")
		return
	}
	detail := fmt.Sprintf("key %d added to the process keyring", id)
	if _, ierr := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0); ierr != nil {
		detail += " (invalidate failed: " + errName(ierr) + ")"
	} else {
		detail += " (invalidated)"
	}
	allow(name, detail)
}

// bpf: eBPF is a large kernel attack surface; creating a map is the first
// step of any eBPF use.
func tryBPF(name string) {
	attr := [5]uint32{unix.BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0} // type, key, value size, max entries, flags
	fd, _, e := unix.Syscall(unix.SYS_BPF, unix.BPF_MAP_CREATE, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if e != 0 {
		deny(name, e, "")
		return
	}
	unix.Close(int(fd))
	allow(name, "created an array map"+sysctlNote("unprivileged_bpf_disabled"))
}

// perf_event_open: perf events leak kernel addresses and timing and have a
// long record of kernel bugs.
func tryPerfEventOpen(name string) {
	attr := unix.PerfEventAttr{
		Type:   unix.PERF_TYPE_SOFTWARE,
		Config: unix.PERF_COUNT_SW_CPU_CLOCK,
		Bits:   unix.PerfBitDisabled,
	}
	attr.Size = uint32(unsafe.Sizeof(attr))
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		deny(name, err, "")
		return
	}
	unix.Close(fd)
	allow(name, "opened a cpu-clock event"+sysctlNote("perf_event_paranoid"))
}

// sysctlNote returns " (NAME=value)" for /proc/sys/kernel/NAME.
func sysctlNote(name string) string {
	b, err := readFile("/proc/sys/kernel/"+name, 64)
	if err != nil {
		return ""
	}
	return fmt.Sprintf(" (%s=%s)", name, strings.TrimSpace(string(b)))
}

// open_by_handle_at: the "shocker" escape: with CAP_DAC_READ_SEARCH a
// brute-forced file handle opens host files outside the container's root.
// The zero handle names no file, so a permitted caller gets ESTALE or
// EINVAL; only EPERM means denied.
func tryOpenByHandleAt(name string) {
	h := unix.NewFileHandle(1, make([]byte, 8)) // type 1 = FILEID_INO32_GEN
	fd, err := unix.OpenByHandleAt(unix.AT_FDCWD, h, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		deny(name, err, "")
		return
	}
	unix.Close(fd)
	allow(name, "opened a file from a zero handle")
}

// userns: a new user namespace hands out a full set of capabilities over
// new namespaces, which opens up much of the kernel's attack surface.
// unshare(CLONE_NEWUSER) always fails (EINVAL) in a multi-threaded Go
// process, so the attempt is a child cloned into a new user namespace.
func tryUserns(name string) {
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"escape", "true-child"}, &syscall.ProcAttr{
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER},
	})
	if err != nil {
		deny(name, err, "")
		return
	}
	var ws syscall.WaitStatus
	for {
		_, werr := syscall.Wait4(pid, &ws, 0, nil)
		if werr != syscall.EINTR {
			break
		}
	}
	allow(name, fmt.Sprintf("child created in a new user namespace (exit status %d)", ws.ExitStatus()))
}

// mknod-disk: with mknod and device access a container opens the host's
// disk and reads or rewrites any file on it. Only bytes read count.
func tryMknodDisk(name string) {
	part, err := readFile("/proc/partitions", 1<<20)
	if err != nil {
		skip(name, "read /proc/partitions: "+errName(err))
		return
	}
	var major, minor int
	var dev string
	// ESCAPE_DISK=MAJ:MIN names the device to try: a test picks one the
	// host itself can open, so that only the container's confinement
	// stands in the way.
	if want := os.Getenv("ESCAPE_DISK"); want != "" {
		part = []byte(strings.Replace(want, ":", " ", 1) + " 0 " + want)
	}
	for _, line := range strings.Split(string(part), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		ma, err1 := strconv.Atoi(f[0])
		mi, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil {
			major, minor, dev = ma, mi, f[3]
			break
		}
	}
	if dev == "" {
		skip(name, "no block device in /proc/partitions")
		return
	}
	const node = "/escape-disk"
	what := fmt.Sprintf("%d:%d (%s)", major, minor, dev)
	mk := func() error {
		return unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(uint32(major), uint32(minor))))
	}
	err = mk()
	if err == unix.EEXIST { // left over from an interrupted run?
		var st unix.Stat_t
		if unix.Lstat(node, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
			unix.Unlink(node)
			err = mk()
		}
	}
	if err != nil {
		deny(name, err, "mknod "+what+" failed")
		return
	}
	defer unix.Unlink(node)
	fd, err := unix.Open(node, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		deny(name, err, "mknod "+what+" ok, open failed")
		return
	}
	defer unix.Close(fd)
	buf := make([]byte, 512)
	n, err := unix.Read(fd, buf)
	switch {
	case err != nil:
		deny(name, err, "mknod "+what+" ok, open ok, read failed")
	case n == 0:
		say(name, "denied (EOF) mknod %s ok, open ok, read returned nothing", what)
	default:
		allow(name, fmt.Sprintf("mknod %s ok, read %d bytes", what, n))
	}
}

// hostname-host: without a UTS namespace this renames the host. Inside
// one it only renames the container (the test checks the host's name);
// the old name is put back either way.
func tryHostname(name string) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		skip(name, "uname: "+errName(err))
		return
	}
	old := unix.ByteSliceToString(u.Nodename[:])
	if err := unix.Sethostname([]byte("stdc-escape")); err != nil {
		deny(name, err, "")
		return
	}
	detail := fmt.Sprintf("hostname set (was %q", old)
	if rerr := unix.Sethostname([]byte(old)); rerr != nil {
		detail += ", restore failed: " + errName(rerr) + ")"
	} else {
		detail += ", restored)"
	}
	allow(name, detail)
}

// net-link: CAP_NET_ADMIN over the network namespace lets a container
// create links, reroute traffic and clear firewall rules. The attempt
// creates a dummy link over rtnetlink (and deletes it again).
func tryNetLink(name string) {
	const ifname = "stdcesc0"
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		deny(name, err, "netlink socket")
		return
	}
	defer unix.Close(fd)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 2})
	ifnameAttr := nlAttr(unix.IFLA_IFNAME, append([]byte(ifname), 0))
	create := nlLinkRequest(unix.RTM_NEWLINK,
		unix.NLM_F_REQUEST|unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_EXCL, 1,
		ifnameAttr,
		nlAttr(unix.IFLA_LINKINFO, nlAttr(unix.IFLA_INFO_KIND, []byte("dummy\x00"))))
	if err := nlTalk(fd, create, 1); err != nil {
		deny(name, err, "RTM_NEWLINK dummy "+ifname)
		return
	}
	detail := "created dummy link " + ifname
	del := nlLinkRequest(unix.RTM_DELLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 2, ifnameAttr)
	if derr := nlTalk(fd, del, 2); derr != nil {
		detail += " (delete failed: " + errName(derr) + ")"
	} else {
		detail += " (deleted)"
	}
	allow(name, detail)
}

func nlAlign(n int) int { return (n + 3) &^ 3 }

// nlAttr encodes a netlink attribute (struct rtattr and payload, padded).
func nlAttr(typ uint16, payload []byte) []byte {
	b := make([]byte, nlAlign(4+len(payload)))
	binary.NativeEndian.PutUint16(b[0:], uint16(4+len(payload)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[4:], payload)
	return b
}

// nlLinkRequest encodes nlmsghdr + a zero ifinfomsg (AF_UNSPEC, index 0)
// + attrs.
func nlLinkRequest(typ, flags uint16, seq uint32, attrs ...[]byte) []byte {
	msg := make([]byte, unix.SizeofNlMsghdr+unix.SizeofIfInfomsg)
	for _, a := range attrs {
		msg = append(msg, a...)
	}
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	return msg
}

// nlTalk sends req and returns the error carried by its NLMSG_ERROR ack.
func nlTalk(fd int, req []byte, seq uint32) error {
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 16384)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		for off := 0; off+unix.SizeofNlMsghdr <= n; {
			l := int(binary.NativeEndian.Uint32(buf[off:]))
			if l < unix.SizeofNlMsghdr || off+l > n {
				break
			}
			typ := binary.NativeEndian.Uint16(buf[off+4:])
			if binary.NativeEndian.Uint32(buf[off+8:]) == seq && typ == unix.NLMSG_ERROR && l >= unix.SizeofNlMsghdr+4 {
				if e := int32(binary.NativeEndian.Uint32(buf[off+unix.SizeofNlMsghdr:])); e != 0 {
					return syscall.Errno(-e)
				}
				return nil
			}
			off += nlAlign(l)
		}
	}
}

// host-procs: a container must not see (and so cannot signal or ptrace)
// the host's processes. A report, not a probe: the test checks N.
func reportHostProcs(name string) {
	ps := pids()
	max := 0
	if len(ps) > 0 {
		max = ps[len(ps)-1]
	}
	say(name, "%d processes visible, max pid %d", len(ps), max)
}

// fds: descriptors the launcher leaked into the container (an open host
// directory is a way out: CVE-2024-21626).
func reportFds(name string) {
	dirfd := -1
	names, err := readDirNames("/proc/self/fd", &dirfd)
	if err != nil && len(names) == 0 {
		skip(name, "list /proc/self/fd: "+errName(err))
		return
	}
	var fds []int
	for _, n := range names {
		if fd, err := strconv.Atoi(n); err == nil && fd != dirfd {
			fds = append(fds, fd)
		}
	}
	sort.Ints(fds)
	s := make([]string, len(fds))
	for i, fd := range fds {
		s[i] = strconv.Itoa(fd)
	}
	say(name, "%s", strings.Join(s, ","))
}

// cwd: a working directory outside the container's root (a leaked host
// directory) is the other half of CVE-2024-21626. When the path reads "/",
// /proc/self/cwd must also be the same inode as the root.
func reportCwd(name string) {
	wd, err := os.Getwd()
	if err != nil {
		buf := make([]byte, 4096)
		raw := ""
		if n, gerr := unix.Getcwd(buf); gerr == nil {
			raw = unix.ByteSliceToString(buf[:n])
		}
		say(name, "error (%s) getcwd=%q", errName(err), raw)
		return
	}
	if wd != "/" {
		say(name, "%s", wd)
		return
	}
	var c, r unix.Stat_t
	if err := unix.Stat("/proc/self/cwd", &c); err != nil {
		say(name, "/ (stat /proc/self/cwd: %s)", errName(err))
		return
	}
	if err := unix.Stat("/", &r); err != nil {
		say(name, "/ (stat /: %s)", errName(err))
		return
	}
	if c.Dev == r.Dev && c.Ino == r.Ino {
		say(name, "/ (same dev/ino as /)")
		return
	}
	say(name, "/ (DIFFERENT from /: cwd dev %d ino %d, / dev %d ino %d)", c.Dev, c.Ino, r.Dev, r.Ino)
}

// exe-write: CVE-2019-5736. A process that the runtime execs into the
// container (runc init, an exec'd command) shows the host binary as
// /proc/PID/exe; opening it for writing, directly or by reopening an
// O_PATH descriptor through /proc/self/fd, overwrites the host binary.
// The loop runs for ESCAPE_LOOP_SECONDS while the test execs into the
// container; it never writes, never truncates, and stops at the first
// successful open.
func tryExeWrite(name string) {
	v := os.Getenv("ESCAPE_LOOP_SECONDS")
	if v == "" || v == "0" {
		skip(name, "ESCAPE_LOOP_SECONDS not set")
		return
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs <= 0 {
		skip(name, "bad ESCAPE_LOOP_SECONDS "+strconv.Quote(v))
		return
	}
	self := os.Getpid()
	deadline := time.Now().Add(time.Duration(secs * float64(time.Second)))
	seenPids := map[int]bool{}
	seenTargets := map[string]bool{}
	var targets []string // readlink targets, or "!ERRNO" for failures, in order first seen
	errCount := map[string]int{}
	tries, own := 0, 0
	success := ""
	note := func(t string) {
		if !seenTargets[t] {
			seenTargets[t] = true
			targets = append(targets, t)
		}
	}
loop:
	for time.Now().Before(deadline) {
		for _, pid := range pids() {
			if pid == self || pid == 1 {
				continue
			}
			seenPids[pid] = true
			path := "/proc/" + strconv.Itoa(pid) + "/exe"
			if t, err := os.Readlink(path); err == nil {
				note(t)
			} else {
				note("!" + errName(err))
			}
			pfd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
			if err != nil {
				errCount[errName(err)]++
				continue // the process is gone, or its exe is out of reach
			}
			// A binary of the container's own tree (a command it runs) is
			// its own to write; only one from outside its mounts, like the
			// runtime's, would be an escape.
			if ownMount(pfd) {
				unix.Close(pfd)
				own++
				continue
			}
			tries++
			fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
			if err == nil {
				unix.Close(fd)
				unix.Close(pfd)
				success = path + " open O_WRONLY"
				break loop
			}
			errCount[errName(err)]++
			wfd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(pfd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
			unix.Close(pfd)
			if err == nil {
				unix.Close(wfd)
				success = path + " O_PATH reopened O_WRONLY via /proc/self/fd"
				break loop
			}
			errCount[errName(err)]++
		}
	}
	if success != "" {
		allow(name, success)
	} else {
		var es []string
		for e, n := range errCount {
			es = append(es, fmt.Sprintf("%s=%d", e, n))
		}
		sort.Strings(es)
		detail := ""
		if len(es) > 0 {
			detail = " errors " + strings.Join(es, ",")
		}
		say(name, "denied (%d attempts on foreign binaries, %d on the container's own, %d processes seen)%s", tries, own, len(seenPids), detail)
	}
	seen := "(none)"
	if len(targets) > 0 {
		seen = strings.Join(targets, ",")
	}
	say("exe-seen", "%s", seen)
}

// ownMount reports whether fd's file lies on one of this process's own
// mounts (listed in /proc/self/mountinfo).
func ownMount(fd int) bool {
	var stx unix.Statx_t
	if unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx) != nil {
		return false
	}
	info, err := readFile("/proc/self/mountinfo", 1<<20)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(info), "\n") {
		if id, _, ok := strings.Cut(line, " "); ok && id == strconv.FormatUint(stx.Mnt_id, 10) {
			return true
		}
	}
	return false
}

// caps: the process's own confinement, verbatim, for the test to check.
func reportCaps(name string) {
	b, err := readFile("/proc/self/status", 1<<20)
	if err != nil {
		skip(name, "read /proc/self/status: "+errName(err))
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		for _, p := range []string{"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:"} {
			if strings.HasPrefix(line, p) {
				fmt.Println("status: " + line)
			}
		}
	}
}
