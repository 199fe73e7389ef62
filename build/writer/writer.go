// Package writer writes an image plan in one output format. Every format
// is written under a temporary name next to the output and renamed into
// place at the end, so a failed build leaves nothing partial behind.
package writer

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stdcontainer/stdcontainer/build/plan"
)

// Format is an output format.
type Format string

const (
	FormatDir    Format = "dir"
	FormatTar    Format = "tar"
	FormatTarGz  Format = "tar.gz"
	FormatTarZst Format = "tar.zst"
)

// Formats lists every format, for help texts and validation.
var Formats = []Format{FormatDir, FormatTar, FormatTarGz, FormatTarZst}

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", errors.New("unknown format " + strconv.Quote(s) + " (use dir, tar, tar.gz or tar.zst)")
}

// FormatFor guesses the format from an output name: archive suffixes pick
// their format, anything else is a directory.
func FormatFor(out string) Format {
	switch {
	case strings.HasSuffix(out, ".tar.zst"), strings.HasSuffix(out, ".tzst"):
		return FormatTarZst
	case strings.HasSuffix(out, ".tar.gz"), strings.HasSuffix(out, ".tgz"):
		return FormatTarGz
	case strings.HasSuffix(out, ".tar"):
		return FormatTar
	}
	return FormatDir
}

// Options fix what would otherwise vary between builds.
type Options struct {
	// ModTime is every entry's mtime (SOURCE_DATE_EPOCH, or the epoch).
	ModTime time.Time
}

// Write writes entries (sorted, as plan.Entries returns them) to out.
func Write(entries []plan.Entry, format Format, out string, opts Options) error {
	out = filepath.Clean(out)
	tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp-"+strconv.Itoa(os.Getpid()))
	removeAll(tmp)
	var err error
	if format == FormatDir {
		err = writeDir(entries, tmp, opts)
	} else {
		err = writeArchive(entries, format, tmp, opts)
	}
	if err == nil {
		err = replace(tmp, out)
	}
	if err != nil {
		removeAll(tmp)
	}
	return err
}

// replace moves tmp to out. An existing directory is only replaced when it
// looks like an image (it has /etc/os-release or /sbin/init), so a typo in
// -o cannot wipe an unrelated directory.
func replace(tmp, out string) error {
	st, err := os.Lstat(out)
	if errors.Is(err, os.ErrNotExist) {
		return os.Rename(tmp, out)
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		tmpSt, err := os.Stat(tmp)
		if err != nil {
			return err
		}
		if tmpSt.IsDir() {
			return errors.New(out + ": exists and is not a directory; remove it first")
		}
		return os.Rename(tmp, out)
	}
	if !looksLikeImage(out) {
		return errors.New(out + ": exists and is not an image directory; remove it first")
	}
	if mnt, ok := mountInside(out); ok {
		return errors.New(mnt + ": is a mount point; unmount it before replacing " + out)
	}
	old := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".old-"+strconv.Itoa(os.Getpid()))
	if err := os.Rename(out, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Rename(old, out)
		return err
	}
	return removeAll(old)
}

func looksLikeImage(dir string) bool {
	for _, p := range []string{"etc/os-release", "sbin/init"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
			return true
		}
	}
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}
