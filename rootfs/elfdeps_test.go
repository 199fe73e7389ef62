package rootfs

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
)

func TestResolveInRoot(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "/usr/lib/libx.so.1.2", "x", 0o644)
	symlink(t, root, "/lib", "usr/lib")
	symlink(t, root, "/usr/lib/libx.so.1", "libx.so.1.2")
	symlink(t, root, "/abs", "/lib/libx.so.1")
	symlink(t, root, "/climb", "../../../../usr/lib/libx.so.1.2")
	symlink(t, root, "/loop1", "loop2")
	symlink(t, root, "/loop2", "/loop1")
	symlink(t, root, "/hostetc", "/etc/passwd") // exists on the host, not in root
	for _, tc := range []struct {
		in, want string
		follow   bool
		err      error
	}{
		{"/lib/libx.so.1", "/usr/lib/libx.so.1.2", true, nil},
		{"/lib/libx.so.1", "/usr/lib/libx.so.1", false, nil},
		{"/abs", "/usr/lib/libx.so.1.2", true, nil},
		{"/climb", "/usr/lib/libx.so.1.2", true, nil},
		{"/../../lib/./libx.so.1", "/usr/lib/libx.so.1.2", true, nil},
		{"lib/libx.so.1", "/usr/lib/libx.so.1.2", true, nil},
		{"/loop1", "", true, syscall.ELOOP},
		{"/hostetc", "", true, syscall.ENOENT},
		{"/usr/lib/libx.so.1.2/x", "", true, syscall.ENOTDIR},
		{"/nope/x", "", false, syscall.ENOENT},
	} {
		got, err := resolve(root, tc.in, tc.follow)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("resolve(%q) = %q, %v; want error %v", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("resolve(%q, %v) = %q, %v; want %q", tc.in, tc.follow, got, err, tc.want)
		}
	}
}

func TestELFDepsHost(t *testing.T) {
	d := dynamicTrue(t)
	t.Logf("%+v", d)
	if !sort.StringsAreSorted(d.Files) {
		t.Errorf("Files not sorted: %v", d.Files)
	}
	if !slices.Contains(d.Files, filepath.Clean(d.Interp)) {
		t.Errorf("Files %v lack the interpreter %s", d.Files, d.Interp)
	}
	libc := slices.IndexFunc(d.Files, func(f string) bool { return filepath.Base(f) == "libc.so.6" })
	if libc < 0 {
		t.Errorf("Files %v lack libc.so.6", d.Files)
	}
	// Every symlink in Files must have its target in Files too.
	for _, f := range d.Files {
		fi, err := os.Lstat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			continue
		}
		target, _ := os.Readlink(f)
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(f), target)
		}
		if !slices.Contains(d.Files, target) {
			t.Errorf("symlink %s -> %s: target not in Files %v", f, target, d.Files)
		}
	}
}

func TestELFDepsStaticAndNotELF(t *testing.T) {
	bb := busybox(t)
	d, err := ELFDeps("/", bb)
	if err != nil || d.Interp != "" || len(d.Files) != 0 || len(d.Missing) != 0 {
		t.Errorf("static busybox: %+v, %v", d, err)
	}
	root := t.TempDir()
	writeFile(t, root, "/script", "#!/bin/sh\n", 0o755)
	if _, err := ELFDeps(root, "/script"); err == nil {
		t.Error("ELFDeps on a script: no error")
	}
	if _, err := ELFDeps(root, "/missing"); err == nil {
		t.Error("ELFDeps on a missing file: no error")
	}
	if !IsELF("/", bb) || IsELF(root, "/script") {
		t.Error("IsELF wrong")
	}
}

// gccFixture builds libfoo.so and programs linking it with gcc, or skips.
type gccFixture struct{ dir string }

func newGCC(t *testing.T) gccFixture {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	dir := t.TempDir()
	writeFile(t, dir, "foo.c", "int foo(void) { return 42; }\n", 0o644)
	writeFile(t, dir, "main.c", "int foo(void);\nint main(void) { return foo() != 42; }\n", 0o644)
	g := gccFixture{dir}
	g.gcc(t, "-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-o", "libfoo.so.1", "foo.c")
	return g
}

func (g gccFixture) gcc(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("gcc", args...)
	cmd.Dir = g.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("gcc %v: %v\n%s", args, err, out)
	}
}

// program links main.c against libfoo with extra linker flags into name.
func (g gccFixture) program(t *testing.T, name string, ldflags ...string) string {
	t.Helper()
	args := append([]string{"-o", name, "main.c", "-L.", "-l:libfoo.so.1"}, ldflags...)
	g.gcc(t, args...)
	return filepath.Join(g.dir, name)
}

func (g gccFixture) lib() string { return filepath.Join(g.dir, "libfoo.so.1") }

// withHostLibs adds the host's C library (the deps of /bin/true) to root.
func withHostLibs(t *testing.T, root string) {
	t.Helper()
	copyFiles(t, root, dynamicTrue(t).Files)
}

func TestELFDepsOriginRunpath(t *testing.T) {
	g := newGCC(t)
	prog := g.program(t, "main", "-Wl,--enable-new-dtags", "-Wl,-rpath,$ORIGIN/../lib")
	root := t.TempDir()
	withHostLibs(t, root)
	copyHost(t, prog, root, "/app/bin/main", 0o755)
	copyHost(t, g.lib(), root, "/app/lib/libfoo.so.1", 0o755)
	// $ORIGIN is the real directory of the executable, not that of a link to it.
	symlink(t, root, "/usr/local/bin/main", "/app/bin/main")

	for _, p := range []string{"/app/bin/main", "/usr/local/bin/main"} {
		d, err := ELFDeps(root, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Missing) > 0 || !slices.Contains(d.Files, "/app/lib/libfoo.so.1") {
			t.Errorf("%s: %+v", p, d)
		}
	}
	if fs := check(t, root, CheckOptions{Entry: []string{"main"}}); has(fs, Error, "/usr/local/bin/main") {
		t.Errorf("Check: %v", fs)
	}
}

func TestELFDepsRpathAndLdSoConf(t *testing.T) {
	g := newGCC(t)
	rpath := g.program(t, "main-rpath", "-Wl,--disable-new-dtags", "-Wl,-rpath,/opt/foo/$LIB")
	plain := g.program(t, "main-plain")
	root := t.TempDir()
	withHostLibs(t, root)
	copyHost(t, rpath, root, "/bin/main-rpath", 0o755)
	copyHost(t, plain, root, "/bin/main-plain", 0o755)
	copyHost(t, g.lib(), root, "/opt/foo/lib64/libfoo.so.1.0", 0o755)
	symlink(t, root, "/opt/foo/lib64/libfoo.so.1", "libfoo.so.1.0")

	d, err := ELFDeps(root, "/bin/main-rpath")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/opt/foo/lib64/libfoo.so.1", "/opt/foo/lib64/libfoo.so.1.0"}
	for _, w := range want {
		if !slices.Contains(d.Files, w) {
			t.Errorf("DT_RPATH with $LIB: %s not in %+v", w, d)
		}
	}

	d, err = ELFDeps(root, "/bin/main-plain")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Missing, []string{"libfoo.so.1"}) {
		t.Errorf("without search path: want libfoo.so.1 missing, got %+v", d)
	}

	// ld.so.conf with an include glob relative to root, not the host.
	writeFile(t, root, "/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n", 0o644)
	writeFile(t, root, "/etc/ld.so.conf.d/foo.conf", "# foo\n/opt/foo/lib64\n", 0o644)
	d, err = ELFDeps(root, "/bin/main-plain")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Missing) > 0 || !slices.Contains(d.Files, "/opt/foo/lib64/libfoo.so.1") {
		t.Errorf("ld.so.conf include: %+v", d)
	}
}

func TestELFDepsSkipsMismatch(t *testing.T) {
	g := newGCC(t)
	plain := g.program(t, "main-plain")
	root := t.TempDir()
	withHostLibs(t, root)
	copyHost(t, plain, root, "/bin/main", 0o755)
	// Earlier in the search order: a non-ELF and an ELF for another machine.
	writeFile(t, root, "/lib/x86_64-linux-gnu/libfoo.so.1", "/* GNU ld script */\n", 0o644)
	b, err := os.ReadFile(g.lib())
	if err != nil {
		t.Fatal(err)
	}
	b[18], b[19] = 183, 0 // e_machine = EM_AARCH64 (little endian)
	writeFile(t, root, "/lib/libfoo.so.1", string(b), 0o755)
	copyHost(t, g.lib(), root, "/usr/lib/libfoo.so.1", 0o755)

	d, err := ELFDeps(root, "/bin/main")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Missing) > 0 || !slices.Contains(d.Files, "/usr/lib/libfoo.so.1") {
		t.Errorf("want /usr/lib/libfoo.so.1, got %+v", d)
	}
	for _, f := range d.Files {
		if strings.HasPrefix(f, "/lib/") && strings.Contains(f, "libfoo") {
			t.Errorf("mismatched candidate %s used", f)
		}
	}
}
