package importer

import (
	"archive/tar"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stdcontainer/stdcontainer/build/importer/imagetest"
	"github.com/stdcontainer/stdcontainer/build/ocilayout"
	"github.com/stdcontainer/stdcontainer/build/plan"
)

type E = imagetest.Entry

// load writes layout as a directory and as a tarball and imports both,
// checking they give the same image.
func load(t *testing.T, layout imagetest.Layout, opts Options) (*Image, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	layout.WriteDir(t, dir)
	fromDir, errDir := Import(dir, opts)
	file := filepath.Join(t.TempDir(), "image.tar")
	layout.WriteTar(t, file)
	fromTar, errTar := Import(file, opts)
	if (errDir == nil) != (errTar == nil) || errDir != nil && errDir.Error() != errTar.Error() {
		t.Fatalf("directory and tarball differ:\n dir: %v\n tar: %v", errDir, errTar)
	}
	if errDir == nil && len(fromDir.Entries) != len(fromTar.Entries) {
		t.Fatalf("directory gives %d entries, tarball %d", len(fromDir.Entries), len(fromTar.Entries))
	}
	return fromDir, errDir
}

func byPath(entries []plan.Entry) map[string]plan.Entry {
	m := map[string]plan.Entry{}
	for _, e := range entries {
		m[e.Path] = e
	}
	return m
}

// content reads an entry's content, in memory or spilled.
func content(t *testing.T, e plan.Entry) string {
	t.Helper()
	if e.Source == "" {
		return string(e.Data)
	}
	data, err := os.ReadFile(e.Source)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// layers is a three-layer image exercising every kind of entry, whiteouts
// and an opaque directory, hard links, and the three compressions.
func layers() []imagetest.Layer {
	return []imagetest.Layer{
		{Compression: "", Tar: imagetest.Tar(
			E{Name: "etc/", Type: tar.TypeDir},
			E{Name: "etc/passwd", Data: "root:x:0:0::/root:/bin/sh\n"},
			E{Name: "etc/old", Data: "old"},
			E{Name: "usr/bin/tool", Mode: 0o4755, Data: "tool v1"}, // no parent entries: made 0755
			E{Name: "usr/lib/", Type: tar.TypeDir},
			E{Name: "lib", Type: tar.TypeSymlink, Link: "usr/lib"},
			E{Name: "home/app/", Type: tar.TypeDir, Mode: 0o2750, UID: 1000, GID: 1001},
			E{Name: "home/app/.profile", Mode: 0o600, UID: 1000, GID: 1001, Data: "v1"},
			E{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
			E{Name: "var/empty/", Type: tar.TypeDir, Mode: 0o700},
			E{Name: "opt/d/", Type: tar.TypeDir},
			E{Name: "opt/d/a", Data: "a"},
			E{Name: "opt/d/sub/b", Data: "b"},
			E{Name: "srv/keep/", Type: tar.TypeDir},
			E{Name: "srv/keep/x", Data: "x"},
		)},
		{Compression: "gzip", Tar: imagetest.Tar(
			E{Name: "./etc/.wh.old"},
			E{Name: "etc/passwd", Data: "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n"},
			E{Name: "opt/d/.wh..wh..opq"},
			E{Name: "opt/d/c", Data: "c"},
			E{Name: "usr/bin/tool2", Type: tar.TypeLink, Link: "usr/bin/tool"},
			E{Name: "dev/null", Type: tar.TypeChar, Mode: 0o666},
			E{Name: "srv/keep", Data: "a file now"}, // replaces the directory and its child
			E{Name: "/etc/motd", Data: "hello", PAX: map[string]string{"SCHILY.xattr.user.x": "1"}},
		)},
		{Compression: "zstd", Tar: imagetest.Tar(
			E{Name: "usr/bin/.wh.tool"},
			E{Name: "home/app/.profile", Mode: 0o640, UID: 1000, GID: 1001, Data: "v2"},
			E{Name: "opt/d/c2", Type: tar.TypeLink, Link: "opt/d/c"},
		)},
	}
}

func checkLayers(t *testing.T, img *Image, warnings []string) {
	t.Helper()
	got := byPath(img.Entries)
	type want struct {
		kind     plan.Kind
		mode     fs.FileMode
		uid, gid int
		data     string // content or target
	}
	wants := map[string]want{
		"/etc":               {plan.Dir, 0o755, 0, 0, ""},
		"/etc/passwd":        {plan.File, 0o644, 0, 0, "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n"},
		"/etc/motd":          {plan.File, 0o644, 0, 0, "hello"},
		"/usr":               {plan.Dir, 0o755, 0, 0, ""},
		"/usr/bin":           {plan.Dir, 0o755, 0, 0, ""},
		"/usr/bin/tool2":     {plan.File, 0o755 | fs.ModeSetuid, 0, 0, "tool v1"},
		"/usr/lib":           {plan.Dir, 0o755, 0, 0, ""},
		"/lib":               {plan.Symlink, 0, 0, 0, "usr/lib"},
		"/home":              {plan.Dir, 0o755, 0, 0, ""},
		"/home/app":          {plan.Dir, 0o750 | fs.ModeSetgid, 1000, 1001, ""},
		"/home/app/.profile": {plan.File, 0o640, 1000, 1001, "v2"},
		"/tmp":               {plan.Dir, 0o777 | fs.ModeSticky, 0, 0, ""},
		"/var":               {plan.Dir, 0o755, 0, 0, ""},
		"/var/empty":         {plan.Dir, 0o700, 0, 0, ""},
		"/opt":               {plan.Dir, 0o755, 0, 0, ""},
		"/opt/d":             {plan.Dir, 0o755, 0, 0, ""},
		"/opt/d/c":           {plan.File, 0o644, 0, 0, "c"},
		"/opt/d/c2":          {plan.File, 0o644, 0, 0, "c"},
		"/srv":               {plan.Dir, 0o755, 0, 0, ""},
		"/srv/keep":          {plan.File, 0o644, 0, 0, "a file now"},
	}
	for p, w := range wants {
		e, ok := got[p]
		if !ok {
			t.Errorf("%s: missing", p)
			continue
		}
		data := e.Target
		if e.Kind == plan.File {
			data = content(t, e)
		}
		if e.Kind != w.kind || e.Mode != w.mode || e.UID != w.uid || e.GID != w.gid || data != w.data {
			t.Errorf("%s: %v %v %d:%d %q; want %v %v %d:%d %q", p, e.Kind, e.Mode, e.UID, e.GID, data, w.kind, w.mode, w.uid, w.gid, w.data)
		}
	}
	for p := range got {
		if _, ok := wants[p]; !ok {
			t.Errorf("%s: in the image, should not be (whiteout, opaque directory or device)", p)
		}
	}
	seen := map[string]bool{"/": true}
	for _, e := range img.Entries {
		if !seen[filepath.Dir(e.Path)] {
			t.Errorf("%s listed before its parent", e.Path)
		}
		seen[e.Path] = true
	}
	joined := strings.Join(warnings, "\n")
	for _, w := range []string{"dev/null: character device skipped", "etc/motd: extended attributes"} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings %q lack %q", joined, w)
		}
	}
	for _, w := range warnings {
		if strings.Contains(w, "\n") || !strings.HasPrefix(w, "layer 2 of 3") {
			t.Errorf("warning %q: want one line naming layer 2 of 3", w)
		}
	}
}

func TestImportOCI(t *testing.T) {
	var warnings []string
	layout := imagetest.OCI(imagetest.Image{Name: "app:1", Layers: layers(), Config: imagetest.Config{
		Entrypoint: []string{"/usr/bin/tool2"}, Cmd: []string{"--serve"}, Env: []string{"PATH=/usr/bin", "A=b c"},
		WorkingDir: "/home/app", User: "app",
	}})
	img, err := load(t, layout, Options{Warn: func(s string) { warnings = append(warnings, s) }})
	if err != nil {
		t.Fatal(err)
	}
	checkLayers(t, img, warnings[:len(warnings)/2]) // load imports twice
	c := img.Config
	if img.Name != "app:1" || strings.Join(c.Entrypoint, " ") != "/usr/bin/tool2" || strings.Join(c.Cmd, " ") != "--serve" ||
		strings.Join(c.Env, ",") != "PATH=/usr/bin,A=b c" || c.WorkingDir != "/home/app" || c.User != "app" || c.Arch != "amd64" {
		t.Errorf("name %q, config %+v", img.Name, c)
	}
}

func TestImportDockerSave(t *testing.T) {
	var warnings []string
	layout := imagetest.Docker(imagetest.Image{Name: "docker.io/library/app:latest", Layers: layers(), Config: imagetest.Config{Cmd: []string{"sh"}}})
	img, err := load(t, layout, Options{Ref: "app", Warn: func(s string) { warnings = append(warnings, s) }})
	if err != nil {
		t.Fatal(err)
	}
	checkLayers(t, img, warnings[:len(warnings)/2])
	if img.Name != "docker.io/library/app:latest" || strings.Join(img.Config.Cmd, " ") != "sh" {
		t.Errorf("name %q, config %+v", img.Name, img.Config)
	}
}

// TestImportDocker25: docker save since 25 writes an OCI layout plus a
// manifest.json; the index names the image with containerd's annotation.
func TestImportDocker25(t *testing.T) {
	layout := imagetest.Layout{}
	d := layout.Manifest(imagetest.Image{Layers: []imagetest.Layer{{Tar: imagetest.Tar(E{Name: "f", Data: "x"})}}})
	d.Annotations = map[string]string{"io.containerd.image.name": "docker.io/library/busybox:1.36", "org.opencontainers.image.ref.name": "1.36"}
	layout.SetIndex(d)
	layout["manifest.json"] = []byte(`[{"Config":"blobs/sha256/0","RepoTags":["busybox:1.36"],"Layers":[]}]`) // not used: index.json wins
	for _, ref := range []string{"", "busybox:1.36", "docker.io/library/busybox:1.36", "1.36"} {
		img, err := load(t, layout, Options{Ref: ref})
		if err != nil {
			t.Errorf("--ref %q: %v", ref, err)
			continue
		}
		if img.Name != "docker.io/library/busybox:1.36" && img.Name != ref {
			t.Errorf("--ref %q: name %q", ref, img.Name)
		}
	}
}

func TestRefSelection(t *testing.T) {
	one := func(name, data string) imagetest.Image {
		return imagetest.Image{Name: name, Layers: []imagetest.Layer{{Compression: "gzip", Tar: imagetest.Tar(E{Name: "which", Data: data})}}}
	}
	for kind, layout := range map[string]imagetest.Layout{
		"oci":    imagetest.OCI(one("web:1", "web"), one("db:2", "db")),
		"docker": imagetest.Docker(one("web:1", "web"), one("db:2", "db")),
	} {
		img, err := load(t, layout, Options{Ref: "db:2"})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if e := byPath(img.Entries)["/which"]; string(e.Data) != "db" || img.Name != "db:2" {
			t.Errorf("%s --ref db:2: got %q, name %q", kind, e.Data, img.Name)
		}
		for ref, want := range map[string]string{
			"":      "several images here: pick one with --ref (available: web:1, db:2)",
			"db:3":  "no image db:3 here (available: web:1, db:2)",
			"web":   "no image web here (available: web:1, db:2)",
			"other": "no image other here",
		} {
			_, err := load(t, layout, Options{Ref: ref})
			if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s --ref %q: %v, want one line with %q", kind, ref, err, want)
			}
		}
	}
	// One image: --ref is optional, and an unnamed image has no name to give.
	if img, err := load(t, imagetest.OCI(one("", "x")), Options{}); err != nil || img.Name != "" {
		t.Errorf("unnamed image: %v, name %q", err, img.Name)
	}
	if _, err := load(t, imagetest.OCI(one("", "x")), Options{Ref: "x:1"}); err == nil || !strings.Contains(err.Error(), "none of its images has a name") {
		t.Errorf("--ref on an unnamed image: %v", err)
	}
}

func TestNestedIndexPicksPlatform(t *testing.T) {
	layout := imagetest.Layout{}
	arm := layout.Manifest(imagetest.Image{Arch: "arm64", Layers: []imagetest.Layer{{Tar: imagetest.Tar(E{Name: "arch", Data: "arm64"})}}})
	amd := layout.Manifest(imagetest.Image{Arch: "amd64", Layers: []imagetest.Layer{{Tar: imagetest.Tar(E{Name: "arch", Data: "amd64"})}}})
	attestation := layout.Blob("application/vnd.oci.image.manifest.v1+json", []byte(`{}`))
	attestation.Platform = &ocilayout.Platform{Architecture: "unknown", OS: "unknown"}
	idx := layout.Index(attestation, arm, amd)
	idx.Annotations = map[string]string{"org.opencontainers.image.ref.name": "multi:1"}
	layout.SetIndex(idx)
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := load(t, layout, Options{Arch: arch})
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if got := string(byPath(img.Entries)["/arch"].Data); got != arch || img.Name != "multi:1" {
			t.Errorf("arch %s: picked %s, name %q", arch, got, img.Name)
		}
	}
	_, err := load(t, layout, Options{Arch: "riscv64"})
	if err == nil || !strings.Contains(err.Error(), "no linux/riscv64 image (available: linux/arm64, linux/amd64)") {
		t.Errorf("riscv64: %v", err)
	}
}

func TestForeignArchitectureWarns(t *testing.T) {
	var warnings []string
	layout := imagetest.OCI(imagetest.Image{Arch: "arm64", Layers: []imagetest.Layer{{Tar: imagetest.Tar(E{Name: "f"})}}})
	if _, err := Import(dir(t, layout), Options{Arch: "amd64", Warn: func(s string) { warnings = append(warnings, s) }}); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "the image is for arm64, this machine is amd64") {
		t.Errorf("warnings %q", warnings)
	}
}

func dir(t *testing.T, layout imagetest.Layout) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "layout")
	layout.WriteDir(t, d)
	return d
}

func TestDigestMismatchRefused(t *testing.T) {
	base := func() (imagetest.Layout, ocilayout.Descriptor) {
		layout := imagetest.Layout{}
		d := layout.Manifest(imagetest.Image{Layers: []imagetest.Layer{{Compression: "gzip", Tar: imagetest.Tar(E{Name: "etc/passwd", Data: "root"})}}})
		layout.SetIndex(d)
		return layout, d
	}
	manifestOf := func(layout imagetest.Layout, d ocilayout.Descriptor) string {
		return string(layout[imagetest.BlobPath(d)])
	}
	layerPath := func(layout imagetest.Layout, d ocilayout.Descriptor) string {
		m := manifestOf(layout, d)
		i := strings.LastIndex(m, `"digest":"sha256:`) + len(`"digest":"sha256:`)
		return "blobs/sha256/" + m[i:i+64]
	}
	cases := map[string]struct {
		tamper func(imagetest.Layout, ocilayout.Descriptor)
		want   string
	}{
		"layer content": {func(l imagetest.Layout, d ocilayout.Descriptor) {
			p := layerPath(l, d)
			b := []byte(string(l[p]))
			b[len(b)-9] ^= 1 // the gzip trailer's CRC: gzip itself would complain
			l[p] = b
		}, "layer 1 of 1 (sha256:"},
		"layer truncated": {func(l imagetest.Layout, d ocilayout.Descriptor) {
			p := layerPath(l, d)
			l[p] = l[p][:len(l[p])-1]
		}, "bytes, its descriptor says"},
		"manifest": {func(l imagetest.Layout, d ocilayout.Descriptor) {
			l[imagetest.BlobPath(d)] = []byte(strings.Replace(manifestOf(l, d), `"schemaVersion":2`, `"schemaVersion":3`, 1))
		}, ": digest sha256:"},
	}
	for name, c := range cases {
		layout, d := base()
		c.tamper(layout, d)
		_, err := load(t, layout, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s tampered: %v, want a refusal mentioning %q", name, err, c.want)
		}
	}
	// A layer whose uncompressed content does not match the config's diff_id.
	layout := imagetest.Layout{}
	img := imagetest.Image{Layers: []imagetest.Layer{{Tar: imagetest.Tar(E{Name: "a", Data: "1"})}}}
	config := layout.Blob(ocilayout.MediaTypeConfig, imagetest.ConfigJSON(img))
	other, mediaType := imagetest.Layer{Compression: "zstd", Tar: imagetest.Tar(E{Name: "a", Data: "2"})}.Blob()
	m := layout.JSONBlob(ocilayout.MediaTypeManifest, ocilayout.Manifest{
		Config: config, Layers: []ocilayout.Descriptor{layout.Blob(mediaType, other)}, SchemaVersion: 2,
	})
	layout.SetIndex(m)
	if _, err := load(t, layout, Options{}); err == nil || !strings.Contains(err.Error(), "the config's diff_id is") {
		t.Errorf("diff_id mismatch: %v", err)
	}
	// docker-save: the layer against the diff_id, the config against its name.
	docker := imagetest.Docker(img)
	docker["1/layer.tar"] = imagetest.Tar(E{Name: "a", Data: "2"})
	if _, err := load(t, docker, Options{}); err == nil || !strings.Contains(err.Error(), "the config's diff_id is") {
		t.Errorf("docker layer tampered: %v", err)
	}
	docker = imagetest.Docker(img)
	for name, data := range docker {
		if strings.HasSuffix(name, ".json") && name != "manifest.json" {
			docker[name] = append(data, ' ')
		}
	}
	if _, err := load(t, docker, Options{}); err == nil || !strings.Contains(err.Error(), "image config:") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("docker config tampered: %v", err)
	}
}

// TestMaliciousLayersRefused: each way out of the image is refused with
// one line naming the layer and the entry, and nothing appears on the host.
func TestMaliciousLayersRefused(t *testing.T) {
	cases := []struct {
		name   string
		layers func(host string) [][]E
		want   string // in the error, after "layer N of M (…): "
	}{
		{"dotdot", func(string) [][]E { return [][]E{{{Name: "../../escaped", Data: "x"}}} }, `../../escaped: ".." in the name`},
		{"dotdot inside", func(string) [][]E { return [][]E{{{Name: "a/../../escaped", Data: "x"}}} }, `a/../../escaped: ".." in the name`},
		{"absolute dotdot", func(string) [][]E { return [][]E{{{Name: "/../escaped", Data: "x"}}} }, `/../escaped: ".." in the name`},
		{"symlink from a lower layer", func(host string) [][]E {
			return [][]E{{{Name: "etc", Type: tar.TypeSymlink, Link: host}}, {{Name: "etc/passwd", Data: "x"}}}
		}, "layer 2 of 2 (sha256:"},
		{"symlink in the same layer", func(host string) [][]E {
			return [][]E{{{Name: "a", Type: tar.TypeSymlink, Link: "../../../../" + host}, {Name: "a/b/c", Data: "x"}}}
		}, "a/b/c: goes through the symlink /a -> "},
		{"symlink to a directory inside", func(string) [][]E {
			return [][]E{{{Name: "usr/lib/", Type: tar.TypeDir}, {Name: "lib", Type: tar.TypeSymlink, Link: "usr/lib"}}, {{Name: "lib/x", Data: "x"}}}
		}, "lib/x: goes through the symlink /lib -> usr/lib (from layer 1): refused"},
		{"hard link out of the tree", func(string) [][]E {
			return [][]E{{{Name: "passwd", Type: tar.TypeLink, Link: "../../../etc/passwd"}}}
		}, `passwd: hard link to ../../../etc/passwd: ".." in the name`},
		{"hard link to a later entry", func(string) [][]E {
			return [][]E{{{Name: "a", Type: tar.TypeLink, Link: "b"}, {Name: "b", Data: "x"}}}
		}, "a: hard link to b, which is not in the image"},
		{"hard link to nothing", func(string) [][]E {
			return [][]E{{{Name: "a", Type: tar.TypeLink, Link: "etc/shadow"}}}
		}, "a: hard link to etc/shadow, which is not in the image"},
		{"hard link through a symlink", func(host string) [][]E {
			return [][]E{{{Name: "h", Type: tar.TypeSymlink, Link: host}}, {{Name: "x", Type: tar.TypeLink, Link: "h/secret"}}}
		}, "x: hard link to h/secret: goes through the symlink /h -> "},
		{"hard link to a directory", func(string) [][]E {
			return [][]E{{{Name: "d/", Type: tar.TypeDir}, {Name: "x", Type: tar.TypeLink, Link: "d"}}}
		}, "x: hard link to the directory d"},
		{"whiteout climbing out", func(string) [][]E { return [][]E{{{Name: "../.wh.etc"}}} }, `../.wh.etc: ".." in the name`},
		{"whiteout of ..", func(string) [][]E { return [][]E{{{Name: "etc/.wh.."}}} }, "etc/.wh..: whiteout of an invalid name"},
		{"whiteout through a symlink", func(host string) [][]E {
			return [][]E{{{Name: "h", Type: tar.TypeSymlink, Link: host}}, {{Name: "h/.wh.secret"}}}
		}, "h/.wh.secret: goes through the symlink /h -> "},
		{"opaque through a symlink", func(host string) [][]E {
			return [][]E{{{Name: "h", Type: tar.TypeSymlink, Link: host}}, {{Name: "h/.wh..wh..opq"}}}
		}, "h/.wh..wh..opq: goes through the symlink /h -> "},
		{"root replaced", func(string) [][]E { return [][]E{{{Name: "./", Type: tar.TypeSymlink, Link: "/"}}} }, "./: the image root can only be a directory"},
		{"owner out of range", func(string) [][]E { return [][]E{{{Name: "f", UID: 1 << 32}}} }, "f: owner 4294967296:0 out of range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host := filepath.Join(t.TempDir(), "host")
			os.Mkdir(host, 0o755)
			temp := t.TempDir()
			var img imagetest.Image
			for _, entries := range c.layers(host) {
				img.Layers = append(img.Layers, imagetest.Layer{Compression: "gzip", Tar: imagetest.Tar(entries...)})
			}
			_, err := load(t, imagetest.OCI(img), Options{TempDir: temp})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "layer ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v; want one line from the layer, with %q", err, c.want)
			}
			for _, d := range []string{host, temp} {
				if left, _ := os.ReadDir(d); len(left) > 0 {
					t.Errorf("%s: written to: %v", d, left)
				}
			}
		})
	}
}

// TestSpilledContents: large files go to the caller's directory, shared
// by hard links, removed when a later layer deletes them.
func TestSpilledContents(t *testing.T) {
	big := strings.Repeat("0123456789", 1000)
	layout := imagetest.OCI(imagetest.Image{Layers: []imagetest.Layer{
		{Compression: "zstd", Tar: imagetest.Tar(E{Name: "big", Data: big}, E{Name: "link", Type: tar.TypeLink, Link: "big"}, E{Name: "gone", Data: big}, E{Name: "small", Data: "s"})},
		{Tar: imagetest.Tar(E{Name: ".wh.gone"}, E{Name: ".wh.big"})},
	}})
	temp := t.TempDir()
	img, err := Import(dir(t, layout), Options{TempDir: temp, limits: limits{maxSize: 1 << 20, maxEntries: 100, maxNames: 1 << 20, memFile: 100, memTotal: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	got := byPath(img.Entries)
	if e := got["/link"]; e.Source == "" || filepath.Dir(e.Source) != temp || e.Size != int64(len(big)) || content(t, e) != big {
		t.Errorf("/link: %+v, want spilled to %s", e, temp)
	}
	if e := got["/small"]; e.Source != "" || string(e.Data) != "s" {
		t.Errorf("/small: %+v, want in memory", e)
	}
	if files, _ := os.ReadDir(temp); len(files) != 1 {
		t.Errorf("temporary files %v, want only the one /link uses", files)
	}
	// Without a directory to spill to, the memory budget is the limit.
	_, err = Import(dir(t, layout), Options{limits: limits{maxSize: 1 << 20, maxEntries: 100, maxNames: 1 << 20, memFile: 100, memTotal: 15000}})
	if err == nil || !strings.Contains(err.Error(), "image too large: more than 0 MiB of file contents to hold in memory") {
		t.Errorf("over the memory budget: %v", err)
	}
}

func TestLimits(t *testing.T) {
	layout := imagetest.OCI(imagetest.Image{Layers: []imagetest.Layer{{Compression: "gzip", Tar: imagetest.Tar(
		E{Name: "a/b/c/d", Data: strings.Repeat("x", 4000)})}}})
	for _, c := range []struct {
		lim  limits
		want string
	}{
		{limits{maxSize: 1 << 20, maxEntries: 3, maxNames: 1 << 20, memFile: 1 << 20, memTotal: 1 << 20}, "layer 1 of 1 (sha256:"},
		{limits{maxSize: 1 << 20, maxEntries: 3, maxNames: 1 << 20, memFile: 1 << 20, memTotal: 1 << 20}, "image too large: more than 3 entries"},
		{limits{maxSize: 3000, maxEntries: 10, maxNames: 1 << 20, memFile: 1 << 20, memTotal: 1 << 20}, "image too large: more than 0 GiB of uncompressed layers"},
		{limits{maxSize: 1 << 20, maxEntries: 10, maxNames: 15, memFile: 1 << 20, memTotal: 1 << 20}, "image too large: more than 0 MiB of path names"},
	} {
		if _, err := Import(dir(t, layout), Options{limits: c.lim}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("limits %+v: %v, want %q", c.lim, err, c.want)
		}
	}
}

func TestNotAnImage(t *testing.T) {
	empty := t.TempDir()
	gz := filepath.Join(t.TempDir(), "image.tar.gz")
	l := imagetest.Layer{Compression: "gzip", Tar: imagetest.OCI(imagetest.Image{}).Tar()}
	data, _ := l.Blob()
	os.WriteFile(gz, data, 0o644)
	for src, want := range map[string]string{
		empty:                        "neither an OCI image layout (no index.json) nor a docker-save archive (no manifest.json)",
		gz:                           "a gzip-compressed file: decompress it first",
		filepath.Join(empty, "none"): "no such file or directory",
	} {
		if _, err := Import(src, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
}

// TestWhiteoutsHideOnlyLowerLayers: whiteouts and opaque directories
// remove what lower layers left, never what their own layer writes,
// whatever the order of the entries in it.
func TestWhiteoutsHideOnlyLowerLayers(t *testing.T) {
	layout := imagetest.OCI(imagetest.Image{Layers: []imagetest.Layer{
		{Tar: imagetest.Tar(E{Name: "d/sub/old"}, E{Name: "d/keep"}, E{Name: "x/y"}, E{Name: "w", Data: "lower"})},
		{Compression: "gzip", Tar: imagetest.Tar(
			E{Name: "d/sub/new"}, // before the opaque marker, without a d/sub entry
			E{Name: "d/.wh..wh..opq"},
			E{Name: ".wh.x"},
			E{Name: "x/z"}, // x again, after its whiteout
			E{Name: "w", Data: "upper"},
			E{Name: ".wh.w"}, // after its own layer's w: keeps it
			E{Name: ".wh.nothing"},
			E{Name: "nowhere/.wh.nothing"},
			E{Name: ".wh..wh.plnk"}, // aufs bookkeeping: ignored
		)},
	}})
	img, err := load(t, layout, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range img.Entries {
		paths = append(paths, e.Path)
	}
	if got, want := strings.Join(paths, " "), "/d /d/sub /d/sub/new /w /x /x/z"; got != want {
		t.Errorf("entries %s, want %s", got, want)
	}
	if e := byPath(img.Entries)["/w"]; string(e.Data) != "upper" {
		t.Errorf("/w: %q, want the upper layer's", e.Data)
	}
}

// TestLongNamesRefused: names no file system takes are refused, before a
// deep one makes thousands of parents.
func TestLongNamesRefused(t *testing.T) {
	for name, want := range map[string]string{
		strings.Repeat("a/", 2048) + "f": "name longer than 4095 bytes",
		strings.Repeat("x", 256):         "a component longer than 255 bytes",
	} {
		layout := imagetest.OCI(imagetest.Image{Layers: []imagetest.Layer{{Tar: imagetest.Tar(E{Name: name})}}})
		if _, err := Import(dir(t, layout), Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.20s…: %v, want %q", name, err, want)
		}
	}
	layout := imagetest.OCI(imagetest.Image{Layers: []imagetest.Layer{{Tar: imagetest.Tar(E{Name: "l", Type: tar.TypeSymlink, Link: strings.Repeat("t", 4096)})}}})
	if _, err := Import(dir(t, layout), Options{}); err == nil || !strings.Contains(err.Error(), "symlink target longer than 4095 bytes") {
		t.Errorf("long symlink target: %v", err)
	}
}
