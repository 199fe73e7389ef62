package plan

import (
	"strings"
	"testing"
)

func TestImagePath(t *testing.T) {
	for in, want := range map[string]string{"etc/x": "/etc/x", "/a/./b/": "/a/b", "/a/../b": "/b", "a/b/..": "/a"} {
		if got, err := ImagePath(in); err != nil || got != want {
			t.Errorf("ImagePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "..", "../x", "/a/../../b", "a/../..", "x\x00y"} {
		if got, err := ImagePath(in); err == nil {
			t.Errorf("ImagePath(%q) = %q, want refusal", in, got)
		}
	}
}

func TestPlanOrderAndParents(t *testing.T) {
	p := New()
	for _, e := range []Entry{
		{Path: "/usr/bin/tool", Kind: File, Data: []byte("x")},
		{Path: "/etc/os-release", Kind: File},
		{Path: "/usr/lib/link", Kind: Symlink, Target: "../bin/tool"},
		{Path: "/etc/os-release", Kind: File, Data: []byte("last wins")},
	} {
		if err := p.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	var paths []string
	for _, e := range p.Entries() {
		paths = append(paths, e.Path)
		if e.Path == "/etc/os-release" && (string(e.Data) != "last wins" || e.Size != 9) {
			t.Errorf("os-release entry %+v: last addition must win", e)
		}
	}
	want := "/etc /etc/os-release /usr /usr/bin /usr/bin/tool /usr/lib /usr/lib/link"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("entries %s, want %s", got, want)
	}
}

func TestPlanConflicts(t *testing.T) {
	p := New()
	p.Add(Entry{Path: "/a/file", Kind: File})
	for _, e := range []Entry{
		{Path: "/a/file", Kind: Dir},        // file planned, now a directory
		{Path: "/a/file/child", Kind: File}, // parent is a file
		{Path: "/a", Kind: File},            // directory planned, now a file
		{Path: "/", Kind: Dir},              // the root itself
		{Path: "../escape", Kind: File},     // outside the image
	} {
		if err := p.Add(e); err == nil {
			t.Errorf("Add(%+v) accepted", e)
		}
	}
}

func FuzzImagePath(f *testing.F) {
	for _, s := range []string{"etc/x", "/a/../b", "../x", "a//b/./c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ImagePath(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "/") || strings.Contains(got, "/../") || strings.HasSuffix(got, "/..") {
			t.Fatalf("ImagePath(%q) = %q: not a clean in-image path", s, got)
		}
	})
}

func TestLookup(t *testing.T) {
	p := New()
	for _, e := range []Entry{
		{Path: "/usr/bin/busybox", Kind: File},
		{Path: "/usr/bin/sh", Kind: Symlink, Target: "busybox"},
		{Path: "/bin", Kind: Symlink, Target: "usr/bin"},
		{Path: "/lib64", Kind: Symlink, Target: "/usr/../usr/lib"},
		{Path: "/usr/lib/ld.so", Kind: File},
		{Path: "/loop", Kind: Symlink, Target: "loop"},
		{Path: "/dangling", Kind: Symlink, Target: "/nowhere"},
	} {
		if err := p.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{"/bin/sh": "/usr/bin/busybox", "bin/../bin/sh": "/usr/bin/busybox",
		"/lib64/ld.so": "/usr/lib/ld.so", "/usr/bin": "/usr/bin"} {
		if e, ok := p.Lookup(name); !ok || e.Path != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", name, e.Path, ok, want)
		}
	}
	for _, name := range []string{"/bin/bash", "/loop", "/dangling", "/", "/usr/bin/busybox/x", "bin/../usr/bin/sh"} {
		if e, ok := p.Lookup(name); ok {
			t.Errorf("Lookup(%q) = %q, want nothing", name, e.Path)
		}
	}
}

// TestAddThroughDirectorySymlink: entries under a planned symlink to a
// directory land in its target, and a directory added over such a symlink
// keeps it (tar --keep-directory-symlink), so that a merged-/usr image
// (/lib -> usr/lib) takes a tree with a real /lib directory.
func TestAddThroughDirectorySymlink(t *testing.T) {
	p := New()
	for _, e := range []Entry{
		{Path: "/usr/lib/libc.so", Kind: File},
		{Path: "/lib", Kind: Symlink, Target: "usr/lib"},
		{Path: "/lib", Kind: Dir, Mode: 0o700},
		{Path: "/lib/firmware/fw", Kind: File},
		{Path: "/lib64", Kind: Symlink, Target: "/usr/lib64"},
		{Path: "/lib64", Kind: Dir, Mode: 0o755},
	} {
		if err := p.Add(e); err != nil {
			t.Fatalf("Add(%+v): %v", e, err)
		}
	}
	var paths []string
	for _, e := range p.Entries() {
		paths = append(paths, e.Path+":"+e.Kind.String())
	}
	want := "/lib:symlink /lib64:symlink /usr:directory /usr/lib:directory /usr/lib/firmware:directory /usr/lib/firmware/fw:file /usr/lib/libc.so:file /usr/lib64:directory"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("entries\n got %s\nwant %s", got, want)
	}
}
