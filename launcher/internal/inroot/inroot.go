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
// A dangling symlink on the way is followed inside root, and what it
// names is created there, as for a volume at a path the image links
// elsewhere: the link's target is read as if root were "/".
func MkdirAll(root, p string, mode uint32) (*os.File, error) {
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFD)
	p = path.Clean("/" + p)
	for links := 0; links <= maxSymlinks; links++ {
		next, done, err := mkdirWalk(rootFD, p, mode)
		if err != nil {
			return nil, err
		}
		if done {
			return openAt(rootFD, p, unix.O_PATH|unix.O_DIRECTORY)
		}
		p = next
	}
	return nil, &os.PathError{Op: "mkdir", Path: p, Err: unix.ELOOP}
}

// maxSymlinks is how many dangling symlinks MkdirAll follows (the
// kernel's own limit for one lookup).
const maxSymlinks = 40

// mkdirWalk creates the missing directories of p. When it meets a
// dangling symlink it stops and returns the path with the link replaced
// by its target, to walk again.
func mkdirWalk(rootFD int, p string, mode uint32) (next string, done bool, err error) {
	parts := strings.Split(p, "/")[1:]
	cur := "/"
	for i, part := range parts {
		if part == "" {
			continue
		}
		here := path.Join(cur, part)
		if _, err := statAt(rootFD, here); !errors.Is(err, unix.ENOENT) {
			cur = here
			continue
		}
		parent, err := openAt(rootFD, cur, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return "", false, err
		}
		err = unix.Mkdirat(int(parent.Fd()), part, mode)
		if err == unix.EEXIST { // there, yet not found: a dangling symlink
			target, rerr := readlinkAt(int(parent.Fd()), part)
			parent.Close()
			if rerr != nil {
				return "", false, &os.PathError{Op: "readlink", Path: here, Err: rerr}
			}
			if !path.IsAbs(target) {
				target = path.Join(cur, target)
			}
			return path.Join(append([]string{"/", target}, parts[i+1:]...)...), false, nil
		}
		parent.Close()
		if err != nil {
			return "", false, &os.PathError{Op: "mkdir", Path: here, Err: err}
		}
		cur = here
	}
	return "", true, nil
}

func readlinkAt(dirFD int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dirFD, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
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
