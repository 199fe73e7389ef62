package cgroups

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
)

// Parents is the record of the parent cgroups the launcher made: the
// directories between a hierarchy's existing cgroups and a container's
// own (--cgroup-parent, OCI linux.cgroupsPath, --systemd-cgroup slices)
// that Create had to mkdir. It is kept in the state directory, so every
// launcher process using that directory shares it:
//
//	<root>/cgroups/parents.json  [{"Path": dir, "Ino": inode}], replaced atomically
//	<root>/cgroups/.lock         flock(2), held while the list changes
//
// A listed directory goes once no container uses it: Destroy and
// DestroyPaths try to remove the listed ancestors of the container's
// cgroups, deepest first (a busy one stays: another container is below
// it, and the last one out removes it), and gc sweeps the listed ones
// that are empty. A directory that existed before is never listed, so
// never removed. The inode number (a cgroup's id, which a 64-bit kernel
// does not hand out again before it reboots) tells a listed directory
// from one of the same name someone made since.
//
// The lock is held from before Create makes a parent until the
// container's own cgroup exists below it, and while a listed parent is
// removed and dropped, so no parent goes between being made and being
// used. A parent that existed when Create looked can still go before the
// container's cgroup is made in it (another container's last launcher
// removed it): Create then starts that hierarchy again (mkdirTries).
//
// A nil *Parents records nothing: the parents Create makes stay.
type Parents struct {
	dir string
}

// NewParents returns the record kept in the state directory stateDir
// (the launcher's --root).
func NewParents(stateDir string) *Parents {
	return &Parents{dir: filepath.Join(stateDir, "cgroups")}
}

// madeParent is one listed directory.
type madeParent struct {
	Path string // absolute, as the launcher's mount namespace sees it
	Ino  uint64 // its inode number when made
}

func (p *Parents) file() string { return filepath.Join(p.dir, "parents.json") }

// read returns the list as last written (none when there is no file).
func (p *Parents) read() ([]madeParent, error) {
	b, err := os.ReadFile(p.file())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cgroups: the record of parent cgroups made: %w", err)
	}
	var list []madeParent
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("cgroups: %s: %v (remove the file; the empty parent cgroups it listed are then left for you to rmdir)", p.file(), err)
	}
	return list, nil
}

// parentsTx is the record while one process changes it: locked on first
// need (lock), written and released by commit. A zero parentsTx, or one
// of a nil *Parents, does nothing.
type parentsTx struct {
	p       *Parents
	unlock  func() // nil: not locked
	list    []madeParent
	changed bool
}

// lock takes the record's lock, if not held yet, and reads the list.
func (tx *parentsTx) lock() error {
	if tx.p == nil || tx.unlock != nil {
		return nil
	}
	if err := os.MkdirAll(tx.p.dir, 0o700); err != nil {
		return fmt.Errorf("cgroups: %w", err)
	}
	unlock, err := state.Lock(filepath.Join(tx.p.dir, ".lock"))
	if err != nil {
		return fmt.Errorf("cgroups: %w", err)
	}
	list, err := tx.p.read()
	if err != nil {
		unlock()
		return err
	}
	tx.unlock, tx.list = unlock, list
	return nil
}

// add lists dir, just made (the lock is held).
func (tx *parentsTx) add(dir string) error {
	if tx.p == nil {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("cgroups: %s: %w", dir, err)
	}
	// An entry of the same path is stale: that directory is gone.
	tx.list = slices.DeleteFunc(tx.list, func(e madeParent) bool { return e.Path == dir })
	tx.list = append(tx.list, madeParent{Path: dir, Ino: st.Ino})
	tx.changed = true
	return nil
}

// commit writes the list if it changed and releases the lock; a no-op
// when not locked, so it may run more than once.
func (tx *parentsTx) commit() error {
	if tx.unlock == nil {
		return nil
	}
	defer func() { tx.unlock, tx.list, tx.changed = nil, nil, false }()
	defer tx.unlock()
	if !tx.changed {
		return nil
	}
	data, err := json.Marshal(tx.list)
	if err == nil {
		err = state.WriteFile(tx.p.file(), data)
	}
	if err != nil {
		return fmt.Errorf("cgroups: recording the parent cgroups made: %w", err)
	}
	return nil
}

// prune removes the listed ancestors of the cgroup directories paths (a
// container's, just removed) that no container uses any more, deepest
// first, and drops them from the list.
func (p *Parents) prune(fsy fsys, paths []string) error {
	if p == nil || len(paths) == 0 {
		return nil
	}
	below := func(dir string) bool {
		for _, c := range paths {
			if strings.HasPrefix(filepath.Clean(c), dir+"/") {
				return true
			}
		}
		return false
	}
	// Unlocked first, which is all the usual container (no parent made)
	// costs: a parent of paths was listed before they were made in it, and
	// stays listed while it exists.
	list, err := p.read()
	if err != nil || !slices.ContainsFunc(list, func(e madeParent) bool { return below(e.Path) }) {
		return err
	}
	_, err = p.removeEmpty(fsy, below)
	return err
}

// Sweep removes every listed parent cgroup that is empty (for gc: a
// launcher died before removing its container's) and returns the
// directories removed.
func (p *Parents) Sweep() ([]string, error) {
	return p.sweep(realFS{})
}

func (p *Parents) sweep(fsy fsys) ([]string, error) {
	if p == nil {
		return nil, nil
	}
	return p.removeEmpty(fsy, func(string) bool { return true })
}

// removeEmpty removes, under the lock, the listed directories that want
// picks and that are empty, deepest first, and drops from the list every
// one that is gone (removed now or before) or no longer the directory
// the launcher made.
func (p *Parents) removeEmpty(fsy fsys, want func(dir string) bool) (removed []string, err error) {
	tx := &parentsTx{p: p}
	if err := tx.lock(); err != nil {
		return nil, err
	}
	sort.SliceStable(tx.list, func(i, j int) bool {
		return strings.Count(tx.list[i].Path, "/") > strings.Count(tx.list[j].Path, "/")
	})
	var errs []error
	kept := tx.list[:0]
	for _, e := range tx.list {
		if !want(e.Path) {
			kept = append(kept, e)
			continue
		}
		drop, gone, err := removeParent(fsy, e)
		if gone {
			removed = append(removed, e.Path)
		}
		if drop {
			tx.changed = true
		} else {
			kept = append(kept, e)
		}
		errs = append(errs, err)
	}
	tx.list = kept
	errs = append(errs, tx.commit())
	return removed, joinErrors(errs)
}

// removeParent rmdirs listed directory e if it is still the one the
// launcher made and no cgroup or process is in it. drop: it is no
// longer the launcher's to list (removed now or by someone else, or
// replaced); gone: removed now.
func removeParent(fsy fsys, e madeParent) (drop, gone bool, err error) {
	var st unix.Stat_t
	switch err := unix.Stat(e.Path, &st); {
	case errors.Is(err, unix.ENOENT):
		return true, false, nil
	case err != nil:
		return false, false, fmt.Errorf("cgroups: %s: %w", e.Path, err)
	case st.Ino != e.Ino:
		return true, false, nil // someone else's now, of the same name
	}
	if fsy.check(e.Path) != nil {
		return true, false, nil // not a cgroup (any more): not ours to remove
	}
	switch err := fsy.rmdir(e.Path); {
	case err == nil:
		return true, true, nil
	case errors.Is(err, unix.ENOENT):
		return true, false, nil
	case errors.Is(err, unix.EBUSY), errors.Is(err, unix.ENOTEMPTY):
		return false, false, nil // in use: its last container removes it
	default:
		return false, false, fmt.Errorf("cgroups: rmdir %s: %w", e.Path, unwrapErrno(err))
	}
}
