package main

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// tinyELF is a valid static x86-64 executable (exit(0)) of 129 bytes, so the
// builder tests need no real init binary.
func tinyELF() []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	binary.Write(&b, le, uint16(2))                     // ET_EXEC
	binary.Write(&b, le, uint16(62))                    // EM_X86_64
	binary.Write(&b, le, uint32(1))                     // EV_CURRENT
	binary.Write(&b, le, uint64(0x400078))              // entry
	binary.Write(&b, le, uint64(64))                    // phoff
	binary.Write(&b, le, uint64(0))                     // shoff
	binary.Write(&b, le, uint32(0))                     // flags
	binary.Write(&b, le, []uint16{64, 56, 1, 64, 0, 0}) // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
	binary.Write(&b, le, []uint32{1, 5})                // PT_LOAD, R+X
	binary.Write(&b, le, []uint64{0, 0x400000, 0x400000, 129, 129, 0x1000})
	b.Write([]byte{0x31, 0xff, 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05}) // xor edi,edi; mov eax,60; syscall
	return b.Bytes()
}

// fixture writes a fake init and returns a config builder around it.
func fixture(t *testing.T) (dir, init string) {
	t.Helper()
	dir = t.TempDir()
	init = filepath.Join(dir, "init")
	if err := os.WriteFile(init, tinyELF(), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, init
}

func runBuild(t *testing.T, args ...string) error {
	t.Helper()
	cfg, err := parseFlags(args, func(string) string { return "" })
	if err != nil {
		return err
	}
	return build(cfg)
}

func TestBuildIsReproducible(t *testing.T) {
	dir, init := fixture(t)
	envFile := filepath.Join(dir, "env")
	os.WriteFile(envFile, []byte("A=1\n"), 0o644)
	for _, format := range []string{"tar", "tar.gz", "tar.zst"} {
		var outputs [][]byte
		for i := 0; i < 2; i++ {
			out := filepath.Join(dir, "img"+string(rune('a'+i))+"."+format)
			if err := runBuild(t, "-o", out, "--init", init, "--cmd", "/sbin/init --probe", "--env-file", envFile); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			outputs = append(outputs, data)
			// Touch the inputs between builds: mtimes must not leak in.
			os.Chtimes(init, mtimeNow(), mtimeNow())
		}
		if !bytes.Equal(outputs[0], outputs[1]) {
			t.Errorf("%s: two builds differ", format)
		}
	}
}

func TestTarContent(t *testing.T) {
	dir, init := fixture(t)
	out := filepath.Join(dir, "img.tar.zst")
	if err := runBuild(t, "-o", out, "--init", init, "--name", "probe-image"); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(out)
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.ModTime.Unix() != 0 || h.Uname != "" {
			t.Errorf("%s: owner %d:%d %q mtime %v, want 0:0, no names, epoch", h.Name, h.Uid, h.Gid, h.Uname, h.ModTime)
		}
		names = append(names, h.Name)
		data, _ := io.ReadAll(tr)
		files[h.Name] = string(data)
	}
	want := "dev/ etc/ etc/group etc/os-release etc/passwd proc/ root/ run/ sbin/ sbin/init sys/ tmp/"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(files["etc/os-release"], `IMAGE_ID="probe-image"`) {
		t.Errorf("os-release lacks IMAGE_ID: %q", files["etc/os-release"])
	}
	if !bytes.Equal([]byte(files["sbin/init"]), tinyELF()) {
		t.Errorf("sbin/init is not the given init")
	}
}

func TestDirOutput(t *testing.T) {
	dir, init := fixture(t)
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(tree, "share", "doc"), 0o755)
	os.WriteFile(filepath.Join(tree, "share", "doc", "README"), []byte("hi"), 0o600)
	os.Symlink("doc/README", filepath.Join(tree, "share", "link"))
	out := filepath.Join(dir, "rootfs")
	for i := 0; i < 2; i++ { // the second build replaces the first
		if err := runBuild(t, "-o", out, "--init", init, "--add", tree+":/usr", "--cmd", `sh -c 'echo "a b"'`); err != nil {
			t.Fatal(err)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(out, "usr/share/link")); string(data) != "hi" {
		t.Errorf("symlinked file reads %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "etc/stdcontainer/cmd")); string(data) != "sh\n-c\necho \"a b\"\n" {
		t.Errorf("cmd file %q", data)
	}
	st, err := os.Stat(filepath.Join(out, "tmp"))
	if err != nil || st.Mode()&os.ModeSticky == 0 || st.Mode().Perm() != 0o777 {
		t.Errorf("/tmp mode %v", st.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 { // init, tree, rootfs: no temporaries left
		t.Errorf("left in the output directory: %v", entries)
	}
}

func TestRefusals(t *testing.T) {
	dir, init := fixture(t)
	notExec := filepath.Join(dir, "data")
	os.WriteFile(notExec, []byte("x"), 0o644)
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755)
	badEnv := filepath.Join(dir, "bad.env")
	os.WriteFile(badEnv, []byte("OK=1\nexport X=2\n"), 0o644)
	unrelated := filepath.Join(dir, "precious")
	os.MkdirAll(unrelated, 0o755)
	os.WriteFile(filepath.Join(unrelated, "keep"), nil, 0o644)

	out := filepath.Join(dir, "out.tar")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--init", init}, "-o OUT is required"},
		{[]string{"-o", out, "--init", filepath.Join(dir, "missing")}, "--init " + filepath.Join(dir, "missing") + ": no such file"},
		{[]string{"-o", out, "--init", init, "--app", notExec}, "not executable"},
		{[]string{"-o", out, "--init", init, "--app", script}, "script interpreter /bin/sh is not in the image"},
		{[]string{"-o", out, "--init", init, "--add", notExec + ":../../etc/x"}, "escapes the image root"},
		{[]string{"-o", out, "--init", init, "--add", notExec + ":/a/../../b"}, "escapes the image root"},
		{[]string{"-o", out, "--init", init, "--add", notExec}, "want SRC:DST"},
		{[]string{"-o", out, "--init", init, "--env-file", badEnv}, "bad.env:2:"},
		{[]string{"-o", out, "--init", init, "--cmd", "'unclosed"}, "--cmd 'unclosed: unterminated ' quote"},
		{[]string{"-o", out, "--init", init, "--format", "zip"}, `--format: unknown format "zip"`},
		{[]string{"-o", out, "--init", init, "--name", "Bad Name"}, "--name Bad Name"},
		{[]string{"-o", unrelated, "--init", init}, "not an image directory"},
		{[]string{"-o", out, "--init", init, "extra"}, `unexpected argument "extra"`},
		{[]string{"-o", out, "--frob"}, "unknown flag --frob (see --help)"},
		{[]string{"-o", out, "--app"}, "--app needs a value (see --help)"},
		{[]string{"--init", init, "-o"}, "-o needs a value (see --help)"},
	}
	for _, tt := range tests {
		err := runBuild(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("mkrootfs %v: error %v, want it to mention %q", tt.args, err, tt.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("mkrootfs %v: error spans lines: %q", tt.args, err)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused build left %s behind", out)
	}
	if _, err := os.Stat(filepath.Join(unrelated, "keep")); err != nil {
		t.Errorf("a refused build touched an unrelated directory: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary %s left behind", e.Name())
		}
	}
}

func TestDynamicAppBringsLibraries(t *testing.T) {
	dir, init := fixture(t)
	const app = "/bin/true"
	if isStatic(t, app) {
		t.Skip(app + " is static here")
	}
	out := filepath.Join(dir, "rootfs")
	if err := runBuild(t, "-o", out, "--init", init, "--app", app); err != nil {
		t.Fatal(err)
	}
	interp := readInterp(t, app)
	if _, err := os.Stat(filepath.Join(out, interp)); err != nil {
		t.Errorf("ELF interpreter %s not in the image: %v", interp, err)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "etc/stdcontainer/cmd")); string(data) != "/usr/local/bin/true\n" {
		t.Errorf("default cmd %q, want the app", data)
	}
}
