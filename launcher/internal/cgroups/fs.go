package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// fsys is the few operations that behave differently on cgroupfs than on
// a plain directory tree: there, mkdir makes the interface files, rmdir
// removes a directory still full of them, and some writes have side
// effects (cgroup.subtree_control adds controllers). Tests swap in a fake
// that mimics the kernel over t.TempDir(). Reads are plain os.ReadFile.
type fsys interface {
	mkdir(dir string) error
	rmdir(dir string) error
	// write does one write(2) of data, never creating the file.
	write(file, data string) error
	// check refuses a directory that is not a cgroup below a hierarchy's
	// root, before its processes get killed.
	check(dir string) error
	// attachDeviceProgram puts a BPF device program on a cgroup2
	// directory (devices_bpf.go).
	attachDeviceProgram(dir string, prog []bpfInsn) error
}

// realFS is the kernel's cgroupfs.
type realFS struct{}

func (realFS) mkdir(dir string) error { return unix.Mkdir(dir, 0o755) }

func (realFS) rmdir(dir string) error { return unix.Rmdir(dir) }

func (realFS) write(file, data string) error {
	// No O_CREAT: a missing file means a missing controller or feature,
	// and creating a regular file there is impossible anyway.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(data))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (realFS) check(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return err
	}
	if st.Type != unix.CGROUP_SUPER_MAGIC && st.Type != unix.CGROUP2_SUPER_MAGIC {
		return fmt.Errorf("%s: not on a cgroup filesystem", dir)
	}
	// A hierarchy's root is a mount point: its parent is another device.
	var a, b unix.Stat_t
	if err := unix.Stat(dir, &a); err != nil {
		return err
	}
	if err := unix.Stat(filepath.Dir(dir), &b); err != nil {
		return err
	}
	if a.Dev != b.Dev {
		return fmt.Errorf("%s: refusing the root of a cgroup hierarchy", dir)
	}
	return nil
}

func (l *Layout) fsys() fsys {
	if l.fs != nil {
		return l.fs
	}
	return realFS{}
}

// readString reads a cgroup file, trimmed.
func readString(file string) (string, error) {
	b, err := os.ReadFile(file)
	return strings.TrimSpace(string(b)), err
}

func exists(file string) bool {
	_, err := os.Stat(file)
	return err == nil
}

// setter writes limits into one cgroup directory and words failures with
// the docker flag the limit came from.
type setter struct {
	fs  fsys
	dir string
}

// set writes value into dir/file on behalf of flag.
func (s setter) set(flag, file, value string) error {
	p := filepath.Join(s.dir, file)
	err := s.fs.write(p, value)
	if err == nil {
		return nil
	}
	return flagError(flag, p, value, err)
}

// flagError words a failed write of value to cgroup file p for flag.
func flagError(flag, p, value string, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return &wrapped{fmt.Sprintf("%s: %s does not exist", flag, p), unix.ENOENT}
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ERANGE):
		// The kernel says only "invalid argument": show what was written.
		return fmt.Errorf("%s %s: invalid (%s: %w)", flag, value, p, unwrapErrno(err))
	default:
		return fmt.Errorf("%s %s: %s: %w", flag, value, p, unwrapErrno(err))
	}
}

// unwrapErrno drops os.PathError's "write /long/path:" prefix, which the
// message already carries.
func unwrapErrno(err error) error {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return err
}

// wrapped is an error whose message already says what its cause means.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// joinErrors is errors.Join on one line: the launcher's errors are one
// line each ("; " between the parts), whatever goes wrong in how many
// hierarchies. nil when errs has none.
func joinErrors(errs []error) error {
	var es []error
	for _, e := range errs {
		if e != nil {
			es = append(es, e)
		}
	}
	switch len(es) {
	case 0:
		return nil
	case 1:
		return es[0]
	}
	return joinedError(es)
}

type joinedError []error

func (j joinedError) Error() string {
	msgs := make([]string, len(j))
	for i, e := range j {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

func (j joinedError) Unwrap() []error { return j }
