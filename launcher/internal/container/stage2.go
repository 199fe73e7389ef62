package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/inroot"
)

// Stage2Arg0 marks the launcher binary re-executed as stage 2.
const Stage2Arg0 = "stdcontainer-stage2"

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
	errPipe := os.NewFile(uintptr(moved), "stage2-errors")
	err = stage2()
	code := CodeLauncher
	var se *stage2Error
	if errors.As(err, &se) {
		code = se.code
	}
	fmt.Fprintf(errPipe, "%d %s", code, err)
	os.Exit(code)
}

func stage2() error {
	var cfg Config
	configPipe := os.NewFile(configFD, "stage2-config")
	if err := json.NewDecoder(configPipe).Decode(&cfg); err != nil {
		return failf(CodeLauncher, "reading the container config: %v", err)
	}
	configPipe.Close()
	// The config arrives once the launcher has put us in our cgroup.
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return failf(CodeLauncher, "unsharing the cgroup namespace: %v", err)
	}
	root, err := buildRoot(&cfg)
	if err != nil {
		return err
	}
	if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
		return failf(CodeLauncher, "sethostname %s: %v", cfg.Hostname, err)
	}
	if err := pivotInto(root); err != nil {
		return err
	}
	return execEntry(&cfg)
}

// buildRoot assembles the container's root under cfg.Scratch and returns it.
func buildRoot(cfg *Config) (string, error) {
	// Private first: nothing below may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return "", failf(CodeLauncher, "making mounts private: %v", err)
	}
	// The overlay's upper layer lives in a tmpfs of this mount namespace:
	// the container may write, the image is never touched, and everything
	// written disappears with the namespace.
	if err := unix.Mount("tmpfs", cfg.Scratch, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0700"); err != nil {
		return "", failf(CodeLauncher, "mounting scratch tmpfs: %v", err)
	}
	upper, work, root := cfg.Scratch+"/upper", cfg.Scratch+"/work", cfg.Scratch+"/root"
	for _, d := range []string{upper, work, root} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", failf(CodeLauncher, "%v", err)
		}
	}
	opts := "lowerdir=" + escapeOverlay(cfg.Image) + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", root, "overlay", 0, opts); err != nil {
		return "", failf(CodeLauncher, "mounting the image %s as an overlay: %v", cfg.Image, err)
	}
	for _, step := range []func(string, *Config) error{
		mountPoints, writeResolvConf, writeHosts, mountProc, mountSys, mountCgroupfs, mountDev, mountRunAndTmp, writeRunHost, mountUser,
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
	mounted, err := inroot.Open(root, p, unix.O_PATH)
	if err != nil {
		return err
	}
	defer mounted.Close()
	return unix.Mount("", fdPath(mounted), "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
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

// writeResolvConf injects the runtime's resolv.conf into the overlay's upper
// layer when the image has none; an image's own is left untouched.
func writeResolvConf(root string, cfg *Config) error {
	if cfg.ResolvConf == nil {
		return nil
	}
	f, err := inroot.CreateFile(root, "/etc/resolv.conf", unix.O_WRONLY|unix.O_EXCL, 0o644)
	if err != nil {
		return failf(CodeLauncher, "writing /etc/resolv.conf: %v", err)
	}
	defer f.Close()
	if _, err := f.Write(cfg.ResolvConf); err != nil {
		return failf(CodeLauncher, "writing /etc/resolv.conf: %v", err)
	}
	return nil
}

// writeHosts appends --add-host lines to /etc/hosts in the overlay (the
// image's own file, if any, is copied up; the image is not touched).
func writeHosts(root string, cfg *Config) error {
	if len(cfg.ExtraHosts) == 0 {
		return nil
	}
	f, err := inroot.CreateFile(root, "/etc/hosts", unix.O_WRONLY|unix.O_APPEND, 0o644)
	if err != nil {
		return failf(CodeLauncher, "--add-host: /etc/hosts: %v", err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(cfg.ExtraHosts, "\n") + "\n"); err != nil {
		return failf(CodeLauncher, "--add-host: /etc/hosts: %v", err)
	}
	return nil
}

func mountProc(root string, _ *Config) error {
	if err := unix.Mount("proc", root+"/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return failf(CodeLauncher, "mounting /proc: %v", err)
	}
	return nil
}

func mountSys(root string, _ *Config) error {
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
		if err := unix.Mount("cgroup", target, m.Type, flags, m.Options); err != nil {
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
		if err := unix.Mknod(dev+"/"+d.name, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
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
	mounts := []struct{ src, target, fstype, data string }{
		{"devpts", "/pts", "devpts", "newinstance,ptmxmode=0666,mode=0620"},
		{"shm", "/shm", "tmpfs", "mode=1777,size=64m"},
		{"mqueue", "/mqueue", "mqueue", ""},
	}
	for _, m := range mounts {
		if err := unix.Mount(m.src, dev+m.target, m.fstype, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, m.data); err != nil {
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

// mountRunAndTmp gives /run and /tmp fresh tmpfs, as systemd expects.
func mountRunAndTmp(root string, _ *Config) error {
	for _, m := range []struct{ dir, mode string }{{"/run", "0755"}, {"/tmp", "1777"}} {
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
	if m.Type == "bind" {
		err = unix.Mount(spec, fdPath(target), "", unix.MS_BIND|unix.MS_REC, "")
		if err == nil && m.ReadOnly {
			err = remountReadOnly(root, m.Target)
		}
	} else {
		data := "mode=1777"
		if m.Size > 0 {
			data += ",size=" + strconv.FormatInt(m.Size, 10)
		}
		err = unix.Mount("tmpfs", fdPath(target), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, data)
	}
	if err != nil {
		return failf(CodeLauncher, "%s: %v", flag, err)
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

// execEntry becomes the entry point: user, working directory, no stray
// fds, then execve.
func execEntry(cfg *Config) error {
	path, err := lookPath(cfg.Args[0], envValue(cfg.Env, "PATH"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Cwd, 0o755); err != nil && !cfg.ReadOnly {
		return failf(CodeLauncher, "--workdir %s: %v", cfg.Cwd, err)
	}
	if cfg.GID != 0 || cfg.UID != 0 || len(cfg.Groups) > 0 {
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
	}
	if err := unix.Chdir(cfg.Cwd); err != nil {
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
	err = unix.Exec(path, cfg.Args, cfg.Env)
	if errors.Is(err, unix.ENOENT) {
		return failf(CodeNotFound, "%s: %v", cfg.Args[0], err)
	}
	return failf(CodeNotExecutable, "%s: %v", cfg.Args[0], err)
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
