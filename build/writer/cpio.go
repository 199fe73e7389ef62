package writer

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"

	"github.com/u-root/u-root/pkg/cpio"

	"github.com/stdcontainer/stdcontainer/build/plan"
)

// cpioDevices are the device nodes the kernel wants in an initramfs: it
// opens /dev/console for the init's stdin/stdout/stderr before running it.
// The plan never has device nodes, so they are added here, owned by root.
var cpioDevices = []struct {
	path         string
	perm         uint64
	major, minor uint64
}{
	{"/dev/console", 0o600, 5, 1},
	{"/dev/null", 0o666, 1, 3},
}

// writeCpio writes the plan as a newc initramfs, compressed per format.
// Headers carry only what the plan fixes (the entry's mode and owner, one
// mtime, inode numbers counted in order, no device numbers but those of the
// added device nodes), so the same plan always gives the same bytes.
func writeCpio(entries []plan.Entry, format Format, name string, opts Options) error {
	items, err := cpioItems(entries)
	if err != nil {
		return err
	}
	return writeCompressed(name, format, func(w io.Writer) error {
		return writeNewc(cpio.Newc.Writer(w), items, opts)
	})
}

// cpioItem is a plan entry, or (dev) one of the added device nodes.
type cpioItem struct {
	plan.Entry
	dev          bool
	major, minor uint64
	nlink        uint64
}

// cpioItems merges the device nodes, and /dev and /init if the plan lacks
// them, into the sorted plan. A planned entry at a device node's path gives way to it.
func cpioItems(entries []plan.Entry) ([]cpioItem, error) {
	extra := []cpioItem{}
	hasDev := false
	for _, e := range entries {
		if e.Path == "/dev" {
			if e.Kind != plan.Dir {
				return nil, errors.New("/dev: planned as a " + e.Kind.String() + ", but an initramfs needs the directory for /dev/console")
			}
			hasDev = true
		}
	}
	if !hasDev {
		extra = append(extra, cpioItem{Entry: plan.Entry{Path: "/dev", Kind: plan.Dir, Mode: 0o755}})
	}
	isDevice := map[string]bool{}
	for _, d := range cpioDevices {
		extra = append(extra, cpioItem{Entry: plan.Entry{Path: d.path, Mode: fs.FileMode(d.perm)}, dev: true, major: d.major, minor: d.minor})
		isDevice[d.path] = true
	}
	// The kernel runs /init from an initramfs (rdinit=); a Standard
	// Container's init is /sbin/init, so /init points there unless the
	// plan has one of its own.
	if !slices.ContainsFunc(entries, func(e plan.Entry) bool { return e.Path == "/init" }) {
		extra = append(extra, cpioItem{Entry: plan.Entry{Path: "/init", Kind: plan.Symlink, Target: "sbin/init", Mode: 0o777}})
	}
	items := make([]cpioItem, 0, len(entries)+len(extra))
	for _, e := range entries {
		if isDevice[e.Path] {
			continue
		}
		for len(extra) > 0 && extra[0].Path < e.Path {
			items = append(items, extra[0])
			extra = extra[1:]
		}
		items = append(items, cpioItem{Entry: e})
	}
	items = append(items, extra...)

	// A directory's link count is 2 plus its subdirectories, as on disk.
	index := make(map[string]int, len(items))
	for i, it := range items {
		index[it.Path] = i
		items[i].nlink = 1
		if !it.dev && it.Kind == plan.Dir {
			items[i].nlink = 2
		}
	}
	for _, it := range items {
		if !it.dev && it.Kind == plan.Dir {
			if p, ok := index[cpioParent(it.Path)]; ok {
				items[p].nlink++
			}
		}
	}
	return items, nil
}

func cpioParent(p string) string {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "/"
}

// writeNewc writes every item and the trailer to w.
func writeNewc(w cpio.RecordWriter, items []cpioItem, opts Options) error {
	mtime := uint64(max(opts.ModTime.Unix(), 0))
	for i, it := range items {
		if interrupted.Load() {
			return ErrInterrupted
		}
		var rec cpio.Record
		var src *os.File
		switch {
		case it.dev:
			rec = cpio.CharDev(it.Path, uint64(it.Mode.Perm()), it.major, it.minor)
		case it.Kind == plan.Dir:
			rec = cpio.Directory(it.Path, uint64(tarMode(it.Mode)))
		case it.Kind == plan.Symlink:
			rec = cpio.Symlink(it.Path, it.Target)
		case it.Kind == plan.File && it.Source == "":
			rec = cpio.StaticRecord(it.Data, cpio.Info{Name: it.Path, Mode: cpio.S_IFREG | uint64(tarMode(it.Mode))})
		case it.Kind == plan.File:
			if it.Size > math.MaxUint32 {
				return errors.New(it.Path + ": larger than the 4 GiB a newc archive can hold")
			}
			var err error
			if src, err = os.Open(it.Source); err != nil {
				return err
			}
			rec = cpio.Record{
				ReaderAt: &sizedSource{f: src, size: it.Size},
				Info:     cpio.Info{Name: it.Path, Mode: cpio.S_IFREG | uint64(tarMode(it.Mode)), FileSize: uint64(it.Size)},
			}
		default:
			return errors.New(it.Path + ": cannot write a " + it.Kind.String() + " to a cpio archive")
		}
		rec.Ino = uint64(i + 1) // unique, and the same in every build
		rec.NLink = it.nlink
		rec.UID = uint64(it.UID)
		rec.GID = uint64(it.GID)
		rec.MTime = mtime
		err := w.WriteRecord(rec)
		if src != nil {
			src.Close()
		}
		if err != nil {
			if errors.Is(err, errChangedSize) {
				return &fs.PathError{Op: "copy", Path: it.Source, Err: errChangedSize}
			}
			return err
		}
	}
	return cpio.WriteTrailer(w)
}

// sizedSource serves a Source file's planned size to the cpio writer (which
// reads it through io.ReaderAt) and fails if the file now has another size,
// so a source that changed since planning cannot produce a corrupt archive.
// It also stops a long copy when Interrupt is called.
type sizedSource struct {
	f    *os.File
	size int64
}

func (s *sizedSource) ReadAt(p []byte, off int64) (int, error) {
	if interrupted.Load() {
		return 0, ErrInterrupted
	}
	if off >= s.size {
		// The writer reads until EOF: past the planned size, the file
		// must have nothing more.
		var probe [1]byte
		n, err := s.f.ReadAt(probe[:], s.size)
		if n > 0 {
			return 0, errChangedSize
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		return 0, io.EOF
	}
	if rest := s.size - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := s.f.ReadAt(p, off)
	if err == io.EOF {
		if off+int64(n) < s.size {
			return n, errChangedSize
		}
		err = nil
	}
	return n, err
}

var _ io.ReaderAt = (*sizedSource)(nil)
