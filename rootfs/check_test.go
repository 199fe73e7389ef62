package rootfs

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stdcontainer/stdcontainer/rootfs/layout"
)

// writeFile creates root+p (an in-tree path) with its parent directories.
func writeFile(t *testing.T, root, p, data string, mode os.FileMode) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(full, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, root, p, target string) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, full); err != nil {
		t.Fatal(err)
	}
}

// copyHost copies the host file src to root+dst, keeping its mode.
func copyHost(t *testing.T, src, root, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	full := filepath.Join(root, dst)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(full, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// copyFiles copies host paths into root the way an image builder would:
// symlinks as symlinks, files as files, parent directories as real directories.
func copyFiles(t *testing.T, root string, files []string) {
	t.Helper()
	for _, f := range files {
		fi, err := os.Lstat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(f)
			if err != nil {
				t.Fatal(err)
			}
			symlink(t, root, f, target)
			continue
		}
		copyHost(t, f, root, f, fi.Mode().Perm())
	}
}

func busybox(t *testing.T) string {
	t.Helper()
	const bb = "/bin/busybox"
	static, err := IsStaticELF("/", bb)
	if err != nil || !static {
		t.Skipf("need a static %s (apt-get install busybox-static): %v", bb, err)
	}
	return bb
}

// dynamicTrue returns /bin/true's deps, skipping when it is not dynamic.
func dynamicTrue(t *testing.T) Deps {
	t.Helper()
	d, err := ELFDeps("/", "/bin/true")
	if err != nil {
		t.Skipf("no usable /bin/true: %v", err)
	}
	if d.Interp == "" {
		t.Skip("/bin/true is not dynamic")
	}
	if len(d.Missing) > 0 {
		t.Fatalf("host /bin/true has missing deps %v", d.Missing)
	}
	return d
}

// skeleton returns a tree with mount points and os-release but no entry point.
func skeleton(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, mp := range layout.MountPoints {
		if err := os.MkdirAll(filepath.Join(root, mp), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, root, layout.OSRelease, "# test\nID=test\nNAME=\"Test\"\n", 0o644)
	return root
}

// goodTree is skeleton plus a static busybox as /sbin/init.
func goodTree(t *testing.T) string {
	t.Helper()
	bb := busybox(t)
	root := skeleton(t)
	copyHost(t, bb, root, layout.Init, 0o755)
	return root
}

func check(t *testing.T, root string, opts CheckOptions) []Finding {
	t.Helper()
	fs, err := Check(root, opts)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	for _, f := range fs {
		t.Log(f)
	}
	return fs
}

// has reports whether a finding of severity s on path p contains every substring.
func has(fs []Finding, s Severity, p string, subs ...string) bool {
next:
	for _, f := range fs {
		if f.Severity != s || f.Path != p {
			continue
		}
		for _, sub := range subs {
			if !strings.Contains(f.Msg, sub) {
				continue next
			}
		}
		return true
	}
	return false
}

func count(fs []Finding, s Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity == s {
			n++
		}
	}
	return n
}

func TestCheckGoodTree(t *testing.T) {
	root := goodTree(t)
	fs := check(t, root, CheckOptions{})
	if Failed(fs) || count(fs, Warning) > 0 {
		t.Fatalf("good tree has errors or warnings: %v", fs)
	}
	if !has(fs, Info, layout.ResolvConf, "inject") {
		t.Errorf("want info about absent resolv.conf, got %v", fs)
	}
}

func TestCheckMissingEntry(t *testing.T) {
	fs := check(t, skeleton(t), CheckOptions{})
	if !has(fs, Error, layout.Init, "entry point not found") {
		t.Fatalf("want missing entry error, got %v", fs)
	}
	if !Failed(fs) {
		t.Error("Failed = false")
	}
}

func TestCheckNotExecutable(t *testing.T) {
	root := goodTree(t)
	if err := os.Chmod(filepath.Join(root, layout.Init), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := check(t, root, CheckOptions{})
	if !has(fs, Error, layout.Init, "not executable") {
		t.Fatalf("want not executable error, got %v", fs)
	}
	if got := fs[0].String(); got != "error: /sbin/init: not executable (mode 0644)" {
		t.Errorf("String() = %q", got)
	}
}

func TestCheckNotRegular(t *testing.T) {
	root := skeleton(t)
	if err := os.MkdirAll(filepath.Join(root, layout.Init), 0o755); err != nil {
		t.Fatal(err)
	}
	fs := check(t, root, CheckOptions{})
	if !has(fs, Error, layout.Init, "not a regular file", "directory") {
		t.Fatalf("want not regular error, got %v", fs)
	}
}

func TestCheckNotELFNorScript(t *testing.T) {
	root := skeleton(t)
	writeFile(t, root, layout.Init, "echo hi\n", 0o755)
	fs := check(t, root, CheckOptions{})
	if !has(fs, Error, layout.Init, "exec format error") {
		t.Fatalf("want exec format error, got %v", fs)
	}
}

func TestCheckDynamicMissingInterpreter(t *testing.T) {
	d := dynamicTrue(t)
	root := skeleton(t)
	copyHost(t, "/bin/true", root, layout.Init, 0o755)
	fs := check(t, root, CheckOptions{})
	if !has(fs, Error, layout.Init, "ELF interpreter "+d.Interp, "not found") {
		t.Fatalf("want missing interpreter %s, got %v", d.Interp, fs)
	}
	if d.Interp == "/lib64/ld-linux-x86-64.so.2" && !has(fs, Error, layout.Init, "/lib64/ld-linux-x86-64.so.2") {
		t.Error("message does not name /lib64/ld-linux-x86-64.so.2")
	}
}

func TestCheckDynamicMissingLibc(t *testing.T) {
	d := dynamicTrue(t)
	root := skeleton(t)
	copyHost(t, "/bin/true", root, layout.Init, 0o755)
	var files []string
	for _, f := range d.Files {
		if !strings.HasPrefix(filepath.Base(f), "libc.so") {
			files = append(files, f)
		}
	}
	copyFiles(t, root, files)
	fs := check(t, root, CheckOptions{})
	if !has(fs, Error, layout.Init, "needed library libc.so.6 not found") {
		t.Fatalf("want missing libc.so.6, got %v", fs)
	}
	if has(fs, Error, layout.Init, "ELF interpreter") {
		t.Errorf("interpreter reported missing although copied: %v", fs)
	}
}

func TestCheckDynamicAllDeps(t *testing.T) {
	d := dynamicTrue(t)
	root := skeleton(t)
	copyHost(t, "/bin/true", root, layout.Init, 0o755)
	copyFiles(t, root, d.Files)
	fs := check(t, root, CheckOptions{})
	if Failed(fs) {
		t.Fatalf("tree with ELFDeps(\"/\", \"/bin/true\").Files copied in has errors: %v", fs)
	}
	// The copy must be self-contained: the same resolution inside it finds everything.
	in, err := ELFDeps(root, layout.Init)
	if err != nil || len(in.Missing) > 0 {
		t.Fatalf("ELFDeps in copy: %+v, %v", in, err)
	}
}

func TestCheckEscapingSymlink(t *testing.T) {
	root := goodTree(t)
	symlink(t, root, "/etc/evil", "../../../etc/shadow")
	symlink(t, root, "/etc/fine", "../usr/share/zoneinfo/UTC") // dangling but inside: not reported tree-wide
	symlink(t, root, "/etc/abs", "/proc/self/mounts")          // absolute: resolved in-root at run time
	fs := check(t, root, CheckOptions{})
	if !has(fs, Warning, "/etc/evil", "../../../etc/shadow", "escapes") {
		t.Fatalf("want escaping symlink warning, got %v", fs)
	}
	if count(fs, Warning) != 1 || Failed(fs) {
		t.Errorf("want exactly one warning and no error, got %v", fs)
	}
}

func TestCheckAbsoluteSymlinkEntry(t *testing.T) {
	bb := busybox(t)
	root := skeleton(t)
	copyHost(t, bb, root, "/bin/busybox", 0o755)
	symlink(t, root, layout.Init, "/bin/busybox")
	fs := check(t, root, CheckOptions{})
	if Failed(fs) {
		t.Fatalf("/sbin/init -> /bin/busybox inside the tree: %v", fs)
	}

	// The host has /bin/busybox; the tree must not: the link is dangling inside.
	root = skeleton(t)
	symlink(t, root, layout.Init, bb)
	fs = check(t, root, CheckOptions{})
	if !has(fs, Error, layout.Init, "dangling symlink", bb) {
		t.Fatalf("want dangling entry error (resolved in-root, not on the host), got %v", fs)
	}

	// A chain is shown hop by hop up to the missing target.
	symlink(t, root, "/bin/init", "../sbin/real-init")
	symlink(t, root, "/sbin/real-init", "/opt/missing")
	fs = check(t, root, CheckOptions{Entry: []string{"/bin/init"}})
	if !has(fs, Error, "/bin/init", "-> ../sbin/real-init -> /opt/missing") {
		t.Fatalf("want chain in message, got %v", fs)
	}
}

func TestCheckRelativeSymlinkEntryClimbing(t *testing.T) {
	// "../../../bin/busybox" from /sbin climbs above the root; at run time
	// ".." at "/" stays at "/", so it still names /bin/busybox.
	bb := busybox(t)
	root := skeleton(t)
	copyHost(t, bb, root, "/bin/busybox", 0o755)
	symlink(t, root, layout.Init, "../../../bin/busybox")
	fs := check(t, root, CheckOptions{})
	if Failed(fs) {
		t.Fatalf("entry should resolve in-root: %v", fs)
	}
	if !has(fs, Warning, layout.Init, "escapes") {
		t.Errorf("want escape warning, got %v", fs)
	}
}

func TestCheckSymlinkLoop(t *testing.T) {
	root := skeleton(t)
	symlink(t, root, layout.Init, "/sbin/a")
	symlink(t, root, "/sbin/a", "b")
	symlink(t, root, "/sbin/b", "/sbin/init")
	symlink(t, root, "/loopdir", ".") // the walk must not follow it
	fs := check(t, root, CheckOptions{})
	if !has(fs, Error, layout.Init, "symlink loop") {
		t.Fatalf("want symlink loop error, got %v", fs)
	}
}

func TestCheckMountPoints(t *testing.T) {
	root := goodTree(t)
	if err := os.Remove(filepath.Join(root, "proc")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "tmp")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "/tmp", "", 0o644)
	if err := os.Remove(filepath.Join(root, "run")); err != nil {
		t.Fatal(err)
	}
	symlink(t, root, "/run", "/nonexistent")
	fs := check(t, root, CheckOptions{})
	if !has(fs, Error, "/proc", "missing") {
		t.Errorf("want /proc missing, got %v", fs)
	}
	if !has(fs, Error, "/tmp", "not a directory") {
		t.Errorf("want /tmp not a directory, got %v", fs)
	}
	if !has(fs, Error, "/run", "dangling") {
		t.Errorf("want /run dangling, got %v", fs)
	}
	if has(fs, Error, "/dev") || has(fs, Error, "/sys") {
		t.Errorf("present mount points reported: %v", fs)
	}
}

func TestCheckOSRelease(t *testing.T) {
	root := goodTree(t)
	osr := filepath.Join(root, layout.OSRelease)
	if err := os.Remove(osr); err != nil {
		t.Fatal(err)
	}
	fs := check(t, root, CheckOptions{})
	if !has(fs, Warning, layout.OSRelease, "not found") {
		t.Errorf("want missing os-release warning, got %v", fs)
	}

	writeFile(t, root, osReleaseFallback, "ID=test\n", 0o644)
	fs = check(t, root, CheckOptions{})
	if !has(fs, Info, layout.OSRelease, osReleaseFallback) || count(fs, Warning) > 0 {
		t.Errorf("want fallback info only, got %v", fs)
	}

	// The usual distro layout: a relative link to the fallback.
	symlink(t, root, layout.OSRelease, "../usr/lib/os-release")
	fs = check(t, root, CheckOptions{})
	if count(fs, Warning) > 0 || has(fs, Info, layout.OSRelease) {
		t.Errorf("linked os-release: %v", fs)
	}
	if err := os.Remove(osr); err != nil {
		t.Fatal(err)
	}

	writeFile(t, root, layout.OSRelease, "", 0o644)
	fs = check(t, root, CheckOptions{})
	if !has(fs, Warning, layout.OSRelease, "empty") {
		t.Errorf("want empty warning, got %v", fs)
	}

	writeFile(t, root, layout.OSRelease, "ID=x\n# comment\nbogus line\n", 0o644)
	fs = check(t, root, CheckOptions{})
	if !has(fs, Warning, layout.OSRelease, "line 3") {
		t.Errorf("want bad line warning, got %v", fs)
	}
	if Failed(fs) {
		t.Errorf("os-release problems are not errors: %v", fs)
	}
}

func TestCheckResolvConf(t *testing.T) {
	root := goodTree(t)
	symlink(t, root, layout.ResolvConf, "/run/systemd/resolve/stub-resolv.conf")
	fs := check(t, root, CheckOptions{})
	if !has(fs, Warning, layout.ResolvConf, "dangling") {
		t.Errorf("want dangling resolv.conf warning, got %v", fs)
	}

	if err := os.Remove(filepath.Join(root, layout.ResolvConf)); err != nil {
		t.Fatal(err)
	}
	symlink(t, root, layout.ResolvConf, "../../etc/resolv.conf.host")
	fs = check(t, root, CheckOptions{})
	if n := count(fs, Warning); n != 1 || !has(fs, Warning, layout.ResolvConf, "escapes") {
		t.Errorf("want one escape warning, got %v", fs)
	}

	if err := os.Remove(filepath.Join(root, layout.ResolvConf)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "/run/resolv.conf", "nameserver 10.0.0.1\n", 0o644)
	symlink(t, root, layout.ResolvConf, "../run/resolv.conf")
	fs = check(t, root, CheckOptions{})
	if count(fs, Warning) > 0 || has(fs, Info, layout.ResolvConf) {
		t.Errorf("valid resolv.conf link reported: %v", fs)
	}
}

func TestCheckScriptEntry(t *testing.T) {
	root := skeleton(t)
	writeFile(t, root, layout.Init, "#!/bin/sh -e\nexec sleep infinity\n", 0o755)
	fs := check(t, root, CheckOptions{})
	if !has(fs, Error, layout.Init, "#! interpreter /bin/sh", "not found") {
		t.Fatalf("want missing interpreter error, got %v", fs)
	}

	bb := busybox(t)
	copyHost(t, bb, root, "/bin/busybox", 0o755)
	symlink(t, root, "/bin/sh", "busybox")
	fs = check(t, root, CheckOptions{})
	if Failed(fs) {
		t.Fatalf("script with present interpreter: %v", fs)
	}

	// The interpreter is checked too: a non-executable one is an error on its path.
	if err := os.Chmod(filepath.Join(root, "/bin/busybox"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs = check(t, root, CheckOptions{})
	if !has(fs, Error, "/bin/sh", "not executable") {
		t.Fatalf("want interpreter not executable, got %v", fs)
	}
}

func TestCheckScriptEnv(t *testing.T) {
	bb := busybox(t)
	root := skeleton(t)
	copyHost(t, bb, root, "/usr/bin/env", 0o755)
	writeFile(t, root, layout.Init, "#!/usr/bin/env python3\n", 0o755)
	fs := check(t, root, CheckOptions{})
	if !has(fs, Warning, layout.Init, `"python3" not found in PATH`) || Failed(fs) {
		t.Fatalf("want env warning only, got %v", fs)
	}
}

func TestCheckScriptCRLF(t *testing.T) {
	root := skeleton(t)
	writeFile(t, root, layout.Init, "#!/bin/sh\r\necho\r\n", 0o755)
	fs := check(t, root, CheckOptions{})
	if !has(fs, Error, layout.Init, "carriage return") {
		t.Fatalf("want CRLF error, got %v", fs)
	}
}

func TestCheckEntryOptions(t *testing.T) {
	bb := busybox(t)
	root := skeleton(t)
	copyHost(t, bb, root, "/bin/busybox", 0o755)

	// A bare name is looked up in PATH inside the tree.
	fs := check(t, root, CheckOptions{Entry: []string{"busybox", "sh"}})
	if Failed(fs) {
		t.Fatalf("busybox via PATH: %v", fs)
	}
	fs = check(t, root, CheckOptions{Entry: []string{"nosuchprog"}})
	if !has(fs, Error, "nosuchprog", "not found in PATH") {
		t.Fatalf("want PATH lookup failure, got %v", fs)
	}
	fs = check(t, root, CheckOptions{Entry: []string{"/bin/busybox"}})
	if Failed(fs) {
		t.Fatalf("explicit entry: %v", fs)
	}
}

func TestCheckConfiguredCmd(t *testing.T) {
	root := goodTree(t)
	writeFile(t, root, layout.Cmd, "/app/server\n--port\n8080\n", 0o644)
	fs := check(t, root, CheckOptions{})
	if !has(fs, Error, "/app/server", "not found") {
		t.Fatalf("want configured cmd checked, got %v", fs)
	}
	writeFile(t, root, layout.Cmd, "", 0o644)
	fs = check(t, root, CheckOptions{})
	if !has(fs, Error, layout.Cmd, "empty") {
		t.Fatalf("want empty cmd error, got %v", fs)
	}
	writeFile(t, root, layout.Cmd, "busybox\nsh\n", 0o644)
	copyHost(t, "/bin/busybox", root, "/usr/bin/busybox", 0o755)
	fs = check(t, root, CheckOptions{})
	if Failed(fs) {
		t.Fatalf("cmd via PATH: %v", fs)
	}
}

func TestCheckFIFOs(t *testing.T) {
	// Reading a FIFO would block forever; Check must only stat them.
	root := skeleton(t)
	for _, p := range []string{layout.Init, layout.OSRelease, layout.Cmd} {
		full := filepath.Join(root, p)
		os.Remove(full)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(full, 0o755); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	fs := check(t, root, CheckOptions{})
	if !has(fs, Error, layout.Cmd, "named pipe") || !has(fs, Warning, layout.OSRelease, "named pipe") {
		t.Fatalf("want FIFO findings, got %v", fs)
	}
	fs = check(t, root, CheckOptions{Entry: []string{layout.Init}})
	if !has(fs, Error, layout.Init, "not a regular file", "named pipe") {
		t.Fatalf("want FIFO entry error, got %v", fs)
	}
}

func TestCheckBadDir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(f, CheckOptions{}); err == nil {
		t.Error("Check on a file: no error")
	}
	if _, err := Check(filepath.Join(t.TempDir(), "missing"), CheckOptions{}); err == nil {
		t.Error("Check on a missing dir: no error")
	}
}

func TestCheckSorted(t *testing.T) {
	root := skeleton(t)
	if err := os.Remove(filepath.Join(root, layout.OSRelease)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "dev")); err != nil {
		t.Fatal(err)
	}
	fs := check(t, root, CheckOptions{})
	for i := 1; i < len(fs); i++ {
		a, b := fs[i-1], fs[i]
		if a.Severity > b.Severity || (a.Severity == b.Severity && a.Path > b.Path) {
			t.Fatalf("not sorted at %d: %v", i, fs)
		}
	}
	if len(fs) < 4 || fs[0].Severity != Error || fs[len(fs)-1].Severity != Info {
		t.Fatalf("unexpected findings %v", fs)
	}
}

func TestSeverityString(t *testing.T) {
	for s, want := range map[Severity]string{Error: "error", Warning: "warning", Info: "info"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(s), s.String(), want)
		}
	}
	f := Finding{Severity: Warning, Path: "/etc/os-release", Msg: "empty"}
	if f.String() != "warning: /etc/os-release: empty" {
		t.Errorf("Finding.String() = %q", f.String())
	}
}

func TestEscapes(t *testing.T) {
	for _, tc := range []struct {
		dir, target string
		want        bool
	}{
		{"/etc", "../../../etc/shadow", true},
		{"/etc", "../usr/lib/os-release", false},
		{"/", "..", true},
		{"/a/b", "../../x", false},
		{"/a/b", "c/../../../../x", true},
		{"/a", "/etc/shadow", false},
		{"/a", "./x/./y", false},
	} {
		if got := escapes(tc.dir, tc.target); got != tc.want {
			t.Errorf("escapes(%q, %q) = %v, want %v", tc.dir, tc.target, got, tc.want)
		}
	}
}

// Skeleton promises a tree that passes the chroot test once an init is added.
func TestCheckSkeleton(t *testing.T) {
	bb := busybox(t)
	entries, err := Skeleton("test")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, e := range entries {
		full := filepath.Join(root, e.Path)
		if e.Mode.IsDir() {
			if err := os.MkdirAll(full, e.Mode.Perm()); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFile(t, root, e.Path, string(e.Data), e.Mode.Perm())
	}
	copyHost(t, bb, root, layout.Init, 0o755)
	fs := check(t, root, CheckOptions{})
	if Failed(fs) || count(fs, Warning) > 0 {
		t.Fatalf("skeleton + init: %v", fs)
	}
}
