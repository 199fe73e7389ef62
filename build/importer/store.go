package importer

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// store keeps file contents: small files in memory (plan.Entry.Data),
// large ones, and every file once the memory budget is spent, in
// temporary files (plan.Entry.Source) in the caller's directory.
type store struct {
	dir      string // "" = nowhere to spill: everything in memory
	n        int
	memUsed  int64
	memFile  int64
	memTotal int64
}

// spill is a temporary file holding one file's content, shared by the
// hard links to it; the last one removed deletes it.
type spill struct {
	path string
	refs int
}

func (s *spill) drop() {
	if s.refs--; s.refs == 0 {
		os.Remove(s.path)
	}
}

// read takes size bytes from r, in memory or in a temporary file.
func (s *store) read(r io.Reader, size int64) ([]byte, *spill, error) {
	if s.memUsed+size <= s.memTotal && (size <= s.memFile || s.dir == "") {
		var data []byte
		var err error
		if size <= 1<<20 {
			data = make([]byte, size)
			_, err = io.ReadFull(r, data)
		} else {
			// Allocate as the bytes arrive, not as the header claims.
			data, err = io.ReadAll(io.LimitReader(r, size))
			if err == nil && int64(len(data)) != size {
				err = io.ErrUnexpectedEOF
			}
		}
		if err != nil {
			return nil, nil, err
		}
		s.memUsed += size
		return data, nil, nil
	}
	if s.dir == "" {
		return nil, nil, fmt.Errorf("%w: more than %d MiB of file contents to hold in memory", errTooBig, s.memTotal>>20)
	}
	s.n++
	name := filepath.Join(s.dir, strconv.Itoa(s.n))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, nil, err
	}
	n, err := io.Copy(f, io.LimitReader(r, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = fmt.Errorf("content ends after %d of %d bytes", n, size)
	}
	if err != nil {
		os.Remove(name)
		return nil, nil, err
	}
	return nil, &spill{path: name, refs: 1}, nil
}
