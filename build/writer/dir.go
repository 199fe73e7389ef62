package writer

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/build/plan"
)

// writeDir materialises the plan as a directory tree with the planned
// owners (when we are root; otherwise everything is ours) and fixed modes
// and mtimes, whatever the umask.
func writeDir(entries []plan.Entry, root string, opts Options) error {
	if err := os.Mkdir(root, 0o700); err != nil {
		return err
	}
	asRoot := os.Geteuid() == 0
	for _, e := range entries {
		if interrupted.Load() {
			return ErrInterrupted
		}
		p := filepath.Join(root, e.Path)
		var err error
		switch e.Kind {
		case plan.Dir:
			err = os.Mkdir(p, 0o700)
		case plan.File:
			err = writeFile(p, e)
		case plan.Symlink:
			err = os.Symlink(e.Target, p)
		}
		if err == nil && asRoot {
			err = os.Lchown(p, e.UID, e.GID)
		}
		if err == nil && e.Kind == plan.File {
			// Chmod after Chown: chown clears setuid/setgid bits.
			err = os.Chmod(p, goMode(e.Mode))
		}
		if err != nil {
			return err
		}
	}
	// Directory modes and mtimes last, deepest first: a read-only directory
	// must still take its children, and adding a child touches its mtime.
	ts := []unix.Timespec{unix.NsecToTimespec(opts.ModTime.UnixNano()), unix.NsecToTimespec(opts.ModTime.UnixNano())}
	for i := len(entries) - 1; i >= 0; i-- {
		p := filepath.Join(root, entries[i].Path)
		if entries[i].Kind == plan.Dir {
			if err := os.Chmod(p, goMode(entries[i].Mode)); err != nil {
				return err
			}
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return err
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, root, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func writeFile(p string, e plan.Entry) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := copyContent(f, e); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyContent writes e's content to w and checks it has the planned size,
// so a source that changed since planning cannot produce a corrupt archive.
func copyContent(w io.Writer, e plan.Entry) error {
	if e.Source == "" {
		_, err := w.Write(e.Data)
		return err
	}
	src, err := os.Open(e.Source)
	if err != nil {
		return err
	}
	defer src.Close()
	n, err := io.Copy(w, io.LimitReader(interruptible{src}, e.Size+1))
	if err == nil && n != e.Size {
		err = &fs.PathError{Op: "copy", Path: e.Source, Err: errChangedSize}
	}
	return err
}

// interruptible stops a long copy when Interrupt is called.
type interruptible struct{ r io.Reader }

func (i interruptible) Read(b []byte) (int, error) {
	if interrupted.Load() {
		return 0, ErrInterrupted
	}
	return i.r.Read(b)
}

// goMode converts our permission bits (fs.ModeSetuid etc.) for os.Chmod.
func goMode(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// removeAll is os.RemoveAll for a tree we wrote, which may hold read-only
// directories (a non-root user cannot unlink inside those).
func removeAll(p string) error {
	if err := os.RemoveAll(p); err == nil {
		return nil
	}
	filepath.WalkDir(p, func(name string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(name, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}

// mountInside returns the first path at or below dir that is a mount point,
// bind mounts of the same filesystem included: removing the tree would
// delete whatever is mounted there.
func mountInside(dir string) (string, bool) {
	var found string
	filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		var stx unix.Statx_t
		if unix.Statx(unix.AT_FDCWD, name, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE, &stx) == nil &&
			stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0 {
			found = name
			return filepath.SkipAll
		}
		return nil
	})
	return found, found != ""
}
