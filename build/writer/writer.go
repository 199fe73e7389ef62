// Package writer writes an image plan in one output format. Every format
// is written under a temporary name next to the output and renamed into
// place at the end, so a failed build leaves nothing partial behind.
package writer

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
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
	// newc initramfs archives (cpio.go)
	FormatCpio    Format = "cpio"
	FormatCpioGz  Format = "cpio.gz"
	FormatCpioZst Format = "cpio.zst"
	// OCI image layout, as a directory or one tar (oci.go)
	FormatOCI    Format = "oci"
	FormatOCITar Format = "oci.tar"
)

// Formats lists every format, for help texts and validation.
var Formats = []Format{FormatDir, FormatTar, FormatTarGz, FormatTarZst, FormatCpio, FormatCpioGz, FormatCpioZst, FormatOCI, FormatOCITar}

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", errors.New("unknown format " + strconv.Quote(s) + " (use " + strings.Join(names, ", ") + ")")
}

// FormatFor guesses the format from an output name: archive suffixes pick
// their format, anything else is a directory.
func FormatFor(out string) Format {
	switch {
	case strings.HasSuffix(out, ".oci.tar"):
		return FormatOCITar
	case strings.HasSuffix(out, ".oci"):
		return FormatOCI
	case strings.HasSuffix(out, ".cpio.zst"):
		return FormatCpioZst
	case strings.HasSuffix(out, ".cpio.gz"):
		return FormatCpioGz
	case strings.HasSuffix(out, ".cpio"):
		return FormatCpio
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
	// Image describes the image for the formats that carry a config
	// (OCI): its reference and how it runs.
	Image ImageConfig
}

// ImageConfig is what an OCI image config says beyond the layer.
type ImageConfig struct {
	Tag        string            // NAME:TAG for index.json and the docker manifest ("" = none)
	Entrypoint []string          // /sbin/init
	Cmd        []string          // the init's payload, if any
	Env        []string          // KEY=VALUE
	WorkingDir string            //
	User       string            //
	Labels     map[string]string //
}

// ErrInterrupted is what Write returns after Interrupt: nothing is written.
var ErrInterrupted = errors.New("interrupted; nothing written")

var interrupted atomic.Bool

// Interrupt makes Write stop at its next entry or block of data, remove its
// temporary output and return ErrInterrupted (for a signal handler: a
// temporary removed under a running writer could be re-created by it).
func Interrupt() { interrupted.Store(true) }

// Write writes entries (sorted, as plan.Entries returns them) to out.
func Write(entries []plan.Entry, format Format, out string, opts Options) error {
	out = filepath.Clean(out)
	tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp-"+strconv.Itoa(os.Getpid()))
	removeAll(tmp)
	var err error
	switch format {
	case FormatDir:
		err = writeDir(entries, tmp, opts)
	case FormatCpio, FormatCpioGz, FormatCpioZst:
		err = writeCpio(entries, format, tmp, opts)
	case FormatOCI, FormatOCITar:
		err = writeOCI(entries, format, tmp, opts)
	default:
		err = writeArchive(entries, format, tmp, opts)
	}
	if err == nil && interrupted.Load() {
		err = ErrInterrupted
	}
	if err == nil {
		err = replace(tmp, out)
	}
	if err != nil {
		removeAll(tmp)
	}
	return inImage(err, tmp)
}

// inImage restates an error about the temporary output in the image's
// terms: "/etc/passwd: no space left on device", or just the reason when
// it is about the output as a whole (the caller names OUT).
func inImage(err error, tmp string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && (pe.Path == tmp || strings.HasPrefix(pe.Path, tmp+"/")) {
		if p := strings.TrimPrefix(pe.Path, tmp); p != "" {
			return errors.New(p + ": " + pe.Err.Error())
		}
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// replace moves tmp to out. An existing directory is only replaced when it
// looks like an image (it has /etc/os-release or /sbin/init, or is an OCI
// layout), so a typo in
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
			return errors.New("exists and is not a directory; remove it first")
		}
		return os.Rename(tmp, out)
	}
	if !looksLikeImage(out) {
		return errors.New("exists and is not an image directory; remove it first")
	}
	if mnt, ok := mountInside(out); ok {
		return errors.New(mnt + ": is a mount point; unmount it before replacing the image")
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
	for _, p := range []string{"etc/os-release", "sbin/init", "oci-layout"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
			return true
		}
	}
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}
