package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stdcontainer/stdcontainer/build/importer/imagetest"
	"github.com/stdcontainer/stdcontainer/build/ocilayout"
)

type layerEntry = imagetest.Entry

// baseImage is a merged-/usr image with users, a setuid tool, a systemd
// style /sbin/init and an os-release behind a symlink, as Debian has.
func baseImage(config imagetest.Config) imagetest.Image {
	return imagetest.Image{Name: "example.org/base:1", Config: config, Layers: []imagetest.Layer{
		{Compression: "gzip", Tar: imagetest.Tar(
			layerEntry{Name: "usr/bin/", Type: tar.TypeDir},
			layerEntry{Name: "usr/sbin/", Type: tar.TypeDir},
			layerEntry{Name: "usr/lib/os-release", Data: "NAME=\"Base\"\nID=base\n"},
			layerEntry{Name: "usr/lib/systemd/systemd", Mode: 0o755, Data: "systemd"},
			layerEntry{Name: "usr/sbin/init", Type: tar.TypeSymlink, Link: "../lib/systemd/systemd"},
			layerEntry{Name: "sbin", Type: tar.TypeSymlink, Link: "usr/sbin"},
			layerEntry{Name: "bin", Type: tar.TypeSymlink, Link: "usr/bin"},
			layerEntry{Name: "etc/os-release", Type: tar.TypeSymlink, Link: "../usr/lib/os-release"},
			layerEntry{Name: "etc/passwd", Data: "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"},
			layerEntry{Name: "usr/bin/tool", Mode: 0o4755, Data: "tool"},
			layerEntry{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
		)},
		{Compression: "zstd", Tar: imagetest.Tar(
			layerEntry{Name: "home/app/", Type: tar.TypeDir, Mode: 0o750, UID: 1000, GID: 1000},
			layerEntry{Name: "home/app/data", Mode: 0o640, UID: 1000, GID: 1000, Data: "data"},
			layerEntry{Name: "usr/bin/tool-alias", Type: tar.TypeLink, Link: "usr/bin/tool"},
			layerEntry{Name: "dev/console", Type: tar.TypeChar},
		)},
	}}
}

// readTar lists a tar output: headers and contents by name.
func readTar(t *testing.T, file string) (map[string]*tar.Header, map[string]string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdrs, data := map[string]*tar.Header{}, map[string]string{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs, data
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		hdrs[name] = h
		b, _ := io.ReadAll(tr)
		data[name] = string(b)
	}
}

// captureStderr runs f with stderr going to a pipe, and returns what it wrote.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	defer func() { os.Stderr = old }()
	f()
	w.Close()
	return <-done
}

func TestFromImage(t *testing.T) {
	dir, init := fixture(t)
	t.Setenv("TMPDIR", t.TempDir())
	layout := filepath.Join(dir, "layout")
	imagetest.OCI(baseImage(imagetest.Config{
		Entrypoint: []string{"/usr/bin/tool"}, Cmd: []string{"--serve", "a b"},
		Env:  []string{"PATH=/usr/bin:/bin", `GREETING=hello "world" $HOME`, "A=from image", "bad-name=1"},
		User: "app", WorkingDir: "/home/app",
	})).WriteDir(t, layout)
	envFile := filepath.Join(dir, "env")
	os.WriteFile(envFile, []byte("A=from file\n"), 0o644)
	out := filepath.Join(dir, "img.tar")
	var err error
	stderr := captureStderr(t, func() {
		err = runBuild(t, "-o", out, "--init", init, "--from", layout, "--name", "mine", "--env-file", envFile)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"mkrootfs: warning: --from " + layout + ": layer 2 of 2 (sha256:",
		"dev/console: character device skipped",
		`the image's User "app" and WorkingDir "/home/app" not carried over`,
		`the image's Env entry "bad-name=1" left out`,
	} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q lacks %q", stderr, w)
		}
	}
	hdrs, data := readTar(t, out)
	for name, want := range map[string]string{
		"usr/sbin/init":           string(tinyELF()), // our init, where the image's /sbin/init was
		"usr/lib/systemd/systemd": "systemd",
		"etc/passwd":              "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
		"usr/lib/os-release":      "NAME=\"Base\"\nID=\"base\"\nIMAGE_ID=\"mine\"\n",
		"etc/stdcontainer/cmd":    "/usr/bin/tool\n--serve\na b\n",
		"etc/stdcontainer/env":    "PATH=\"/usr/bin:/bin\"\nGREETING=\"hello \\\"world\\\" \\$HOME\"\nA=\"from file\"\n",
		"usr/bin/tool-alias":      "tool",
		"home/app/data":           "data",
	} {
		if data[name] != want {
			t.Errorf("/%s: %q, want %q", name, data[name], want)
		}
	}
	for name, target := range map[string]string{"sbin": "usr/sbin", "bin": "usr/bin", "etc/os-release": "../usr/lib/os-release"} {
		if h := hdrs[name]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != target {
			t.Errorf("/%s: %+v, want the image's symlink to %s", name, h, target)
		}
	}
	for name, want := range map[string][3]int64{
		"home/app":      {0o750, 1000, 1000},
		"home/app/data": {0o640, 1000, 1000},
		"usr/bin/tool":  {0o4755, 0, 0},
		"tmp":           {0o1777, 0, 0},
		"usr/sbin/init": {0o755, 0, 0},
	} {
		if h := hdrs[name]; h == nil || h.Mode != want[0] || h.Uid != int(want[1]) || h.Gid != int(want[2]) {
			t.Errorf("/%s: %+v, want mode %o owner %d:%d", name, h, want[0], want[1], want[2])
		}
	}
	// The skeleton filled in what the image lacks, and nothing else.
	for _, name := range []string{"dev", "proc", "run", "sys", "root", "etc/group"} {
		if hdrs[name] == nil {
			t.Errorf("/%s: missing; the skeleton fills in what the image lacks", name)
		}
	}
	if hdrs["dev/console"] != nil || hdrs["sbin/init"] != nil {
		t.Errorf("a device node or a file under the /sbin symlink made it in")
	}
	if left, _ := os.ReadDir(os.Getenv("TMPDIR")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestFromImageDirOwners: the directory output carries the image's owners
// when we are root.
func TestFromImageDirOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give files away")
	}
	dir, init := fixture(t)
	layout := filepath.Join(dir, "image.tar")
	imagetest.Docker(baseImage(imagetest.Config{Cmd: []string{"/usr/bin/tool"}})).WriteTar(t, layout)
	out := filepath.Join(dir, "rootfs")
	if err := runBuild(t, "-o", out, "--init", init, "--from", layout); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]uint32{"home/app": {1000, 1000}, "home/app/data": {1000, 1000}, "usr/bin/tool": {0, 0}} {
		st, err := os.Lstat(filepath.Join(out, name))
		if err != nil {
			t.Error(err)
			continue
		}
		sys := st.Sys().(*syscall.Stat_t)
		if sys.Uid != want[0] || sys.Gid != want[1] {
			t.Errorf("/%s: owner %d:%d, want %d:%d", name, sys.Uid, sys.Gid, want[0], want[1])
		}
	}
	if st, err := os.Stat(filepath.Join(out, "usr/bin/tool")); err != nil || st.Mode()&os.ModeSetuid == 0 {
		t.Errorf("/usr/bin/tool lost its setuid bit: %v %v", st.Mode(), err)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "etc/stdcontainer/cmd")); string(data) != "/usr/bin/tool\n" {
		t.Errorf("cmd %q", data)
	}
}

func TestFromRefAndCmd(t *testing.T) {
	dir, init := fixture(t)
	one := func(name, cmd string) imagetest.Image {
		return imagetest.Image{Name: name, Config: imagetest.Config{Entrypoint: []string{"/sbin/init"}, Cmd: strings.Fields(cmd)},
			Layers: []imagetest.Layer{{Tar: imagetest.Tar(layerEntry{Name: "which", Data: name})}}}
	}
	archive := filepath.Join(dir, "images.tar")
	imagetest.Docker(one("web:1", "-- /srv/web"), one("db:2", "/srv/db --fast")).WriteTar(t, archive)
	out := filepath.Join(dir, "out.tar")
	// An image whose command is /sbin/init (one mkrootfs built) passes on
	// what follows it: our init replaced that one.
	for ref, cmd := range map[string]string{"web:1": "/srv/web\n", "db:2": "/srv/db\n--fast\n"} {
		if err := runBuild(t, "-o", out, "--init", init, "--from", archive, "--ref", ref); err != nil {
			t.Fatalf("--ref %s: %v", ref, err)
		}
		_, data := readTar(t, out)
		if data["which"] != ref || data["etc/stdcontainer/cmd"] != cmd {
			t.Errorf("--ref %s: /which %q, cmd %q; want %q", ref, data["which"], data["etc/stdcontainer/cmd"], cmd)
		}
	}
	if err := runBuild(t, "-o", out, "--init", init, "--from", archive, "--ref", "db:2", "--cmd", "/bin/other"); err != nil {
		t.Fatal(err)
	}
	if _, data := readTar(t, out); data["etc/stdcontainer/cmd"] != "/bin/other\n" {
		t.Errorf("--cmd does not override the image's command: %q", data["etc/stdcontainer/cmd"])
	}
	os.Remove(out)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", archive}, "--from " + archive + ": several images here: pick one with --ref (available: web:1, db:2)"},
		{[]string{"--from", archive, "--ref", "cache:3"}, "--from " + archive + ": no image cache:3 here (available: web:1, db:2)"},
		{[]string{"--ref", "web:1"}, "--ref needs --from"},
		{[]string{"--from", filepath.Join(dir, "missing")}, "--from " + filepath.Join(dir, "missing") + ": no such file or directory"},
	} {
		err := runBuild(t, append([]string{"-o", out, "--init", init}, c.args...)...)
		if err == nil || !strings.HasPrefix(err.Error(), strings.SplitN(c.want, ":", 2)[0]) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want one line with %q", c.args, err, c.want)
		}
	}
	multiline := filepath.Join(dir, "multiline.tar")
	img := one("x:1", "")
	img.Config = imagetest.Config{Cmd: []string{"sh", "-c", "echo a\necho b"}}
	imagetest.Docker(img).WriteTar(t, multiline)
	err := runBuild(t, "-o", out, "--init", init, "--from", multiline)
	if want := "--from " + multiline + ": the image's Entrypoint+Cmd (override it with --cmd): argument"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("a command the cmd file cannot hold: %v, want %q", err, want)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused build wrote %s", out)
	}
}

// TestFromMaliciousImageWritesNothing: a hostile image is refused before
// anything is written, inside or outside the output.
func TestFromMaliciousImageWritesNothing(t *testing.T) {
	dir, init := fixture(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	host := filepath.Join(dir, "host")
	os.Mkdir(host, 0o755)
	big := strings.Repeat("x", 5<<20) // spilled to TMPDIR before the refusal
	for name, layers := range map[string][][]layerEntry{
		"symlink":   {{{Name: "big", Data: big}, {Name: "etc", Type: tar.TypeSymlink, Link: host}}, {{Name: "etc/passwd", Data: "pwned"}}},
		"dotdot":    {{{Name: "big", Data: big}, {Name: "../../../../../../" + host + "/passwd", Data: "pwned"}}},
		"hard link": {{{Name: "big", Data: big}, {Name: "l", Type: tar.TypeLink, Link: "../../../../../../etc/shadow"}}},
		"whiteout":  {{{Name: "h", Type: tar.TypeSymlink, Link: host}}, {{Name: "h/.wh.keep"}}},
	} {
		os.WriteFile(filepath.Join(host, "keep"), []byte("keep"), 0o644)
		var img imagetest.Image
		for _, l := range layers {
			img.Layers = append(img.Layers, imagetest.Layer{Compression: "gzip", Tar: imagetest.Tar(l...)})
		}
		src := filepath.Join(dir, "evil.tar")
		imagetest.OCI(img).WriteTar(t, src)
		out := filepath.Join(dir, "rootfs")
		err := runBuild(t, "-o", out, "--init", init, "--from", src)
		if err == nil || !strings.HasPrefix(err.Error(), "--from "+src+": layer ") || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: %v, want a refusal naming the layer", name, err)
		}
		if _, err := os.Lstat(out); err == nil {
			t.Errorf("%s: output written", name)
		}
		if left, _ := os.ReadDir(host); len(left) != 1 {
			t.Errorf("%s: the host directory changed: %v", name, left)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("%s: temporary files left: %v", name, left)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(host, "keep")); !bytes.Equal(data, []byte("keep")) {
		t.Errorf("host file changed: %q", data)
	}
}

// TestFromInterruptLeavesNothing: ^C while a large image is imported
// stops the import, removes its temporary files and exits 128+SIGINT.
func TestFromInterruptLeavesNothing(t *testing.T) {
	dir, init := fixture(t)
	// One plain-tar layer of 64 GiB, sparse: a file, the tar's end, then
	// zeros that still count in the digest (which we never reach).
	img := imagetest.Image{Layers: []imagetest.Layer{{Tar: imagetest.Tar(layerEntry{Name: "f", Data: "x"})}}}
	layout := imagetest.Layout{}
	layer := layout.Blob(ocilayout.MediaTypeLayer, img.Layers[0].Tar)
	layer.Size = 64 << 30
	layout.SetIndex(layout.JSONBlob(ocilayout.MediaTypeManifest, ocilayout.Manifest{
		Config:        layout.Blob(ocilayout.MediaTypeConfig, imagetest.ConfigJSON(img)),
		Layers:        []ocilayout.Descriptor{layer},
		SchemaVersion: 2,
	}))
	src := filepath.Join(dir, "layout")
	layout.WriteDir(t, src)
	if err := os.Truncate(filepath.Join(src, imagetest.BlobPath(layer)), layer.Size); err != nil {
		t.Skip("no sparse files here: ", err)
	}
	tmp := t.TempDir()
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "MKROOTFS_TEST_MAIN="+strings.Join([]string{"-o", filepath.Join(out, "img.tar"), "--init", init, "--from", src}, "\x1f"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // wait for the import to start
		if entries, _ := os.ReadDir(tmp); len(entries) > 0 || i == 5000 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("mkrootfs did not stop on SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q; want 130 and \"interrupted\"", code, stderr.String())
	}
	for _, d := range []string{tmp, out} {
		if entries, _ := os.ReadDir(d); len(entries) != 0 {
			t.Errorf("left behind after ^C in %s: %v", d, entries)
		}
	}
}
