package writer

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/u-root/u-root/pkg/cpio"

	"github.com/stdcontainer/stdcontainer/build/plan"
)

// cpioPlan is a small image: directories, files from Data and from a
// Source file, a symlink, a setuid file, a file owned by 1000:1000, a
// sticky directory; no /dev, so the writer adds it.
func cpioPlan(t *testing.T) []plan.Entry {
	t.Helper()
	src := filepath.Join(t.TempDir(), "payload")
	content := bytes.Repeat([]byte("streamed from a source file\n"), 1000)
	if err := os.WriteFile(src, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return []plan.Entry{
		{Path: "/bin", Kind: plan.Dir, Mode: 0o755},
		{Path: "/bin/payload", Kind: plan.File, Mode: 0o755, Source: src, Size: int64(len(content))},
		{Path: "/bin/su", Kind: plan.File, Mode: 0o755 | fs.ModeSetuid, Data: []byte("#!/bin/sh\n"), Size: 10},
		{Path: "/etc", Kind: plan.Dir, Mode: 0o755},
		{Path: "/etc/empty", Kind: plan.File, Mode: 0o600, Size: 0},
		{Path: "/etc/os-release", Kind: plan.File, Mode: 0o644, Data: []byte("ID=test\n"), Size: 8},
		{Path: "/home", Kind: plan.Dir, Mode: 0o755},
		{Path: "/home/user", Kind: plan.Dir, Mode: 0o750, UID: 1000, GID: 1000},
		{Path: "/home/user/notes", Kind: plan.File, Mode: 0o640 | fs.ModeSetgid, UID: 1000, GID: 1000, Data: []byte("hello"), Size: 5},
		{Path: "/sbin", Kind: plan.Dir, Mode: 0o755},
		{Path: "/sbin/init", Kind: plan.Symlink, Mode: 0o777, Target: "../bin/payload"},
		{Path: "/tmp", Kind: plan.Dir, Mode: 0o777 | fs.ModeSticky},
	}
}

// cpioWant is one record as it should read back.
type cpioWant struct {
	name         string
	mode         uint64 // S_IFxxx and permission bits
	uid, gid     uint64
	content      string // file content, or symlink target
	rmajor, rmin uint64
}

func wantFor(t *testing.T, entries []plan.Entry) []cpioWant {
	var want []cpioWant
	add := func(w cpioWant) { want = append(want, w) }
	for _, e := range entries {
		w := cpioWant{name: strings.TrimPrefix(e.Path, "/"), mode: uint64(tarMode(e.Mode)), uid: uint64(e.UID), gid: uint64(e.GID)}
		switch e.Kind {
		case plan.Dir:
			w.mode |= cpio.S_IFDIR
		case plan.File:
			w.mode |= cpio.S_IFREG
			w.content = string(e.Data)
			if e.Source != "" {
				b, err := os.ReadFile(e.Source)
				if err != nil {
					t.Fatal(err)
				}
				w.content = string(b)
			}
		case plan.Symlink:
			w.mode = cpio.S_IFLNK | 0o777
			w.content = e.Target
		}
		if e.Path == "/etc" { // /dev goes before /etc
			add(cpioWant{name: "dev", mode: cpio.S_IFDIR | 0o755})
			add(cpioWant{name: "dev/console", mode: cpio.S_IFCHR | 0o600, rmajor: 5, rmin: 1})
			add(cpioWant{name: "dev/null", mode: cpio.S_IFCHR | 0o666, rmajor: 1, rmin: 3})
		}
		if e.Path == "/sbin" { // /init goes before /sbin
			add(cpioWant{name: "init", mode: cpio.S_IFLNK | 0o777, content: "sbin/init"})
		}
		add(w)
	}
	return want
}

func decompress(t *testing.T, format Format, data []byte) []byte {
	t.Helper()
	var r io.Reader
	switch format {
	case FormatCpio:
		return data
	case FormatCpioGz:
		gz, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if gz.Name != "" || !gz.ModTime.IsZero() {
			t.Errorf("gzip header has name %q, mtime %v; want none", gz.Name, gz.ModTime)
		}
		r = gz
	case FormatCpioZst:
		zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderMaxWindow(8<<20))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func buildCpio(t *testing.T, entries []plan.Entry, format Format, out string, mtime time.Time) []byte {
	t.Helper()
	if err := Write(entries, format, out, Options{ModTime: mtime}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCpioFormats(t *testing.T) {
	entries := cpioPlan(t)
	want := wantFor(t, entries)
	mtime := time.Unix(1700000000, 0)
	for _, format := range []Format{FormatCpio, FormatCpioGz, FormatCpioZst} {
		t.Run(string(format), func(t *testing.T) {
			dir := t.TempDir()
			a := buildCpio(t, entries, format, filepath.Join(dir, "a."+string(format)), mtime)
			b := buildCpio(t, entries, format, filepath.Join(dir, "b."+string(format)), mtime)
			if !bytes.Equal(a, b) {
				t.Fatal("two builds of the same plan differ")
			}
			raw := decompress(t, format, a)
			if !bytes.HasPrefix(raw, []byte("070701")) {
				t.Fatalf("not a newc archive: starts %q", raw[:min(len(raw), 6)])
			}
			if len(raw)%4 != 0 {
				t.Errorf("archive length %d is not a multiple of 4", len(raw))
			}
			recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(want) {
				var names []string
				for _, r := range recs {
					names = append(names, r.Name)
				}
				t.Fatalf("got %d records %v; want %d", len(recs), names, len(want))
			}
			inos := map[uint64]string{}
			for i, r := range recs {
				w := want[i]
				if r.Name != w.name {
					t.Errorf("record %d is %q; want %q", i, r.Name, w.name)
					continue
				}
				if r.Mode != w.mode || r.UID != w.uid || r.GID != w.gid {
					t.Errorf("%s: mode %#o uid %d gid %d; want %#o %d %d", r.Name, r.Mode, r.UID, r.GID, w.mode, w.uid, w.gid)
				}
				if r.MTime != uint64(mtime.Unix()) {
					t.Errorf("%s: mtime %d; want %d", r.Name, r.MTime, mtime.Unix())
				}
				if r.Rmajor != w.rmajor || r.Rminor != w.rmin || r.Major != 0 || r.Minor != 0 {
					t.Errorf("%s: dev %d:%d rdev %d:%d; want 0:0 and %d:%d", r.Name, r.Major, r.Minor, r.Rmajor, r.Rminor, w.rmajor, w.rmin)
				}
				if other, dup := inos[r.Ino]; dup || r.Ino == 0 {
					t.Errorf("%s: inode %d (also %q)", r.Name, r.Ino, other)
				}
				inos[r.Ino] = r.Name
				if r.Mode&cpio.S_IFMT == cpio.S_IFDIR {
					if r.NLink < 2 {
						t.Errorf("%s: nlink %d", r.Name, r.NLink)
					}
				} else if r.NLink != 1 {
					t.Errorf("%s: nlink %d; want 1", r.Name, r.NLink)
				}
				content, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
				if err != nil {
					t.Fatal(err)
				}
				if string(content) != w.content {
					t.Errorf("%s: content %q; want %q", r.Name, trim(content), trim([]byte(w.content)))
				}
			}
		})
	}
}

func trim(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func TestCpioMtimeChangesBytes(t *testing.T) {
	entries := cpioPlan(t)
	dir := t.TempDir()
	a := buildCpio(t, entries, FormatCpio, filepath.Join(dir, "a.cpio"), time.Unix(0, 0))
	b := buildCpio(t, entries, FormatCpio, filepath.Join(dir, "b.cpio"), time.Unix(1, 0))
	if bytes.Equal(a, b) {
		t.Error("the mtime does not reach the archive")
	}
}

func readCpio(t *testing.T, entries []plan.Entry) map[string]cpio.Record {
	t.Helper()
	data := buildCpio(t, entries, FormatCpio, filepath.Join(t.TempDir(), "x.cpio"), time.Unix(0, 0))
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]cpio.Record{}
	for _, r := range recs {
		if _, dup := byName[r.Name]; dup {
			t.Errorf("%s twice", r.Name)
		}
		byName[r.Name] = r
	}
	return byName
}

// A planned /dev keeps its mode; a planned file where a device node goes
// gives way to the node.
func TestCpioPlannedDev(t *testing.T) {
	recs := readCpio(t, []plan.Entry{
		{Path: "/dev", Kind: plan.Dir, Mode: 0o711},
		{Path: "/dev/null", Kind: plan.File, Mode: 0o644, Data: []byte("x"), Size: 1},
		{Path: "/dev/pts", Kind: plan.Dir, Mode: 0o755},
		{Path: "/dev/shm", Kind: plan.Dir, Mode: 0o777 | fs.ModeSticky},
	})
	if r := recs["dev"]; r.Mode != cpio.S_IFDIR|0o711 || r.NLink != 4 {
		t.Errorf("dev: mode %#o nlink %d; want %#o 4", r.Mode, r.NLink, cpio.S_IFDIR|0o711)
	}
	if r := recs["dev/null"]; r.Mode != cpio.S_IFCHR|0o666 || r.Rmajor != 1 || r.Rminor != 3 || r.FileSize != 0 {
		t.Errorf("dev/null: %v", r.Info)
	}
	if r := recs["dev/console"]; r.Mode != cpio.S_IFCHR|0o600 || r.Rmajor != 5 || r.Rminor != 1 {
		t.Errorf("dev/console: %v", r.Info)
	}
	if len(recs) != 6 { // with /init
		t.Errorf("got %d records; want 6", len(recs))
	}
}

func TestCpioEmptyPlan(t *testing.T) {
	recs := readCpio(t, nil)
	if len(recs) != 4 {
		t.Errorf("got %d records; want dev, dev/console, dev/null and init", len(recs))
	}
	if r := recs["init"]; r.Mode&cpio.S_IFMT != cpio.S_IFLNK {
		t.Errorf("init: %v, want a symlink to sbin/init", r.Info)
	}
}

func TestCpioDevSymlinkRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.cpio")
	err := Write([]plan.Entry{{Path: "/dev", Kind: plan.Symlink, Target: "/tmp"}}, FormatCpio, out, Options{})
	if err == nil || !strings.Contains(err.Error(), "/dev") {
		t.Errorf("got %v; want an error about /dev", err)
	}
	if _, err := os.Lstat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("output left behind: %v", err)
	}
}

func TestCpioSourceChangedSize(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{5, 20} { // the file grew, shrank
		for _, format := range []Format{FormatCpio, FormatCpioZst} {
			dir := t.TempDir()
			out := filepath.Join(dir, "x."+string(format))
			err := Write([]plan.Entry{
				{Path: "/a", Kind: plan.File, Mode: 0o644, Source: src, Size: size},
			}, format, out, Options{})
			if !errors.Is(err, errChangedSize) || !strings.Contains(err.Error(), src) {
				t.Errorf("planned size %d, %s: got %v; want %v naming %s", size, format, err, errChangedSize, src)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		}
	}
}

func TestCpioInterrupted(t *testing.T) {
	Interrupt()
	defer interrupted.Store(false)
	dir := t.TempDir()
	err := Write(cpioPlan(t), FormatCpioGz, filepath.Join(dir, "x.cpio.gz"), Options{})
	if !errors.Is(err, ErrInterrupted) {
		t.Errorf("got %v; want %v", err, ErrInterrupted)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// An Interrupt during a long copy stops it at the next block.
func TestCpioInterruptedInCopy(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := &sizedSource{f: f, size: 1 << 20}
	if _, err := s.ReadAt(make([]byte, 4096), 0); err != nil {
		t.Fatal(err)
	}
	Interrupt()
	defer interrupted.Store(false)
	if _, err := s.ReadAt(make([]byte, 4096), 4096); !errors.Is(err, ErrInterrupted) {
		t.Errorf("got %v; want %v", err, ErrInterrupted)
	}
}
