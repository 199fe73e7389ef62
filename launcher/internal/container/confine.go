package container

import (
	"errors"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/caps"
	"github.com/stdcontainer/stdcontainer/launcher/internal/inroot"
	"github.com/stdcontainer/stdcontainer/launcher/internal/seccomp"
)

// Confinement is what limits the entry point beyond its namespaces: the
// same for a container's PID 1 and for every `launcher exec` into it.
type Confinement struct {
	// Caps are the entry point's capability sets; nil keeps every one
	// (only --privileged does that).
	Caps *caps.Sets
	// LastCap is the kernel's highest capability (cap_last_cap), for
	// emptying the bounding set beyond the ones this launcher names.
	LastCap int
	// NoNewPrivs sets no_new_privs: setuid binaries and file capabilities
	// cannot raise privileges again.
	NoNewPrivs bool
	// Seccomp is the compiled filter, installed last before exec; nil: none.
	Seccomp seccomp.Program
	// AppArmor is the profile the entry point runs under ("" = unchanged).
	AppArmor string
	// SELinux is the entry point's process label ("" = unchanged).
	SELinux string
	// Rlimits are set exactly, before the capabilities go (raising a hard
	// limit needs CAP_SYS_RESOURCE).
	Rlimits []Rlimit
	// OOMScoreAdj, when set, is written to /proc/self/oom_score_adj with
	// the rlimits (a value below the launcher's needs CAP_SYS_RESOURCE).
	OOMScoreAdj *int
}

// Rlimit is one setrlimit(2) resource with its soft and hard limits.
type Rlimit struct {
	Name       string // RLIMIT_NOFILE, for messages
	Resource   int
	Soft, Hard uint64
}

// maskPaths hides what a container must not read under /proc and /sys
// (docker's masked paths) and makes the kernel-tuning ones read-only.
// Files are covered by our own /dev/null, directories by an empty
// read-only tmpfs, so no mask source is ever a path the image controls
// (CVE-2025-31133).
func maskPaths(root string, cfg *Config) error {
	if len(cfg.MaskedPaths) == 0 && len(cfg.ReadonlyPaths) == 0 {
		return nil
	}
	null, err := trustedNull(root)
	if err != nil {
		return err
	}
	defer null.Close()
	for _, p := range cfg.MaskedPaths {
		target, err := inroot.Open(root, p, unix.O_PATH|unix.O_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return failf(CodeLauncher, "masking %s: %v", p, err)
		}
		var st unix.Stat_t
		err = unix.Fstat(int(target.Fd()), &st)
		if err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			err = unix.Mount("tmpfs", fdPath(target), "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0555")
		} else if err == nil {
			err = unix.Mount(fdPath(null), fdPath(target), "", unix.MS_BIND, "")
		}
		target.Close()
		if err != nil {
			return failf(CodeLauncher, "masking %s: %v", p, err)
		}
	}
	for _, p := range cfg.ReadonlyPaths {
		target, err := inroot.Open(root, p, unix.O_PATH|unix.O_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return failf(CodeLauncher, "making %s read-only: %v", p, err)
		}
		err = unix.Mount(fdPath(target), fdPath(target), "", unix.MS_BIND|unix.MS_REC, "")
		target.Close()
		if err == nil {
			err = remountReadOnly(root, p)
		}
		if err != nil {
			return failf(CodeLauncher, "making %s read-only: %v", p, err)
		}
	}
	return nil
}

// trustedNull opens the /dev/null stage 2 itself created in the
// container's private /dev, and checks it is still the null device.
func trustedNull(root string) (*os.File, error) {
	fd, err := unix.Open(root+"/dev/null", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, failf(CodeLauncher, "opening /dev/null for masking: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		unix.Close(fd)
		return nil, failf(CodeLauncher, "/dev/null is not the null device; refusing to mask with it")
	}
	return os.NewFile(uintptr(fd), "/dev/null"), nil
}

// mknodDevices creates the --device nodes (and the ones --privileged
// passes) in the container's private /dev, owned as the host's are.
func mknodDevices(root string, cfg *Config) error {
	for _, d := range cfg.Devices {
		dir, err := inroot.MkdirAll(root, path.Dir(d.Path), 0o755)
		if err != nil {
			return failf(CodeLauncher, "--device %s: %v", d.Path, err)
		}
		mode := uint32(unix.S_IFCHR)
		if d.Type == "b" {
			mode = unix.S_IFBLK
		}
		name := path.Base(d.Path)
		if cfg.UserNS {
			// No mknod in a user namespace: bind the host's node, which
			// has the same path (renaming is not possible there).
			target, err := inroot.CreateFile(root, d.Path, unix.O_RDONLY, 0o600)
			dir.Close()
			if err == nil {
				err = unix.Mount(d.Path, fdPath(target), "", unix.MS_BIND, "")
				target.Close()
			}
			if err != nil {
				return failf(CodeLauncher, "--device %s: %v", d.Path, err)
			}
			continue
		}
		err = unix.Mknodat(int(dir.Fd()), name, mode|d.Mode&0o7777, int(unix.Mkdev(d.Major, d.Minor)))
		if errors.Is(err, unix.EEXIST) { // a standard node: the --device one replaces it
			unix.Unlinkat(int(dir.Fd()), name, 0)
			err = unix.Mknodat(int(dir.Fd()), name, mode|d.Mode&0o7777, int(unix.Mkdev(d.Major, d.Minor)))
		}
		if err == nil {
			err = unix.Fchownat(int(dir.Fd()), name, int(d.UID), int(d.GID), unix.AT_SYMLINK_NOFOLLOW)
		}
		dir.Close()
		if err != nil {
			return failf(CodeLauncher, "--device %s: %v", d.Path, err)
		}
	}
	return nil
}

// confine applies c to the calling thread in the order the kernel
// allows: the rlimits, the bounding set while CAP_SETPCAP is still held, the user
// change (keeping capabilities), the capability sets, the LSM label,
// no_new_privs, and the seccomp filter last, so the filter need not allow
// anything but the execve that follows. Without no_new_privs the kernel
// wants CAP_SYS_ADMIN for the filter, so it goes first instead.
func confine(c *Confinement, setUser func() error) error {
	if len(c.Seccomp) > 0 && !c.NoNewPrivs {
		if err := seccomp.Install(c.Seccomp); err != nil {
			return failf(CodeLauncher, "installing the seccomp filter: %v", err)
		}
	}
	for _, r := range c.Rlimits {
		if err := unix.Setrlimit(r.Resource, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}); err != nil {
			return failf(CodeLauncher, "rlimit %s %d/%d: %v (raising a hard limit needs CAP_SYS_RESOURCE)", r.Name, r.Soft, r.Hard, err)
		}
	}
	if c.OOMScoreAdj != nil {
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*c.OOMScoreAdj)), 0); err != nil {
			return failf(CodeLauncher, "oomScoreAdj %d: %v (lowering it needs CAP_SYS_RESOURCE)", *c.OOMScoreAdj, errors.Unwrap(err))
		}
	}
	if c.Caps != nil {
		if err := caps.DropBounding(c.Caps.Bounding, c.LastCap); err != nil {
			return failf(CodeLauncher, "%v", err)
		}
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return failf(CodeLauncher, "keeping capabilities across setuid: %v", err)
		}
	}
	if err := setUser(); err != nil {
		return err
	}
	if c.Caps != nil {
		if err := caps.SetProcess(*c.Caps); err != nil {
			return failf(CodeLauncher, "%v", err)
		}
		unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0)
	}
	if err := setExecLabel(c); err != nil {
		return err
	}
	if c.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return failf(CodeLauncher, "setting no_new_privs: %v", err)
		}
		if len(c.Seccomp) > 0 {
			if err := seccomp.Install(c.Seccomp); err != nil {
				return failf(CodeLauncher, "installing the seccomp filter: %v", err)
			}
		}
	}
	return nil
}

// setExecLabel asks the LSM to switch label at the coming execve. The
// launcher has checked that the LSM is active.
func setExecLabel(c *Confinement) error {
	write := func(file, value string) error {
		f, err := os.OpenFile(file, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteString(value)
		return err
	}
	if c.AppArmor != "" {
		err := write("/proc/thread-self/attr/apparmor/exec", "exec "+c.AppArmor)
		if errors.Is(err, os.ErrNotExist) {
			err = write("/proc/thread-self/attr/exec", "exec "+c.AppArmor)
		}
		if err != nil {
			return failf(CodeLauncher, "apparmor profile %s: %v", c.AppArmor, err)
		}
	}
	if c.SELinux != "" {
		if err := write("/proc/thread-self/attr/exec", c.SELinux); err != nil {
			return failf(CodeLauncher, "SELinux label %s: %v", c.SELinux, err)
		}
	}
	return nil
}

// checkCwd makes sure the working directory is inside the container's
// root: a directory reached through a leaked fd would read as
// "(unreachable)" (CVE-2024-21626).
func checkCwd() error {
	wd, err := unix.Getwd()
	if err != nil || !strings.HasPrefix(wd, "/") {
		return failf(CodeLauncher, "the working directory is outside the container (%q, %v)", wd, err)
	}
	return nil
}
