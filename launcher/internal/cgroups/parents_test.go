package cgroups

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// named lists the directories of the fixture called name (relative to
// its root), at any depth.
func (f *fakeFS) named(name string) []string {
	var found []string
	for _, d := range f.tree() {
		if filepath.Base(d) == name {
			rel, _ := filepath.Rel(f.root, d)
			found = append(found, rel)
		}
	}
	return found
}

// listed returns the record's directories, relative to the fixture root.
func (f *fakeFS) listed() []string {
	f.t.Helper()
	list, err := f.parents.read()
	if err != nil {
		f.t.Fatal(err)
	}
	var rel []string
	for _, e := range list {
		r, _ := filepath.Rel(f.root, e.Path)
		rel = append(rel, r)
	}
	return rel
}

// assertGone fails the test if a directory called name is left, or if
// the record still lists anything.
func (f *fakeFS) assertGone(name string) {
	f.t.Helper()
	if left := f.named(name); len(left) > 0 {
		f.t.Errorf("left behind: %v", left)
	}
	if got := f.listed(); len(got) != 0 {
		f.t.Errorf("still listed: %v", got)
	}
}

// A relative --cgroup-parent of two levels, made by Create in every
// hierarchy (v1: under the caller's own cgroup there, which differs
// between hierarchies), goes with the container; the caller's own
// cgroups, which existed, stay.
func TestParentsMadeAreRemoved(t *testing.T) {
	for _, fixture := range []string{"v1", "v2", "hybrid"} {
		t.Run(fixture, func(t *testing.T) {
			l, f := newFixture(t, fixture, fixtureOpts{})
			before := f.tree()
			c, err := Create(l, f.parents, "stdc-made/inner", ctr, nil)
			if err != nil {
				t.Fatal(err)
			}
			n := len(l.mounts())
			if got := f.listed(); len(got) != 2*n {
				t.Errorf("listed %v, want stdc-made and stdc-made/inner in each of %d hierarchies", got, n)
			}
			if err := c.Destroy(); err != nil {
				t.Fatal(err)
			}
			f.assertGone("stdc-made")
			if after := f.tree(); len(after) != len(before) {
				t.Errorf("%d directories before, %d after", len(before), len(after))
			}
		})
	}
}

// A parent that existed (made by hand, with a limit of its own) is used
// and never removed; where Create had to make it (the other
// hierarchies), it goes.
func TestParentsExistingAreKept(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	premade := []string{filepath.Join(l.V1["pids"], "premade"), filepath.Join(l.V1["memory"], "premade")}
	for _, d := range premade {
		f.must(f.mkdir(d))
	}
	f.must(f.write(filepath.Join(premade[0], "pids.max"), "100"))
	c, err := Create(l, f.parents, "/premade/sub", ctr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	if left := f.named("premade"); len(left) != 2 || left[0] != "memory/premade" || left[1] != "pids/premade" {
		t.Errorf("premade dirs after: %v, want memory/premade and pids/premade only", left)
	}
	if f.file("pids/premade/pids.max") != "100" {
		t.Errorf("pids/premade lost its limit")
	}
	f.assertGone("sub")
}

// Two containers share a parent: it stays while either is in it, and
// the last one out removes it. The second Create found it made by the
// first, so it is "ours" though the second made nothing.
func TestParentsSharedLastOut(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	a, err := Create(l, f.parents, "/shared", ctr+"a", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Create(l, f.parents, "/shared", ctr+"b", nil)
	if err != nil {
		t.Fatal(err)
	}
	n := len(l.mounts())
	if err := a.Destroy(); err != nil {
		t.Fatal(err)
	}
	if got := f.named("shared"); len(got) != n {
		t.Errorf("with b still in it, /shared is in %d hierarchies, want %d", len(got), n)
	}
	if err := b.Destroy(); err != nil {
		t.Fatal(err)
	}
	f.assertGone("shared")
}

// A failing Create (the limit cannot be written) removes the parents it
// made, and a listed parent an earlier container left empty (its
// launcher died), but not a parent that existed.
func TestParentsCreateFailure(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	lost, err := Create(l, f.parents, "/stdc-lost", ctr, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.must(destroyPaths(f, lost.Paths())) // a crash: the parents stay, listed
	f.must(f.mkdir(filepath.Join(l.V1["cpu"], "stdc-lost", "mine")))
	f.failWrite = map[string]error{"pids.max": os.ErrPermission}
	_, err = Create(l, f.parents, "/stdc-lost/x", ctr, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(8)}})
	if err == nil || strings.Contains(err.Error(), "cleaning up") {
		t.Fatalf("err = %v, want the limit's error alone", err)
	}
	if got := f.named("stdc-lost"); len(got) != 1 || got[0] != "cpu/stdc-lost" {
		t.Errorf("stdc-lost after: %v, want only cpu/stdc-lost (it holds a cgroup made by hand)", got)
	}
	if got := f.named("x"); len(got) != 0 {
		t.Errorf("left behind: %v", got)
	}
	if got := f.listed(); len(got) != 1 || got[0] != "cpu/stdc-lost" {
		t.Errorf("listed %v, want cpu/stdc-lost only", got)
	}
}

// Another launcher's last container removes the shared parent after
// Create found it but before it made the container's cgroup in it:
// Create makes the parent again (listing it) instead of failing.
func TestParentsRemovedWhileCreating(t *testing.T) {
	for _, fixture := range []string{"v2", "hybrid"} {
		t.Run(fixture, func(t *testing.T) {
			l, f := newFixture(t, fixture, fixtureOpts{})
			a, err := Create(l, f.parents, "/shared", ctr+"a", nil)
			if err != nil {
				t.Fatal(err)
			}
			f.must(destroyPaths(f, a.Paths()))
			removed := false
			f.beforeMkdir = func(dir string) {
				if !removed && filepath.Base(dir) == ctr+"b" {
					removed = true
					f.must(f.parents.prune(f, a.Paths())) // a's launcher, finishing
				}
			}
			b, err := Create(l, f.parents, "/shared", ctr+"b", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(8)}})
			if err != nil {
				t.Fatal(err)
			}
			if !removed {
				t.Fatal("the parent was never removed under Create")
			}
			for _, p := range b.Paths() {
				if !exists(p) {
					t.Errorf("%s missing", p)
				}
			}
			if got, n := f.listed(), len(l.mounts()); len(got) != n {
				t.Errorf("listed %v, want /shared in each of %d hierarchies", got, n)
			}
			f.beforeMkdir = nil
			if err := b.Destroy(); err != nil {
				t.Fatal(err)
			}
			f.assertGone("shared")
		})
	}
}

// Containers come and go concurrently under one parent: none fails, and
// the parent is gone once the last is.
func TestParentsConcurrent(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				c, err := Create(l, f.parents, "/busy/inner", fmt.Sprintf("%s-%d-%d", ctr, g, i), nil)
				if err != nil {
					errs <- err
					return
				}
				if err := c.Destroy(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	f.assertGone("busy")
}

// gc's sweep: listed parents that are empty go; one still holding a
// cgroup, one that existed, and one replaced since by a directory of the
// same name (which is dropped from the list) stay.
func TestParentsSweep(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{})
	f.must(f.mkdir(filepath.Join(l.V2, "kept")))
	var paths [][]string
	for _, p := range []string{"/kept/lost", "/used", "/replaced"} {
		c, err := Create(l, f.parents, p, ctr, nil)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, c.Paths())
	}
	f.must(destroyPaths(f, paths[0])) // crashed: kept/lost is empty
	f.must(destroyPaths(f, paths[2]))
	// Removed and made again by someone else: another inode.
	list, err := f.parents.read()
	f.must(err)
	for i := range list {
		if filepath.Base(list[i].Path) == "replaced" {
			list[i].Ino++
		}
	}
	data, _ := json.Marshal(list)
	f.must(os.WriteFile(f.parents.file(), data, 0o600))
	removed, err := f.parents.sweep(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != filepath.Join(l.V2, "kept/lost") {
		t.Errorf("removed %v, want kept/lost", removed)
	}
	for _, d := range []string{"kept", "used", "replaced"} {
		if !exists(filepath.Join(l.V2, d)) {
			t.Errorf("%s removed", d)
		}
	}
	if got := f.listed(); len(got) != 1 || got[0] != "used" {
		t.Errorf("listed %v, want used", got)
	}
}

// A record that cannot be read says which file and what to do.
func TestParentsCorrupt(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{})
	f.must(os.MkdirAll(f.parents.dir, 0o700))
	f.must(os.WriteFile(f.parents.file(), []byte("{"), 0o600))
	_, err := Create(l, f.parents, "/stdc", ctr, nil)
	if err == nil || !strings.Contains(err.Error(), f.parents.file()) || !strings.Contains(err.Error(), "remove the file") {
		t.Errorf("err = %v", err)
	}
	if got := f.named("stdc"); len(got) != 0 {
		t.Errorf("left behind: %v", got)
	}
}
