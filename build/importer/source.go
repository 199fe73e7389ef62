package importer

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// source is an image's files: an OCI layout or a docker-save tree, as a
// directory or a tarball. Names are slash paths relative to its top.
type source interface {
	// open returns the named regular file and its size.
	open(name string) (io.ReadCloser, int64, error)
	Close() error
}

// openSource opens SRC: a directory, or an uncompressed tarball read in
// place (its members are found once, then read at their offsets).
func openSource(src string) (source, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	if st.IsDir() {
		root, err := os.OpenRoot(src)
		if err != nil {
			return nil, errors.Unwrap(err)
		}
		return dirSource{root}, nil
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	s, err := indexTar(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// dirSource reads a directory; os.Root keeps every name inside it.
type dirSource struct{ root *os.Root }

func (d dirSource) open(name string) (io.ReadCloser, int64, error) {
	f, err := d.root.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, 0, fmt.Errorf("%s: %w", show(name), pe.Err)
		}
		return nil, 0, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file", show(name))
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func (d dirSource) Close() error { return d.root.Close() }

// tarSource reads the members of an uncompressed tarball in place.
type tarSource struct {
	f       *os.File
	members map[string]member
}

// member is a file in the tarball: its data's offset and size, or the
// name a link (hard or symbolic) leads to.
type member struct {
	off, size int64
	link      string // "" for a regular file
}

func indexTar(f *os.File) (*tarSource, error) {
	head := make([]byte, 6)
	if n, _ := io.ReadFull(f, head); n > 0 {
		if kind := compression(head[:n]); kind != "" {
			return nil, fmt.Errorf("a %s-compressed file: decompress it first (an OCI layout or docker-save archive is a plain tar)", kind)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	s := &tarSource{f: f, members: map[string]member{}}
	// tar.Reader reads headers exactly and seeks over data, so after Next
	// the file's offset is where the member's data starts.
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not an OCI layout or docker-save archive: %v", err)
		}
		name := cleanMember(hdr.Name)
		if name == "" {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeReg, '\x00':
			if isSparse(hdr) {
				continue
			}
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, err
			}
			s.members[name] = member{off: off, size: hdr.Size}
		case tar.TypeLink:
			if target := cleanMember(hdr.Linkname); target != "" {
				s.members[name] = member{link: target}
			}
		case tar.TypeSymlink:
			target := hdr.Linkname
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(name), target)
			}
			if target = cleanMember(target); target != "" {
				s.members[name] = member{link: target}
			}
		}
	}
	return s, nil
}

// cleanMember is a member name relative to the archive's top, or "" when
// it climbs out of it.
func cleanMember(name string) string {
	name = path.Clean("/" + name)
	if name == "/" || strings.Contains(name, "\x00") {
		return ""
	}
	return name[1:]
}

func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

func (s *tarSource) open(name string) (io.ReadCloser, int64, error) {
	name = cleanMember(name)
	for hops := 0; hops <= 40; hops++ {
		m, ok := s.members[name]
		if !ok {
			return nil, 0, fmt.Errorf("%s: %w", show(name), fs.ErrNotExist)
		}
		if m.link == "" {
			return io.NopCloser(bufio.NewReaderSize(io.NewSectionReader(s.f, m.off, m.size), 1<<16)), m.size, nil
		}
		name = m.link
	}
	return nil, 0, fmt.Errorf("%s: too many levels of links", show(name))
}

func (s *tarSource) Close() error { return s.f.Close() }

// compression names the compression whose magic bytes start head ("" for
// none known).
func compression(head []byte) string {
	for _, m := range []struct {
		magic, name string
	}{
		{"\x1f\x8b", "gzip"},
		{"\x28\xb5\x2f\xfd", "zstd"},
		{"BZh", "bzip2"},
		{"\xfd7zXZ\x00", "xz"},
	} {
		if strings.HasPrefix(string(head), m.magic) {
			return m.name
		}
	}
	return ""
}
