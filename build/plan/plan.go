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

// Entry is one item of the image.
type Entry struct {
	Path string      // absolute, clean path inside the image ("/etc/os-release")
	Kind Kind        //
	Mode fs.FileMode // permission bits incl. setuid/setgid/sticky
	// UID and GID own the entry: 0 for everything mkrootfs adds itself;
	// an imported image's files keep their owners.
	UID, GID int
	Data     []byte // File content when Source is empty
	Source   string // File: host path to copy the content from
	Size     int64  // File: content length
	Target   string // Symlink: the link's target, as written
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
	// A planned symlink to a directory on the way is followed, as tar's
	// --keep-directory-symlink does: a merged-/usr image's /lib -> usr/lib
	// takes a tree's /lib/... files into /usr/lib.
	if dir, ok := p.resolveDir(path.Dir(clean)); ok {
		clean = path.Join(dir, path.Base(clean))
	}
	if old, ok := p.entries[clean]; ok && old.Kind == Symlink && e.Kind == Dir {
		if dir, ok := p.resolveDir(clean); ok && dir != clean {
			// Keep the symlink; the directory is its target.
			if _, planned := p.entries[dir]; planned {
				return nil
			}
			e.Path = dir
			return p.Add(e)
		}
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

// Lookup returns the entry that name reaches in the image, following
// planned symlinks in every component as the kernel would with the image as
// root (an absolute target starts again at the image root). The image root
// itself, and names that reach nothing planned, give false.
func (p *Plan) Lookup(name string) (Entry, bool) {
	cur, ok := p.walk(name, true)
	if !ok {
		return Entry{}, false
	}
	e, ok := p.entries[cur]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// Get returns the entry planned at exactly path (no symlink followed).
func (p *Plan) Get(path string) (Entry, bool) {
	e, ok := p.entries[path]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// resolveDir follows the planned symlinks in dir's components; components
// not planned yet stay as they are (Add creates them as directories). It
// fails when a component is a planned file or a symlink loop.
func (p *Plan) resolveDir(dir string) (string, bool) {
	return p.walk(dir, false)
}

// walk follows name's components through the plan, symlinks included as
// the kernel would with the image as root (an absolute target starts
// again at the root, at most 40 links). With mustExist every component
// must be planned; without, unplanned ones are taken as directories to
// be, and a planned non-directory on the way fails.
func (p *Plan) walk(name string, mustExist bool) (string, bool) {
	todo := strings.Split(name, "/")
	cur := "/"
	for hops := 0; len(todo) > 0; {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, part)
		e, ok := p.entries[next]
		switch {
		case !ok && mustExist:
			return "", false
		case ok && e.Kind == Symlink:
			if hops++; hops > 40 {
				return "", false
			}
			if path.IsAbs(e.Target) {
				cur = "/"
			}
			todo = append(strings.Split(e.Target, "/"), todo...)
		case ok && e.Kind != Dir && !mustExist:
			return "", false
		default:
			cur = next
		}
	}
	return cur, true
}
