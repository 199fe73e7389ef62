package importer

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/stdcontainer/stdcontainer/build/plan"
)

// tree is the image's file system while layers are applied: an in-memory
// directory tree, never the host's. Every name a layer gives is resolved
// here, component by component, and a component that is a symlink is
// refused rather than followed, so no layer can write through a link an
// earlier entry planted (the OCI layer spec's "changesets" never need to:
// a layer made by diffing two file systems names files by their real path).
type tree struct {
	root    *node
	count   int   // nodes below the root
	names   int64 // bytes of the nodes' full paths, ever made
	read    int64 // uncompressed layer bytes so far, for the size limit
	content *store
	limits  limits
	warn    func(string)
}

// node is one entry of the tree.
type node struct {
	kind     plan.Kind
	mode     fs.FileMode // permission bits incl. setuid/setgid/sticky
	uid, gid int
	data     []byte // File: content in memory
	spill    *spill // File: content in a temporary file instead
	size     int64  // File: content length
	target   string // Symlink
	kids     map[string]*node
	// by is the layer (1-based) that wrote the entry, for messages; seen
	// is the last layer that wrote it or put something below it. A
	// whiteout only removes what lower layers left: entries whose seen is
	// an earlier layer.
	by, seen int
}

// limits bound what one import may hold.
type limits struct {
	maxSize    int64 // uncompressed layer bytes, all layers together
	maxEntries int   // entries in the image
	maxNames   int64 // bytes of all the entries' paths together
	memFile    int64 // largest file kept in memory
	memTotal   int64 // memory for file contents; beyond it, files spill
}

// layer names the layer being applied, for messages and whiteouts.
type layer struct {
	index, count int    // 1-based position, number of layers
	name         string // digest or file name
}

func (l layer) String() string {
	return "layer " + strconv.Itoa(l.index) + " of " + strconv.Itoa(l.count) + " (" + l.name + ")"
}

func newTree(lim limits, content *store, warn func(string)) *tree {
	if warn == nil {
		warn = func(string) {}
	}
	return &tree{root: &node{kind: plan.Dir, mode: 0o755, kids: map[string]*node{}}, content: content, limits: lim, warn: warn}
}

// applyTar applies one layer's tar stream to the tree.
func (t *tree) applyTar(r io.Reader, l layer) error {
	tr := tar.NewReader(r)
	for {
		if interrupted.Load() {
			return ErrInterrupted
		}
		hdr, err := tr.Next()
		switch {
		case err == io.EOF:
			return nil
		case err == nil:
			if err = t.apply(hdr, tr, l); err != nil && !errors.Is(err, ErrInterrupted) {
				return fmt.Errorf("%s: %s: %w", l, show(hdr.Name), err)
			}
		case !errors.Is(err, ErrInterrupted):
			return fmt.Errorf("%s: %w", l, err)
		}
		if err != nil {
			return err
		}
	}
}

// apply adds one tar entry to the tree.
func (t *tree) apply(hdr *tar.Header, r io.Reader, l layer) error {
	parts, err := splitName(hdr.Name)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		if hdr.Typeflag == tar.TypeDir {
			return nil // the image root: the writer gives it 0755, owner 0
		}
		return errors.New("the image root can only be a directory")
	}
	dir, base := parts[:len(parts)-1], parts[len(parts)-1]
	if strings.HasPrefix(base, whiteoutPrefix) {
		return t.whiteout(dir, base, l)
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse, '\x00', tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		// The plan holds files, directories and symlinks only; a runtime
		// mounts /dev anyway.
		t.warn(fmt.Sprintf("%s: %s: %s skipped (images hold no device nodes or FIFOs)", l, show(hdr.Name), typeName(hdr.Typeflag)))
		return nil
	default:
		return fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
	if hdr.Uid < 0 || hdr.Uid > maxID || hdr.Gid < 0 || hdr.Gid > maxID {
		return fmt.Errorf("owner %d:%d out of range", hdr.Uid, hdr.Gid)
	}
	if hasXattrs(hdr.PAXRecords) {
		t.warn(fmt.Sprintf("%s: %s: extended attributes (file capabilities, ACLs) not kept", l, show(hdr.Name)))
	}
	parent, err := t.walk(dir, l, create)
	if err != nil {
		return err
	}
	n := &node{mode: tarMode(hdr.Mode), uid: hdr.Uid, gid: hdr.Gid, by: l.index, seen: l.index}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if old, ok := parent.kids[base]; ok && old.kind == plan.Dir {
			// An existing directory takes the new metadata, keeps its children.
			old.mode, old.uid, old.gid, old.by, old.seen = n.mode, n.uid, n.gid, l.index, l.index
			return nil
		}
		n.kind, n.kids = plan.Dir, map[string]*node{}
	case tar.TypeSymlink:
		if hdr.Linkname == "" || strings.IndexByte(hdr.Linkname, 0) >= 0 {
			return errors.New("symlink with an empty target or a NUL byte in it")
		}
		if len(hdr.Linkname) >= pathMax {
			return fmt.Errorf("symlink target longer than %d bytes", pathMax-1)
		}
		n.kind, n.mode, n.target = plan.Symlink, 0, hdr.Linkname
	case tar.TypeLink:
		target, err := t.linkTarget(hdr.Linkname, l)
		if err != nil {
			return err
		}
		// A copy of the target, sharing its content: the plan has no hard
		// links (see the package doc).
		*n = *target
		n.by, n.seen = l.index, l.index
		if n.spill != nil {
			n.spill.refs++
		}
	default:
		if hdr.Size < 0 {
			return errors.New("negative size")
		}
		n.kind, n.size = plan.File, hdr.Size
		if n.data, n.spill, err = t.content.read(r, hdr.Size); err != nil {
			return err
		}
	}
	return t.put(parent, base, n, len(hdr.Name))
}

// maxID is the largest owner id; (uid_t)-1 means "unchanged" to chown(2).
const maxID = 1<<32 - 2

const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."     // aufs bookkeeping (.wh..wh.plnk …), not content
	whiteoutOpaque = ".wh..wh..opq" // the directory hides its lower layers' children
)

// whiteout applies a whiteout entry found in the directory named by dir.
func (t *tree) whiteout(dir []string, base string, l layer) error {
	if base == whiteoutOpaque {
		d, err := t.walk(dir, l, create)
		if err != nil {
			return err
		}
		t.prune(d, l.index)
		return nil
	}
	if strings.HasPrefix(base, whiteoutMeta) {
		return nil
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if name == "" || name == "." || name == ".." {
		return errors.New("whiteout of an invalid name")
	}
	d, err := t.walk(dir, l, touch)
	if err != nil || d == nil {
		return err // nil, nil: nothing there to remove
	}
	n, ok := d.kids[name]
	switch {
	case !ok:
	case n.seen == l.index:
		// This layer wrote the entry (or below it): only what lower
		// layers left under it goes.
		t.prune(n, l.index)
	default:
		t.remove(d, name)
	}
	return nil
}

// How walk treats the directories on its way.
type walkMode int

const (
	look   walkMode = iota // only look: a missing one gives nil
	touch                  // a missing one gives nil; the others count as this layer's
	create                 // make missing ones (0755, owner 0, as tar does); all count as this layer's
)

// walk resolves the directory named by parts, refusing to go through a
// symlink (or, when creating, a file).
func (t *tree) walk(parts []string, l layer, mode walkMode) (*node, error) {
	n, size := t.root, 0
	for i, name := range parts {
		size += 1 + len(name)
		k, ok := n.kids[name]
		switch {
		case !ok && mode != create:
			return nil, nil
		case !ok:
			if err := t.grow(size); err != nil {
				return nil, err
			}
			k = &node{kind: plan.Dir, mode: 0o755, kids: map[string]*node{}, by: l.index}
			n.kids[name] = k
		case k.kind == plan.Symlink:
			return nil, fmt.Errorf("goes through the symlink /%s -> %s (from layer %d): refused", show(strings.Join(parts[:i+1], "/")), show(k.target), k.by)
		case k.kind != plan.Dir:
			if mode != create {
				return nil, nil
			}
			return nil, fmt.Errorf("/%s (from layer %d) is a file, not a directory", show(strings.Join(parts[:i+1], "/")), k.by)
		}
		if mode != look {
			k.seen = l.index
		}
		n = k
	}
	return n, nil
}

// linkTarget finds what a hard link names: an entry already in the tree,
// from a lower layer or earlier in this one, reached without symlinks.
func (t *tree) linkTarget(name string, l layer) (*node, error) {
	parts, err := splitName(name)
	if err != nil {
		return nil, fmt.Errorf("hard link to %s: %w", show(name), err)
	}
	if len(parts) == 0 {
		return nil, errors.New("hard link to the image root")
	}
	d, err := t.walk(parts[:len(parts)-1], l, look)
	if err != nil {
		return nil, fmt.Errorf("hard link to %s: %w", show(name), err)
	}
	var n *node
	if d != nil {
		n = d.kids[parts[len(parts)-1]]
	}
	switch {
	case n == nil:
		return nil, fmt.Errorf("hard link to %s, which is not in the image (a link must follow its target)", show(name))
	case n.kind == plan.Dir:
		return nil, fmt.Errorf("hard link to the directory %s", show(name))
	}
	return n, nil
}

// put sets d's child name to n, replacing what was there (a directory
// with everything below it, as an overlay mount shows it). size is about
// the length of n's path.
func (t *tree) put(d *node, name string, n *node, size int) error {
	if _, ok := d.kids[name]; ok {
		t.remove(d, name)
	}
	if err := t.grow(size); err != nil {
		n.release()
		return err
	}
	d.kids[name] = n
	return nil
}

// grow counts one more entry, whose path has size bytes, against the
// limits. Paths count as they are made: a deep name makes all its parents.
func (t *tree) grow(size int) error {
	if t.count >= t.limits.maxEntries {
		return fmt.Errorf("%w: more than %d entries", errTooBig, t.limits.maxEntries)
	}
	if t.names += int64(size); t.names > t.limits.maxNames {
		return fmt.Errorf("%w: more than %d MiB of path names", errTooBig, t.limits.maxNames>>20)
	}
	t.count++
	return nil
}

// remove drops d's child name and everything below it.
func (t *tree) remove(d *node, name string) {
	var drop func(n *node)
	drop = func(n *node) {
		t.count--
		n.release()
		for _, k := range n.kids {
			drop(k)
		}
	}
	drop(d.kids[name])
	delete(d.kids, name)
}

// prune removes, below d, everything lower layers left: what layer wrote
// or went through stays.
func (t *tree) prune(d *node, layer int) {
	for name, k := range d.kids {
		if k.seen != layer {
			t.remove(d, name)
		} else if k.kind == plan.Dir {
			t.prune(k, layer)
		}
	}
}

func (n *node) release() {
	if n.spill != nil {
		n.spill.drop()
		n.spill = nil
	}
}

// entries lists the tree as plan entries, parents before children.
func (t *tree) entries() []plan.Entry {
	var out []plan.Entry
	var list func(dir string, d *node)
	list = func(dir string, d *node) {
		names := make([]string, 0, len(d.kids))
		for name := range d.kids {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			n := d.kids[name]
			e := plan.Entry{Path: dir + "/" + name, Kind: n.kind, Mode: n.mode, UID: n.uid, GID: n.gid}
			switch n.kind {
			case plan.File:
				e.Data, e.Size = n.data, n.size
				if n.spill != nil {
					e.Source = n.spill.path
				}
			case plan.Symlink:
				e.Target = n.target
			}
			out = append(out, e)
			if n.kind == plan.Dir {
				list(e.Path, n)
			}
		}
	}
	list("", t.root)
	return out
}

// splitName splits a tar entry name into its components. A leading "/"
// and "." components are dropped (the name is relative to the image root
// either way); ".." is refused wherever it stands, so that no name can
// climb out of the root, lexically or through a symlink. Names no file
// system takes (PATH_MAX, NAME_MAX) are refused too.
func splitName(name string) ([]string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return nil, errors.New("NUL byte in the name")
	}
	if len(name) >= pathMax {
		return nil, fmt.Errorf("name longer than %d bytes", pathMax-1)
	}
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch {
		case p == "" || p == ".":
		case p == "..":
			return nil, errors.New(`".." in the name: refused`)
		case len(p) > nameMax:
			return nil, fmt.Errorf("a component longer than %d bytes", nameMax)
		default:
			parts = append(parts, p)
		}
	}
	return parts, nil
}

// Linux's PATH_MAX (with its NUL) and NAME_MAX.
const (
	pathMax = 4096
	nameMax = 255
)

// tarMode converts a tar header's c_mode bits to Go's.
func tarMode(m int64) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

func hasXattrs(pax map[string]string) bool {
	for k := range pax {
		if strings.HasPrefix(k, "SCHILY.xattr.") || strings.HasPrefix(k, "LIBARCHIVE.xattr.") {
			return true
		}
	}
	return false
}

func typeName(flag byte) string {
	switch flag {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	}
	return "named pipe"
}

// show is s as it is when it prints on one line, else quoted, so that
// every message stays one line.
func show(s string) string {
	for _, c := range s {
		if c < ' ' || c == 0x7f || c == '\uFFFD' {
			return strconv.Quote(s)
		}
	}
	return s
}
