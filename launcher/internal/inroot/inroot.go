// Package inroot opens paths inside a root directory (an image, or the
// container's root being built) with openat2(2) RESOLVE_IN_ROOT: the kernel
// resolves every symlink and ".." as if root were "/", so no path an image
// contains can lead the launcher to a host file. Needs Linux 5.6.
package inroot

import (
	"errors"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

const resolve = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// Open opens p inside root with the given open(2) flags.
func Open(root, p string, flags int) (*os.File, error) {
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFD)
	return openAt(rootFD, p, flags)
}

func openAt(rootFD int, p string, flags int) (*os.File, error) {
	for {
		fd, err := unix.Openat2(rootFD, p, &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolve})
		if err == unix.EINTR || err == unix.EAGAIN { // EAGAIN: a rename raced the lookup
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: p, Err: err}
		}
		return os.NewFile(uintptr(fd), p), nil
	}
}

// ReadFile reads at most limit bytes of the regular file p inside root.
func ReadFile(root, p string, limit int64) ([]byte, error) {
	f, err := Open(root, p, unix.O_RDONLY|unix.O_NONBLOCK) // a FIFO must not block us
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: p, Err: errors.New("not a regular file")}
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// Exists reports whether root has an entry at p; a final symlink counts,
// dangling or not, since the image put it there.
func Exists(root, p string) bool {
	dir, err := Open(root, path.Dir(path.Clean("/"+p)), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return false
	}
	defer dir.Close()
	var st unix.Stat_t
	return unix.Fstatat(int(dir.Fd()), path.Base(p), &st, unix.AT_SYMLINK_NOFOLLOW) == nil
}

// MkdirAll creates the directory p inside root and its missing parents,
// and returns it opened with O_PATH (for mounting onto /proc/self/fd/N).
func MkdirAll(root, p string, mode uint32) (*os.File, error) {
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFD)
	cur := "/"
	for _, part := range strings.Split(path.Clean("/"+p), "/") {
		if part == "" {
			continue
		}
		next := path.Join(cur, part)
		if _, err := statAt(rootFD, next); errors.Is(err, unix.ENOENT) {
			parent, err := openAt(rootFD, cur, unix.O_PATH|unix.O_DIRECTORY)
			if err != nil {
				return nil, err
			}
			err = unix.Mkdirat(int(parent.Fd()), part, mode)
			parent.Close()
			if err != nil && err != unix.EEXIST {
				return nil, &os.PathError{Op: "mkdir", Path: next, Err: err}
			}
		}
		cur = next
	}
	return openAt(rootFD, cur, unix.O_PATH|unix.O_DIRECTORY)
}

func statAt(rootFD int, p string) (*os.File, error) {
	f, err := openAt(rootFD, p, unix.O_PATH)
	if err == nil {
		f.Close()
	}
	return f, err
}

// CreateFile opens the regular file p inside root, creating it (and its
// parent directories) if missing; p itself may not be a symlink.
func CreateFile(root, p string, flags int, mode uint32) (*os.File, error) {
	p = path.Clean("/" + p)
	dir, err := MkdirAll(root, path.Dir(p), 0o755)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	fd, err := unix.Openat(int(dir.Fd()), path.Base(p), flags|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: p, Err: err}
	}
	return os.NewFile(uintptr(fd), p), nil
}
