package importer

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/stdcontainer/stdcontainer/build/importer/imagetest"
	"github.com/stdcontainer/stdcontainer/build/plan"
)

// FuzzImportTar applies a tar stream as a layer, then again as a second
// layer on top of the first: whatever the bytes, no panic, and every
// entry is a clean path below "/" whose parents are directories listed
// before it, as plan.Add takes it.
func FuzzImportTar(f *testing.F) {
	for _, entries := range [][]E{
		{{Name: "etc/", Type: tar.TypeDir}, {Name: "etc/passwd", Data: "root"}, {Name: "bin", Type: tar.TypeSymlink, Link: "usr/bin"}},
		{{Name: "a/b", Data: "x"}, {Name: "a/.wh.b"}, {Name: "a/.wh..wh..opq"}, {Name: ".wh.a"}, {Name: "c", Type: tar.TypeLink, Link: "a/b"}},
		{{Name: "etc", Type: tar.TypeSymlink, Link: "/tmp/host"}, {Name: "etc/passwd", Data: "x"}},
		{{Name: "../x"}, {Name: "/abs", Mode: 0o4755}, {Name: "d/", Type: tar.TypeDir, Mode: 0o1777, UID: 7}, {Name: "d/f", Type: tar.TypeFifo}},
		{{Name: "x", Data: "1"}, {Name: "x/", Type: tar.TypeDir}, {Name: "x/y", Type: tar.TypeLink, Link: "x"}},
	} {
		seed := imagetest.Tar(entries...)
		f.Add(seed[:len(seed)-1024]) // without the end blocks: the reader stops at EOF all the same

	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = fixChecksums(data)
		tr := newTree(limits{maxSize: 4 << 20, maxEntries: 1000, maxNames: 1 << 20, memFile: 1 << 20, memTotal: 4 << 20}, &store{memFile: 1 << 20, memTotal: 4 << 20}, nil)
		if err := tr.applyTar(bytes.NewReader(data), layer{1, 2, "fuzz"}); err != nil {
			if !strings.HasPrefix(err.Error(), "layer 1 of 2 (fuzz): ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q: want one line naming the layer", err)
			}
		} else if err := tr.applyTar(bytes.NewReader(data), layer{2, 2, "fuzz"}); err != nil && !strings.HasPrefix(err.Error(), "layer 2 of 2 (fuzz): ") {
			t.Fatalf("error %q: want it to name the layer", err)
		}
		entries := tr.entries()
		if len(entries) != tr.count {
			t.Fatalf("%d entries, %d counted", len(entries), tr.count)
		}
		kinds := map[string]plan.Kind{"/": plan.Dir}
		p := plan.New()
		for _, e := range entries {
			if clean, err := plan.ImagePath(e.Path); err != nil || clean != e.Path || e.Path == "/" || !strings.HasPrefix(e.Path, "/") {
				t.Fatalf("entry path %q: not a clean path below /", e.Path)
			}
			for _, part := range strings.Split(e.Path, "/") {
				if part == ".." {
					t.Fatalf("entry path %q has a .. component", e.Path)
				}
			}
			if k, ok := kinds[path.Dir(e.Path)]; !ok || k != plan.Dir {
				t.Fatalf("%q: parent not a directory listed before it", e.Path)
			}
			kinds[e.Path] = e.Kind
			if e.Kind == plan.File && (e.Source != "" || int64(len(e.Data)) != e.Size) {
				t.Fatalf("%q: %d bytes in memory, size %d, source %q", e.Path, len(e.Data), e.Size, e.Source)
			}
			if e.Kind == plan.Symlink && e.Target == "" {
				t.Fatalf("%q: symlink without a target", e.Path)
			}
			if e.UID < 0 || e.UID > maxID || e.GID < 0 || e.GID > maxID {
				t.Fatalf("%q: owner %d:%d", e.Path, e.UID, e.GID)
			}
			if err := p.Add(e); err != nil {
				t.Fatalf("plan refuses %q: %v", e.Path, err)
			}
		}
		if got := p.Entries(); len(got) != len(entries) {
			t.Fatalf("plan holds %d entries, the import gave %d", len(got), len(entries))
		}
	})
}

// fixChecksums rewrites the checksum of every tar header in data, so that
// mutated headers reach the importer instead of failing tar's checksum.
func fixChecksums(data []byte) []byte {
	data = bytes.Clone(data)
	for off := 0; off+512 <= len(data); {
		blk := data[off : off+512]
		if bytes.Count(blk, []byte{0}) == 512 {
			off += 512
			continue
		}
		copy(blk[148:156], "        ")
		sum := 0
		for _, c := range blk {
			sum += int(c)
		}
		copy(blk[148:156], fmt.Sprintf("%06o\x00 ", sum))
		size, err := strconv.ParseInt(strings.Trim(string(blk[124:136]), " \x00"), 8, 64)
		if err != nil || size < 0 || size > int64(len(data)) {
			break
		}
		off += 512 + int(size+511)/512*512
	}
	return data
}
