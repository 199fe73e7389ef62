package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/hooks"

	"github.com/stdcontainer/stdcontainer/launcher/internal/inroot"
)

// Stage2Arg0 marks the launcher binary re-executed as stage 2.
const Stage2Arg0 = "stdcontainer-stage2"

// Stage2Pdeathsig, as stage 2's first argument, asks it to set its
// parent-death signal (SIGKILL) itself.
const Stage2Pdeathsig = "--pdeathsig"

// The fds the launcher hands to stage 2 (after stdin, stdout, stderr).
const (
	configFD = 3 // read: the Config as JSON
	errorFD  = 4 // write: "CODE message" if stage 2 fails; closed by a successful exec
	socketFD = 5 // first of Config.ListenFDs activation sockets, moved to 3... before exec
)

// stage2Error is a failure inside the container before the entry point runs.
type stage2Error struct {
	code int
	msg  string
}

func (e *stage2Error) Error() string { return e.msg }

func failf(code int, format string, args ...any) error {
	return &stage2Error{code, fmt.Sprintf(format, args...)}
}

// Stage2 runs in the container's fresh namespaces as their PID 1 and never
// returns: it execs the entry point, or reports why not and exits.
func Stage2() {
	// unshare(CLONE_NEWCGROUP) changes only the calling thread: every step
	// after it (the cgroupfs mounts, the exec) must run on that same
	// thread, or the container sees the launcher's cgroup as its root.
	runtime.LockOSThread()
	if len(os.Args) > 1 && os.Args[1] == Stage2Pdeathsig {
		unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	}
	// Nothing of the launcher may stay readable through /proc/1/exe or
	// /proc/1/mem while stage 2 runs (CVE-2019-5736); exec resets this.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	// The error pipe moves out of the way of the activation sockets, which
	// must end up at fds 3, 4, ... (close-on-exec, as the original is).
	moved, err := unix.FcntlInt(errorFD, unix.F_DUPFD_CLOEXEC, 100)
	if err != nil {
		os.Exit(CodeLauncher)
	}
	unix.Close(errorFD)
	reports = os.NewFile(uintptr(moved), "stage2-errors")
	reportAndExit(reports, stage2())
}

// reports is stage 2's error pipe (close-on-exec): the marks of
// WaitStart, then a report if stage 2 fails.
var reports *os.File

// startFD is the start FIFO with Config.WaitStart, else -1.
var startFD = -1

// consoleSocket is the engine's console socket with Config.Console.
var consoleSocket *os.File

// reportAndExit writes "CODE message" for err to the error pipe, where
// the launcher reads why stage 2 (or the exec helper) failed, and exits
// with that code.
func reportAndExit(errPipe *os.File, err error) {
	code := CodeLauncher
	var se *stage2Error
	if errors.As(err, &se) {
		code = se.code
	}
	fmt.Fprintf(errPipe, "%d %s", code, err)
	os.Exit(code)
}

func stage2() error {
	// A copy of the config socket outlives receiveConfig: with
	// Hooks.PauseBeforePivot the launcher says on it when to go on.
	resume, err := unix.FcntlInt(configFD, unix.F_DUPFD_CLOEXEC, 100)
	if err != nil {
		return failf(CodeLauncher, "keeping the config socket: %v", err)
	}
	var cfg Config
	files, err := receiveConfig(&cfg)
	if err != nil {
		return failf(CodeLauncher, "reading the container config: %v", err)
	}
	if !cfg.Hooks.PauseBeforePivot {
		unix.Close(resume)
	}
	idmappedImage := -1
	if cfg.IDMappedImage {
		if len(files) == 0 {
			return failf(CodeLauncher, "the id-mapped image did not arrive")
		}
		idmappedImage, files = files[0], files[1:]
	}
	if cfg.Console.Enabled {
		if len(files) == 0 {
			return failf(CodeLauncher, "the console socket did not arrive")
		}
		consoleSocket, files = os.NewFile(uintptr(files[0]), "console-socket"), files[1:]
	}
	if cfg.WaitStart {
		if len(files) == 0 {
			return failf(CodeLauncher, "the start FIFO did not arrive")
		}
		startFD = files[0]
	}
	// The config arrives once the launcher has put us in our cgroup.
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return failf(CodeLauncher, "unsharing the cgroup namespace: %v", err)
	}
	root, err := buildRoot(&cfg, idmappedImage)
	if err != nil {
		return err
	}
	if err := hooksBeforePivot(&cfg.Hooks, resume); err != nil {
		return err
	}
	// Empty only in a joined UTS namespace, which keeps its name.
	if cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return failf(CodeLauncher, "sethostname %s: %v", cfg.Hostname, err)
		}
	}
	if err := pivotInto(root); err != nil {
		return err
	}
	return execEntry(&cfg)
}

// buildRoot assembles the container's root in a scratch tmpfs and returns it.
func buildRoot(cfg *Config, idmappedImage int) (string, error) {
	// Private first: nothing below may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return "", failf(CodeLauncher, "making mounts private: %v", err)
	}
	// The overlay's upper layer lives in a tmpfs of this mount namespace:
	// the container may write, the image is never touched, and everything
	// written disappears with the namespace. The tmpfs is reached through
	// its fd: in a user namespace stage 2's root may not be allowed to
	// traverse the state directory.
	scratch, err := scratchTmpfs()
	if err != nil {
		return "", failf(CodeLauncher, "mounting scratch tmpfs: %v", err)
	}
	upper, work, root := scratch+"/upper", scratch+"/work", scratch+"/root"
	lower := escapeOverlay(cfg.Image)
	if idmappedImage >= 0 {
		// The launcher's id-mapped view of the image: attached in our
		// mount namespace, so that overlayfs may use it.
		lower = scratch + "/lower"
		if err := unix.MoveMount(idmappedImage, "", unix.AT_FDCWD, lower, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return "", failf(CodeLauncher, "attaching the id-mapped image: %v", err)
		}
		unix.Close(idmappedImage)
	}
	injected, err := runtimeLayer(scratch+"/layer", lower, cfg)
	if err != nil {
		return "", err
	}
	if injected {
		lower = scratch + "/layer:" + lower
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if cfg.UserNS {
		opts += ",userxattr" // trusted.* xattrs are the host root's alone
	}
	if err := unix.Mount("overlay", root, "overlay", 0, opts); err != nil {
		return "", failf(CodeLauncher, "mounting the image %s as an overlay: %v", cfg.Image, err)
	}
	for _, step := range []func(string, *Config) error{
		mountPoints, mountProc, mountSys, mountCgroupfs, mountDev, mknodDevices,
		mountRunAndTmp, writeRunHost, mountUser, writeSysctl, maskPaths,
	} {
		if err := step(root, cfg); err != nil {
			return "", err
		}
	}
	if cfg.ReadOnly {
		if err := unix.Mount("", root, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
			return "", failf(CodeLauncher, "remounting the root read-only: %v", err)
		}
	}
	return root, nil
}

// escapeOverlay escapes the characters overlayfs treats specially in lowerdir.
func escapeOverlay(p string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `:`, `\:`).Replace(p)
}

// scratchMountPoint is where stage 2 attaches its scratch tmpfs in its
// own mount namespace: a directory every kernel's procfs has, which any
// user may traverse to. The container never sees it (its /proc is a
// fresh mount), and the host's is not touched.
const scratchMountPoint = "/proc/fs"

// scratchTmpfs makes the tmpfs for the overlay's upper and work
// directories and its mount point, attaches it at scratchMountPoint and
// returns a path to it through its fd.
func scratchTmpfs() (string, error) {
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return "", err
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "mode", "0700"); err != nil {
		return "", err
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return "", err
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV)
	if err != nil {
		return "", err
	}
	for _, d := range []string{"upper", "work", "root", "lower", "layer"} {
		if err := unix.Mkdirat(mfd, d, 0o755); err != nil {
			return "", err
		}
	}
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, scratchMountPoint, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return "", err
	}
	return "/proc/self/fd/" + strconv.Itoa(mfd), nil
}

// openTarget resolves p inside root without ever leaving it (symlinks
// included), creating it if missing: a directory, or an empty file when
// file is true. Mounting onto the fd's /proc path afterwards means the
// target cannot be swapped for a symlink between resolving and mounting.
func openTarget(root, p string, file bool) (*os.File, error) {
	if file {
		return inroot.CreateFile(root, p, unix.O_RDONLY, 0o644)
	}
	return inroot.MkdirAll(root, p, 0o755)
}

// remountReadOnly makes the mount now on top of p read-only. p is opened
// again: an fd taken before the mount would name the directory beneath it.
func remountReadOnly(root, p string) error {
	return remountBind(root, p, true, 0)
}

// remountBind adds flags (nosuid, nodev, noexec) and, with readOnly,
// MS_RDONLY to the bind mount now on top of p, keeping the flags it has.
func remountBind(root, p string, readOnly bool, flags uintptr) error {
	mounted, err := inroot.Open(root, p, unix.O_PATH)
	if err != nil {
		return err
	}
	defer mounted.Close()
	if readOnly {
		flags |= unix.MS_RDONLY
	}
	return unix.Mount("", fdPath(mounted), "", unix.MS_BIND|unix.MS_REMOUNT|flags|keptFlags(mounted), "")
}

// keptFlags are the nosuid, nodev and noexec flags of the mount under f:
// a bind remount replaces them all, and in a user namespace they may be
// locked, so they must be passed again.
func keptFlags(f *os.File) uintptr {
	var st unix.Statfs_t
	if unix.Fstatfs(int(f.Fd()), &st) != nil {
		return 0
	}
	var flags uintptr
	for _, kept := range []struct {
		statfs int64
		mount  uintptr
	}{{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC}} {
		if st.Flags&kept.statfs != 0 {
			flags |= kept.mount
		}
	}
	return flags
}

// fdPath names an open file through /proc, for mount(2).
func fdPath(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }

// mountPoints makes sure the top-level mount points are plain directories.
// Each is one component below our own overlay mount, so once it is known
// not to be a symlink, root+"/proc" and the like are safe to mount on.
func mountPoints(root string, _ *Config) error {
	for _, d := range []string{"/proc", "/sys", "/dev", "/run", "/tmp"} {
		err := unix.Mkdir(root+d, 0o755)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return failf(CodeLauncher, "creating mount point %s: %v", d, err)
		}
		var st unix.Stat_t
		if err := unix.Lstat(root+d, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return failf(CodeLauncher, "the image's %s is not a directory; a mount point must be one", d)
		}
	}
	return nil
}

// runtimeLayer writes what the runtime adds to the image's files (an
// injected resolv.conf, --add-host lines) into dir, which becomes the
// overlay's top lower layer: nothing is written through the overlay, so
// it works even where the container's root may not write the image's
// /etc (a rootless container of an image the user does not own).
// image is the image's path in this mount namespace.
func runtimeLayer(dir, image string, cfg *Config) (bool, error) {
	if cfg.ResolvConf == nil && len(cfg.ExtraHosts) == 0 {
		return false, nil
	}
	if err := os.Mkdir(dir+"/etc", 0o755); err != nil {
		return false, failf(CodeLauncher, "creating the runtime layer: %v", err)
	}
	if cfg.ResolvConf != nil {
		if err := os.WriteFile(dir+"/etc/resolv.conf", cfg.ResolvConf, 0o644); err != nil {
			return false, failf(CodeLauncher, "writing /etc/resolv.conf: %v", err)
		}
	}
	if len(cfg.ExtraHosts) > 0 {
		// The image's own lines first; a symlink in it cannot lead out.
		hosts, err := inroot.ReadFile(image, "/etc/hosts", 1<<20)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, failf(CodeLauncher, "--add-host: reading the image's /etc/hosts: %v", err)
		}
		if len(hosts) > 0 && hosts[len(hosts)-1] != '\n' {
			hosts = append(hosts, '\n')
		}
		hosts = append(hosts, strings.Join(cfg.ExtraHosts, "\n")+"\n"...)
		if err := os.WriteFile(dir+"/etc/hosts", hosts, 0o644); err != nil {
			return false, failf(CodeLauncher, "--add-host: writing /etc/hosts: %v", err)
		}
	}
	return true, nil
}

func mountProc(root string, _ *Config) error {
	if err := unix.Mount("proc", root+"/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return failf(CodeLauncher, "mounting /proc: %v", err)
	}
	return nil
}

func mountSys(root string, cfg *Config) error {
	if cfg.UserNS && (cfg.HostNetwork || cfg.NetworkJoined) {
		// sysfs belongs to the network namespace's owner, here not the
		// container's: bind the host's /sys, read-only.
		if err := unix.Mount("/sys", root+"/sys", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return failf(CodeLauncher, "binding /sys: %v", err)
		}
		return remountReadOnly(root, "/sys")
	}
	if err := unix.Mount("sysfs", root+"/sys", "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_RDONLY, ""); err != nil {
		return failf(CodeLauncher, "mounting /sys: %v", err)
	}
	return nil
}

// mountCgroupfs mounts the container's cgroup hierarchies under
// /sys/fs/cgroup as the host has them. In the container's cgroup namespace
// each shows the container's own cgroup as its root, with its limits.
func mountCgroupfs(root string, cfg *Config) error {
	if len(cfg.Cgroupfs) == 0 {
		return nil
	}
	base := root + "/sys/fs/cgroup"
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if len(cfg.Cgroupfs) == 1 && cfg.Cgroupfs[0].Name == "" { // v2 only
		m := cfg.Cgroupfs[0]
		if err := unix.Mount("cgroup2", base, "cgroup2", flags, ""); err != nil {
			return failf(CodeLauncher, "mounting /sys/fs/cgroup: %v", err)
		}
		if !m.Writable {
			return remountReadOnlyPath(base)
		}
		return nil
	}
	if err := unix.Mount("tmpfs", base, "tmpfs", flags, "mode=0755,size=64k"); err != nil {
		return failf(CodeLauncher, "mounting /sys/fs/cgroup: %v", err)
	}
	for _, m := range cfg.Cgroupfs {
		target := base + "/" + m.Name
		if err := os.Mkdir(target, 0o755); err != nil {
			return failf(CodeLauncher, "creating /sys/fs/cgroup/%s: %v", m.Name, err)
		}
		if cfg.UserNS && m.Type == "cgroup" {
			// v1 cgroupfs cannot be mounted in a user namespace: bind
			// the container's own directory.
			if err := unix.Mount(m.Source, target, "", unix.MS_BIND, ""); err != nil {
				return failf(CodeLauncher, "binding /sys/fs/cgroup/%s: %v", m.Name, err)
			}
		} else if err := unix.Mount("cgroup", target, m.Type, flags, m.Options); err != nil {
			return failf(CodeLauncher, "mounting /sys/fs/cgroup/%s (%s): %v", m.Name, m.Options, err)
		}
		if !m.Writable {
			if err := remountReadOnlyPath(target); err != nil {
				return err
			}
		}
		for _, link := range m.Links {
			if err := os.Symlink(m.Name, base+"/"+link); err != nil {
				return failf(CodeLauncher, "linking /sys/fs/cgroup/%s: %v", link, err)
			}
		}
	}
	return remountReadOnlyPath(base)
}

// remountReadOnlyPath makes the mount at p (inside our own tmpfs or a
// cgroupfs we just mounted, so no symlink can be planted) read-only.
func remountReadOnlyPath(p string) error {
	if err := unix.Mount("", p, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		return failf(CodeLauncher, "remounting %s read-only: %v", p, err)
	}
	return nil
}

// devices are the nodes every container gets in its private /dev.
var devices = []struct {
	name         string
	major, minor uint32
}{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

func mountDev(root string, cfg *Config) error {
	dev := root + "/dev"
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=4m"); err != nil {
		return failf(CodeLauncher, "mounting /dev: %v", err)
	}
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, d := range devices {
		if err := makeNode(dev+"/"+d.name, "/dev/"+d.name, unix.S_IFCHR|0o666, unix.Mkdev(d.major, d.minor), cfg.UserNS); err != nil {
			return failf(CodeLauncher, "creating /dev/%s: %v", d.name, err)
		}
	}
	for _, d := range []string{"pts", "shm", "mqueue"} {
		mode := uint32(0o755)
		if d == "shm" {
			mode = 0o1777
		}
		if err := unix.Mkdir(dev+"/"+d, mode); err != nil {
			return failf(CodeLauncher, "creating /dev/%s: %v", d, err)
		}
	}
	// devpts holds device nodes that must open (/dev/ptmx, the ptys):
	// not nodev, as with runc.
	mounts := []struct {
		src, target, fstype, data string
		flags                     uintptr
	}{
		{"devpts", "/pts", "devpts", "newinstance,ptmxmode=0666,mode=0620", unix.MS_NOSUID | unix.MS_NOEXEC},
		{"shm", "/shm", "tmpfs", "mode=1777,size=64m", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{"mqueue", "/mqueue", "mqueue", "", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
	}
	for _, m := range mounts {
		if err := unix.Mount(m.src, dev+m.target, m.fstype, m.flags, m.data); err != nil {
			return failf(CodeLauncher, "mounting /dev%s: %v", m.target, err)
		}
	}
	links := [][2]string{{"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"}}
	for _, l := range links {
		if err := os.Symlink(l[0], dev+"/"+l[1]); err != nil {
			return failf(CodeLauncher, "creating /dev/%s: %v", l[1], err)
		}
	}
	if cfg.Console.Enabled {
		// The container's terminal is made here, in its own devpts: it
		// becomes our stdio and controlling terminal (we lead a session).
		terminal, err := terminalFromSocket(dev+"/pts", consoleSocket, cfg.Console, cfg.UID)
		if err != nil {
			return err
		}
		for fd := 0; fd < 3; fd++ {
			if err := unix.Dup3(int(terminal.Fd()), fd, 0); err != nil {
				return failf(CodeLauncher, "making the terminal stdio: %v", err)
			}
		}
		terminal.Close()
		if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
			return failf(CodeLauncher, "making the terminal the controlling one: %v", err)
		}
	}
	if cfg.Terminal {
		// Our stdin is the container's pty: it becomes /dev/console too.
		// Bind it by its path: the fd's mount belongs to the launcher's
		// mount namespace, which mount(2) refuses as a source.
		pts, err := os.Readlink("/proc/self/fd/0")
		if err != nil {
			return failf(CodeLauncher, "finding the terminal: %v", err)
		}
		console := dev + "/console"
		if err := os.WriteFile(console, nil, 0o600); err != nil {
			return failf(CodeLauncher, "creating /dev/console: %v", err)
		}
		if err := unix.Mount(pts, console, "", unix.MS_BIND, ""); err != nil {
			return failf(CodeLauncher, "binding /dev/console: %v", err)
		}
	}
	return nil
}

// writeSysctl sets the container's sysctls in its own /proc (they are
// per namespace), before maskPaths makes /proc/sys read-only.
func writeSysctl(root string, cfg *Config) error {
	for key, value := range cfg.Sysctl {
		p := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
		f, err := inroot.Open(root, p, unix.O_WRONLY|unix.O_TRUNC)
		if err == nil {
			_, err = f.WriteString(value)
			f.Close()
		}
		if err != nil {
			return failf(CodeLauncher, "sysctl %s=%s: %v", key, value, err)
		}
	}
	return nil
}

// makeNode creates the device node path, or in a user namespace (where
// mknod is refused) binds the host's node hostPath onto an empty file.
func makeNode(path, hostPath string, mode uint32, dev uint64, userNS bool) error {
	if !userNS {
		return unix.Mknod(path, mode, int(dev))
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		return err
	}
	return unix.Mount(hostPath, path, "", unix.MS_BIND, "")
}

// mountRunAndTmp gives /run, /run/lock and /tmp fresh tmpfs, as systemd
// expects: without CAP_SYS_ADMIN it cannot mount them itself.
func mountRunAndTmp(root string, _ *Config) error {
	for _, m := range []struct{ dir, mode string }{{"/run", "0755"}, {"/run/lock", "1777"}, {"/tmp", "1777"}} {
		if m.dir == "/run/lock" {
			if err := os.Mkdir(root+m.dir, 0o755); err != nil { // in our /run tmpfs: no symlink there
				return failf(CodeLauncher, "creating %s: %v", m.dir, err)
			}
		}
		if err := unix.Mount("tmpfs", root+m.dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode="+m.mode); err != nil {
			return failf(CodeLauncher, "mounting %s: %v", m.dir, err)
		}
	}
	return nil
}

// writeRunHost writes systemd's Container Interface files under /run/host
// (a tmpfs we just mounted, so no path in it can be a planted symlink).
func writeRunHost(root string, cfg *Config) error {
	if err := os.MkdirAll(root+"/run/host", 0o755); err != nil {
		return failf(CodeLauncher, "creating /run/host: %v", err)
	}
	for _, f := range cfg.RunHost {
		if err := os.WriteFile(root+f.Path, f.Data, os.FileMode(f.Mode)); err != nil {
			return failf(CodeLauncher, "writing %s: %v", f.Path, err)
		}
	}
	if cfg.InitBinary != "" {
		target := root + RunHostInit
		if err := os.WriteFile(target, nil, 0o755); err != nil {
			return failf(CodeLauncher, "creating %s: %v", RunHostInit, err)
		}
		if err := unix.Mount(cfg.InitBinary, target, "", unix.MS_BIND, ""); err != nil {
			return failf(CodeLauncher, "binding the init at %s: %v", RunHostInit, err)
		}
		if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return failf(CodeLauncher, "binding the init at %s: %v", RunHostInit, err)
		}
	}
	return nil
}

// mountUser mounts the volumes and tmpfs the user asked for, targets
// resolved inside the container so a symlink in the image cannot redirect
// a mount onto the host.
func mountUser(root string, cfg *Config) error {
	for _, m := range cfg.Mounts {
		if err := mountOne(root, m); err != nil {
			return err
		}
	}
	return nil
}

func mountOne(root string, m Mount) error {
	flag, spec := "--tmpfs "+m.Target, "tmpfs"
	isFile := false
	if m.Type == "bind" {
		flag, spec = "--volume "+m.Source+":"+m.Target, m.Source
		st, err := os.Stat(m.Source)
		if err != nil {
			return failf(CodeLauncher, "%s: %v", flag, err)
		}
		isFile = !st.IsDir()
	}
	target, err := openTarget(root, m.Target, isFile)
	if err != nil {
		return failf(CodeLauncher, "%s: target: %v", flag, err)
	}
	defer target.Close()
	var flags uintptr
	for _, f := range []struct {
		on   bool
		flag uintptr
	}{{m.NoSuid, unix.MS_NOSUID}, {m.NoDev, unix.MS_NODEV}, {m.NoExec, unix.MS_NOEXEC}} {
		if f.on {
			flags |= f.flag
		}
	}
	if m.Type == "bind" {
		err = unix.Mount(spec, fdPath(target), "", unix.MS_BIND|unix.MS_REC, "")
		if err == nil && (m.ReadOnly || flags != 0) {
			err = remountBind(root, m.Target, m.ReadOnly, flags)
		}
	} else {
		mode := "1777"
		if m.Mode != "" {
			mode = m.Mode
		}
		data := "mode=" + mode
		if m.Size > 0 {
			data += ",size=" + strconv.FormatInt(m.Size, 10)
		}
		err = unix.Mount("tmpfs", fdPath(target), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|flags, data)
	}
	if err != nil {
		return failf(CodeLauncher, "%s: %v", flag, err)
	}
	return nil
}

// hooksBeforePivot waits, when asked, while the launcher runs the
// runtime hooks (prestart, createRuntime), then runs the createContainer
// hooks here, in the container's namespaces but before the pivot.
func hooksBeforePivot(h *Hooks, resume int) error {
	if h.PauseBeforePivot {
		if _, err := reports.Write([]byte{hooksMark}); err != nil {
			return failf(CodeLauncher, "reporting the container ready for its hooks: %v", err)
		}
		// The byte is resumeMark: what json.Decoder left unread of the
		// config (its newline) may come first.
		b := make([]byte, 1)
		for {
			n, err := unix.Read(resume, b)
			if err == unix.EINTR || n == 1 && b[0] != resumeMark {
				continue
			}
			if n != 1 {
				return failf(CodeLauncher, "the runtime hooks failed")
			}
			break
		}
		unix.Close(resume)
	}
	if len(h.CreateContainer) == 0 {
		return nil
	}
	if err := hooks.Run("createContainer", h.CreateContainer, hooks.State(h.ID, "creating", os.Getpid(), h.Bundle, h.Annotations)); err != nil {
		return failf(CodeLauncher, "%v", err)
	}
	return nil
}

// pivotInto makes root the container's / and detaches the old root, so
// nothing of the host's tree stays reachable.
func pivotInto(root string) error {
	if err := unix.Chdir(root); err != nil {
		return failf(CodeLauncher, "chdir %s: %v", root, err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one;
	// unmounting "." then removes exactly the old root.
	if err := unix.PivotRoot(".", "."); err != nil {
		return failf(CodeLauncher, "pivot_root: %v", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return failf(CodeLauncher, "detaching the old root: %v", err)
	}
	return unix.Chdir("/")
}

// execEntry becomes the entry point: no stray fds, confinement and user,
// working directory, then execve.
func execEntry(cfg *Config) error {
	path, err := lookPath(cfg.Args[0], envValue(cfg.Env, "PATH"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Cwd, 0o755); err != nil && !cfg.ReadOnly {
		return failf(CodeLauncher, "--workdir %s: %v", cfg.Cwd, err)
	}
	// Every fd but stdio and the error pipe is closed at exec; the error
	// pipe is close-on-exec too, which is how the launcher learns the exec
	// worked (CVE-2024-21626: no host fd may leak into the container).
	// Activation sockets go to 3, 4, ... (socket activation's contract),
	// without close-on-exec; everything above them is closed at exec.
	for i := 0; i < cfg.ListenFDs; i++ {
		if err := unix.Dup3(socketFD+i, 3+i, 0); err != nil {
			return failf(CodeLauncher, "passing socket %d: %v", i, err)
		}
	}
	if err := unix.CloseRange(uint(3+cfg.ListenFDs), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return failf(CodeLauncher, "close_range: %v", err)
	}
	setUser := func() error {
		if cfg.GID == 0 && cfg.UID == 0 && len(cfg.Groups) == 0 {
			return nil
		}
		groups := make([]int, len(cfg.Groups))
		for i, g := range cfg.Groups {
			groups[i] = int(g)
		}
		if err := syscall.Setgroups(groups); err != nil {
			return failf(CodeLauncher, "setgroups: %v", err)
		}
		if err := syscall.Setgid(int(cfg.GID)); err != nil {
			return failf(CodeLauncher, "setgid %d: %v", cfg.GID, err)
		}
		if err := syscall.Setuid(int(cfg.UID)); err != nil {
			return failf(CodeLauncher, "setuid %d: %v", cfg.UID, err)
		}
		return nil
	}
	if err := confine(&cfg.Confinement, setUser); err != nil {
		return err
	}
	if err := unix.Chdir(cfg.Cwd); err != nil {
		return failf(CodeLauncher, "--workdir %s: %v", cfg.Cwd, err)
	}
	unix.Umask(0o022) // what every runtime gives, whatever the launcher had
	if err := checkCwd(); err != nil {
		return err
	}
	if cfg.WaitStart {
		if err := waitForStart(); err != nil {
			return err
		}
	}
	if h := &cfg.Hooks; len(h.StartContainer) > 0 {
		// As runc: confined already, as the entry point will be.
		if err := hooks.Run("startContainer", h.StartContainer, hooks.State(h.ID, "created", os.Getpid(), h.Bundle, h.Annotations)); err != nil {
			return failf(CodeLauncher, "%v", err)
		}
	}
	err = unix.Exec(path, cfg.Args, cfg.Env)
	if errors.Is(err, unix.ENOENT) {
		return failf(CodeNotFound, "%s: %v", cfg.Args[0], err)
	}
	return failf(CodeNotExecutable, "%s: %v", cfg.Args[0], err)
}

// waitForStart tells the launcher the container is created, then waits
// for `start` to write a byte on the start FIFO (held open read-write by
// the launcher too, so the read blocks rather than seeing EOF).
func waitForStart() error {
	if _, err := reports.Write([]byte{readyMark}); err != nil {
		return failf(CodeLauncher, "reporting the container created: %v", err)
	}
	b := make([]byte, 1)
	for {
		_, err := unix.Read(startFD, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return failf(CodeLauncher, "waiting for start: %v", err)
		}
		break
	}
	unix.Close(startFD)
	// Nobody may read it any more (an OCI create that has returned): a
	// write error is no reason not to start.
	reports.Write([]byte{startMark})
	return nil
}

// lookPath finds the entry point as execvp would, inside the container.
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, executable(name)
	}
	var firstErr error
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		candidate := dir + "/" + name
		err := executable(candidate)
		if err == nil {
			return candidate, nil
		}
		var se *stage2Error
		if firstErr == nil && errors.As(err, &se) && se.code == CodeNotExecutable {
			firstErr = err
		}
	}
	if firstErr != nil {
		return "", firstErr
	}
	return "", failf(CodeNotFound, "%s: not found in the container's PATH (%s)", name, path)
}

func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return failf(CodeNotFound, "%s: no such file in the image", p)
		}
		return failf(CodeNotExecutable, "%s: %v", p, err)
	}
	if !st.Mode().IsRegular() {
		return failf(CodeNotExecutable, "%s: not a regular file", p)
	}
	if unix.Access(p, unix.X_OK) != nil {
		return failf(CodeNotExecutable, "%s: permission denied (not executable)", p)
	}
	return nil
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}
