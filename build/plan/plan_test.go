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
