package inroot

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fixture is a root with symlinks that try to leave it.
func fixture(t *testing.T) (root, outside string) {
	t.Helper()
	return fixtureIn(t.TempDir())
}

func fixtureIn(base string) (root, outside string) {
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.MkdirAll(outside, 0o755)
	os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("inside"), 0o644)
	os.WriteFile(filepath.Join(outside, "hostname"), []byte("OUTSIDE"), 0o644)
	os.Symlink("../../outside/hostname", filepath.Join(root, "etc/relative"))
	os.Symlink(outside+"/hostname", filepath.Join(root, "etc/absolute"))
	os.Symlink("/etc", filepath.Join(root, "etclink"))
	os.Symlink(outside, filepath.Join(root, "dirlink"))
	return root, outside
}

// realPath is where an open file really is, per the kernel.
func realPath(t *testing.T, f *os.File) string {
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadFileStaysInside(t *testing.T) {
	root, _ := fixture(t)
	for _, p := range []string{"/etc/hostname", "etc/hostname", "/../../etc/hostname", "/etclink/hostname"} {
		data, err := ReadFile(root, p, 100)
		if err != nil || string(data) != "inside" {
			t.Errorf("ReadFile(%q) = %q, %v; want the root's own file", p, data, err)
		}
	}
	for _, p := range []string{"/etc/relative", "/etc/absolute", "/dirlink/hostname"} {
		if data, err := ReadFile(root, p, 100); err == nil || strings.Contains(string(data), "OUTSIDE") {
			t.Errorf("ReadFile(%q) = %q, %v: followed a symlink out of the root", p, data, err)
		}
	}
	os.Mkdir(filepath.Join(root, "adir"), 0o755)
	if _, err := ReadFile(root, "/adir", 100); err == nil {
		t.Error("ReadFile of a directory succeeded")
	}
}

func TestExists(t *testing.T) {
	root, _ := fixture(t)
	os.Symlink("/nowhere", filepath.Join(root, "etc/dangling"))
	for p, want := range map[string]bool{"/etc/hostname": true, "/etc/dangling": true, "/etc/absolute": true, "/etc/missing": false, "/nodir/x": false} {
		if got := Exists(root, p); got != want {
			t.Errorf("Exists(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestMkdirAllStaysInside(t *testing.T) {
	root, outside := fixture(t)
	for _, p := range []string{"/a/b/c", "/dirlink/evil", "/../../escape", "/etclink/sub"} {
		// dirlink dangles inside the root: what it names is made there.
		dir, err := MkdirAll(root, p, 0o755)
		if err != nil {
			t.Fatalf("MkdirAll(%q): %v", p, err)
		}
		if got := realPath(t, dir); !strings.HasPrefix(got, root+"/") {
			t.Errorf("MkdirAll(%q) made %s, outside the root", p, got)
		}
		dir.Close()
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("something was created outside the root: %v", entries)
	}
	if _, err := MkdirAll(root, "/etc/hostname/x", 0o755); err == nil {
		t.Error("MkdirAll through a regular file succeeded")
	}
}

func TestCreateFile(t *testing.T) {
	root, outside := fixture(t)
	f, err := CreateFile(root, "/etc/new/file", unix.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	f.Close()
	if data, _ := os.ReadFile(filepath.Join(root, "etc/new/file")); string(data) != "x" {
		t.Errorf("created file holds %q", data)
	}
	if _, err := CreateFile(root, "/etc/absolute", unix.O_WRONLY, 0o644); err == nil {
		t.Error("CreateFile wrote through a symlink")
	}
	if data, _ := os.ReadFile(filepath.Join(outside, "hostname")); string(data) != "OUTSIDE" {
		t.Error("a file outside the root changed")
	}
}

func FuzzMkdirAll(f *testing.F) {
	for _, s := range []string{"/a/b", "../x", "/dirlink/y", "etclink/../../z", "a//./b/../c"} {
		f.Add(s)
	}
	root, _ := fixtureIn(f.TempDir())
	f.Fuzz(func(t *testing.T, p string) {
		if strings.ContainsRune(p, 0) || len(p) > 200 {
			return
		}
		dir, err := MkdirAll(root, p, 0o755)
		if err != nil {
			return
		}
		defer dir.Close()
		if got := realPath(t, dir); got != root && !strings.HasPrefix(got, root+"/") {
			t.Fatalf("MkdirAll(%q) resolved to %s, outside %s", p, got, root)
		}
	})
}

func TestMkdirAllFollowsDanglingLinksInside(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	os.Symlink(outside+"/victim", root+"/data") // absolute: read inside root
	os.Symlink("../../etc/x", root+"/rel")      // relative, climbing past "/"
	os.Symlink("/loop", root+"/loop")           // a loop
	for _, c := range []struct{ p, created string }{
		{"/data/sub", outside + "/victim/sub"},
		{"/rel", "/etc/x"},
	} {
		f, err := MkdirAll(root, c.p, 0o755)
		if err != nil {
			t.Fatalf("MkdirAll(%s): %v", c.p, err)
		}
		f.Close()
		if st, err := os.Stat(root + c.created); err != nil || !st.IsDir() {
			t.Errorf("MkdirAll(%s) did not create %s inside the root: %v", c.p, c.created, err)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("MkdirAll wrote outside the root: %v", entries)
	}
	if _, err := MkdirAll(root, "/loop/x", 0o755); err == nil {
		t.Error("MkdirAll through a symlink loop succeeded")
	}
}
