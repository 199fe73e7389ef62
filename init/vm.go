package main

// VM mode: the init as the kernel's own init, in a VM or on a machine
// booting an initramfs (rdinit=/sbin/init) or a root file system
// (init=/sbin/init). It is on when the init is PID 1 of the initial PID
// namespace (which only the kernel's init can be) and no container manager
// set $container. Nobody has prepared anything then, so the init does what
// a container runtime would have: it makes an initramfs root a real mount
// (for the pivot_root of container runtimes it may run), mounts /proc,
// /dev, /dev/pts, /dev/shm, /sys, cgroup2 on /sys/fs/cgroup, /run and /tmp,
// sets the hostname (hostname=, ip='s HOSTNAME, /etc/hostname, else
// "stdcontainer"), brings lo up and applies the kernel's ip= to an
// Ethernet interface (vm_net.go), and gives the payload the console. When
// the payload exits it syncs, says so on the console and powers the
// machine off: PID 1 returning would panic the kernel.
//
// The parameters the kernel does not know (hostname=, ip= when it has no
// IP autoconfiguration built in) reach the init's, and so the payload's,
// environment, as with any init.

import (
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"github.com/stdcontainer/stdcontainer/init/internal/rawfile"
)

const (
	// procPidInitIno is the inode number of the initial PID namespace
	// (PROC_PID_INIT_INO): PID 1 there is the kernel's init, and nothing
	// else can be.
	procPidInitIno = 0xEFFFFFFC
	procFlags      = syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC

	defaultVMHostname = "stdcontainer"
	vmPrefix          = "stdcontainer-init: "
)

// kernelInit reports whether this PID 1 is the kernel's init rather than a
// container's. A container manager says so in $container; otherwise the
// PID namespace decides, which takes /proc: it is mounted here when
// missing (as a container's PID 1 would do next anyway), and the kernel
// never mounts it for its init.
func kernelInit() bool {
	if os.Getenv("container") != "" {
		return false
	}
	const nsPid = "/proc/self/ns/pid"
	var st syscall.Stat_t
	if syscall.Stat(nsPid, &st) != nil {
		syscall.Mkdir("/proc", 0o555) // EEXIST as a rule
		syscall.Mount("proc", "/proc", "proc", procFlags, "")
		if syscall.Stat(nsPid, &st) != nil {
			return false
		}
	}
	return st.Ino == procPidInitIno
}

// vmMounts are VM mode's file systems, parents first, each with its
// mount point's parent. /proc is mounted by kernelInit. A mount point that
// holds a file system already (an initramfs ran before us and moved its
// mounts) is left alone.
var vmMounts = [...]struct {
	fstype, target, parent, data string
	flags                        uintptr
}{
	{"devtmpfs", "/dev", "/", "mode=0755", syscall.MS_NOSUID},
	{"devpts", "/dev/pts", "/dev", "mode=0620,ptmxmode=0666", syscall.MS_NOSUID | syscall.MS_NOEXEC},
	{"tmpfs", "/dev/shm", "/dev", "mode=1777", syscall.MS_NOSUID | syscall.MS_NODEV},
	{"sysfs", "/sys", "/", "", procFlags},
	{"cgroup2", "/sys/fs/cgroup", "/sys", "nsdelegate", procFlags},
	{"tmpfs", "/run", "/", "mode=0755", syscall.MS_NOSUID | syscall.MS_NODEV},
	{"tmpfs", "/tmp", "/", "mode=1777", syscall.MS_NOSUID | syscall.MS_NODEV},
}

// vmStart prepares the machine for the payload. From here on, exit powers
// the machine off.
func vmStart() {
	exit = vmExit
	if err := rootToMount(); err != nil {
		vmSay("warning: / stays the initramfs (no pivot_root for runtimes): " + errnoMessage(err))
	}
	for _, m := range vmMounts {
		var st syscall.Stat_t
		syscall.Mkdir(m.target, 0o755) // EEXIST as a rule
		syscall.Stat(m.parent, &st)
		dev := st.Dev
		err := syscall.Stat(m.target, &st)
		if err == nil && st.Dev != dev {
			continue // a mount point already
		}
		if err == nil {
			err = syscall.Mount(m.fstype, m.target, m.fstype, m.flags, m.data)
		}
		if err != nil {
			vmSay("warning: mounting " + m.fstype + " on " + m.target + ": " + errnoMessage(err))
		}
	}
	useConsole()

	cmdline, _ := rawfile.Read("/proc/cmdline")
	p := parseCmdline(string(cmdline))
	name := vmHostname(p)
	_, _, e := syscall.RawSyscall(syscall.SYS_SETHOSTNAME, uintptr(unsafe.Pointer(unsafe.StringData(name))), uintptr(len(name)), 0)
	if err := error(e); e != 0 {
		vmSay("warning: sethostname " + name + ": " + errnoMessage(err))
	}
	vmSay("VM mode, hostname " + name)
	if note := setupNetwork(p); note != "" {
		vmSay("network: " + note)
	}
}

// rootToMount makes / a mount point when it is the initramfs: the kernel's
// rootfs is nobody's child, so pivot_root(2), which every container
// runtime calls, refuses it (EINVAL). A bind mount of it, made on /dev
// (which the kernel's console needs anyway), moved over / and chrooted
// into, is an ordinary mount. Nothing is copied.
func rootToMount() error {
	var fs syscall.Statfs_t
	const ramfsMagic, tmpfsMagic = 0x858458f6, 0x01021994
	if syscall.Statfs("/", &fs) != nil || fs.Type != ramfsMagic && fs.Type != tmpfsMagic {
		return nil
	}
	err := syscall.Mount("/", "/dev", "", syscall.MS_BIND|syscall.MS_REC, "")
	if err == nil {
		err = syscall.Chdir("/dev")
	}
	if err == nil {
		err = syscall.Mount(".", "/", "", syscall.MS_MOVE, "")
	}
	if err == nil {
		err = syscall.Chroot(".")
	}
	syscall.Chdir("/")
	return err
}

// useConsole makes /dev/console (devtmpfs's, now) the init's stdin,
// stdout and stderr, which the payload inherits. Without one the kernel's
// fds stay.
func useConsole() {
	fd, err := syscall.Open("/dev/console", syscall.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		vmSay("warning: /dev/console: " + errnoMessage(err))
		return
	}
	for i := 0; i < 3; i++ {
		syscall.Dup3(fd, i, 0) // EINVAL for fd itself: the kernel had no console
	}
	if fd > 2 {
		syscall.Close(fd)
	}
}

// vmHostname picks the hostname: hostname= on the kernel command line,
// else ip='s HOSTNAME field, else the image's /etc/hostname, else ours.
func vmHostname(p kernelParams) string {
	if p.hostname != "" {
		return p.hostname
	}
	if p.ipOK && p.ip.hostname != "" {
		return p.ip.hostname
	}
	// Its first word: a hostname has no spaces.
	data, _ := rawfile.Read("/etc/hostname")
	for i, c := range data {
		if isSpace(c) {
			data = data[:i]
			break
		}
	}
	if len(data) > 0 {
		return string(data)
	}
	return defaultVMHostname
}

func vmSay(msg string) {
	os.Stdout.WriteString(vmPrefix + msg + "\n")
}

// vmExit replaces os.Exit in VM mode: what is left of the payload's
// processes is killed, file systems are synced, the status is reported on
// the console and the machine powers off. It never returns.
func vmExit(code int) {
	syscall.Kill(-1, syscall.SIGKILL) // every process but us
	syscall.Sync()
	vmSay("payload exited with status " + strconv.Itoa(code))
	// The line is in the tty's buffer: let the UART send it before the
	// machine goes (tcdrain).
	syscall.Syscall(syscall.SYS_IOCTL, 1, 0x5409, 1)
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	for { // the kernel halts when it cannot power off; never exit

		time.Sleep(time.Hour)
	}
}
