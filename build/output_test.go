package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/rootfs"
)

// TestDirRootModeIgnoresUmask: the image's / is 0755 whatever the umask of
// whoever ran mkrootfs (a 0700 root locks every non-root payload out).
func TestDirRootModeIgnoresUmask(t *testing.T) {
	dir, init := fixture(t)
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	out := filepath.Join(dir, "rootfs")
	if err := runBuild(t, "-o", out, "--init", init); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", "etc", "sbin"} {
		st, err := os.Stat(filepath.Join(out, p))
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("/%s: mode %v, %v; want 0755", p, st.Mode().Perm(), err)
		}
	}
}

// asNonRoot runs the calling test as uid/gid 65534 when we are root (a copy
// of the test binary re-executed), directly otherwise. It reports whether
// the caller should go on (false in the root parent, which only waits).
func asNonRoot(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return true
	}
	bin := t.TempDir()
	os.Chmod(bin, 0o755)
	os.Chmod(filepath.Dir(bin), 0o755)
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(bin, "build.test")
	if err := os.WriteFile(copyPath, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copyPath, "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "TMPDIR=/tmp")
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("as uid 65534: %v\n%s", err, out)
	}
	return false
}

// writable undoes the read-only directories a test made, so that its
// temporary directories can be removed.
func writable(t *testing.T, dir string) {
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
			if d != nil && d.IsDir() {
				os.Chmod(name, 0o755)
			}
			return nil
		})
	})
}

// TestDirOutputWithReadOnlyDirsAsNonRoot: mkrootfs does not need root; a
// tree with a read-only directory (the Go module cache has them) is copied
// with its mode, and the next build can replace that output.
func TestDirOutputWithReadOnlyDirsAsNonRoot(t *testing.T) {
	if !asNonRoot(t) {
		return
	}
	dir, init := fixture(t)
	writable(t, dir)
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(tree, "ro"), 0o755)
	os.WriteFile(filepath.Join(tree, "ro", "f"), []byte("x"), 0o644)
	os.Chmod(filepath.Join(tree, "ro"), 0o555)
	out := filepath.Join(dir, "rootfs")
	for i := 0; i < 2; i++ { // the second build replaces the first
		if err := runBuild(t, "-o", out, "--init", init, "--add", tree+":/opt"); err != nil {
			t.Fatalf("build %d: %v", i+1, err)
		}
	}
	if st, err := os.Stat(filepath.Join(out, "opt", "ro")); err != nil || st.Mode().Perm() != 0o555 {
		t.Errorf("/opt/ro: %v, want mode 0555", err)
	}
	if data, err := os.ReadFile(filepath.Join(out, "opt", "ro", "f")); string(data) != "x" {
		t.Errorf("/opt/ro/f: %q, %v", data, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary %s left behind", e.Name())
		}
	}
}

// TestAddNamesTheUnreadableFile: an --add tree that cannot be read fails
// with the path that could not be read, not just "permission denied".
func TestAddNamesTheUnreadableFile(t *testing.T) {
	if !asNonRoot(t) {
		return
	}
	dir, init := fixture(t)
	writable(t, dir)
	locked := filepath.Join(dir, "tree", "locked")
	os.MkdirAll(locked, 0o755)
	os.Chmod(locked, 0)
	err := runBuild(t, "-o", filepath.Join(dir, "out.tar"), "--init", init, "--add", filepath.Join(dir, "tree")+":/opt")
	if err == nil || !strings.Contains(err.Error(), locked) || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("error %v, want it to name %s", err, locked)
	}
}

// TestReplaceKeepsWhatIsMountedInside: rebuilding an image directory that
// still has something mounted in it (a bind mount left from testing it by
// hand) must not delete the mounted files.
func TestReplaceKeepsWhatIsMountedInside(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to bind-mount")
	}
	// A private mount namespace for this thread only; the thread stays
	// locked, so it goes away with the test.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		t.Skip("no mount namespace: ", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatal(err)
	}
	dir, init := fixture(t)
	out := filepath.Join(dir, "rootfs")
	if err := runBuild(t, "-o", out, "--init", init); err != nil {
		t.Fatal(err)
	}
	precious := filepath.Join(dir, "precious")
	os.Mkdir(precious, 0o755)
	os.WriteFile(filepath.Join(precious, "keep"), []byte("data"), 0o644)
	mnt := filepath.Join(out, "run")
	if err := unix.Mount(precious, mnt, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	err := runBuild(t, "-o", out, "--init", init)
	if err == nil || !strings.Contains(err.Error(), mnt+": is a mount point") || strings.Contains(err.Error(), "\n") {
		t.Errorf("rebuild over a mount: error %v, want one line naming %s", err, mnt)
	}
	if _, err := os.Stat(filepath.Join(precious, "keep")); err != nil {
		t.Errorf("the rebuild deleted files mounted inside the old image: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "sbin", "init")); err != nil {
		t.Errorf("the refused rebuild lost the old image: %v", err)
	}
}

// TestAddRefusesSpecialFiles: a FIFO, socket or device inside an --add tree
// is refused with its path and what it is, in words.
func TestAddRefusesSpecialFiles(t *testing.T) {
	dir, init := fixture(t)
	tree := filepath.Join(dir, "tree")
	os.Mkdir(tree, 0o755)
	fifo := filepath.Join(tree, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	err := runBuild(t, "-o", filepath.Join(dir, "out.tar"), "--init", init, "--add", tree+":/opt")
	if err == nil || !strings.Contains(err.Error(), fifo+": cannot add a named pipe") {
		t.Errorf("error %v, want it to name %s as a named pipe", err, fifo)
	}
}

// TestScriptInterpreterFromAdd: a script --app's interpreter may come from
// an --add tree, wherever the flags are on the command line, and through a
// directory symlink of the image (a merged-/usr tree's /bin -> usr/bin).
func TestScriptInterpreterFromAdd(t *testing.T) {
	dir, init := fixture(t)
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755)
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(tree, "usr", "bin"), 0o755)
	os.WriteFile(filepath.Join(tree, "usr", "bin", "sh"), tinyELF(), 0o755)
	os.Symlink("usr/bin", filepath.Join(tree, "bin"))
	out := filepath.Join(dir, "out.tar")
	if err := runBuild(t, "-o", out, "--init", init, "--add", tree+":/", "--app", script); err != nil {
		t.Errorf("script with /bin/sh from --add: %v", err)
	}
	os.Remove(out)
	if err := runBuild(t, "-o", out, "--init", init, "--app", script, "--add", filepath.Join(tree, "usr")+":/usr"); err == nil {
		t.Errorf("script accepted though /bin/sh is not in the image (only /usr/bin/sh)")
	}
}

// TestErrorsStayOnOneLine: values with newlines are quoted in messages.
func TestErrorsStayOnOneLine(t *testing.T) {
	dir, init := fixture(t)
	out := filepath.Join(dir, "out.tar")
	for _, cmd := range []string{"printf 'a\nb'", "echo 'a\nb"} {
		err := runBuild(t, "-o", out, "--init", init, "--cmd", cmd)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "--cmd ") {
			t.Errorf("--cmd %q: error %q, want one line starting with --cmd", cmd, err)
		}
	}
	weird := filepath.Join(dir, "new\nline")
	err := runBuild(t, "-o", out, "--init", init, "--app", weird)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "--app ") {
		t.Errorf("--app %q: error %q, want one line starting with --app", weird, err)
	}
}

// TestOutputErrorsNameTheFlag: a failure to write names -o and OUT, not a
// temporary name the user never gave.
func TestOutputErrorsNameTheFlag(t *testing.T) {
	dir, init := fixture(t)
	out := filepath.Join(dir, "no-such-dir", "img.tar")
	err := runBuild(t, "-o", out, "--init", init)
	if err == nil || !strings.HasPrefix(err.Error(), "-o "+out+": ") || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("error %v, want it to start with -o %s", err, out)
	}
}

// TestAppWithOriginRpath: a dynamic --app whose libraries are found through
// $ORIGIN (RPATH $ORIGIN/../lib, as bundled applications and the JDK do)
// must still find them when installed at another DST.
func TestAppWithOriginRpath(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler")
	}
	dir, init := fixture(t)
	app := filepath.Join(dir, "opt", "app")
	os.MkdirAll(filepath.Join(app, "bin"), 0o755)
	os.MkdirAll(filepath.Join(app, "lib"), 0o755)
	os.WriteFile(filepath.Join(dir, "lib.c"), []byte("int hello(void) { return 0; }\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.c"), []byte("int hello(void);\nint main(void) { return hello(); }\n"), 0o644)
	for _, args := range [][]string{
		{"-shared", "-fPIC", "-o", filepath.Join(app, "lib", "libhello.so"), filepath.Join(dir, "lib.c")},
		{"-o", filepath.Join(app, "bin", "server"), filepath.Join(dir, "main.c"), "-L" + filepath.Join(app, "lib"), "-lhello", "-Wl,--disable-new-dtags,-rpath,$ORIGIN/../lib"},
	} {
		if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
			t.Skipf("cc %v: %v\n%s", args, err, out)
		}
	}
	out := filepath.Join(dir, "rootfs")
	if err := runBuild(t, "-o", out, "--init", init, "--app", filepath.Join(app, "bin", "server")); err != nil {
		t.Fatal(err)
	}
	findings, err := rootfs.Check(out, rootfs.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f.Severity == rootfs.Error {
			t.Errorf("the image fails the chroot test: %+v", f)
		}
	}
	if os.Geteuid() == 0 {
		// The real loader agrees (it needs /proc for $ORIGIN, as in a container).
		cmd := exec.Command("sh", "-c", `mount -t proc proc "$1/proc" && exec chroot "$1" /usr/local/bin/server`, "sh", out)
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("running the app in the image: %v %s", err, msg)
		}
	}
}

// TestMain lets a test run mkrootfs's main in a child process.
func TestMain(m *testing.M) {
	if args := os.Getenv("MKROOTFS_TEST_MAIN"); args != "" {
		os.Args = append([]string{"mkrootfs"}, strings.Split(args, "\x1f")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestInterruptLeavesNothing: ^C during a long build removes the temporary
// output and exits 128+SIGINT; nothing is written.
func TestInterruptLeavesNothing(t *testing.T) {
	dir, init := fixture(t)
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 30); err != nil { // sparse: takes no space
		t.Skip("no sparse files here: ", err)
	}
	f.Close()
	outDir := filepath.Join(dir, "out")
	os.Mkdir(outDir, 0o755)
	for _, out := range []string{"img.tar.zst", "rootfs"} {
		out = filepath.Join(outDir, out)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "MKROOTFS_TEST_MAIN="+strings.Join([]string{"-o", out, "--init", init, "--add", huge + ":/huge"}, "\x1f"))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ { // wait for the temporary output to appear
			if entries, _ := os.ReadDir(outDir); len(entries) > 0 || i == 5000 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("%s: mkrootfs did not stop on SIGINT", out)
		}
		if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("%s: exit %d, stderr %q; want 130 and \"interrupted\"", out, code, stderr.String())
		}
		if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
			t.Errorf("%s: left behind after ^C: %v", out, entries)
		}
	}
}

// TestDynamicAppWithMergedUsrTrees: on a merged-/usr host (/lib -> usr/lib,
// Debian since 12) a dynamic --app keeps the host's layout, so it combines
// with an --add of a merged-/usr tree as well as of a tree with a real /lib.
func TestDynamicAppWithMergedUsrTrees(t *testing.T) {
	const app = "/bin/true"
	hostLib, err := os.Readlink("/lib")
	if err != nil || isStatic(t, app) {
		t.Skip("not a merged-/usr host with a dynamic " + app)
	}
	dir, init := fixture(t)
	merged := filepath.Join(dir, "merged")
	os.MkdirAll(filepath.Join(merged, "usr", "lib", "app"), 0o755)
	os.WriteFile(filepath.Join(merged, "usr", "lib", "app", "data"), []byte("merged"), 0o644)
	os.Symlink("usr/lib", filepath.Join(merged, "lib"))
	split := filepath.Join(dir, "split")
	os.MkdirAll(filepath.Join(split, "lib", "firmware"), 0o755)
	os.WriteFile(filepath.Join(split, "lib", "firmware", "fw"), []byte("split"), 0o644)
	out := filepath.Join(dir, "rootfs")
	if err := runBuild(t, "-o", out, "--init", init, "--app", app, "--add", merged+":/", "--add", split+":/"); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(filepath.Join(out, "lib")); err != nil || got != hostLib {
		t.Errorf("/lib in the image: %q, %v; want a symlink to %s like the host's", got, err, hostLib)
	}
	for name, want := range map[string]string{"lib/app/data": "merged", "usr/lib/firmware/fw": "split"} {
		if data, err := os.ReadFile(filepath.Join(out, name)); string(data) != want {
			t.Errorf("/%s: %q, %v; want %q", name, data, err, want)
		}
	}
	findings, err := rootfs.Check(out, rootfs.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f.Severity == rootfs.Error {
			t.Errorf("the image fails the chroot test: %v", f)
		}
	}
}
