// Package plan is an image plan: the sorted list of entries mkrootfs
// writes, each with its path, type, mode and where its content comes from.
// Writers never look at the host on their own; everything is decided here.
package plan

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Kind is the type of an entry.
type Kind int

const (
	Dir Kind = iota
	File
	Symlink
)

func (k Kind) String() string {
	return [...]string{"directory", "file", "symlink"}[k]
}

// Entry is one item of the image. Owner is always root (uid/gid 0).
type Entry struct {
	Path   string      // absolute, clean path inside the image ("/etc/os-release")
	Kind   Kind        //
	Mode   fs.FileMode // permission bits incl. setuid/setgid/sticky
	Data   []byte      // File content when Source is empty
	Source string      // File: host path to copy the content from
	Size   int64       // File: content length
	Target string      // Symlink: the link's target, as written
}

// Plan collects entries; the last addition to a path wins, except that a
// directory and a non-directory may not claim the same path.
type Plan struct {
	entries map[string]*Entry
}

// New returns an empty plan.
func New() *Plan { return &Plan{entries: map[string]*Entry{}} }

// ImagePath validates a path as given by a user and returns it absolute and
// clean. A path whose ".." components would climb above the image root is
// refused rather than silently clamped.
func ImagePath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", errors.New("path contains a NUL byte")
	}
	depth := 0
	for _, part := range strings.Split(p, "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return "", errors.New(p + ": escapes the image root")
			}
		default:
			depth++
		}
	}
	return path.Clean("/" + p), nil
}

// Add puts e into the plan, creating missing parent directories (0755).
func (p *Plan) Add(e Entry) error {
	clean, err := ImagePath(e.Path)
	if err != nil {
		return err
	}
	if clean == "/" {
		return errors.New("/: the image root cannot be replaced")
	}
	e.Path = clean
	if old, ok := p.entries[clean]; ok && (old.Kind == Dir) != (e.Kind == Dir) {
		return errors.New(clean + ": added as a " + e.Kind.String() + " but already planned as a " + old.Kind.String())
	}
	for dir := path.Dir(clean); dir != "/"; dir = path.Dir(dir) {
		if old, ok := p.entries[dir]; ok {
			if old.Kind != Dir {
				return errors.New(clean + ": parent " + dir + " is planned as a " + old.Kind.String())
			}
			continue
		}
		p.entries[dir] = &Entry{Path: dir, Kind: Dir, Mode: 0o755}
	}
	if e.Kind == File && e.Source == "" {
		e.Size = int64(len(e.Data))
	}
	p.entries[clean] = &e
	return nil
}

// Entries returns the plan sorted by path, so that a parent always comes
// before its children and two builds list the same entries in the same order.
func (p *Plan) Entries() []Entry {
	out := make([]Entry, 0, len(p.entries))
	for _, e := range p.entries {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Has reports whether path is planned.
func (p *Plan) Has(path string) bool {
	_, ok := p.entries[path]
	return ok
}
