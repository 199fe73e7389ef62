package writer

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/build/plan"
)

// writeDir materialises the plan as a directory tree owned by root (when we
// are root) with fixed mtimes.
func writeDir(entries []plan.Entry, root string, opts Options) error {
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	asRoot := os.Geteuid() == 0
	for _, e := range entries {
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
			err = os.Lchown(p, 0, 0)
		}
		if err == nil && e.Kind != plan.Symlink {
			// Chmod after Chown: chown clears setuid/setgid bits.
			err = os.Chmod(p, goMode(e.Mode))
		}
		if err != nil {
			return err
		}
	}
	// Mtimes last, deepest first, since adding children touches a directory.
	ts := []unix.Timespec{unix.NsecToTimespec(opts.ModTime.UnixNano()), unix.NsecToTimespec(opts.ModTime.UnixNano())}
	for i := len(entries) - 1; i >= 0; i-- {
		p := filepath.Join(root, entries[i].Path)
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
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
	n, err := io.Copy(w, io.LimitReader(src, e.Size+1))
	if err == nil && n != e.Size {
		err = &fs.PathError{Op: "copy", Path: e.Source, Err: errChangedSize}
	}
	return err
}

// goMode converts our permission bits (fs.ModeSetuid etc.) for os.Chmod.
func goMode(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}
