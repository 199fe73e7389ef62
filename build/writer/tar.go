package writer

import (
	"archive/tar"
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/stdcontainer/stdcontainer/build/plan"
)

var errChangedSize = errors.New("file changed size while the image was built")

// writeArchive writes the plan as a tar stream, compressed per format.
// Headers carry only what the plan fixes (its owners as numbers, no user
// names, one mtime), so the same plan always gives the same bytes.
func writeArchive(entries []plan.Entry, format Format, name string, opts Options) error {
	return writeCompressed(name, format, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		if err := writeTar(tw, entries, opts); err != nil {
			return err
		}
		return tw.Close()
	})
}

// writeCompressed creates the file name, has write fill it through the
// compression format names, and flushes, syncs and closes it, keeping the
// first error.
func writeCompressed(name string, format Format, write func(io.Writer) error) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	zw, err := compressor(buf, format)
	if err != nil {
		f.Close()
		return err
	}
	err = write(zw)
	for _, closeNext := range []func() error{zw.Close, buf.Flush, f.Sync, f.Close} {
		if cerr := closeNext(); err == nil {
			err = cerr
		}
	}
	return err
}

func writeTar(tw *tar.Writer, entries []plan.Entry, opts Options) error {
	for _, e := range entries {
		if interrupted.Load() {
			return ErrInterrupted
		}
		hdr := &tar.Header{
			Name:    strings.TrimPrefix(e.Path, "/"),
			Mode:    tarMode(e.Mode),
			Uid:     e.UID,
			Gid:     e.GID,
			ModTime: opts.ModTime,
			Format:  tar.FormatPAX,
		}
		switch e.Kind {
		case plan.Dir:
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		case plan.File:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = e.Size
		case plan.Symlink:
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = e.Target
			hdr.Mode = 0o777
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if e.Kind == plan.File {
			if err := copyContent(tw, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// tarMode converts Go's mode bits to the tar header's c_mode bits.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// compressor wraps w in the compression that format's suffix names.
// The settings are writeArchive's (tar.go), repeated here so both kinds of
// archive compress alike; fold the two together when tar.go is next edited.
func compressor(w io.Writer, format Format) (io.WriteCloser, error) {
	switch format {
	case FormatTarGz, FormatCpioGz:
		gz, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
		// No name and a zero mtime in the gzip header: reproducible.
		return gz, nil
	case FormatTarZst, FormatCpioZst:
		return zstd.NewWriter(w,
			zstd.WithEncoderLevel(zstd.SpeedBestCompression),
			zstd.WithEncoderConcurrency(1), // one stream layout, whatever the machine
			// 4 MiB: the kernel's zstd decompressor takes windows up to 8 MiB.
			zstd.WithWindowSize(1<<22))
	}
	return nopCloser{w}, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
